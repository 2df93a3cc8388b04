/**
 * Per-customer features in one set-based pass over the accepted transactions
 * dated on or before the as-of date (`$asOf`).
 *
 * A purchase occasion is one order id when an order column is mapped,
 * otherwise one customer's transactions on one calendar day. An occasion whose
 * net amount is negative (a refund) lowers revenue but is not a purchase.
 */
export const OCCASIONS_SQL = `
CREATE OR REPLACE TEMP TABLE occasions AS
SELECT customer_id,
       coalesce(order_id, strftime(order_date, '%Y-%m-%d')) AS occasion,
       min(order_date) AS order_date,
       sum(amount) AS amount
FROM transactions
WHERE order_date <= $asOf
GROUP BY customer_id, coalesce(order_id, strftime(order_date, '%Y-%m-%d'))`;

export const CUSTOMER_FEATURES_SQL = `
CREATE OR REPLACE TEMP TABLE customer_features AS
WITH per_customer AS (
  SELECT customer_id,
         coalesce(min(order_date) FILTER (WHERE amount >= 0), min(order_date)) AS first_purchase,
         coalesce(max(order_date) FILTER (WHERE amount >= 0), max(order_date)) AS last_purchase,
         count(*) FILTER (WHERE amount >= 0) AS orders,
         sum(amount) AS revenue
  FROM occasions
  GROUP BY customer_id
)
SELECT customer_id,
       first_purchase,
       last_purchase,
       orders::BIGINT AS orders,
       revenue,
       CASE WHEN orders > 0 THEN round(revenue / orders, 4) END AS avg_order_value,
       date_diff('day', last_purchase, $asOf::DATE)::BIGINT AS recency_days,
       date_diff('day', first_purchase, $asOf::DATE)::BIGINT AS tenure_days
FROM per_customer`;

/** Counts for summary.json. */
export const ROW_COUNTS_SQL = `
SELECT count(*) FILTER (WHERE order_date > $asOf)::BIGINT AS excluded,
       count(DISTINCT customer_id) FILTER (WHERE order_date <= $asOf)::BIGINT AS customers
FROM transactions`;
