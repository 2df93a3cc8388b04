import type { Dialect } from '../../engine/dialect.js';
import { SPEND_GRID } from '../../models/clvIntervals.js';
/**
 * CLV model inputs (DESIGN §3, as in the BTYD literature): per customer, on
 * days ≤ as-of (run_parameters), from the purchase-day summary in
 * customer_features (a purchase day is a calendar day whose net amount is
 * ≥ 0). Integer day counts are kept so that per-pattern predictions join back
 * exactly; the model time unit is applied on the way out. A customer with
 * refunds only has no first purchase: the model does not describe them, and
 * their inputs (so every CLV column) are NULL.
 */
const clvInputColumns = (d: Dialect, s: string, asOf: string) => `
       CASE WHEN ${s}.purchase_days > 0 THEN (${s}.purchase_days - 1)::BIGINT END AS frequency,
       CASE WHEN ${s}.purchase_days > 0 THEN coalesce(${d.daysBetween(`${s}.first_purchase_day`, `${s}.last_purchase_day`)}, 0)::BIGINT END AS recency_days_model,
       CASE WHEN ${s}.purchase_days > 0 THEN (${d.daysBetween(`${s}.first_purchase_day`, asOf)})::BIGINT END AS t_days,
       CASE WHEN ${s}.purchase_days > 1 THEN (CAST(${s}.purchase_day_total - ${s}.first_day_amount AS ${d.sql.double}) / (${s}.purchase_days - 1))::${d.sql.double}
            WHEN ${s}.purchase_days = 1 THEN 0 END AS monetary_value`;

/** The inputs of the customers the model describes, for the fits (pulled into JS as patterns) and the backtest. */
export const clvInputsSql = (d: Dialect) =>
  d.createTempTableAs(
    'clv_inputs',
    `
SELECT f.customer_id, ${clvInputColumns(d, 'f', 'p.as_of')}
FROM customer_features f CROSS JOIN run_parameters p
WHERE f.purchase_days > 0`,
  );

/**
 * Per pattern, its customers with a Gamma-Gamma spend (frequency > 0 and a
 * positive mean repeat spend) and the sum of their mean spends: what the
 * total CLV of a parameter draw needs (models/clvIntervals.ts).
 */
const patternSpendColumns = (d: Dialect) => `
       count(*) FILTER (WHERE frequency > 0 AND monetary_value > 0)::${d.sql.double} AS spend_customers,
       coalesce(sum(monetary_value) FILTER (WHERE frequency > 0 AND monetary_value > 0), 0)::${d.sql.double} AS spend_total`;

/** Distinct (frequency, recency, T) patterns with their customer counts, in a fixed order. */
export const purchasePatternsSql = (d: Dialect) => `
SELECT frequency::${d.sql.double} AS frequency, recency_days_model::${d.sql.double} AS recency_days, t_days::${d.sql.double} AS t_days, count(*)::${d.sql.double} AS weight,${patternSpendColumns(d)}
FROM clv_inputs GROUP BY frequency, recency_days_model, t_days ORDER BY frequency, recency_days, t_days`;

/**
 * Base M of the packed pattern key below: one more than the largest T in
 * days, so recency and T (both ≤ T) are digits in base M, and frequency
 * (repeat purchase days, < T) too.
 */
export const PATTERN_KEY_BASE_SQL = `SELECT (coalesce(max(t_days), 0) + 1)::BIGINT AS base FROM clv_inputs`;

/**
 * The patterns of PURCHASE_PATTERNS_SQL, in the same order, as one packed
 * key ((x·M + t_x)·M + T, integers in days) and a weight: half the values to
 * carry into JS, where every value costs a conversion. Exact while M³ ≤ 2⁵³
 * (M ≤ 208,063 days, i.e. 570 years of history); the caller checks.
 */
export const packedPurchasePatternsSql = (d: Dialect) => `
SELECT ((frequency * $base::BIGINT + recency_days_model) * $base::BIGINT + t_days)::${d.sql.double} AS pattern, count(*)::${d.sql.double} AS weight,${patternSpendColumns(d)}
FROM clv_inputs GROUP BY 1 ORDER BY pattern`;

/** Gamma-Gamma is fitted on repeat customers with a positive mean repeat spend. */
export const spendPatternsSql = (d: Dialect) => `
SELECT frequency::${d.sql.double} AS frequency, monetary_value AS monetary_value, count(*)::${d.sql.double} AS weight
FROM clv_inputs WHERE frequency > 0 AND monetary_value > 0 GROUP BY frequency, monetary_value ORDER BY frequency, monetary_value`;

/**
 * SPEND_PATTERNS_SQL with frequency and weight packed into one exact integer
 * weight·M + frequency (M as for the pattern key, so frequency < M): two
 * values per row to carry into JS instead of three. Exact while
 * customers·M ≤ 2⁵³; the caller checks.
 */
export const packedSpendPatternsSql = (d: Dialect) => `
SELECT monetary_value AS monetary_value, (count(*) * $base::BIGINT + frequency)::${d.sql.double} AS packed
FROM clv_inputs WHERE frequency > 0 AND monetary_value > 0 GROUP BY frequency, monetary_value ORDER BY frequency, monetary_value`;

/**
 * BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee, note 021), the same
 * formula as bgNbd.conditionalProbabilityAlive, per customer in SQL:
 *
 *   1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)),  1 for x = 0,
 *
 * with the ratio taken on day counts (α in days), as exp of
 * log(a/(b+x−1)) + (r+x)·log1p(u), u = (T − t_x)/(α + t_x) (column bg_u,
 * made one level down so that it is computed once per row, not at each of
 * its four uses: a column cannot name another of the same SELECT on
 * PostgreSQL). DuckDB has no
 * log1p: ln(1+u)·u/((1+u)−1) is Goldberg's exact substitute. exp overflows
 * to +Infinity, which gives P(alive) = 0, as in JS.
 */
const U = 'x.bg_u';
const BG_NBD_P_ALIVE = `CASE WHEN NOT x.purchase_available THEN NULL
              WHEN x.frequency = 0 THEN 1.0
              ELSE 1 / (1 + exp(ln(x.bg_a / (x.bg_b + x.frequency - 1)) + (x.bg_r + x.frequency) * CASE WHEN 1 + ${U} = 1 THEN ${U} ELSE ln(1 + ${U}) * ${U} / ((1 + ${U}) - 1) END))
         END`;

/**
 * What the fits give the SQL side, one row (`clv_parameters`, from bound
 * values): whether each model is usable, BG/NBD's r, a, b and α in days,
 * Gamma-Gamma's p, q, γ and population mean spend, the days per model time
 * unit and the margin.
 */
export const clvParametersSql = (d: Dialect) =>
  d.createTempTableAs(
    'clv_parameters',
    `
SELECT $purchaseAvailable::BOOLEAN AS purchase_available, $r::DOUBLE PRECISION AS bg_r, $a::DOUBLE PRECISION AS bg_a, $b::DOUBLE PRECISION AS bg_b, $alphaDays::DOUBLE PRECISION AS bg_alpha_days,
       $spendAvailable::BOOLEAN AS spend_available, $p::DOUBLE PRECISION AS gg_p, $q::DOUBLE PRECISION AS gg_q, $gamma::DOUBLE PRECISION AS gg_gamma,
       $populationMeanSpend::DOUBLE PRECISION AS population_mean_spend, $daysPerUnit::DOUBLE PRECISION AS days_per_unit, $margin::DOUBLE PRECISION AS margin`,
  );

/**
 * The CLV columns added to the rows of `source` (which has customer_features'
 * columns), computed on the fly from the inputs above and what JS computed:
 * - table clv_groups, one row per (frequency, T) pair: E[X(H) | alive] and
 *   Σ_k (E[X(k) | alive] − E[X(k−1) | alive]) / (1+d)^k (models/clv.ts aliveFactors);
 * - P(alive): for BG/NBD in closed form here; for Pareto/NBD from table
 *   clv_patterns, one row per (frequency, recency, T) pattern.
 * expected_purchases and the discounted sum are P(alive) times the group's
 * values (both models factor that way), and
 * clv = margin × expected_avg_value × P(alive) × the discounted sum.
 * Gamma-Gamma's conditional mean spend is closed-form, so it is computed here too:
 * E[M | x, m̄] = (p·γ + p·x·m̄) / (p·x + q − 1); customers without a positive
 * repeat spend get the population mean p·γ / (q − 1).
 *
 * Only small tables are joined (clv_groups, clv_patterns, the one-row
 * clv_parameters), so the columns cost a pass over `source`, not a join of
 * two per-customer tables.
 *
 * The layer's helper columns (recency_days_model, t_days and those of
 * clv_parameters) pass through to the next layer unused, as the layers know
 * no column list of their source to leave them out by (DuckDB's EXCLUDE is not
 * PostgreSQL's): the scored view names its columns, and the engines drop the
 * unused ones from the plan.
 */
export const clvLayerSql = (d: Dialect, pAlive: 'bgnbd' | 'patterns') => (source: string) => `
SELECT z.*,
       CASE WHEN z.clv_low_ratio IS NOT NULL THEN least(z.clv, z.clv * z.clv_low_ratio, z.clv * z.clv_high_ratio) END AS clv_low,
       CASE WHEN z.clv_high_ratio IS NOT NULL THEN greatest(z.clv, z.clv * z.clv_low_ratio, z.clv * z.clv_high_ratio) END AS clv_high
FROM (
SELECT y.*,
       y.recency_days_model / y.days_per_unit AS recency,
       y.t_days / y.days_per_unit AS "T",
       y.p_alive * g.expected_purchases AS expected_purchases,
       y.margin * y.expected_avg_value * (y.p_alive * g.clv_factor) AS clv,
       ${interpolatedRatio('low')} AS clv_low_ratio,
       ${interpolatedRatio('high')} AS clv_high_ratio
FROM (
  SELECT x.*,
         ${pAlive === 'bgnbd' ? BG_NBD_P_ALIVE : 'CASE WHEN x.purchase_available THEN pp.p_alive END'} AS p_alive,
         CASE WHEN x.spend_available AND x.frequency IS NOT NULL THEN
           CASE WHEN x.frequency > 0 AND x.monetary_value > 0
                THEN (x.gg_p * x.gg_gamma + x.gg_p * x.frequency * x.monetary_value) / (x.gg_p * x.frequency + x.gg_q - 1)
                ELSE x.population_mean_spend END
         END AS expected_avg_value,
         CASE WHEN x.spend_available AND x.frequency > 0 AND x.monetary_value > 0
              THEN ${SPEND_GRID.length - 1} * (x.frequency * x.monetary_value) / (x.gg_gamma + x.frequency * x.monetary_value)
         END AS spend_position
  FROM (
    SELECT w.*, (w.t_days - w.recency_days_model) / (w.bg_alpha_days + w.recency_days_model) AS bg_u
    FROM (
      SELECT s.*, c.*, ${clvInputColumns(d, 's', 'r.as_of')}
      FROM (${source}) s CROSS JOIN clv_parameters c CROSS JOIN run_parameters r
    ) w
  ) x${
    pAlive === 'patterns'
      ? `
  LEFT JOIN (SELECT frequency::BIGINT AS frequency, recency_days::BIGINT AS recency_days, t_days::BIGINT AS t_days, p_alive FROM clv_patterns) pp
    ON pp.frequency = x.frequency AND pp.recency_days = x.recency_days_model AND pp.t_days = x.t_days`
      : ''
  }
) y
LEFT JOIN (SELECT frequency::BIGINT AS frequency, t_days::BIGINT AS t_days, expected_purchases, clv_factor FROM clv_groups) g
  ON g.frequency = y.frequency AND g.t_days = y.t_days
LEFT JOIN (SELECT frequency::BIGINT AS frequency, recency_days::BIGINT AS recency_days, t_days::BIGINT AS t_days, ${INTERVAL_COLUMNS.join(', ')} FROM clv_intervals) ci
  ON ci.frequency = y.frequency AND ci.recency_days = y.recency_days_model AND ci.t_days = y.t_days
) z`;

/** clv_intervals' ratio columns: low_0 … low_4, high_0 … high_4 at the points of SPEND_GRID, and low_mean, high_mean. */
export const INTERVAL_COLUMNS = (['low', 'high'] as const).flatMap((side) => [...SPEND_GRID.map((_, k) => `${side}_${k}`), `${side}_mean`]);

/**
 * A customer's ratio clv_low / clv (or clv_high / clv) from the pattern's
 * row of clv_intervals (models/clvIntervals.ts): linear in between the grid
 * points of u = x·m / (γ + x·m), at spend_position = 4u; the population-mean
 * ratio for a customer without a Gamma-Gamma spend. NULL without intervals.
 */
const interpolatedRatio = (side: 'low' | 'high') => {
  const at = (k: number) => `ci.${side}_${k}`;
  const pieces = SPEND_GRID.slice(0, -1).map((_, k) => `${at(k)} + (y.spend_position - ${k}) * (${at(k + 1)} - ${at(k)})`);
  return `CASE WHEN y.spend_position IS NULL THEN ci.${side}_mean
            ${pieces
              .slice(0, -1)
              .map((piece, k) => `WHEN y.spend_position < ${k + 1} THEN ${piece}`)
              .join('\n            ')}
            ELSE ${pieces[pieces.length - 1]} END`;
};

/**
 * Backtest groups: customers with the same calibration pattern and the same
 * number of purchase days in (calibration end, holdout end], counted, in a
 * fixed order. The sums over customers are made from these in JS
 * (backtestBuckets), in this order: a SUM of doubles in the engine adds rows
 * in whatever order its threads meet them, and its last bits changed from run
 * to run.
 */
export const BACKTEST_GROUPS_SQL = `
WITH holdout AS (
  SELECT customer_id, count(*) AS purchases FROM (
    SELECT customer_id, order_date FROM customer_days
    WHERE order_date > $calibrationEnd AND order_date <= $holdoutEnd
    GROUP BY customer_id, order_date HAVING sum(amount) >= 0
  ) purchase_days GROUP BY customer_id
)
SELECT least(c.frequency, 7)::INTEGER AS bucket, p.predicted, coalesce(h.purchases, 0)::BIGINT AS actual, count(*)::BIGINT AS customers
FROM clv_inputs c
LEFT JOIN holdout h ON h.customer_id = c.customer_id
JOIN clv_patterns p ON p.frequency = c.frequency AND p.recency_days = c.recency_days_model AND p.t_days = c.t_days
GROUP BY least(c.frequency, 7), p.frequency, p.recency_days, p.t_days, p.predicted, coalesce(h.purchases, 0)
ORDER BY bucket, p.frequency, p.recency_days, p.t_days, actual`;
