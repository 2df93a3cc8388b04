import type { Dialect, EngineCapabilities } from './dialect.js';

/** A value bound to a `?` placeholder. Values never get spliced into SQL text. */
export type SqlValue = string | number | bigint | boolean | null;
/** Positional (`?`, `$1`) or named (`$name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** A numeric column pulled out of the engine, for the maths in `src/models`. */
export type NumericColumns<K extends string> = Record<K, Float64Array>;

/**
 * What the pipeline needs from a SQL engine. DuckDB is the only one today; a
 * PostgreSQL/Citus engine is a new folder beside `duckdb/`, not a rewrite.
 */
export interface Engine {
  readonly dialect: Dialect;
  /** What the engine can do (dialect.ts); absent means the embedded engine's, EMBEDDED_CAPABILITIES. */
  readonly capabilities?: EngineCapabilities;
  /**
   * A private folder for this run's scratch files (the engine's spill folder):
   * removed on close, and by the next run if this one is killed.
   */
  readonly scratchFolder: string;
  /** Runs one or more statements for their effect. */
  run(sql: string, params?: SqlParams): Promise<void>;
  /** Runs a query and returns its rows as plain JS objects (BIGINT as number when safe). */
  all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]>;
  /** First row, or undefined. */
  one<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** Runs a query and returns the named numeric columns as typed arrays (NULL → NaN). */
  numericColumns<K extends string>(sql: string, names: readonly K[], params?: SqlParams): Promise<NumericColumns<K>>;
  /** Loads typed arrays into a new table (`CREATE OR REPLACE`), one DOUBLE column per key. */
  loadColumns(table: string, columns: Record<string, ArrayLike<number>>): Promise<void>;
  /** Streams a query's rows in chunks of columns (used by the Arrow writer). */
  streamColumns(sql: string, params?: SqlParams): AsyncIterable<{ names: string[]; columns: unknown[][] }>;
  close(): Promise<void>;
}
