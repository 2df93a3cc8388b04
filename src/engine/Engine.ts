import type { ScoreConfig } from '../config/schema.js';
import type { Dialect, EngineCapabilities } from './dialect.js';

/** A value bound to a `?` placeholder. Values never get spliced into SQL text. */
export type SqlValue = string | number | bigint | boolean | null;
/** Positional (`?`, `$1`) or named (`$name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** A numeric column pulled out of the engine, for the maths in `src/models`. */
export type NumericColumns<K extends string> = Record<K, Float64Array>;

/** How input files are read: the reading options of crm score, its --threads, and the run's clock (`now`). */
export type IngestOptions = Pick<ScoreConfig, 'columns' | 'delimiter' | 'header' | 'dateFormat' | 'decimalSeparator' | 'threads'> & { now?: Date };

/**
 * What an ingest leaves in the engine: `customerDays` (customer_id,
 * order_date, order_id, amount, rows) of the accepted rows and `rejects`
 * (source, line, reason, customer_id, order_date, amount, raw_line), with
 * counts that reconcile (read = accepted + rejected).
 */
export interface Ingested {
  customerDays: string;
  rejects: string;
  counts: { read: number; accepted: number; rejected: number };
  files: string[];
  /** Whether any file mapped an order id column (else an order is a customer-day). */
  hasOrderIds: boolean;
  /** One file: customer_days has one row per customer and day already (without order ids). */
  singleSource: boolean;
  /** The per-file tables behind customer_days. */
  dayTables: string[];
}

/** Rejected rows per reason (most first), and hints for the refusals a setting fixes (a decimal comma, day/month dates). */
export interface RejectReasons {
  reasons: { reason: string; rows: number }[];
  hints: string[];
}

/**
 * The query verbs every engine has (the engine contract suite runs them on
 * each): SQL in, rows or typed columns out, typed arrays in.
 */
export interface QueryEngine {
  /** The engine's name in a user's words, e.g. "DuckDB". */
  readonly name: string;
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

/**
 * What the jobs need from an engine: the query verbs, and the run's own
 * (reading the inputs, the history database, settings). DuckDB has them all;
 * the PostgreSQL engine has the query verbs so far (the second half of the
 * redesign, the portable stage SQL, brings the rest).
 */
export interface Engine extends QueryEngine {
  /** Reads the inputs (globs expanded) into customer-day rows and rejects: the ingest contract. */
  ingest(inputs: readonly string[], options: IngestOptions): Promise<Ingested>;
  /** The files `inputs` name, globs expanded (sorted), each checked to exist. */
  expandInputs(inputs: readonly string[]): Promise<string[]>;
  /** Makes `now` the run's day in the engine's time zone (future-date rejects, the default as-of); returns it as YYYY-MM-DD. */
  setRunDay(now: Date): Promise<string>;
  /** Why the ingest's rejected rows were refused. */
  rejectReasons(options: Pick<IngestOptions, 'decimalSeparator' | 'dateFormat'>): Promise<RejectReasons>;
  /** Frees an ingest's customer-day rows, once nothing reads them any more. */
  dropCustomerDays(ingested: Pick<Ingested, 'dayTables'>): Promise<void>;
  /**
   * Attaches the database file `file` as `alias`. A file another process
   * holds fails with DatabaseInUseError (errors.ts), for the caller to wait
   * on; one that is not a database, with an InputError that says so.
   */
  attachDatabase(file: string, alias: string, options?: { readOnly?: boolean }): Promise<void>;
  detachDatabase(alias: string): Promise<void>;
  /** Writes what the attached database `alias` holds in its log into its file: a full disk fails here, not later. */
  checkpoint(alias: string): Promise<void>;
  /**
   * Rewrites the attached run history (file `file`) when much of it is free
   * space (pruned scores), replacing the file; returns its sizes before and
   * after, or null when it was not worth it. `prunedRuns`: how many runs'
   * scores the run just published pruned (markPublished).
   */
  compactHistory(file: string, options?: { prunedRuns?: number }): Promise<{ before: number; after: number } | null>;
  /** From here on, tables are read in the order they were written (the outputs of a run). */
  keepRowOrder(): Promise<void>;
  /**
   * Reads a side file of an export (contacts, a suppression list: CSV with
   * every value as text, Parquet, NDJSON) into table `table`; returns its
   * columns. `header: false` reads a CSV file's first line as a row.
   */
  loadSideFile(table: string, file: string, options?: { header?: boolean }): Promise<string[]>;
  /** The columns of table `table` that hold text. */
  textColumns(table: string): Promise<string[]>;
  /** The limits the engine really runs with, read back from it, for a debug log line. */
  describeSettings(): Promise<Record<string, unknown>>;
}
