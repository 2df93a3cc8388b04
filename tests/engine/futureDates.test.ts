/**
 * Rows dated more than a day after the day of the run are rejected as `date
 * in the future` (DESIGN §3, As-of date): one mistyped 2099 would otherwise
 * be the default as-of and make every customer decades late. The run's clock
 * is pinned here through the pipeline's effects, so the day boundaries are exact.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';
import type { Engine } from '../../src/engine/Engine.js';
import { silentEffects } from '../../src/effects.js';
import { runScore } from '../../src/jobs/score.js';
import { config, parseCsv, tempDir, withEngine } from '../helpers.js';

const LOAD_ONLY = { noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false }, lifecycle: { enabled: false } };

/** Noon UTC on 10 March 2024: the run's day is the 10th, the 11th is a day after it, the 12th is in the future. */
const NOON_10_MARCH = new Date('2024-03-10T12:00:00Z');
const at = (now: Date) => ({ ...silentEffects, now: () => now });

/** customer, day, amount as written; the rows after the first three are in the future. */
const ROWS: [string, string, string][] = [
  ['C1', '2024-03-01', '10'],
  ['C2', '2024-03-10', '20'],
  ['C1', '2024-03-11', '5'],
  ['C3', '2024-03-12', '7'],
  ['C2', '2099-01-01', '30'],
];
const dayMonthYear = (day: string) => day.split('-').reverse().join('/');

/** The rows in each input format crm reads, and the line each future row is on. */
const FORMATS: { name: string; file: string; write: (file: string, engine: Engine) => Promise<unknown>; options?: Record<string, unknown>; futureLines: number[] }[] = [
  { name: 'CSV, ISO dates (read as DATE by DuckDB)', file: 'iso.csv', write: (f) => writeFile(f, csv(ROWS)), futureLines: [5, 6] },
  {
    name: 'CSV, timestamps with offsets and YYYYMMDD (read as text, parsed by crm)',
    file: 'text.csv',
    write: (f) => writeFile(f, csv(ROWS.map(([c, d, a], i) => [c, i % 2 ? d.replaceAll('-', '') : `${d}T08:00:00+02:00`, a]))),
    futureLines: [5, 6],
  },
  {
    name: 'CSV, --date-format %d/%m/%Y',
    file: 'dmy.csv',
    write: (f) => writeFile(f, csv(ROWS.map(([c, d, a]) => [c, dayMonthYear(d), a]))),
    options: { dateFormat: '%d/%m/%Y' },
    futureLines: [5, 6],
  },
  { name: 'whitespace-aligned text', file: 'aligned.txt', write: (f) => writeFile(f, ['customer_id  order_date  amount', ...ROWS.map((r) => r.join('  '))].join('\n') + '\n'), futureLines: [5, 6] },
  {
    name: 'NDJSON',
    file: 'rows.ndjson',
    write: (f) => writeFile(f, ROWS.map(([c, d, a]) => JSON.stringify({ customer_id: c, order_date: d, amount: Number(a) })).join('\n') + '\n'),
    futureLines: [4, 5],
  },
  {
    name: 'Parquet',
    file: 'rows.parquet',
    write: (f, engine) =>
      engine.run(
        `COPY (SELECT customer_id, order_date::DATE AS order_date, amount::DECIMAL(10,2) AS amount FROM (VALUES ${ROWS.map(([c, d, a]) => `('${c}', '${d}', '${a}')`).join(', ')}) t(customer_id, order_date, amount)) TO ${engine.dialect.quoteString(f)} (FORMAT parquet)`,
      ),
    futureLines: [4, 5],
  },
];

const csv = (rows: string[][]) => ['customer_id,order_date,amount', ...rows.map((r) => r.join(','))].join('\n') + '\n';

describe('rows dated in the future', () => {
  for (const format of FORMATS) {
    it(`are rejected with their line, not the as-of: ${format.name}`, async () => {
      const dir = await tempDir();
      const input = path.join(dir, format.file);
      const out = path.join(dir, 'out');
      await withEngine(async (engine) => {
        await format.write(input, engine);
        const summary = await runScore(engine, config({ inputs: [input], out, ...LOAD_ONLY, ...format.options }), at(NOON_10_MARCH));
        // The 11th is a day after the run's day: accepted, but after the default as-of (the latest day up to the 10th).
        expect(summary.run.asOf).toBe('2024-03-10');
        expect(summary.rows).toEqual({ read: 5, accepted: 3, rejected: 2, excluded: 1 });
      });
      const rejects = parseCsv(await readFile(path.join(out, 'rejects.csv'), 'utf8'));
      expect(rejects.map((r) => [Number(r.line), r.reason])).toEqual(format.futureLines.map((line) => [line, 'date in the future']));
      if (!format.file.endsWith('.parquet')) {
        // The fields as written in the file (Parquet has no text to show).
        const text = (await readFile(input, 'utf8')).split('\n');
        for (const r of rejects) {
          const written = format.file.endsWith('.ndjson') ? Object.values(JSON.parse(text[Number(r.line) - 1]!)).map(String) : text[Number(r.line) - 1]!.split(/,|\s+/);
          expect([r.customer_id, r.order_date, r.amount], `line ${r.line}`).toEqual(written);
        }
      }
      // C3 bought only in the future: no customer. Recency from the 10th: C1 last bought on the 1st, C2 on the 10th.
      const customers = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8'));
      expect(customers.map((c) => [c.customer_id, c.recency_days, c.orders, c.revenue])).toEqual([
        ['C1', '9', '1', '10.0'],
        ['C2', '0', '1', '20.0'],
      ]);
    });
  }

  it('are rejected among other rejects, each with its first reason (a value that cannot be read comes first)', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'mixed.csv');
    await writeFile(
      input,
      csv([['C1', '2024-03-01', '10'], ['C1', '2099-01-01', 'abc'], ['C1', 'not a day', '3'], ['', '2024-03-02', '4'], ['C2', '2030-06-30', '8'], ['C2', '2031-01-01', ''], ['C2', '2024-03-09', '6']]),
    );
    const out = path.join(dir, 'out');
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [input], out, ...LOAD_ONLY }), at(NOON_10_MARCH));
      expect(summary.rows).toEqual({ read: 7, accepted: 2, rejected: 5, excluded: 0 });
    });
    const rejects = parseCsv(await readFile(path.join(out, 'rejects.csv'), 'utf8'));
    expect(rejects.map((r) => [r.line, r.reason, r.customer_id, r.order_date, r.amount])).toEqual([
      ['3', 'non-numeric amount', 'C1', '2099-01-01', 'abc'],
      ['4', 'unparseable date', 'C1', 'not a day', '3'],
      ['5', 'missing customer id', '', '2024-03-02', '4'],
      ['6', 'date in the future', 'C2', '2030-06-30', '8'],
      ['7', 'missing amount', 'C2', '2031-01-01', ''],
    ]);
  });

  it("take the run's day in --timezone", async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'days.csv');
    await writeFile(input, csv([['C1', '2024-03-10', '1'], ['C1', '2024-03-12', '2'], ['C1', '2024-03-13', '3']]));
    // 23:30 UTC on the 10th is 12:30 on the 11th in Auckland (UTC+13 in March).
    const now = new Date('2024-03-10T23:30:00Z');
    const run = async (timezone: string, out: string) => {
      const engine = await DuckDbEngine.create({ timezone });
      try {
        return await runScore(engine, config({ inputs: [input], out: path.join(dir, out), timezone, ...LOAD_ONLY }), at(now));
      } finally {
        await engine.close();
      }
    };
    const utc = await run('UTC', 'utc');
    expect([utc.run.asOf, utc.rows]).toEqual(['2024-03-10', { read: 3, accepted: 1, rejected: 2, excluded: 0 }]);
    const auckland = await run('Pacific/Auckland', 'auckland');
    expect([auckland.run.asOf, auckland.rows]).toEqual(['2024-03-10', { read: 3, accepted: 2, rejected: 1, excluded: 1 }]);
    const rejects = parseCsv(await readFile(path.join(dir, 'auckland', 'rejects.csv'), 'utf8'));
    expect(rejects.map((r) => [r.line, r.order_date, r.reason])).toEqual([['4', '2024-03-13', 'date in the future']]);
  });

  it('are rejected whatever the --as-of; an as-of in the past still excludes the later rows', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'iso.csv');
    await writeFile(input, csv(ROWS));
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [input], out: path.join(dir, 'out'), asOf: '2024-03-05', ...LOAD_ONLY }), at(NOON_10_MARCH));
      expect([summary.run.asOf, summary.rows]).toEqual(['2024-03-05', { read: 5, accepted: 3, rejected: 2, excluded: 2 }]);
    });
  });
});
