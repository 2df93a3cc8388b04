/**
 * SQL that differs between engines, kept as data and small functions rather
 * than if-branches in the stage queries (after Malloy's dialect classes and
 * dbt's `default__` / `postgres__` macros).
 */
export interface Dialect {
  readonly name: 'duckdb' | 'postgres';
  /** A user-supplied identifier (column, table), always quoted. */
  quoteIdentifier(name: string): string;
  /** A string literal, for the few places that cannot take a bound parameter (COPY targets, table-function paths). */
  quoteString(value: string): string;
  /** Whole days from `start` to `end` (both DATE). */
  daysBetween(start: string, end: string): string;
  /**
   * The stable hash of a text expression, for tie-breaking (ntile): the
   * first 60 bits of the md5 of its UTF-8 bytes, a non-negative BIGINT. The
   * same number on every engine, so every engine ranks a tie alike.
   */
  stableHash(expression: string): string;
  /**
   * The seeded hash that picks the k-means sample, and the size of its range
   * (a decimal literal): the values lie in [0, range). Every engine uses the
   * stable hash's md5 rule, so every engine draws the same sample.
   */
  sampleHash(expression: string): string;
  readonly sampleHashRange: string;
  /** The id of a label column's value: its code in the run's label ENUM, which lists the labels in id order (src/sql/labels.ts). */
  labelId(expression: string): string;
  /** Text in byte order (customer ids break ties by it): what every engine then sorts the same way. */
  byteOrder(expression: string): string;
  /**
   * Statements that make temp table `name` from `select`, replacing one of
   * that name; only the last one takes the query's parameters.
   */
  createTempTableAs(name: string, select: string): readonly string[];
  /**
   * Statements that make the ENUM type `name` of `values` (in that order, each
   * a quoted literal), replacing one of that name, for this session.
   */
  createEnumType(name: string, values: readonly string[]): readonly string[];
  /** The functions and type names that differ: the portable set with this engine's overrides. */
  readonly sql: SqlFunctions;
}

/**
 * Functions and types the stage SQL uses that engines spell differently (after
 * Malloy's function_overrides.ts): {@link PORTABLE_SQL} is the
 * PostgreSQL-family form, an engine's dialect overrides entries where its own
 * form is faster or its outputs must keep their bytes.
 */
export interface SqlFunctions {
  /** ⌊a / b⌋ for non-negative a and b, as a whole number. */
  integerDivide(a: string, b: string): string;
  /** The median, interpolated between the two middle values (percentile 0.5, continuous). */
  median(expression: string): string;
  /** An aggregate: the two largest values of `expression`, largest first, as an array (index 1 and 2; a missing second is NULL). */
  largestTwo(expression: string): string;
  /** An aggregate: the value of `value` on the row with the smallest `by`. */
  argMin(value: string, by: string): string;
  /**
   * A DOUBLE rounded to `digits` decimal places, in doubles as DuckDB's
   * round() does: round(x·10^d) / 10^d, halves away from zero. (PostgreSQL's
   * round(x, d) takes only NUMERIC, which a double enters with 15 digits: 36.94125
   * came out 36.9413 where DuckDB's double, 36.941249999…, gives 36.9412.)
   */
  roundDouble(x: string, digits: number): string;
  /** Whether text matches a regular expression (`pattern`, a string literal). */
  regexpMatches(text: string, pattern: string): string;
  /** A one-element array. */
  arrayOf(expression: string): string;
  /** A 64-bit float column type. */
  readonly double: string;
  /** The smallest integer type that holds a score 1..5. */
  readonly tinyint: string;
  /** An integer type wide enough for exact sums of squares of many 64-bit integers. */
  readonly wideInteger: string;
}

export const PORTABLE_SQL: SqlFunctions = {
  integerDivide: (a, b) => `div(${a}, ${b})`,
  median: (x) => `percentile_cont(0.5) WITHIN GROUP (ORDER BY ${x})`,
  largestTwo: (x) => `(array_agg(${x} ORDER BY ${x} DESC))[1:2]`,
  argMin: (value, by) => `(array_agg(${value} ORDER BY ${by}))[1]`,
  regexpMatches: (text, pattern) => `(${text} ~ ${pattern})`,
  roundDouble: (x, digits) => {
    const scaled = `(CAST(${x} AS DOUBLE PRECISION) * 1e${digits})`;
    return `(sign(${scaled}) * floor(abs(${scaled}) + 0.5) / 1e${digits})`;
  },
  arrayOf: (x) => `ARRAY[${x}]`,
  double: 'DOUBLE PRECISION',
  tinyint: 'SMALLINT',
  wideInteger: 'NUMERIC',
};

/** 2^60, the range of the portable stable hash (15 hex digits of md5). */
export const MD5_PREFIX60_RANGE = '1152921504606846976.0';

export const quoteIdentifierAnsi = (name: string): string => `"${name.replaceAll('"', '""')}"`;
export const quoteStringAnsi = (value: string): string => `'${value.replaceAll("'", "''")}'`;

/**
 * What an engine can do, as data the stages read instead of asking which
 * engine they run on (Kysely's adapter flags, Malloy's dialect fields).
 */
export interface EngineCapabilities {
  /** Tables are spread over worker nodes (Citus): per-customer tables are distributed by customer_id, small ones replicated. */
  readonly distributed: boolean;
  /** What `CREATE TABLE … AS SELECT` makes: a table like any other, or (Citus) a table local to the coordinator. */
  readonly createTableAs: 'table' | 'local-on-citus';
}

/** The embedded engine (DuckDB): one process, CREATE TABLE AS as usual (how a table is replaced is the dialect's createTempTableAs). */
export const EMBEDDED_CAPABILITIES: EngineCapabilities = {
  distributed: false,
  createTableAs: 'table',
};
