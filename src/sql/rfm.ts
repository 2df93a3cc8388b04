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
 * rank_min − 1 is the number of customers with a strictly worse value, so it
 * is computed over the distinct values (a few hundred days or order counts)
 * and joined back, rather than by sorting every customer.
 */
const quantileScoresSql = (d: Dimension, score: string) => `
  SELECT ${d.value}, (1 + (5 * (sum(count(*)) OVER (ORDER BY ${worstFirst(d)}) - count(*))) // (SELECT count(*) FROM customer_features))::TINYINT AS ${score}
  FROM customer_features GROUP BY ${d.value}`;

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

/**
 * The scores go into a narrow table (rfm_scores); `customer_rfm` is the view
 * of features and scores together. Copying every feature column into a new
 * wide table would cost more than all the scoring.
 */
export function rfmScoresSql(method: RfmMethod, hash: (e: string) => string): string {
  const score = (d: Dimension, param: string) => (method === 'ntile' ? ntileScore(d, hash) : fixedScore(d, param));
  const scored =
    method === 'quantile'
      ? `
  SELECT customer_id, revenue, r_score, f_score, m_score FROM customer_features
  JOIN (${quantileScoresSql(R, 'r_score')}) USING (${R.value})
  JOIN (${quantileScoresSql(F, 'f_score')}) USING (${F.value})
  JOIN (${quantileScoresSql(M, 'm_score')}) USING (${M.value})`
      : `
  SELECT customer_id, revenue,
         ${score(R, '$recencyCuts')}::TINYINT AS r_score,
         ${score(F, '$frequencyCuts')}::TINYINT AS f_score,
         ${score(M, '$monetaryCuts')}::TINYINT AS m_score
  FROM customer_features`;
  // The segment join is on the cell as a number (545): cheaper than on text.
  return `
CREATE OR REPLACE TEMP TABLE rfm_scores AS
WITH scored AS (${scored}
)
SELECT customer_id, r_score, f_score, m_score, cell::VARCHAR AS rfm_cell, m.segment AS rfm_segment
FROM (SELECT *, r_score::SMALLINT * 100 + f_score * 10 + m_score AS cell FROM scored) s
JOIN (SELECT cell::SMALLINT AS number, segment FROM segment_map) m ON m.number = s.cell`;
}

/**
 * Value deciles, in their own narrow table: a window over the joined scores
 * costs several times the same window over the features alone.
 */
export const VALUE_DECILES_SQL = `
CREATE OR REPLACE TEMP TABLE rfm_deciles AS
SELECT customer_id, ntile(10) OVER (ORDER BY revenue DESC, customer_id) AS value_decile FROM customer_features`;

export const CUSTOMER_RFM_VIEW_SQL = `
CREATE OR REPLACE TEMP VIEW customer_rfm AS
SELECT * FROM customer_features JOIN rfm_scores USING (customer_id) JOIN rfm_deciles USING (customer_id)`;

/**
 * The value range each score actually covers, for summary.json; like the
 * output tables below, read from the finished, sorted `final_scores`.
 */
export const RFM_THRESHOLDS_SQL = `
SELECT 'recency' AS dimension, r_score AS score, min(recency_days)::DOUBLE AS min, max(recency_days)::DOUBLE AS max, count(*)::BIGINT AS customers FROM final_scores GROUP BY r_score
UNION ALL
SELECT 'frequency', f_score, min(orders)::DOUBLE, max(orders)::DOUBLE, count(*)::BIGINT FROM final_scores GROUP BY f_score
UNION ALL
SELECT 'monetary', m_score, min(revenue)::DOUBLE, max(revenue)::DOUBLE, count(*)::BIGINT FROM final_scores GROUP BY m_score
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
FROM final_scores GROUP BY value_decile ORDER BY value_decile`;

/** Customers, revenue and shares per named segment (every segment listed, even when empty). */
export const SEGMENTS_SQL = `
WITH names AS (SELECT segment, min(cell) AS first_cell FROM segment_map GROUP BY segment),
per AS (SELECT rfm_segment, count(*) AS customers, sum(revenue) AS revenue FROM final_scores GROUP BY rfm_segment)
SELECT names.segment,
       coalesce(per.customers, 0)::BIGINT AS customers,
       round(coalesce(per.customers, 0) / (SELECT count(*) FROM final_scores), 6)::DOUBLE AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT sum(revenue) FROM final_scores), 0), 6)::DOUBLE AS revenue_share
FROM names LEFT JOIN per ON per.rfm_segment = names.segment
ORDER BY customers DESC, names.segment`;
