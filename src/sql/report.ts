import { exactMean, exactSum } from './sums.js';

/** The report's figures for one run (`$runId`), from the run history. */
export const RFM_HEATMAP_SQL = `
SELECT r_score AS r, f_score AS f, count(*)::BIGINT AS customers, round(${exactMean('revenue')}, 2)::DOUBLE AS "meanRevenue"
FROM history.customer_scores WHERE run_id = $runId GROUP BY ALL ORDER BY r, f`;

export const REPORT_SEGMENTS_SQL = `
SELECT rfm_segment AS segment, count(*)::BIGINT AS customers, ${exactSum('revenue')}::DOUBLE AS revenue,
       (count(*) / sum(count(*)) OVER ())::DOUBLE AS "customerShare",
       (${exactSum('revenue')} / nullif(sum(${exactSum('revenue')}) OVER (), 0))::DOUBLE AS "revenueShare"
FROM history.customer_scores WHERE run_id = $runId GROUP BY rfm_segment ORDER BY customers DESC, segment`;

export const REPORT_DECILES_SQL = `
SELECT value_decile AS decile, count(*)::BIGINT AS customers, ${exactSum('revenue')}::DOUBLE AS revenue,
       (${exactSum('revenue')} / nullif(sum(${exactSum('revenue')}) OVER (), 0))::DOUBLE AS share,
       (sum(${exactSum('revenue')}) OVER (ORDER BY value_decile) / nullif(sum(${exactSum('revenue')}) OVER (), 0))::DOUBLE AS "cumulativeShare"
FROM history.customer_scores WHERE run_id = $runId GROUP BY value_decile ORDER BY decile`;

/** 20 equal-width bins from max(min, 0) up to the 99th percentile; the top bin holds the tail. */
export const CLV_HISTOGRAM_SQL = `
WITH v AS (SELECT clv FROM history.customer_scores WHERE run_id = $runId AND clv IS NOT NULL),
edges0 AS (SELECT greatest(min(clv), 0) AS lo, quantile_cont(clv, 0.99) AS q FROM v),
-- An empty range (the 99th percentile not above the lowest CLV): bins of width 1/20 from the lowest.
edges AS (SELECT lo, CASE WHEN q > lo THEN q ELSE lo + 1 END AS hi FROM edges0),
binned AS (SELECT least(greatest(floor((clv - lo) / ((hi - lo) / 20)), 0), 19)::INTEGER AS bin, lo, hi FROM v, edges)
SELECT bin, any_value(lo + bin * (hi - lo) / 20)::DOUBLE AS "binStart", any_value(lo + (bin + 1) * (hi - lo) / 20)::DOUBLE AS "binEnd", count(*)::BIGINT AS customers
FROM binned GROUP BY bin ORDER BY bin`;

export const REPORT_STAGES_SQL = `
SELECT lifecycle_stage AS stage, count(*)::BIGINT AS customers, ${exactSum('revenue')}::DOUBLE AS revenue, (count(*) / sum(count(*)) OVER ())::DOUBLE AS share
FROM history.customer_scores WHERE run_id = $runId AND lifecycle_stage IS NOT NULL GROUP BY lifecycle_stage`;

export const REPORT_CLUSTERS_SQL = `
SELECT cluster, any_value(cluster_label) AS label, count(*)::BIGINT AS customers, (count(*) / sum(count(*)) OVER ())::DOUBLE AS share,
       avg(recency_days)::DOUBLE AS "meanRecencyDays", avg(orders)::DOUBLE AS "meanOrders", ${exactMean('revenue')}::DOUBLE AS "meanRevenue", ${exactMean('clv', 6)}::DOUBLE AS "meanClv"
FROM history.customer_scores WHERE run_id = $runId AND cluster IS NOT NULL GROUP BY cluster ORDER BY cluster`;

export const REPORT_RUN_SQL = `
SELECT run_id, strftime(as_of, '%Y-%m-%d') AS as_of, strftime(started_at, '%Y-%m-%dT%H:%M:%SZ') AS started_at, strftime(finished_at, '%Y-%m-%dT%H:%M:%SZ') AS finished_at,
       inputs::VARCHAR AS inputs, rows_read, rows_rejected, rows_excluded, customers, summary::VARCHAR AS summary,
       (SELECT ${exactSum('revenue')} FROM history.customer_scores WHERE run_id = $runId)::DOUBLE AS revenue
FROM history.runs WHERE run_id = $runId`;
