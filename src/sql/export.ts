import type { Dialect } from '../engine/dialect.js';

/**
 * Mailing export over one run's scores (`customer_scores` of the run history, `$runId`).
 * Every filter value is a bound parameter; only column names fixed here and
 * the number of placeholders vary.
 */
export const ORDER_BY = {
  clv: 'clv DESC NULLS LAST',
  revenue: 'revenue DESC',
  p_alive: 'p_alive DESC NULLS LAST',
  recency_days: 'recency_days ASC',
} as const;
export type ExportOrder = keyof typeof ORDER_BY;

export const placeholders = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `$${prefix}${i}`).join(', ');

/**
 * "Slipping": R or F score fell since the previous run while M is in the top
 * 40% (score 4-5) or CLV is in the run's top 40%.
 */
export const SLIPPING_SQL = (h: string, d: Dialect) => `
s.customer_id IN (
  SELECT cur.customer_id
  FROM ${h}.customer_scores cur
  JOIN ${h}.customer_scores prev ON prev.customer_id = cur.customer_id AND prev.run_id = $previousRun
  WHERE cur.run_id = $runId
    AND (cur.r_score < prev.r_score OR cur.f_score < prev.f_score)
    AND (cur.m_score >= 4 OR cur.clv >= (SELECT ${d.sql.percentile('clv', 0.6)} FROM ${h}.customer_scores WHERE run_id = $runId))
)`;

export const EXPORT_COLUMNS = [
  'rfm_segment', 'rfm_cell', 'r_score', 'f_score', 'm_score', 'lifecycle_stage', 'cluster', 'cluster_label',
  'clv', 'p_alive', 'expected_purchases', 'revenue', 'orders', 'recency_days', 'last_purchase', 'previous_segment', 'segment_changed_at',
] as const;
