import type { ScoreConfig } from '../config/schema.js';
import type { Dialect, EngineCapabilities } from './dialect.js';

/** A value bound to a `?` placeholder. Values never get spliced into SQL text. */
export type SqlValue = string | number | bigint | boolean | null;
/** Positional (`?`, `$1`) or named (`$name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** A numeric column pulled out of the engine, for the maths in `src/models`. */
export type NumericColumns<K extends string> = Record<K, Float64Array>;

/** The formats an output table is written in. */
export type TableFormat = 'parquet' | 'csv' | 'json' | 'arrow';

export interface WriteOptions {
  /** CSV records end in CRLF, as RFC 4180 has it (for files handed to mailing tools); LF otherwise. */
  crlf?: boolean;
  /**
   * The file's type of a column, by name, where the engine's own could differ
   * (a score is DuckDB's TINYINT, PostgreSQL's SMALLINT): types as in
   * SCORED_COLUMNS, so that Parquet and Arrow files are alike on every engine.
   */
  types?: Readonly<Record<string, string>>;
}

/** How input files are read: the reading options of crm score, its --threads, and the run's clock (`now`). */
export type IngestOptions = Pick<ScoreConfig, 'columns' | 'delimiter' | 'header' | 'dateFormat' | 'decimalSeparator' | 'threads' | 'sourceTable'> & { now?: Date };

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
  /** The day of the run the rows were checked against (YYYY-MM-DD): rows after it are never the default as-of. */
  runDay: string;
}

/**
 * Parts of the customer days: each a FROM item named customer_days, with its
 * columns (customer_id, order_date, order_id, amount, rows); a part without
 * rows may be left out. `release` frees what the parts hold.
 */
export interface CustomerDayParts {
  parts: readonly string[];
  release(): Promise<void>;
}

/** Rejected rows per reason (most first), and hints for the refusals a setting fixes (a decimal comma, day/month dates). */
export interface RejectReasons {
  reasons: { reason: string; rows: number }[];
  hints: string[];
}

/**
 * What an engine has handed the client so far: rows of results read, and the
 * bytes of their values as received (PostgreSQL's text); an embedded engine
 * counts the rows that cross into JS, and no bytes (nothing crosses a wire).
 * The difference of two snapshots is what happened between them.
 */
export interface Pulled {
  rows: number;
  bytes: number;
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
  /** Rows and bytes read from the engine since it opened (a snapshot; see Pulled). */
  pulled(): Pulled;
  close(): Promise<void>;
}

/**
 * The run history as an engine keeps it (HistoryVerbs.openHistory): how SQL
 * names its tables, as data, so that the history SQL (src/stages/history/queries.ts) is
 * written once. DuckDB: the database file attached as `history`; PostgreSQL:
 * the tables of the engine's schema (`--schema`), quoted.
 */
export interface RunHistory {
  /** What qualifies the history's tables in SQL: `history.runs`, `"crm".runs`. */
  readonly qualifier: string;
  /** Where it is, in a user's words (the database file; the schema and server, without the password). */
  readonly where: string;
  /**
   * The folder a pending run's output folder is recorded relative to, so that
   * a database file and its outputs can move together; null where the history
   * is not a file (PostgreSQL): the folder is recorded as an absolute path.
   */
  readonly folder: string | null;
  readonly readOnly: boolean;
}

/** How a history table is placed on a distributed engine: `scores` per customer (distributed by customer_id), the others small. */
export type HistoryPlacement = 'per-customer' | 'small';

/**
 * The history's tables as the stage that owns them has them
 * (src/stages/history/queries.ts), handed to openHistory for what an engine
 * does to them on its own: DuckDB moves a database of its layout from before
 * label ids to this one, and counts the runs whose scores are kept to decide
 * whether its file is worth rewriting. SQL is given as functions of the
 * history's qualifier and the engine's dialect, so the engine writes none of
 * the stage's tables itself.
 */
export interface HistoryLayout {
  /** CREATE TABLE IF NOT EXISTS of `labels` (label_id, label). */
  labelsTable(h: string, d: Dialect): string;
  /** CREATE TABLE IF NOT EXISTS of `scores`: run_id, then scoreColumns. */
  scoresTable(h: string, d: Dialect): string;
  /** The columns of `scores` after run_id, in order; a `label` column holds the id of its text in `labels`. */
  scoreColumns: readonly { name: string; label?: boolean }[];
  /** A query of one row whose `kept` is how many runs have their scores kept. */
  overview(h: string, d: Dialect): string;
}

/**
 * The verbs of an engine that keeps the run history. One history is open at a
 * time; for writing, by one process at a time (DuckDB: the file's lock;
 * PostgreSQL: an advisory lock per schema): another that holds it fails
 * openHistory with DatabaseInUseError (errors.ts), for the caller to wait on.
 */
export interface HistoryVerbs {
  /**
   * Opens the run history. DuckDB attaches the database file `db` (its folder
   * made first; a database of the old layout moved to the current one when
   * opened for writing; a file that is not a database is an InputError);
   * PostgreSQL takes the engine's schema (`db` is not used). `layout`: the
   * history's tables, as the history stage has them.
   */
  openHistory(options: { db?: string | null; readOnly?: boolean; layout: HistoryLayout }): Promise<RunHistory>;
  /** Lets go of the open history (and its lock). */
  closeHistory(): Promise<void>;
  /** Whether the open history has a table or view `name`. */
  historyHas(name: string): Promise<boolean>;
  /** Places history table `name`, just made and empty: distributed or replicated on a distributed engine; nothing elsewhere. */
  placeHistoryTable(name: string, placement: HistoryPlacement): Promise<void>;
  /** What the open history takes on disk, in bytes. */
  historyBytes(): Promise<number>;
  /** Makes what the open history holds durable now (DuckDB: from its log into its file, so a full disk fails here); a no-op where a commit already is. */
  saveHistory(): Promise<void>;
  /**
   * Gives back the space of pruned scores when much of the history is free
   * (DuckDB rewrites the file); returns its sizes before and after, or null
   * when it was not worth it or the engine does that itself (PostgreSQL's vacuum).
   * `prunedRuns`: how many runs' scores the run just published pruned (markPublished).
   */
  compactHistory(options?: { prunedRuns?: number }): Promise<{ before: number; after: number } | null>;
}

/**
 * What the jobs need from an engine: the query verbs, and the run's own
 * (reading the inputs, the history database, settings). DuckDB has them all;
 * the PostgreSQL engine has the query verbs so far (the second half of the
 * redesign, the portable stage SQL, brings the rest).
 */
export interface Engine extends QueryEngine, HistoryVerbs {
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
   * In how many buckets of customers a per-customer stage over
   * `customerDayRows` rows runs (computeFeatures), for the engine's memory:
   * 1 where the engine spreads or spills the work itself.
   */
  customerBuckets(customerDayRows: number): number;
  /**
   * The customer days split into `buckets` parts by customer (every row of a
   * customer in the same part), for a stage run bucket by bucket.
   */
  customerDayParts(buckets: number): Promise<CustomerDayParts>;
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
  /**
   * Writes a query's result to `file` on this machine, in `format`: every
   * engine's files are written by the same DuckDB writers, so their bytes match.
   */
  writeQuery(query: string, format: TableFormat, file: string, options?: WriteOptions): Promise<void>;
  /** The limits the engine really runs with, read back from it, for a debug log line. */
  describeSettings(): Promise<Record<string, unknown>>;
}
