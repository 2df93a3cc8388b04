import type { Dialect } from '../../engine/dialect.js';
import { labelConstant } from '../scored/queries.js';
import { exactSum } from '../sums.js';
import type { TableName } from '../tables.js';

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

/** Whole days between two purchase days of `s` (columns of customer_features), as a double so that a mean of them is not cut to a whole number. */
const gapDays = (d: Dialect, from: string, to: string) => `CAST(${d.daysBetween(from, to)} AS ${d.sql.double})`;

/** Each customer's rhythm, from the purchase-day summary (columns of customer_features `s`). */
const rhythm = (d: Dialect, s: string) => ({
  typicalGap: `CASE WHEN ${s}.purchase_days >= 2 THEN ${gapDays(d, `${s}.first_purchase_day`, `${s}.last_purchase_day`)} / (${s}.purchase_days - 1) END`,
  lastGap: `CASE WHEN ${s}.purchase_days >= 2 THEN ${d.daysBetween(`${s}.previous_purchase_day`, `${s}.last_purchase_day`)} END`,
  priorGap: `CASE WHEN ${s}.purchase_days >= 3 THEN ${gapDays(d, `${s}.first_purchase_day`, `${s}.previous_purchase_day`)} / (${s}.purchase_days - 2) END`,
});

/**
 * One row (`lifecycle_parameters`): the thresholds (bound values) and the
 * population's typical gap, the median of the repeat customers' own.
 */
export const lifecycleParametersSql = (d: Dialect) => {
  const double = d.sql.double;
  return d.createTempTableAs(
    'lifecycle_parameters',
    `
SELECT coalesce(${d.sql.median('typical_gap')}, ${FALLBACK_GAP_DAYS})::${double} AS population_gap,
       $lostRatio::${double} AS lost_ratio, $lapsedRatio::${double} AS lapsed_ratio, $atRiskRatio::${double} AS at_risk_ratio,
       $loyalMinOrders::BIGINT AS loyal_min_orders, $lostPAlive::${double} AS lost_p_alive, $atRiskPAlive::${double} AS at_risk_p_alive
FROM (SELECT ${rhythm(d, 'f').typicalGap} AS typical_gap FROM customer_features f) gaps`,
  );
};

/**
 * The lifecycle stage as a layer over the customers: the source's columns and
 * lifecycle_stage. `source` carries p_alive when the CLV stage gave one
 * (`withPAlive`). The rhythm's expressions are written out where the rules use
 * them, so the layer adds one column and drops none.
 */
export const lifecycleLayerSql =
  (d: Dialect) =>
  (withPAlive: boolean) =>
  (source: string) => {
    const r = rhythm(d, 's');
    const overdue = `(s.recency_days / greatest(coalesce(${r.typicalGap}, p.population_gap), 1))`;
    const priorGapDays = `greatest(coalesce(${r.priorGap}, p.population_gap), 1)`;
    const pAlive = withPAlive ? 's.p_alive' : `CAST(NULL AS ${d.sql.double})`;
    return `
SELECT s.*,
       CASE
         WHEN ${overdue} > p.lost_ratio OR ${pAlive} < p.lost_p_alive THEN ${stage('lost')}
         WHEN ${overdue} > p.lapsed_ratio THEN ${stage('lapsed')}
         WHEN ${overdue} > p.at_risk_ratio OR (coalesce(s.purchase_days, 0) >= 2 AND ${pAlive} < p.at_risk_p_alive) THEN ${stage('at_risk')}
         WHEN coalesce(s.purchase_days, 0) <= 1 THEN ${stage('new')}
         WHEN ${r.lastGap} > p.lapsed_ratio * ${priorGapDays} THEN ${stage('reactivated')}
         WHEN s.purchase_days >= p.loyal_min_orders THEN ${stage('loyal')}
         ELSE ${stage('active')}
       END AS lifecycle_stage
FROM (${source}) s CROSS JOIN lifecycle_parameters p`;
  };

/** Customers per stage, for the run summary, from the finished table. */
export const stageCountsSql = (scored: TableName) => `SELECT CAST(lifecycle_stage AS VARCHAR) AS stage, count(*)::BIGINT AS customers FROM ${scored} GROUP BY lifecycle_stage`;

/** stages.csv: every stage (also empty ones) with customers, revenue and their shares, from the finished table. */
export const stagesSql = (d: Dialect) => `
WITH stages(stage, position) AS (VALUES ${LIFECYCLE_STAGES.map((s, i) => `('${s}', ${i})`).join(', ')}),
per AS (SELECT CAST(lifecycle_stage AS VARCHAR) AS stage, count(*) AS customers, ${exactSum('revenue')} AS revenue FROM final_scores GROUP BY lifecycle_stage)
SELECT stages.stage,
       coalesce(per.customers, 0)::BIGINT AS customers,
       ${d.sql.roundDouble('CAST(coalesce(per.customers, 0) AS DOUBLE PRECISION) / (SELECT count(*) FROM final_scores)', 6)}::DOUBLE PRECISION AS customer_share,
       coalesce(per.revenue, 0)::DOUBLE PRECISION AS revenue,
       round(coalesce(per.revenue, 0) / nullif((SELECT ${exactSum('revenue')} FROM final_scores), 0), 6)::DOUBLE PRECISION AS revenue_share
FROM stages LEFT JOIN per USING (stage) ORDER BY stages.position`;
