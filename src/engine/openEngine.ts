import { UsageError } from '../errors.js';
import { DuckDbEngine } from './duckdb/DuckDbEngine.js';
import type { Engine } from './Engine.js';
import { checkSchemaName, maskUrlPassword, parsePostgresTarget, POSTGRES_URL, type PostgresTarget } from './postgres/connection.js';

/** The settings every command passes to its engine; each engine takes the ones that apply to it. */
export interface OpenEngineOptions {
  timezone?: string;
  threads?: number;
  /** DuckDB's memory limit; a PostgreSQL server has its own. */
  memoryLimit?: string;
  tempDir?: string;
  /** PostgreSQL: the schema of crm's tables (default crm). */
  schema?: string;
  /** PostgreSQL: false when the command only reads crm's tables, so that a missing schema is not created. */
  createSchema?: boolean;
}

export type EngineSpec = { kind: 'duckdb' } | { kind: 'postgres'; target: PostgresTarget };

/**
 * `--engine` as an engine to open: absent or `duckdb` for the embedded DuckDB,
 * `postgres://…` / `postgresql://…` or `postgres` (the PG* variables) for
 * PostgreSQL/Citus. Anything else is a usage error naming the flag, said
 * before any data is read, with a password in it masked.
 */
export function parseEngineSpec(spec: string | undefined, flag = '--engine'): EngineSpec {
  const value = spec?.trim();
  if (value === undefined || value === '' || value.toLowerCase() === 'duckdb') return { kind: 'duckdb' };
  if (POSTGRES_URL.test(value) || value === 'postgres' || value === 'postgresql') return { kind: 'postgres', target: parsePostgresTarget(value, flag) };
  throw new UsageError(`${flag} ${maskUrlPassword(value)}: unknown engine; use duckdb (the default), postgres (the PG* environment variables) or a postgres://user@host:port/database URL`);
}

/**
 * The settings `spec`'s engine takes, checked as openEngine checks them before
 * it opens anything (PostgreSQL: the schema's name), for a command that checks
 * its flags first; the engine's words, naming the flag.
 */
export function checkEngineSettings(spec: EngineSpec, settings: Pick<OpenEngineOptions, 'schema'>): void {
  if (spec.kind === 'postgres' && settings.schema !== undefined) checkSchemaName(settings.schema);
}

/** The engine `--engine` names, open and ready. */
export async function openEngine(spec: string | undefined, options: OpenEngineOptions = {}): Promise<Engine> {
  const parsed = parseEngineSpec(spec);
  if (parsed.kind === 'duckdb') {
    return DuckDbEngine.create({ timezone: options.timezone, threads: options.threads, memoryLimit: options.memoryLimit, tempDir: options.tempDir });
  }
  const schema = checkSchemaName(options.schema ?? 'crm');
  // Loaded only when asked for: the embedded engine's runs never load the PostgreSQL driver.
  const { PostgresEngine } = await import('./postgres/PostgresEngine.js');
  return PostgresEngine.create({
    target: parsed.target,
    schema,
    createSchema: options.createSchema,
    timezone: options.timezone,
    tempDir: options.tempDir,
    threads: options.threads,
    memoryLimit: options.memoryLimit,
  });
}

/** `--engine` as it may be shown (summary.json, logs): a URL's password masked. */
export function shownEngineSpec(spec: string | undefined): string | undefined {
  return spec === undefined ? undefined : maskUrlPassword(spec);
}
