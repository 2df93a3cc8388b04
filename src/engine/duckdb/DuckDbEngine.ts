import { DOUBLE, DuckDBDataChunk, DuckDBDoubleVector, DuckDBInstance, JSDuckDBValueConverter, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { CrmError, DatabaseInUseError, InputError, OutOfMemoryError } from '../../errors.js';
import { sizeInBytes } from '../../config/schema.js';
import { ownerOnThisMachine, removeLeftByDeadProcesses, thisMachine } from '../../io/leftovers.js';
import { onInterrupt } from '../../io/interrupt.js';
import type { CustomerDayParts, Engine, HistoryLayout, HistoryPlacement, IngestOptions, Ingested, NumericColumns, Pulled, RejectReasons, RunHistory, SqlParams, TableFormat, WriteOptions } from '../Engine.js';
import { duckdbDialect } from './dialect.js';
import { historyHas, HISTORY_ALIAS, openHistoryFile } from './historyFile.js';
import { giveBackPrunedSpace, removeAbandonedRewrites } from './historySpace.js';
import { dropCustomerDays, expandInputs, ingest, rejectReasons, setRunDay } from './ingest/ingest.js';
import { readerKindOf } from './ingest/readFiles.js';
import { writeDuckDbQuery } from './writers.js';

export interface DuckDbEngineOptions {
  /** Database file; ':memory:' (default) for a scratch engine. */
  path?: string;
  threads?: number;
  /** DuckDB's memory_limit, e.g. '3GB' (default: DuckDB's own, 80% of RAM). */
  memoryLimit?: string;
  /** The folder the spill folder goes in (default: the system's temporary folder, TMPDIR). */
  tempDir?: string;
  timezone?: string;
}

/**
 * Where DuckDB spills when a query needs more memory than it may use. Its
 * default for an in-memory database is `.tmp` in the working directory: a
 * nightly job started from `/` or a read-only folder would fail the first
 * time it spilled, and any other would leave `.tmp` behind. A fresh folder
 * under the system's temporary directory (TMPDIR) instead, removed on close.
 *
 * A run that is killed (SIGKILL, the out-of-memory killer) cannot remove it,
 * and it may hold gigabytes of spilled blocks: the folder is named after the
 * machine and the process, and the next engine on this machine removes the
 * folders of processes that are gone. The machine's name is in it because
 * containers sharing a temporary directory see each other's process ids as dead.
 */
const removeAbandonedSpillFolders = (dir: string) => removeLeftByDeadProcesses(dir, ownerOnThisMachine('crm-duckdb'));

/** Why a folder cannot be made there, in a user's words: the causes that pointing TMPDIR elsewhere fixes. */
const UNUSABLE_FOLDER: Record<string, string> = {
  ENOENT: 'it does not exist',
  ENOTDIR: 'it is not a folder',
  EACCES: 'it is not writable',
  EPERM: 'it is not writable',
  EROFS: 'it is on a read-only file system',
};

/**
 * The spill folder, in --temp-dir or else the system's temporary folder. A
 * folder that cannot hold it (gone, a file, read-only) is said in those words
 * before any data is read, not as Node's mkdtemp error: a usage error
 * (exit 2), since the run's setting is what needs changing; any other failure
 * (a full disk) fails the run (exit 1).
 */
async function spillDirectory(tempDir: string | undefined): Promise<string> {
  // Absolute: DuckDB and the signal handler then find it whatever the working directory.
  const dir = tempDir === undefined ? tmpdir() : path.resolve(tempDir);
  try {
    return await mkdtemp(path.join(dir, `crm-duckdb-${thisMachine()}-${process.pid}-`));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const message =
      tempDir === undefined
        ? `cannot make DuckDB's spill folder in the temporary folder ${dir} (TMPDIR): ${UNUSABLE_FOLDER[code] ?? code}; set TMPDIR (or --temp-dir) to a folder crm can write to`
        : `--temp-dir ${dir}: cannot make DuckDB's spill folder there: ${UNUSABLE_FOLDER[code] ?? code}; give a folder crm can write to`;
    throw new CrmError(message, code in UNUSABLE_FOLDER ? 2 : 1);
  }
}

const toJs = (value: unknown): unknown => {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
};

/** DuckDB's out-of-memory error, as the engine-neutral error (errors.ts) that says what to do; any other error as it is. */
const OUT_OF_MEMORY = /^Out of Memory Error: ([^\n]*)/;
function translate(error: unknown, memoryLimit: string | undefined, scratchFolder: string): unknown {
  const match = error instanceof Error ? OUT_OF_MEMORY.exec(error.message) : null;
  return match ? new OutOfMemoryError(match[1]!, memoryLimit ?? "DuckDB's default", path.dirname(scratchFolder)) : error;
}

const bind = (params?: SqlParams): DuckDBValue[] | Record<string, DuckDBValue> | undefined =>
  params === undefined ? undefined : Array.isArray(params) ? ([...params] as DuckDBValue[]) : ({ ...params } as Record<string, DuckDBValue>);

/**
 * CRM_PROFILE=1 prints each statement's wall time and the process's CPU time
 * since the previous line (DuckDB's threads included: on a shared machine it
 * varies less than wall time) to stderr, for benchmarks; never customer data.
 */
const PROFILE = process.env.CRM_PROFILE === '1';
let cpuMark = PROFILE ? process.cpuUsage() : { user: 0, system: 0 };
const profile = (sql: string, start: number) => {
  const cpu = process.cpuUsage(cpuMark);
  cpuMark = process.cpuUsage();
  process.stderr.write(
    `[sql ${(performance.now() - start).toFixed(0).padStart(6)} ms cpu ${((cpu.user + cpu.system) / 1000).toFixed(0).padStart(5)} @${performance.now().toFixed(0).padStart(6)}] ${sql.replace(/\s+/g, ' ').trim().slice(0, Number(process.env.CRM_PROFILE_WIDTH ?? 110))}\n`,
  );
};

/** DuckDB's words for a database file another process holds. */
const isLockError = (message: string) => /could not set lock|conflicting lock/i.test(message);

/** The only module that imports @duckdb/node-api. */
/**
 * DuckDB's memory_limit bounds its buffer pool, not the process: what it
 * allocates outside the pool (aggregate and window states, the Parquet
 * writer's row groups) and Node's own data (the CLV patterns, the k-means
 * sample, the CLV worker) come on top. So DuckDB gets this share of crm's
 * --memory-limit, and the limit holds for the whole process within a
 * measured margin (README "Memory").
 */
export const BUFFER_POOL_SHARE = 0.8;

/** DuckDB's buffer pool in bytes for crm's `limit` (a size sizeInBytes reads): BUFFER_POOL_SHARE of it. */
function bufferPoolBytes(limit: string): number {
  const bytes = sizeInBytes(limit);
  if (bytes === null) throw new Error(`not a memory size: ${limit}`);
  return bytes * BUFFER_POOL_SHARE;
}

/** DuckDB's memory_limit for crm's `limit`: its buffer pool, in whole KiB. */
export function bufferPoolLimit(limit: string): string {
  return `${Math.max(1, Math.floor(bufferPoolBytes(limit) / 1024))}KiB`;
}

/**
 * Buffer-pool bytes a per-customer aggregate needs per customer-day row to
 * stay in memory: DuckDB's aggregate of many rows into many customers keeps
 * states it cannot spill, in proportion to the rows (DESIGN §7). A margin
 * over what was measured to pass (commit message).
 */
export const POOL_BYTES_PER_CUSTOMER_DAY = 32;

/** How many buckets of customers keep each bucket's `customerDayRows` share within a buffer pool of `poolBytes`. */
export function customerBucketsFor(customerDayRows: number, poolBytes: number): number {
  return Math.max(1, Math.ceil((customerDayRows * POOL_BYTES_PER_CUSTOMER_DAY) / poolBytes));
}

export class DuckDbEngine implements Engine {
  readonly name = 'DuckDB';
  readonly dialect = duckdbDialect;
  /** Rows read into JS (pulled). */
  private rowsRead = 0;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
    /** DuckDB's spill folder (temp_directory), also the run's scratch folder. */
    readonly scratchFolder: string,
    private readonly memoryLimit: string | undefined,
    /** A signal removes the spill folder too (io/interrupt.ts), until the engine is closed. */
    private readonly forgetFolder = onInterrupt({ remove: scratchFolder }),
  ) {}

  static async create(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = bufferPoolLimit(options.memoryLimit);
    // No network at run time: never download extensions.
    config.autoinstall_known_extensions = 'false';
    config.autoload_known_extensions = 'false';
    await removeAbandonedSpillFolders(options.tempDir ?? tmpdir());
    const spillTo = await spillDirectory(options.tempDir);
    config.temp_directory = spillTo;
    let instance: DuckDBInstance;
    let connection: DuckDBConnection;
    try {
      instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
      // A limit too small for DuckDB's own start fails here already.
      connection = await instance.connect();
    } catch (error) {
      await rm(spillTo, { recursive: true, force: true });
      throw translate(error, options.memoryLimit, spillTo);
    }
    const engine = new DuckDbEngine(instance, connection, spillTo, options.memoryLimit);
    await engine.run(`SET TimeZone = ${duckdbDialect.quoteString(options.timezone ?? 'UTC')}`);
    return engine;
  }

  /** `work`, with DuckDB's out-of-memory error said in a user's words. */
  private async translated<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw translate(error, this.memoryLimit, this.scratchFolder);
    }
  }

  async run(sql: string, params?: SqlParams): Promise<void> {
    const start = PROFILE ? performance.now() : 0;
    await this.translated(() => this.connection.run(sql, bind(params)));
    if (PROFILE) profile(sql, start);
  }

  async all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    const start = PROFILE ? performance.now() : 0;
    const reader = await this.translated(() => this.connection.runAndReadAll(sql, bind(params)));
    if (PROFILE) profile(sql, start);
    this.rowsRead += reader.currentRowCount;
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) out[key] = toJs(value);
      return out as T;
    });
  }

  async one<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  numericColumns<K extends string>(sql: string, names: readonly K[], params?: SqlParams): Promise<NumericColumns<K>> {
    return this.translated(() => this.readNumericColumns(sql, names, params));
  }

  private async readNumericColumns<K extends string>(sql: string, names: readonly K[], params?: SqlParams): Promise<NumericColumns<K>> {
    const start = PROFILE ? performance.now() : 0;
    const result = await this.connection.run(sql, bind(params));
    const columnNames = result.columnNames();
    const indices = names.map((name) => {
      const index = columnNames.indexOf(name);
      if (index < 0) throw new Error(`query has no column ${name}`);
      return index;
    });
    // Chunk by chunk, straight from the vectors: no per-value JS conversion.
    let parts: Float64Array[][] = names.map(() => []);
    let rows = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const count = chunk.rowCount;
      indices.forEach((column, k) => {
        const vector = chunk.getColumnVector(column);
        const part = new Float64Array(count);
        if (vector instanceof DuckDBDoubleVector) {
          for (let i = 0; i < count; i++) {
            const v = vector.getItem(i);
            part[i] = v === null ? Number.NaN : v;
          }
        } else {
          for (let i = 0; i < count; i++) {
            const v = vector.getItem(i);
            part[i] = v === null || v === undefined ? Number.NaN : Number(v);
          }
        }
        parts[k]!.push(part);
      });
      rows += count;
    }
    const out = {} as NumericColumns<K>;
    names.forEach((name, k) => {
      const array = new Float64Array(rows);
      let offset = 0;
      for (const part of parts[k]!) {
        array.set(part, offset);
        offset += part.length;
      }
      out[name] = array;
    });
    parts = [];
    this.rowsRead += rows;
    if (PROFILE) profile(sql, start);
    return out;
  }

  loadColumns(table: string, columns: Record<string, ArrayLike<number>>): Promise<void> {
    return this.translated(() => this.appendColumns(table, columns));
  }

  private async appendColumns(table: string, columns: Record<string, ArrayLike<number>>): Promise<void> {
    const names = Object.keys(columns);
    const q = duckdbDialect.quoteIdentifier;
    await this.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} (${names.map((n) => `${q(n)} DOUBLE`).join(', ')})`);
    const appender = await this.connection.createAppender(table, 'main', 'temp');
    const length = names.length ? columns[names[0]!]!.length : 0;
    const CHUNK = 2048;
    for (let from = 0; from < length; from += CHUNK) {
      const count = Math.min(CHUNK, length - from);
      const chunk = DuckDBDataChunk.create(names.map(() => DOUBLE), count);
      names.forEach((name, k) => {
        const values: (number | null)[] = new Array(count);
        const source = columns[name]!;
        for (let i = 0; i < count; i++) {
          const v = source[from + i]!;
          values[i] = Number.isFinite(v) ? v : null;
        }
        chunk.setColumnValues(k, values);
      });
      appender.appendDataChunk(chunk);
    }
    appender.closeSync();
  }

  async *streamColumns(sql: string, params?: SqlParams): AsyncIterable<{ names: string[]; columns: unknown[][] }> {
    const result = await this.translated(() => this.connection.stream(sql, bind(params)));
    const names = result.columnNames();
    for (;;) {
      const chunk = await this.translated(() => result.fetchChunk());
      if (!chunk || chunk.rowCount === 0) break;
      this.rowsRead += chunk.rowCount;
      yield { names, columns: chunk.convertColumns(JSDuckDBValueConverter).map((column) => column.map(toJs)) };
    }
  }

  /** Rows read into JS; no bytes, as nothing crosses a wire (Pulled). */
  pulled(): Pulled {
    return { rows: this.rowsRead, bytes: 0 };
  }

  writeQuery(query: string, format: TableFormat, file: string, options?: WriteOptions): Promise<void> {
    return writeDuckDbQuery(this, query, format, file, options);
  }

  async describeSettings(): Promise<Record<string, unknown>> {
    const settings = await this.one<{ bufferPool: string; threads: number }>(`SELECT current_setting('memory_limit') AS bufferPool, current_setting('threads')::INTEGER AS threads`);
    return { memoryLimit: this.memoryLimit ?? null, ...settings, spillFolder: this.scratchFolder };
  }

  /** The history file open now (openHistory), if any, and its tables as the history stage has them. */
  private history: RunHistory | null = null;
  private historyLayout: HistoryLayout | null = null;

  async openHistory(options: { db?: string | null; readOnly?: boolean; layout: HistoryLayout }): Promise<RunHistory> {
    if (!options.db) throw new Error('the DuckDB run history is a database file: give its path (--db)');
    if (this.history) throw new Error(`a run history is open already (${this.history.where})`);
    const { layout } = options;
    this.history = await openHistoryFile(this, options.db, { readOnly: options.readOnly ?? false, layout }, (file, alias, attach) => this.attachDatabase(file, alias, attach));
    this.historyLayout = layout;
    return this.history;
  }

  async closeHistory(): Promise<void> {
    if (!this.history) return;
    this.history = null;
    this.historyLayout = null;
    await this.run(`DETACH ${duckdbDialect.quoteIdentifier(HISTORY_ALIAS)}`);
  }

  historyHas(name: string): Promise<boolean> {
    return historyHas(this, name);
  }

  // One process: nothing to spread.
  async placeHistoryTable(_name: string, _placement: HistoryPlacement): Promise<void> {}

  async historyBytes(): Promise<number> {
    return (await stat(this.openedHistory().where)).size;
  }

  saveHistory(): Promise<void> {
    this.openedHistory();
    return this.run(`CHECKPOINT ${duckdbDialect.quoteIdentifier(HISTORY_ALIAS)}`);
  }

  compactHistory(options: { prunedRuns?: number } = {}): Promise<{ before: number; after: number } | null> {
    const history = this.openedHistory();
    return giveBackPrunedSpace(this, history.where, { qualifier: history.qualifier, prunedRuns: options.prunedRuns ?? 0, layout: this.historyLayout! });
  }

  private openedHistory(): RunHistory {
    if (!this.history) throw new Error('no run history is open');
    return this.history;
  }

  /**
   * Attaches the database file `file` as `alias`. A file another process
   * holds fails with DatabaseInUseError (errors.ts), for the caller to wait
   * on; one that is not a database, with an InputError that says so.
   */
  private async attachDatabase(file: string, alias: string, options: { readOnly?: boolean } = {}): Promise<void> {
    const q = duckdbDialect;
    // TYPE duckdb: without it DuckDB opens a path ending in .parquet or .csv as something else, and the run records nothing.
    try {
      await this.run(`ATTACH ${q.quoteString(file)} AS ${q.quoteIdentifier(alias)} (TYPE duckdb${options.readOnly ? ', READ_ONLY' : ''})`);
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      if (isLockError(message)) throw new DatabaseInUseError(message);
      throw new InputError(`${file}: cannot be opened as a DuckDB database (${message})`);
    }
    // Holding the database for writing now, this process is the only one that could be rewriting it.
    if (!options.readOnly) await removeAbandonedRewrites(file);
  }

  async loadSideFile(table: string, file: string, options: { header?: boolean } = {}): Promise<string[]> {
    const kind = readerKindOf(file);
    const csvOptions = options.header === false ? ', header = false' : '';
    const reader =
      kind === 'parquet'
        ? 'read_parquet($path)'
        : kind === 'ndjson'
          ? "read_json($path, format = 'newline_delimited')"
          : `read_csv($path, all_varchar = true${csvOptions})`;
    try {
      await this.run(`CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * FROM ${reader}`, { path: file });
    } catch (error) {
      throw new InputError(`${file}: cannot be read (${(error as Error).message.split('\n')[0]})`);
    }
    return (await this.all<{ column_name: string }>(`DESCRIBE ${table}`)).map((c) => c.column_name);
  }

  async textColumns(table: string): Promise<string[]> {
    const columns = await this.all<{ column_name: string; column_type: string }>(`DESCRIBE ${duckdbDialect.quoteIdentifier(table)}`);
    return columns.filter((c) => c.column_type === 'VARCHAR').map((c) => c.column_name);
  }

  keepRowOrder(): Promise<void> {
    return this.run(`SET preserve_insertion_order = true`);
  }

  ingest(inputs: readonly string[], options: IngestOptions): Promise<Ingested> {
    return ingest(this, inputs, options);
  }

  expandInputs(inputs: readonly string[]): Promise<string[]> {
    return expandInputs(this, inputs);
  }

  setRunDay(now: Date): Promise<string> {
    return setRunDay(this, now);
  }

  rejectReasons(options: Pick<IngestOptions, 'decimalSeparator' | 'dateFormat'>): Promise<RejectReasons> {
    return rejectReasons(this, options);
  }

  dropCustomerDays(ingested: Pick<Ingested, 'dayTables'>): Promise<void> {
    return dropCustomerDays(this, ingested);
  }

  customerBuckets(customerDayRows: number): number {
    // Without a limit, DuckDB's own default: 80% of the machine's memory.
    const pool = this.memoryLimit ? bufferPoolBytes(this.memoryLimit) : totalmem() * 0.8;
    return customerBucketsFor(customerDayRows, pool);
  }

  /**
   * One pass writes the customer days to Parquet files, a folder per bucket,
   * in the spill folder; each part reads its own. Filtering the table once
   * per part would read all of it each time, from disk once it has spilled.
   */
  async customerDayParts(buckets: number): Promise<CustomerDayParts> {
    const folder = await mkdtemp(path.join(this.scratchFolder, 'customer-days-'));
    const q = duckdbDialect.quoteString;
    await this.run(
      `COPY (SELECT customer_id, order_date, order_id, amount, rows, ${duckdbDialect.customerBucket('customer_id', buckets)} AS bucket FROM customer_days)
       TO ${q(folder)} (FORMAT parquet, PARTITION_BY (bucket), OVERWRITE_OR_IGNORE)`,
    );
    // A bucket no customer fell in has no folder.
    const written = new Set(await readdir(folder));
    const parts = Array.from({ length: buckets }, (_, i) => `bucket=${i}`)
      .filter((name) => written.has(name))
      .map((name) => `(SELECT customer_id, order_date, order_id, amount, rows FROM read_parquet(${q(path.join(folder, name, '*.parquet'))})) customer_days`);
    return { parts, release: () => rm(folder, { recursive: true, force: true }) };
  }

  async close(): Promise<void> {
    const start = PROFILE ? performance.now() : 0;
    this.connection.closeSync();
    this.instance.closeSync();
    await rm(this.scratchFolder, { recursive: true, force: true });
    this.forgetFolder();
    if (PROFILE) profile('(close)', start);
  }
}
