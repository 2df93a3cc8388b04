import { exactSum } from './sums.js';

/**
 * Lifecycle stage, relative to each customer's own rhythm. The typical gap is
 * the customer's mean gap between purchase days, (last − first)/(days − 1);
 * for one-time buyers, the median of the repeat customers' typical gaps.
 * `overdue` = recency_days / typical gap. Rules, first match wins:
 *   lost         overdue > $lostRatio, or P(alive) < $lostPAlive
 *   lapsed       overdue > $lapsedRatio
 *   at_risk      overdue > $atRiskRatio, or a repeat buyer with P(alive) < $atRiskPAlive
 *   new          one purchase day, still on rhythm
 *   reactivated  the last gap was a lapse: > $lapsedRatio × the mean gap before it
 *                (the population's typical gap for two purchase days, when no gap
 *                came before the last one)
 *   loyal        ≥ $loyalMinOrders purchase days, on rhythm
 *   active       everyone else on rhythm
 * Everything comes from the purchase-day summary in customer_features: no
 * pass over the transactions.
 */
export const LIFECYCLE_STAGES = ['new', 'active', 'loyal', 'reactivated', 'at_risk', 'lapsed', 'lost'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** When nobody has bought twice there is no rhythm to measure against. */
export const FALLBACK_GAP_DAYS = 30;

export const lifecycleSql = (withPAlive: boolean) => `
CREATE OR REPLACE TEMP TABLE customer_lifecycle AS
WITH rhythm AS (
  SELECT customer_id, recency_days, coalesce(purchase_days, 0) AS purchase_days,
         CASE WHEN purchase_days >= 2 THEN date_diff('day', first_purchase_day, last_purchase_day) / (purchase_days - 1) END AS typical_gap,
         CASE WHEN purchase_days >= 2 THEN date_diff('day', previous_purchase_day, last_purchase_day) END AS last_gap,
         CASE WHEN purchase_days >= 3 THEN date_diff('day', first_purchase_day, previous_purchase_day) / (purchase_days - 2) END AS prior_gap
  FROM customer_features
),
population AS (
  SELECT coalesce(median(typical_gap), ${FALLBACK_GAP_DAYS}) AS gap FROM rhythm
),
measured AS (
  SELECT r.customer_id, r.purchase_days,
         r.recency_days / greatest(coalesce(r.typical_gap, population.gap), 1) AS overdue,
         r.last_gap,
         greatest(coalesce(r.prior_gap, population.gap), 1) AS prior_gap,
         ${withPAlive ? 'clv.p_alive' : 'NULL::DOUBLE'} AS p_alive
  FROM rhythm r
  CROSS JOIN population
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

/** Customers per stage, for the run summary. */
export const STAGE_COUNTS_SQL = `SELECT lifecycle_stage AS stage, count(*)::BIGINT AS customers FROM customer_lifecycle GROUP BY lifecycle_stage`;

/** stages.csv: every stage (also empty ones) with customers, revenue and their shares, from the finished table. */
export const STAGES_SQL = `
WITH stages(stage, position) AS (VALUES ${LIFECYCLE_STAGES.map((s, i) => `('${s}', ${i})`).join(', ')}),
per AS (SELECT lifecycle_stage AS stage, count(*) AS customers, ${exactSum('revenue')} AS revenue FROM final_scores GROUP BY lifecycle_stage)
SELECT stages.stage,
       coalesce(per.customers, 0)::BIGINT AS customers,
       round(coalesce(per.customers, 0) / (SELECT count(*) FROM final_scores), 6)::DOUBLE AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT ${exactSum('revenue')} FROM final_scores), 0), 6)::DOUBLE AS revenue_share
FROM stages LEFT JOIN per USING (stage) ORDER BY stages.position`;
