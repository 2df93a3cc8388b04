import { defaultMemoryLimit } from '../config/schema.js';
import { DuckDbEngine } from '../engine/duckdb/DuckDbEngine.js';
import type { Engine } from '../engine/Engine.js';
import type { Logger } from '../pipeline/effects.js';

export interface RunEngineOptions {
  timezone?: string;
  threads?: number;
  memoryLimit?: string;
  tempDir?: string;
  log?: Logger;
}

/**
 * Runs `work` with the engine of one command, closed whatever happens: the
 * one place an engine is made (an engine spec, issue 14, plugs in here).
 * Every command's engine is bounded by the memory limit (the default one
 * unless given), so that one on a shared machine leaves room for Node and the others.
 */
export async function withRunEngine<T>(work: (engine: Engine) => Promise<T>, options: RunEngineOptions = {}): Promise<T> {
  const memoryLimit = options.memoryLimit ?? defaultMemoryLimit();
  const engine = await DuckDbEngine.create({ timezone: options.timezone, threads: options.threads, memoryLimit, tempDir: options.tempDir });
  try {
    if (options.log) options.log.debug(await engine.describeSettings(), `${engine.name} engine opened`);
    return await work(engine);
  } finally {
    await engine.close();
  }
}
