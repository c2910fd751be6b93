import { schemaTooNew } from '../sql-store.js'
import type { SqliteAdapter } from './sqlite-adapter.js'

/**
 * Versioned schema of the embedded store. A migration is appended, never edited; the store
 * records the highest applied version in PRAGMA user_version and refuses a newer file.
 *
 * Numbers that may be NaN (metric summaries) sit in REAL columns where SQLite turns NaN into
 * NULL; the column comments say what NULL means. Series themselves live in float64 blobs.
 */
export const SQLITE_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE experiments (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  experiment_id INTEGER NOT NULL REFERENCES experiments(id),
  name TEXT NOT NULL,
  owner TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time REAL NOT NULL,
  end_time REAL,
  heartbeat_at REAL NOT NULL,
  parent_id TEXT,
  group_id TEXT,
  seed INTEGER NOT NULL,
  seed_source TEXT NOT NULL,
  environment TEXT NOT NULL,
  code TEXT NOT NULL,
  config_fingerprint TEXT NOT NULL
);
CREATE INDEX runs_experiment ON runs(experiment_id, start_time);
CREATE INDEX runs_running ON runs(status, heartbeat_at);
CREATE TABLE run_params (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL, -- canonical JSON
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE run_tags (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE run_datasets (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  kind TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  file_count INTEGER NOT NULL,
  rows INTEGER,
  columns TEXT, -- JSON array or NULL
  source TEXT NOT NULL,
  PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE INDEX run_datasets_sha256 ON run_datasets(sha256);
CREATE TABLE metric_chunks (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, key, seq)
);
CREATE TABLE metric_summaries (
  run_id TEXT NOT NULL REFERENCES runs(id),
  key TEXT NOT NULL,
  last REAL,          -- NULL means the last value was NaN
  last_step INTEGER NOT NULL,
  min REAL,           -- over finite values; NULL when there were none
  max REAL,
  count INTEGER NOT NULL,
  PRIMARY KEY (run_id, key)
) WITHOUT ROWID;
CREATE TABLE eval_sets (
  run_id TEXT NOT NULL REFERENCES runs(id),
  dataset TEXT NOT NULL,
  dataset_sha256 TEXT NOT NULL,
  count INTEGER NOT NULL,
  score_names TEXT NOT NULL, -- JSON array
  PRIMARY KEY (run_id, dataset)
) WITHOUT ROWID;
CREATE TABLE eval_chunks (
  run_id TEXT NOT NULL,
  dataset TEXT NOT NULL,
  seq INTEGER NOT NULL,
  count INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (run_id, dataset, seq),
  FOREIGN KEY (run_id, dataset) REFERENCES eval_sets(run_id, dataset)
);
CREATE TABLE artifacts (
  run_id TEXT NOT NULL REFERENCES runs(id),
  name TEXT NOT NULL,
  direction TEXT NOT NULL CHECK (direction IN ('produced', 'consumed')),
  sha256 TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  created_at REAL NOT NULL,
  PRIMARY KEY (run_id, name, direction)
) WITHOUT ROWID;
CREATE INDEX artifacts_sha256 ON artifacts(sha256);
`,
  },
  {
    version: 2,
    sql: `
CREATE TABLE holdout_reads (
  id INTEGER PRIMARY KEY,
  dataset_sha256 TEXT NOT NULL,
  dataset_name TEXT NOT NULL,
  run_ids TEXT NOT NULL, -- JSON array
  purpose TEXT NOT NULL,
  actor TEXT NOT NULL,
  at REAL NOT NULL
);
CREATE INDEX holdout_reads_dataset ON holdout_reads(dataset_sha256, at);
`,
  },
  {
    version: 3,
    sql: `
CREATE TABLE applied_batches (
  batch_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  applied_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  secret_sha256 TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
  experiments TEXT, -- JSON array, NULL for all experiments
  created_at REAL NOT NULL,
  created_by TEXT NOT NULL,
  revoked_at REAL
);
`,
  },
  {
    version: 4,
    sql: `
CREATE TABLE models (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL CHECK (length(trim(owner)) > 0),
  description TEXT NOT NULL,
  tags TEXT NOT NULL, -- JSON object
  created_at REAL NOT NULL,
  created_by TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE model_versions (
  model TEXT NOT NULL REFERENCES models(name),
  version INTEGER NOT NULL,
  run_id TEXT NOT NULL REFERENCES runs(id),
  artifact_name TEXT,
  artifact_sha256 TEXT,
  description TEXT NOT NULL,
  tags TEXT NOT NULL, -- JSON object
  created_at REAL NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (model, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_run ON model_versions(run_id);
CREATE TABLE alias_events (
  seq INTEGER PRIMARY KEY,
  model TEXT NOT NULL REFERENCES models(name),
  alias TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('set', 'promote', 'rollback')),
  version INTEGER, -- NULL: the alias was removed
  previous_version INTEGER,
  actor TEXT NOT NULL,
  at REAL NOT NULL,
  reason TEXT NOT NULL,
  audit_seq INTEGER
);
CREATE INDEX alias_events_alias ON alias_events(model, alias, seq);
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  at REAL NOT NULL,
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL, -- canonical JSON
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
-- Append-only: assay never updates or deletes these rows (verify still detects it if someone does).
CREATE TRIGGER alias_events_append_only_update BEFORE UPDATE ON alias_events BEGIN SELECT RAISE(ABORT, 'alias_events is append-only'); END;
CREATE TRIGGER alias_events_append_only_delete BEFORE DELETE ON alias_events BEGIN SELECT RAISE(ABORT, 'alias_events is append-only'); END;
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
`,
  },
  {
    version: 5,
    sql: `
-- Idempotency key of a ledger entry, so a replayed upload (the remote SDK's spool) counts once.
ALTER TABLE holdout_reads ADD COLUMN read_id TEXT;
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
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1;
CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head WHEN NEW.seq <> OLD.seq + 1 OR NEW.id <> OLD.id BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
`,
  },
  {
    version: 7,
    sql: `
-- Tokens may expire (tokens create --expires-in); NULL: never.
ALTER TABLE api_tokens ADD COLUMN expires_at REAL;
`,
  },
  {
    version: 8,
    sql: `
-- Version 8 is PostgreSQL's chunked artifact storage; the embedded store keeps artifacts as files.
SELECT 1;
`,
  },
  {
    version: 9,
    sql: `
-- Gate policies (docs/gates.md): the gate each model's alias is promoted through, versioned per
-- model and alias, each version written with its audit record. Append-only.
CREATE TABLE gate_policies (
  model TEXT NOT NULL REFERENCES models(name),
  alias TEXT NOT NULL,
  version INTEGER NOT NULL,
  gate TEXT NOT NULL,
  text TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  source TEXT NOT NULL,
  actor TEXT NOT NULL,
  at REAL NOT NULL,
  reason TEXT NOT NULL,
  audit_seq INTEGER NOT NULL,
  PRIMARY KEY (model, alias, version)
) WITHOUT ROWID;
CREATE TRIGGER gate_policies_append_only_update BEFORE UPDATE ON gate_policies BEGIN SELECT RAISE(ABORT, 'gate_policies is append-only'); END;
CREATE TRIGGER gate_policies_append_only_delete BEFORE DELETE ON gate_policies BEGIN SELECT RAISE(ABORT, 'gate_policies is append-only'); END;
`,
  },
  {
    version: 10,
    sql: `
-- Run search in the database (run-filter-sql.ts): a param's number or text beside its JSON,
-- written by the store core with the param; filled here for params stored before.
ALTER TABLE run_params ADD COLUMN value_num REAL;
ALTER TABLE run_params ADD COLUMN value_text TEXT;
UPDATE run_params SET
  value_num = CASE WHEN json_type(value) IN ('integer', 'real') THEN json_extract(value, '$') END,
  value_text = CASE WHEN json_type(value) = 'text' AND instr(json_extract(value, '$'), char(0)) = 0 THEN json_extract(value, '$') END;
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
  id TEXT PRIMARY KEY,
  endpoint TEXT NOT NULL,
  endpoint_version TEXT NOT NULL,
  model TEXT,
  model_version INTEGER,
  alias TEXT,
  code_hash TEXT,
  inputs TEXT NOT NULL, -- JSON array of dataset versions
  environment TEXT NOT NULL,
  owner TEXT,
  created_at REAL NOT NULL,
  experiment TEXT, -- of the run behind the model version; NULL when unknown
  unauditable TEXT NOT NULL -- JSON array of missing audit fields
) WITHOUT ROWID;
CREATE INDEX deployments_time ON deployments(created_at, id);
CREATE INDEX deployments_model ON deployments(model, model_version);
CREATE TABLE deployment_inputs (
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  sha256 TEXT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (sha256, deployment_id, name)
) WITHOUT ROWID;
CREATE TABLE traces (
  trace_id TEXT PRIMARY KEY,
  deployment_id TEXT NOT NULL REFERENCES deployments(id),
  start_time REAL NOT NULL,
  end_time REAL NOT NULL,
  latency_ms REAL NOT NULL,
  status TEXT NOT NULL,
  operation TEXT,
  request_model TEXT,
  input_tokens REAL,
  output_tokens REAL,
  conversation_id TEXT,
  prompt_name TEXT,
  prompt_version TEXT,
  retrieval_index_version TEXT,
  cost_usd REAL,
  guardrail_action TEXT,
  guardrail_outcome TEXT,
  output_hash TEXT,
  span_count INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX traces_deployment_time ON traces(deployment_id, start_time, trace_id);
CREATE INDEX traces_time ON traces(start_time, trace_id);
CREATE TABLE trace_spans (
  trace_id TEXT NOT NULL REFERENCES traces(trace_id),
  span_id TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  data TEXT NOT NULL, -- JSON of the span
  PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
CREATE TABLE trace_feedback (
  id TEXT PRIMARY KEY,
  trace_id TEXT NOT NULL REFERENCES traces(trace_id),
  name TEXT NOT NULL,
  value REAL NOT NULL,
  source TEXT NOT NULL,
  at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX trace_feedback_trace ON trace_feedback(trace_id, at);
`,
  },
  {
    version: 13,
    sql: `
-- The config fingerprint's parts other than the params (record/envelope.ts configParts), kept
-- with the run as on PostgreSQL, where a batch that adds params recomputes the fingerprint from
-- them in one statement. NULL for runs stored before.
ALTER TABLE runs ADD COLUMN config_parts TEXT;
`,
  },
  {
    version: 15,
    sql: `
-- trace_spans without its foreign key to traces, as PostgreSQL's migration 15 (the store core's
-- logTraces guarantees each span's trace; postgres-migrations.ts says why). SQLite drops a key
-- only by a new table. (Version 14 is PostgreSQL's alone.)
CREATE TABLE trace_spans_v15 (
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  content_sha256 TEXT NOT NULL,
  data TEXT NOT NULL, -- JSON of the span
  PRIMARY KEY (trace_id, span_id)
) WITHOUT ROWID;
INSERT INTO trace_spans_v15 SELECT trace_id, span_id, content_sha256, data FROM trace_spans;
DROP TABLE trace_spans;
ALTER TABLE trace_spans_v15 RENAME TO trace_spans;
`,
  },
  {
    version: 16,
    sql: `
-- The spans of a trace as one row per write, as PostgreSQL's migration 16 (postgres-migrations.ts
-- says why and what the columns hold). SQL here has no sha256, so every carried-over set keeps
-- its spans' recorded hashes; sets written since have NULL hashes.
CREATE TABLE trace_span_sets (
  trace_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hashes TEXT,
  spans TEXT NOT NULL,
  PRIMARY KEY (trace_id, seq)
);
INSERT INTO trace_span_sets (trace_id, seq, hashes, spans)
SELECT trace_id, 0, group_concat(content_sha256, ''), group_concat(data, char(10))
FROM (SELECT trace_id, span_id, content_sha256, data FROM trace_spans ORDER BY trace_id, span_id)
GROUP BY trace_id;
DROP TABLE trace_spans;
`,
    },
    {
    version: 17,
    sql: `
-- Each trace's latest feedback value per name on its row (docs/production.md "Storage"), as on
-- PostgreSQL: a JSON object {name: value}. "Latest" is the store core's rule, by time, then id
-- (byte order); addFeedback rewrites the name it adds in the transaction of the insert. The read
-- of a window's scores (Store.traceColumns) takes them from the row. Existing traces are filled
-- from trace_feedback. (Version 16 belongs to another table.)
ALTER TABLE traces ADD COLUMN feedback TEXT;
UPDATE traces SET feedback = (
  SELECT json_group_object(name, value) FROM (
    SELECT name, value, row_number() OVER (PARTITION BY name ORDER BY at DESC, id DESC) AS rank
    FROM trace_feedback f WHERE f.trace_id = traces.trace_id
  ) WHERE rank = 1
) WHERE trace_id IN (SELECT trace_id FROM trace_feedback);
`,
  },
  {
    version: 18,
    sql: `
-- Version 18 is PostgreSQL's alone (assay_log_batch's plans and heartbeat: postgres-migrations.ts
-- says why); SQLite's batch path is the store core's transaction, unchanged. The number is taken here too, so that
-- both backends end at the same version.
SELECT 1;
`,
  },
  {
    version: 19,
    sql: `
-- Each span set's span ids and content hashes in binary, as PostgreSQL's migration 19
-- (postgres-migrations.ts says why and what the column holds): sets written from here on fill
-- span_keys; older sets keep it NULL.
ALTER TABLE trace_span_sets ADD COLUMN span_keys BLOB;
`,
  },
]

/** Apply the migrations this file is newer by, in one write transaction (so concurrent openers apply them once). */
export async function migrateSqlite(adapter: SqliteAdapter, location: string): Promise<void> {
  const latest = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1].version
  await adapter.transaction('write', async () => {
    const current = adapter.db.pragma('user_version', { simple: true }) as number
    if (current > latest) throw schemaTooNew(location, current, latest)
    // SQLite keeps one number, user_version, not a set of applied versions as PostgreSQL does: a
    // migration runs only when it is above it. A new migration must therefore be numbered above the
    // latest here (versions strictly increase; test/store/migration-versions.test.ts): one numbered
    // below, say 14 (which SQLite skipped), would never run on stores already at 15.
    for (const migration of SQLITE_MIGRATIONS) {
      if (migration.version > current) {
        adapter.db.exec(migration.sql)
        adapter.db.pragma(`user_version = ${migration.version}`)
      }
    }
  })
}
