import type { QueryEngine, SqlParams } from './Engine.js';
import type { RecipeStatement } from './dialect.js';

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
