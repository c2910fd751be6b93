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
/**
 * Every trace's traces.feedback from trace_feedback: the latest value per name (by time, then id
 * in byte order), as float8 text. Migration 17 fills existing traces with it; tests that write
 * trace_feedback by hand run it after.
 */
export const TRACE_FEEDBACK_FILL = `UPDATE traces t SET feedback = l.feedback
FROM (
  SELECT trace_id, jsonb_object_agg(name, value::text) AS feedback
  FROM (SELECT DISTINCT ON (trace_id, name) trace_id, name, value FROM trace_feedback ORDER BY trace_id, name, at DESC, id DESC) f
  GROUP BY trace_id
) l
WHERE t.trace_id = l.trace_id`

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
    version: 11,
    sql: `
-- One-statement writes (docs/postgres.md): the store core's logBatch (metrics only), logEval and
-- createRun as functions, so each costs one round trip. They check and write what the core's
-- transactions check and write (src/store/sql-store.ts, sql-adapter.ts OneStatementWrites), in
-- the same order, and answer an outcome the core turns into its catalogue errors; nothing is
-- written unless the outcome is 'written'. Functions resolve tables through the connection's
-- search_path, which is the store's schema.
-- Every write rewrites its run's row for the heartbeat. With heartbeat_at out of the indexes and
-- room left on each page, that rewrite is a HOT update: no new index entries per batch. The sweep
-- for stale runs (status = 'running' AND heartbeat_at < ?) reads the running runs by status.
DROP INDEX runs_running;
CREATE INDEX runs_running ON runs(status);
ALTER TABLE runs SET (fillfactor = 50);

CREATE FUNCTION assay_log_metrics(p_run text, p_batch text, p_now double precision, p_max_keys integer,
  p_keys text[], p_counts integer[], p_lengths integer[], p_data bytea,
  p_last double precision[], p_last_step double precision[], p_min double precision[], p_max double precision[],
  OUT outcome text, OUT detail text) LANGUAGE plpgsql AS $fn$
DECLARE
  run_status text;
  stored integer;
  fresh integer;
BEGIN
  -- Writers of one run queue on its row, as in the core's transaction.
  SELECT status INTO run_status FROM runs WHERE id = p_run FOR NO KEY UPDATE;
  IF NOT FOUND THEN outcome := 'missing'; RETURN; END IF;
  IF run_status NOT IN ('running', 'crashed') THEN
    -- A batch applied before the run ended is acknowledged again; anything else is refused.
    IF p_batch IS NOT NULL AND EXISTS (SELECT 1 FROM applied_batches WHERE batch_id = p_batch) THEN outcome := 'applied'; RETURN; END IF;
    outcome := 'ended'; detail := run_status; RETURN;
  END IF;
  -- Only new keys count against the limit: a run stored before it may still update the ones it
  -- has (a batch applied before added no new keys, so its copy passes here too).
  SELECT count(*) INTO fresh FROM (SELECT DISTINCT k FROM unnest(p_keys) AS k) AS n
    WHERE NOT EXISTS (SELECT 1 FROM metric_summaries s WHERE s.run_id = p_run AND s.key = n.k);
  IF fresh > 0 THEN
    SELECT count(*) INTO stored FROM metric_summaries WHERE run_id = p_run;
    IF stored + fresh > p_max_keys THEN outcome := 'too-many-keys'; detail := (stored + fresh)::text; RETURN; END IF;
  END IF;
  IF p_batch IS NOT NULL THEN
    INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (p_batch, p_run, p_now) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN outcome := 'applied'; RETURN; END IF;
  END IF;
  -- One chunk per series: the next seq of its key (a key twice in a batch takes two), its bytes
  -- cut from the one bytea that carries every chunk.
  INSERT INTO metric_chunks (run_id, key, seq, count, data)
  SELECT p_run, b.key,
    COALESCE((SELECT max(c.seq) FROM metric_chunks c WHERE c.run_id = p_run AND c.key = b.key), -1) + row_number() OVER (PARTITION BY b.key ORDER BY b.ord),
    b.count, substring(p_data FROM b.start::integer FOR b.len)
  FROM (SELECT u.key, u.count, u.len, u.ord, sum(u.len) OVER (ORDER BY u.ord) - u.len + 1 AS start
        FROM unnest(p_keys, p_counts, p_lengths) WITH ORDINALITY AS u(key, count, len, ord)) AS b;
  -- Each key's summary folded with the batch's (foldMetricSummary over the parts): "last" is the
  -- value at the highest step, the later part winning a tie; min and max over finite values.
  INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count)
  SELECT p_run, x.key, (array_agg(x.last ORDER BY x.last_step DESC, x.ord DESC))[1], max(x.last_step), min(x.min), max(x.max), sum(x.count)::bigint
  FROM (
    SELECT s.key, s.last, s.last_step, s.min, s.max, s.count, 0::bigint AS ord FROM metric_summaries s WHERE s.run_id = p_run AND s.key = ANY (p_keys)
    UNION ALL
    SELECT u.key, u.last, u.last_step, u.min, u.max, u.count, u.ord
    FROM unnest(p_keys, p_last, p_last_step, p_min, p_max, p_counts) WITH ORDINALITY AS u(key, last, last_step, min, max, count, ord)
  ) AS x GROUP BY x.key
  ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
    min = excluded.min, max = excluded.max, count = excluded.count;
  UPDATE runs SET heartbeat_at = p_now, status = 'running', end_time = NULL WHERE id = p_run;
  outcome := 'written';
END
$fn$;

CREATE FUNCTION assay_log_eval(p_run text, p_batch text, p_now double precision, p_dataset text, p_sha256 text,
  p_count integer, p_names text[], p_names_json text, p_data bytea,
  OUT outcome text, OUT detail text) LANGUAGE plpgsql AS $fn$
DECLARE
  run_status text;
  set_sha256 text;
  set_names text;
  names text[];
BEGIN
  SELECT status INTO run_status FROM runs WHERE id = p_run FOR NO KEY UPDATE;
  IF NOT FOUND THEN outcome := 'missing'; RETURN; END IF;
  IF run_status NOT IN ('running', 'crashed') THEN
    IF p_batch IS NOT NULL AND EXISTS (SELECT 1 FROM applied_batches WHERE batch_id = p_batch) THEN outcome := 'applied'; RETURN; END IF;
    outcome := 'ended'; detail := run_status; RETURN;
  END IF;
  -- A chunk applied before carries the same hash, so its copy passes here and is caught below.
  SELECT dataset_sha256, score_names INTO set_sha256, set_names FROM eval_sets WHERE run_id = p_run AND dataset = p_dataset;
  IF FOUND AND set_sha256 <> p_sha256 THEN outcome := 'sha-mismatch'; detail := set_sha256; RETURN; END IF;
  IF p_batch IS NOT NULL THEN
    INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (p_batch, p_run, p_now) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN outcome := 'applied'; RETURN; END IF;
  END IF;
  IF set_sha256 IS NULL THEN
    INSERT INTO eval_sets (run_id, dataset, dataset_sha256, count, score_names) VALUES (p_run, p_dataset, p_sha256, p_count, p_names_json);
  ELSE
    -- mergeScoreNames: the stored names, then new ones in order (the JSON text changes only then).
    names := ARRAY(SELECT json_array_elements_text(set_names::json));
    IF NOT (p_names <@ names) THEN
      set_names := array_to_json(names || ARRAY(SELECT u.n FROM unnest(p_names) WITH ORDINALITY AS u(n, ord) WHERE u.n <> ALL (names) ORDER BY u.ord))::text;
    END IF;
    UPDATE eval_sets SET count = count + p_count, score_names = set_names WHERE run_id = p_run AND dataset = p_dataset;
  END IF;
  INSERT INTO eval_chunks (run_id, dataset, seq, count, data)
  SELECT p_run, p_dataset, COALESCE(max(seq), -1) + 1, p_count, p_data FROM eval_chunks WHERE run_id = p_run AND dataset = p_dataset;
  UPDATE runs SET heartbeat_at = p_now, status = 'running', end_time = NULL WHERE id = p_run;
  outcome := 'written';
END
$fn$;

CREATE FUNCTION assay_create_run(p_experiment text, p_id text, p_name text, p_owner text, p_start double precision,
  p_parent text, p_group text, p_seed bigint, p_seed_source text, p_environment text, p_code text, p_fingerprint text,
  p_param_keys text[], p_param_values text[], p_tag_keys text[], p_tag_values text[],
  d_name text[], d_role text[], d_sha256 text[], d_kind text[], d_size bigint[], d_files bigint[], d_rows bigint[], d_columns text[], d_source text[])
  RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  experiment bigint;
BEGIN
  -- No row lock on the experiment: runs of one experiment are created side by side.
  INSERT INTO experiments (name, created_at) VALUES (p_experiment, p_start) ON CONFLICT (name) DO NOTHING RETURNING id INTO experiment;
  IF experiment IS NULL THEN SELECT id INTO experiment FROM experiments WHERE name = p_experiment; END IF;
  INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id,
    seed, seed_source, environment, code, config_fingerprint)
  VALUES (p_id, experiment, p_name, p_owner, 'running', p_start, NULL, p_start, p_parent, p_group,
    p_seed, p_seed_source, p_environment, p_code, p_fingerprint) ON CONFLICT (id) DO NOTHING;
  -- The id is taken: undo the experiment row too, as the core's transaction would.
  IF NOT FOUND THEN RAISE EXCEPTION 'run % exists', p_id USING ERRCODE = 'AY001'; END IF;
  -- value_num and value_text as migration 10 fills them (the store core's paramRow for other writes).
  INSERT INTO run_params (run_id, key, value, value_num, value_text)
  SELECT p_id, k, v,
    CASE WHEN v ~ '^-?[0-9]' THEN v::float8 END,
    CASE WHEN left(v, 1) = '"' AND strpos(v, '\\u0000') = 0 THEN v::jsonb #>> '{}' END
  FROM unnest(p_param_keys, p_param_values) AS t(k, v);
  INSERT INTO run_tags (run_id, key, value) SELECT p_id, k, v FROM unnest(p_tag_keys, p_tag_values) AS t(k, v);
  INSERT INTO run_datasets (run_id, name, role, sha256, kind, size_bytes, file_count, rows, columns, source)
  SELECT p_id, * FROM unnest(d_name, d_role, d_sha256, d_kind, d_size, d_files, d_rows, d_columns, d_source);
  RETURN true;
END
$fn$;
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
  {
    version: 13,
    sql: `
-- One statement for every metrics batch, also one that sets params or tags (docs/postgres.md
-- "One-statement writes"): assay_log_batch replaces assay_log_metrics and checks and writes what
-- the core's logBatch transaction does (sql-store.ts), in its order. A batch that adds params
-- changes the run's config fingerprint, sha256 of {"code","datasets","environment","params"} as
-- canonical JSON (record/envelope.ts): runs.config_parts keeps the first three, written by the
-- core with the run, so the function can recompute the fingerprint over the stored params. A run
-- stored before this migration has none; its first batch that adds params takes the core's
-- transaction, which fills them. The function writes the heartbeat first (that update is the row
-- lock) and counts new metric keys from the chunks it wrote, instead of a lock and a probe before;
-- a refusal found after a write raises AY002, which undoes the statement.
ALTER TABLE runs ADD COLUMN config_parts text COLLATE "C";

DROP FUNCTION assay_log_metrics(text, text, double precision, integer, text[], integer[], integer[], bytea,
  double precision[], double precision[], double precision[], double precision[]);

CREATE FUNCTION assay_log_batch(p_run text, p_batch text, p_now double precision, p_max_keys integer,
  p_keys text[], p_counts integer[], p_lengths integer[], p_data bytea,
  p_last double precision[], p_last_step double precision[], p_min double precision[], p_max double precision[],
  p_max_params integer, p_param_keys text[], p_param_values text[], p_param_numbers double precision[], p_param_texts text[],
  p_max_tags integer, p_tag_keys text[], p_tag_values text[],
  OUT outcome text, OUT detail text) LANGUAGE plpgsql AS $fn$
DECLARE
  run_status text;
  parts text;
  stored integer;
  fresh integer;
  clash_key text;
  clash_value text;
  added integer := 0;
BEGIN
  -- The heartbeat first (REVIVE_RUN): the update takes the run's row lock, on which writers of one
  -- run queue as in the core's transaction, and rewrites the row once. A refusal after it raises
  -- AY002 with the outcome as its message, which rolls the whole statement back: nothing is
  -- written unless the outcome is 'written'.
  UPDATE runs SET heartbeat_at = p_now, status = 'running', end_time = NULL
    WHERE id = p_run AND status IN ('running', 'crashed') RETURNING config_parts INTO parts;
  IF NOT FOUND THEN
    SELECT status INTO run_status FROM runs WHERE id = p_run;
    IF NOT FOUND THEN outcome := 'missing'; RETURN; END IF;
    -- A batch applied before the run ended is acknowledged again; anything else is refused.
    IF p_batch IS NOT NULL AND EXISTS (SELECT 1 FROM applied_batches WHERE batch_id = p_batch) THEN outcome := 'applied'; RETURN; END IF;
    outcome := 'ended'; detail := run_status; RETURN;
  END IF;
  IF p_batch IS NOT NULL THEN
    INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (p_batch, p_run, p_now) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'applied'; END IF;
  END IF;
  IF cardinality(p_param_keys) > 0 THEN
    -- A param never changes: the batch's first key stored with another value is refused.
    SELECT u.k, p.value INTO clash_key, clash_value
      FROM unnest(p_param_keys, p_param_values) WITH ORDINALITY AS u(k, v, ord)
      JOIN run_params p ON p.run_id = p_run AND p.key = u.k
      WHERE p.value <> u.v ORDER BY u.ord LIMIT 1;
    IF FOUND THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'param-conflict', DETAIL = json_build_array(clash_key, clash_value)::text; END IF;
    -- No DISTINCT (unlike tags, which travel as pairs that may repeat a key): the keys come from
    -- Object.entries of the batch's params object (sql-store.ts logBatch), so each is there once.
    SELECT count(*) INTO fresh FROM unnest(p_param_keys) AS k
      WHERE NOT EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = p_run AND p.key = k);
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM run_params WHERE run_id = p_run;
      IF stored + fresh > p_max_params THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-params', DETAIL = (stored + fresh)::text; END IF;
      -- The fingerprint is recomputed below, with keys in JavaScript's order (assay_params_json).
      -- Without stored parts, or with keys that order differently in UTF-16 and in code points
      -- (one holding U+E000-U+FFFF, another a character past U+FFFF), the core's transaction
      -- computes it instead.
      IF parts IS NULL OR (SELECT bool_or(k ~ '[\\uE000-\\uFFFF]') AND bool_or(k ~ '[\\U00010000-\\U0010FFFF]')
          FROM (SELECT key COLLATE "C" AS k FROM run_params WHERE run_id = p_run UNION ALL SELECT unnest(p_param_keys) COLLATE "C") AS all_keys) THEN
        RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'needs-transaction';
      END IF;
    END IF;
  END IF;
  -- Only new keys count against the limits: a run stored before them may still update the ones it has.
  IF cardinality(p_tag_keys) > 0 THEN
    SELECT count(*) INTO fresh FROM (SELECT DISTINCT k FROM unnest(p_tag_keys) AS k) AS n
      WHERE NOT EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = p_run AND t.key = n.k);
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM run_tags WHERE run_id = p_run;
      IF stored + fresh > p_max_tags THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-tags', DETAIL = (stored + fresh)::text; END IF;
    END IF;
  END IF;
  IF cardinality(p_param_keys) > 0 THEN
    INSERT INTO run_params (run_id, key, value, value_num, value_text)
    SELECT p_run, u.k, u.v, u.n, u.t FROM unnest(p_param_keys, p_param_values, p_param_numbers, p_param_texts) AS u(k, v, n, t)
    ON CONFLICT (run_id, key) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
      UPDATE runs SET config_fingerprint = encode(sha256(convert_to(left(parts, -1) || ',"params":' || assay_params_json(p_run) || '}', 'UTF8')), 'hex')
        WHERE id = p_run;
    END IF;
  END IF;
  IF cardinality(p_tag_keys) > 0 THEN
    INSERT INTO run_tags (run_id, key, value) SELECT p_run, k, v FROM unnest(p_tag_keys, p_tag_values) AS t(k, v)
    ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value;
  END IF;
  IF cardinality(p_keys) > 0 THEN
    -- One chunk per series: the next seq of its key (a key twice in a batch takes two), its bytes
    -- cut from the one bytea that carries every chunk. A key's first chunk (seq 0) is a new key:
    -- only then is the limit of metric keys counted, after the write (the last check, so a
    -- refusal here is the one the core's transaction would give).
    WITH written AS (
      INSERT INTO metric_chunks (run_id, key, seq, count, data)
      SELECT p_run, b.key,
        COALESCE((SELECT max(c.seq) FROM metric_chunks c WHERE c.run_id = p_run AND c.key = b.key), -1) + row_number() OVER (PARTITION BY b.key ORDER BY b.ord),
        b.count, substring(p_data FROM b.start::integer FOR b.len)
      FROM (SELECT u.key, u.count, u.len, u.ord, sum(u.len) OVER (ORDER BY u.ord) - u.len + 1 AS start
            FROM unnest(p_keys, p_counts, p_lengths) WITH ORDINALITY AS u(key, count, len, ord)) AS b
      RETURNING seq)
    SELECT count(*) FILTER (WHERE seq = 0) INTO fresh FROM written;
    -- Each key's summary folded with the batch's (foldMetricSummary over the parts): "last" is the
    -- value at the highest step, the later part winning a tie; min and max over finite values.
    INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count)
    SELECT p_run, x.key, (array_agg(x.last ORDER BY x.last_step DESC, x.ord DESC))[1], max(x.last_step), min(x.min), max(x.max), sum(x.count)::bigint
    FROM (
      SELECT s.key, s.last, s.last_step, s.min, s.max, s.count, 0::bigint AS ord FROM metric_summaries s WHERE s.run_id = p_run AND s.key = ANY (p_keys)
      UNION ALL
      SELECT u.key, u.last, u.last_step, u.min, u.max, u.count, u.ord
      FROM unnest(p_keys, p_last, p_last_step, p_min, p_max, p_counts) WITH ORDINALITY AS u(key, last, last_step, min, max, count, ord)
    ) AS x GROUP BY x.key
    ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
      min = excluded.min, max = excluded.max, count = excluded.count;
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM metric_summaries WHERE run_id = p_run;
      IF stored > p_max_keys THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-keys', DETAIL = stored::text; END IF;
    END IF;
  END IF;
  outcome := 'written';
END
$fn$;

-- A run's params as canonicalJson writes them (record/validate.ts): keys that are array indices
-- (0 to 2^32 - 2, no leading zero) first in numeric order, as JavaScript objects enumerate them,
-- then the others by code point; each value is already its canonical JSON.
CREATE FUNCTION assay_params_json(p_run text) RETURNS text LANGUAGE sql STABLE AS $fn$
  SELECT '{' || COALESCE(string_agg(to_json(key)::text || ':' || value, ',' ORDER BY
    CASE WHEN key ~ '^(0|[1-9][0-9]{0,9})$' THEN CASE WHEN key::bigint < 4294967295 THEN key::bigint END END NULLS LAST,
    key COLLATE "C"), '') || '}'
  FROM run_params WHERE run_id = p_run
$fn$;

-- assay_create_run of migration 11, writing config_parts too.
DROP FUNCTION assay_create_run(text, text, text, text, double precision, text, text, bigint, text, text, text, text,
  text[], text[], text[], text[], text[], text[], text[], text[], bigint[], bigint[], bigint[], text[], text[]);

CREATE FUNCTION assay_create_run(p_experiment text, p_id text, p_name text, p_owner text, p_start double precision,
  p_parent text, p_group text, p_seed bigint, p_seed_source text, p_environment text, p_code text, p_fingerprint text, p_config_parts text,
  p_param_keys text[], p_param_values text[], p_tag_keys text[], p_tag_values text[],
  d_name text[], d_role text[], d_sha256 text[], d_kind text[], d_size bigint[], d_files bigint[], d_rows bigint[], d_columns text[], d_source text[])
  RETURNS boolean LANGUAGE plpgsql AS $fn$
DECLARE
  experiment bigint;
BEGIN
  -- No row lock on the experiment: runs of one experiment are created side by side.
  INSERT INTO experiments (name, created_at) VALUES (p_experiment, p_start) ON CONFLICT (name) DO NOTHING RETURNING id INTO experiment;
  IF experiment IS NULL THEN SELECT id INTO experiment FROM experiments WHERE name = p_experiment; END IF;
  INSERT INTO runs (id, experiment_id, name, owner, status, start_time, end_time, heartbeat_at, parent_id, group_id,
    seed, seed_source, environment, code, config_fingerprint, config_parts)
  VALUES (p_id, experiment, p_name, p_owner, 'running', p_start, NULL, p_start, p_parent, p_group,
    p_seed, p_seed_source, p_environment, p_code, p_fingerprint, p_config_parts) ON CONFLICT (id) DO NOTHING;
  -- The id is taken: undo the experiment row too, as the core's transaction would.
  IF NOT FOUND THEN RAISE EXCEPTION 'run % exists', p_id USING ERRCODE = 'AY001'; END IF;
  -- value_num and value_text as migration 10 fills them (the store core's paramRow for other writes).
  INSERT INTO run_params (run_id, key, value, value_num, value_text)
  SELECT p_id, k, v,
    CASE WHEN v ~ '^-?[0-9]' THEN v::float8 END,
    CASE WHEN left(v, 1) = '"' AND strpos(v, '\\u0000') = 0 THEN v::jsonb #>> '{}' END
  FROM unnest(p_param_keys, p_param_values) AS t(k, v);
  INSERT INTO run_tags (run_id, key, value) SELECT p_id, k, v FROM unnest(p_tag_keys, p_tag_values) AS t(k, v);
  INSERT INTO run_datasets (run_id, name, role, sha256, kind, size_bytes, file_count, rows, columns, source)
  SELECT p_id, * FROM unnest(d_name, d_role, d_sha256, d_kind, d_size, d_files, d_rows, d_columns, d_source);
  RETURN true;
END
$fn$;
`,
  },
  {
    version: 14,
    sql: `
-- Ordered run pages (run-filter-sql.ts, orderToSql): a listing in a metric's or a param's order
-- walks these indexes in (value, run id) order and stops after the page. They replace version
-- 10's (key, value) indexes of the same names, which served filters only (these serve both).
DROP INDEX metric_summaries_last;
CREATE INDEX metric_summaries_last ON metric_summaries(key, last, run_id);
DROP INDEX run_params_number;
CREATE INDEX run_params_number ON run_params(key, value_num, run_id);
DROP INDEX run_params_text;
CREATE INDEX run_params_text ON run_params(key, value_text, run_id);
`,
  },
  {
    version: 15,
    sql: `
-- trace_spans without its foreign key to traces (docs/production.md "Performance"): the key's
-- trigger ran per span a lookup of the parent that took a KEY SHARE lock on it, a third of
-- PostgreSQL's CPU per span on OTLP ingest. The one writer of trace_spans (the store core's
-- logTraces) guarantees the parent itself: it inserts a trace's spans in the transaction that
-- inserted the trace, or after reading the trace row FOR UPDATE (locked until commit), and no
-- statement deletes traces or changes a trace_id.
-- The name is the one PostgreSQL generated for version 12's key; IF EXISTS lets a store whose key
-- is already gone (dropped by hand) migrate instead of failing (text edited before any release).
ALTER TABLE trace_spans DROP CONSTRAINT IF EXISTS trace_spans_trace_id_fkey;
`,
  },
  {
    version: 16,
    sql: `
-- The spans of a trace as one row per write, not one row per span (docs/production.md "Storage",
-- bench/results/otlp.md "One row per trace and write"): a row per span cost PostgreSQL a heap
-- tuple, a primary-key entry and their WAL records per span. trace_span_sets holds, per trace and
-- per write that added spans to it (seq 0 the write that created the trace, then 1, 2, ...), the
-- added spans' canonical JSON texts joined by a newline (JSON text has none of its own), stored
-- compressed in the row (STORAGE MAIN: out of line only when a row outgrows a page). hashes is
-- NULL when each span's content hash is the sha256 of its text (every row written since); rows
-- carried over here whose stored text does not hash to their recorded content_sha256 keep those
-- hashes, 64 hex digits per span in line order. The writer (sql-store.ts logTraces) guarantees
-- each set's trace as migration 15 says, and takes the next seq with the trace row locked.
CREATE TABLE trace_span_sets (
  trace_id text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  hashes text COLLATE "C",
  spans text COLLATE "C" NOT NULL,
  PRIMARY KEY (trace_id, seq)
);
ALTER TABLE trace_span_sets ALTER COLUMN spans SET STORAGE MAIN;
-- lz4 where the server is built with it (cheaper to compress than the default pglz).
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)) THEN
    ALTER TABLE trace_span_sets ALTER COLUMN spans SET COMPRESSION lz4;
  END IF;
END $$;
INSERT INTO trace_span_sets (trace_id, seq, hashes, spans)
SELECT trace_id, 0,
  CASE WHEN bool_and(encode(sha256(convert_to(data, 'UTF8')), 'hex') = content_sha256) THEN NULL
    ELSE string_agg(content_sha256, '' ORDER BY span_id) END,
  string_agg(data, E'\\n' ORDER BY span_id)
FROM trace_spans GROUP BY trace_id;
DROP TABLE trace_spans;
`,
    },
    {
    version: 17,
    sql: `
-- Each trace's latest feedback value per name on its row (docs/production.md "Storage"): a jsonb
-- object {name: value as float8 text} (text keeps every float8, -0 included, and ->> hands it to
-- ::float8 unchanged). "Latest" is the store core's rule, by time, then id (COLLATE "C": byte
-- order); addFeedback rewrites the name it adds in the transaction of the insert, the trace row
-- locked first. The monitor's window read (Store.traceColumns) takes the scores from the row, in
-- its one COPY. Existing traces are filled from trace_feedback. (Version 16 belongs to another table.)
ALTER TABLE traces ADD COLUMN feedback jsonb;
SET LOCAL extra_float_digits = 3;
${TRACE_FEEDBACK_FILL};
`,
  },
  {
    version: 18,
    sql: `
-- Less work per metrics batch (docs/postgres.md "One-statement writes", bench/results/ingest-scaling.md):
-- - assay_log_batch plans its statements once per connection (plan_cache_mode force_generic_plan
--   for the function alone): every statement in it looks rows up by the run's primary key, and a
--   custom plan per call cost about 12 % of the function's time (bench/batch-statement-cost.ts).
-- - The heartbeat is rewritten only when older than 5 s (5000 ms) or the run was marked crashed;
--   the run row is locked FOR NO KEY UPDATE instead (a lock record, no new row version to prune).
CREATE OR REPLACE FUNCTION assay_log_batch(p_run text, p_batch text, p_now double precision, p_max_keys integer,
  p_keys text[], p_counts integer[], p_lengths integer[], p_data bytea,
  p_last double precision[], p_last_step double precision[], p_min double precision[], p_max double precision[],
  p_max_params integer, p_param_keys text[], p_param_values text[], p_param_numbers double precision[], p_param_texts text[],
  p_max_tags integer, p_tag_keys text[], p_tag_values text[],
  OUT outcome text, OUT detail text) LANGUAGE plpgsql
  SET plan_cache_mode = force_generic_plan AS $fn$
DECLARE
  run_status text;
  beat double precision;
  parts text;
  stored integer;
  fresh integer;
  clash_key text;
  clash_value text;
  added integer := 0;
BEGIN
  -- The run's row lock first, on which writers of one run queue as in the core's transaction
  -- (FOR NO KEY UPDATE: the lock an UPDATE takes). A refusal after it raises AY002 with the outcome
  -- as its message, which rolls the whole statement back: nothing is written unless the outcome is
  -- 'written'.
  SELECT status, config_parts, heartbeat_at INTO run_status, parts, beat FROM runs WHERE id = p_run FOR NO KEY UPDATE;
  IF NOT FOUND THEN outcome := 'missing'; RETURN; END IF;
  IF run_status NOT IN ('running', 'crashed') THEN
    -- A batch applied before the run ended is acknowledged again; anything else is refused.
    IF p_batch IS NOT NULL AND EXISTS (SELECT 1 FROM applied_batches WHERE batch_id = p_batch) THEN outcome := 'applied'; RETURN; END IF;
    outcome := 'ended'; detail := run_status; RETURN;
  END IF;
  -- The heartbeat (REVIVE_RUN) only when it is older than the interval, or the run was marked
  -- crashed (a write is proof of life): a run sending batches back to back rewrites its row about
  -- once per interval, not once per batch.
  IF run_status = 'crashed' OR beat < p_now - 5000 THEN
    UPDATE runs SET heartbeat_at = p_now, status = 'running', end_time = NULL WHERE id = p_run;
  END IF;
  IF p_batch IS NOT NULL THEN
    INSERT INTO applied_batches (batch_id, run_id, applied_at) VALUES (p_batch, p_run, p_now) ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'applied'; END IF;
  END IF;
  IF cardinality(p_param_keys) > 0 THEN
    -- A param never changes: the batch's first key stored with another value is refused.
    SELECT u.k, p.value INTO clash_key, clash_value
      FROM unnest(p_param_keys, p_param_values) WITH ORDINALITY AS u(k, v, ord)
      JOIN run_params p ON p.run_id = p_run AND p.key = u.k
      WHERE p.value <> u.v ORDER BY u.ord LIMIT 1;
    IF FOUND THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'param-conflict', DETAIL = json_build_array(clash_key, clash_value)::text; END IF;
    -- No DISTINCT (unlike tags, which travel as pairs that may repeat a key): the keys come from
    -- Object.entries of the batch's params object (sql-store.ts logBatch), so each is there once.
    SELECT count(*) INTO fresh FROM unnest(p_param_keys) AS k
      WHERE NOT EXISTS (SELECT 1 FROM run_params p WHERE p.run_id = p_run AND p.key = k);
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM run_params WHERE run_id = p_run;
      IF stored + fresh > p_max_params THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-params', DETAIL = (stored + fresh)::text; END IF;
      -- The fingerprint is recomputed below, with keys in JavaScript's order (assay_params_json).
      -- Without stored parts, or with keys that order differently in UTF-16 and in code points
      -- (one holding U+E000-U+FFFF, another a character past U+FFFF), the core's transaction
      -- computes it instead.
      IF parts IS NULL OR (SELECT bool_or(k ~ '[\\uE000-\\uFFFF]') AND bool_or(k ~ '[\\U00010000-\\U0010FFFF]')
          FROM (SELECT key COLLATE "C" AS k FROM run_params WHERE run_id = p_run UNION ALL SELECT unnest(p_param_keys) COLLATE "C") AS all_keys) THEN
        RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'needs-transaction';
      END IF;
    END IF;
  END IF;
  -- Only new keys count against the limits: a run stored before them may still update the ones it has.
  IF cardinality(p_tag_keys) > 0 THEN
    SELECT count(*) INTO fresh FROM (SELECT DISTINCT k FROM unnest(p_tag_keys) AS k) AS n
      WHERE NOT EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = p_run AND t.key = n.k);
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM run_tags WHERE run_id = p_run;
      IF stored + fresh > p_max_tags THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-tags', DETAIL = (stored + fresh)::text; END IF;
    END IF;
  END IF;
  IF cardinality(p_param_keys) > 0 THEN
    INSERT INTO run_params (run_id, key, value, value_num, value_text)
    SELECT p_run, u.k, u.v, u.n, u.t FROM unnest(p_param_keys, p_param_values, p_param_numbers, p_param_texts) AS u(k, v, n, t)
    ON CONFLICT (run_id, key) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    IF added > 0 THEN
      UPDATE runs SET config_fingerprint = encode(sha256(convert_to(left(parts, -1) || ',"params":' || assay_params_json(p_run) || '}', 'UTF8')), 'hex')
        WHERE id = p_run;
    END IF;
  END IF;
  IF cardinality(p_tag_keys) > 0 THEN
    INSERT INTO run_tags (run_id, key, value) SELECT p_run, k, v FROM unnest(p_tag_keys, p_tag_values) AS t(k, v)
    ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value;
  END IF;
  IF cardinality(p_keys) > 0 THEN
    -- One chunk per series: the next seq of its key (a key twice in a batch takes two), its bytes
    -- cut from the one bytea that carries every chunk. A key's first chunk (seq 0) is a new key:
    -- only then is the limit of metric keys counted, after the write (the last check, so a
    -- refusal here is the one the core's transaction would give).
    WITH written AS (
      INSERT INTO metric_chunks (run_id, key, seq, count, data)
      SELECT p_run, b.key,
        COALESCE((SELECT max(c.seq) FROM metric_chunks c WHERE c.run_id = p_run AND c.key = b.key), -1) + row_number() OVER (PARTITION BY b.key ORDER BY b.ord),
        b.count, substring(p_data FROM b.start::integer FOR b.len)
      FROM (SELECT u.key, u.count, u.len, u.ord, sum(u.len) OVER (ORDER BY u.ord) - u.len + 1 AS start
            FROM unnest(p_keys, p_counts, p_lengths) WITH ORDINALITY AS u(key, count, len, ord)) AS b
      RETURNING seq)
    SELECT count(*) FILTER (WHERE seq = 0) INTO fresh FROM written;
    -- Each key's summary folded with the batch's (foldMetricSummary over the parts): "last" is the
    -- value at the highest step, the later part winning a tie; min and max over finite values.
    INSERT INTO metric_summaries (run_id, key, last, last_step, min, max, count)
    SELECT p_run, x.key, (array_agg(x.last ORDER BY x.last_step DESC, x.ord DESC))[1], max(x.last_step), min(x.min), max(x.max), sum(x.count)::bigint
    FROM (
      SELECT s.key, s.last, s.last_step, s.min, s.max, s.count, 0::bigint AS ord FROM metric_summaries s WHERE s.run_id = p_run AND s.key = ANY (p_keys)
      UNION ALL
      SELECT u.key, u.last, u.last_step, u.min, u.max, u.count, u.ord
      FROM unnest(p_keys, p_last, p_last_step, p_min, p_max, p_counts) WITH ORDINALITY AS u(key, last, last_step, min, max, count, ord)
    ) AS x GROUP BY x.key
    ON CONFLICT (run_id, key) DO UPDATE SET last = excluded.last, last_step = excluded.last_step,
      min = excluded.min, max = excluded.max, count = excluded.count;
    IF fresh > 0 THEN
      SELECT count(*) INTO stored FROM metric_summaries WHERE run_id = p_run;
      IF stored > p_max_keys THEN RAISE EXCEPTION USING ERRCODE = 'AY002', MESSAGE = 'too-many-keys', DETAIL = stored::text; END IF;
    END IF;
  END IF;
  outcome := 'written';
END
$fn$;
`,
  },
  {
    version: 19,
    sql: `
-- Each span set's span ids and content hashes in binary (docs/production.md "Storage"), so a
-- re-sent or late span of a stored trace is compared with what the set row records, without
-- reading, parsing or hashing the stored spans: span_keys holds per span in line order its id
-- (8 bytes) and the sha256 of its line (32 bytes), 40 bytes a span where hex text would take 80.
-- Every set written from here on fills it (and leaves hashes NULL). Sets written before keep
-- span_keys NULL; the writer reads their spans (and hashes) as before. Not filled here: that would
-- rewrite every stored set, where only a trace re-sent after the upgrade needs it.
-- STORAGE MAIN as spans (migration 16): with the default (EXTENDED) PostgreSQL moves this column
-- out of line before it compresses spans, so a set of a few spans would write a TOAST row and
-- index entry for 40 bytes a span. IF NOT EXISTS: a development build numbered this column 18.
ALTER TABLE trace_span_sets ADD COLUMN IF NOT EXISTS span_keys bytea;
ALTER TABLE trace_span_sets ALTER COLUMN span_keys SET STORAGE MAIN;
`,
  },
]

/** Bring the schema to the last migration here; several processes starting at once apply each migration once. */
export async function migratePostgres(adapter: PostgresAdapter): Promise<void> {
  const latest = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1].version
  const applied = await adapter.guard(() => appliedVersions(adapter.pool))
  const current = Math.max(0, ...applied)
  if (current > latest) throw schemaTooNew(adapter.location, current, latest)
  if (POSTGRES_MIGRATIONS.every((m) => applied.has(m.version))) return
  await adapter.onConnection('BEGIN', async (c) => {
    // One migrates, the others wait here and then find nothing to do.
    await c.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [MIGRATION_LOCK_CLASS, adapter.schema])
    const { rows } = await c.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [adapter.schema])
    if (rows.length === 0) await c.query(`CREATE SCHEMA "${adapter.schema}"`)
    await c.query('CREATE TABLE IF NOT EXISTS assay_schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)')
    const done = await appliedVersions(c)
    const version = Math.max(0, ...done)
    if (version > latest) throw schemaTooNew(adapter.location, version, latest)
    // Every version not applied yet, in order: a version numbered below the newest applied one
    // (a change that landed later than its number) is applied too.
    for (const migration of POSTGRES_MIGRATIONS) {
      if (done.has(migration.version)) continue
      await c.query(migration.sql)
      await c.query('INSERT INTO assay_schema_migrations (version, applied_at) VALUES ($1, $2)', [migration.version, Date.now()])
    }
  })
}

async function appliedVersions(db: Pick<PostgresAdapter['pool'], 'query'>): Promise<Set<number>> {
  const { rows } = await db.query<{ present: boolean }>("SELECT to_regclass('assay_schema_migrations') IS NOT NULL AS present")
  if (!rows[0].present) return new Set()
  return new Set((await db.query<{ version: number }>('SELECT version FROM assay_schema_migrations')).rows.map((r) => r.version))
}
