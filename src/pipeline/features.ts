import type { Engine } from '../engine/Engine.js';
import { customerFeaturesSql, LATEST_DATE_SQL, occasionsSql, ROW_COUNTS_SQL, RUN_PARAMETERS_SQL, type DaySummaryNeeds } from '../sql/features.js';
import type { LoadResult } from './load.js';

export interface FeaturesResult {
  asOf: string;
  rowsExcluded: number;
  customers: number;
}

/** The as-of date defaults to the latest transaction date. */
export async function resolveAsOf(engine: Engine, asOf: string | undefined): Promise<string> {
  if (asOf) return asOf;
  return (await engine.one<{ as_of: string }>(LATEST_DATE_SQL))!.as_of;
}

export async function computeFeatures(
  engine: Engine,
  asOf: string,
  loaded: Pick<LoadResult, 'hasOrderIds' | 'singleSource'>,
  needs: DaySummaryNeeds,
): Promise<FeaturesResult> {
  await engine.run(RUN_PARAMETERS_SQL, { asOf });
  const daily = !loaded.hasOrderIds && loaded.singleSource;
  await engine.run(occasionsSql(loaded.hasOrderIds, loaded.singleSource), daily ? undefined : { asOf });
  await engine.run(customerFeaturesSql(!loaded.hasOrderIds, needs), { asOf });
  const counts = (await engine.one<{ excluded: number; customers: number }>(ROW_COUNTS_SQL, { asOf }))!;
  return { asOf, rowsExcluded: counts.excluded, customers: counts.customers };
}
