import { schemaTooNew } from '../sql-store.js'
import type { PostgresAdapter } from './postgres-adapter.js'

/** First key of the advisory lock migrations hold ("assa"); the second is hashtext(schema). */
const MIGRATION_LOCK_CLASS = 0x61737361

/**
 * Versioned schema of the PostgreSQL store: the same tables, columns and meanings as the
 * embedded store (sqlite-migrations.ts), version for version, in PostgreSQL types. A migration is
 * appended, never edited; applied versions are rows of assay_schema_migrations, and the store
 * refuses a schema newer than the last version here (ASSAY_STORE_SCHEMA_TOO_NEW).
 *
 * Types: times are double precision milliseconds (as REAL in SQLite); double precision keeps NaN
 * and ±Infinity, so metric_summaries.last holds NaN itself rather than NULL; integers that may
 * pass 2^31 (seeds, sizes, row counts) are bigint, read back as JS numbers (they stay below
 * 2^53); series are float64 chunks in bytea (chunk-codec.ts); JSON is text, exactly as written.
 * Text is COLLATE "C" so keys sort and compare by bytes, as in SQLite (listings keep one order).
 * Artifact bytes live in the blobs table, so server processes need no shared disk.
 */
export const POSTGRES_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE experiments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text COLLATE "C" NOT NULL UNIQUE,
  created_at double precision NOT NULL
);
CREATE TABLE runs (
  id text COLLATE "C" PRIMARY KEY,
  experiment_id bigint NOT NULL REFERENCES experiments(id),
  name text COLLATE "C" NOT NULL,
  owner text COLLATE "C" NOT NULL,
  status text COLLATE "C" NOT NULL,
  start_time double precision NOT NULL,
  end_time double precision,
  heartbeat_at double precision NOT NULL,
  parent_id text COLLATE "C",
  group_id text COLLATE "C",
  seed bigint NOT NULL,
  seed_source text COLLATE "C" NOT NULL,
  environment text COLLATE "C" NOT NULL, -- JSON
  code text COLLATE "C" NOT NULL,        -- JSON
  config_fingerprint text COLLATE "C" NOT NULL
);
CREATE INDEX runs_experiment ON runs(experiment_id, start_time);
CREATE INDEX runs_running ON runs(status, heartbeat_at);
CREATE TABLE run_params (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  key text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL, -- canonical JSON
  PRIMARY KEY (run_id, key)
);
CREATE TABLE run_tags (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  key text COLLATE "C" NOT NULL,
  value text COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE run_datasets (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  name text COLLATE "C" NOT NULL,
  role text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL,
  size_bytes bigint NOT NULL,
  file_count bigint NOT NULL,
  rows bigint,
  columns text COLLATE "C", -- JSON array or NULL
  source text COLLATE "C" NOT NULL,
  PRIMARY KEY (run_id, name)
);
CREATE INDEX run_datasets_sha256 ON run_datasets(sha256);
CREATE TABLE metric_chunks (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  key text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  count integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (run_id, key, seq)
);
CREATE TABLE metric_summaries (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  key text COLLATE "C" NOT NULL,
  last double precision NOT NULL, -- may be NaN or ±Infinity
  last_step double precision NOT NULL,
  min double precision,           -- over finite values; NULL when there were none
  max double precision,
  count bigint NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE TABLE eval_sets (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  dataset text COLLATE "C" NOT NULL,
  dataset_sha256 text COLLATE "C" NOT NULL,
  count bigint NOT NULL,
  score_names text COLLATE "C" NOT NULL, -- JSON array
  PRIMARY KEY (run_id, dataset)
);
CREATE TABLE eval_chunks (
  run_id text COLLATE "C" NOT NULL,
  dataset text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  count integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (run_id, dataset, seq),
  FOREIGN KEY (run_id, dataset) REFERENCES eval_sets(run_id, dataset)
);
CREATE TABLE blobs (
  sha256 text COLLATE "C" PRIMARY KEY,
  size_bytes bigint NOT NULL,
  data bytea NOT NULL
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL; -- artifacts are mostly incompressible: skip the TOAST compression attempt
CREATE TABLE artifacts (
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  name text COLLATE "C" NOT NULL,
  direction text COLLATE "C" NOT NULL CHECK (direction IN ('produced', 'consumed')),
  sha256 text COLLATE "C" NOT NULL REFERENCES blobs(sha256),
  size_bytes bigint NOT NULL,
  created_at double precision NOT NULL,
  PRIMARY KEY (run_id, name, direction)
);
CREATE INDEX artifacts_sha256 ON artifacts(sha256);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE holdout_reads (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  dataset_sha256 text COLLATE "C" NOT NULL,
  dataset_name text COLLATE "C" NOT NULL,
  run_ids text COLLATE "C" NOT NULL, -- JSON array
  purpose text COLLATE "C" NOT NULL,
  actor text COLLATE "C" NOT NULL,
  at double precision NOT NULL
);
CREATE INDEX holdout_reads_dataset ON holdout_reads(dataset_sha256, at);
`,
  },
  {
    version: 3,
    sql: `
CREATE TABLE applied_batches (
  batch_id text COLLATE "C" PRIMARY KEY,
  run_id text COLLATE "C" NOT NULL,
  applied_at double precision NOT NULL
);
CREATE TABLE api_tokens (
  id text COLLATE "C" PRIMARY KEY,
  secret_sha256 text COLLATE "C" NOT NULL UNIQUE,
  name text COLLATE "C" NOT NULL,
  scope text COLLATE "C" NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  experiments text COLLATE "C", -- JSON array, NULL for all experiments
  created_at double precision NOT NULL,
  created_by text COLLATE "C" NOT NULL,
  revoked_at double precision
);
`,
  },
  {
    version: 4,
    sql: `
CREATE TABLE models (
  name text COLLATE "C" PRIMARY KEY,
  owner text COLLATE "C" NOT NULL CHECK (length(trim(owner)) > 0),
  description text COLLATE "C" NOT NULL,
  tags text COLLATE "C" NOT NULL, -- JSON object
  created_at double precision NOT NULL,
  created_by text COLLATE "C" NOT NULL
);
CREATE TABLE model_versions (
  model text COLLATE "C" NOT NULL REFERENCES models(name),
  version integer NOT NULL,
  run_id text COLLATE "C" NOT NULL REFERENCES runs(id),
  artifact_name text COLLATE "C",
  artifact_sha256 text COLLATE "C",
  description text COLLATE "C" NOT NULL,
  tags text COLLATE "C" NOT NULL, -- JSON object
  created_at double precision NOT NULL,
  created_by text COLLATE "C" NOT NULL,
  PRIMARY KEY (model, version)
);
CREATE INDEX model_versions_run ON model_versions(run_id);
CREATE TABLE alias_events (
  seq bigserial PRIMARY KEY,
  model text COLLATE "C" NOT NULL REFERENCES models(name),
  alias text COLLATE "C" NOT NULL,
  kind text COLLATE "C" NOT NULL CHECK (kind IN ('set', 'promote', 'rollback')),
  version integer, -- NULL: the alias was removed
  previous_version integer,
  actor text COLLATE "C" NOT NULL,
  at double precision NOT NULL,
  reason text COLLATE "C" NOT NULL,
  audit_seq bigint
);
CREATE INDEX alias_events_alias ON alias_events(model, alias, seq);
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  at double precision NOT NULL,
  kind text COLLATE "C" NOT NULL,
  actor text COLLATE "C" NOT NULL,
  subject text COLLATE "C" NOT NULL,
  body text COLLATE "C" NOT NULL, -- canonical JSON
  prev_hash text COLLATE "C" NOT NULL,
  hash text COLLATE "C" NOT NULL
);
-- Append-only: assay never updates or deletes these rows (verify still detects it if someone does).
CREATE FUNCTION assay_append_only() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$fn$;
CREATE TRIGGER alias_events_append_only BEFORE UPDATE OR DELETE ON alias_events FOR EACH ROW EXECUTE FUNCTION assay_append_only();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION assay_append_only();
`,
  },
  {
    version: 5,
    sql: `
-- Idempotency key of a ledger entry, so a replayed upload (the remote SDK's spool) counts once.
ALTER TABLE holdout_reads ADD COLUMN read_id text COLLATE "C";
CREATE UNIQUE INDEX holdout_reads_read_id ON holdout_reads(read_id) WHERE read_id IS NOT NULL;
`,
  },
  {
    version: 6,
    sql: `
-- The audit log's head anchor: one row, (seq, hash) of the last record, written in the same
-- transaction as every append, so a removed tail is detected by verify (docs/gates.md). It only
-- moves forward one record at a time; an existing log is anchored at its current last record.
CREATE TABLE audit_head (
  id smallint PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  hash text COLLATE "C" NOT NULL
);
INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;
CREATE FUNCTION assay_audit_head_forward() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 THEN
    RAISE EXCEPTION 'audit_head only moves forward';
  END IF;
  RETURN NEW;
END
$fn$;
CREATE TRIGGER audit_head_forward BEFORE UPDATE OR DELETE ON audit_head FOR EACH ROW EXECUTE FUNCTION assay_audit_head_forward();
`,
  },
  {
    version: 7,
    sql: `
-- Tokens may expire (tokens create --expires-in); NULL: never.
ALTER TABLE api_tokens ADD COLUMN expires_at double precision;
`,
  },
  {
    version: 8,
    sql: `
-- Artifact bytes in chunks of 4 MiB (postgres-blob-store.ts): no 1 GB bytea limit per artifact,
-- and reads and writes hold one chunk at a time. Blobs stored before keep their bytes in blobs.data.
ALTER TABLE blobs ALTER COLUMN data DROP NOT NULL;
CREATE TABLE blob_chunks (
  sha256 text COLLATE "C" NOT NULL REFERENCES blobs(sha256),
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY (sha256, seq)
);
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
`,
  },
  {
    version: 9,
    sql: `
-- Gate policies (docs/gates.md): the gate each model's alias is promoted through, versioned per
-- model and alias, each version written with its audit record. Append-only.
CREATE TABLE gate_policies (
  model text COLLATE "C" NOT NULL REFERENCES models(name),
  alias text COLLATE "C" NOT NULL,
  version integer NOT NULL,
  gate text COLLATE "C" NOT NULL,
  text text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  actor text COLLATE "C" NOT NULL,
  at double precision NOT NULL,
  reason text COLLATE "C" NOT NULL,
  audit_seq bigint NOT NULL,
  PRIMARY KEY (model, alias, version)
);
CREATE TRIGGER gate_policies_append_only BEFORE UPDATE OR DELETE ON gate_policies FOR EACH ROW EXECUTE FUNCTION assay_append_only();
`,
  },
  {
    version: 10,
    sql: `
-- Run search in the database (run-filter-sql.ts): a param's number or text beside its JSON,
-- written by the store core with the param; filled here for params stored before (text with an
-- escaped NUL stays NULL: PostgreSQL text cannot hold it).
ALTER TABLE run_params ADD COLUMN value_num double precision, ADD COLUMN value_text text COLLATE "C";
UPDATE run_params SET
  value_num = CASE WHEN value ~ '^-?[0-9]' THEN value::float8 END,
  value_text = CASE WHEN left(value, 1) = '"' AND strpos(value, '\\u0000') = 0 THEN value::jsonb #>> '{}' END;
CREATE INDEX run_params_number ON run_params(key, value_num);
CREATE INDEX run_params_text ON run_params(key, value_text);
CREATE INDEX run_tags_value ON run_tags(key, value);
CREATE INDEX metric_summaries_last ON metric_summaries(key, last);
CREATE INDEX runs_start ON runs(start_time, id);
`,
  },
  {
    version: 12,
    sql: `
-- Production (docs/production.md): deployments, the traces they serve (one row per trace with the
-- fields extracted from its spans, one row per span), and feedback that arrives later.
-- (Versions 10 and 11 belong to other tables.)
CREATE TABLE deployments (
  id text COLLATE "C" PRIMARY KEY,
  endpoint text COLLATE "C" NOT NULL,
  endpoint_version text COLLATE "C" NOT NULL,
  model text COLLATE "C",
  model_version integer,
  alias text COLLATE "C",
  code_hash text COLLATE "C",
  inputs text COLLATE "C" NOT NULL, -- JSON array of dataset versions
  environment text COLLATE "C" NOT NULL,
  owner text COLLATE "C",
  created_at double precision NOT NULL,
  experiment text COLLATE "C", -- of the run behind the model version; NULL when unknown
  unauditable text COLLATE "C" NOT NULL -- JSON array of missing audit fields
);
CREATE INDEX deployments_time ON deployments(created_at, id);
CREATE INDEX deployments_model ON deployments(model, model_version);
CREATE TABLE deployment_inputs (
  deployment_id text COLLATE "C" NOT NULL REFERENCES deployments(id),
  sha256 text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  PRIMARY KEY (sha256, deployment_id, name)
);
CREATE TABLE traces (
  trace_id text COLLATE "C" PRIMARY KEY,
  deployment_id text COLLATE "C" NOT NULL REFERENCES deployments(id),
  start_time double precision NOT NULL,
  end_time double precision NOT NULL,
  latency_ms double precision NOT NULL,
  status text COLLATE "C" NOT NULL,
  operation text COLLATE "C",
  request_model text COLLATE "C",
  input_tokens double precision,
  output_tokens double precision,
  conversation_id text COLLATE "C",
  prompt_name text COLLATE "C",
  prompt_version text COLLATE "C",
  retrieval_index_version text COLLATE "C",
  cost_usd double precision,
  guardrail_action text COLLATE "C",
  guardrail_outcome text COLLATE "C",
  output_hash text COLLATE "C",
  span_count integer NOT NULL
);
CREATE INDEX traces_deployment_time ON traces(deployment_id, start_time, trace_id);
CREATE INDEX traces_time ON traces(start_time, trace_id);
CREATE TABLE trace_spans (
  trace_id text COLLATE "C" NOT NULL REFERENCES traces(trace_id),
  span_id text COLLATE "C" NOT NULL,
  content_sha256 text COLLATE "C" NOT NULL,
  data text COLLATE "C" NOT NULL, -- JSON of the span
  -- (TOAST compresses long values; a row per span keeps a re-sent span a primary-key check)
  PRIMARY KEY (trace_id, span_id)
);
CREATE TABLE trace_feedback (
  id text COLLATE "C" PRIMARY KEY,
  trace_id text COLLATE "C" NOT NULL REFERENCES traces(trace_id),
  name text COLLATE "C" NOT NULL,
  value double precision NOT NULL,
  source text COLLATE "C" NOT NULL,
  at double precision NOT NULL
);
CREATE INDEX trace_feedback_trace ON trace_feedback(trace_id, at);
`,
  },
]

/** Bring the schema to the last migration here; several processes starting at once apply each migration once. */
export async function migratePostgres(adapter: PostgresAdapter): Promise<void> {
  const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version
  const current = await adapter.guard(() => schemaVersion(adapter.pool))
  if (current > latest) throw schemaTooNew(adapter.location, current, latest)
  if (current === latest) return
  await adapter.onConnection('BEGIN', async (c) => {
    // One migrates, the others wait here and then find nothing to do.
    await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, adapter.schema])
    const { rows } = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [adapter.schema])
    if (rows.length === 0) await c.query(`CREATE SCHEMA "${adapter.schema}"`)
    await c.query('CREATE TABLE IF NOT EXISTS assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
    const version = await schemaVersion(c)
    if (version > latest) throw schemaTooNew(adapter.location, version, latest)
    for (const migration of POSTGRES_MIGRATIONS) {
      if (migration.version <= version) continue
      await c.query(migration.sql)
      await c.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()])
    }
  })
}

async function schemaVersion(db: Pick<PostgresAdapter['pool'], 'query'>): Promise<number> {
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('assay_schema_migrations') IS NOT NULL AS present")
  if (!rows[0].present) return 0
  return (await db.query<{ version: number }>('SELECT COALESCE(MAX(version), 0) AS version FROM assay_schema_migrations')).rows[0].version
}
