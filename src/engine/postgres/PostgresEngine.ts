import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { CrmError, DatabaseInUseError, UsageError } from '../../errors.js';
import { onInterrupt } from '../../io/interrupt.js';
import { ownerOnThisMachine, removeLeftByDeadProcesses, thisMachine } from '../../io/leftovers.js';
import type { CustomerDayParts, Engine, HistoryPlacement, IngestOptions, Ingested, NumericColumns, Pulled, RejectReasons, RunHistory, SqlParams, TableFormat, WriteOptions } from '../Engine.js';
import type { Dialect, EngineCapabilities } from '../dialect.js';
import { customerDayFilters, runStatements } from '../tables.js';
import { connectTimeoutMillis, describeTarget, type PostgresTarget } from './connection.js';
import { CITUS_CAPABILITIES, citusDialect, DISTRIBUTION_COLUMN, POSTGRES_CAPABILITIES, postgresDialect } from './dialect.js';
import { translatePostgresError } from './errors.js';
import { bindPlaceholders } from './placeholders.js';
import { createScratchSchema, removeAbandonedScratchSchemas } from './scratch.js';
import { crmTypes } from './values.js';
import { historyBytesSql, historyLockSql } from './history.js';
import { DuckDbEngine } from '../duckdb/DuckDbEngine.js';
import { ingestSourceTable, SOURCE_REJECT_REASONS_SQL } from './sourceTable.js';
import { copyFromLocal, copyToLocal, postgresTypeOf, uniqueName, type ResultColumn } from './transfer.js';

export interface PostgresEngineOptions {
  target: PostgresTarget;
  /** The schema that holds crm's tables (default `crm`): created if missing (unless createSchema is false), first on the search_path. */
  schema?: string;
  /** False for a command that only reads crm's tables: a database without the schema is left as it was. */
  createSchema?: boolean;
  timezone?: string;
  /** The folder the scratch folder goes in (default: the system's temporary folder, TMPDIR). */
  tempDir?: string;
  /** The local engine's limits (it reads input files and writes output files on this machine). */
  threads?: number;
  memoryLimit?: string;
}

/** Rows per round trip when a result is read in chunks (DuckDB's vector size). */
export const CHUNK_ROWS = 2048;

export { DISTRIBUTION_COLUMN };

const q = postgresDialect.quoteIdentifier;

/**
 * On Citus, what the workers must run this session's statements with: the
 * session's own settings stay on the coordinator, and a worker would
 * JIT-compile each shard's part of a long stage query (measured on 10M rows,
 * 1M customers: 107 s for the run with JIT on the workers, 60 s without).
 * Sent as SET LOCAL in each transaction, which Citus passes on to the
 * workers (citus.propagate_set_commands = local, set when the engine opens).
 */
const WORKER_SETTINGS = 'SET LOCAL jit = off';
/** Statements that open or end a transaction themselves (the history's BEGIN TRANSACTION, the scratch schema's BEGIN … COMMIT). */
const TRANSACTION_CONTROL = /^\s*(BEGIN|START|COMMIT|END|ROLLBACK)\b/i;

/** The customer-day rows of a run (the ingest contract): amounts as exact decimals, as on DuckDB. */
const CUSTOMER_DAY_COLUMNS = 'customer_id TEXT, order_date DATE, order_id TEXT, amount NUMERIC(18,4), rows BIGINT';
/** rejects.csv's columns. */
export const REJECT_COLUMNS = 'source TEXT, line BIGINT, reason TEXT, customer_id TEXT, order_date TEXT, amount TEXT, raw_line TEXT';

/** Scratch folders of killed runs: see DuckDbEngine's spill folder. */
const removeAbandonedScratchFolders = (dir: string) => removeLeftByDeadProcesses(dir, ownerOnThisMachine('crm-postgres'));

/** The table a stage creates: its columns (name → SQL type) and the query that fills it. */
export interface TableFill {
  columns: Record<string, string>;
  select: string;
  params?: SqlParams;
}

/**
 * The only module (with its folder) that imports `pg`: PostgreSQL, and Citus
 * when the extension is installed in the database. One client, one session:
 * temporary tables and settings last until close.
 */
export class PostgresEngine implements Engine {
  readonly name = 'PostgreSQL';
  /** The PostgreSQL dialect; on Citus, its table recipes aimed at the run's scratch schema. */
  private runDialect: Dialect = postgresDialect;
  /** On Citus, the schema of the run's stage tables (scratch.ts), first on the search_path; dropped on close. */
  private scratch: string | null = null;
  /** Rows and bytes of values received (every result read: all, one, numericColumns, streamColumns, the cursors' chunks), and the bytes of COPY … TO STDOUT. */
  private readonly received = { rows: 0, bytes: 0 };
  /** The session's transaction state from the server's last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed one. */
  private transaction = 'I';
  /** An error of the connection between statements (the server went away), said at the next statement. */
  private broken: unknown = null;
  /** The embedded engine that reads input files and writes output files on this machine, opened when first needed. */
  private localEngine: Promise<DuckDbEngine> | null = null;
  private localOptions: Pick<PostgresEngineOptions, 'timezone' | 'threads' | 'memoryLimit' | 'tempDir'> = {};
  /** The run's day (setRunDay), for the future-date check of a source table. */
  private runDay: string | null = null;
  /** Whether the rejects came from files read locally (their reasons and hints are the local engine's). */
  private rejectsAreLocal = false;
  /** This session's tables outside pg_temp (distributed tables cannot be temporary): dropped on close if still there. */
  private readonly runTables = new Set<string>();

  private constructor(
    private readonly client: pg.Client,
    private readonly target: PostgresTarget,
    readonly capabilities: EngineCapabilities,
    /** The schema crm's tables live in (already created and on the search_path). */
    readonly schema: string,
    /** Local files of the run (output staging, the Arrow writer): PostgreSQL itself spills on the server. */
    readonly scratchFolder: string,
    private readonly forgetFolder = onInterrupt({ remove: scratchFolder }),
  ) {
    client.connection.on('readyForQuery', (message: { status?: string }) => {
      this.transaction = message.status ?? 'I';
    });
    client.connection.on('dataRow', (message: { length: number; fieldCount: number }) => this.countRow(message));
  }

  get dialect(): Dialect {
    return this.runDialect;
  }

  /**
   * A DataRow's values in bytes, as the server sent them (text): the
   * message's length (without its type byte) less its own 4, the 2 of the
   * field count and the 4 of each field's length (a NULL has no bytes).
   */
  private countRow(message: { length: number; fieldCount: number }): void {
    this.received.rows += 1;
    this.received.bytes += message.length - 6 - 4 * message.fieldCount;
  }

  pulled(): Pulled {
    return { ...this.received };
  }

  /** The schema of this run's stage tables on Citus, or null (plain PostgreSQL: TEMP tables). */
  get scratchSchema(): string | null {
    return this.scratch;
  }

  /** Where it is connected, as it may be shown (no password). */
  get where(): string {
    return describeTarget(this.target);
  }

  static async create(options: PostgresEngineOptions): Promise<PostgresEngine> {
    const schema = options.schema ?? 'crm';
    const where = describeTarget(options.target);
    const config: pg.ClientConfig = { types: crmTypes, application_name: 'crm', connectionTimeoutMillis: connectTimeoutMillis(options.target) };
    if (options.target.kind === 'url') config.connectionString = options.target.connectionString;
    const client = new pg.Client(config);
    let engine: PostgresEngine | undefined;
    // Before connect: a server that drops the connection must not crash the process.
    client.on('error', (error) => {
      if (engine) engine.broken = error;
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw translatePostgresError(error, where, options.target.password);
    }
    const dir = options.tempDir === undefined ? tmpdir() : path.resolve(options.tempDir);
    let scratch: string;
    try {
      await removeAbandonedScratchFolders(dir);
      scratch = await mkdtemp(path.join(dir, `crm-postgres-${thisMachine()}-${process.pid}-`));
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
      throw new CrmError(`cannot make crm's scratch folder in ${dir} (${options.tempDir === undefined ? 'TMPDIR' : '--temp-dir'}): ${code}`, 2);
    }
    try {
      const citus = await client.query<{ extversion: string }>(`SELECT extversion FROM pg_extension WHERE extname = 'citus'`);
      engine = new PostgresEngine(client, options.target, citus.rowCount ? CITUS_CAPABILITIES : POSTGRES_CAPABILITIES, schema, scratch);
      engine.localOptions = { timezone: options.timezone, threads: options.threads, memoryLimit: options.memoryLimit, tempDir: options.tempDir };
      await engine.run(
        [
          `SET standard_conforming_strings = on`,
          `SET TimeZone = ${postgresDialect.quoteString(options.timezone ?? 'UTC')}`,
          `SET search_path TO ${q(schema)}, public`,
          // The stage queries are long expressions over temp tables the planner has no statistics for: its row
          // estimates run to 10^20, and JIT compiling the scored table's query took 18 s of a 19 s CDNOW run.
          `SET jit = off`,
          `SET DateStyle = 'ISO, YMD'`,
          ...(engine.capabilities.distributed ? [`SET citus.propagate_set_commands = 'local'`] : []),
        ].join('; '),
      );
      // Looked up first: a user allowed to use a schema its DBA made may not be allowed to create one.
      const exists = await engine.one(`SELECT 1 AS found FROM pg_namespace WHERE nspname = ?`, [schema]);
      if (!exists && options.createSchema !== false) await engine.run(`CREATE SCHEMA IF NOT EXISTS ${q(schema)}`);
      if (engine.capabilities.distributed) await engine.useScratchSchema();
      return engine;
    } catch (error) {
      if (engine) await engine.close().catch(() => undefined);
      else {
        await client.end().catch(() => undefined);
        await rm(scratch, { recursive: true, force: true });
      }
      throw translatePostgresError(error, where, options.target.password);
    }
  }

  /**
   * Citus: the run's stage tables go in a scratch schema of its own, first on
   * the search_path (so stage SQL names them unqualified, and crm's own tables
   * are named with their schema), distributed or replicated by the dialect's
   * recipes; killed runs' are removed first. A user who may not create
   * schemas (one its DBA gave a schema) keeps TEMP tables: the run works, on
   * the coordinator alone.
   */
  private async useScratchSchema(): Promise<void> {
    const { allowed } = (await this.one<{ allowed: boolean }>(`SELECT has_database_privilege(current_database(), 'CREATE') AS allowed`))!;
    if (!allowed) return;
    await removeAbandonedScratchSchemas(this);
    const scratch = await createScratchSchema(this, this.schema);
    this.scratch = scratch;
    await this.run(`SET search_path TO ${q(scratch)}, ${q(this.schema)}, public`);
    this.runDialect = citusDialect(q(scratch));
  }

  /** `work`, with the driver's errors said in a user's words and without the password. */
  private async translated<T>(work: () => Promise<T>): Promise<T> {
    if (this.broken) throw translatePostgresError(this.broken, this.where, this.target.password);
    try {
      return await work();
    } catch (error) {
      throw translatePostgresError(error, this.where, this.target.password);
    }
  }

  /**
   * One statement with parameters, or several (`;`-separated) without: the
   * protocol binds parameters to a single statement only.
   */
  async run(sql: string, params?: SqlParams): Promise<void> {
    const { text, values } = bindPlaceholders(sql, params);
    await this.translated(() => this.withWorkerSettings(text, () => (params === undefined ? this.client.query(text) : this.client.query(text, values))));
  }

  /**
   * `work`, the statement `text`, so that its parts on Citus workers run with
   * WORKER_SETTINGS: in a transaction of its own, or, when the statement
   * opens one for the caller, with the settings sent after it.
   */
  private async withWorkerSettings<T>(text: string, work: () => Promise<T>): Promise<T> {
    if (!this.capabilities.distributed) return work();
    if (TRANSACTION_CONTROL.test(text)) {
      const result = await work();
      if (this.transaction === 'T') await this.client.query(WORKER_SETTINGS);
      return result;
    }
    return this.transaction === 'I' ? this.inWorkerTransaction(work) : work();
  }

  /** `work` in a transaction of its own whose SET LOCAL settings Citus passes on to the workers (WORKER_SETTINGS). */
  private async inWorkerTransaction<T>(work: () => Promise<T>): Promise<T> {
    await this.client.query(`BEGIN; ${WORKER_SETTINGS}`);
    try {
      const result = await work();
      await this.client.query('COMMIT');
      return result;
    } catch (error) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  async all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    const { text, values } = bindPlaceholders(sql, params);
    const result = await this.translated(() => this.withWorkerSettings(text, () => this.client.query(text, values)));
    return result.rows as T[];
  }

  async one<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /**
   * The rows of a query, CHUNK_ROWS at a time, through a server-side cursor:
   * the whole result is never held in the client. Outside a transaction the
   * cursor gets one of its own, ended however the reader stops.
   */
  private async *chunks(sql: string, params?: SqlParams): AsyncGenerator<{ names: string[]; rows: unknown[][] }> {
    const { text, values } = bindPlaceholders(sql, params);
    const cursor = q(`crm_cursor_${Math.random().toString(36).slice(2)}`);
    const own = this.transaction === 'I';
    if (own) await this.translated(() => this.client.query(this.capabilities.distributed ? `BEGIN; ${WORKER_SETTINGS}` : 'BEGIN'));
    try {
      await this.translated(() => this.client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${text}`, values));
      for (;;) {
        const result = await this.translated(() => this.client.query({ text: `FETCH FORWARD ${CHUNK_ROWS} FROM ${cursor}`, rowMode: 'array' }));
        if (result.rows.length === 0) break;
        yield { names: result.fields.map((f) => f.name), rows: result.rows as unknown[][] };
        if (result.rows.length < CHUNK_ROWS) break;
      }
    } finally {
      if (own) {
        // The cursor goes with its transaction; a failed one can only roll back. A reader that stopped
        // early may have written between chunks: that is committed, as it would be without the cursor.
        await this.client.query(this.transaction === 'E' ? 'ROLLBACK' : 'COMMIT').catch(() => undefined);
      } else if (this.transaction === 'T') {
        await this.client.query(`CLOSE ${cursor}`).catch(() => undefined);
      }
    }
  }

  async numericColumns<K extends string>(sql: string, names: readonly K[], params?: SqlParams): Promise<NumericColumns<K>> {
    const parts: number[][] = names.map(() => []);
    let indices: number[] | null = null;
    for await (const { names: columnNames, rows } of this.chunks(sql, params)) {
      indices ??= names.map((name) => {
        const index = columnNames.indexOf(name);
        if (index < 0) throw new Error(`query has no column ${name}`);
        return index;
      });
      indices.forEach((column, k) => {
        const part = parts[k]!;
        for (const row of rows) {
          const value = row[column];
          part.push(value === null || value === undefined ? Number.NaN : Number(value));
        }
      });
    }
    const out = {} as NumericColumns<K>;
    names.forEach((name, k) => {
      out[name] = Float64Array.from(parts[k]!);
    });
    return out;
  }

  /**
   * A new temporary table of DOUBLE PRECISION columns, filled with COPY …
   * FROM STDIN (text format): non-finite values go in as NULL, as on DuckDB.
   */
  async loadColumns(table: string, columns: Record<string, ArrayLike<number>>): Promise<void> {
    const names = Object.keys(columns);
    // A temp table, or on Citus a reference table in the scratch schema: the per-customer queries join it on the workers.
    await runStatements(this, this.dialect.createTempTable(q(table), names.map((n) => `${q(n)} DOUBLE PRECISION`).join(', ')));
    const length = names.length ? columns[names[0]!]!.length : 0;
    if (length === 0) return;
    const sources = names.map((name) => columns[name]!);
    async function* lines() {
      for (let from = 0; from < length; from += CHUNK_ROWS) {
        let text = '';
        for (let i = from; i < Math.min(from + CHUNK_ROWS, length); i++) {
          // String(double) is the shortest text that reads back as the same double.
          text += `${sources.map((source) => (Number.isFinite(source[i]!) ? String(source[i]) : '\\N')).join('\t')}\n`;
        }
        yield text;
      }
    }
    await this.translated(() =>
      pipeline(Readable.from(lines()), this.client.query(copyStreams.from(`COPY ${q(table)} (${names.map(q).join(', ')}) FROM STDIN`))),
    );
  }

  async *streamColumns(sql: string, params?: SqlParams): AsyncIterable<{ names: string[]; columns: unknown[][] }> {
    for await (const { names, rows } of this.chunks(sql, params)) {
      yield { names, columns: names.map((_, k) => rows.map((row) => row[k])) };
    }
  }

  /**
   * A per-customer table: distributed by customer_id on Citus (co-located with
   * crm's other per-customer tables, so joins between them stay on the
   * workers), an ordinary table otherwise. Created, distributed, then filled:
   * Citus makes a local table from CREATE TABLE AS.
   */
  async createPerCustomerTable(table: string, fill: TableFill): Promise<void> {
    if (!(DISTRIBUTION_COLUMN in fill.columns)) throw new Error(`per-customer table ${table} has no ${DISTRIBUTION_COLUMN} column`);
    await this.createTable(table, fill, () =>
      this.run(`SELECT create_distributed_table(?, ?, colocate_with => 'default')`, [`${q(this.tableSchema)}.${q(table)}`, DISTRIBUTION_COLUMN]),
    );
  }

  /** A small table (thresholds, patterns, centroids, labels): a reference table on Citus, copied to every worker. */
  async createReferenceTable(table: string, fill: TableFill): Promise<void> {
    await this.createTable(table, fill, () => this.run(`SELECT create_reference_table(?)`, [`${q(this.tableSchema)}.${q(table)}`]));
  }

  /** In the run's scratch schema on Citus (a table of this run), else in crm's schema. */
  private async createTable(table: string, fill: TableFill, distribute: () => Promise<void>): Promise<void> {
    const columns = Object.entries(fill.columns).map(([name, type]) => `${q(name)} ${type}`);
    const target = `${q(this.tableSchema)}.${q(table)}`;
    await this.run(`DROP TABLE IF EXISTS ${target}; CREATE TABLE ${target} (${columns.join(', ')})`);
    if (this.capabilities.distributed) await distribute();
    await this.run(`INSERT INTO ${target} (${Object.keys(fill.columns).map(q).join(', ')}) ${fill.select}`, fill.params);
  }

  private get tableSchema(): string {
    return this.scratch ?? this.schema;
  }

  /** The run history open now (openHistory), if any, and the advisory lock it holds. */
  private history: RunHistory | null = null;

  /**
   * The run history in the engine's schema. One process records at a time:
   * a writer holds an advisory lock on the schema (exclusive), a reader the
   * same lock shared, as DuckDB's file lock has one writer or many readers;
   * a lock held elsewhere fails with DatabaseInUseError, for the caller to
   * wait on. Session locks: they go with the connection if the process dies.
   */
  async openHistory(options: { db?: string | null; readOnly?: boolean }): Promise<RunHistory> {
    if (this.history) throw new Error(`a run history is open already (${this.history.where})`);
    const readOnly = options.readOnly ?? false;
    const where = `schema ${this.schema} at ${this.where}`;
    const locked = await this.one<{ locked: boolean }>(historyLockSql(readOnly, 'try'), [this.schema]);
    if (!locked?.locked) {
      throw new DatabaseInUseError(`another crm process holds the run history in ${where}${readOnly ? ' (recording a run)' : ''}`);
    }
    this.history = { qualifier: q(this.schema), where, folder: null, readOnly };
    return this.history;
  }

  async closeHistory(): Promise<void> {
    if (!this.history) return;
    const { readOnly } = this.history;
    this.history = null;
    await this.run(historyLockSql(readOnly, 'unlock'), [this.schema]);
  }

  async historyHas(name: string): Promise<boolean> {
    return (await this.one<{ found: boolean }>(`SELECT to_regclass(?) IS NOT NULL AS found`, [`${q(this.schema)}.${q(name)}`]))!.found;
  }

  /** On Citus: scores distributed by customer_id, co-located with the run's per-customer tables; runs, labels and pending runs as reference tables, on every node for the joins. */
  async placeHistoryTable(name: string, placement: HistoryPlacement): Promise<void> {
    if (!this.capabilities.distributed) return;
    const table = `${q(this.schema)}.${q(name)}`;
    if (placement === 'per-customer') await this.run(`SELECT create_distributed_table(?, ?, colocate_with => 'default')`, [table, DISTRIBUTION_COLUMN]);
    else await this.run(`SELECT create_reference_table(?)`, [table]);
  }

  async historyBytes(): Promise<number> {
    const row = await this.one<{ bytes: string | number }>(historyBytesSql(this.capabilities.distributed), { schema: this.schema });
    return Number(row?.bytes ?? 0);
  }

  // A committed transaction is durable already.
  async saveHistory(): Promise<void> {}

  // Autovacuum gives pruned rows' space back to the tables.
  async compactHistory(): Promise<null> {
    return null;
  }



  /** COPY … FROM STDIN fed from a local file (transfer.ts). */
  async copyIn(copySql: string, file: string): Promise<void> {
    await this.translated(() => pipeline(createReadStream(file), this.client.query(copyStreams.from(copySql))));
  }

  /** COPY … TO STDOUT into a local file (transfer.ts). */
  async copyOut(copySql: string, file: string): Promise<void> {
    await this.translated(() => pipeline(this.client.query(copyStreams.to(copySql)), createWriteStream(file)));
    // What the output files cost on the wire, counted with the rest (their rows are not counted: COPY sends no messages per row here).
    this.received.bytes += (await stat(file)).size;
  }

  /** The columns a query returns: name, type oid and modifier (transfer.ts reads them back with these types). */
  async resultColumns(query: string): Promise<ResultColumn[]> {
    const result = await this.translated(() => this.client.query(`SELECT * FROM (${query}) crm_result LIMIT 0`));
    return result.fields.map((f) => ({ name: f.name, oid: f.dataTypeID, typmod: f.dataTypeModifier }));
  }

  /**
   * The input files are read and checked by the local DuckDB exactly as on
   * the DuckDB engine (same rejects, same counts); the accepted customer-day
   * rows are then streamed into a per-customer table of the cluster
   * (distributed by customer_id on Citus), the rejects into a temp table.
   * `--source-table` reads a table of the cluster instead (sourceTable.ts).
   */
  async ingest(inputs: readonly string[], options: IngestOptions): Promise<Ingested> {
    // One clock for both sessions: the local DuckDB checks the files' dates against the same day.
    const now = options.now ?? new Date();
    const runDay = await this.setRunDay(now);
    if (options.sourceTable) {
      if (inputs.length) throw new UsageError('give either input files or --source-table, not both');
      this.rejectsAreLocal = false;
      const days = await this.newCustomerDaysTable();
      return ingestSourceTable(this, options.sourceTable, days, { ...options, runDay });
    }
    const local = await this.local();
    const ingested = await local.ingest(inputs, { ...options, now });
    this.rejectsAreLocal = true;
    const days = await this.newCustomerDaysTable();
    await copyFromLocal(this, local, `SELECT customer_id, order_date, order_id, amount, rows FROM ${ingested.customerDays}`, days);
    await this.run(`DROP VIEW IF EXISTS pg_temp.customer_days; CREATE TEMP VIEW customer_days AS SELECT * FROM ${days}`);
    await this.run(`DROP TABLE IF EXISTS pg_temp.rejects; CREATE TEMP TABLE rejects (${REJECT_COLUMNS})`);
    await copyFromLocal(this, local, `SELECT source, line, reason, customer_id, order_date, amount, raw_line FROM ${ingested.rejects}`, 'rejects');
    await local.dropCustomerDays(ingested);
    return { ...ingested, runDay, customerDays: 'customer_days', rejects: 'rejects', dayTables: [days] };
  }

  /**
   * A new per-customer table for the customer days of this run; returns its
   * qualified name. In the run's scratch schema on Citus, a TEMP table on
   * PostgreSQL: a run killed before it drops the table leaves nothing behind
   * (the next run removes abandoned scratch schemas; a session's temp tables
   * go with it). crm's schema only on Citus without the right to make a schema.
   */
  private async newCustomerDaysTable(): Promise<string> {
    const home = this.scratch !== null ? q(this.scratch) : this.capabilities.distributed ? q(this.schema) : 'pg_temp';
    const name = `${home}.${q(uniqueName('crm_customer_days'))}`;
    this.runTables.add(name);
    await this.run(`CREATE TABLE ${name} (${CUSTOMER_DAY_COLUMNS})`);
    if (this.capabilities.distributed) await this.run(`SELECT create_distributed_table(?, ?, colocate_with => 'default')`, [name, DISTRIBUTION_COLUMN]);
    return name;
  }

  expandInputs(inputs: readonly string[]): Promise<string[]> {
    return this.local().then((local) => local.expandInputs(inputs));
  }

  async setRunDay(now: Date): Promise<string> {
    const row = await this.one<{ day: string }>(`SELECT to_char(CAST(CAST(? AS TIMESTAMPTZ) AS DATE), 'YYYY-MM-DD') AS day`, [now.toISOString()]);
    this.runDay = row!.day;
    return this.runDay;
  }

  async rejectReasons(options: Pick<IngestOptions, 'decimalSeparator' | 'dateFormat'>): Promise<RejectReasons> {
    if (this.rejectsAreLocal) return (await this.local()).rejectReasons(options);
    const rows = await this.all<{ reason: string; n: number }>(SOURCE_REJECT_REASONS_SQL);
    return { reasons: rows.map((r) => ({ reason: r.reason, rows: r.n })), hints: [] };
  }

  async dropCustomerDays(ingested: Pick<Ingested, 'dayTables'>): Promise<void> {
    await this.run(`DROP VIEW IF EXISTS pg_temp.customer_days`);
    for (const table of ingested.dayTables) {
      await this.run(`DROP TABLE IF EXISTS ${table}`);
      this.runTables.delete(table);
    }
  }

  // Citus aggregates each worker's shards of customers apart, and PostgreSQL's hash aggregate spills to disk past work_mem.
  customerBuckets(_customerDayRows: number): number {
    return 1;
  }

  async customerDayParts(buckets: number): Promise<CustomerDayParts> {
    return customerDayFilters(this.dialect, buckets);
  }

  /** Rows come out in the order the output queries' ORDER BY gives (a temp table is read back in the order it was written). */
  async keepRowOrder(): Promise<void> {}

  /**
   * The query's rows stream out with COPY … TO STDOUT into the local DuckDB,
   * which writes the file with the DuckDB engine's writers: the same bytes.
   */
  async writeQuery(query: string, format: TableFormat, file: string, options?: WriteOptions): Promise<void> {
    const local = await this.local();
    const table = await copyToLocal(this, local, query, options?.types);
    try {
      await local.keepRowOrder();
      await local.writeQuery(`SELECT * FROM ${local.dialect.quoteIdentifier(table)}`, format, file, options);
    } finally {
      await local.run(`DROP TABLE IF EXISTS ${local.dialect.quoteIdentifier(table)}`);
    }
  }

  /** Read by the local DuckDB as on that engine, then copied into temp table `table` of the session. */
  async loadSideFile(table: string, file: string, options?: { header?: boolean }): Promise<string[]> {
    const local = await this.local();
    const columns = await local.loadSideFile(table, file, options);
    const types = await local.all<{ column_name: string; column_type: string }>(`DESCRIBE ${local.dialect.quoteIdentifier(table)}`);
    await this.run(`DROP TABLE IF EXISTS pg_temp.${q(table)}; CREATE TEMP TABLE ${q(table)} (${types.map((c) => `${q(c.column_name)} ${postgresTypeOf(c.column_type)}`).join(', ')})`);
    await copyFromLocal(this, local, `SELECT * FROM ${local.dialect.quoteIdentifier(table)}`, q(table));
    await local.run(`DROP TABLE IF EXISTS ${local.dialect.quoteIdentifier(table)}`);
    return columns;
  }

  async textColumns(table: string): Promise<string[]> {
    const rows = await this.all<{ name: string }>(
      `SELECT a.attname AS name FROM pg_attribute a
       WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype)
       ORDER BY a.attnum`,
      [q(table)],
    );
    return rows.map((r) => r.name);
  }

  async describeSettings(): Promise<Record<string, unknown>> {
    const settings = await this.one<{ server: string; workMem: string }>(`SELECT current_setting('server_version') AS server, current_setting('work_mem') AS "workMem"`);
    return { where: this.where, schema: this.schema, citus: this.capabilities.distributed, ...settings, scratchFolder: this.scratchFolder };
  }

  /**
   * The embedded DuckDB of this run, on this machine: the files crm reads
   * (validated as on DuckDB, then streamed in with COPY) and writes (streamed
   * out with COPY, then written in each format) go through it, so both
   * engines read and write files alike.
   */
  local(): Promise<DuckDbEngine> {
    this.localEngine ??= DuckDbEngine.create(this.localOptions);
    return this.localEngine;
  }

  /** The run's stage tables go with their schema; if this fails (the server went away), the next run removes it. */
  private async dropScratchSchema(): Promise<void> {
    if (this.scratch === null || this.broken) return;
    const scratch = this.scratch;
    this.scratch = null;
    if (this.transaction !== 'I') await this.client.query('ROLLBACK').catch(() => undefined);
    await this.client.query(`DROP SCHEMA IF EXISTS ${q(scratch)} CASCADE`).catch(() => undefined);
  }

  async close(): Promise<void> {
    const local = this.localEngine;
    this.localEngine = null;
    if (local) await (await local.catch(() => null))?.close();
    // CASCADE: the session's customer_days view still reads it when a run fails after its ingest.
    for (const table of this.runTables) await this.client.query(`DROP TABLE IF EXISTS ${table} CASCADE`).catch(() => undefined);
    await this.dropScratchSchema();
    await this.client.end().catch(() => undefined);
    await rm(this.scratchFolder, { recursive: true, force: true });
    this.forgetFolder();
  }
}
