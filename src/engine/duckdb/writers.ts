import type { QueryEngine, TableFormat, WriteOptions } from '../Engine.js';
import { writeArrowFile } from './arrowFile.js';
import { duckdbDialect } from './dialect.js';

/**
 * The output writers of both engines (PostgreSQL streams its results into its
 * local DuckDB and writes them here): DuckDB's COPY for Parquet, CSV and
 * NDJSON, apache-arrow for the Arrow IPC file (arrowFile.ts).
 */
export async function writeDuckDbQuery(engine: QueryEngine, query: string, format: TableFormat, file: string, options: WriteOptions = {}): Promise<void> {
  const target = duckdbDialect.quoteString(file);
  switch (format) {
    case 'parquet':
      return engine.run(`COPY (${query}) TO ${target} (FORMAT parquet, COMPRESSION snappy)`);
    case 'csv':
      return engine.run(`COPY (${query}) TO ${target} (FORMAT csv, HEADER true${options.crlf ? ", NEW_LINE '\r\n'" : ''})`);
    case 'json':
      return engine.run(`COPY (${query}) TO ${target} (FORMAT json)`);
    case 'arrow':
      return writeArrowFile(engine, query, file);
  }
}
