/**
 * How rows cross between the cluster and the embedded DuckDB of a run (the
 * files crm reads and writes are on this machine): COPY in CSV, through a file
 * in the run's scratch folder, which both sides read and write at full speed.
 * CSV keeps NULL (an empty field) apart from empty text (`""`) both ways, and
 * doubles cross as their shortest exact text (PostgreSQL's extra_float_digits
 * default, DuckDB's cast to text), so they come back bit for bit.
 */

import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDbEngine } from '../duckdb/DuckDbEngine.js';

/** What the copies need of the PostgreSQL engine (PostgresEngine). */
export interface CopyChannel {
  /** The run's scratch folder on this machine, where the CSV files in between go. */
  readonly scratchFolder: string;
  copyIn(copySql: string, file: string): Promise<void>;
  copyOut(copySql: string, file: string): Promise<void>;
  resultColumns(query: string): Promise<ResultColumn[]>;
}

export interface ResultColumn {
  name: string;
  oid: number;
  typmod: number;
}

let serial = 0;
/** A name for a table or scratch file of this process, unique on the server and in the scratch folder. */
export function uniqueName(prefix: string): string {
  serial += 1;
  return `${prefix}_${process.pid}_${serial}_${Math.random().toString(36).slice(2, 8)}`;
}

/** The rows of a local query appended to table `table` of the cluster (a quoted name; its columns match the query's, in order). */
export async function copyFromLocal(postgres: CopyChannel, local: DuckDbEngine, query: string, table: string): Promise<void> {
  const file = path.join(postgres.scratchFolder, `${uniqueName('in')}.csv`);
  try {
    await local.run(`COPY (${query}) TO ${local.dialect.quoteString(file)} (FORMAT csv, HEADER false)`);
    await postgres.copyIn(`COPY ${table} FROM STDIN (FORMAT csv)`, file);
  } finally {
    await rm(file, { force: true });
  }
}

/** The result of a query of the cluster as a new temp table of the local DuckDB (`types` by column name where given), rows in the query's order; returns its name. */
export async function copyToLocal(postgres: CopyChannel, local: DuckDbEngine, query: string, types: Readonly<Record<string, string>> = {}): Promise<string> {
  const columns = await postgres.resultColumns(query);
  const table = uniqueName('crm_from_postgres');
  const q = local.dialect.quoteIdentifier;
  await local.run(`CREATE TEMP TABLE ${q(table)} (${columns.map((c) => `${q(c.name)} ${types[c.name] ?? duckdbTypeOf(c.oid, c.typmod)}`).join(', ')})`);
  const file = path.join(postgres.scratchFolder, `${table}.csv`);
  try {
    await postgres.copyOut(`COPY (${query}) TO STDOUT (FORMAT csv)`, file);
    await local.run(`COPY ${q(table)} FROM ${local.dialect.quoteString(file)} (${READ_POSTGRES_CSV})`);
  } finally {
    await rm(file, { force: true });
  }
  return table;
}

/** PostgreSQL's type oids (pg_type) of the columns crm writes, and the DuckDB type each is read back as. */
const DUCKDB_TYPE_OF_OID: Record<number, string> = {
  16: 'BOOLEAN',
  20: 'BIGINT',
  21: 'SMALLINT',
  23: 'INTEGER',
  700: 'FLOAT',
  701: 'DOUBLE',
  1082: 'DATE',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMPTZ',
};
const NUMERIC_OID = 1700;

/**
 * The DuckDB type a PostgreSQL result column is read back as: the same kind
 * (a DECIMAL keeps its precision and scale where DuckDB has one, a NUMERIC
 * without them is a DOUBLE); text, enums and anything else as VARCHAR.
 */
export function duckdbTypeOf(oid: number, typmod: number): string {
  if (oid === NUMERIC_OID) {
    if (typmod < 4) return 'DOUBLE';
    const precision = ((typmod - 4) >> 16) & 0xffff;
    const scale = (typmod - 4) & 0xffff;
    return precision <= 38 ? `DECIMAL(${precision},${scale})` : 'DOUBLE';
  }
  return DUCKDB_TYPE_OF_OID[oid] ?? 'VARCHAR';
}

/** The PostgreSQL type a DuckDB column (a side file's) is copied in as; anything unlisted as text. */
export function postgresTypeOf(duckdbType: string): string {
  const t = duckdbType.toUpperCase();
  if (/^(BOOLEAN|SMALLINT|INTEGER|BIGINT|DATE|TIMESTAMP|TIMESTAMPTZ)$/.test(t)) return t;
  if (t === 'TINYINT') return 'SMALLINT';
  if (t === 'DOUBLE' || t === 'FLOAT') return 'DOUBLE PRECISION';
  if (t.startsWith('DECIMAL')) return t.replace('DECIMAL', 'NUMERIC');
  if (t === 'TIMESTAMP WITH TIME ZONE') return 'TIMESTAMPTZ';
  return 'TEXT';
}

/** DuckDB's CSV options that read PostgreSQL's COPY … (FORMAT csv) output back exactly. */
export const READ_POSTGRES_CSV = `FORMAT csv, HEADER false, DELIMITER ',', QUOTE '"', ESCAPE '"', ALLOW_QUOTED_NULLS false, AUTO_DETECT false, MAX_LINE_SIZE 100000000`;
