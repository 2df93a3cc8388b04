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
}

const noop = () => {};
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };
export const silentEffects: Effects = { logger: silentLogger, stage: () => noop, now: () => new Date() };
