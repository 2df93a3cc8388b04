import type { ScoreConfig } from '../../config/schema.js';
import type { Engine } from '../../engine/Engine.js';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../config/lists.js';
import { runStatements } from '../../engine/tables.js';
import { lifecycleLayerSql, lifecycleParametersSql, stageCountsSql } from './queries.js';
import type { Layer } from '../scored/queries.js';
import { TABLES_BY_STAGE, type StageContract, type TableName } from '../tables.js';

/** The lifecycle stage's tables (stages/tables.ts): its parameters in one row; the counts per stage are read back from the finished table. */
export const contract = {
  reads: ['customer_features', 'final_scores'],
  creates: TABLES_BY_STAGE.lifecycle,
} as const satisfies StageContract;

export interface LifecycleResult {
  counts: Record<LifecycleStage, number>;
  thresholds: ScoreConfig['lifecycle'];
  usedPAlive: boolean;
}

/**
 * The lifecycle stage: its parameters (thresholds and the population's
 * typical gap) in one pass over the customers, and the layer that assigns the
 * stage, given whether its source will carry the CLV stage's p_alive (the
 * P(alive) rules then apply; without it they never match).
 */
export async function assignLifecycle(
  engine: Engine,
  options: ScoreConfig['lifecycle'],
): Promise<{ thresholds: ScoreConfig['lifecycle']; layer: (withPAlive: boolean) => Layer }> {
  await runStatements(engine, lifecycleParametersSql(engine.dialect), {
    lostRatio: options.lostRatio,
    lapsedRatio: options.lapsedRatio,
    atRiskRatio: options.atRiskRatio,
    loyalMinOrders: options.loyalMinOrders,
    lostPAlive: options.lostPAlive,
    atRiskPAlive: options.atRiskPAlive,
  });
  return { thresholds: options, layer: lifecycleLayerSql(engine.dialect) };
}

/** Customers per stage (every stage listed), from the finished table (the scored stage's). */
export async function stageCounts(engine: Engine, scored: TableName): Promise<LifecycleResult['counts']> {
  const rows = await engine.all<{ stage: LifecycleStage; customers: number }>(stageCountsSql(scored));
  const counts = Object.fromEntries(LIFECYCLE_STAGES.map((s) => [s, 0])) as Record<LifecycleStage, number>;
  for (const row of rows) counts[row.stage] = row.customers;
  return counts;
}
