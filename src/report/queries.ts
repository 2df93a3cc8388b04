import type { Dialect } from '../engine/dialect.js';
import { exactMean, exactSum } from '../stages/sums.js';

/** The report's figures for one run (`$runId`), from the run history (tables qualified by `h`, RunHistory.qualifier). */
export const RFM_HEATMAP_SQL = (h: string, d: Dialect) => `
SELECT r_score AS r, f_score AS f, count(*)::BIGINT AS customers, CAST(round(${exactMean('revenue')}, 2) AS ${d.sql.double}) AS "meanRevenue"
FROM ${h}.customer_scores WHERE run_id = $runId GROUP BY r_score, f_score ORDER BY r, f`;

export const REPORT_SEGMENTS_SQL = (h: string, d: Dialect) => `
SELECT rfm_segment AS segment, count(*)::BIGINT AS customers, CAST(${exactSum('revenue')} AS ${d.sql.double}) AS revenue,
       CAST(count(*) / sum(count(*)) OVER () AS ${d.sql.double}) AS "customerShare",
       CAST(${exactSum('revenue')} / nullif(sum(${exactSum('revenue')}) OVER (), 0) AS ${d.sql.double}) AS "revenueShare"
FROM ${h}.customer_scores WHERE run_id = $runId GROUP BY rfm_segment ORDER BY customers DESC, ${d.byteOrder('rfm_segment')}`;

export const REPORT_DECILES_SQL = (h: string, d: Dialect) => `
SELECT value_decile AS decile, count(*)::BIGINT AS customers, CAST(${exactSum('revenue')} AS ${d.sql.double}) AS revenue,
       CAST(${exactSum('revenue')} / nullif(sum(${exactSum('revenue')}) OVER (), 0) AS ${d.sql.double}) AS share,
       CAST(sum(${exactSum('revenue')}) OVER (ORDER BY value_decile) / nullif(sum(${exactSum('revenue')}) OVER (), 0) AS ${d.sql.double}) AS "cumulativeShare"
FROM ${h}.customer_scores WHERE run_id = $runId GROUP BY value_decile ORDER BY decile`;

/**
 * CLV on a log scale: bin k holds 10^(k/4) ≤ clv < 10^((k+1)/4) (up to the
 * rounding of ln), with the lowest and highest CLV in it; k is NULL for CLV ≤ 0.
 * The report merges the far-low bins into one "under" bar and keeps every
 * other bin as it is: no bin is clipped.
 */
export const CLV_LOG_BINS_SQL = (h: string, d: Dialect) => {
  const k = `CASE WHEN clv > 0 THEN CAST(floor(4 * ln(clv) / ln(10)) AS INTEGER) END`;
  return `
SELECT ${k} AS k, count(*)::BIGINT AS customers, CAST(min(clv) AS ${d.sql.double}) AS "minClv", CAST(max(clv) AS ${d.sql.double}) AS "maxClv"
FROM ${h}.customer_scores WHERE run_id = $runId AND clv IS NOT NULL GROUP BY ${k}`;
};

/** P(alive) in 20 bins of 0.05; 1 falls in the last. */
export const P_ALIVE_BINS_SQL = (h: string) => {
  const bin = 'CAST(least(floor(p_alive * 20), 19) AS INTEGER)';
  return `
SELECT ${bin} AS bin, count(*)::BIGINT AS customers
FROM ${h}.customer_scores WHERE run_id = $runId AND p_alive IS NOT NULL GROUP BY ${bin} ORDER BY bin`;
};

/** The oldest customer's T and the 99th percentile of frequency (model time unit), for the model matrices. */
export const MODEL_RANGE_SQL = (h: string, d: Dialect) => `
SELECT CAST(max(${d.quoteIdentifier('T')}) AS ${d.sql.double}) AS "maxT", CAST(${d.sql.percentile('frequency', 0.99)} AS ${d.sql.double}) AS "maxFrequency"
FROM ${h}.customer_scores WHERE run_id = $runId AND ${d.quoteIdentifier('T')} IS NOT NULL`;

/** The runs from `$fromRun` to `$runId` with their figures from the kept scores (NULL where none were kept). */
export const HISTORY_RUNS_SQL = (h: string, d: Dialect) => `
SELECT r.run_id AS "runId", ${d.sql.isoDate('r.as_of')} AS "asOf", r.customers, CAST(r.summary AS VARCHAR) AS summary,
       s.revenue, s."meanPAlive", s."totalClv"
FROM ${h}.runs r
LEFT JOIN (
  SELECT run_id, CAST(${exactSum('revenue')} AS ${d.sql.double}) AS revenue, CAST(${exactMean('p_alive', 6)} AS ${d.sql.double}) AS "meanPAlive",
         CAST(${exactSum('clv', 6)} AS ${d.sql.double}) AS "totalClv"
  FROM ${h}.customer_scores WHERE run_id BETWEEN $fromRun AND $runId GROUP BY run_id
) s ON s.run_id = r.run_id
WHERE r.run_id BETWEEN $fromRun AND $runId ORDER BY r.run_id`;

/** Customers and share per value of `column` (rfm_segment, lifecycle_stage) in each run from `$fromRun` to `$runId`. */
export const HISTORY_SHARES_SQL = (h: string, d: Dialect, column: 'rfm_segment' | 'lifecycle_stage', as: string) => `
SELECT run_id AS "runId", ${column} AS ${as}, count(*)::BIGINT AS customers,
       CAST(count(*) / sum(count(*)) OVER (PARTITION BY run_id) AS ${d.sql.double}) AS share
FROM ${h}.customer_scores WHERE run_id BETWEEN $fromRun AND $runId AND ${column} IS NOT NULL
GROUP BY run_id, ${column} ORDER BY run_id, ${d.byteOrder(column)}`;

/** How many runs the report follows across the history. */
export const HISTORY_RUNS = 12;
/** The ids of the last HISTORY_RUNS runs up to `$runId`. */
export const RECENT_RUNS_SQL = (h: string) => `SELECT run_id FROM ${h}.runs WHERE run_id <= $runId ORDER BY run_id DESC LIMIT ${HISTORY_RUNS}`;

export const REPORT_STAGES_SQL = (h: string, d: Dialect) => `
SELECT lifecycle_stage AS stage, count(*)::BIGINT AS customers, CAST(${exactSum('revenue')} AS ${d.sql.double}) AS revenue, CAST(count(*) / sum(count(*)) OVER () AS ${d.sql.double}) AS share
FROM ${h}.customer_scores WHERE run_id = $runId AND lifecycle_stage IS NOT NULL GROUP BY lifecycle_stage`;

/** A cluster's label is the same on all its rows: min() is that label. */
export const REPORT_CLUSTERS_SQL = (h: string, d: Dialect) => `
SELECT cluster, min(cluster_label) AS label, count(*)::BIGINT AS customers, CAST(count(*) / sum(count(*)) OVER () AS ${d.sql.double}) AS share,
       CAST(avg(recency_days) AS ${d.sql.double}) AS "meanRecencyDays", CAST(avg(orders) AS ${d.sql.double}) AS "meanOrders",
       CAST(${exactMean('revenue')} AS ${d.sql.double}) AS "meanRevenue", CAST(${exactMean('clv', 6)} AS ${d.sql.double}) AS "meanClv",
       CAST(${d.sql.median('recency_days')} AS ${d.sql.double}) AS "medianRecencyDays", CAST(${d.sql.median('orders')} AS ${d.sql.double}) AS "medianOrders",
       CAST(${d.sql.median('revenue')} AS ${d.sql.double}) AS "medianRevenue", CAST(${d.sql.median('clv')} AS ${d.sql.double}) AS "medianClv"
FROM ${h}.customer_scores WHERE run_id = $runId AND cluster IS NOT NULL GROUP BY cluster ORDER BY cluster`;

export const REPORT_RUN_SQL = (h: string, d: Dialect) => `
SELECT run_id, ${d.sql.isoDate('as_of')} AS as_of, ${d.sql.isoTimestamp('started_at')} AS started_at, ${d.sql.isoTimestamp('finished_at')} AS finished_at,
       CAST(inputs AS VARCHAR) AS inputs, rows_read, rows_rejected, rows_excluded, customers, CAST(summary AS VARCHAR) AS summary,
       CAST((SELECT ${exactSum('revenue')} FROM ${h}.customer_scores WHERE run_id = $runId) AS ${d.sql.double}) AS revenue
FROM ${h}.runs WHERE run_id = $runId`;
