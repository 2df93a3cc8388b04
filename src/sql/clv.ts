/**
 * CLV model inputs (DESIGN §3, as in the BTYD literature): per customer, on
 * days ≤ as-of, from the purchase-day summary in customer_features (a
 * purchase day is a calendar day whose net amount is ≥ 0). Integer day counts
 * are kept so that per-pattern predictions join back exactly; the model time
 * unit is applied on the way out.
 */
export const CLV_INPUTS_SQL = `
CREATE OR REPLACE TEMP TABLE clv_inputs AS
SELECT customer_id,
       (purchase_days - 1)::BIGINT AS frequency,
       coalesce(date_diff('day', first_purchase_day, last_purchase_day), 0)::BIGINT AS recency_days_model,
       date_diff('day', first_purchase_day, $asOf::DATE)::BIGINT AS t_days,
       CASE WHEN purchase_days > 1 THEN ((purchase_day_total - first_day_amount) / (purchase_days - 1))::DOUBLE ELSE 0 END AS monetary_value
FROM customer_features
-- A customer with refunds only has no first purchase: the model does not describe them (their CLV columns are null).
WHERE purchase_days > 0`;

/** Distinct (frequency, recency, T) patterns with their customer counts, in a fixed order. */
export const PURCHASE_PATTERNS_SQL = `
SELECT frequency::DOUBLE AS frequency, recency_days_model::DOUBLE AS recency_days, t_days::DOUBLE AS t_days, count(*)::DOUBLE AS weight
FROM clv_inputs GROUP BY ALL ORDER BY frequency, recency_days, t_days`;

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
export const PACKED_PURCHASE_PATTERNS_SQL = `
SELECT ((frequency * $base::BIGINT + recency_days_model) * $base::BIGINT + t_days)::DOUBLE AS pattern, count(*)::DOUBLE AS weight
FROM clv_inputs GROUP BY ALL ORDER BY pattern`;

/** Gamma-Gamma is fitted on repeat customers with a positive mean repeat spend. */
export const SPEND_PATTERNS_SQL = `
SELECT frequency::DOUBLE AS frequency, monetary_value AS monetary_value, count(*)::DOUBLE AS weight
FROM clv_inputs WHERE frequency > 0 AND monetary_value > 0 GROUP BY ALL ORDER BY frequency, monetary_value`;

/**
 * SPEND_PATTERNS_SQL with frequency and weight packed into one exact integer
 * weight·M + frequency (M as for the pattern key, so frequency < M): two
 * values per row to carry into JS instead of three. Exact while
 * customers·M ≤ 2⁵³; the caller checks.
 */
export const PACKED_SPEND_PATTERNS_SQL = `
SELECT monetary_value AS monetary_value, (count(*) * $base::BIGINT + frequency)::DOUBLE AS packed
FROM clv_inputs WHERE frequency > 0 AND monetary_value > 0 GROUP BY frequency, monetary_value ORDER BY frequency, monetary_value`;

/**
 * BG/NBD P(alive | x, t_x, T) (Fader, Hardie & Lee, note 021), the same
 * formula as bgNbd.conditionalProbabilityAlive, per customer in SQL:
 *
 *   1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)),  1 for x = 0,
 *
 * with the ratio taken on day counts (α in days), as exp of
 * log(a/(b+x−1)) + (r+x)·log1p(u), u = (T − t_x)/(α + t_x). DuckDB has no
 * log1p: ln(1+u)·u/((1+u)−1) is Goldberg's exact substitute. exp overflows
 * to +Infinity, which gives P(alive) = 0, as in JS.
 */
const BG_NBD_P_ALIVE = `CASE WHEN NOT $purchaseAvailable THEN NULL
              WHEN frequency = 0 THEN 1.0
              ELSE 1 / (1 + exp(ln($a / ($b + frequency - 1)) + ($r + frequency) * CASE WHEN 1 + u = 1 THEN u ELSE ln(1 + u) * u / ((1 + u) - 1) END))
         END`;

/**
 * Customer CLV columns from the model inputs and what JS computed:
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
 */
export const customerClvSql = (pAlive: 'bgnbd' | 'patterns') => `
CREATE OR REPLACE TEMP TABLE customer_clv AS
WITH inputs AS (
  SELECT customer_id, frequency, recency_days_model, t_days, monetary_value${
    pAlive === 'bgnbd' ? ',\n         (t_days - recency_days_model) / ($alphaDays + recency_days_model) AS u' : ''
  }
  FROM clv_inputs
),
per_customer AS (
  SELECT i.customer_id, i.frequency, i.recency_days_model, i.t_days, i.monetary_value,
         ${pAlive === 'bgnbd' ? BG_NBD_P_ALIVE : 'p.p_alive'} AS p_alive,
         CASE WHEN $spendAvailable THEN
           CASE WHEN i.frequency > 0 AND i.monetary_value > 0
                THEN ($p * $gamma + $p * i.frequency * i.monetary_value) / ($p * i.frequency + $q - 1)
                ELSE $populationMeanSpend END
         END AS expected_avg_value
  FROM inputs i${
    pAlive === 'patterns'
      ? `
  LEFT JOIN (SELECT frequency::BIGINT AS frequency, recency_days::BIGINT AS recency_days, t_days::BIGINT AS t_days, p_alive FROM clv_patterns) p
    ON p.frequency = i.frequency AND p.recency_days = i.recency_days_model AND p.t_days = i.t_days`
      : ''
  }
)
SELECT c.customer_id,
       c.frequency,
       c.recency_days_model / $daysPerUnit AS recency,
       c.t_days / $daysPerUnit AS "T",
       c.monetary_value,
       c.p_alive,
       c.p_alive * g.expected_purchases AS expected_purchases,
       c.expected_avg_value,
       $margin * c.expected_avg_value * (c.p_alive * g.clv_factor) AS clv
FROM per_customer c
LEFT JOIN (SELECT frequency::BIGINT AS frequency, t_days::BIGINT AS t_days, expected_purchases, clv_factor FROM clv_groups) g
  ON g.frequency = c.frequency AND g.t_days = c.t_days`;

/**
 * Backtest by calibration frequency (0..6, 7+): purchase days in
 * (calibration end, holdout end] per customer against the per-pattern
 * predictions in clv_patterns.
 */
export const BACKTEST_BY_FREQUENCY_SQL = `
WITH per_customer AS (
  SELECT c.frequency, coalesce(h.purchases, 0) AS actual, p.predicted
  FROM clv_inputs c
  LEFT JOIN (
    SELECT customer_id, count(*) AS purchases FROM (
      SELECT customer_id, order_date FROM customer_days
      WHERE order_date > $calibrationEnd AND order_date <= $holdoutEnd
      GROUP BY customer_id, order_date HAVING sum(amount) >= 0
    ) GROUP BY customer_id
  ) h USING (customer_id)
  JOIN clv_patterns p ON p.frequency = c.frequency AND p.recency_days = c.recency_days_model AND p.t_days = c.t_days
)
SELECT least(frequency, 7)::INTEGER AS bucket, count(*)::BIGINT AS customers, sum(actual)::DOUBLE AS actual,
       sum(predicted) AS predicted, sum(abs(actual - predicted)) AS abs_error
FROM per_customer GROUP BY bucket ORDER BY bucket`;
