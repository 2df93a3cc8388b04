import type { CustomerDayParts, QueryEngine, SqlParams } from './Engine.js';
import type { Dialect, RecipeStatement } from './dialect.js';

/**
 * Runs a dialect's statements for one step (e.g. createTempTableAs: a DROP,
 * then the CREATE); those that run the step's query take its parameters
 * (BoundStatement), the others none, as a statement with parameters must
 * stand alone on PostgreSQL.
 */
export async function runStatements(engine: QueryEngine, statements: readonly RecipeStatement[], params?: SqlParams): Promise<void> {
  for (const statement of statements) {
    if (typeof statement === 'string') await engine.run(statement);
    else await engine.run(statement.sql, params);
  }
}

/**
 * Parts of the customer days as filters of the one table, by the dialect's
 * customerBucket: for an engine that reads a part's rows at no more cost
 * than finding them (PostgreSQL spills its aggregate; Citus spreads it).
 */
export function customerDayFilters(d: Dialect, buckets: number): CustomerDayParts {
  const parts = Array.from({ length: buckets }, (_, i) => `(SELECT * FROM customer_days WHERE ${d.customerBucket('customer_id', buckets)} = ${i}) customer_days`);
  return { parts, release: async () => {} };
}
