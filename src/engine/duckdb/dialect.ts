import { quoteIdentifierAnsi, quoteStringAnsi, type Dialect } from '../dialect.js';

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  quoteIdentifier: quoteIdentifierAnsi,
  quoteString: quoteStringAnsi,
  daysBetween: (start, end) => `date_diff('day', ${start}, ${end})`,
  // hash() is DuckDB's 64-bit xxhash-style hash: stable for a given engine version.
  stableHash: (expression) => `hash(${expression})`,
  labelId: (expression) => `enum_code(${expression})`,
};
