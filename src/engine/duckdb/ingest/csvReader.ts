/** CSV through DuckDB's reader, and the scans that put every row it set aside (or skipped) in rejects at its line. */

import path from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import type { Engine, IngestOptions } from '../../Engine.js';
import { AMOUNT_TYPE, castRejectFieldsSql, castRejectLinesSql, CLEAN_DAYS_SQL, CSV_LINE_COUNTS_SQL, CSV_QUOTED_NON_BLANK_SQL, csvGapsSql, csvLineFlagsSql, csvPhysicalLinesSql, csvQuotedRangesSql, csvReaderRejectsSql, type CsvReadOptions, csvRejectedIdsSql, csvRejectPassesSql, csvSkippedRangesSql, csvTextRowsSql, csvTypedRejectsSql, csvValueRejectsSql, customerDaysSql, EMPTY_REJECTS_SQL, FILL_CAST_REJECT_FIELDS_SQL, READER_DIALECT_SQL, readerCall, readerProjectionSql, TRIM_IDS_SQL } from './queries.js';
import { resolveColumns } from '../../../config/columnMapping.js';
import { at, checkDays, describe, dropReaderRejects, type LoadedFile, selectParts, textReadError } from './readFiles.js';
import { dateReading, probeSample, refuseAmbiguousDates, type SampleProbe, sniffWhitespace } from './sniffing.js';
import { loadOther, readWholeLinesAnyBytes } from './wholeLines.js';

export async function loadCsv(engine: Engine, config: IngestOptions, file: string, index: number): Promise<LoadedFile> {
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
