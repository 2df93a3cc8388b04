/** The whole-line slow paths: whitespace text, and Parquet or NDJSON with values to reject, read line by line so a bad line is a reject, not a failed run. */

import type { Engine, IngestOptions } from '../../Engine.js';
import { InputError } from '../../../errors.js';
import { classifyType, customerDaysSql, decodedLinesSql, INVALID_ENCODING_REASON, isCompositeType, lineTooLongReason, type MappedField, MAX_WHOLE_LINE_BYTES, ndjsonNotAValueSql, notAValueRejectsSql, parquetNotAValueSql, readerCall, type ReaderKind, stageRowsSql, whitespaceFieldsSql, WHOLE_LINES_SQL, wholeLinesWithUndecodedSql } from './queries.js';
import { resolveColumns } from '../../../config/columnMapping.js';
import { at, cannotRead, describe, dropRejectsTables, type LoadedFile, textReadError } from './readFiles.js';

/** What the whole-line reader found wrong with a line itself, before its fields are looked at (the first WHEN branches of a CASE). */
const WHOLE_LINE_PROBLEMS = `WHEN too_long THEN '${lineTooLongReason(MAX_WHOLE_LINE_BYTES)}' WHEN undecodable THEN '${INVALID_ENCODING_REASON}'`;

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
export async function readWholeLinesAnyBytes(engine: Engine, file: string, target: string): Promise<void> {
  const [decoded, undecoded] = [`${target}_decoded`, `${target}_undecoded`];
  await engine.run(decodedLinesSql(decoded, engine.dialect, undecoded), at(file));
  await engine.run(wholeLinesWithUndecodedSql(target, decoded, undecoded));
  await engine.run(`DROP TABLE ${decoded}`);
  await dropRejectsTables(engine, [undecoded]);
}

/**
 * Whitespace-aligned text, and Parquet or NDJSON with values to reject: read
 * into a scratch table, then staged. Text formats are read as whole lines in
 * file order (`__line` the physical line, blank lines counted), so a line
 * that cannot be a row (not UTF-8, the wrong number of fields, not a JSON
 * object) is a reject at its line (`__problem`), never a failed run or a
 * silently dropped row.
 */
export async function loadOther(engine: Engine, config: IngestOptions, file: string, index: number, kind: ReaderKind, whitespace: WhitespaceLayout | null): Promise<LoadedFile> {
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
export async function markNotAValue(
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
