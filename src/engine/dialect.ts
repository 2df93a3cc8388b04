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
