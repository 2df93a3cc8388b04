import type { Dialect } from '../engine/dialect.js';
import { LABEL_COLUMN_NAMES, LABEL_COLUMNS, SCORED_COLUMNS, type AfterScoring, type ScoredColumn } from './scored.js';
import { exactSum } from './sums.js';

/**
 * Run history in the user's database file (attached as `history`): one row
 * per run (`runs`), and that run's scored customers (`customer_scores`).
 *
 * `customer_scores` is a view: the rows are in `scores`, where each label
 * column (cell, segment, stage, cluster label) holds the id of its text in
 * `labels`, one table of every label any run has written. Stored as text,
 * those few distinct values cost more to compress on every run than all the
 * numeric columns together; as ids they cost next to nothing. The view's
 * names are unqualified, so it works under any alias the file is opened with.
 */
const RUNS_SQL = `
CREATE TABLE IF NOT EXISTS history.runs (
  run_id BIGINT PRIMARY KEY,
  as_of DATE NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  duration_seconds DOUBLE NOT NULL,
  inputs JSON NOT NULL,
  rows_read BIGINT NOT NULL,
  rows_accepted BIGINT NOT NULL,
  rows_rejected BIGINT NOT NULL,
  rows_excluded BIGINT NOT NULL,
  customers BIGINT NOT NULL,
  scores_kept BOOLEAN NOT NULL DEFAULT true,
  options JSON NOT NULL,
  summary JSON NOT NULL
)`;

/**
 * A run recorded but whose files are not published yet: its output folder
 * (relative to the database's folder, so the two can move together) and
 * staging folder there. The row goes when the files are published; a command
 * that finds one left by a killed run finishes or removes that run
 * (pipeline/publish.ts), so no other query needs to know of it.
 */
const PENDING_RUNS_SQL = `
CREATE TABLE IF NOT EXISTS history.pending_runs (
  run_id BIGINT PRIMARY KEY,
  out_dir VARCHAR NOT NULL,
  staging VARCHAR NOT NULL,
  keep_runs BIGINT
)`;

const LABELS_SQL = `CREATE TABLE IF NOT EXISTS history.labels (label_id INTEGER PRIMARY KEY, label VARCHAR NOT NULL UNIQUE)`;

const SCORES_SQL = (q: (n: string) => string) => `
CREATE TABLE IF NOT EXISTS history.scores (
  run_id BIGINT NOT NULL,
  ${SCORED_COLUMNS.map((c) => `${q(c.name)} ${c.label ? 'INTEGER' : c.type}${c.compression ? ` USING COMPRESSION ${c.compression}` : ''}`).join(',\n  ')}
)`;

const labelAlias = (c: ScoredColumn) => `label_${c.name}`;

const CUSTOMER_SCORES_VIEW_SQL = (q: (n: string) => string) => `
CREATE VIEW IF NOT EXISTS history.customer_scores AS
SELECT s.run_id,
       ${SCORED_COLUMNS.map((c) => (c.label ? `${labelAlias(c)}.label AS ${q(c.name)}` : `s.${q(c.name)}`)).join(',\n       ')}
FROM scores s
${LABEL_COLUMNS.map((c) => `LEFT JOIN labels ${labelAlias(c)} ON ${labelAlias(c)}.label_id = s.${q(c.name)}`).join('\n')}`;

export const HISTORY_SCHEMA_SQL = (q: (n: string) => string) => [RUNS_SQL, LABELS_SQL, SCORES_SQL(q), CUSTOMER_SCORES_VIEW_SQL(q), PENDING_RUNS_SQL];

export const INSERT_PENDING_RUN_SQL = `INSERT INTO history.pending_runs VALUES ($runId, $outDir, $staging, $keepRuns)`;
export const LIST_PENDING_RUNS_SQL = `SELECT run_id, out_dir, staging, keep_runs FROM history.pending_runs ORDER BY run_id`;
/** Whether the database has pending runs, asked without failing on a database from before pending_runs. */
export const HAS_PENDING_TABLE_SQL = `
SELECT count(*)::BIGINT AS n FROM duckdb_tables() WHERE database_name = 'history' AND schema_name = 'main' AND table_name = 'pending_runs'`;
export const COUNT_PENDING_RUNS_SQL = `SELECT count(*)::BIGINT AS n FROM history.pending_runs`;
export const MARK_PUBLISHED_SQL = `DELETE FROM history.pending_runs WHERE run_id = $runId`;
/** A run whose files were never published: it goes, scores and all. */
export const FORGET_RUN_SQL = [
  `DELETE FROM history.scores WHERE run_id = $runId`,
  `DELETE FROM history.runs WHERE run_id = $runId`,
  `DELETE FROM history.pending_runs WHERE run_id = $runId`,
];

/** A database written before labels were stored as ids has customer_scores as a table. */
export const OLD_LAYOUT_SQL = `
SELECT count(*)::BIGINT AS n FROM duckdb_tables() WHERE database_name = 'history' AND schema_name = 'main' AND table_name = 'customer_scores'`;

/**
 * Moves an old database to the layout above, in one transaction: the labels
 * found in the old table (ids in text order), the rows with ids, then the
 * old table goes and the view takes its name.
 */
export const MIGRATE_OLD_LAYOUT_SQL = (q: (n: string) => string) => [
  LABELS_SQL,
  `INSERT INTO history.labels
   SELECT (row_number() OVER (ORDER BY label) - 1)::INTEGER, label
   FROM (SELECT DISTINCT unnest([${LABEL_COLUMNS.map((c) => `CAST(${q(c.name)} AS VARCHAR)`).join(', ')}]) AS label FROM history.customer_scores)
   WHERE label IS NOT NULL`,
  SCORES_SQL(q),
  `INSERT INTO history.scores
   SELECT o.run_id, ${SCORED_COLUMNS.map((c) => (c.label ? `${labelAlias(c)}.label_id` : `o.${q(c.name)}`)).join(', ')}
   FROM history.customer_scores o
   ${LABEL_COLUMNS.map((c) => `LEFT JOIN history.labels ${labelAlias(c)} ON ${labelAlias(c)}.label = o.${q(c.name)}`).join('\n   ')}`,
  `DROP TABLE history.customer_scores`,
];

export const NEXT_RUN_ID_SQL = `SELECT coalesce(max(run_id), 0)::BIGINT + 1 AS run_id FROM history.runs`;
export const PREVIOUS_RUN_SQL = `SELECT max(run_id)::BIGINT AS run_id FROM history.runs WHERE run_id < $runId AND scores_kept`;

/**
 * previous_segment is the segment in the previous run; segment_changed_at is
 * the as-of date of the run where the current segment began (this run's as-of
 * for a customer new to the history or whose segment just changed). The
 * previous run's segment ids become labels through `label_values`.
 */
export const WITH_HISTORY_SQL = `
CREATE OR REPLACE TEMP TABLE final_scores AS
SELECT s.*,
       p.rfm_segment AS previous_segment,
       CASE WHEN p.customer_id IS NOT NULL AND p.rfm_segment IS NOT DISTINCT FROM s.rfm_segment AND p.segment_changed_at IS NOT NULL
            THEN p.segment_changed_at ELSE $asOf::DATE END AS segment_changed_at
FROM scored s
LEFT JOIN (
  SELECT h.customer_id, v.label AS rfm_segment, h.segment_changed_at
  FROM history.scores h LEFT JOIN label_values v ON v.label_id = h.rfm_segment
  WHERE h.run_id = $previousRun
) p USING (customer_id)
ORDER BY s.customer_id`;

/**
 * A run's rows: label columns as their ids (the ENUM code of the run's label
 * type is the id); columns given after scoring from `after` (ids for labels).
 */
export const INSERT_SCORES_SQL = (columns: readonly string[], dialect: Dialect, after: AfterScoring = {}) => {
  const q = dialect.quoteIdentifier;
  const value = (c: string) => after[c] ?? (LABEL_COLUMN_NAMES.has(c) ? dialect.labelId(q(c)) : q(c));
  return `INSERT INTO history.scores (run_id, ${columns.map(q).join(', ')})
SELECT $runId, ${columns.map(value).join(', ')} FROM final_scores`;
};

export const INSERT_RUN_SQL = `
INSERT INTO history.runs VALUES ($runId, $asOf::DATE, $startedAt::TIMESTAMP, $finishedAt::TIMESTAMP, $duration, $inputs::JSON,
  $rowsRead, $rowsAccepted, $rowsRejected, $rowsExcluded, $customers, true, $options::JSON, $summary::JSON)`;

/**
 * Keeps the scores of the newest `$keep` runs; older runs keep their row in
 * `runs` (counts, options, summary), marked so. Only runs still marked kept
 * are updated, so a nightly prune touches one run row, not all of them.
 */
export const PRUNE_SCORES_SQL = [
  `DELETE FROM history.scores WHERE run_id <= (SELECT max(run_id) FROM history.runs) - $keep`,
  `UPDATE history.runs SET scores_kept = false WHERE scores_kept AND run_id <= (SELECT max(run_id) FROM history.runs) - $keep`,
];

/** Blocks of the attached history file, and how many are free (pruned scores' whole row groups, once checkpointed). */
export const HISTORY_BLOCKS_SQL = `
SELECT total_blocks::BIGINT AS total, free_blocks::BIGINT AS free FROM pragma_database_size() WHERE database_name = 'history'`;

/** Copies every table and view of the history into `$target`, an attached empty database (DuckDB writes it afresh, without free blocks). */
export const copyHistorySql = (target: string) => `COPY FROM DATABASE history TO ${target}`;

/** What crm runs says of the history: runs, runs with scores kept, and the newest run's --keep-runs (a number or 'all' as text; null for a run from before the option). */
export const HISTORY_OVERVIEW_SQL = `
SELECT count(*)::BIGINT AS runs, count(*) FILTER (WHERE scores_kept)::BIGINT AS kept,
       (SELECT json_extract_string(options, '$.keepRuns') FROM history.runs ORDER BY run_id DESC LIMIT 1) AS keep_runs
FROM history.runs`;

export const LIST_RUNS_SQL = `
SELECT run_id, strftime(as_of, '%Y-%m-%d') AS as_of, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at,
       round(duration_seconds, 3) AS duration_seconds, inputs::VARCHAR AS inputs, rows_read, rows_accepted, rows_rejected, rows_excluded,
       customers, scores_kept
FROM history.runs ORDER BY run_id`;

export const RUN_EXISTS_SQL = `SELECT run_id, scores_kept FROM history.runs WHERE run_id = $runId`;
export const LAST_RUNS_SQL = `SELECT run_id FROM history.runs WHERE scores_kept ORDER BY run_id DESC LIMIT 2`;

/**
 * Transition matrix between two runs over one dimension (`$by` column).
 * Customers only in the later run come from "(new)"; customers only in the
 * earlier run go to "(gone)"; a customer present without a value is "(none)".
 * Revenue is the later run's (the earlier for gone).
 */
export const migrationSql = (column: string) => `
WITH a AS (SELECT customer_id, CAST(${column} AS VARCHAR) AS v, revenue FROM history.customer_scores WHERE run_id = $fromRun),
     b AS (SELECT customer_id, CAST(${column} AS VARCHAR) AS v, revenue FROM history.customer_scores WHERE run_id = $toRun)
SELECT CASE WHEN a.customer_id IS NULL THEN '(new)' ELSE coalesce(a.v, '(none)') END AS "from",
       CASE WHEN b.customer_id IS NULL THEN '(gone)' ELSE coalesce(b.v, '(none)') END AS "to",
       count(*)::BIGINT AS customers, round(${exactSum('coalesce(b.revenue, a.revenue)')}, 2)::DOUBLE AS revenue
FROM a FULL OUTER JOIN b ON a.customer_id = b.customer_id
GROUP BY ALL ORDER BY "from", "to"`;

/** How many of a run's customers have a value in the migration column (`$runId`). */
export const migrationValuesSql = (column: string) =>
  `SELECT count(${column})::BIGINT AS n FROM history.customer_scores WHERE run_id = $runId`;
