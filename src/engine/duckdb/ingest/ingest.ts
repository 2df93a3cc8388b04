import path from 'node:path';
import { stat } from 'node:fs/promises';
import type { Engine, IngestOptions, Ingested, RejectReasons } from '../../Engine.js';
import { InputError, UsageError } from '../../../errors.js';
import { checkTextInput, gzipDamage } from '../../../io/inputBytes.js';
import { DAY_MONTH_DATE_SQL, DECIMAL_COMMA_AMOUNT_SQL, literalPath, refineRejectReasonsSql, RUN_DAY, SET_RUN_DAY_SQL } from './queries.js';
import { type LoadedFile, readerKindOf } from './readFiles.js';
import { checkDateFormat, sniffWhitespace } from './sniffing.js';
import { loadCsv } from './csvReader.js';
import { loadTyped } from './typedReaders.js';
import { loadOther } from './wholeLines.js';

const GLOB_CHARS = /[*?[\]{}]/;

/**
 * Expands globs (sorted, so the run does not depend on directory order) and
 * checks each file exists. A name that exists as written is that file, even
 * with glob characters in it (`tx[1].csv`); only one that does not is a pattern.
 */
export async function expandInputs(engine: Engine, inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0) throw new UsageError('no input files given (crm score <inputs...>, or inputs: in the config file)');
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch((error: NodeJS.ErrnoException) => error);
    if (info instanceof Error && GLOB_CHARS.test(input)) {
      const matches = await engine.all<{ file: string }>('SELECT file FROM glob($pattern) ORDER BY file', { pattern: input });
      if (matches.length === 0) throw new InputError(`${input}: no file matches this pattern`);
      files.push(...matches.map((m) => m.file));
      continue;
    }
    if (info instanceof Error) throw new InputError(`${input}: cannot read the file (${info.code ?? 'unknown error'})`);
    if (!info.isFile()) throw new InputError(`${input}: not a file`);
    files.push(input);
  }
  for (const file of files) {
    // DuckDB's pattern matching has no way to write a backslash that is part of a name.
    if (file.includes('\\') && literalPath(file) !== file) {
      throw new InputError(`${file}: cannot be read: its name has both a backslash and one of * ? [, which DuckDB's readers take as a pattern; rename the file`);
    }
  }
  return [...new Set(files)];
}

async function loadFile(engine: Engine, config: IngestOptions, file: string, index: number): Promise<LoadedFile> {
  const info = await stat(file);
  if (info.size === 0) throw new InputError(`${file}: the file is empty`);
  const kind = readerKindOf(file);
  if (kind !== 'parquet') await checkTextInput(file, kind);
  if (!/\.gz$/i.test(file)) return loadByKind(engine, config, file, index, kind);
  // DuckDB reads a gzip file that ends early as the rows before the break, without a word:
  // the file is decompressed once more alongside the load, and a break fails the run.
  const damage = gzipDamage(file);
  const loaded = await loadByKind(engine, config, file, index, kind).catch(async (error: unknown) => {
    await refuseDamagedGzip(file, damage);
    throw error;
  });
  await refuseDamagedGzip(file, damage);
  return loaded;
}

async function refuseDamagedGzip(file: string, damage: Promise<string | null>): Promise<void> {
  const reason = await damage;
  if (reason === null) return;
  const early = /unexpected end of file/i.test(reason);
  throw new InputError(
    `${file}: ${early ? 'the compressed file ends early, it is truncated' : 'the compressed data is damaged'} (gzip: ${reason}), so only part of it can be read; copy or download it again`,
  );
}

async function loadByKind(engine: Engine, config: IngestOptions, file: string, index: number, kind: ReturnType<typeof readerKindOf>): Promise<LoadedFile> {
  if (kind !== 'csv') return (await loadTyped(engine, config, file, index, kind)) ?? loadOther(engine, config, file, index, kind, null);
  if (config.delimiter === 'whitespace') {
    const layout = await sniffWhitespace(engine, file);
    if (!layout) throw new InputError(`${file}: not whitespace-separated text with a constant number of fields`);
    return loadOther(engine, config, file, index, 'whitespace', layout);
  }
  return loadCsv(engine, config, file, index);
}

/**
 * Reading and aggregating the input runs with one DuckDB thread more than
 * there are cores, unless the user chose the number of threads: on a 2-core
 * machine the CSV read and day aggregation of 10M rows took a fifth less time
 * and less CPU with 3 threads than with 2 (measured in one process, the two
 * settings alternating: 1.5 s against 1.8-2.2 s), while the later stages do
 * not gain from it. The setting is restored afterwards.
 */
async function withLoadThreads(engine: Engine, chosen: number | undefined, work: () => Promise<void>): Promise<void> {
  if (chosen !== undefined) return work();
  const { threads } = (await engine.one<{ threads: number }>(`SELECT current_setting('threads')::INTEGER AS threads`))!;
  await engine.run(`SET threads = ${threads + 1}`);
  try {
    await work();
  } finally {
    await engine.run(`SET threads = ${threads}`);
  }
}

/**
 * Makes `now` (the run's clock) the day of the run, in the engine's time
 * zone, for the load's date checks and the default as-of; returns it as YYYY-MM-DD.
 */
export async function setRunDay(engine: Engine, now: Date): Promise<string> {
  await engine.run(SET_RUN_DAY_SQL, { now: now.toISOString() });
  return (await engine.one<{ day: string }>(`SELECT strftime(${RUN_DAY}, '%Y-%m-%d') AS day`))!.day;
}

/**
 * Rejected rows per reason, most first, and what to do about the two refusals
 * a setting fixes (a decimal comma, day/month dates), for an error to say.
 */
export async function rejectReasons(engine: Engine, options: Pick<IngestOptions, 'decimalSeparator' | 'dateFormat'>): Promise<RejectReasons> {
  const rows = await engine.all<{ reason: string; n: number }>(`SELECT reason, count(*)::BIGINT AS n FROM rejects GROUP BY reason ORDER BY n DESC, reason`);
  const hints: string[] = [];
  const comma = options.decimalSeparator === '.' ? (await engine.one<{ amount: string }>(DECIMAL_COMMA_AMOUNT_SQL))?.amount : undefined;
  if (comma !== undefined) hints.push(`amounts such as ${JSON.stringify(comma)} have a decimal comma: run with --decimal-separator ,`);
  const dayMonth = options.dateFormat ? undefined : (await engine.one<{ order_date: string }>(DAY_MONTH_DATE_SQL))?.order_date;
  if (dayMonth !== undefined) hints.push(`dates such as ${JSON.stringify(dayMonth)} need --date-format, e.g. '%d/%m/%Y' or '%m/%d/%Y'`);
  return { reasons: rows.map((r) => ({ reason: r.reason, rows: r.n })), hints };
}

/**
 * The ingest contract: reads every input (globs expanded) into customer-day
 * rows and rejects (see Ingested), the raw line kept for rows the reader
 * could not split. `options.now` is the run's clock: rows dated more than a
 * day after its day are rejected as in the future.
 */
export async function ingest(engine: Engine, inputs: readonly string[], options: IngestOptions): Promise<Ingested> {
  const config = options;
  if (config.sourceTable) throw new UsageError('--source-table reads a table of a PostgreSQL database: it needs --engine postgres (or a postgres:// URL)');
  if (config.dateFormat) await checkDateFormat(engine, config.dateFormat);
  const runDay = await setRunDay(engine, options.now ?? new Date());
  const files = await expandInputs(engine, inputs);
  // Aggregations do not need input order; the one pass that does (line numbers) turns it back on.
  await engine.run(`SET preserve_insertion_order = false`);
  const loaded: LoadedFile[] = [];
  await withLoadThreads(engine, config.threads, async () => {
    for (const [i, file] of files.entries()) loaded.push(await loadFile(engine, config, file, i));
  });
  const q = engine.dialect.quoteString;
  await engine.run(`
    CREATE OR REPLACE TEMP VIEW customer_days AS
    ${loaded.map((f) => `SELECT customer_id, order_date, order_id, amount, rows FROM ${f.days}`).join('\nUNION ALL\n')}`);
  await engine.run(`
    CREATE OR REPLACE TEMP TABLE rejects AS
    ${loaded.map((f) => `SELECT ${q(f.file)} AS source, line, reason, customer_id, order_date, amount, raw_line FROM ${f.rejects}`).join('\nUNION ALL\n')}`);
  await engine.run(refineRejectReasonsSql(config.decimalSeparator));
  const counts = (await engine.one<{ accepted: number; rejected: number }>(
    `SELECT (SELECT coalesce(sum(rows), 0) FROM customer_days)::BIGINT AS accepted, (SELECT count(*) FROM rejects)::BIGINT AS rejected`,
  ))!;
  const rowsRead = loaded.reduce((sum, f) => sum + f.rowsRead, 0);
  if (rowsRead !== counts.accepted + counts.rejected) {
    // Never expected: every row is either in customer_days or in rejects.
    throw new Error(`row counts do not reconcile: ${rowsRead} read, ${counts.accepted} accepted, ${counts.rejected} rejected`);
  }
  if (rowsRead === 0) {
    throw new InputError(`${files.length === 1 ? files[0] : files.join(', ')}: no transaction rows (the input has a header at most)`);
  }
  return {
    customerDays: 'customer_days',
    rejects: 'rejects',
    counts: { read: rowsRead, accepted: counts.accepted, rejected: counts.rejected },
    files: files.map((f) => path.normalize(f)),
    hasOrderIds: loaded.some((f) => f.hasOrderIds),
    singleSource: loaded.length === 1,
    dayTables: loaded.map((f) => f.days),
    runDay,
  };
}

/** Drops customer_days and the tables behind it, for a job that needs no per-day rows any more. */
export async function dropCustomerDays(engine: Engine, loaded: Pick<Ingested, 'dayTables'>): Promise<void> {
  await engine.run(`DROP VIEW IF EXISTS customer_days`);
  for (const table of loaded.dayTables) await engine.run(`DROP TABLE IF EXISTS ${engine.dialect.quoteIdentifier(table)}`);
}
