/**
 * Load and validate: DuckDB's own readers pull each input file into a scratch
 * table of raw values; one set-based pass then parses dates and amounts and
 * gives every row either a parsed form or a reject reason.
 *
 * Paths always go in as bound parameters (`$path`); column names are quoted.
 */
import type { Dialect } from '../../dialect.js';

export type ReaderKind = 'csv' | 'whitespace' | 'parquet' | 'ndjson';

/** A control character no transaction export uses, so a whole line arrives as one field. */
export const WHOLE_LINE_DELIMITER = '\u001f';

export interface CsvReadOptions {
  delimiter?: string;
  header?: boolean;
  /** Column name → DuckDB type; every column gets one so unrelated columns never fail a cast. */
  types?: Record<string, string>;
  dateFormat?: { option: 'dateformat' | 'timestampformat'; format: string };
  /** Quote and escape characters, when not left to DuckDB's sniffer. */
  quote?: string;
  escape?: string;
  /** The decimal mark of numbers, when not '.'. */
  decimalSeparator?: ',';
}

/**
 * The longest line DuckDB's CSV reader takes. Its default, 2 MB, failed a
 * whole file over one long note (and named line 1). Four times that is read;
 * more made DuckDB's sniffer slow to give up on a file with a line over the
 * limit (32 MB: 37 s, 8 MB: 1.4 s, on a 40 MB line). The read buffer stays at
 * its default size, 32 MB (16 default lines). A longer line fails the run
 * with its line number (the load's textReadError), or past the lines the
 * sniffer samples is a reject (lineTooLongReason).
 */
export const MAX_LINE_BYTES = 8_000_000;
const LINE_SIZE_OPTIONS = `max_line_size = ${MAX_LINE_BYTES}, buffer_size = 32000000`;

/**
 * The longest line the whole-line reader takes (NDJSON and whitespace-aligned
 * text, and the line numbers of CSV rejects). It sniffs nothing, so a longer
 * line is a quick reject; 64 MB is more than DuckDB's NDJSON reader takes in
 * one object (16 MB), so a line that reader reads is read here too.
 */
export const MAX_WHOLE_LINE_BYTES = 64_000_000;
const WHOLE_LINE_SIZE_OPTIONS = `max_line_size = ${MAX_WHOLE_LINE_BYTES}, buffer_size = ${MAX_WHOLE_LINE_BYTES}`;

/** The reason of a line longer than a reader takes. */
export const lineTooLongReason = (bytes: number) => `line too long: over ${bytes} bytes`;

/**
 * Each line of `$path` as one text field, `line` (NULL when blank), in file
 * order; in `encoding` when given. With `rejectsTable`, a line the reader
 * cannot take (bytes that do not decode, over its size) goes there instead of
 * failing the read. `sizes`: the CSV reader's, for a look at the first lines
 * only (its smaller buffer is read faster).
 */
const wholeLineReader = (d: Dialect, encoding?: 'utf-8' | 'latin-1', rejectsTable?: string, sizes = WHOLE_LINE_SIZE_OPTIONS) =>
  `read_csv($path, columns = {'line': 'VARCHAR'}, delim = ${d.quoteString(WHOLE_LINE_DELIMITER)}, quote = '', escape = '', header = false, auto_detect = false, ${sizes}${
    encoding ? `, encoding = '${encoding}'` : ''
  }${rejectsTable ? `, store_rejects = true, rejects_table = ${d.quoteString(rejectsTable)}, rejects_scan = ${d.quoteString(`${rejectsTable}_scan`)}` : ''})`;

/** read_csv's options for a CSV file, each as `name = value`. */
function csvOptions(csv: CsvReadOptions, rejectsTable: string | null, d: Dialect): string[] {
  const options: string[] = [LINE_SIZE_OPTIONS];
  if (rejectsTable) {
    options.push('store_rejects = true', `rejects_table = ${d.quoteString(rejectsTable)}`, `rejects_scan = ${d.quoteString(`${rejectsTable}_scan`)}`);
  }
  if (csv.types) {
    options.push(`types = {${Object.entries(csv.types).map(([name, type]) => `${d.quoteString(name)}: ${d.quoteString(type)}`).join(', ')}}`);
  }
  if (csv.dateFormat) options.push(`${csv.dateFormat.option} = ${d.quoteString(csv.dateFormat.format)}`);
  if (csv.delimiter !== undefined) options.push(`delim = ${d.quoteString(csv.delimiter)}`);
  if (csv.header !== undefined) options.push(`header = ${csv.header}`);
  if (csv.quote !== undefined) options.push(`quote = ${d.quoteString(csv.quote)}`);
  if (csv.escape !== undefined) options.push(`escape = ${d.quoteString(csv.escape)}`);
  if (csv.decimalSeparator !== undefined) options.push(`decimal_separator = ${d.quoteString(csv.decimalSeparator)}`);
  return options;
}

/** A line of whitespace-aligned text or NDJSON that is not UTF-8 (DuckDB's CSV reader gives such lines its own message). */
export const INVALID_ENCODING_REASON = 'invalid encoding: the line is not UTF-8';


/** Lines DuckDB's CSV sniffer reads by default (its sample_size). */
export const CSV_SNIFF_SAMPLE_LINES = 20_480;

/**
 * In the first lines of `$path`, those DuckDB's sniffer samples, read as
 * `encoding`: whether a double quote shows (`quoted`), and whether something
 * like a day-and-month date does (01/02/2024, 1.2.24: `day_month_dates`).
 */
export const csvSampleProbeSql = (d: Dialect, encoding: 'utf-8' | 'latin-1') => `
SELECT coalesce(bool_or(contains(line, '"')), false) AS quoted,
       coalesce(bool_or(regexp_matches(line, '(^|[^0-9])[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}([^0-9]|$)')), false) AS day_month_dates
FROM (SELECT line FROM ${wholeLineReader(d, encoding, undefined, LINE_SIZE_OPTIONS)} LIMIT ${CSV_SNIFF_SAMPLE_LINES + 1})`;

/** The date and timestamp formats DuckDB's sniffer finds in `$path` (NULL when none). */
export const SNIFFED_DATE_FORMATS_SQL = `SELECT "DateFormat" AS date_format, "TimestampFormat" AS timestamp_format FROM sniff_csv($path, ${LINE_SIZE_OPTIONS})`;

/**
 * Whether every value of a column in the first lines of `$path` (read by
 * `textReader`, every column as text) parses with `$format`, and the first
 * such value: a date format the sniffer chose is ambiguous when its day and
 * month swapped fit just as well.
 */
export const sampleFitsDateFormatSql = (textReader: string, column: string) => `
SELECT coalesce(bool_and(try_strptime(value, $format) IS NOT NULL), false) AS fits, min(value) AS example
FROM (SELECT trim(${column}) AS value FROM ${textReader} LIMIT ${CSV_SNIFF_SAMPLE_LINES})
WHERE value IS NOT NULL AND value <> ''`;

/**
 * A file's name as DuckDB's readers take it: they expand `*`, `?` and `[` in
 * any path, so `tx[1].csv` read `tx1.csv`. Each is written as a class of
 * itself (`[[]`), which matches only that character. (A backslash cannot be
 * written so: see expandInputs.)
 */
export const literalPath = (file: string) => file.replace(/[*?[]/g, (c) => `[${c}]`);

/** The reader call for one file. `$path` is the path. */
export function readerCall(kind: ReaderKind, csv: CsvReadOptions, rejectsTable: string | null, d: Dialect): string {
  switch (kind) {
    case 'parquet':
      return `read_parquet($path, file_row_number = true)`;
    case 'ndjson':
      return `read_json($path, format = 'newline_delimited')`;
    case 'whitespace':
      return wholeLineReader(d, undefined, rejectsTable ?? undefined);
    case 'csv':
      return `read_csv($path${csvOptions(csv, rejectsTable, d)
        .map((o) => `, ${o}`)
        .join('')})`;
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
 * What a typed column holds when it cannot be the date or the amount, in the
 * user's words (`times of day (TIME)`); null when it can. Dates come as dates,
 * timestamps, YYYYMMDD numbers or text; amounts as numbers or text. Composite
 * types (isCompositeType) are per-row rejects, not this.
 */
export function unusableColumnType(type: string, role: 'date' | 'amount'): string | null {
  const t = type.trim().toUpperCase();
  if (isCompositeType(t) || /^(VARCHAR|ENUM)\b/.test(t)) return null;
  const kind = classifyType(t);
  if (kind === 'number' || (role === 'date' && kind !== 'text')) return null;
  const name = type.trim();
  if (/^TIME(_NS)?$|^TIME /.test(t)) return `times of day (${name})`;
  if (t === 'INTERVAL') return `durations (${name})`;
  if (t === 'BLOB') return `binary data (${name})`;
  return kind === 'text' ? `${name} values` : `dates (${name})`;
}

/** The fields a value of the wrong shape can be in, as rejects.csv names them. */
export type ValueField = 'customer id' | 'date' | 'amount';

/** The reason for an object, list or true/false where text or a number belongs. */
export const notAValueReason = (field: ValueField) => `${field} is not a text or number value`;

/**
 * A DuckDB type that is neither text nor a number nor a date: JSON (what
 * DuckDB's NDJSON reader makes of a key holding an object on one line and
 * text on others), STRUCT, MAP, UNION, a list (`VARCHAR[]`), BOOLEAN. Cast to
 * text it changes every value (`"C0"` for C0) or reads as one (`{'id': A1}`).
 */
export const isCompositeType = (type: string) => /^(JSON|STRUCT|MAP|UNION|BOOLEAN)\b|\]$/i.test(type.trim());

/** A mapped field: its reason's name and its column, quoted. */
export interface MappedField {
  field: ValueField;
  column: string;
}

/**
 * Parquet columns of a composite type (isCompositeType) become their text, and
 * `__not_a_value` the reason of the first such field a row has a value in.
 */
export const parquetNotAValueSql = (scratch: string, composite: readonly MappedField[]) => `
CREATE OR REPLACE TEMP TABLE ${scratch} AS
SELECT * REPLACE (${[...new Set(composite.map((f) => f.column))].map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')}),
       CASE ${composite.map((f) => `WHEN ${f.column} IS NOT NULL THEN '${notAValueReason(f.field)}'`).join(' ')} END AS __not_a_value
FROM ${scratch}`;

/**
 * NDJSON lines (`lines`: __line, line) whose mapped key holds an object, an
 * array or true/false: `__not_a_value` on their row in `scratch` (the values
 * as json_extract_string gives them, `__problem` for lines that are not an
 * object). Only values that start like one are looked at again.
 */
export const ndjsonNotAValueSql = (scratch: string, lines: string, fields: readonly (MappedField & { pointer: string })[]) => `
ALTER TABLE ${scratch} ADD COLUMN __not_a_value VARCHAR;
UPDATE ${scratch} SET __not_a_value = CASE ${fields
  .map((f) => `WHEN json_type(l.line, ${f.pointer}) IN ('OBJECT', 'ARRAY', 'BOOLEAN') THEN '${notAValueReason(f.field)}'`)
  .join(' ')} END
FROM ${lines} l
WHERE l.__line = ${scratch}.__line AND ${scratch}.__problem IS NULL
  AND (${fields.map((f) => `left(${scratch}.${f.column}, 1) IN ('{', '[') OR ${scratch}.${f.column} IN ('true', 'false')`).join(' OR ')})`;

/** Staged rows (line) whose row in `scratch` (at `scratchLine`) has `__not_a_value`: rejected with it, their fields as text. */
export const notAValueRejectsSql = (staged: string, scratch: string, scratchLine: string, c: { customer: string; date: string; amount: string }) => `
UPDATE ${staged} SET reason = p.__not_a_value,
  raw_customer_id = CAST(p.${c.customer} AS VARCHAR), raw_order_date = CAST(p.${c.date} AS VARCHAR), raw_amount = CAST(p.${c.amount} AS VARCHAR)
FROM ${scratch} p WHERE ${scratchLine} = ${staged}.line AND p.__not_a_value IS NOT NULL`;

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

/**
 * A rejected amount that reads as a number with a decimal comma (12,50 or
 * 1.234,50), if any: the hint to run with --decimal-separator ','.
 */
export const DECIMAL_COMMA_AMOUNT_SQL = `
SELECT trim(amount) AS amount FROM rejects
WHERE reason = 'non-numeric amount' AND regexp_full_match(trim(amount), '-?[0-9][0-9.]*,[0-9]+')
ORDER BY source, line LIMIT 1`;

/**
 * Reasons DuckDB's CSV reader cannot tell apart, set once on the run's
 * rejects: an amount that is a number, only too large for an amount
 * (DECIMAL(18,4): 99999999999999999, 1e20) is out of range, not non-numeric
 * (NaN and Infinity stay non-numeric); a date or amount of blanks only, which
 * that reader fails to cast, is missing, as an empty one is.
 */
export const refineRejectReasonsSql = (decimalSeparator: '.' | ',') => `
UPDATE rejects SET reason = 'amount out of range'
WHERE reason = 'non-numeric amount'
  AND regexp_full_match(trim(amount), '[+-]?([0-9]+([${decimalSeparator}][0-9]*)?|[${decimalSeparator}][0-9]+)([eE][+-]?[0-9]+)?');
UPDATE rejects SET reason = 'missing amount' WHERE reason = 'non-numeric amount' AND trim(amount) = '';
UPDATE rejects SET reason = 'missing date' WHERE reason = 'unparseable date' AND trim(order_date) = ''`;

/** A rejected date written day-and-month (01/02/2024), if any: the hint to run with --date-format. */
export const DAY_MONTH_DATE_SQL = `
SELECT trim(order_date) AS order_date FROM rejects
WHERE reason = 'unparseable date' AND regexp_full_match(trim(order_date), '[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}')
ORDER BY source, line LIMIT 1`;

/** Fails when DuckDB cannot parse the strptime format `$format` (a date need not match it). */
export const DATE_FORMAT_CHECK_SQL = `SELECT try_strptime('2024-01-31', $format) AS parsed`;

/**
 * The day of the run, on the machine's clock in the session time zone: a
 * DuckDB variable that SET_RUN_DAY_SQL sets before any file is read, so that
 * every pass of the load (and the default as-of) sees the same day.
 */
export const RUN_DAY = `getvariable('crm_run_day')`;

/** `$now`, an instant, as the day of the run (RUN_DAY). */
export const SET_RUN_DAY_SQL = `SET VARIABLE crm_run_day = CAST(CAST($now AS TIMESTAMPTZ) AS DATE)`;

export const FUTURE_DATE_REASON = 'date in the future';

/**
 * Whether a date is more than a day after the day of the run: a mistyped
 * 2099 would otherwise become the default as-of and move every customer's
 * recency. The day's grace is for an export written in a time zone ahead of
 * the machine's.
 */
export const isFutureDateSql = (date: string) => `(${date} > ${RUN_DAY} + 1)`;

/** Amounts are exact decimals, so sums do not depend on row order. */
export const AMOUNT_TYPE = 'DECIMAL(18,4)';

/** An amount from a number, or from text with `decimalSeparator` as its decimal mark. */
export function parseAmountSql(value: string, type: SourceType, decimalSeparator: '.' | ',' = '.'): string {
  if (type === 'number') return `try_cast(${value} AS ${AMOUNT_TYPE})`;
  return decimalSeparator === ',' ? `try_cast(replace(trim(${value}), ',', '.') AS ${AMOUNT_TYPE})` : `try_cast(trim(${value}) AS ${AMOUNT_TYPE})`;
}

/**
 * A customer id without the spaces around it. Only ASCII spaces: DuckDB's
 * trim() also strips Unicode spaces (U+00A0, U+2000..., U+3000), which the
 * cheap `LIKE ' %'` test of the clean path (DAYS_CHECK_SQL) cannot see, so an
 * id of a non-breaking space was accepted by that path and rejected by the
 * one that files have when they have rejects. Other whitespace is part of the id.
 */
export const trimIdSql = (value: string) => `trim(${value}, ' ')`;

/**
 * Whether a (non-NULL) id column is empty once trimmed, calling trim() only
 * where a blank shows at either end: trim() on every id was the costly part of
 * the scans over the customer days that look for rejected rows.
 */
export const blankIdSql = (column: string) => `(${column} = '' OR ((${column} LIKE ' %' OR ${column} LIKE '% ') AND ${trimIdSql(column)} = ''))`;

export interface StagedSelect {
  /** Expression giving the raw text of each mapped field (for rejects.csv). */
  customer: string;
  date: string;
  amount: string;
  order: string | null;
  dateType: SourceType;
  amountType: SourceType;
  /** The decimal mark of amounts given as text (default '.'). */
  decimalSeparator?: '.' | ',';
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
  const amount = parseAmountSql(s.amount, s.amountType, s.decimalSeparator);
  return `
WITH parsed AS (
  SELECT
    ${s.line} AS line,
    ${trimIdSql(`CAST(${s.customer} AS VARCHAR)`)} AS customer_id,
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
      -- Last: DuckDB's CSV reader sets a non-numeric amount aside whatever the date.
      WHEN ${isFutureDateSql('order_date')} THEN '${FUTURE_DATE_REASON}'
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
 *
 * A day's total stays an amount (DECIMAL(18,4), a 64-bit decimal) rather
 * than the 128-bit DECIMAL(38,4) of sum(): every later sum then adds 64-bit
 * values, which made the customer aggregate a sixth faster. A day summing past
 * 10^14 (no CRM export has one) fails the load with DuckDB's out-of-range
 * error instead of losing digits.
 */
export const customerDaysSql = (target: string, from: string, byOrderId: boolean) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT customer_id, order_date, ${byOrderId ? 'order_id' : 'NULL::VARCHAR AS order_id'},
       sum(amount)::${AMOUNT_TYPE} AS amount, count(*)::BIGINT AS rows, count(amount)::BIGINT AS amount_rows
FROM ${from}
GROUP BY customer_id, order_date${byOrderId ? ', order_id' : ''}`;

/**
 * In one scan: all rows, the rows that cannot be accepted (no customer id,
 * no parseable date, a date in the future, no amount), and the groups whose
 * id has surrounding blanks.
 */
export const DAYS_CHECK_SQL = (days: string) => `
SELECT coalesce(sum(rows), 0)::BIGINT AS rows,
       coalesce(sum(CASE WHEN customer_id IS NULL OR order_date IS NULL OR ${isFutureDateSql('order_date')} OR ${blankIdSql('customer_id')} THEN rows
                         ELSE rows - amount_rows END), 0)::BIGINT AS rejected,
       count(*) FILTER (WHERE customer_id LIKE ' %' OR customer_id LIKE '% ')::BIGINT AS untrimmed
FROM ${days}`;

/** A file's rejects table, empty: rows are added by the passes that find them. */
export const EMPTY_REJECTS_SQL = (target: string) =>
  `CREATE OR REPLACE TEMP TABLE ${target} (line BIGINT, reason VARCHAR, customer_id VARCHAR, order_date VARCHAR, amount VARCHAR, raw_line VARCHAR)`;

/** Drops what DAYS_CHECK_SQL counted as rejected (the rows themselves are in the rejects table by then). */
export const CLEAN_DAYS_SQL = (days: string) => [
  `DELETE FROM ${days} WHERE customer_id IS NULL OR order_date IS NULL OR ${isFutureDateSql('order_date')} OR amount_rows = 0 OR ${blankIdSql('customer_id')}`,
  `UPDATE ${days} SET rows = amount_rows WHERE amount_rows < rows`,
];

/** Ids with surrounding blanks are the same customer as without: regroup, only when some exist. */
export const TRIM_IDS_SQL = (days: string) => `
CREATE OR REPLACE TEMP TABLE ${days} AS
SELECT ${trimIdSql('customer_id')} AS customer_id, order_date, order_id, sum(amount)::${AMOUNT_TYPE} AS amount, sum(rows)::BIGINT AS rows, sum(amount_rows)::BIGINT AS amount_rows
FROM ${days} GROUP BY ALL`;

/**
 * Line numbers of rejected CSV rows, for files with rejects only (the clean
 * path never reads a file twice). DuckDB's CSV reader yields rows without
 * their line, skips blank lines, and numbers the lines it sets aside (its
 * rejects table) by counting line breaks outside quoted fields: blank lines
 * count, a quoted field's own line breaks do not. So a file with rejects is
 * read once more as whole lines (the whole-line reader keeps blank lines, as
 * NULL, so the row at position p is line p + 1), and each row is placed at the
 * physical line where its record starts: the rows of a reader, in order, fill
 * the lines that are not skipped (blank lines, continuation lines of quoted
 * fields, lines that reader set aside). Skipped lines are few, so everything
 * past the whole-line read works on them, not on every line.
 *
 * `target`: one row per physical line, in file order (read it with
 * preserve_insertion_order on): is it blank, does it hold an odd number of
 * double quotes. The lines are decoded as UTF-8, like the CSV reader does. A
 * file with lines that are not UTF-8 (which the CSV reader set aside) is read
 * into a table by {@link decodedLinesSql} and {@link wholeLinesWithUndecodedSql}
 * instead, so those lines still count (blanks and double quotes are the same
 * bytes in any encoding a CSV export uses), and its flags come from
 * {@link csvLineFlagsSql}.
 * Quotes are counted only on lines that have one: counting them on every
 * line (replace() copies each line) took half the time of this pass.
 */
const LINE_FLAGS_SQL = `line IS NULL AS blank,
       CASE WHEN contains(line, '"') THEN (strlen(line) - strlen(replace(line, '"', ''))) % 2 = 1 ELSE false END AS odd_quotes`;

export const csvPhysicalLinesSql = (target: string, d: Dialect) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT ${LINE_FLAGS_SQL}
FROM ${wholeLineReader(d, 'utf-8')}`;

/** csvPhysicalLinesSql's table from a table of whole lines in file order. */
export const csvLineFlagsSql = (target: string, lines: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT ${LINE_FLAGS_SQL} FROM ${lines} ORDER BY rowid`;

/**
 * Every line of `$path` in file order (`line`, NULL when blank), as text:
 * `undecodable` is false on every line. When a line is not UTF-8 this fails,
 * and {@link decodedLinesSql} and {@link wholeLinesWithUndecodedSql} make the
 * same table instead.
 */
export const WHOLE_LINES_SQL = (target: string, d: Dialect) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT line, false AS undecodable, false AS too_long FROM ${wholeLineReader(d, 'utf-8')}`;

/**
 * For a file with lines that are not UTF-8 (Windows-1252's curly quotes, a
 * stray byte; DuckDB's Latin-1 decoder refuses 0x80-0x9F too): the lines that
 * decode, `k` their rank in file order; the others go to `rejectsTable`, with
 * their line number and their text (undecodable bytes as '?').
 */
export const decodedLinesSql = (target: string, d: Dialect, rejectsTable: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT row_number() OVER () AS k, line FROM ${wholeLineReader(d, 'utf-8', rejectsTable)}`;

/**
 * WHOLE_LINES_SQL's table from decodedLinesSql's: the undecoded lines put back
 * in their places, `undecodable`, with the text the reader kept. The j-th
 * undecoded line (by line number p) has p - j decoded lines before it, so
 * decoded line k moves down by the number of undecoded lines with p - j < k.
 */
export const wholeLinesWithUndecodedSql = (target: string, decoded: string, rejectsTable: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
-- DuckDB's text of a line after blank lines (or a CRLF break) starts with line breaks.
WITH undecoded AS (
  SELECT line AS physical, ltrim(any_value(csv_line), chr(13) || chr(10)) AS line, bool_or(error_type = 'LINE SIZE OVER MAXIMUM') AS too_long
  FROM ${rejectsTable} GROUP BY line
),
shifts AS (
  SELECT physical - j AS decoded_before, max(j) AS shift
  FROM (SELECT physical, row_number() OVER (ORDER BY physical) AS j FROM undecoded)
  GROUP BY ALL
),
placed AS (
  SELECT d.k + coalesce(s.shift, 0) AS physical, d.line, false AS undecodable, false AS too_long
  FROM ${decoded} d ASOF LEFT JOIN shifts s ON d.k > s.decoded_before
  UNION ALL
  SELECT physical, line, true, too_long FROM undecoded
)
SELECT line, undecodable, too_long FROM placed ORDER BY physical`;

/** Non-blank lines, and lines with an odd number of double quotes (none: no quoted field spans lines). */
export const CSV_LINE_COUNTS_SQL = (lines: string) => `
SELECT count(*) FILTER (WHERE NOT blank)::BIGINT AS non_blank, count(*) FILTER (WHERE odd_quotes)::BIGINT AS odd_quotes
FROM ${lines}`;

/**
 * Continuation lines of quoted fields with line breaks, as ranges (first,
 * last) of physical lines: a line with an odd number of double quotes opens a
 * field, the next such line closes it (an unclosed one runs to the end).
 */
export const csvQuotedRangesSql = (target: string, lines: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
WITH odd AS (SELECT rowid + 1 AS line, row_number() OVER (ORDER BY rowid) AS k FROM ${lines} WHERE odd_quotes)
SELECT opening.line + 1 AS first, coalesce(closing.line, (SELECT count(*) FROM ${lines})) AS last
FROM odd opening LEFT JOIN odd closing ON closing.k = opening.k + 1
WHERE opening.k % 2 = 1 AND opening.line < (SELECT count(*) FROM ${lines})`;

/** Non-blank lines inside the quoted ranges: lines that would start a record were double quotes not the quote character. */
export const CSV_QUOTED_NON_BLANK_SQL = (lines: string, quoted: string) => `
SELECT (coalesce((SELECT sum(last - first + 1) FROM ${quoted}), 0)
        - (SELECT count(*) FROM ${lines} l JOIN ${quoted} q ON l.rowid + 1 BETWEEN q.first AND q.last WHERE l.blank))::BIGINT AS n`;

/**
 * Skipped ranges (first, last), disjoint, → gaps: from the rank `from_rank`
 * (1-based, among the lines outside the ranges) on, a line sits past `shift`
 * skipped lines in all, and `last` ends the range that puts it there.
 */
export const csvGapsSql = (target: string, ranges: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT first - coalesce(sum(last - first + 1) OVER (ORDER BY first ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS from_rank,
       sum(last - first + 1) OVER (ORDER BY first ROWS UNBOUNDED PRECEDING) AS shift,
       last
FROM ${ranges}`;

/** The physical line of the `rank`-th (1-based) line outside the gaps' ranges. */
const lineAtRankSql = (gaps: string, rank: string) => `(${rank} + coalesce((SELECT max(shift) FROM ${gaps} WHERE from_rank <= ${rank}), 0))`;

/** The rank (1-based) of a line outside the gaps' ranges among those lines. */
const rankOfLineSql = (gaps: string, line: string) => `(${line} - coalesce((SELECT max(shift) FROM ${gaps} WHERE last < ${line}), 0))`;

/**
 * The lines where no row of one reader starts, as disjoint ranges: the
 * continuation lines of quoted fields (`quoted`), blank lines, and the lines
 * that reader set aside, whose DuckDB line is the rank among the lines outside
 * the quoted ranges (`quotedGaps`).
 */
export const csvSkippedRangesSql = (target: string, lines: string, quoted: string, quotedGaps: string, readerRejects: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT first, last FROM ${quoted}
UNION ALL
SELECT line, line FROM (
  SELECT rowid + 1 AS line FROM ${lines} WHERE blank
  UNION
  SELECT ${lineAtRankSql(quotedGaps, 'line')} FROM (SELECT DISTINCT line FROM ${readerRejects})
) single
WHERE NOT EXISTS (SELECT 1 FROM ${quoted} q WHERE single.line BETWEEN q.first AND q.last)`;

/**
 * How many of the lines a reader's rows could start on come before its first
 * row: the header, and any lines the sniffer skipped at the top. Rows are
 * matched to lines from the end, so these need no counting of their own.
 * `rowCount`: an expression for the number of rows the reader yielded.
 */
const rowOffsetSql = (lines: string, gaps: string, rowCount: string) =>
  `((SELECT count(*) FROM ${lines}) - coalesce((SELECT max(shift) FROM ${gaps}), 0) - ${rowCount})`;

/**
 * The customer ids (as the reader gave them, untrimmed) of the groups in which
 * the first pass found rows to reject (see DAYS_CHECK_SQL): a blank id, no
 * date, a date in the future (`future_dated`), or fewer amounts than rows.
 * Every value-rejected row has one of these ids or none (NULL): the ordered
 * passes parse a row (csvRejectPassesSql) only when its id is one of them.
 */
export const csvRejectedIdsSql = (target: string, days: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT customer_id, coalesce(bool_or(${isFutureDateSql('order_date')}), false) AS future_dated FROM ${days}
WHERE customer_id IS NOT NULL AND (order_date IS NULL OR ${isFutureDateSql('order_date')} OR amount_rows < rows OR ${blankIdSql('customer_id')})
GROUP BY customer_id`;

/**
 * One ordered pass over a reader that keeps only some of its rows:
 * `row_count`, every row the reader yielded, and `kept`, a list of the rows
 * `keep` selects, each with its `position` (0-based) among all the rows.
 *
 * A window with an empty OVER clause numbers the rows in the reader's order
 * (DuckDB's order preservation, with preserve_insertion_order on) as they
 * stream by, so nothing but the kept rows is held: a table of every row, whose
 * rowid gave the position, took gigabytes for a large file. The count comes
 * from the same aggregate, so the file is read once. `fields`: output name →
 * expression over the reader's columns; `keep` sees the output names.
 */
const keptRowsSql = (reader: string, fields: Record<string, string>, keep: string) => `
SELECT count(*)::BIGINT AS row_count,
       list({position: position, ${Object.keys(fields).map((name) => `${name}: ${name}`).join(', ')}}) FILTER (WHERE ${keep}) AS kept
FROM (SELECT row_number() OVER () - 1 AS position, ${Object.entries(fields).map(([name, expr]) => `${expr} AS ${name}`).join(', ')}
      FROM ${reader})`;

/**
 * The ordered passes of a CSV file with value rejects, in one statement (DuckDB
 * runs the two branches side by side, a thread each):
 *
 * - the typed reader (the first pass's types, so the first pass's rows),
 *   keeping the rows parsedRowsSql rejects: no id, a blank id, no date or
 *   one in the future, no amount. Only rows whose id is one of `ids`
 *   (csvRejectedIdsSql) can have a blank id or such a date, so only those are
 *   trimmed and have their date parsed (the costly part, and these passes
 *   number rows on one thread).
 * - the all-text reader (every column VARCHAR: the fields as written),
 *   keeping the rows that can be a rejected typed row as written: the same
 *   checks on the text, where a date the typed reader parsed itself (DATE or
 *   TIMESTAMP) is missing when its text is, as is an amount (DECIMAL), and,
 *   for an id with a date in the future, kept unless its text reads as a day
 *   that is not (text in a format other than crm's own is kept). Other rows
 *   can only fail to match (csvValueRejectsSql matches on the id too).
 *
 * So both hold about as many rows as were rejected. One row per reader (UNION
 * ALL BY NAME fills the other's columns with NULL): typed_count and
 * typed_kept (position, customer_id, order_date, amount[, order_id], typed as
 * the reader types them), or text_count and text_kept (position, customer_id,
 * order_date, amount, as text). The typed reader reads the mapped columns,
 * as the first pass does: it sets aside a line whose value it cannot cast
 * only when it reads that column.
 */
export const csvRejectPassesSql = (
  target: string,
  o: {
    typedReader: string;
    textReader: string;
    ids: string;
    parts: Pick<StagedSelect, 'customer' | 'date' | 'amount' | 'order' | 'dateType' | 'hasExplicitFormat'>;
  },
) => {
  const fields = { customer_id: o.parts.customer, order_date: o.parts.date, amount: o.parts.amount };
  const listed = `customer_id IN (SELECT customer_id FROM ${o.ids})`;
  // No date (NULL), or one in the future.
  const badDate = (date: string) => `coalesce(${isFutureDateSql(date)}, true)`;
  const typedBadDate = badDate(parseDateSql('order_date', o.parts.dateType, o.parts.hasExplicitFormat));
  const typedKeep = `customer_id IS NULL OR amount IS NULL OR CASE WHEN ${listed} THEN ${trimIdSql('customer_id')} = '' OR ${typedBadDate} ELSE false END`;
  const futureDated = `customer_id IN (SELECT customer_id FROM ${o.ids} WHERE future_dated)`;
  const textBadDate =
    o.parts.dateType === 'text'
      ? typedBadDate
      : `(order_date IS NULL OR trim(order_date) = '' OR (${futureDated} AND ${badDate(parseDateSql('order_date', 'text', false))}))`;
  const textKeep = `customer_id IS NULL OR CASE WHEN ${listed} THEN ${trimIdSql('customer_id')} = '' OR amount IS NULL OR trim(amount) = '' OR ${textBadDate} ELSE false END`;
  return `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT row_count AS typed_count, kept AS typed_kept
FROM (${keptRowsSql(o.typedReader, o.parts.order ? { ...fields, order_id: o.parts.order } : fields, typedKeep)})
UNION ALL BY NAME
SELECT row_count AS text_count, kept AS text_kept
FROM (${keptRowsSql(o.textReader, fields, textKeep)})`;
};

/**
 * The typed pass's rejected rows (csvRejectPassesSql): position, reason and
 * the raw fields, parsed and checked as parsedRowsSql does every row.
 */
export const csvTypedRejectsSql = (target: string, passes: string, s: Pick<StagedSelect, 'order' | 'dateType' | 'amountType' | 'hasExplicitFormat'>) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT line AS position, reason, raw_customer_id, raw_order_date, raw_amount
FROM (${parsedRowsSql(`(SELECT unnest(typed_kept, recursive := true) FROM ${passes})`, {
  ...s,
  customer: 'customer_id',
  date: 'order_date',
  amount: 'amount',
  order: s.order ? 'order_id' : null,
  // parsedRowsSql's line column carries the position here.
  line: 'position',
})})
WHERE reason IS NOT NULL`;

/** The all-text pass's kept rows (csvRejectPassesSql): position, customer_id, order_date, amount. */
export const csvTextRowsSql = (target: string, passes: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT unnest(text_kept, recursive := true) FROM ${passes}`;

/**
 * The value-rejected rows of the typed pass (`staged`: position, reason and
 * raw fields, csvTypedRejectsSql), each with its line and its fields as
 * written in the file, from the all-text pass (`text`, csvTextRowsSql), found
 * by position. Row positions count every row a reader yielded (`passes` has
 * the counts), whether kept or not. The typed pass shows a parsed amount
 * (20.0000 for 20), so its text is the fallback only, should a line not match
 * (the customer id, text in both passes, must agree). Never expected: a row
 * with no line gets its position plus the first data line.
 */
export const csvValueRejectsSql = (o: {
  staged: string;
  text: string;
  passes: string;
  lines: string;
  typedGaps: string;
  textGaps: string;
  firstDataLine: number;
}) => `
WITH typed AS (
  SELECT position, position + 1 + ${rowOffsetSql(o.lines, o.typedGaps, `(SELECT max(typed_count) FROM ${o.passes})`)} AS rank,
         reason, raw_customer_id, raw_order_date, raw_amount
  FROM ${o.staged}
),
placed AS (
  SELECT *, CASE WHEN rank >= 1 THEN ${lineAtRankSql(o.typedGaps, 'rank')} END AS line FROM typed
),
in_text AS (
  SELECT *, ${rankOfLineSql(o.textGaps, 'line')} - 1 - ${rowOffsetSql(o.lines, o.textGaps, `(SELECT max(text_count) FROM ${o.passes})`)} AS text_position FROM placed
),
matched AS (
  SELECT p.*, t.customer_id AS text_customer_id, t.order_date AS text_order_date, t.amount AS text_amount,
         t.position IS NOT NULL AND t.customer_id IS NOT DISTINCT FROM p.raw_customer_id AS found
  FROM in_text p LEFT JOIN ${o.text} t ON t.position = p.text_position
)
SELECT coalesce(line, position + ${o.firstDataLine}) AS line, reason,
       CASE WHEN found THEN text_customer_id ELSE raw_customer_id END AS customer_id,
       CASE WHEN found THEN text_order_date ELSE raw_order_date END AS order_date,
       CASE WHEN found THEN text_amount ELSE raw_amount END AS amount,
       NULL AS raw_line
FROM matched`;

/** The reader's rejects (READER_REJECTS_SQL) at their physical line. */
export const csvReaderRejectsSql = (rejectsTable: string, quotedGaps: string) => `
SELECT ${lineAtRankSql(quotedGaps, 'line')} AS line, reason, NULL AS customer_id, NULL AS order_date, NULL AS amount, raw_line
FROM (${READER_REJECTS_SQL(rejectsTable)})`;

/**
 * The reader's rejects that a bad date or amount made (DuckDB's reader could
 * split the line, not cast a value): numbered `k` in line order. The reader
 * keeps only their line, so their fields are read again from it
 * ({@link castRejectFieldsSql}) to show them as written, like other rejects.
 */
export const castRejectLinesSql = (target: string, rejects: string) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT row_number() OVER (ORDER BY line) AS k, line, raw_line FROM ${rejects}
WHERE reason IN ('unparseable date', 'non-numeric amount') AND raw_line IS NOT NULL AND customer_id IS NULL AND order_date IS NULL AND amount IS NULL`;

/** The delimiter, quote and escape the reader that set rows aside used ('(empty)' for none), from its scan table. */
export const READER_DIALECT_SQL = (rejectsTable: string) => `SELECT delimiter, quote, escape FROM ${rejectsTable}_scan LIMIT 1`;

/**
 * `$path` holds the lines of castRejectLinesSql's table, in order, without a
 * header: each as text fields in the file's dialect, `k` its rank, and the
 * mapped columns by position.
 */
export const castRejectFieldsSql = (
  target: string,
  d: Dialect,
  dialect: { delimiter: string; quote: string; escape: string },
  fields: number,
  positions: { customer: number; date: number; amount: number },
) => `
CREATE OR REPLACE TEMP TABLE ${target} AS
SELECT row_number() OVER () AS k, c${positions.customer} AS customer_id, c${positions.date} AS order_date, c${positions.amount} AS amount
FROM read_csv($path, columns = {${Array.from({ length: fields }, (_, i) => `'c${i + 1}': 'VARCHAR'`).join(', ')}}, header = false, auto_detect = false, ${LINE_SIZE_OPTIONS},
     delim = ${d.quoteString(dialect.delimiter)}, quote = ${d.quoteString(dialect.quote)}, escape = ${d.quoteString(dialect.escape)})`;

/**
 * The reader's cast rejects get the fields read from their lines. A field of
 * spaces only failed the reader's cast, but it is missing, not malformed: such
 * a row gets the reason parsedRowsSql gives it, blank id first, then date,
 * then amount (the reader names only the column it failed to cast).
 */
export const FILL_CAST_REJECT_FIELDS_SQL = (rejects: string, lines: string, fields: string) => `
UPDATE ${rejects} SET customer_id = f.customer_id, order_date = f.order_date, amount = f.amount,
  reason = CASE
    WHEN ${trimIdSql(`coalesce(f.customer_id, '')`)} = '' THEN 'missing customer id'
    WHEN trim(coalesce(f.order_date, '')) = '' THEN 'missing date'
    WHEN reason = 'non-numeric amount' AND trim(coalesce(f.amount, '')) = '' THEN 'missing amount'
    ELSE reason END
FROM ${lines} l JOIN ${fields} f USING (k)
WHERE ${rejects}.line = l.line`;

/** Rows DuckDB's CSV reader set aside, one per line, with our reason where the column tells it. */
export const READER_REJECTS_SQL = (rejectsTable: string) => `
SELECT line,
       CASE WHEN any_value(error_type) = 'LINE SIZE OVER MAXIMUM' THEN '${lineTooLongReason(MAX_LINE_BYTES)}'
            WHEN any_value(error_type) = 'CAST' AND any_value(column_name) = $dateColumn THEN 'unparseable date'
            WHEN any_value(error_type) = 'CAST' AND any_value(column_name) = $amountColumn THEN 'non-numeric amount'
            ELSE lower(replace(any_value(error_type), '_', ' ')) || ': ' || any_value(error_message) END AS reason,
       -- DuckDB's text of a line after blank lines starts with their line breaks.
       ltrim(any_value(csv_line), chr(13) || chr(10)) AS raw_line
FROM ${rejectsTable} GROUP BY line`;
