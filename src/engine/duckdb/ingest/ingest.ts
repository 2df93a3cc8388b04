import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScoreConfig } from '../../../config/schema.js';
import type { Engine } from '../../Engine.js';
import { CrmError, InputError, OutOfMemoryError, UsageError } from '../../../errors.js';
import { checkTextInput, gzipDamage } from '../../../io/inputBytes.js';
import { countLineEndings, firstLineLongerThan } from '../../../io/lineEndings.js';
import {
  AMOUNT_TYPE,
  castRejectFieldsSql,
  castRejectLinesSql,
  classifyType,
  CLEAN_DAYS_SQL,
  CSV_LINE_COUNTS_SQL,
  CSV_QUOTED_NON_BLANK_SQL,
  csvGapsSql,
  csvLineFlagsSql,
  csvPhysicalLinesSql,
  csvQuotedRangesSql,
  csvReaderRejectsSql,
  csvRejectedIdsSql,
  csvRejectPassesSql,
  csvSampleProbeSql,
  csvSkippedRangesSql,
  csvTextRowsSql,
  csvTypedRejectsSql,
  csvValueRejectsSql,
  customerDaysSql,
  DATE_FORMAT_CHECK_SQL,
  DAYS_CHECK_SQL,
  decodedLinesSql,
  EMPTY_REJECTS_SQL,
  FILL_CAST_REJECT_FIELDS_SQL,
  INVALID_ENCODING_REASON,
  isCompositeType,
  lineTooLongReason,
  literalPath,
  MAX_LINE_BYTES,
  MAX_WHOLE_LINE_BYTES,
  ndjsonNotAValueSql,
  notAValueRejectsSql,
  parquetNotAValueSql,
  unusableColumnType,
  parseAmountSql,
  readerCall,
  READER_DIALECT_SQL,
  readerProjectionSql,
  refineRejectReasonsSql,
  RUN_DAY,
  sampleFitsDateFormatSql,
  SET_RUN_DAY_SQL,
  SNIFFED_DATE_FORMATS_SQL,
  stageRowsSql,
  TRIM_IDS_SQL,
  type CsvReadOptions,
  type MappedField,
  type ReaderKind,
  WHOLE_LINES_SQL,
  whitespaceFieldsSql,
  wholeLinesWithUndecodedSql,
} from './queries.js';
import { resolveColumns } from './columnMapping.js';

/**
 * After loading: view `customer_days` (customer_id, order_date, order_id,
 * amount, rows) of the accepted rows, and table `rejects` (source, line,
 * reason, customer_id, order_date, amount, raw_line).
 */
export interface LoadResult {
  files: string[];
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  /** Whether any file mapped an order id column (else an order is a customer-day). */
  hasOrderIds: boolean;
  /** One file: customer_days has one row per customer and day already (without order ids). */
  singleSource: boolean;
  /** The per-file tables behind customer_days. */
  dayTables: string[];
}

const GLOB_CHARS = /[*?[\]{}]/;

/** The parameters that give a reader its file (`$path`), read as named. */
const at = (file: string) => ({ path: literalPath(file) });

/** What the whole-line reader found wrong with a line itself, before its fields are looked at (the first WHEN branches of a CASE). */
const WHOLE_LINE_PROBLEMS = `WHEN too_long THEN '${lineTooLongReason(MAX_WHOLE_LINE_BYTES)}' WHEN undecodable THEN '${INVALID_ENCODING_REASON}'`;

export function readerKindOf(file: string): Exclude<ReaderKind, 'whitespace'> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(ndjson|jsonl|json)(\.gz)?$/.test(lower)) return 'ndjson';
  return 'csv';
}

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

const RECOGNISED_HEADER = /^(customer|cust|client|user|member|account|order|invoice|date|amount|revenue|total|price|sales|value|quantity|qty)/i;

/**
 * DuckDB's sniffer reads whitespace-aligned text (CDNOW) as one column. Such a
 * file is split on runs of blanks instead; its first line is a header when
 * it names a known column.
 */
async function sniffWhitespace(engine: Engine, file: string): Promise<{ fields: number; header: boolean } | null> {
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

/** A loaded file: its customer-day table and its rejected rows. */
interface LoadedFile {
  file: string;
  /** customer_id, order_date, order_id, amount, rows, rejected. */
  days: string;
  /** source-less rejects: line, reason, customer_id, order_date, amount, raw_line. */
  rejects: string;
  hasOrderIds: boolean;
  /** Every row the file yielded, accepted or not. */
  rowsRead: number;
}

/** How the date column is read: by DuckDB's reader when it recognised a type, else parsed from text. */
function dateReading(config: ScoreConfig, sniffedType: string | undefined): { type: string; format?: CsvReadOptions['dateFormat'] } {
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

async function loadCsv(engine: Engine, config: ScoreConfig, file: string, index: number): Promise<LoadedFile> {
  const d = engine.dialect;
  const q = d.quoteIdentifier;
  const days = `days_${index}`;
  const rejectsTable = `reader_rejects_${index}`;
  const explicitHeader = config.header === 'auto' ? undefined : config.header === 'yes';
  const delimiter = config.delimiter === 'tab' ? '\t' : config.delimiter;
  const base: CsvReadOptions = { delimiter, header: explicitHeader, ...(config.decimalSeparator === ',' ? { decimalSeparator: ',' as const } : {}) };
  // DuckDB adds to a rejects table that exists: one left by an earlier run in this engine would count again.
  await dropReaderRejects(engine, rejectsTable);

  // DuckDB's sniffer: delimiter, quoting, header and column types from a sample.
  let sniffed: { name: string; type: string }[];
  let probe: SampleProbe;
  try {
    // With store_rejects the sniffer tolerates malformed lines instead of giving up on the dialect.
    sniffed = await describe(engine, `SELECT * FROM ${readerCall('csv', base, `${rejectsTable}_sniff`, d)}`, file);
    // A sample without a quote character gets no quoting at all, and a quoted field further
    // down would keep its quotes ("C5" another customer than C5, "" an id): such a file is
    // read with RFC 4180's double quote. A sample with quotes keeps the sniffer's choice.
    probe = await probeSample(engine, file);
    if (!probe.quoted) base.quote = base.escape = '"';
  } catch (error) {
    // The sniffer gives up on whitespace-aligned text with a line that is not UTF-8 in its sample.
    const layout = config.delimiter === undefined ? await sniffWhitespace(engine, file).catch(() => null) : null;
    if (layout) return loadOther(engine, config, file, index, 'whitespace', layout);
    throw await textReadError(file, error);
  }
  const names = sniffed.map((c) => c.name);
  if (names.length === 1 && config.delimiter === undefined) {
    // The sniffer reads whitespace-aligned text (CDNOW) as a single column.
    const layout = await sniffWhitespace(engine, file);
    if (layout) return loadOther(engine, config, file, index, 'whitespace', layout);
  }
  const header = explicitHeader ?? !names.every((c) => /^column\d+$/.test(c));
  const available = header ? names : names.map((_, i) => String(i + 1));
  const mapping = resolveColumns(file, available, config.columns, header);
  const real = (name: string) => names[available.indexOf(name)]!;
  const [customer, date, amount] = [real(mapping.customer), real(mapping.date), real(mapping.amount)];
  const order = mapping.order ? real(mapping.order) : null;

  const dateRead = dateReading(config, sniffed.find((c) => c.name === date)?.type);
  if (!config.dateFormat && dateRead.type !== 'VARCHAR' && probe.dayMonthDates) {
    const allText = { ...base, types: Object.fromEntries(names.map((n) => [n, 'VARCHAR'])) };
    await refuseAmbiguousDates(engine, file, date, dateRead.type, readerCall('csv', allText, null, d));
  }
  const types: Record<string, string> = Object.fromEntries(names.map((n) => [n, 'VARCHAR']));
  types[date] = dateRead.type;
  types[amount] = AMOUNT_TYPE;
  const parts = selectParts(q, customer, date, amount, order, dateRead.type);
  const readOptions = { ...base, types, dateFormat: dateRead.format };
  try {
    await engine.run(customerDaysSql(days, readerProjectionSql(readerCall('csv', readOptions, rejectsTable, d), parts), order !== null), at(file));
  } catch (error) {
    throw await textReadError(file, error);
  }

  const readerRejected = (await engine.one<{ n: number }>(`SELECT count(DISTINCT line)::BIGINT AS n FROM ${rejectsTable}`))!.n;
  const check = await checkDays(engine, days);
  const rejects = `rejects_${index}`;
  await engine.run(EMPTY_REJECTS_SQL(rejects));
  if (readerRejected > 0 || check.rejected > 0) {
    const allText = { ...base, header, types: Object.fromEntries(names.map((n) => [n, 'VARCHAR'])) };
    await collectCsvRejects(engine, file, index, {
      rejects,
      days,
      rejectsTable,
      readerRejected,
      valueRejected: check.rejected,
      rows: check.rows,
      header,
      typedReader: readerCall('csv', readOptions, `${rejectsTable}_again`, d),
      textReader: readerCall('csv', allText, `${rejectsTable}_text`, d),
      parts,
      columns: { dateColumn: date, amountColumn: amount },
    });
    if (check.rejected > 0) for (const sql of CLEAN_DAYS_SQL(days)) await engine.run(sql);
    if (readerRejected > 0) {
      const position = (column: string) => names.indexOf(column) + 1;
      await fillCastRejectFields(engine, rejects, rejectsTable, names.length, { customer: position(customer), date: position(date), amount: position(amount) });
    }
  }
  if (check.untrimmed > 0) await engine.run(TRIM_IDS_SQL(days));
  await dropReaderRejects(engine, rejectsTable);
  return { file, days, rejects, hasOrderIds: order !== null, rowsRead: check.rows + readerRejected };
}

/** The tables DuckDB's CSV readers of one file set rows aside in (see loadCsv and collectCsvRejects). */
const dropReaderRejects = (engine: Engine, rejectsTable: string) =>
  dropRejectsTables(engine, ['', '_sniff', '_again', '_text'].map((reader) => `${rejectsTable}${reader}`));

/** Drops rejects tables a reader with store_rejects made: each named one and its `_scan` table, in one statement. */
const dropRejectsTables = (engine: Engine, tables: readonly string[]) =>
  engine.run(tables.flatMap((t) => [`DROP TABLE IF EXISTS ${t}`, `DROP TABLE IF EXISTS ${t}_scan`]).join('; '));

/**
 * Every line of `file` into `target` (line, undecodable), in file order: rowid
 * + 1 is the physical line. Lines that are not UTF-8 are kept, undecodable,
 * with the text DuckDB's reader kept of them. Needs preserve_insertion_order on.
 */
async function readWholeLines(engine: Engine, file: string, target: string): Promise<void> {
  try {
    await engine.run(WHOLE_LINES_SQL(target, engine.dialect), at(file));
  } catch {
    await readWholeLinesAnyBytes(engine, file, target);
  }
}

/** readWholeLines for a file known to have lines that are not UTF-8. */
async function readWholeLinesAnyBytes(engine: Engine, file: string, target: string): Promise<void> {
  const [decoded, undecoded] = [`${target}_decoded`, `${target}_undecoded`];
  await engine.run(decodedLinesSql(decoded, engine.dialect, undecoded), at(file));
  await engine.run(wholeLinesWithUndecodedSql(target, decoded, undecoded));
  await engine.run(`DROP TABLE ${decoded}`);
  await dropRejectsTables(engine, [undecoded]);
}

/**
 * The rejected rows of a CSV file with rejects, at the physical line where
 * their record starts (see csvPhysicalLinesSql): the lines DuckDB's reader set
 * aside and, when some values were rejected, a second, ordered pass over the
 * rows it yielded, plus an all-text pass for the fields as written, both
 * keeping only the few rows they need (csvRejectPassesSql). Only files with
 * rejects pay for these passes.
 */
async function collectCsvRejects(
  engine: Engine,
  file: string,
  index: number,
  o: {
    rejects: string;
    /** The first pass's customer-day groups, before the rejected rows leave them. */
    days: string;
    /** The first pass's reader rejects. */
    rejectsTable: string;
    readerRejected: number;
    valueRejected: number;
    /** Rows the first pass's reader yielded. */
    rows: number;
    header: boolean;
    typedReader: string;
    textReader: string;
    parts: ReturnType<typeof selectParts>;
    columns: { dateColumn: string; amountColumn: string };
  },
): Promise<void> {
  const lines = `lines_${index}`;
  const quoted = `quoted_${index}`;
  const staged = `staged_${index}`;
  const text = `staged_text_${index}`;
  const ids = `rejected_ids_${index}`;
  const passes = `reject_passes_${index}`;
  // Row positions are line numbers here: these passes keep the file's order.
  await engine.run(`SET preserve_insertion_order = true`);
  try {
    try {
      await engine.run(csvPhysicalLinesSql(lines, engine.dialect), at(file));
    } catch {
      // A line that is not UTF-8: see csvPhysicalLinesSql.
      await readWholeLinesAnyBytes(engine, file, `${lines}_text`);
      await engine.run(csvLineFlagsSql(lines, `${lines}_text`));
      await engine.run(`DROP TABLE ${lines}_text`);
    }
    if (o.valueRejected > 0) {
      await engine.run(csvRejectedIdsSql(ids, o.days));
      await engine.run(csvRejectPassesSql(passes, { typedReader: o.typedReader, textReader: o.textReader, ids, parts: o.parts }), at(file));
    }
  } catch (error) {
    throw await textReadError(file, error);
  } finally {
    await engine.run(`SET preserve_insertion_order = false`);
  }

  // Quoted fields with line breaks, unless that leaves fewer lines to start a
  // record on than the reader found records (the header included): then double
  // quotes are not the file's quote character, or a stray one sits inside a field.
  const counts = (await engine.one<{ non_blank: number; odd_quotes: number }>(CSV_LINE_COUNTS_SQL(lines)))!;
  await engine.run(csvQuotedRangesSql(quoted, lines));
  if (counts.odd_quotes > 0) {
    const inQuotes = (await engine.one<{ n: number }>(CSV_QUOTED_NON_BLANK_SQL(lines, quoted)))!.n;
    if (counts.non_blank - inQuotes < o.rows + o.readerRejected + (o.header ? 1 : 0)) await engine.run(`DELETE FROM ${quoted}`);
  }
  await engine.run(csvGapsSql(`${quoted}_gaps`, quoted));

  if (o.readerRejected > 0) await engine.run(`INSERT INTO ${o.rejects} ${csvReaderRejectsSql(o.rejectsTable, `${quoted}_gaps`)}`, o.columns);
  if (o.valueRejected > 0) {
    await engine.run(csvTypedRejectsSql(staged, passes, o.parts));
    await engine.run(csvTextRowsSql(text, passes));
    // Each reader's rows fill the lines it did not skip.
    for (const [name, readerRejects] of [[staged, o.rejectsTable], [text, `${o.rejectsTable}_text`]] as const) {
      await engine.run(csvSkippedRangesSql(`${name}_skipped`, lines, quoted, `${quoted}_gaps`, readerRejects));
      await engine.run(csvGapsSql(`${name}_gaps`, `${name}_skipped`));
    }
    await engine.run(
      `INSERT INTO ${o.rejects} ${csvValueRejectsSql({ staged, text, passes, lines, typedGaps: `${staged}_gaps`, textGaps: `${text}_gaps`, firstDataLine: o.header ? 2 : 1 })}`,
    );
    for (const name of [staged, text]) await engine.run(`DROP TABLE ${name}; DROP TABLE ${name}_skipped; DROP TABLE ${name}_gaps`);
    await engine.run(`DROP TABLE ${ids}; DROP TABLE ${passes}`);
  }
  await engine.run(`DROP TABLE ${lines}; DROP TABLE ${quoted}; DROP TABLE ${quoted}_gaps`);
}

/**
 * The reader's rejects for a bad date or amount carry only their line: their
 * fields are read from those lines (a scratch file of just them, in the
 * dialect that reader used), so rejects.csv shows customer_id, order_date and
 * amount as written for them too. Best effort: should that read fail, the
 * fields stay empty and raw_line has the line.
 */
async function fillCastRejectFields(
  engine: Engine,
  rejects: string,
  readerRejects: string,
  fields: number,
  positions: { customer: number; date: number; amount: number },
): Promise<void> {
  const lines = `${rejects}_cast_lines`;
  const parsed = `${rejects}_cast_fields`;
  await engine.run(castRejectLinesSql(lines, rejects));
  const rows = await engine.all<{ raw_line: string }>(`SELECT raw_line FROM ${lines} ORDER BY k`);
  // Customer data: in the engine's own folder, which goes even if this run is killed.
  const scratch = path.join(engine.scratchFolder, `${rejects}_cast_lines.csv`);
  try {
    if (rows.length > 0) {
      const used = (await engine.one<{ delimiter: string; quote: string; escape: string }>(READER_DIALECT_SQL(readerRejects)))!;
      const character = (c: string) => (c === '(empty)' ? '' : c);
      const dialect = { delimiter: character(used.delimiter), quote: character(used.quote), escape: character(used.escape) };
      await writeFile(scratch, rows.map((r) => `${r.raw_line.replace(/\r$/, '')}\n`).join(''));
      await engine.run(castRejectFieldsSql(parsed, engine.dialect, dialect, fields, positions), { path: scratch });
      await engine.run(FILL_CAST_REJECT_FIELDS_SQL(rejects, lines, parsed));
    }
  } catch {
    // The fields stay empty; raw_line has the line.
  } finally {
    await rm(scratch, { force: true });
    await engine.run(`DROP TABLE IF EXISTS ${lines}; DROP TABLE IF EXISTS ${parsed}`);
  }
}

/** DAYS_CHECK_SQL's counts for one file's customer-day table. */
async function checkDays(engine: Engine, days: string): Promise<{ rows: number; rejected: number; untrimmed: number }> {
  return (await engine.one<{ rows: number; rejected: number; untrimmed: number }>(DAYS_CHECK_SQL(days)))!;
}

const selectParts = (q: (n: string) => string, customer: string, date: string, amount: string, order: string | null, dateType: string) => ({
  customer: q(customer),
  date: q(date),
  amount: q(amount),
  order: order ? q(order) : null,
  dateType: classifyType(dateType),
  amountType: 'number' as const,
  hasExplicitFormat: false,
});

/**
 * Parquet and NDJSON carry their own types, so the common case is one pass:
 * reader → customer-day groups, as for CSV. Only a file with values to
 * reject (which need line numbers) returns null and is read again the slow
 * way, by loadOther; so does an NDJSON file DuckDB's reader gives up on (a
 * line that is not JSON, a text where its sample found numbers).
 */
async function loadTyped(engine: Engine, config: ScoreConfig, file: string, index: number, kind: 'parquet' | 'ndjson'): Promise<LoadedFile | null> {
  const q = engine.dialect.quoteIdentifier;
  const reader = readerCall(kind, {}, null, engine.dialect);
  let columns: { name: string; type: string }[];
  try {
    columns = (await describe(engine, `SELECT * FROM ${reader}`, file)).filter((c) => c.name !== 'file_row_number');
  } catch (error) {
    if (kind === 'ndjson') return null;
    throw cannotRead(file, kind, error);
  }
  let mapping: ReturnType<typeof resolveColumns>;
  try {
    mapping = resolveColumns(file, columns.map((c) => c.name), config.columns, true);
  } catch (error) {
    // DuckDB's NDJSON reader takes its columns from the first lines: one that is not an object
    // (a stray array) leaves it a single 'json' column. The slow path looks at every line.
    if (kind === 'ndjson') return null;
    throw error;
  }
  if (kind === 'parquet') refuseUnusableTypes(file, columns, mapping);
  // An object, list or true/false among the values: the slow path rejects those rows (markNotAValue).
  if ([mapping.customer, mapping.date, mapping.amount].some((name) => isCompositeType(columns.find((c) => c.name === name)!.type))) return null;
  const typeOf = (name: string) => classifyType(columns.find((c) => c.name === name)!.type);
  const days = `days_${index}`;
  const projection = readerProjectionSql(reader, {
    customer: `CAST(${q(mapping.customer)} AS VARCHAR)`,
    date: q(mapping.date),
    dateType: typeOf(mapping.date),
    amount: parseAmountSql(q(mapping.amount), typeOf(mapping.amount), config.decimalSeparator),
    amountType: 'number',
    order: mapping.order ? q(mapping.order) : null,
    hasExplicitFormat: Boolean(config.dateFormat),
  });
  const params: Record<string, string> = at(file);
  if (config.dateFormat && typeOf(mapping.date) === 'text') params.dateFormat = config.dateFormat;
  try {
    await engine.run(customerDaysSql(days, projection, mapping.order !== null), params);
  } catch (error) {
    if (kind === 'ndjson') return null;
    throw error;
  }
  const check = await checkDays(engine, days);
  if (check.rejected > 0) {
    await engine.run(`DROP TABLE ${days}`);
    return null;
  }
  if (check.untrimmed > 0) await engine.run(TRIM_IDS_SQL(days));
  const rejects = `rejects_${index}`;
  await engine.run(EMPTY_REJECTS_SQL(rejects));
  return { file, days, rejects, hasOrderIds: mapping.order !== null, rowsRead: check.rows };
}

/**
 * A Parquet date column of times of day, durations or bytes, or an amount
 * column of dates or bytes, has no row crm could read: the file fails,
 * naming the column (DuckDB would fail on its own with a binder error).
 */
function refuseUnusableTypes(file: string, columns: readonly { name: string; type: string }[], mapping: { date: string; amount: string }): void {
  for (const role of ['date', 'amount'] as const) {
    const column = mapping[role];
    const holds = unusableColumnType(columns.find((c) => c.name === column)!.type, role);
    if (holds) throw new InputError(`${file}: the ${role} column ${column} holds ${holds}, not ${role === 'date' ? 'dates' : 'amounts'}; map the ${role} column with --${role}-col`);
  }
}

/**
 * Whitespace-aligned text, and Parquet or NDJSON with values to reject: read
 * into a scratch table, then staged. Text formats are read as whole lines in
 * file order (`__line` the physical line, blank lines counted), so a line
 * that cannot be a row (not UTF-8, the wrong number of fields, not a JSON
 * object) is a reject at its line (`__problem`), never a failed run or a
 * silently dropped row.
 */
async function loadOther(engine: Engine, config: ScoreConfig, file: string, index: number, kind: ReaderKind, whitespace: WhitespaceLayout | null): Promise<LoadedFile> {
  const d = engine.dialect;
  const q = d.quoteIdentifier;
  const scratch = `raw_${index}`;
  const lines = `${scratch}_lines`;
  const staged = `staged_${index}`;
  let header = true;
  try {
    if (kind === 'parquet') {
      await engine.run(`CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT * FROM ${readerCall(kind, {}, null, d)}`, at(file));
    } else {
      await engine.run(`SET preserve_insertion_order = true`);
      try {
        await readWholeLines(engine, file, `${scratch}_text`);
      } finally {
        await engine.run(`SET preserve_insertion_order = false`);
      }
      await engine.run(`CREATE OR REPLACE TEMP TABLE ${lines} AS SELECT rowid + 1 AS __line, line, undecodable, too_long FROM ${scratch}_text WHERE trim(line) <> ''`);
      await engine.run(`DROP TABLE ${scratch}_text`);
    }
  } catch (error) {
    // Parquet is not text: its bytes say nothing about line endings.
    if (kind === 'parquet') throw cannotRead(file, kind, error);
    throw await textReadError(file, error, kind === 'ndjson' ? 'newline-delimited JSON' : kind);
  }

  let available: string[];
  let line = '__line';
  if (kind === 'whitespace') {
    header = config.header === 'auto' ? whitespace!.header : config.header === 'yes';
    available = Array.from({ length: whitespace!.fields }, (_, i) => String(i + 1));
    if (header) {
      const first = await engine.one<{ line: string }>(`SELECT line FROM ${lines} ORDER BY __line LIMIT 1`);
      available = first!.line.trim().split(/\s+/);
    }
    // A line with the wrong number of fields is malformed, like a CSV line with too many columns.
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE ${scratch} AS
       SELECT __line,
              CASE ${WHOLE_LINE_PROBLEMS}
                   WHEN len(fields) <> ${available.length} THEN 'wrong number of fields: expected ${available.length}' END AS __problem,
              ${available.map((name, i) => `fields[${i + 1}] AS ${q(name)}`).join(', ')}
       FROM (SELECT __line, undecodable, too_long, ${whitespaceFieldsSql('line')} AS fields FROM ${lines})
       ${header ? `WHERE __line > (SELECT min(__line) FROM ${lines})` : ''}`,
    );
  } else if (kind === 'ndjson') {
    // Every key of every object, in order of first appearance; values as text, parsed when staged.
    // CASE, not AND: json_type() must not see a line that is not JSON.
    const object = `CASE WHEN NOT undecodable AND json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END`;
    available = (
      await engine.all<{ key: string }>(
        `SELECT key FROM (SELECT __line, unnest(json_keys(line)) AS key, generate_subscripts(json_keys(line), 1) AS position FROM ${lines} WHERE ${object})
         GROUP BY key ORDER BY min({'line': __line, 'position': position})`,
      )
    ).map((r) => r.key);
    if (available.length === 0) throw new InputError(`${file}: not newline-delimited JSON (no line holds a JSON object; one object per line is expected)`);
    const pointer = (key: string) => jsonPointer(engine, key);
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE ${scratch} AS
       SELECT __line,
              CASE ${WHOLE_LINE_PROBLEMS}
                   WHEN NOT json_valid(line) THEN 'malformed JSON'
                   WHEN NOT is_object THEN 'malformed JSON: not an object' END AS __problem
              ${available.map((key) => `, CASE WHEN is_object THEN json_extract_string(line, ${pointer(key)}) END AS ${q(key)}`).join('')}
       FROM (SELECT __line, line, undecodable, too_long, ${object} AS is_object FROM ${lines})`,
    );
  } else {
    available = (await describe(engine, `SELECT * EXCLUDE (file_row_number) FROM ${scratch}`, null)).map((c) => c.name);
    line = '(file_row_number + 1)';
  }

  const mapping = resolveColumns(file, available, config.columns, header);
  const fields: MappedField[] = [
    { field: 'customer id', column: q(mapping.customer) },
    { field: 'date', column: q(mapping.date) },
    { field: 'amount', column: q(mapping.amount) },
  ];
  const notAValue = await markNotAValue(engine, kind, scratch, lines, fields, mapping);
  const types = new Map((await describe(engine, `SELECT * FROM ${scratch}`, null)).map((c) => [c.name, classifyType(c.type)] as const));
  await engine.run(
    stageRowsSql(staged, scratch, {
      customer: q(mapping.customer),
      date: q(mapping.date),
      amount: q(mapping.amount),
      order: mapping.order ? q(mapping.order) : null,
      dateType: types.get(mapping.date) ?? 'text',
      amountType: types.get(mapping.amount) ?? 'text',
      decimalSeparator: config.decimalSeparator,
      line,
      hasExplicitFormat: Boolean(config.dateFormat),
    }),
    config.dateFormat ? { dateFormat: config.dateFormat } : undefined,
  );
  if (kind !== 'parquet') {
    await engine.run(
      `UPDATE ${staged} SET reason = p.__problem, raw_customer_id = NULL, raw_order_date = NULL, raw_amount = NULL
       FROM ${scratch} p WHERE p.__line = ${staged}.line AND p.__problem IS NOT NULL`,
    );
  }
  if (notAValue) {
    const [customer, date, amount] = fields.map((f) => f.column) as [string, string, string];
    await engine.run(notAValueRejectsSql(staged, scratch, kind === 'parquet' ? 'p.file_row_number + 1' : 'p.__line', { customer, date, amount }));
  }
  const days = `days_${index}`;
  const rejects = `rejects_${index}`;
  await engine.run(customerDaysSql(days, `(SELECT * FROM ${staged} WHERE reason IS NULL)`, mapping.order !== null));
  const rowsRead = (await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM ${staged}`))!.n;
  // Text formats have their lines: a rejected one shows as written (what DuckDB kept of one that is not UTF-8).
  await engine.run(
    `CREATE OR REPLACE TEMP TABLE ${rejects} AS
     SELECT s.line, s.reason, s.raw_customer_id AS customer_id, s.raw_order_date AS order_date, s.raw_amount AS amount,
            ${kind === 'parquet' ? 'NULL::VARCHAR' : 'l.line'} AS raw_line
     FROM ${staged} s ${kind === 'parquet' ? '' : `LEFT JOIN ${lines} l ON l.__line = s.line`}
     WHERE s.reason IS NOT NULL`,
  );
  await engine.run(`DROP TABLE ${staged}; DROP TABLE IF EXISTS ${scratch}; DROP TABLE IF EXISTS ${lines}`);
  return { file, days, rejects, hasOrderIds: mapping.order !== null, rowsRead };
}

/**
 * Marks the rows of a Parquet or NDJSON scratch table whose customer id, date
 * or amount is an object, a list or true/false (`__not_a_value`, see
 * parquetNotAValueSql and ndjsonNotAValueSql): they are rejects, and the
 * other rows read as they would without them. Whether any row can have one.
 */
async function markNotAValue(
  engine: Engine,
  kind: ReaderKind,
  scratch: string,
  lines: string,
  fields: readonly MappedField[],
  mapping: { customer: string; date: string; amount: string },
): Promise<boolean> {
  if (kind === 'ndjson') {
    const keys = [mapping.customer, mapping.date, mapping.amount];
    await engine.run(ndjsonNotAValueSql(scratch, lines, fields.map((f, i) => ({ ...f, pointer: jsonPointer(engine, keys[i]!) }))));
    return true;
  }
  if (kind !== 'parquet') return false;
  const types = new Map((await describe(engine, `SELECT * FROM ${scratch}`, null)).map((c) => [engine.dialect.quoteIdentifier(c.name), c.type] as const));
  const composite = fields.filter((f) => isCompositeType(types.get(f.column) ?? ''));
  if (composite.length === 0) return false;
  await engine.run(parquetNotAValueSql(scratch, composite));
  return true;
}

/** A JSON object's key as a JSON pointer (`/key`), as an SQL string. */
const jsonPointer = (engine: Engine, key: string) => engine.dialect.quoteString(`/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);

interface WhitespaceLayout {
  fields: number;
  header: boolean;
}

async function loadFile(engine: Engine, config: ScoreConfig, file: string, index: number): Promise<LoadedFile> {
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

async function loadByKind(engine: Engine, config: ScoreConfig, file: string, index: number, kind: ReturnType<typeof readerKindOf>): Promise<LoadedFile> {
  if (kind !== 'csv') return (await loadTyped(engine, config, file, index, kind)) ?? loadOther(engine, config, file, index, kind, null);
  if (config.delimiter === 'whitespace') {
    const layout = await sniffWhitespace(engine, file);
    if (!layout) throw new InputError(`${file}: not whitespace-separated text with a constant number of fields`);
    return loadOther(engine, config, file, index, 'whitespace', layout);
  }
  return loadCsv(engine, config, file, index);
}

interface SampleProbe {
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
async function probeSample(engine: Engine, file: string): Promise<SampleProbe> {
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
async function refuseAmbiguousDates(engine: Engine, file: string, column: string, type: string, textReader: string): Promise<void> {
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

async function describe(engine: Engine, sql: string, file: string | null): Promise<{ name: string; type: string }[]> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, file ? at(file) : undefined);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/**
 * The error for a text file DuckDB's reader failed on: the reader's own words,
 * unless the file mixes CRLF and LF line endings, which that reader cannot
 * read and does not name.
 */
async function textReadError(file: string, error: unknown, what = 'CSV'): Promise<CrmError> {
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
const cannotRead = (file: string, what: string, error: unknown): CrmError =>
  error instanceof OutOfMemoryError ? error : new InputError(`${file}: cannot be read as ${what} (${firstLine((error as Error).message)})`);

const firstLine = (message: string) => message.split('\n')[0]!.replace(/^[A-Za-z ]+Error: /, '');

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

/** A --date-format DuckDB cannot parse is a usage error, said before any file is read. */
async function checkDateFormat(engine: Engine, format: string): Promise<void> {
  try {
    await engine.one(DATE_FORMAT_CHECK_SQL, { format });
  } catch (error) {
    throw new UsageError(`--date-format ${format}: ${firstLine((error as Error).message)}`);
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

/** Whether a day is more than a day after the day of the run, as a row's date in the future is (isFutureDateSql). */
export const isFutureDay = (day: string, runDay: string) => Date.parse(day) - Date.parse(runDay) > 86_400_000;

/**
 * A day the user gives (`field`: the flag or config key) that is in the future, by the
 * rule of the future-date rejects, is a usage error: an as-of to come would make every
 * customer decades late, a holdout to come would count the purchases not yet made as missed.
 */
export function refuseFutureDay(field: string, day: string | undefined, runDay: string, timezone: string): void {
  if (day !== undefined && isFutureDay(day, runDay)) {
    throw new UsageError(`${field} ${day} is in the future (today is ${runDay} in ${timezone}): give a day that has passed, or leave it out for the latest transaction date`);
  }
}

/** Rejected rows per reason, most first. */
export async function rejectReasons(engine: Engine): Promise<Record<string, number>> {
  const rows = await engine.all<{ reason: string; n: number }>(`SELECT reason, count(*)::BIGINT AS n FROM rejects GROUP BY reason ORDER BY n DESC, reason`);
  return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
}

/**
 * Loads every input: `transactions` (a view of the accepted rows) and
 * `rejects` (source, line, reason, the raw fields, and the raw line for rows
 * the reader could not split). `now` is the run's clock: rows dated more than
 * a day after its day are rejected as in the future.
 */
export async function loadTransactions(engine: Engine, config: ScoreConfig, now: Date = new Date()): Promise<LoadResult> {
  if (config.dateFormat) await checkDateFormat(engine, config.dateFormat);
  await setRunDay(engine, now);
  const files = await expandInputs(engine, config.inputs);
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
    files: files.map((f) => path.normalize(f)),
    rowsRead,
    rowsAccepted: counts.accepted,
    rowsRejected: counts.rejected,
    hasOrderIds: loaded.some((f) => f.hasOrderIds),
    singleSource: loaded.length === 1,
    dayTables: loaded.map((f) => f.days),
  };
}

/** Drops customer_days and the tables behind it, for a job that needs no per-day rows any more. */
export async function dropCustomerDays(engine: Engine, loaded: Pick<LoadResult, 'dayTables'>): Promise<void> {
  await engine.run(`DROP VIEW IF EXISTS customer_days`);
  for (const table of loaded.dayTables) await engine.run(`DROP TABLE IF EXISTS ${engine.dialect.quoteIdentifier(table)}`);
}

