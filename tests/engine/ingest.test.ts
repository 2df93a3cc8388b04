/**
 * The ingest verbs on every engine (tests/engines.ts): a file with bad rows
 * gives the same customer days, rejects and counts on DuckDB and on
 * PostgreSQL/Citus (which reads the file with its local DuckDB and streams
 * the rows in), and the counts reconcile. On PostgreSQL, --source-table reads
 * a typed table of the cluster with the rejects and line numbers its rule
 * gives (src/engine/postgres/sourceTable.ts). Expected values are worked out
 * by hand from the rows below; the run's clock is pinned to 2024-06-30.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Engine, IngestOptions } from '../../src/engine/Engine.js';
import { UsageError } from '../../src/errors.js';
import { describeEachEngine } from '../engines.js';
import { config, tempDir } from '../helpers.js';

const NOW = new Date('2024-06-30T12:00:00Z');

/** Line 1 is the header; the comment after each row says what becomes of it. */
const FILE_LINES = [
  'customer_id,order_date,amount',
  'c1,2024-01-05,10.50', // line 2: c1's day
  'c1,2024-01-05,4.25', //  line 3: the same day: one customer day of 14.75 from 2 rows
  ',2024-01-06,3', //        line 4: missing customer id
  'c2,2024-02-30,7', //      line 5: unparseable date
  'c2,2024-02-01,abc', //    line 6: non-numeric amount
  'c3,2024-03-01,', //       line 7: missing amount
  'c3,2099-01-01,9', //      line 8: date in the future
  'c3,2024-07-01,1', //      line 9: a day after the run's day: accepted
  'c2,2024-02-02,-2.5', //   line 10: a refund, accepted
];

const ingestOptions = (raw: Record<string, unknown>): IngestOptions => ({ ...config(raw), now: NOW });

async function customerDays(engine: Engine) {
  return engine.all<{ customer_id: string; order_date: string; amount: number; rows: number }>(
    `SELECT customer_id, CAST(order_date AS VARCHAR) AS order_date, CAST(amount AS DOUBLE PRECISION) AS amount, rows FROM customer_days ORDER BY customer_id, order_date`,
  );
}

async function rejects(engine: Engine) {
  return engine.all<{ line: number; reason: string; customer_id: string | null }>(`SELECT line, reason, customer_id FROM rejects ORDER BY source, line`);
}

describeEachEngine('the ingest verbs', import.meta.url, (under) => {
  it('a file with bad rows: the same customer days, rejects (line and reason) and counts, which reconcile', async () => {
    const engine = under.engine() as Engine;
    const file = path.join(await tempDir('crm-ingest-'), 'transactions.csv');
    await writeFile(file, `${FILE_LINES.join('\n')}\n`);
    const loaded = await engine.ingest([file], ingestOptions({ inputs: [file] }));

    expect(loaded.counts).toEqual({ read: 9, accepted: 4, rejected: 5 });
    expect(loaded.runDay).toBe('2024-06-30');
    expect(await customerDays(engine)).toEqual([
      { customer_id: 'c1', order_date: '2024-01-05', amount: 14.75, rows: 2 },
      { customer_id: 'c2', order_date: '2024-02-02', amount: -2.5, rows: 1 },
      { customer_id: 'c3', order_date: '2024-07-01', amount: 1, rows: 1 },
    ]);
    expect((await rejects(engine)).map((r) => [r.line, r.reason])).toEqual([
      [4, 'missing customer id'],
      [5, 'unparseable date'],
      [6, 'non-numeric amount'],
      [7, 'missing amount'],
      [8, 'date in the future'],
    ]);
    const { reasons } = await engine.rejectReasons(ingestOptions({}));
    expect(reasons.reduce((sum, r) => sum + r.rows, 0)).toBe(5);

    // rejects.csv as the score job writes it, from the engine's own writer.
    const out = path.join(path.dirname(file), 'rejects.csv');
    await engine.writeQuery(`SELECT line, reason, amount FROM rejects ORDER BY source, line`, 'csv', out);
    expect(await readFile(out, 'utf8')).toBe(
      ['line,reason,amount', '4,missing customer id,3', '5,unparseable date,7', '6,non-numeric amount,abc', '7,missing amount,', '8,date in the future,9', ''].join('\n'),
    );
    await engine.dropCustomerDays(loaded);
  });
});

describeEachEngine(
  '--source-table on DuckDB',
  import.meta.url,
  (under) => {
    it('is refused, before anything is read', async () => {
      const engine = under.engine() as Engine;
      await expect(engine.ingest([], ingestOptions({ sourceTable: 'sales.transactions' }))).rejects.toThrow(UsageError);
    });
  },
  'duckdb',
);

/** The name of a table from its qualified name ("schema"."name" or pg_temp."name"). */
const tableName = (qualified: string) => /"([^"]+)"$/.exec(qualified)![1]!;

/** Where tables of that name are, in any schema (a temp table's is pg_temp_N). */
const tablesNamed = (engine: Engine, name: string) => engine.all<{ schemaname: string }>(`SELECT schemaname FROM pg_tables WHERE tablename = ?`, [name]);

describeEachEngine(
  '--source-table: a typed table of the cluster',
  import.meta.url,
  (under) => {
    it('rejects rows without an id, date or amount, with a non-finite or too large amount, or in the future; numbers them by the rule; counts reconcile', async () => {
      const engine = under.engine() as Engine;
      const q = engine.dialect.quoteIdentifier;
      const table = `${q(under.schema)}.${q('Sales Rows')}`;
      await engine.run(`CREATE TABLE ${table} ("Client" TEXT, "Day" TIMESTAMPTZ, "Paid" DOUBLE PRECISION, "Invoice" INTEGER)`);
      // [client, day, paid, invoice]: the comment says what becomes of each.
      const rows: [string | null, string | null, number | string | null, number | null][] = [
        ['c1', '2024-01-05 10:00:00+00', 10.5, 1], //   c1's day, invoice 1
        ['c1', '2024-01-05 23:30:00+00', 4.25, 1], //   the same invoice: one row of customer days, 2 rows
        [' c2 ', '2024-01-06 00:00:00+00', 3, 2], //   id trimmed: c2
        [null, '2024-01-07 00:00:00+00', 1, 3], //      missing customer id (NULL: first in the order)
        ['  ', '2024-01-07 00:00:00+00', 1, 4], //      missing customer id (blank)
        ['c3', null, 5, 5], //                          missing date
        ['c3', '2024-01-08 00:00:00+00', null, 6], //   missing amount
        ['c3', '2024-01-09 00:00:00+00', 'NaN', 7], //  non-numeric amount
        ['c4', '2024-01-10 00:00:00+00', 1e15, 8], //   amount out of range
        ['c4', '2099-01-01 00:00:00+00', 2, 9], //      date in the future
      ];
      await engine.run(
        `INSERT INTO ${table} VALUES ${rows.map(() => '(?, CAST(? AS TIMESTAMPTZ), CAST(? AS DOUBLE PRECISION), CAST(? AS INTEGER))').join(', ')}`,
        rows.flatMap((r) => r.map((v) => (v === null ? null : typeof v === 'number' ? String(v) : v))),
      );
      const spec = `${under.schema}.Sales Rows`;
      const loaded = await engine.ingest([], ingestOptions({ sourceTable: spec, columns: { customer: 'Client', date: 'Day', amount: 'Paid', order: 'Invoice' } }));

      expect(loaded.counts).toEqual({ read: 10, accepted: 3, rejected: 7 });
      expect(loaded.hasOrderIds).toBe(true);
      expect(loaded.files).toEqual([spec]);
      expect(await customerDays(engine)).toEqual([
        { customer_id: 'c1', order_date: '2024-01-05', amount: 14.75, rows: 2 },
        { customer_id: 'c2', order_date: '2024-01-06', amount: 3, rows: 1 },
      ]);
      // Numbered in the order of the trimmed id (missing first: NULL, then blank ''), date, amount text, order id.
      expect((await rejects(engine)).map((r) => [r.line, r.reason, r.customer_id])).toEqual([
        [1, 'missing customer id', null],
        [2, 'missing customer id', '  '],
        [3, 'missing date', 'c3'],
        [4, 'missing amount', 'c3'],
        [5, 'non-numeric amount', 'c3'],
        [6, 'amount out of range', 'c4'],
        [7, 'date in the future', 'c4'],
      ]);
      expect((await engine.rejectReasons(ingestOptions({}))).reasons[0]).toEqual({ reason: 'missing customer id', rows: 2 });
      await engine.dropCustomerDays(loaded);
    });

    it('a session closed after its ingest (a run that failed later) leaves no customer-day table', async () => {
      const engine = under.engine() as Engine;
      const file = path.join(await tempDir('crm-ingest-'), 'transactions.csv');
      await writeFile(file, `${FILE_LINES.join('\n')}\n`);
      const session = (await under.open()) as Engine;
      let table: string;
      try {
        table = tableName((await session.ingest([file], ingestOptions({ inputs: [file] }))).dayTables[0]!);
        expect(await tablesNamed(engine, table)).toHaveLength(1);
      } finally {
        await session.close();
      }
      expect(await tablesNamed(engine, table)).toEqual([]);
    });

    it('a run killed after its ingest (its session ended, never closed) leaves no customer-day table in crm\'s schema, nor any once the next run has opened', async () => {
      const engine = under.engine() as Engine;
      const file = path.join(await tempDir('crm-ingest-'), 'transactions.csv');
      await writeFile(file, `${FILE_LINES.join('\n')}\n`);
      const killed = (await under.open()) as Engine;
      const table = tableName((await killed.ingest([file], ingestOptions({ inputs: [file] }))).dayTables[0]!);
      const { pid } = (await killed.one<{ pid: number }>(`SELECT pg_backend_pid() AS pid`))!;
      expect((await tablesNamed(engine, table)).map((t) => t.schemaname)).not.toContain(under.schema);
      await engine.run(`SELECT pg_terminate_backend(CAST(? AS INTEGER))`, [pid]);
      // The backend ends after the signal: wait until the server no longer lists it.
      while ((await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM pg_stat_activity WHERE pid = CAST(? AS INTEGER)`, [pid]))!.n > 0);
      await killed.close().catch(() => undefined);
      const next = await under.open();
      await next.close();
      expect(await tablesNamed(engine, table)).toEqual([]);
    });

    it('input files and a source table together are a usage error', async () => {
      const engine = under.engine() as Engine;
      await expect(engine.ingest(['tx.csv'], ingestOptions({ sourceTable: `${under.schema}.anything` }))).rejects.toThrow(UsageError);
    });

    it('a table that is not there, or a date column that is not a date, is said before anything is read', async () => {
      const engine = under.engine() as Engine;
      await expect(engine.ingest([], ingestOptions({ sourceTable: `${under.schema}.nowhere` }))).rejects.toThrow(/no such table/);
      const q = engine.dialect.quoteIdentifier;
      await engine.run(`CREATE TABLE ${q(under.schema)}.text_dates (customer_id TEXT, order_date TEXT, amount NUMERIC)`);
      await expect(engine.ingest([], ingestOptions({ sourceTable: `${under.schema}.text_dates` }))).rejects.toThrow(/order_date.*must be a DATE or TIMESTAMP/);
    });
  },
  'postgres',
);
