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
       greatest(coalesce(purchase_days, 0) - 1, 0)::BIGINT AS frequency,
       coalesce(date_diff('day', first_purchase_day, last_purchase_day), 0)::BIGINT AS recency_days_model,
       date_diff('day', coalesce(first_purchase_day, first_purchase), $asOf::DATE)::BIGINT AS t_days,
       CASE WHEN purchase_days > 1 THEN ((purchase_day_total - first_day_amount) / (purchase_days - 1))::DOUBLE ELSE 0 END AS monetary_value
FROM customer_features`;

/** Distinct (frequency, recency, T) patterns with their customer counts, in a fixed order. */
export const PURCHASE_PATTERNS_SQL = `
SELECT frequency::DOUBLE AS frequency, recency_days_model::DOUBLE AS recency_days, t_days::DOUBLE AS t_days, count(*)::DOUBLE AS weight
FROM clv_inputs GROUP BY ALL ORDER BY frequency, recency_days, t_days`;

/** Gamma-Gamma is fitted on repeat customers with a positive mean repeat spend. */
export const SPEND_PATTERNS_SQL = `
SELECT frequency::DOUBLE AS frequency, monetary_value AS monetary_value, count(*)::DOUBLE AS weight
FROM clv_inputs WHERE frequency > 0 AND monetary_value > 0 GROUP BY ALL ORDER BY frequency, monetary_value`;

/**
 * Joins per-pattern predictions (table clv_patterns) back to customers.
 * Gamma-Gamma's conditional mean spend is closed-form, so it is computed here:
 * E[M | x, m̄] = (p·γ + p·x·m̄) / (p·x + q − 1); customers without a positive
 * repeat spend get the population mean p·γ / (q − 1).
 */
export const CUSTOMER_CLV_SQL = `
CREATE OR REPLACE TEMP TABLE customer_clv AS
WITH spend AS (
  SELECT c.*,
         CASE WHEN $spendAvailable THEN
           CASE WHEN c.frequency > 0 AND c.monetary_value > 0
                THEN ($p * $gamma + $p * c.frequency * c.monetary_value) / ($p * c.frequency + $q - 1)
                ELSE $populationMeanSpend END
         END AS expected_avg_value
  FROM clv_inputs c
)
SELECT s.customer_id,
       s.frequency,
       s.recency_days_model / $daysPerUnit AS recency,
       s.t_days / $daysPerUnit AS "T",
       s.monetary_value,
       p.p_alive,
       p.expected_purchases,
       s.expected_avg_value,
       $margin * s.expected_avg_value * p.clv_factor AS clv
FROM spend s
LEFT JOIN clv_patterns p
  ON p.frequency = s.frequency AND p.recency_days = s.recency_days_model AND p.t_days = s.t_days`;

/** Purchase days in (calibration end, holdout end] per customer, for the backtest. */
export const HOLDOUT_PURCHASES_SQL = `
SELECT c.customer_id, c.frequency, coalesce(h.purchases, 0)::BIGINT AS actual
FROM clv_inputs c LEFT JOIN (
  SELECT customer_id, count(*) AS purchases FROM (
    SELECT customer_id, order_date FROM customer_days
    WHERE order_date > $calibrationEnd AND order_date <= $holdoutEnd
    GROUP BY customer_id, order_date HAVING sum(amount) >= 0
  ) GROUP BY customer_id
) h USING (customer_id)`;
