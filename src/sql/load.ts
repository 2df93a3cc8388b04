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
  /** Column name → DuckDB type; every column gets one so unrelated columns never fail a cast. */
  types?: Record<string, string>;
  dateFormat?: { option: 'dateformat' | 'timestampformat'; format: string };
}

/** The reader call for one file. `$path` is the path. */
export function readerCall(kind: ReaderKind, csv: CsvReadOptions, rejectsTable: string | null, d: Dialect): string {
  switch (kind) {
    case 'parquet':
      return `read_parquet($path, file_row_number = true)`;
    case 'ndjson':
      return `read_json($path, format = 'newline_delimited')`;
    case 'whitespace':
      return `read_csv($path, columns = {'line': 'VARCHAR'}, delim = ${d.quoteString(WHOLE_LINE_DELIMITER)}, quote = '', escape = '', header = false, auto_detect = false)`;
    case 'csv': {
      const options: string[] = [];
      if (rejectsTable) {
        options.push('store_rejects = true', `rejects_table = ${d.quoteString(rejectsTable)}`, `rejects_scan = ${d.quoteString(`${rejectsTable}_scan`)}`);
      }
      if (csv.types) {
        options.push(`types = {${Object.entries(csv.types).map(([name, type]) => `${d.quoteString(name)}: ${d.quoteString(type)}`).join(', ')}}`);
      }
      if (csv.dateFormat) options.push(`${csv.dateFormat.option} = ${d.quoteString(csv.dateFormat.format)}`);
      if (csv.delimiter !== undefined) options.push(`delim = ${d.quoteString(csv.delimiter)}`);
      if (csv.header !== undefined) options.push(`header = ${csv.header}`);
      return `read_csv($path${options.map((o) => `, ${o}`).join('')})`;
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
  /** Expression for the line number of the row in its file; NULL when it is derived later from the row position. */
  line: string;
  hasExplicitFormat: boolean;
}

/**
 * One row per input row, in file order: the parsed values and the first
 * reason it cannot be used (NULL when it is accepted).
 */
export function parsedRowsSql(from: string, s: StagedSelect): string {
  const date = parseDateSql(s.date, s.dateType, s.hasExplicitFormat);
  const amount = parseAmountSql(s.amount, s.amountType);
  return `
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
SELECT line, customer_id, order_date, amount, order_id, reason,
       -- The raw text is kept for rejected rows only: accepted rows need none of it.
       CASE WHEN reason IS NOT NULL THEN raw_customer_id END AS raw_customer_id,
       CASE WHEN reason IS NOT NULL THEN raw_order_date END AS raw_order_date,
       CASE WHEN reason IS NOT NULL THEN raw_amount END AS raw_amount
FROM (
  SELECT *,
    CASE
      WHEN customer_id IS NULL OR customer_id = '' THEN 'missing customer id'
      WHEN raw_order_date IS NULL OR trim(raw_order_date) = '' THEN 'missing date'
      WHEN order_date IS NULL THEN 'unparseable date'
      WHEN raw_amount IS NULL OR trim(raw_amount) = '' THEN 'missing amount'
      WHEN amount IS NULL THEN 'non-numeric amount'
    END AS reason
  FROM parsed
)`;
}

/** The reader's columns as customer_id, order_date, amount, order_id, with no per-row checks. */
export function readerProjectionSql(reader: string, s: Omit<StagedSelect, 'line'>): string {
  return `(SELECT ${s.customer} AS customer_id, ${parseDateSql(s.date, s.dateType, s.hasExplicitFormat)} AS order_date, ${s.amount} AS amount,
    ${s.order ? `NULLIF(trim(CAST(${s.order} AS VARCHAR)), '')` : 'NULL::VARCHAR'} AS order_id FROM ${reader})`;
}

/** Every row in file order, for line numbers (rowid is the row's position). */
export const stageRowsSql = (target: string, from: string, s: StagedSelect) =>
  `CREATE OR REPLACE TEMP TABLE ${target} AS ${parsedRowsSql(from, s)}`;

/**
 * The rows reduced, as they are read, to one row per customer, day (and order
 * id when mapped): every later stage works from this table, never from the
 * raw rows again. Nothing is trimmed or checked here, to keep the one pass
 * over the data lean: a row with a missing value lands in a group with a NULL
 * or blank key, or with amount_rows < rows, which DAYS_CHECK_SQL finds.
 */
export const customerDaysSql = (target: string, from: string, byOrderId: boolean) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT customer_id, order_date, ${byOrderId ? 'order_id' : 'NULL::VARCHAR AS order_id'},
       sum(amount) AS amount, count(*)::BIGINT AS rows, count(amount)::BIGINT AS amount_rows
FROM ${from}
GROUP BY customer_id, order_date${byOrderId ? ', order_id' : ''}`;

/**
 * In one scan: all rows, the rows that cannot be accepted (no customer id,
 * no parseable date, no amount), and the groups whose id has surrounding blanks.
 */
export const DAYS_CHECK_SQL = (days: string) => `
SELECT coalesce(sum(rows), 0)::BIGINT AS rows,
       coalesce(sum(CASE WHEN customer_id IS NULL OR customer_id = '' OR order_date IS NULL THEN rows
                         -- trim() only where a blank shows at either end: it is the costly part of this scan
                         WHEN (customer_id LIKE ' %' OR customer_id LIKE '% ') AND trim(customer_id) = '' THEN rows
                         ELSE rows - amount_rows END), 0)::BIGINT AS rejected,
       count(*) FILTER (WHERE customer_id LIKE ' %' OR customer_id LIKE '% ')::BIGINT AS untrimmed
FROM ${days}`;

/** Drops what DAYS_CHECK_SQL counted as rejected (the rows themselves are in the rejects table by then). */
export const CLEAN_DAYS_SQL = (days: string) => [
  `DELETE FROM ${days} WHERE customer_id IS NULL OR trim(customer_id) = '' OR order_date IS NULL OR amount_rows = 0`,
  `UPDATE ${days} SET rows = amount_rows WHERE amount_rows < rows`,
];

/** Ids with surrounding blanks are the same customer as without: regroup, only when some exist. */
export const TRIM_IDS_SQL = (days: string) => `
CREATE OR REPLACE TEMP TABLE ${days} AS
SELECT trim(customer_id) AS customer_id, order_date, order_id, sum(amount) AS amount, sum(rows)::BIGINT AS rows, sum(amount_rows)::BIGINT AS amount_rows
FROM ${days} GROUP BY ALL`;

/**
 * DuckDB's CSV reader drops malformed lines (too many or too few fields,
 * unterminated quotes, values that fail their column type) into its rejects
 * table, so the row positions of the ordered pass skip them. Each such line
 * shifts the later rows by one: the row at position p (0-based, counting from
 * the first data line) sits at line p + first_data_line + #{rejected lines before it}.
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

/** Rows DuckDB's CSV reader set aside, one per line, with our reason where the column tells it. */
export const READER_REJECTS_SQL = (rejectsTable: string) => `
SELECT line,
       CASE WHEN any_value(error_type) = 'CAST' AND any_value(column_name) = $dateColumn THEN 'unparseable date'
            WHEN any_value(error_type) = 'CAST' AND any_value(column_name) = $amountColumn THEN 'non-numeric amount'
            ELSE lower(replace(any_value(error_type), '_', ' ')) || ': ' || any_value(error_message) END AS reason,
       any_value(csv_line) AS raw_line
FROM ${rejectsTable} GROUP BY line`;
