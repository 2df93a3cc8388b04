import type { Engine } from '../../engine/Engine.js';
import { InputError } from '../../errors.js';
import { runStatements } from '../../engine/tables.js';
import { customerFeaturesSql, LATEST_DATE_SQL, dropOccasionsSql, occasionsSql, ROW_COUNTS_SQL, runParametersSql, type DaySummaryNeeds } from './queries.js';
import type { Ingested } from '../../engine/Engine.js';
import { TABLES_BY_STAGE, type StageContract } from '../tables.js';

export interface FeaturesResult {
  asOf: string;
  rowsExcluded: number;
  customers: number;
}

/** The as-of date defaults to the latest transaction date on or before the day of the run (`runDay`, the load's). */
export async function resolveAsOf(engine: Engine, asOf: string | undefined, runDay: string): Promise<string> {
  if (asOf) return asOf;
  const latest = (await engine.one<{ as_of: string | null }>(LATEST_DATE_SQL, { runDay }))!.as_of;
  if (latest === null) throw new InputError('every accepted row is dated the day after the day of the run: give the as-of date');
  return latest;
}

/**
 * customer_features as of `asOf`, computed in `buckets` passes over the
 * customer-days, each for the customers of one bucket (DESIGN §7): an
 * engine's per-customer aggregate of many rows needs memory in proportion to
 * them, a bucket's a share. The rows and their values are the same for any
 * number of buckets.
 */
export async function computeFeatures(
  engine: Engine,
  asOf: string,
  loaded: Pick<Ingested, 'hasOrderIds' | 'singleSource'>,
  needs: DaySummaryNeeds,
  buckets = 1,
): Promise<FeaturesResult> {
  await runStatements(engine, runParametersSql(engine.dialect), { asOf });
  const split = buckets > 1 ? await engine.customerDayParts(buckets) : null;
  try {
    const parts = split?.parts.length ? split.parts.map((days, i) => ({ days, first: i === 0 })) : [undefined];
    for (const part of parts) {
      await runStatements(engine, occasionsSql(engine.dialect, loaded.hasOrderIds, loaded.singleSource, part), occasionsAreView(loaded) ? undefined : { asOf });
      await runStatements(engine, customerFeaturesSql(engine.dialect, !loaded.hasOrderIds, needs, part), { asOf });
    }
  } finally {
    await split?.release();
  }
  const counts = (await engine.one<{ excluded: number; customers: number }>(ROW_COUNTS_SQL, { asOf }))!;
  return { asOf, rowsExcluded: counts.excluded, customers: counts.customers };
}

/**
 * How many buckets of customers computeFeatures runs in: the user's
 * --customer-buckets, else what the engine's memory needs for the rows read.
 */
export function featureBuckets(engine: Engine, chosen: number | undefined, loaded: Pick<Ingested, 'counts'>): number {
  return chosen ?? engine.customerBuckets(loaded.counts.accepted);
}

/** With one source and no order ids, customer_days has one row per occasion already, and occasions is a view of it (queries.ts). */
const occasionsAreView = (loaded: Pick<Ingested, 'hasOrderIds' | 'singleSource'>) => !loaded.hasOrderIds && loaded.singleSource;

/** Drops the occasions, for a job that needs no per-occasion rows any more. */
export async function dropOccasions(engine: Engine, loaded: Pick<Ingested, 'hasOrderIds' | 'singleSource'>): Promise<void> {
  await engine.run(dropOccasionsSql(occasionsAreView(loaded)));
}

/** The features stage's tables (stages/tables.ts): the load's customer days in, one row per customer out. */
export const contract = {
  reads: ['customer_days'],
  creates: TABLES_BY_STAGE.features,
} as const satisfies StageContract;
