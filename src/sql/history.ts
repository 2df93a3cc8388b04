import { SCORED_COLUMNS } from './scored.js';
import { exactSum } from './sums.js';

/**
 * Run history in the user's database file (attached as `history`): one row
 * per run, and that run's scored customers under its run id.
 */
export const HISTORY_SCHEMA_SQL = (q: (n: string) => string) => `
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
);
CREATE TABLE IF NOT EXISTS history.customer_scores (
  run_id BIGINT NOT NULL,
  ${SCORED_COLUMNS.map((c) => `${q(c.name)} ${c.type}${c.compression ? ` USING COMPRESSION ${c.compression}` : ''}`).join(',\n  ')}
);`;

export const NEXT_RUN_ID_SQL = `SELECT coalesce(max(run_id), 0)::BIGINT + 1 AS run_id FROM history.runs`;
export const PREVIOUS_RUN_SQL = `SELECT max(run_id)::BIGINT AS run_id FROM history.runs WHERE run_id < $runId AND scores_kept`;

/**
 * previous_segment is the segment in the previous run; segment_changed_at is
 * the as-of date of the run where the current segment began (this run's as-of
 * for a customer new to the history or whose segment just changed).
 */
export const WITH_HISTORY_SQL = `
CREATE OR REPLACE TEMP TABLE final_scores AS
SELECT s.*,
       p.rfm_segment AS previous_segment,
       CASE WHEN p.customer_id IS NOT NULL AND p.rfm_segment IS NOT DISTINCT FROM s.rfm_segment AND p.segment_changed_at IS NOT NULL
            THEN p.segment_changed_at ELSE $asOf::DATE END AS segment_changed_at
FROM scored s
LEFT JOIN (SELECT customer_id, rfm_segment, segment_changed_at FROM history.customer_scores WHERE run_id = $previousRun) p USING (customer_id)
ORDER BY s.customer_id`;

export const INSERT_SCORES_SQL = (columns: readonly string[], q: (n: string) => string) =>
  `INSERT INTO history.customer_scores (run_id, ${columns.map(q).join(', ')}) SELECT $runId, ${columns.map(q).join(', ')} FROM final_scores`;

export const INSERT_RUN_SQL = `
INSERT INTO history.runs VALUES ($runId, $asOf::DATE, $startedAt::TIMESTAMP, $finishedAt::TIMESTAMP, $duration, $inputs::JSON,
  $rowsRead, $rowsAccepted, $rowsRejected, $rowsExcluded, $customers, true, $options::JSON, $summary::JSON)`;

/** Keeps the scores of the newest `$keep` runs; older runs keep their summary row. */
export const PRUNE_SCORES_SQL = [
  `DELETE FROM history.customer_scores WHERE run_id <= (SELECT max(run_id) FROM history.runs) - $keep`,
  `UPDATE history.runs SET scores_kept = false WHERE run_id <= (SELECT max(run_id) FROM history.runs) - $keep`,
];

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
