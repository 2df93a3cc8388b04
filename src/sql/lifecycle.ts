/**
 * Lifecycle stage, relative to each customer's own rhythm: the typical gap is
 * the median of the customer's gaps between purchase days (the population's
 * median gap for one-time buyers). `overdue` = recency_days / typical gap.
 * Rules, first match wins:
 *   lost         overdue > $lostRatio, or P(alive) < $lostPAlive
 *   lapsed       overdue > $lapsedRatio
 *   at_risk      overdue > $atRiskRatio, or a repeat buyer with P(alive) < $atRiskPAlive
 *   new          one purchase day, still on rhythm
 *   reactivated  the last gap was a lapse: > $lapsedRatio × the typical gap before it
 *   loyal        ≥ $loyalMinOrders purchase days, on rhythm
 *   active       everyone else on rhythm
 */
export const LIFECYCLE_STAGES = ['new', 'active', 'loyal', 'reactivated', 'at_risk', 'lapsed', 'lost'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** When nobody has bought twice there is no rhythm to measure against. */
export const FALLBACK_GAP_DAYS = 30;

export const lifecycleSql = (withPAlive: boolean) => `
CREATE OR REPLACE TEMP TABLE customer_lifecycle AS
WITH days AS (
  SELECT DISTINCT customer_id, order_date AS day FROM occasions WHERE amount >= 0
),
gaps AS (
  SELECT customer_id,
         date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap,
         row_number() OVER (PARTITION BY customer_id ORDER BY day DESC) AS from_last
  FROM days
),
per_customer AS (
  SELECT customer_id,
         count(*) AS purchase_days,
         median(gap) AS typical_gap,
         max(gap) FILTER (WHERE from_last = 1) AS last_gap,
         median(gap) FILTER (WHERE from_last > 1) AS prior_gap
  FROM gaps GROUP BY customer_id
),
population AS (
  SELECT coalesce(median(gap), ${FALLBACK_GAP_DAYS}) AS gap FROM gaps
),
measured AS (
  SELECT f.customer_id,
         coalesce(pc.purchase_days, 0) AS purchase_days,
         f.recency_days / greatest(coalesce(pc.typical_gap, population.gap), 1) AS overdue,
         pc.last_gap,
         greatest(coalesce(pc.prior_gap, population.gap), 1) AS prior_gap,
         ${withPAlive ? 'clv.p_alive' : 'NULL::DOUBLE'} AS p_alive
  FROM customer_features f
  CROSS JOIN population
  LEFT JOIN per_customer pc USING (customer_id)
  ${withPAlive ? 'LEFT JOIN customer_clv clv USING (customer_id)' : ''}
)
SELECT customer_id,
       CASE
         WHEN overdue > $lostRatio OR p_alive < $lostPAlive THEN 'lost'
         WHEN overdue > $lapsedRatio THEN 'lapsed'
         WHEN overdue > $atRiskRatio OR (purchase_days >= 2 AND p_alive < $atRiskPAlive) THEN 'at_risk'
         WHEN purchase_days <= 1 THEN 'new'
         WHEN last_gap > $lapsedRatio * prior_gap THEN 'reactivated'
         WHEN purchase_days >= $loyalMinOrders THEN 'loyal'
         ELSE 'active'
       END AS lifecycle_stage
FROM measured`;

export const STAGES_SQL = `
WITH stages(stage, position) AS (VALUES ${LIFECYCLE_STAGES.map((s, i) => `('${s}', ${i})`).join(', ')}),
per AS (
  SELECT l.lifecycle_stage AS stage, count(*) AS customers, sum(r.revenue) AS revenue
  FROM customer_lifecycle l JOIN customer_rfm r USING (customer_id) GROUP BY l.lifecycle_stage
)
SELECT stages.stage,
       coalesce(per.customers, 0)::BIGINT AS customers,
       round(coalesce(per.customers, 0) / (SELECT count(*) FROM customer_lifecycle), 6)::DOUBLE AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT sum(revenue) FROM customer_rfm), 0), 6)::DOUBLE AS revenue_share
FROM stages LEFT JOIN per USING (stage) ORDER BY stages.position`;
