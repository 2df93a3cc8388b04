/**
 * Load and validate: DuckDB's own readers pull each input file into a scratch
 * table of raw values; one set-based pass then parses dates and amounts and
 * gives every row either a parsed form or a reject reason.
 *
 * Paths always go in as bound parameters (`$path`); column names are quoted.
 */
import type { Dialect } from '../engine/dialect.js';

export type ReaderKind = 'csv' | 'whitespace' | 'parquet' | 'ndjson';

/** A control character no transaction export uses, so a whole line arrives as one field. */
export const WHOLE_LINE_DELIMITER = '\u001f';

export interface CsvReadOptions {
  delimiter?: string;
  header?: boolean;
}

/** The reader call for one file. `$path` is the path. */
export function readerCall(kind: ReaderKind, csv: CsvReadOptions, rejectsTable: string, d: Dialect): string {
  switch (kind) {
    case 'parquet':
      return `read_parquet($path)`;
    case 'ndjson':
      return `read_json($path, format = 'newline_delimited')`;
    case 'whitespace':
      return `read_csv($path, columns = {'line': 'VARCHAR'}, delim = ${d.quoteString(WHOLE_LINE_DELIMITER)}, quote = '', escape = '', header = false, auto_detect = false)`;
    case 'csv': {
      const options = [
        'all_varchar = true',
        'store_rejects = true',
        `rejects_table = ${d.quoteString(rejectsTable)}`,
        `rejects_scan = ${d.quoteString(`${rejectsTable}_scan`)}`,
      ];
      if (csv.delimiter !== undefined) options.push(`delim = ${d.quoteString(csv.delimiter)}`);
      if (csv.header !== undefined) options.push(`header = ${csv.header}`);
      return `read_csv($path, ${options.join(', ')})`;
    }
  }
}

/** Whitespace-separated text (the CDNOW layout): split each line on runs of blanks. */
export function whitespaceFieldsSql(line: string): string {
  return `string_split_regex(trim(${line}), '\\s+')`;
}

export type SourceType = 'text' | 'date' | 'timestamp' | 'timestamptz' | 'number';

export function classifyType(duckdbType: string): SourceType {
  const t = duckdbType.toUpperCase();
  if (t === 'DATE') return 'date';
  if (t.startsWith('TIMESTAMP WITH TIME ZONE') || t === 'TIMESTAMPTZ') return 'timestamptz';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (/^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(t)) return 'number';
  return 'text';
}

/**
 * Text → DATE. With an explicit `--date-format` only that format is tried.
 * Otherwise ISO dates, `YYYYMMDD`, and timestamps (with or without an offset),
 * a timestamp being reduced to its calendar date in the session time zone.
 */
export function parseDateSql(value: string, type: SourceType, hasExplicitFormat: boolean): string {
  switch (type) {
    case 'date':
      return value;
    case 'timestamp':
      return `CAST(${value} AS DATE)`;
    case 'timestamptz':
      return `CAST(${value} AS DATE)`;
    case 'number':
      return `try_strptime(CAST(${value} AS VARCHAR), '%Y%m%d')::DATE`;
    case 'text':
      if (hasExplicitFormat) return `CAST(try_strptime(trim(${value}), $dateFormat) AS DATE)`;
      return `CASE
        WHEN length(trim(${value})) = 10 THEN try_cast(trim(${value}) AS DATE)
        WHEN regexp_full_match(trim(${value}), '[0-9]{8}') THEN CAST(try_strptime(trim(${value}), '%Y%m%d') AS DATE)
        ELSE CAST(try_cast(trim(${value}) AS TIMESTAMPTZ) AS DATE)
      END`;
  }
}

/** Amounts are exact decimals, so sums do not depend on row order. */
export const AMOUNT_TYPE = 'DECIMAL(18,4)';

export function parseAmountSql(value: string, type: SourceType): string {
  return type === 'number' ? `try_cast(${value} AS ${AMOUNT_TYPE})` : `try_cast(trim(${value}) AS ${AMOUNT_TYPE})`;
}

export interface StagedSelect {
  /** Expression giving the raw text of each mapped field (for rejects.csv). */
  customer: string;
  date: string;
  amount: string;
  order: string | null;
  dateType: SourceType;
  amountType: SourceType;
  /** Expression for the line number of the row in its file. */
  line: string;
  hasExplicitFormat: boolean;
}

/**
 * One row per input row: the parsed values, the raw text, and the first
 * reason it cannot be used (NULL when it is accepted). `$source` names the file.
 */
export function stageRowsSql(target: string, from: string, s: StagedSelect): string {
  const date = parseDateSql(s.date, s.dateType, s.hasExplicitFormat);
  const amount = parseAmountSql(s.amount, s.amountType);
  return `
CREATE OR REPLACE TEMP TABLE ${target} AS
WITH parsed AS (
  SELECT
    ${s.line} AS line,
    trim(CAST(${s.customer} AS VARCHAR)) AS customer_id,
    ${date} AS order_date,
    ${amount} AS amount,
    ${s.order ? `NULLIF(trim(CAST(${s.order} AS VARCHAR)), '')` : 'NULL::VARCHAR'} AS order_id,
    CAST(${s.customer} AS VARCHAR) AS raw_customer_id,
    CAST(${s.date} AS VARCHAR) AS raw_order_date,
    CAST(${s.amount} AS VARCHAR) AS raw_amount
  FROM ${from}
)
SELECT
  $source AS source, line, customer_id, order_date, amount, order_id,
  raw_customer_id, raw_order_date, raw_amount, NULL::VARCHAR AS raw_line,
  CASE
    WHEN customer_id IS NULL OR customer_id = '' THEN 'missing customer id'
    WHEN raw_order_date IS NULL OR trim(raw_order_date) = '' THEN 'missing date'
    WHEN order_date IS NULL THEN 'unparseable date'
    WHEN raw_amount IS NULL OR trim(raw_amount) = '' THEN 'missing amount'
    WHEN amount IS NULL THEN 'non-numeric amount'
  END AS reason
FROM parsed`;
}

/**
 * DuckDB's CSV reader drops malformed lines (too many or too few fields,
 * unterminated quotes) into its rejects table, so the row numbers of the
 * scratch table skip them. Each such line shifts the later rows by one: the
 * accepted row at position p (0-based, counting from the first data line)
 * sits at line p + first_data_line + #{rejected lines before it}.
 */
export function csvLineSql(rowid: string, firstDataLine: number, shiftsTable: string | null): string {
  if (!shiftsTable) return `(${rowid} + ${firstDataLine})`;
  return `(${rowid} + ${firstDataLine} + coalesce((SELECT max(shift) FROM ${shiftsTable} WHERE gap <= ${rowid} + ${firstDataLine} - 1), 0))`;
}

export function csvShiftsSql(shiftsTable: string, rejectsTable: string): string {
  return `
CREATE OR REPLACE TEMP TABLE ${shiftsTable} AS
SELECT line - row_number() OVER (ORDER BY line) AS gap, row_number() OVER (ORDER BY line) AS shift
FROM (SELECT DISTINCT line FROM ${rejectsTable})`;
}

export const STRUCTURAL_REJECTS_SQL = (rejectsTable: string) => `
SELECT $source AS source, line, any_value(error_type) AS error_type, any_value(error_message) AS message, any_value(csv_line) AS raw_line
FROM ${rejectsTable} GROUP BY line ORDER BY line`;
