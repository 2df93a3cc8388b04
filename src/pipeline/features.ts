import type { Engine } from '../engine/Engine.js';
import { CUSTOMER_FEATURES_SQL, OCCASIONS_SQL, ROW_COUNTS_SQL } from '../sql/features.js';

export interface FeaturesResult {
  asOf: string;
  rowsExcluded: number;
  customers: number;
}

/** The as-of date defaults to the latest transaction date. */
export async function resolveAsOf(engine: Engine, asOf: string | undefined): Promise<string> {
  if (asOf) return asOf;
  const row = await engine.one<{ as_of: string }>(`SELECT strftime(max(order_date), '%Y-%m-%d') AS as_of FROM transactions`);
  return row!.as_of;
}

export async function computeFeatures(engine: Engine, asOf: string): Promise<FeaturesResult> {
  await engine.run(OCCASIONS_SQL, { asOf });
  await engine.run(CUSTOMER_FEATURES_SQL, { asOf });
  const counts = await engine.one<{ excluded: number; customers: number }>(ROW_COUNTS_SQL, { asOf });
  return { asOf, rowsExcluded: counts!.excluded, customers: counts!.customers };
}
