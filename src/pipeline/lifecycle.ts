import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { LIFECYCLE_STAGES, lifecycleSql, STAGE_COUNTS_SQL, type LifecycleStage } from '../sql/lifecycle.js';


export interface LifecycleResult {
  counts: Record<LifecycleStage, number>;
  thresholds: ScoreConfig['lifecycle'];
  usedPAlive: boolean;
}

export async function assignLifecycle(engine: Engine, options: ScoreConfig['lifecycle'], withPAlive: boolean): Promise<LifecycleResult> {
  await engine.run(lifecycleSql(withPAlive), {
    lostRatio: options.lostRatio,
    lapsedRatio: options.lapsedRatio,
    atRiskRatio: options.atRiskRatio,
    loyalMinOrders: options.loyalMinOrders,
    ...(withPAlive ? { lostPAlive: options.lostPAlive, atRiskPAlive: options.atRiskPAlive } : { lostPAlive: -1, atRiskPAlive: -1 }),
  });
  const rows = await engine.all<{ stage: LifecycleStage; customers: number }>(STAGE_COUNTS_SQL);
  const counts = Object.fromEntries(LIFECYCLE_STAGES.map((s) => [s, 0])) as Record<LifecycleStage, number>;
  for (const row of rows) counts[row.stage] = row.customers;
  return { counts, thresholds: options, usedPAlive: withPAlive };
}
