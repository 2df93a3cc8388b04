import { MD5_PREFIX60_RANGE, PORTABLE_SQL, quoteIdentifierAnsi, quoteStringAnsi, type Dialect, type EngineCapabilities } from '../dialect.js';

export const postgresDialect: Dialect = {
  name: 'postgres',
  quoteIdentifier: quoteIdentifierAnsi,
  // The session runs with standard_conforming_strings on (PostgresEngine sets it): a backslash is just a backslash.
  quoteString: quoteStringAnsi,
  // DATE - DATE is a whole number of days in PostgreSQL.
  daysBetween: (start, end) => `((${end}) - (${start}))`,
  // The portable rule (see postgresStableHash in the engine suite): the first 60 bits of md5 of the text, a non-negative BIGINT.
  stableHash: (expression) => `('x' || substr(md5((${expression})::text), 1, 15))::bit(60)::bigint`,
  sampleHash: (expression) => `('x' || substr(md5((${expression})::text), 1, 15))::bit(60)::bigint`,
  sampleHashRange: MD5_PREFIX60_RANGE,
  // A label column is a PostgreSQL ENUM listing the labels in id order: its 0-based position there.
  labelId: (expression) => `(array_position(enum_range(${expression}), ${expression}) - 1)`,
  // The database's default collation sorts by language rules ('a' < 'B'); "C" compares bytes, as DuckDB does.
  byteOrder: (expression) => `${expression} COLLATE "C"`,
  // No CREATE OR REPLACE TABLE; a statement with parameters must stand alone, so the DROP is a statement of its own.
  createTempTableAs: (name, select) => [`DROP TABLE IF EXISTS ${name}`, `CREATE TEMP TABLE ${name} AS ${select}`],
  // In the session's temporary schema: runs sharing crm's schema never meet, and the type goes with the session.
  createEnumType: (name, values) => [`DROP TYPE IF EXISTS pg_temp.${name}`, `CREATE TYPE pg_temp.${name} AS ENUM (${values.map(quoteStringAnsi).join(', ')})`],
  sql: PORTABLE_SQL,
};

/** Plain PostgreSQL: one node; CREATE TABLE AS makes an ordinary table. */
export const POSTGRES_CAPABILITIES: EngineCapabilities = {
  distributed: false,
  createTableAs: 'table',
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
};
