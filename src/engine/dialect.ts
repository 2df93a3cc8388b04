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
   * Which of `buckets` buckets a customer id falls in, 0 to buckets − 1: a
   * quick hash (not the stable one: the bucket a customer lands in changes
   * no result, only which pass computes it).
   */
  customerBucket(expression: string, buckets: number): string;
  /**
   * The seeded hash that picks the k-means sample: the stable hash's 15 hex
   * digits of md5 (lower case), as text, which in byte order (byteOrder) sort
   * as the number they spell; every engine draws the same sample. Kept as
   * text: reading it as a number costs more than the md5 itself.
   */
  sampleHash(expression: string): string;
  /** The sample hash at the share `fraction` (a SQL number, clamped to [0, 1)) of its range: compared in byte order with sampleHash. */
  sampleHashBound(fraction: string): string;
  /** The id of a label column's value: its code in the run's label ENUM, which lists the labels in id order (src/stages/scored/labelsQueries.ts). */
  labelId(expression: string): string;
  /**
   * How the run's tables keep their rows in order (customers.* lists customers
   * by id): `insertion` — the engine reads a table back in the order it was
   * written (DuckDB, after keepRowOrder), so a table is written sorted and read
   * as it is; `none` — no order without ORDER BY (PostgreSQL; on Citus a sorted
   * INSERT … SELECT would also pull every row through the coordinator), so it
   * is read sorted.
   */
  readonly rowOrder: 'insertion' | 'none';
  /** The longest text (in UTF-8 bytes) a label column (rfm_segment, …) can hold, or null for no limit. */
  readonly labelBytes: number | null;
  /** Text in byte order (customer ids break ties by it): what every engine then sorts the same way. */
  byteOrder(expression: string): string;
  /**
   * Statements that make the run's table `name` from `select`, replacing one
   * of that name; those that run the select take its parameters
   * ({@link BoundStatement}). "Temp": gone when the engine closes (a TEMP
   * table; on Citus a table of the run's scratch schema, distributed by
   * customer_id when it has that column, else a reference table).
   */
  createTempTableAs(name: string, select: string): readonly RecipeStatement[];
  /** Statements that make the run's empty table `name` with `columns` (`cell VARCHAR, segment VARCHAR`), replacing one of that name; placed as createTempTableAs places it. */
  createTempTable(name: string, columns: string): readonly string[];
  /**
   * Statements that make the ENUM type `name` of `values` (in that order, each
   * a quoted literal), replacing one of that name, for this session.
   */
  createEnumType(name: string, values: readonly string[]): readonly string[];
  /** A query of each value of ENUM type `name` (made by createEnumType from `table`'s labels) with its id: `label_id`, `label` (of the type). */
  enumValues(name: string, table: string): string;
  /** The functions and type names that differ: the portable set with this engine's overrides. */
  readonly sql: SqlFunctions;
}

/** A statement that runs the step's query, so takes its bound parameters (a statement with parameters must stand alone on PostgreSQL). */
export interface BoundStatement {
  readonly sql: string;
  readonly withParameters: true;
}

/** A statement of a dialect's recipe: plain text takes no parameters. */
export type RecipeStatement = string | BoundStatement;

export const withParameters = (sql: string): BoundStatement => ({ sql, withParameters: true });

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
  /**
   * A FROM item: two relations of one row per customer (CTE names, each with
   * customer_id and its own `columns`) side by side, one row per customer in
   * either, the other side's columns NULL; its columns are named unqualified.
   */
  sideBySide(left: PerCustomerRelation, right: PerCustomerRelation): string;
  /** The continuous percentile `p` (0..1, a literal) of `expression`, an aggregate. */
  percentile(expression: string, p: number): string;
  /** A DATE as text, YYYY-MM-DD. */
  isoDate(expression: string): string;
  /** A TIMESTAMP (UTC, no zone) as text, YYYY-MM-DDTHH:MM:SSZ (whole seconds). */
  isoTimestamp(expression: string): string;
  /** The text at `path` (object keys) of a JSON value, NULL when absent; a number as its text. */
  jsonText(json: string, path: readonly string[]): string;
  /** A set-returning expression: the elements of a JSON array of strings, as text rows. */
  jsonTextElements(json: string): string;
  /** Whether text `expression` matches the regular expression `pattern` (a SQL string literal) as a whole; NULL for NULL. */
  fullMatch(expression: string, pattern: string): string;
  /** What follows a text column's type in a CREATE TABLE of the run history, to store it compactly ('' for none). */
  storedCompression(kind: 'fsst'): string;
  /** A 64-bit float column type. */
  readonly double: string;
  /**
   * The text type of ids, as the run's tables get it from the load: on Citus a
   * table is co-located with the others (its joins on customer_id kept on the
   * workers) only if its distribution column has the very same type.
   */
  readonly text: string;
  /** The smallest integer type that holds a score 1..5. */
  readonly tinyint: string;
  /** An integer type wide enough for exact sums of squares of many 64-bit integers. */
  readonly wideInteger: string;
}

/** A relation of one row per customer, for {@link SqlFunctions.sideBySide}. */
export interface PerCustomerRelation {
  name: string;
  columns: readonly string[];
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
  // Stacked and grouped by customer_id, each column from the one side that has it. A FULL OUTER JOIN gives its
  // customer_id as a coalesce of both sides', which Citus does not take for the distribution column: it sends
  // every row between the workers again (a repartition INSERT), where this runs whole on each shard.
  sideBySide: (left, right) => {
    const nulls = (columns: readonly string[]) => columns.map((c) => `NULL AS ${c}`);
    return `(SELECT customer_id, ${[...left.columns, ...right.columns].map((c) => `max(${c}) AS ${c}`).join(', ')}
  FROM (SELECT customer_id, ${[...left.columns, ...nulls(right.columns)].join(', ')} FROM ${left.name}
        UNION ALL
        SELECT customer_id, ${[...nulls(left.columns), ...right.columns].join(', ')} FROM ${right.name}) both_sides
  GROUP BY customer_id) side_by_side`;
  },
  percentile: (x, p) => `percentile_cont(${p}) WITHIN GROUP (ORDER BY ${x})`,
  isoDate: (x) => `to_char(${x}, 'YYYY-MM-DD')`,
  isoTimestamp: (x) => `to_char(${x}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`,
  // The path as a text[] literal: keys are crm's own names, never user input.
  jsonText: (json, path) => `((${json}) #>> '{${path.join(',')}}')`,
  jsonTextElements: (json) => `json_array_elements_text(${json})`,
  fullMatch: (x, pattern) => `(${x} ~ ('^(?:' || ${pattern} || ')$'))`,
  storedCompression: () => '',
  double: 'DOUBLE PRECISION',
  text: 'TEXT',
  tinyint: 'SMALLINT',
  wideInteger: 'NUMERIC',
};

/** 2^60, the range of the portable stable hash (15 hex digits of md5). */
export const MD5_PREFIX60_RANGE = '1152921504606846976.0';

/** The integer at the share `fraction` of the stable hash's range, at most its largest value (15 hex digits, all f). */
export const md5Prefix60At = (fraction: string, bigint: string) =>
  `least(CAST(floor(least(${fraction}, 1) * ${MD5_PREFIX60_RANGE}) AS ${bigint}), 1152921504606846975)`;

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
  /** Where the run history lives: a database file the run names (--db), or the tables of the engine's own schema. */
  readonly history: 'database file' | 'schema';
}

/** The embedded engine (DuckDB): one process, CREATE TABLE AS as usual (how a table is replaced is the dialect's createTempTableAs). */
export const EMBEDDED_CAPABILITIES: EngineCapabilities = {
  distributed: false,
  createTableAs: 'table',
  history: 'database file',
};

/** ` ORDER BY key` where the engine keeps a table's insertion order (the table is written sorted), else nothing. */
export const sortedOnWrite = (d: Dialect, key: string): string => (d.rowOrder === 'insertion' ? ` ORDER BY ${d.byteOrder(key)}` : '');
/** ` ORDER BY key` where the engine keeps no order (the table is read sorted), else nothing. */
export const sortedOnRead = (d: Dialect, key: string): string => (d.rowOrder === 'none' ? ` ORDER BY ${d.byteOrder(key)}` : '');
