import type { Engine } from '../engine/Engine.js';
import { customerFeaturesSql, LATEST_DATE_SQL, dropOccasionsSql, occasionsSql, ROW_COUNTS_SQL, RUN_PARAMETERS_SQL, type DaySummaryNeeds } from '../sql/features.js';
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
  await engine.run(occasionsSql(loaded.hasOrderIds, loaded.singleSource), occasionsAreView(loaded) ? undefined : { asOf });
  await engine.run(customerFeaturesSql(!loaded.hasOrderIds, needs), { asOf });
  const counts = (await engine.one<{ excluded: number; customers: number }>(ROW_COUNTS_SQL, { asOf }))!;
  return { asOf, rowsExcluded: counts.excluded, customers: counts.customers };
}

/** With one source and no order ids, customer_days has one row per occasion already, and occasions is a view of it (sql/features.ts). */
const occasionsAreView = (loaded: Pick<LoadResult, 'hasOrderIds' | 'singleSource'>) => !loaded.hasOrderIds && loaded.singleSource;

/** Drops the occasions, for a job that needs no per-occasion rows any more. */
export async function dropOccasions(engine: Engine, loaded: Pick<LoadResult, 'hasOrderIds' | 'singleSource'>): Promise<void> {
  await engine.run(dropOccasionsSql(occasionsAreView(loaded)));
}
