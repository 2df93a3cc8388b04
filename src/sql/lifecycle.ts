import { labelConstant } from './scored.js';
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

/** A stage name as a constant of the run's label type. */
const stage = (name: LifecycleStage) => labelConstant(`'${name}'`);

/** When nobody has bought twice there is no rhythm to measure against. */
export const FALLBACK_GAP_DAYS = 30;

/** Each customer's rhythm, from the purchase-day summary (columns of customer_features). */
const rhythmColumns = (s: string) => `
       CASE WHEN ${s}.purchase_days >= 2 THEN date_diff('day', ${s}.first_purchase_day, ${s}.last_purchase_day) / (${s}.purchase_days - 1) END AS typical_gap,
       CASE WHEN ${s}.purchase_days >= 2 THEN date_diff('day', ${s}.previous_purchase_day, ${s}.last_purchase_day) END AS last_gap,
       CASE WHEN ${s}.purchase_days >= 3 THEN date_diff('day', ${s}.first_purchase_day, ${s}.previous_purchase_day) / (${s}.purchase_days - 2) END AS prior_gap`;

/**
 * One row (`lifecycle_parameters`): the thresholds (bound values) and the
 * population's typical gap, the median of the repeat customers' own.
 */
export const LIFECYCLE_PARAMETERS_SQL = `
CREATE OR REPLACE TEMP TABLE lifecycle_parameters AS
SELECT coalesce(median(typical_gap), ${FALLBACK_GAP_DAYS})::DOUBLE AS population_gap,
       $lostRatio::DOUBLE AS lost_ratio, $lapsedRatio::DOUBLE AS lapsed_ratio, $atRiskRatio::DOUBLE AS at_risk_ratio,
       $loyalMinOrders::BIGINT AS loyal_min_orders, $lostPAlive::DOUBLE AS lost_p_alive, $atRiskPAlive::DOUBLE AS at_risk_p_alive
FROM (SELECT ${rhythmColumns('f')} FROM customer_features f)`;

/**
 * The lifecycle stage as a layer over the customers; `source` carries p_alive
 * when the CLV stage gave one (`withPAlive`).
 */
export const lifecycleLayerSql =
  (withPAlive: boolean) =>
  (source: string) => `
SELECT m.* EXCLUDE (overdue, last_gap, prior_gap_days, lifecycle_p_alive, lost_ratio, lapsed_ratio, at_risk_ratio, loyal_min_orders, lost_p_alive, at_risk_p_alive),
       CASE
         WHEN overdue > lost_ratio OR lifecycle_p_alive < lost_p_alive THEN ${stage('lost')}
         WHEN overdue > lapsed_ratio THEN ${stage('lapsed')}
         WHEN overdue > at_risk_ratio OR (coalesce(purchase_days, 0) >= 2 AND lifecycle_p_alive < at_risk_p_alive) THEN ${stage('at_risk')}
         WHEN coalesce(purchase_days, 0) <= 1 THEN ${stage('new')}
         WHEN last_gap > lapsed_ratio * prior_gap_days THEN ${stage('reactivated')}
         WHEN purchase_days >= loyal_min_orders THEN ${stage('loyal')}
         ELSE ${stage('active')}
       END AS lifecycle_stage
FROM (
  SELECT r.* EXCLUDE (typical_gap, prior_gap, population_gap),
         r.recency_days / greatest(coalesce(r.typical_gap, r.population_gap), 1) AS overdue,
         greatest(coalesce(r.prior_gap, r.population_gap), 1) AS prior_gap_days,
         ${withPAlive ? 'r.p_alive' : 'NULL::DOUBLE'} AS lifecycle_p_alive
  FROM (SELECT s.*, p.*, ${rhythmColumns('s')} FROM (${source}) s CROSS JOIN lifecycle_parameters p) r
) m`;

/** Customers per stage, for the run summary, from the finished table. */
export const STAGE_COUNTS_SQL = `SELECT CAST(lifecycle_stage AS VARCHAR) AS stage, count(*)::BIGINT AS customers FROM final_scores GROUP BY lifecycle_stage`;

/** stages.csv: every stage (also empty ones) with customers, revenue and their shares, from the finished table. */
export const STAGES_SQL = `
WITH stages(stage, position) AS (VALUES ${LIFECYCLE_STAGES.map((s, i) => `('${s}', ${i})`).join(', ')}),
per AS (SELECT CAST(lifecycle_stage AS VARCHAR) AS stage, count(*) AS customers, ${exactSum('revenue')} AS revenue FROM final_scores GROUP BY lifecycle_stage)
SELECT stages.stage,
       coalesce(per.customers, 0)::BIGINT AS customers,
       round(coalesce(per.customers, 0) / (SELECT count(*) FROM final_scores), 6)::DOUBLE AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT ${exactSum('revenue')} FROM final_scores), 0), 6)::DOUBLE AS revenue_share
FROM stages LEFT JOIN per USING (stage) ORDER BY stages.position`;
