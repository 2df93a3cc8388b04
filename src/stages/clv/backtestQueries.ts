/**
 * The backtest's tracking curve: holdout purchase days (net amount ≥ 0, as in
 * BACKTEST_GROUPS_SQL) of the customers the model was fitted on, per week
 * after the calibration end: week 1 is the 7 days after `$calibrationEnd`.
 */
export const BACKTEST_WEEKLY_SQL = `
WITH purchase_days AS (
  SELECT customer_id, order_date FROM customer_days
  WHERE order_date > $calibrationEnd AND order_date <= $holdoutEnd
  GROUP BY customer_id, order_date HAVING sum(amount) >= 0
),
weekly AS (
  SELECT CAST(floor((d.order_date - CAST($calibrationEnd AS DATE) - 1) / 7.0) AS INTEGER) + 1 AS week
  FROM purchase_days d JOIN clv_inputs c ON c.customer_id = d.customer_id
)
SELECT week, count(*)::BIGINT AS purchases FROM weekly GROUP BY week ORDER BY week`;
