/** What every reader of the ingest shares: a file as a reader parameter, a loaded file, its day checks, and read errors in a user's words. */

import type { Engine } from '../../Engine.js';
import { CrmError, InputError, OutOfMemoryError } from '../../../errors.js';
import { countLineEndings, firstLineLongerThan } from '../../../io/lineEndings.js';
import { classifyType, DAYS_CHECK_SQL, literalPath, MAX_LINE_BYTES, type ReaderKind } from './queries.js';

/** The reader a file name asks for; a CSV name may still turn out to be whitespace-aligned text. */
export function readerKindOf(file: string): Exclude<ReaderKind, 'whitespace'> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(ndjson|jsonl|json)(\.gz)?$/.test(lower)) return 'ndjson';
  return 'csv';
}

/** The parameters that give a reader its file (`$path`), read as named. */
export const at = (file: string) => ({ path: literalPath(file) });

/** A loaded file: its customer-day table and its rejected rows. */
export interface LoadedFile {
  file: string;
  /** customer_id, order_date, order_id, amount, rows, rejected. */
  days: string;
  /** source-less rejects: line, reason, customer_id, order_date, amount, raw_line. */
  rejects: string;
  hasOrderIds: boolean;
  /** Every row the file yielded, accepted or not. */
  rowsRead: number;
}

/** DAYS_CHECK_SQL's counts for one file's customer-day table. */
export async function checkDays(engine: Engine, days: string): Promise<{ rows: number; rejected: number; untrimmed: number }> {
  return (await engine.one<{ rows: number; rejected: number; untrimmed: number }>(DAYS_CHECK_SQL(days)))!;
}

export const selectParts = (q: (n: string) => string, customer: string, date: string, amount: string, order: string | null, dateType: string) => ({
  customer: q(customer),
  date: q(date),
  amount: q(amount),
  order: order ? q(order) : null,
  dateType: classifyType(dateType),
  amountType: 'number' as const,
  hasExplicitFormat: false,
});

export async function describe(engine: Engine, sql: string, file: string | null): Promise<{ name: string; type: string }[]> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, file ? at(file) : undefined);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/**
 * The error for a text file DuckDB's reader failed on: the reader's own words,
 * unless the file mixes CRLF and LF line endings, which that reader cannot
 * read and does not name.
 */
export async function textReadError(file: string, error: unknown, what = 'CSV'): Promise<CrmError> {
  if (/Maximum line size of \d+ bytes exceeded/.test((error as Error).message)) {
    const long = await firstLineLongerThan(file, MAX_LINE_BYTES).catch(() => null);
    const where = long ? `line ${long.line} has ${long.bytes} bytes` : 'a record spans more bytes';
    return new InputError(`${file}: ${where}, more than the ${MAX_LINE_BYTES} one line can have (an unclosed quote can make one long line); fix or split that line`);
  }
  if (!/\.gz$/i.test(file) && !(error instanceof OutOfMemoryError)) {
    const endings = await countLineEndings(file).catch(() => ({ crlf: 0, lf: 0 }));
    if (endings.crlf > 0 && endings.lf > 0) {
      return new InputError(
        `${file}: mixes Windows (CRLF, ${endings.crlf} lines) and Unix (LF, ${endings.lf} lines) line endings, which DuckDB's CSV reader cannot read; convert the file to one of them (e.g. dos2unix) and run again`,
      );
    }
  }
  return cannotRead(file, what, error);
}

// Running out of memory is not the file's fault: said as such (errors.ts).
export const cannotRead = (file: string, what: string, error: unknown): CrmError =>
  error instanceof OutOfMemoryError ? error : new InputError(`${file}: cannot be read as ${what} (${firstLine((error as Error).message)})`);

export const firstLine = (message: string) => message.split('\n')[0]!.replace(/^[A-Za-z ]+Error: /, '');

/** The tables DuckDB's CSV readers of one file set rows aside in (see loadCsv and collectCsvRejects). */
export const dropReaderRejects = (engine: Engine, rejectsTable: string) =>
  dropRejectsTables(engine, ['', '_sniff', '_again', '_text'].map((reader) => `${rejectsTable}${reader}`));

/** Drops rejects tables a reader with store_rejects made: each named one and its `_scan` table, in one statement. */
export const dropRejectsTables = (engine: Engine, tables: readonly string[]) =>
  engine.run(tables.flatMap((t) => [`DROP TABLE IF EXISTS ${t}`, `DROP TABLE IF EXISTS ${t}_scan`]).join('; '));
