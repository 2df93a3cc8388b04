/** How a file is read before it is read: whitespace layout, date reading, the sniffer's sample, a --date-format check. */

import type { Engine, IngestOptions } from '../../Engine.js';
import { InputError, UsageError } from '../../../errors.js';
import { type CsvReadOptions, csvSampleProbeSql, DATE_FORMAT_CHECK_SQL, readerCall, sampleFitsDateFormatSql, SNIFFED_DATE_FORMATS_SQL } from './queries.js';
import { at, dropRejectsTables, firstLine } from './readFiles.js';

const RECOGNISED_HEADER = /^(customer|cust|client|user|member|account|order|invoice|date|amount|revenue|total|price|sales|value|quantity|qty)/i;

/**
 * DuckDB's sniffer reads whitespace-aligned text (CDNOW) as one column. Such a
 * file is split on runs of blanks instead; its first line is a header when
 * it names a known column.
 */
export async function sniffWhitespace(engine: Engine, file: string): Promise<{ fields: number; header: boolean } | null> {
  // Lines that are not UTF-8 are set aside (and rejected later), not a reason to fail.
  const undecoded = 'whitespace_sniff_undecoded';
  const lines = await engine.all<{ line: string }>(
    `SELECT line FROM ${readerCall('whitespace', {}, undecoded, engine.dialect)} WHERE trim(line) <> '' LIMIT 20`,
    at(file),
  );
  await dropRejectsTables(engine, [undecoded]);
  if (lines.length === 0) return null;
  const counts = lines.map((l) => l.line.trim().split(/\s+/).length);
  if (counts[0]! < 3 || counts.some((c) => c !== counts[0])) return null;
  if (lines[0]!.line.includes(',') || lines[0]!.line.includes(';')) return null;
  const header = lines[0]!.line.trim().split(/\s+/).some((token) => RECOGNISED_HEADER.test(token));
  return { fields: counts[0]!, header };
}

/** How the date column is read: by DuckDB's reader when it recognised a type, else parsed from text. */
export function dateReading(config: IngestOptions, sniffedType: string | undefined): { type: string; format?: CsvReadOptions['dateFormat'] } {
  if (config.dateFormat) {
    const hasTime = /%[HIMSfzZpX]/.test(config.dateFormat);
    return hasTime
      ? { type: 'TIMESTAMP', format: { option: 'timestampformat', format: config.dateFormat } }
      : { type: 'DATE', format: { option: 'dateformat', format: config.dateFormat } };
  }
  const t = (sniffedType ?? '').toUpperCase();
  if (t === 'DATE' || t.startsWith('TIMESTAMP')) return { type: t };
  return { type: 'VARCHAR' };
}

export interface SampleProbe {
  /** A double quote shows in the lines DuckDB's sniffer sampled. */
  quoted: boolean;
  /** Something like a day-and-month date (01/02/2024) does. */
  dayMonthDates: boolean;
}

/**
 * csvSampleProbeSql on the lines DuckDB's sniffer sampled. A file that is not
 * UTF-8 is looked at as Latin-1; one neither decodes (its bad lines are
 * rejects later) counts as quoted, which leaves the sniffer's choice alone,
 * and as having such dates, which has its date format checked.
 */
export async function probeSample(engine: Engine, file: string): Promise<SampleProbe> {
  for (const encoding of ['utf-8', 'latin-1'] as const) {
    try {
      const row = (await engine.one<{ quoted: boolean; day_month_dates: boolean }>(csvSampleProbeSql(engine.dialect, encoding), at(file)))!;
      return { quoted: row.quoted, dayMonthDates: row.day_month_dates };
    } catch {
      // Not in this encoding: the next one.
    }
  }
  return { quoted: true, dayMonthDates: true };
}

/**
 * DuckDB's sniffer reads dates such as 01/02/2024 with whichever of
 * day-first and month-first fits its sample first, and says nothing: for a
 * US export of early-month dates, 2 January becomes 1 February, and every
 * recency with it. A day-and-month format it chose is kept only when its
 * swap (%d and %m exchanged) does not fit the sample too; otherwise the run
 * stops and asks for --date-format. Year-first formats are not ambiguous.
 */
export async function refuseAmbiguousDates(engine: Engine, file: string, column: string, type: string, textReader: string): Promise<void> {
  let check: { fits: boolean; example: string | null } | undefined;
  let format: string | null | undefined;
  let swapped = '';
  try {
    const formats = await engine.one<{ date_format: string | null; timestamp_format: string | null }>(SNIFFED_DATE_FORMATS_SQL, at(file));
    format = type === 'DATE' ? formats?.date_format : formats?.timestamp_format;
    if (!format || !/^%[dm]/.test(format)) return;
    swapped = format.replace(/%([dm])/g, (_, c: string) => (c === 'd' ? '%m' : '%d'));
    check = await engine.one(sampleFitsDateFormatSql(textReader, engine.dialect.quoteIdentifier(column)), { ...at(file), format: swapped });
  } catch {
    // The sample cannot be sniffed or read again (the load reports why, if it matters): no check.
    return;
  }
  if (check?.fits) {
    throw new InputError(
      `${file}: dates in ${column} such as ${JSON.stringify(check.example)} read as day-first or month-first alike (DuckDB would guess ${format}); say which with --date-format '${format}' or --date-format '${swapped}'`,
    );
  }
}

/** A --date-format DuckDB cannot parse is a usage error, said before any file is read. */
export async function checkDateFormat(engine: Engine, format: string): Promise<void> {
  try {
    await engine.one(DATE_FORMAT_CHECK_SQL, { format });
  } catch (error) {
    throw new UsageError(`--date-format ${format}: ${firstLine((error as Error).message)}`);
  }
}
