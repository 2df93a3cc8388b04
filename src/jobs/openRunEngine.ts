import { defaultMemoryLimit } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { openEngine } from '../engine/openEngine.js';
import type { Logger } from '../effects.js';

export interface RunEngineOptions {
  /** --engine: duckdb (default), postgres (the PG* variables) or a postgres:// URL. */
  engine?: string;
  /** PostgreSQL: the schema of crm's tables (default crm). */
  schema?: string;
  timezone?: string;
  threads?: number;
  memoryLimit?: string;
  tempDir?: string;
  log?: Logger;
}

/**
 * Runs `work` with the engine of one command, closed whatever happens: the
 * one place a command's engine is made, the one `--engine` names.
 * Every command's engine is bounded by the memory limit (the default one
 * unless given), so that one on a shared machine leaves room for Node and the others.
 */
export async function withRunEngine<T>(work: (engine: Engine) => Promise<T>, options: RunEngineOptions = {}): Promise<T> {
  const memoryLimit = options.memoryLimit ?? defaultMemoryLimit();
  const engine = await openEngine(options.engine, { timezone: options.timezone, threads: options.threads, memoryLimit, tempDir: options.tempDir, schema: options.schema });
  try {
    if (options.log) options.log.debug(await engine.describeSettings(), `${engine.name} engine opened`);
    return await work(engine);
  } finally {
    await engine.close();
  }
}
