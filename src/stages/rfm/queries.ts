import type { Dialect, RecipeStatement } from '../../engine/dialect.js';
import { LABEL_TYPE } from '../scored/queries.js';
import { exactMean, exactSum } from '../sums.js';
import type { TableName } from '../tables.js';

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
 * is computed over the distinct values with their `customers` (a few hundred
 * days or order counts).
 */
const quantileScore = (dialect: Dialect, d: Dimension) =>
  `(1 + ${dialect.sql.integerDivide(`5 * (sum(customers) OVER (ORDER BY ${worstFirst(d)}) - customers)`, '(SELECT count(*) FROM customer_features)')})`;

/** Equal-sized groups; ties broken by a stable hash of the id, then the id itself in byte order. */
const ntileScore = (dialect: Dialect, d: Dimension) =>
  `ntile(5) OVER (ORDER BY ${worstFirst(d)}, ${dialect.stableHash('customer_id')}, ${dialect.byteOrder('customer_id')})`;

/**
 * The user's cut points for the dimension, `$cut1`..`$cut4` (ascending). For
 * R: days ≤ cut1 → 5 … > cut4 → 1. For F and M: value ≥ cut4 → 5 … < cut1 → 1.
 */
const fixedScore = (dialect: Dialect, d: Dimension) => {
  const reached = CUT_PARAMETERS.map((cut) => `CAST(${d.value} ${d.better === 'low' ? '>' : '>='} $${cut}::${dialect.sql.double} AS INTEGER)`).join(' + ');
  return d.better === 'low' ? `(5 - (${reached}))` : `(1 + ${reached})`;
};

const CUT_PARAMETERS = ['cut1', 'cut2', 'cut3', 'cut4'] as const;
/** The bound values of a dimension's fixed cut points. */
export const cutParameters = (cuts: readonly number[]) => Object.fromEntries(CUT_PARAMETERS.map((name, i) => [name, cuts[i]!]));

export type RfmDimension = 'recency' | 'frequency' | 'monetary';
/** Customers per distinct value of a dimension. */
const customersPerValue = (d: Dimension) => `SELECT ${d.value}, count(*) AS customers FROM customer_features GROUP BY ${d.value}`;

/**
 * Customers per distinct revenue, kept as a table: both the M scores and the
 * value deciles ({@link DECILE_BOUNDS_SQL}) read it, and grouping the
 * customers by revenue is the costly part of either.
 */
export const revenueCustomersSql = (dialect: Dialect) => dialect.createTempTableAs('rfm_revenue_customers', customersPerValue(M));

const DIMENSIONS: readonly { name: RfmDimension; d: Dimension; score: string; table: string; values: string }[] = [
  { name: 'recency', d: R, score: 'r_score', table: 'rfm_recency_scores', values: `(${customersPerValue(R)}) per_value` },
  { name: 'frequency', d: F, score: 'f_score', table: 'rfm_frequency_scores', values: `(${customersPerValue(F)}) per_value` },
  { name: 'monetary', d: M, score: 'm_score', table: 'rfm_monetary_scores', values: 'rfm_revenue_customers' },
];

/**
 * With `quantile` and `fixed` a score depends on the value alone, and never
 * drops as the value gets better. So each dimension gets a small table
 * value → score over its distinct values (a few hundred recency days or order
 * counts; revenue has more, still far fewer than customers), and from those
 * the one-row `rfm_score_bounds`: for each score 2..5 the worst value that
 * earns it. The RFM layer then scores each customer by comparing with these
 * twelve values: no per-customer table, and no join (a join on revenue with
 * its 10⁵ distinct values cost more than all the rest of the layer).
 * `ntile` splits ties by customer, so it scores every customer (`rfm_scores`).
 */
export function rfmScoresSql(dialect: Dialect, method: RfmMethod): { dimension: RfmDimension | null; sql: readonly RecipeStatement[] }[] {
  const tinyint = dialect.sql.tinyint;
  if (method === 'ntile') {
    const sql = dialect.createTempTableAs(
      'rfm_scores',
      `
SELECT customer_id, ${DIMENSIONS.map(({ d, score }) => `${ntileScore(dialect, d)}::${tinyint} AS ${score}`).join(',\n       ')}
FROM customer_features`,
    );
    return [{ dimension: null, sql }];
  }
  const perValue = DIMENSIONS.map(({ name, d, score, table, values }) => ({
    dimension: name,
    sql: dialect.createTempTableAs(
      table,
      `
SELECT ${d.value}, ${method === 'quantile' ? quantileScore(dialect, d) : fixedScore(dialect, d)}::${tinyint} AS ${score}
FROM ${values}`,
    ),
  }));
  const bounds = dialect.createTempTableAs(
    'rfm_score_bounds',
    `
SELECT * FROM ${DIMENSIONS.map(
      ({ d, score, table }) =>
        `(SELECT ${SCORES_ABOVE_1.map((k) => `${d.better === 'low' ? 'max' : 'min'}(${d.value}) FILTER (WHERE ${score} >= ${k}) AS ${boundColumn(score, k)}`).join(', ')} FROM ${table}) ${score}_bounds`,
    ).join(',\n     ')}`,
  );
  return [...perValue, { dimension: null, sql: bounds }];
}

const SCORES_ABOVE_1 = [2, 3, 4, 5] as const;
const boundColumn = (score: string, k: number) => `${score}_bound_${k}`;

/** 1 + the number of bounds the value reaches (a score no value earns has a NULL bound, never reached). */
const scoreFromBounds =
  (dialect: Dialect) =>
  ({ d, score }: (typeof DIMENSIONS)[number]) =>
    `(1 + ${SCORES_ABOVE_1.map((k) => `CAST(coalesce(f.${d.value} ${d.better === 'low' ? '<=' : '>='} s.${boundColumn(score, k)}, false) AS INTEGER)`).join(' + ')})::${dialect.sql.tinyint} AS ${score}`;

/**
 * Value deciles = ntile(10) over (revenue DESC, customer_id), without a
 * per-customer table or a sort of every customer: ntile(10) puts the first
 * n mod 10 deciles one customer larger, so decile j ends at position
 * j·⌊n/10⌋ + min(j, n mod 10), found from the customer counts per distinct
 * revenue, then among the customers tied on that revenue by id. Those nine
 * boundary customers (revenue and id) are kept in one row; a customer's decile
 * is the first boundary it is at or before in that order.
 */
export const decileBoundsSql = (dialect: Dialect) =>
  dialect.createTempTableAs(
    'rfm_decile_bounds',
    `
WITH ends AS (
  SELECT j, j * (${dialect.sql.integerDivide('n', '10')}) + least(j, n % 10) AS position
  FROM (SELECT count(*) AS n FROM customer_features) counted CROSS JOIN (VALUES ${Array.from({ length: 9 }, (_, i) => `(${i + 1})`).join(', ')}) AS t(j)
),
-- Positions (revenue DESC) first..last taken by each distinct revenue.
revenues AS (
  SELECT revenue, sum(customers) OVER (ORDER BY revenue DESC) - customers + 1 AS first, sum(customers) OVER (ORDER BY revenue DESC) AS last
  FROM rfm_revenue_customers
),
-- The revenue at each boundary position, and the boundary's rank among the customers tied on it.
located AS (
  SELECT e.j, r.revenue, e.position - r.first + 1 AS rank_in_tie
  FROM ends e JOIN revenues r ON e.position BETWEEN r.first AND r.last
),
-- Ties are ordered by id: only the customers with a boundary revenue are sorted, not all of them.
tied AS (
  SELECT revenue, customer_id, row_number() OVER (PARTITION BY revenue ORDER BY ${dialect.byteOrder('customer_id')}) AS rank_in_tie
  FROM customer_features WHERE revenue IN (SELECT revenue FROM located)
)
SELECT ${Array.from({ length: 9 }, (_, i) => `max(l.revenue) FILTER (WHERE l.j = ${i + 1}) AS revenue_${i + 1}, max(t.customer_id) FILTER (WHERE l.j = ${i + 1}) AS customer_id_${i + 1}`).join(',\n       ')}
FROM located l JOIN tied t USING (revenue, rank_in_tie)`,
  );

/** The first boundary the customer is at or before, in (revenue DESC, customer_id) order; CASE stops at the first match. */
const valueDecile = (dialect: Dialect) => `CASE ${Array.from(
  { length: 9 },
  (_, i) => `WHEN y.revenue > b.revenue_${i + 1} OR (y.revenue = b.revenue_${i + 1} AND ${dialect.byteOrder('y.customer_id')} <= b.customer_id_${i + 1}) THEN ${i + 1}`,
).join('\n              ')}
              ELSE 10 END`;

/**
 * The RFM columns as a layer over the customers: scores from the bounds (or,
 * for ntile, joined per customer), the cell and segment labels by a join on
 * the cell as a number (545) with the 125-row map, the value decile from its
 * bounds.
 */
export const rfmLayerSql =
  (dialect: Dialect, method: RfmMethod) =>
  (source: string) => `
SELECT y.*, m.rfm_cell, m.rfm_segment,
       (${valueDecile(dialect)})::${dialect.sql.tinyint} AS value_decile
FROM (${
    method === 'ntile'
      ? `SELECT f.*, r_score, f_score, m_score FROM (${source}) f JOIN rfm_scores USING (customer_id)`
      : `SELECT f.*, ${DIMENSIONS.map(scoreFromBounds(dialect)).join(', ')} FROM (${source}) f CROSS JOIN rfm_score_bounds s`
  }) y
JOIN (SELECT cell::SMALLINT AS number, cell::${LABEL_TYPE} AS rfm_cell, segment::${LABEL_TYPE} AS rfm_segment FROM segment_map) m
  ON m.number = y.r_score::SMALLINT * 100 + y.f_score * 10 + y.m_score
CROSS JOIN rfm_decile_bounds b`;

/**
 * The value range each score actually covers, for summary.json; like the
 * output tables below, read from the finished, sorted `final_scores`.
 */
export const rfmThresholdsSql = (scored: TableName) => `
SELECT 'recency' AS dimension, r_score AS score, min(recency_days)::DOUBLE PRECISION AS min, max(recency_days)::DOUBLE PRECISION AS max, count(*)::BIGINT AS customers FROM ${scored} GROUP BY r_score
UNION ALL
SELECT 'frequency', f_score, min(orders)::DOUBLE PRECISION, max(orders)::DOUBLE PRECISION, count(*)::BIGINT FROM ${scored} GROUP BY f_score
UNION ALL
SELECT 'monetary', m_score, min(revenue)::DOUBLE PRECISION, max(revenue)::DOUBLE PRECISION, count(*)::BIGINT FROM ${scored} GROUP BY m_score
ORDER BY dimension, score`;

/** The segment map (125 cells → segment names), a small table (a reference table on Citus). */
export const segmentMapTableSql = (d: Dialect) => d.createTempTable('segment_map', 'cell VARCHAR PRIMARY KEY, segment VARCHAR NOT NULL');

/** Pareto table: customers ranked by revenue into 10 groups (1 = top). */
export const DECILES_SQL = `
SELECT value_decile AS decile,
       count(*)::BIGINT AS customers,
       ${exactSum('revenue')}::DOUBLE PRECISION AS revenue,
       round(${exactSum('revenue')} / nullif(sum(${exactSum('revenue')}) OVER (), 0), 6)::DOUBLE PRECISION AS share,
       round(sum(${exactSum('revenue')}) OVER (ORDER BY value_decile) / nullif(sum(${exactSum('revenue')}) OVER (), 0), 6)::DOUBLE PRECISION AS cumulative_share,
       round(${exactMean('revenue')}, 4)::DOUBLE PRECISION AS avg_revenue
FROM final_scores GROUP BY value_decile ORDER BY value_decile`;

/** Customers, revenue and shares per named segment (every segment listed, even when empty). */
export const segmentsSql = (d: Dialect) => `
WITH names AS (SELECT segment, min(cell) AS first_cell FROM segment_map GROUP BY segment),
per AS (SELECT CAST(rfm_segment AS VARCHAR) AS rfm_segment, count(*) AS customers, ${exactSum('revenue')} AS revenue FROM final_scores GROUP BY rfm_segment)
SELECT names.segment,
       coalesce(per.customers, 0)::BIGINT AS customers,
       ${d.sql.roundDouble('CAST(coalesce(per.customers, 0) AS DOUBLE PRECISION) / (SELECT count(*) FROM final_scores)', 6)}::DOUBLE PRECISION AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE PRECISION AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT ${exactSum('revenue')} FROM final_scores), 0), 6)::DOUBLE PRECISION AS revenue_share
FROM names LEFT JOIN per ON per.rfm_segment = names.segment
ORDER BY customers DESC, names.segment`;
