import type { QueryEngine, SqlParams } from './Engine.js';

/**
 * Runs a dialect's statements for one step (e.g. createTempTableAs: a DROP,
 * then the CREATE); only the last takes the parameters, as a statement with
 * parameters must stand alone on PostgreSQL.
 */
export async function runStatements(engine: QueryEngine, statements: readonly string[], params?: SqlParams): Promise<void> {
  for (const [i, statement] of statements.entries()) await engine.run(statement, i === statements.length - 1 ? params : undefined);
}
