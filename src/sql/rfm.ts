/**
 * RFM scores (1..5, 5 = best) as window functions over `customer_features`.
 * R is scored on recency_days (fewer days is better), F on orders, M on revenue.
 */
export type RfmMethod = 'quantile' | 'ntile' | 'fixed';

type Dimension = { value: string; better: 'low' | 'high' };
const R: Dimension = { value: 'recency_days', better: 'low' };
const F: Dimension = { value: 'orders', better: 'high' };
const M: Dimension = { value: 'revenue', better: 'high' };

/** Worst first, so rank 1 = score 1. */
const worstFirst = (d: Dimension) => `${d.value} ${d.better === 'low' ? 'DESC' : 'ASC'}`;

/**
 * Tie-aware quintile: score = 1 + ⌊5·(rank_min − 1)/n⌋. Equal values share
 * rank_min, so they always share a score (all one-time buyers get F = 1).
 */
const quantileScore = (d: Dimension) => `(1 + (5 * (rank() OVER (ORDER BY ${worstFirst(d)}) - 1)) // count(*) OVER ())`;

/** Equal-sized groups; ties broken by a stable hash of the id, then the id itself. */
const ntileScore = (d: Dimension, hash: (e: string) => string) =>
  `ntile(5) OVER (ORDER BY ${worstFirst(d)}, ${hash('customer_id')}, customer_id)`;

/**
 * User cut points `$<dim>Cuts` (4 ascending values). For R: days ≤ cut1 → 5 …
 * > cut4 → 1. For F and M: value ≥ cut4 → 5 … < cut1 → 1.
 */
const fixedScore = (d: Dimension, param: string) =>
  d.better === 'low'
    ? `(5 - list_count(list_filter(${param}::DOUBLE[], c -> ${d.value} > c)))`
    : `(1 + list_count(list_filter(${param}::DOUBLE[], c -> ${d.value} >= c)))`;

export function rfmScoresSql(method: RfmMethod, hash: (e: string) => string): string {
  const score = (d: Dimension, param: string) =>
    method === 'quantile' ? quantileScore(d) : method === 'ntile' ? ntileScore(d, hash) : fixedScore(d, param);
  return `
CREATE OR REPLACE TEMP TABLE customer_rfm AS
WITH scored AS (
  SELECT *,
         ${score(R, '$recencyCuts')}::TINYINT AS r_score,
         ${score(F, '$frequencyCuts')}::TINYINT AS f_score,
         ${score(M, '$monetaryCuts')}::TINYINT AS m_score
  FROM customer_features
)
SELECT scored.*,
       (r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR) AS rfm_cell,
       segment_map.segment AS rfm_segment,
       ntile(10) OVER (ORDER BY revenue DESC, customer_id) AS value_decile
FROM scored JOIN segment_map ON segment_map.cell = (r_score::VARCHAR || f_score::VARCHAR || m_score::VARCHAR)`;
}

/** The value range each score actually covers, for summary.json. */
export const RFM_THRESHOLDS_SQL = `
SELECT 'recency' AS dimension, r_score AS score, min(recency_days)::DOUBLE AS min, max(recency_days)::DOUBLE AS max, count(*)::BIGINT AS customers FROM customer_rfm GROUP BY r_score
UNION ALL
SELECT 'frequency', f_score, min(orders)::DOUBLE, max(orders)::DOUBLE, count(*)::BIGINT FROM customer_rfm GROUP BY f_score
UNION ALL
SELECT 'monetary', m_score, min(revenue)::DOUBLE, max(revenue)::DOUBLE, count(*)::BIGINT FROM customer_rfm GROUP BY m_score
ORDER BY dimension, score`;

export const SEGMENT_MAP_TABLE_SQL = `CREATE OR REPLACE TEMP TABLE segment_map (cell VARCHAR PRIMARY KEY, segment VARCHAR NOT NULL)`;

/** Pareto table: customers ranked by revenue into 10 groups (1 = top). */
export const DECILES_SQL = `
SELECT value_decile AS decile,
       count(*)::BIGINT AS customers,
       sum(revenue)::DOUBLE AS revenue,
       round(sum(revenue) / nullif(sum(sum(revenue)) OVER (), 0), 6)::DOUBLE AS share,
       round(sum(sum(revenue)) OVER (ORDER BY value_decile) / nullif(sum(sum(revenue)) OVER (), 0), 6)::DOUBLE AS cumulative_share,
       round(avg(revenue), 4)::DOUBLE AS avg_revenue
FROM customer_rfm GROUP BY value_decile ORDER BY value_decile`;

/** Customers, revenue and shares per named segment (every segment listed, even when empty). */
export const SEGMENTS_SQL = `
WITH names AS (SELECT segment, min(cell) AS first_cell FROM segment_map GROUP BY segment),
per AS (SELECT rfm_segment, count(*) AS customers, sum(revenue) AS revenue FROM customer_rfm GROUP BY rfm_segment)
SELECT names.segment,
       coalesce(per.customers, 0)::BIGINT AS customers,
       round(coalesce(per.customers, 0) / (SELECT count(*) FROM customer_rfm), 6)::DOUBLE AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT sum(revenue) FROM customer_rfm), 0), 6)::DOUBLE AS revenue_share
FROM names LEFT JOIN per ON per.rfm_segment = names.segment
ORDER BY customers DESC, names.segment`;
