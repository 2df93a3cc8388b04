import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Option, type Command } from 'commander';
import type { RecordedRunPaths } from '../jobs/history.js';
import { describeZodError } from '../config/loadConfig.js';
import { DEFAULT_DB_WAIT_SECONDS, scoreConfigSchema } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { isSameFile, NAME_MAX, whyNotWritableFile, whyNotWritableFolder } from '../io/paths.js';
import { EXTENSION, type TableFormat } from '../io/writers.js';
import type { Logger } from '../effects.js';
import { createLogger, type LogLevel } from './logger.js';

/** Options every command takes. */
export function addCommonOptions(command: Command): Command {
  return command
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .option('-q, --quiet', 'only warnings and errors on stderr, no progress')
    .option('--debug', 'debug logs and stack traces on errors');
}

export interface CommonOptions {
  logLevel?: LogLevel;
  quiet?: boolean;
  debug?: boolean;
}

export const logLevel = (options: CommonOptions): LogLevel => options.logLevel ?? (options.debug ? 'debug' : options.quiet ? 'warn' : 'info');

export function loggerFor(options: CommonOptions): Logger {
  return createLogger(logLevel(options));
}

/** A file a command must not write over, and what it is, in the user's words. */
export interface KeptFile {
  file: string;
  is: string;
}

/** What crm score writes in its output folder (DESIGN §2) besides the customer tables. */
const RUN_TABLE_NAMES = ['summary.json', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];

/** Everything crm score may write in its output folder, in any format: an export or report written over one would destroy it. */
const RUN_OUTPUT_NAMES = [...Object.values(EXTENSION).map((ext) => `customers.${ext}`), ...RUN_TABLE_NAMES, 'crm.duckdb'];

/** The files this run of crm score publishes in `folder`, for its customer table `formats`. */
export const thisRunOutputFiles = (folder: string, formats: readonly TableFormat[]): KeptFile[] =>
  [...formats.map((f) => `customers.${EXTENSION[f]}`), ...RUN_TABLE_NAMES].map((name) => ({ file: path.join(folder, name), is: 'an output of this run' }));

export const runOutputFiles = (folder: string): KeptFile[] => RUN_OUTPUT_NAMES.map((name) => ({ file: path.join(folder, name), is: 'an output of crm score' }));

/**
 * The history database named by --db, its write-ahead log, and, when it has
 * the default name (DIR/crm.duckdb), the run outputs beside it.
 */
export const historyFiles = (db: string): KeptFile[] => [
  { file: db, is: 'the run-history database given by --db' },
  { file: `${db}.wal`, is: "the write-ahead log of the run-history database" },
  ...(path.basename(db) === 'crm.duckdb' ? runOutputFiles(path.dirname(db)) : []),
];

/**
 * The files the history's runs read and wrote: the inputs of every run and the
 * outputs of every output folder they were written to (a relative one taken from here).
 */
export const recordedRunFiles = (recorded: RecordedRunPaths): KeptFile[] => [
  ...recorded.outFolders.flatMap((out) => runOutputFiles(out)),
  ...recorded.inputs.map((file) => ({ file, is: 'an input of a run in the history' })),
];

/**
 * Refuses a file that `flag` would write (--out; --db, whose history a publish
 * would write over) when it is one of `kept`, through a symlink or hard link
 * too: said before the work, not found after it.
 */
export async function checkNotKept(out: string, kept: readonly KeptFile[], flag = '--out'): Promise<void> {
  for (const { file, is } of kept) {
    if (await isSameFile(out, file)) throw new UsageError(`${flag} ${out} is ${is} (${file}): give another file name`);
  }
}

/** DuckDB writes its write-ahead log beside the database, under the database's name plus this. */
const WAL_SUFFIX = '.wal';

/** Refuses a --db whose write-ahead log's name would be too long: found otherwise only when the run records itself, after scoring. */
export function checkDbName(db: string): void {
  const bytes = Buffer.byteLength(path.basename(db));
  const most = NAME_MAX - WAL_SUFFIX.length;
  if (bytes > most) throw new UsageError(`--db ${db}: the file name is ${bytes} bytes long; with the ${WAL_SUFFIX} DuckDB writes beside it, a database name can have at most ${most}`);
}

/**
 * Refuses a run whose input `files` (globs expanded) include one of `kept`,
 * its outputs and database, by device and inode (a link too): the run would
 * write over what it read.
 */
export async function checkInputsNotKept(files: readonly string[], kept: readonly KeptFile[]): Promise<void> {
  const existing = (await Promise.all(kept.map(async (k) => ({ ...k, found: await stat(k.file).catch(() => null) })))).filter((k) => k.found);
  for (const file of files) {
    const input = await stat(file).catch(() => null);
    const clash = input && existing.find((k) => k.found!.dev === input.dev && k.found!.ino === input.ino);
    if (clash) throw new UsageError(`input ${file} is ${clash.is} (${clash.file}), which the run would write over: give another --out or --db, or move the input`);
  }
}

/**
 * Checks an output file named by --out before any work: a folder there, a
 * place that cannot be written, or a file the command must keep (its inputs,
 * the history database) is a usage error, said now rather than after the
 * work. (A parent folder that does not exist yet is created when the file is written.)
 */
export async function checkOutputFile(out: string, example: string, kept: readonly KeptFile[] = []): Promise<void> {
  if ((await stat(out).catch(() => null))?.isDirectory()) throw new UsageError(`--out ${out}: a folder is there; give a file name, e.g. ${path.join(out, example)}`);
  const why = await whyNotWritableFile(out);
  if (why) throw new UsageError(`--out ${out}: cannot write there: ${why}`);
  await checkNotKept(out, kept);
}

/** Checks an output folder named by --out before any work: a file there, or a place that cannot be written, is a usage error. (The folder is created when written to.) */
export async function checkOutputFolder(out: string): Promise<void> {
  const found = await stat(out).catch(() => null);
  if (found && !found.isDirectory()) throw new UsageError(`--out ${out}: a file is there, not a folder`);
  const why = await whyNotWritableFolder(out);
  if (why) throw new UsageError(`--out ${out}: cannot write there: ${why}`);
}

/** --memory-limit and --temp-dir: every command runs DuckDB, so every one can be told where it may spill. */
export function addEngineOptions(command: Command): Command {
  return command
    .option('--memory-limit <size>', 'memory the run may use, e.g. 3GB, 512MB, 3GiB; DuckDB gets 80% of it before it spills to disk (default: 75% of RAM after 1 GiB for Node)')
    .option('--temp-dir <dir>', "folder for DuckDB's spill files (default: the system temporary folder, TMPDIR)");
}

export const CUSTOMER_BUCKETS_HELP =
  'compute the per-customer features in N passes, each over a share of the customers, to stay within --memory-limit on many rows (default: from --memory-limit and the rows read; 1 on PostgreSQL)';

/** --db, --engine and --schema: where runs, migration, export and report read the run history. */
export function addHistoryOptions(command: Command): Command {
  return command
    .option('--db <file>', 'the run-history database written by crm score (DuckDB, the default engine)')
    .option('--engine <engine>', 'where the history is: duckdb (the default, the --db file), or postgres://user@host:port/database (postgres alone: the PG* variables)')
    .option('--schema <name>', 'PostgreSQL: the schema that holds the history (default: crm)')
    .addOption(dbWaitOption());
}

/**
 * --memory-limit and --temp-dir of a command that takes them as flags only
 * (runs, migration, export, report): checked as crm score checks them.
 */
export function engineSettings(options: { memoryLimit?: string; tempDir?: string }): { memoryLimit: string; tempDir?: string } {
  const result = scoreConfigSchema.pick({ memoryLimit: true, tempDir: true }).safeParse({ memoryLimit: options.memoryLimit, tempDir: options.tempDir });
  if (!result.success) throw new UsageError(`invalid options: ${describeZodError(result.error)}`);
  return result.data;
}

export const parseNumber = (name: string) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${name} expects a number, got "${value}"`);
  return n;
};

export const parseInteger = (name: string) => (value: string) => {
  const n = parseNumber(name)(value);
  if (!Number.isInteger(n)) throw new UsageError(`${name} expects a whole number, got "${value}"`);
  return n;
};

export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** --db-wait, for the commands that open the run-history database. */
export const dbWaitOption = () =>
  new Option('--db-wait <seconds>', `seconds to wait while another process holds the database (default: ${DEFAULT_DB_WAIT_SECONDS})`).argParser((value: string) => {
    const n = parseNumber('--db-wait')(value);
    if (n < 0) throw new UsageError(`--db-wait expects 0 or more seconds, got "${value}"`);
    return n;
  });
