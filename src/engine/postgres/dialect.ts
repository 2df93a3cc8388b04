import { md5Prefix60At, PORTABLE_SQL, quoteIdentifierAnsi, quoteStringAnsi, withParameters, type Dialect, type EngineCapabilities } from '../dialect.js';

/** Per-customer tables are distributed by this column, and so co-located with each other. */
export const DISTRIBUTION_COLUMN = 'customer_id';

/** PostgreSQL's limit on an ENUM label, in bytes (NAMEDATALEN - 1). */
const ENUM_LABEL_BYTES = 63;

/**
 * The ENUM's labels, quoted: one longer than PostgreSQL takes (a cluster
 * label of an earlier run, which the run's tables hold as text or as its id,
 * never as this type) keeps its place, and so its id, under a stand-in name.
 */
const enumLabels = (values: readonly string[]): string =>
  values.map((label, position) => quoteStringAnsi(Buffer.byteLength(label) <= ENUM_LABEL_BYTES ? label : `(label ${position}: longer than ${ENUM_LABEL_BYTES} bytes)`)).join(', ');

export const postgresDialect: Dialect = {
  name: 'postgres',
  quoteIdentifier: quoteIdentifierAnsi,
  // The session runs with standard_conforming_strings on (PostgresEngine sets it): a backslash is just a backslash.
  quoteString: quoteStringAnsi,
  // DATE - DATE is a whole number of days in PostgreSQL.
  daysBetween: (start, end) => `((${end}) - (${start}))`,
  // The portable rule (see postgresStableHash in the engine suite): the first 60 bits of md5 of the text, a non-negative BIGINT.
  // hashtext() is signed: the low 31 bits make it a non-negative remainder.
  customerBucket: (expression, buckets) => `((hashtext(${expression}) & 2147483647) % ${buckets})`,
  stableHash: (expression) => `('x' || substr(md5((${expression})::text), 1, 15))::bit(60)::bigint`,
  sampleHash: (expression) => `substr(md5((${expression})::text), 1, 15)`,
  sampleHashBound: (fraction) => `lpad(to_hex(${md5Prefix60At(fraction, 'bigint')}), 15, '0')`,
  // A label column is a PostgreSQL ENUM listing the labels in id order: its 0-based position there.
  labelId: (expression) => `(array_position(enum_range(${expression}), ${expression}) - 1)`,
  // A label column is an ENUM, whose labels PostgreSQL caps at NAMEDATALEN − 1 bytes.
  labelBytes: ENUM_LABEL_BYTES,
  rowOrder: 'none',
  // The database's default collation sorts by language rules ('a' < 'B'); "C" compares bytes, as DuckDB does.
  byteOrder: (expression) => `${expression} COLLATE "C"`,
  // No CREATE OR REPLACE TABLE; a statement with parameters must stand alone, so the DROP is a statement of its own.
  // pg_temp: an unqualified DROP would drop a table of that name in crm's schema when the session has no temp one yet.
  createTempTableAs: (name, select) => [`DROP TABLE IF EXISTS pg_temp.${name}`, withParameters(`CREATE TEMP TABLE ${name} AS ${select}`)],
  createTempTable: (name, columns) => [`DROP TABLE IF EXISTS pg_temp.${name}`, `CREATE TEMP TABLE ${name} (${columns})`],
  // In the session's temporary schema: runs sharing crm's schema never meet, and the type goes with the session.
  // From the type itself: a label too long for an ENUM is there under its stand-in name (enumLabels).
  enumValues: (name) => `SELECT CAST(position - 1 AS INTEGER) AS label_id, label FROM unnest(enum_range(NULL::${name})) WITH ORDINALITY AS e(label, position)`,
  createEnumType: (name, values) => [`DROP TYPE IF EXISTS pg_temp.${name}`, `CREATE TYPE pg_temp.${name} AS ENUM (${enumLabels(values)})`],
  sql: PORTABLE_SQL,
};

/**
 * PostgreSQL with Citus: a TEMP table would live on the coordinator alone,
 * so the run's tables go in its scratch schema (`scratch`, quoted), made
 * there, distributed, then filled; UNLOGGED, as a table of one run need not
 * survive a crash and so writes no WAL. `CREATE TABLE … AS` would make a
 * coordinator-local table: the select only gives the columns (WITH NO DATA,
 * which plans it without running it) and fills the table after.
 */
export function citusDialect(scratch: string): Dialect {
  const table = (name: string) => `${scratch}.${name}`;
  return {
    ...postgresDialect,
    createTempTableAs: (name, select) => [
      `DROP TABLE IF EXISTS ${table(name)}`,
      withParameters(`CREATE UNLOGGED TABLE ${table(name)} AS ${select}\nWITH NO DATA`),
      placeTable(table(name)),
      withParameters(`INSERT INTO ${table(name)} ${select}`),
      // Statistics now: without them the planner takes a new table for a big one, and each worker JIT-compiles
      // the next query over it (the session's jit = off stays on the coordinator): 40 s of a CDNOW run.
      `ANALYZE ${table(name)}`,
    ],
    createTempTable: (name, columns) => [`DROP TABLE IF EXISTS ${table(name)}`, `CREATE UNLOGGED TABLE ${table(name)} (${columns})`, placeTable(table(name))],
    // Beside the run's tables: a distributed table's column types must exist on the workers, and Citus copies a schema's types there (not pg_temp's).
    createEnumType: (name, values) => [`DROP TYPE IF EXISTS ${table(name)}`, `CREATE TYPE ${table(name)} AS ENUM (${enumLabels(values)})`],
  };
}

/**
 * Per-customer tables (a customer_id column) distributed by customer_id in
 * the default co-location group, so joins and INSERT … SELECT between them
 * stay on the workers; every other table (thresholds, patterns, centroids,
 * labels, one-row parameters) a reference table, copied to every worker so
 * the per-customer queries join it there. Read from the table's columns, so
 * no stage has to say which it is.
 */
function placeTable(table: string): string {
  const name = quoteStringAnsi(table);
  return `DO $place$ BEGIN
  IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = ${name}::regclass AND attname = ${quoteStringAnsi(DISTRIBUTION_COLUMN)} AND attnum > 0 AND NOT attisdropped) THEN
    PERFORM create_distributed_table(${name}, ${quoteStringAnsi(DISTRIBUTION_COLUMN)}, colocate_with => 'default');
  ELSE
    PERFORM create_reference_table(${name});
  END IF;
END $place$`;
}

/** Plain PostgreSQL: one node; CREATE TABLE AS makes an ordinary table. */
export const POSTGRES_CAPABILITIES: EngineCapabilities = {
  distributed: false,
  createTableAs: 'table',
  history: 'schema',
};

/**
 * PostgreSQL with the Citus extension: per-customer tables are distributed by
 * customer_id and co-located, small ones are reference tables; CREATE TABLE AS
 * would make a table local to the coordinator, so stage tables are created,
 * distributed, then filled with INSERT … SELECT.
 */
export const CITUS_CAPABILITIES: EngineCapabilities = {
  distributed: true,
  createTableAs: 'local-on-citus',
  history: 'schema',
};
