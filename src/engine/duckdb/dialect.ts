import { md5Prefix60At, PORTABLE_SQL, quoteIdentifierAnsi, quoteStringAnsi, withParameters, type Dialect, type SqlFunctions } from '../dialect.js';

/**
 * DuckDB's overrides of the portable SQL: each one its native form, kept
 * where it is faster or where the outputs' bytes depend on it.
 */
const DUCKDB_SQL: SqlFunctions = {
  ...PORTABLE_SQL,
  // `//` on the HUGEINT window sums; div() is not DuckDB's.
  integerDivide: (a, b) => `((${a}) // ${b})`,
  // The same interpolated median; percentile_cont's ordered-set form parses too, median() is the one the golden outputs were made with.
  median: (x) => `median(${x})`,
  // The top-N aggregate keeps two values per customer where array_agg would gather every purchase day.
  largestTwo: (x) => `max(${x}, 2)`,
  // One value per customer instead of an array of all of them.
  argMin: (value, by) => `arg_min(${value}, ${by})`,
  roundDouble: (x, digits) => `round(${x}, ${digits})`,
  // The function the golden outputs' excel-safe CSV was written with.
  regexpMatches: (text, pattern) => `regexp_matches(${text}, ${pattern})`,
  // A list literal: the same DATE[] as ARRAY[…].
  arrayOf: (x) => `[${x}]`,
  // The join: the stacked form costs a second aggregate over every customer (more than half as long again, one thread).
  sideBySide: (left, right) => `${left.name} FULL OUTER JOIN ${right.name} USING (customer_id)`,
  // quantile_cont, the form the report's and the export's figures were made with.
  percentile: (x, p) => `quantile_cont(${x}, ${p})`,
  isoDate: (x) => `strftime(${x}, '%Y-%m-%d')`,
  isoTimestamp: (x) => `strftime(${x}, '%Y-%m-%dT%H:%M:%SZ')`,
  jsonText: (json, path) => `json_extract_string(${json}, '$.${path.join('.')}')`,
  jsonTextElements: (json) => `unnest(json_extract_string(${json}, '$[*]'))`,
  fullMatch: (x, pattern) => `regexp_full_match(${x}, ${pattern})`,
  // FSST for ids, rather than DuckDB trying every string compression on every row group of every run.
  storedCompression: (kind) => ` USING COMPRESSION ${kind}`,
  double: 'DOUBLE',
  text: 'VARCHAR',
  // One byte per score, as the outputs' score columns are typed.
  tinyint: 'TINYINT',
  // 128-bit integers: faster than DECIMAL for the k-means z-score sums.
  wideInteger: 'HUGEINT',
};

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  quoteIdentifier: quoteIdentifierAnsi,
  quoteString: quoteStringAnsi,
  daysBetween: (start, end) => `date_diff('day', ${start}, ${end})`,
  // The portable rule (Dialect.stableHash): 15 hex digits of md5 read as a BIGINT. DuckDB's own hash() is not computable elsewhere.
  stableHash: (expression) => `('0x' || substr(md5(CAST(${expression} AS VARCHAR)), 1, 15))::BIGINT`,
  // The same md5 rule picks the k-means sample, so both engines fit on the same customers in the same order.
  // hash() is many times quicker than md5, and the buckets are scanned once each.
  customerBucket: (expression, buckets) => `(hash(${expression}) % ${buckets})`,
  sampleHash: (expression) => `substr(md5(CAST(${expression} AS VARCHAR)), 1, 15)`,
  // hex() writes upper case, md5() lower.
  sampleHashBound: (fraction) => `lpad(lower(hex(${md5Prefix60At(fraction, 'BIGINT')})), 15, '0')`,
  labelId: (expression) => `enum_code(${expression})`,
  // DuckDB compares VARCHAR byte by byte unless told a collation.
  rowOrder: 'insertion',
  labelBytes: null,
  byteOrder: (expression) => expression,
  createTempTableAs: (name, select) => [withParameters(`CREATE OR REPLACE TEMP TABLE ${name} AS ${select}`)],
  createTempTable: (name, columns) => [`CREATE OR REPLACE TEMP TABLE ${name} (${columns})`],
  // An in-memory database: the type goes with the engine.
  enumValues: (name, table) => `SELECT label_id, CAST(label AS ${name}) AS label FROM ${table}`,
  createEnumType: (name, values) => [`DROP TYPE IF EXISTS ${name}`, `CREATE TYPE ${name} AS ENUM (${values.map(quoteStringAnsi).join(', ')})`],
  sql: DUCKDB_SQL,
};
