/** Parquet and NDJSON through DuckDB's typed readers, when every mapped value is usable as it is. */

import type { Engine, IngestOptions } from '../../Engine.js';
import { InputError } from '../../../errors.js';
import { classifyType, customerDaysSql, EMPTY_REJECTS_SQL, isCompositeType, parseAmountSql, readerCall, readerProjectionSql, TRIM_IDS_SQL, unusableColumnType } from './queries.js';
import { resolveColumns } from '../../../config/columnMapping.js';
import { at, cannotRead, checkDays, describe, type LoadedFile } from './readFiles.js';

/**
 * Parquet and NDJSON carry their own types, so the common case is one pass:
 * reader → customer-day groups, as for CSV. Only a file with values to
 * reject (which need line numbers) returns null and is read again the slow
 * way, by loadOther; so does an NDJSON file DuckDB's reader gives up on (a
 * line that is not JSON, a text where its sample found numbers).
 */
export async function loadTyped(engine: Engine, config: IngestOptions, file: string, index: number, kind: 'parquet' | 'ndjson'): Promise<LoadedFile | null> {
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
