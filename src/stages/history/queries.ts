import { sortedOnWrite, type Dialect } from '../../engine/dialect.js';
import type { HistoryLayout, HistoryPlacement } from '../../engine/Engine.js';
import { HISTORY_COLUMN_NAMES, HISTORY_COLUMNS, LABEL_COLUMN_NAMES, LABEL_COLUMNS, type AfterScoring, type ScoredColumn } from '../scored/queries.js';
import { exactSum } from '../sums.js';

/**
 * Run history: one row per run (`runs`), and that run's scored customers
 * (`customer_scores`), in the tables the engine's run history names with its
 * qualifier `h` (RunHistory.qualifier: the attached database file `history`
 * on DuckDB, the quoted schema on PostgreSQL).
 *
 * `customer_scores` is a view: the rows are in `scores`, where each label
 * column (cell, segment, stage, cluster label) holds the id of its text in
 * `labels`, one table of every label any run has written. Stored as text,
 * those few distinct values cost more to compress on every run than all the
 * numeric columns together; as ids they cost next to nothing. The view's
 * names are unqualified, so on DuckDB it works under any alias the file is
 * opened with (PostgreSQL binds them when the view is made, in the schema
 * first on the search path: the history's).
 */
const RUNS_SQL = (h: string, d: Dialect) => `
CREATE TABLE IF NOT EXISTS ${h}.runs (
  run_id BIGINT PRIMARY KEY,
  as_of DATE NOT NULL,
  started_at TIMESTAMP NOT NULL,
  finished_at TIMESTAMP NOT NULL,
  duration_seconds ${d.sql.double} NOT NULL,
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
 * (relative to RunHistory.folder, the database's folder on DuckDB, so the two
 * can move together) and staging folder there. The row goes when the files
 * are published; a command that finds one left by a killed run finishes or
 * removes that run (stages/history/publish.ts), so no other query needs to know of it.
 */
const PENDING_RUNS_SQL = (h: string) => `
CREATE TABLE IF NOT EXISTS ${h}.pending_runs (
  run_id BIGINT PRIMARY KEY,
  out_dir VARCHAR NOT NULL,
  staging VARCHAR NOT NULL,
  keep_runs BIGINT
)`;

const LABELS_SQL = (h: string) => `CREATE TABLE IF NOT EXISTS ${h}.labels (label_id INTEGER PRIMARY KEY, label VARCHAR NOT NULL UNIQUE)`;

/** A scored column's type in the history: the output type in the engine's spelling (labels are ids). */
const storedType = (c: ScoredColumn, d: Dialect) => {
  if (c.label) return 'INTEGER';
  if (c.type === 'DOUBLE') return d.sql.double;
  if (c.type === 'TINYINT') return d.sql.tinyint;
  if (c.type === 'VARCHAR') return d.sql.text;
  return c.type;
};

const SCORES_SQL = (h: string, d: Dialect) => `
CREATE TABLE IF NOT EXISTS ${h}.scores (
  run_id BIGINT NOT NULL,
  ${HISTORY_COLUMNS.map((c) => `${d.quoteIdentifier(c.name)} ${storedType(c, d)}${c.compression ? d.sql.storedCompression(c.compression) : ''}`).join(',\n  ')}
)`;

const labelAlias = (c: ScoredColumn) => `label_${c.name}`;

const CUSTOMER_SCORES_VIEW_SQL = (h: string, q: (n: string) => string) => `
CREATE VIEW ${h}.customer_scores AS
SELECT s.run_id,
       ${HISTORY_COLUMNS.map((c) => (c.label ? `${labelAlias(c)}.label AS ${q(c.name)}` : `s.${q(c.name)}`)).join(',\n       ')}
FROM scores s
${LABEL_COLUMNS.map((c) => `LEFT JOIN labels ${labelAlias(c)} ON ${labelAlias(c)}.label_id = s.${q(c.name)}`).join('\n')}`;

/**
 * Each run's k-means clusters: number, label, size and centroid in the
 * features' original units (days, orders, revenue, clv; null when the run did
 * not cluster on clv), what the next run matches its clusters to
 * (models/kmeansIdentity.ts). Kept when a run's scores are pruned: a few rows a run.
 */
export const RUN_CLUSTERS_SQL = (h: string, d: Dialect) => `
CREATE TABLE IF NOT EXISTS ${h}.run_clusters (
  run_id BIGINT NOT NULL,
  cluster INTEGER NOT NULL,
  label VARCHAR NOT NULL,
  customers BIGINT NOT NULL,
  recency_days ${d.sql.double} NOT NULL,
  orders ${d.sql.double} NOT NULL,
  revenue ${d.sql.double} NOT NULL,
  clv ${d.sql.double}
)`;

/** The history's relations in the order they are made, each made when missing. */
export const HISTORY_RELATIONS = (h: string, d: Dialect): readonly { name: string; sql: string; placement?: HistoryPlacement }[] => [
  { name: 'runs', sql: RUNS_SQL(h, d), placement: 'small' },
  { name: 'labels', sql: LABELS_SQL(h), placement: 'small' },
  { name: 'scores', sql: SCORES_SQL(h, d), placement: 'per-customer' },
  { name: 'customer_scores', sql: CUSTOMER_SCORES_VIEW_SQL(h, d.quoteIdentifier) },
  { name: 'pending_runs', sql: PENDING_RUNS_SQL(h), placement: 'small' },
  { name: 'run_clusters', sql: RUN_CLUSTERS_SQL(h, d), placement: 'small' },
];

export const INSERT_RUN_CLUSTER_SQL = (h: string) => `INSERT INTO ${h}.run_clusters VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

/** The clusters of the newest run before `$runId` that has some (a run with --no-kmeans has none), by number. */
export const PREVIOUS_RUN_CLUSTERS_SQL = (h: string) => `
SELECT run_id, cluster, recency_days, orders, revenue, clv FROM ${h}.run_clusters
WHERE run_id = (SELECT max(run_id) FROM ${h}.run_clusters WHERE run_id < $runId)
ORDER BY cluster`;

/** Every run's summary, to fill run_clusters in a history from before it (stages/clusters/clusterHistory.ts). */
export const RUN_SUMMARIES_SQL = (h: string) => `SELECT run_id, CAST(summary AS VARCHAR) AS summary FROM ${h}.runs ORDER BY run_id`;

export const INSERT_PENDING_RUN_SQL = (h: string) => `INSERT INTO ${h}.pending_runs VALUES ($runId, $outDir, $staging, $keepRuns)`;
export const LIST_PENDING_RUNS_SQL = (h: string) => `SELECT run_id, out_dir, staging, keep_runs FROM ${h}.pending_runs ORDER BY run_id`;
export const COUNT_PENDING_RUNS_SQL = (h: string) => `SELECT count(*)::BIGINT AS n FROM ${h}.pending_runs`;
export const MARK_PUBLISHED_SQL = (h: string) => `DELETE FROM ${h}.pending_runs WHERE run_id = $runId`;
/** A run whose files were never published: it goes, scores and all. */
export const FORGET_RUN_SQL = (h: string) => [
  `DELETE FROM ${h}.scores WHERE run_id = $runId`,
  `DELETE FROM ${h}.run_clusters WHERE run_id = $runId`,
  `DELETE FROM ${h}.runs WHERE run_id = $runId`,
  `DELETE FROM ${h}.pending_runs WHERE run_id = $runId`,
];

export const NEXT_RUN_ID_SQL = (h: string) => `SELECT coalesce(max(run_id), 0)::BIGINT + 1 AS run_id FROM ${h}.runs`;
export const PREVIOUS_RUN_SQL = (h: string) => `SELECT max(run_id)::BIGINT AS run_id FROM ${h}.runs WHERE run_id < $runId AND scores_kept`;

/**
 * previous_segment is the segment in the previous run; segment_changed_at is
 * the as-of date of the run where the current segment began (this run's as-of
 * for a customer new to the history or whose segment just changed). The
 * previous run's segment ids become labels through `label_values`.
 */
export const WITH_HISTORY_SQL = (h: string, d: Dialect) =>
  d.createTempTableAs(
    'final_scores',
    `
SELECT s.*,
       p.rfm_segment AS previous_segment,
       CASE WHEN p.customer_id IS NOT NULL AND p.rfm_segment IS NOT DISTINCT FROM s.rfm_segment AND p.segment_changed_at IS NOT NULL
            THEN p.segment_changed_at ELSE $asOf::DATE END AS segment_changed_at
FROM scored s
LEFT JOIN (
  SELECT h.customer_id, v.label AS rfm_segment, h.segment_changed_at
  FROM ${h}.scores h LEFT JOIN label_values v ON v.label_id = h.rfm_segment
  WHERE h.run_id = $previousRun
) p USING (customer_id)${sortedOnWrite(d, 's.customer_id')}`,
  );

/**
 * A run's rows: label columns as their ids (the ENUM code of the run's label
 * type is the id); columns given after scoring from `after` (ids for labels).
 */
export const INSERT_SCORES_SQL = (h: string, columns: readonly string[], dialect: Dialect, after: AfterScoring = {}) => {
  const q = dialect.quoteIdentifier;
  const value = (c: string) => after[c] ?? (LABEL_COLUMN_NAMES.has(c) ? dialect.labelId(q(c)) : q(c));
  columns = columns.filter((c) => HISTORY_COLUMN_NAMES.has(c));
  return `INSERT INTO ${h}.scores (run_id, ${columns.map(q).join(', ')})
SELECT $runId, ${columns.map(value).join(', ')} FROM final_scores`;
};

export const INSERT_RUN_SQL = (h: string) => `
INSERT INTO ${h}.runs VALUES ($runId, $asOf::DATE, $startedAt::TIMESTAMP, $finishedAt::TIMESTAMP, $duration, $inputs::JSON,
  $rowsRead, $rowsAccepted, $rowsRejected, $rowsExcluded, $customers, true, $options::JSON, $summary::JSON)`;

/** The newest run's id less `$keep`: runs up to it lose their scores when pruned (null: no run yet). */
export const PRUNE_UP_TO_SQL = (h: string) => `SELECT max(run_id)::BIGINT - $keep AS up_to FROM ${h}.runs`;

/**
 * Keeps the scores of the newest runs (those after `$upTo`); older runs keep
 * their row in `runs` (counts, options, summary), marked so. Only runs still
 * marked kept are updated, so a nightly prune touches one run row, not all of them.
 */
export const PRUNE_SCORES_SQL = (h: string) => [
  `DELETE FROM ${h}.scores WHERE run_id <= $upTo`,
  `UPDATE ${h}.runs SET scores_kept = false WHERE scores_kept AND run_id <= $upTo`,
];

/** What crm runs says of the history: runs, runs with scores kept, and the newest run's --keep-runs (a number or 'all' as text; null for a run from before the option). */
export const HISTORY_OVERVIEW_SQL = (h: string, d: Dialect) => `
SELECT count(*)::BIGINT AS runs, count(*) FILTER (WHERE scores_kept)::BIGINT AS kept,
       (SELECT ${d.sql.jsonText('options', ['keepRuns'])} FROM ${h}.runs ORDER BY run_id DESC LIMIT 1) AS keep_runs
FROM ${h}.runs`;

/** The history's tables as an engine is told of them when it opens the history (HistoryLayout). */
export const HISTORY_LAYOUT: HistoryLayout = {
  labelsTable: (h) => LABELS_SQL(h),
  scoresTable: SCORES_SQL,
  scoreColumns: HISTORY_COLUMNS,
  overview: HISTORY_OVERVIEW_SQL,
};

export const LIST_RUNS_SQL = (h: string, d: Dialect) => `
SELECT run_id, ${d.sql.isoDate('as_of')} AS as_of, ${d.sql.isoTimestamp('started_at')} AS started_at,
       ${d.sql.roundDouble('duration_seconds', 3)} AS duration_seconds, CAST(inputs AS VARCHAR) AS inputs, rows_read, rows_accepted, rows_rejected, rows_excluded,
       customers, scores_kept
FROM ${h}.runs ORDER BY run_id`;

export const RUN_EXISTS_SQL = (h: string) => `SELECT run_id, scores_kept FROM ${h}.runs WHERE run_id = $runId`;
export const LAST_RUNS_SQL = (h: string) => `SELECT run_id FROM ${h}.runs WHERE scores_kept ORDER BY run_id DESC LIMIT 2`;

/** The output folders (as given) of the history's runs. */
export const RECORDED_OUT_FOLDERS_SQL = (h: string, d: Dialect) => {
  const out = d.sql.jsonText('options', ['out']);
  return `SELECT DISTINCT ${out} AS out FROM ${h}.runs WHERE ${out} IS NOT NULL ORDER BY out`;
};
/** Every input file of the history's runs. */
export const RECORDED_INPUTS_SQL = (h: string, d: Dialect) => `SELECT DISTINCT ${d.sql.jsonTextElements('inputs')} AS file FROM ${h}.runs ORDER BY file`;

/**
 * Transition matrix between two runs over one dimension (`$by` column).
 * Customers only in the later run come from "(new)"; customers only in the
 * earlier run go to "(gone)"; a customer present without a value is "(none)".
 * Revenue is the later run's (the earlier for gone).
 */
export const migrationSql = (h: string, d: Dialect, column: string) => `
WITH a AS (SELECT customer_id, CAST(${column} AS VARCHAR) AS v, revenue FROM ${h}.customer_scores WHERE run_id = $fromRun),
     b AS (SELECT customer_id, CAST(${column} AS VARCHAR) AS v, revenue FROM ${h}.customer_scores WHERE run_id = $toRun),
     moved AS (
       SELECT CASE WHEN a.customer_id IS NULL THEN '(new)' ELSE coalesce(a.v, '(none)') END AS from_value,
              CASE WHEN b.customer_id IS NULL THEN '(gone)' ELSE coalesce(b.v, '(none)') END AS to_value,
              coalesce(b.revenue, a.revenue) AS revenue
       FROM a FULL OUTER JOIN b ON a.customer_id = b.customer_id
     )
SELECT from_value AS "from", to_value AS "to", count(*)::BIGINT AS customers, CAST(round(${exactSum('revenue')}, 2) AS ${d.sql.double}) AS revenue
FROM moved
GROUP BY from_value, to_value ORDER BY ${d.byteOrder('from_value')}, ${d.byteOrder('to_value')}`;

/** How many of a run's customers have a value in the migration column (`$runId`). */
export const migrationValuesSql = (h: string, column: string) =>
  `SELECT count(${column})::BIGINT AS n FROM ${h}.customer_scores WHERE run_id = $runId`;
