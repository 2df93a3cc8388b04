import { randomBytes } from 'node:crypto';

/**
 * What the pipeline does to the outside world besides files: logging and
 * progress. Injected so tests run silent (after Observable Framework's
 * `build.ts` effects).
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface Effects {
  logger: Logger;
  /** Called when a stage starts; the returned function when it ends. */
  stage(name: string): () => void;
  now(): Date;
  /** The id on the run's log lines (newRunId), kept in summary.json as run.logId; one is made when not given. */
  logId?: string;
}

/**
 * An id for one run, known from its start (unlike the history's run number):
 * UTC start time to the second, readable and sortable in a log, plus 8 random
 * hex digits for runs started in the same second.
 */
export function newRunId(now: Date): string {
  const time = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${time}-${randomBytes(4).toString('hex')}`;
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
export const silentEffects: Effects = { logger: silentLogger, stage: () => noop, now: () => new Date() };
