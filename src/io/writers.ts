import type { Dialect } from '../engine/dialect.js';
import type { TableFormat } from '../engine/Engine.js';

export type { TableFormat, WriteOptions } from '../engine/Engine.js';

export const EXTENSION: Record<TableFormat, string> = { parquet: 'parquet', csv: 'csv', json: 'json', arrow: 'arrow' };

/**
 * A text expression made safe to open in a spreadsheet (OWASP CSV injection):
 * text starting with = + - @, a tab or a carriage return gets a leading `'`,
 * so `=HYPERLINK(…)` or a customer id `-C5` shows as text and runs nothing.
 * For CSV text columns only: numbers and dates (a revenue of -12.5) stay as they are.
 * (No chr(9) here: with it in the expression, DuckDB 1.5 wrote a sorted
 * table's rows to CSV out of order, preserve_insertion_order or not.)
 */
export const excelSafeSql = (d: Dialect) => (text: string) =>
  `CASE WHEN ${d.sql.regexpMatches(text, "'^[-=+@\\t\\r]'")} THEN '''' || ${text} ELSE ${text} END`;
