import type { Dialect } from '../engine/dialect.js';
import { SCORED_COLUMNS } from '../stages/scored/queries.js';

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

/**
 * Every scored column an export can write (DESIGN §2's contract, as the
 * history keeps it: not the output-only clv_low, clv_high), in the contract's order.
 */
export const SCORE_COLUMNS: readonly string[] = SCORED_COLUMNS.filter((c) => !c.outputOnly && c.name !== 'customer_id').map((c) => c.name);

/**
 * The score columns of an export without --columns: what a mailing tool can
 * segment or personalise on (who they are to us, what they are worth, when
 * they last bought), not the model's inputs. `--columns all` gives every one.
 */
export const DEFAULT_SCORE_COLUMNS = ['rfm_segment', 'lifecycle_stage', 'clv', 'p_alive', 'orders', 'revenue', 'last_purchase'] as const;
