import { writeFile } from 'node:fs/promises';
import type { DataType, Vector } from 'apache-arrow';
import type { QueryEngine, TableFormat, WriteOptions } from '../Engine.js';
import { duckdbDialect } from './dialect.js';

/**
 * The output writers of both engines (PostgreSQL streams its results into its
 * local DuckDB and writes them here): DuckDB's COPY for Parquet, CSV and
 * NDJSON, apache-arrow for the Arrow IPC file.
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
      return writeArrow(engine, query, file);
  }
}

type Arrow = typeof import('apache-arrow');

const arrowType = ({ DateDay, Float64, Int64, Int32, Utf8 }: Arrow, duckdbType: string): DataType => {
  const t = duckdbType.toUpperCase();
  if (t === 'DATE') return new DateDay();
  if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) return new Float64();
  if (t === 'BIGINT' || t === 'HUGEINT' || t === 'UBIGINT') return new Int64();
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER)$/.test(t)) return new Int32();
  return new Utf8();
};

async function writeArrow(engine: QueryEngine, query: string, file: string): Promise<void> {
  // Loaded on demand: most runs write no Arrow file, and the library is large.
  const arrow = await import('apache-arrow');
  const { DateDay, Float64, Int64, Table, tableToIPC, vectorFromArray } = arrow;
  const described = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${query}`);
  const types = described.map((c) => arrowType(arrow, c.column_type));
  // Dates and decimals cross as plain numbers and ISO text, converted below.
  const select = described
    .map((c, i) => {
      const name = duckdbDialect.quoteIdentifier(c.column_name);
      const type = types[i]!;
      if (type instanceof DateDay) return `date_diff('day', DATE '1970-01-01', ${name}) AS ${name}`;
      if (type instanceof Float64) return `${name}::DOUBLE AS ${name}`;
      return name;
    })
    .join(', ');
  const columns: unknown[][] = described.map(() => []);
  for await (const chunk of engine.streamColumns(`SELECT ${select} FROM (${query})`)) {
    chunk.columns.forEach((values, i) => columns[i]!.push(...values));
  }
  const vectors: Record<string, Vector> = {};
  described.forEach((c, i) => {
    const type = types[i]!;
    let values = columns[i]!;
    if (type instanceof DateDay) values = values.map((v) => (v === null ? null : new Date(Number(v) * 86_400_000)));
    if (type instanceof Int64) values = values.map((v) => (v === null ? null : BigInt(v as number)));
    vectors[c.column_name] = vectorFromArray(values, type);
  });
  await writeFile(file, tableToIPC(new Table(vectors), 'file'));
}
