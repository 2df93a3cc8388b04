import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { LIFECYCLE_PARAMETERS_SQL, LIFECYCLE_STAGES, lifecycleLayerSql, STAGE_COUNTS_SQL, type LifecycleStage } from '../sql/lifecycle.js';
import type { Layer } from '../sql/scored.js';

export interface LifecycleResult {
  counts: Record<LifecycleStage, number>;
  thresholds: ScoreConfig['lifecycle'];
  usedPAlive: boolean;
}

/**
 * The lifecycle stage: its parameters (thresholds and the population's
 * typical gap) in one pass over the customers, and the layer that assigns the
 * stage. `withPAlive`: the layer's source will carry the CLV stage's p_alive.
 */
export async function assignLifecycle(
  engine: Engine,
  options: ScoreConfig['lifecycle'],
  withPAlive: boolean,
): Promise<{ result: Omit<LifecycleResult, 'counts'>; layer: Layer }> {
  await engine.run(LIFECYCLE_PARAMETERS_SQL, {
    lostRatio: options.lostRatio,
    lapsedRatio: options.lapsedRatio,
    atRiskRatio: options.atRiskRatio,
    loyalMinOrders: options.loyalMinOrders,
    ...(withPAlive ? { lostPAlive: options.lostPAlive, atRiskPAlive: options.atRiskPAlive } : { lostPAlive: -1, atRiskPAlive: -1 }),
  });
  return { result: { thresholds: options, usedPAlive: withPAlive }, layer: lifecycleLayerSql(withPAlive) };
}

/** Customers per stage (every stage listed), from the finished table. */
export async function stageCounts(engine: Engine): Promise<LifecycleResult['counts']> {
  const rows = await engine.all<{ stage: LifecycleStage; customers: number }>(STAGE_COUNTS_SQL);
  const counts = Object.fromEntries(LIFECYCLE_STAGES.map((s) => [s, 0])) as Record<LifecycleStage, number>;
  for (const row of rows) counts[row.stage] = row.customers;
  return counts;
}
