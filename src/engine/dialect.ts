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
  /** A deterministic 64-bit hash of a text expression, for tie-breaking and sampling. */
  stableHash(expression: string): string;
  /** The id of a label column's value: its code in the run's label ENUM, which lists the labels in id order (src/sql/labels.ts). */
  labelId(expression: string): string;
}

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
  /** `CREATE OR REPLACE TABLE` is understood (DuckDB); elsewhere DROP TABLE IF EXISTS then CREATE. */
  readonly createOrReplaceTable: boolean;
}

/** The embedded engine (DuckDB): one process, CREATE TABLE AS and CREATE OR REPLACE as usual. */
export const EMBEDDED_CAPABILITIES: EngineCapabilities = {
  distributed: false,
  createTableAs: 'table',
  createOrReplaceTable: true,
};
