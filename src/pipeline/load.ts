import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { InputError } from '../errors.js';
import {
  classifyType,
  csvLineSql,
  csvShiftsSql,
  readerCall,
  stageRowsSql,
  STRUCTURAL_REJECTS_SQL,
  WHOLE_LINE_DELIMITER,
  whitespaceFieldsSql,
  type ReaderKind,
} from '../sql/load.js';
import { resolveColumns } from './columnMapping.js';

export interface LoadResult {
  files: string[];
  /** Table of accepted rows: source, line, customer_id, order_date, amount, order_id. */
  transactions: 'transactions';
  /** Table of rejected rows: source, line, reason, customer_id, order_date, amount, raw_line. */
  rejects: 'rejects';
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
}

const GLOB_CHARS = /[*?[\]{}]/;

export function readerKindOf(file: string): ReaderKind {
  const lower = file.toLowerCase();
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (/\.(ndjson|jsonl|json)(\.gz)?$/.test(lower)) return 'ndjson';
  return 'csv';
}

/** Expands globs (sorted, so the run does not depend on directory order) and checks each file exists. */
export async function expandInputs(engine: Engine, inputs: readonly string[]): Promise<string[]> {
  if (inputs.length === 0) throw new InputError('no input files given');
  const files: string[] = [];
  for (const input of inputs) {
    if (GLOB_CHARS.test(input)) {
      const matches = await engine.all<{ file: string }>('SELECT file FROM glob($pattern) ORDER BY file', { pattern: input });
      if (matches.length === 0) throw new InputError(`${input}: no file matches this pattern`);
      files.push(...matches.map((m) => m.file));
    } else {
      try {
        const info = await stat(input);
        if (!info.isFile()) throw new InputError(`${input}: not a file`);
      } catch (error) {
        if (error instanceof InputError) throw error;
        throw new InputError(`${input}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
      }
      files.push(input);
    }
  }
  return [...new Set(files)];
}

interface FileLoad {
  table: string;
  structuralRejects: number;
}

const RECOGNISED_HEADER = /^(customer|cust|client|user|member|account|order|invoice|date|amount|revenue|total|price|sales|value|quantity|qty)/i;

/**
 * DuckDB's sniffer reads whitespace-aligned text (CDNOW) as one column. Such a
 * file is split on runs of blanks instead; its first line is a header when
 * it names a known column.
 */
async function sniffWhitespace(engine: Engine, file: string): Promise<{ fields: number; header: boolean } | null> {
  const lines = await engine.all<{ line: string }>(
    `SELECT line FROM ${readerCall('whitespace', {}, '', engine.dialect)} WHERE trim(line) <> '' LIMIT 20`,
    { path: file },
  );
  if (lines.length === 0) return null;
  const counts = lines.map((l) => l.line.trim().split(/\s+/).length);
  if (counts[0]! < 3 || counts.some((c) => c !== counts[0])) return null;
  if (lines[0]!.line.includes(',') || lines[0]!.line.includes(';')) return null;
  const header = lines[0]!.line.trim().split(/\s+/).some((token) => RECOGNISED_HEADER.test(token));
  return { fields: counts[0]!, header };
}

async function loadFile(engine: Engine, config: ScoreConfig, file: string, index: number): Promise<FileLoad> {
  const d = engine.dialect;
  const q = d.quoteIdentifier;
  const scratch = `raw_${index}`;
  const rejectsTable = `raw_rejects_${index}`;
  const staged = `staged_${index}`;
  let kind = readerKindOf(file);
  const explicitHeader = config.header === 'auto' ? undefined : config.header === 'yes';
  const info = await stat(file);
  if (info.size === 0) throw new InputError(`${file}: the file is empty`);

  let whitespace: { fields: number; header: boolean } | null = null;
  if (kind === 'csv' && (config.delimiter === 'whitespace' || config.delimiter === undefined)) {
    if (config.delimiter === 'whitespace') {
      whitespace = await sniffWhitespace(engine, file);
      if (!whitespace) throw new InputError(`${file}: not whitespace-separated text with a constant number of fields`);
    } else {
      const columns = await describe(engine, `SELECT * FROM ${readerCall('csv', { header: explicitHeader }, `${rejectsTable}_sniff`, d)}`, file);
      if (columns.length === 1) whitespace = await sniffWhitespace(engine, file);
    }
    if (whitespace) kind = 'whitespace';
  }

  let header = true;
  let structuralRejects = 0;
  let shifts: string | null = null;
  try {
    if (kind === 'whitespace') {
      header = explicitHeader ?? whitespace!.header;
      await engine.run(
        `CREATE OR REPLACE TEMP TABLE ${scratch}_lines AS SELECT line, ${whitespaceFieldsSql('line')} AS fields FROM ${readerCall('whitespace', {}, '', d)}`,
        { path: file },
      );
    } else {
      const delimiter = config.delimiter === 'whitespace' ? undefined : config.delimiter === 'tab' ? '\t' : config.delimiter;
      await engine.run(`CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT * FROM ${readerCall(kind, { delimiter, header: explicitHeader }, rejectsTable, d)}`, {
        path: file,
      });
    }
  } catch (error) {
    throw new InputError(`${file}: cannot be read as ${kind === 'ndjson' ? 'newline-delimited JSON' : kind} (${firstLine((error as Error).message)})`);
  }

  let available: string[];
  let from = scratch;
  let line: string;
  if (kind === 'whitespace') {
    const fieldNames = Array.from({ length: whitespace!.fields }, (_, i) => String(i + 1));
    let headerNames = fieldNames;
    if (header) {
      const first = await engine.one<{ line: string }>(`SELECT line FROM ${scratch}_lines WHERE trim(line) <> '' LIMIT 1`);
      headerNames = first!.line.trim().split(/\s+/);
    }
    available = headerNames;
    // Blank lines were kept as rows here, so the row number is the physical line.
    const selectFields = available.map((name, i) => `fields[${i + 1}] AS ${q(name)}`).join(', ');
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE ${scratch} AS
       SELECT rowid + 1 AS __line, len(fields) AS __fields, line AS __raw, ${selectFields}
       FROM ${scratch}_lines WHERE trim(line) <> '' ${header ? 'AND rowid > (SELECT min(rowid) FROM ' + scratch + "_lines WHERE trim(line) <> '')" : ''}`,
    );
    line = '__line';
  } else {
    const columns = await describe(engine, `SELECT * FROM ${scratch}`, null);
    available = columns.map((c) => c.name);
    if (kind === 'csv') {
      header = explicitHeader ?? !available.every((c) => /^column\d+$/.test(c));
      if (!header) available = available.map((_, i) => String(i + 1));
      if (!header) {
        // Positional names for files without a header: "1", "2", …
        await engine.run(
          `CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT rowid AS __rowid, ${columns.map((c, i) => `${q(c.name)} AS ${q(String(i + 1))}`).join(', ')} FROM ${scratch}`,
        );
      } else {
        await engine.run(`CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT rowid AS __rowid, * FROM ${scratch}`);
      }
      const rejected = await engine.one<{ n: number }>(`SELECT count(DISTINCT line)::BIGINT AS n FROM ${rejectsTable}`);
      structuralRejects = rejected?.n ?? 0;
      if (structuralRejects > 0) {
        shifts = `${scratch}_shifts`;
        await engine.run(csvShiftsSql(shifts, rejectsTable));
      }
      line = csvLineSql('__rowid', header ? 2 : 1, shifts);
    } else {
      await engine.run(`CREATE OR REPLACE TEMP TABLE ${scratch} AS SELECT rowid AS __rowid, * FROM ${scratch}`);
      line = '(__rowid + 1)';
    }
  }

  const mapping = resolveColumns(file, available, config.columns, header);
  const types = new Map((await describe(engine, `SELECT * FROM ${scratch}`, null)).map((c) => [c.name, classifyType(c.type)] as const));
  const params: Record<string, string> = { source: file };
  if (config.dateFormat) params.dateFormat = config.dateFormat;
  await engine.run(
    stageRowsSql(staged, from, {
      customer: q(mapping.customer),
      date: q(mapping.date),
      amount: q(mapping.amount),
      order: mapping.order ? q(mapping.order) : null,
      dateType: types.get(mapping.date) ?? 'text',
      amountType: types.get(mapping.amount) ?? 'text',
      line,
      hasExplicitFormat: Boolean(config.dateFormat),
    }),
    params,
  );

  if (kind === 'whitespace') {
    // A line with the wrong number of fields is malformed, like DuckDB's CSV rejects.
    await engine.run(
      `UPDATE ${staged} SET reason = 'wrong number of fields' FROM ${scratch} WHERE ${staged}.line = ${scratch}.__line AND ${scratch}.__fields <> ${available.length}`,
    );
  }
  if (structuralRejects > 0) {
    await engine.run(
      `INSERT INTO ${staged} (source, line, reason, raw_line)
       SELECT source, line, lower(replace(error_type, '_', ' ')) || ': ' || message, raw_line FROM (${STRUCTURAL_REJECTS_SQL(rejectsTable)})`,
      { source: file },
    );
  }
  await engine.run(`DROP TABLE IF EXISTS ${scratch}; DROP TABLE IF EXISTS ${scratch}_lines`);
  return { table: staged, structuralRejects };
}

async function describe(engine: Engine, sql: string, file: string | null): Promise<{ name: string; type: string }[]> {
  const rows = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${sql}`, file ? { path: file } : undefined);
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

const firstLine = (message: string) => message.split('\n')[0]!.replace(/^[A-Za-z ]+Error: /, '');

/** Loads every input into `transactions` (accepted) and `rejects`. */
export async function loadTransactions(engine: Engine, config: ScoreConfig): Promise<LoadResult> {
  const files = await expandInputs(engine, config.inputs);
  const staged: string[] = [];
  for (const [i, file] of files.entries()) staged.push((await loadFile(engine, config, file, i)).table);
  const all = staged.map((t) => `SELECT * FROM ${t}`).join(' UNION ALL ');
  await engine.run(`
    CREATE OR REPLACE TEMP TABLE transactions AS
      SELECT source, line, customer_id, order_date, amount, order_id FROM (${all}) WHERE reason IS NULL;
    CREATE OR REPLACE TEMP TABLE rejects AS
      SELECT source, line, reason, raw_customer_id AS customer_id, raw_order_date AS order_date, raw_amount AS amount, raw_line
      FROM (${all}) WHERE reason IS NOT NULL;`);
  for (const t of staged) await engine.run(`DROP TABLE ${t}`);
  const counts = await engine.one<{ accepted: number; rejected: number }>(
    `SELECT (SELECT count(*) FROM transactions)::BIGINT AS accepted, (SELECT count(*) FROM rejects)::BIGINT AS rejected`,
  );
  const rowsAccepted = counts!.accepted;
  const rowsRejected = counts!.rejected;
  const rowsRead = rowsAccepted + rowsRejected;
  if (rowsRead === 0) {
    throw new InputError(`${files.length === 1 ? files[0] : files.join(', ')}: no transaction rows (the input has a header at most)`);
  }
  return { files: files.map((f) => path.normalize(f)), transactions: 'transactions', rejects: 'rejects', rowsRead, rowsAccepted, rowsRejected };
}

export { WHOLE_LINE_DELIMITER };
