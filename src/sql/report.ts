import type { Dialect } from '../engine/dialect.js';
import { exactMean, exactSum } from './sums.js';

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

/** 20 equal-width bins from max(min, 0) up to the 99th percentile; the top bin holds the tail. */
export const CLV_HISTOGRAM_SQL = (h: string, d: Dialect) => `
WITH v AS (SELECT clv FROM ${h}.customer_scores WHERE run_id = $runId AND clv IS NOT NULL),
edges0 AS (SELECT greatest(min(clv), 0) AS lo, ${d.sql.percentile('clv', 0.99)} AS q FROM v),
-- An empty range (the 99th percentile not above the lowest CLV): bins of width 1/20 from the lowest.
edges AS (SELECT lo, CASE WHEN q > lo THEN q ELSE lo + 1 END AS hi FROM edges0),
binned AS (SELECT CAST(least(greatest(floor((clv - lo) / ((hi - lo) / 20)), 0), 19) AS INTEGER) AS bin, lo, hi FROM v, edges)
-- Every row of a bin has the same lo and hi: min() is any of them.
SELECT bin, CAST(min(lo + bin * (hi - lo) / 20) AS ${d.sql.double}) AS "binStart", CAST(min(lo + (bin + 1) * (hi - lo) / 20) AS ${d.sql.double}) AS "binEnd", count(*)::BIGINT AS customers
FROM binned GROUP BY bin ORDER BY bin`;

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
