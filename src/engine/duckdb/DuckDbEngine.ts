import { DuckDBInstance, JSDuckDBValueConverter, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Engine, NumericColumns, SqlParams } from '../Engine.js';
import { duckdbDialect } from './dialect.js';

export interface DuckDbEngineOptions {
  /** Database file; ':memory:' (default) for a scratch engine. */
  path?: string;
  threads?: number;
  memoryLimit?: string;
  timezone?: string;
}

const toJs = (value: unknown): unknown => {
  if (typeof value === 'bigint') {
    return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  return value;
};

const bind = (params?: SqlParams): DuckDBValue[] | Record<string, DuckDBValue> | undefined =>
  params === undefined ? undefined : Array.isArray(params) ? ([...params] as DuckDBValue[]) : ({ ...params } as Record<string, DuckDBValue>);

/** CRM_PROFILE=1 prints each statement's wall time to stderr (for benchmarks, never customer data). */
const PROFILE = process.env.CRM_PROFILE === '1';
const profile = (sql: string, start: number) =>
  process.stderr.write(`[sql ${(performance.now() - start).toFixed(0).padStart(6)} ms] ${sql.replace(/\s+/g, ' ').trim().slice(0, 110)}\n`);

/** The only module that imports @duckdb/node-api. */
export class DuckDbEngine implements Engine {
  readonly dialect = duckdbDialect;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async create(options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    if (options.memoryLimit) config.memory_limit = options.memoryLimit;
    // No network at run time: never download extensions.
    config.autoinstall_known_extensions = 'false';
    config.autoload_known_extensions = 'false';
    const instance = await DuckDBInstance.create(options.path ?? ':memory:', config);
    const connection = await instance.connect();
    const engine = new DuckDbEngine(instance, connection);
    await engine.run(`SET TimeZone = ${duckdbDialect.quoteString(options.timezone ?? 'UTC')}`);
    return engine;
  }

  async run(sql: string, params?: SqlParams): Promise<void> {
    const start = PROFILE ? performance.now() : 0;
    await this.connection.run(sql, bind(params));
    if (PROFILE) profile(sql, start);
  }

  async all<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T[]> {
    const start = PROFILE ? performance.now() : 0;
    const reader = await this.connection.runAndReadAll(sql, bind(params));
    if (PROFILE) profile(sql, start);
    return reader.getRowObjectsJS().map((row) => {
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(row)) out[key] = toJs(value);
      return out as T;
    });
  }

  async one<T = Record<string, unknown>>(sql: string, params?: SqlParams): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async numericColumns<K extends string>(sql: string, names: readonly K[], params?: SqlParams): Promise<NumericColumns<K>> {
    const reader = await this.connection.runAndReadAll(sql, bind(params));
    const columns = reader.getColumnsObjectJS();
    const out = {} as NumericColumns<K>;
    for (const name of names) {
      const values = columns[name];
      if (!values) throw new Error(`query has no column ${name}`);
      const array = new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) {
        const v = values[i];
        array[i] = v === null || v === undefined ? Number.NaN : Number(v);
      }
      out[name] = array;
    }
    return out;
  }

  async loadColumns(table: string, columns: Record<string, ArrayLike<number>>): Promise<void> {
    const names = Object.keys(columns);
    const q = duckdbDialect.quoteIdentifier;
    await this.run(`CREATE OR REPLACE TEMP TABLE ${q(table)} (${names.map((n) => `${q(n)} DOUBLE`).join(', ')})`);
    const appender = await this.connection.createAppender(table, 'main', 'temp');
    const length = names.length ? columns[names[0]!]!.length : 0;
    for (let i = 0; i < length; i++) {
      for (const name of names) {
        const v = columns[name]![i]!;
        if (Number.isFinite(v)) appender.appendDouble(v);
        else appender.appendNull();
      }
      appender.endRow();
    }
    appender.closeSync();
  }

  async *streamColumns(sql: string, params?: SqlParams): AsyncIterable<{ names: string[]; columns: unknown[][] }> {
    const result = await this.connection.stream(sql, bind(params));
    const names = result.columnNames();
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      yield { names, columns: chunk.convertColumns(JSDuckDBValueConverter).map((column) => column.map(toJs)) };
    }
  }

  async close(): Promise<void> {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
