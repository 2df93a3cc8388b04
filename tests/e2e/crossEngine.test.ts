import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

/**
 * Issue 14's acceptance, through the real CLI: the CDNOW sample scored on
 * PostgreSQL/Citus (from the file, and from a table already in the database)
 * gives DuckDB's customers.csv (doubles within 1e-9 relative, everything
 * else equal), the same counts and the same fitted parameters. (The run
 * history in the cluster comes with its own step: until then the PostgreSQL
 * runs keep none, --no-db.)
 */
const AS_OF = '1997-09-30';
const env = { TZ: 'UTC' };

async function crm(args: string[]) {
  const result = await runCli(args, { env });
  expect(result.code, `crm ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

/** Every field alike, numbers within 1e-9 relative: the engines compute in doubles in different orders. */
function expectSameTable(actual: Record<string, string>[], expected: Record<string, string>[]): void {
  expect(actual.length).toBe(expected.length);
  expect(Object.keys(actual[0]!)).toEqual(Object.keys(expected[0]!));
  const mismatches: string[] = [];
  actual.forEach((row, i) => {
    for (const [column, value] of Object.entries(expected[i]!)) {
      const got = row[column]!;
      const a = Number(got);
      const b = Number(value);
      const numeric = value !== '' && got !== '' && Number.isFinite(a) && Number.isFinite(b);
      const same = numeric ? Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(b), 1e-300) || a === b : got === value;
      if (!same && mismatches.length < 10) mismatches.push(`row ${i + 1} (${row.customer_id}) ${column}: ${got} ≠ ${value}`);
    }
  });
  expect(mismatches).toEqual([]);
}

/** What summary.json says of the data: counts, cut points, fits, stages and clusters (no clocks, paths or engine). */
function dataOf(summary: Record<string, any>) {
  return { rows: summary.rows, customers: summary.customers, rfm: summary.rfm, clv: summary.clv, lifecycle: summary.lifecycle, segments: summary.segments };
}

function expectSameSummary(actual: Record<string, any>, expected: Record<string, any>): void {
  const a = dataOf(actual);
  const e = dataOf(expected);
  // Fitted parameters and log-likelihoods are doubles computed from the same per-pattern inputs: within 1e-9.
  const close = (x: unknown, y: unknown, where: string): void => {
    if (typeof y === 'number' && typeof x === 'number') {
      expect(Math.abs(x - y), `${where}: ${x} vs ${y}`).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(y), 1));
    } else if (y && typeof y === 'object') {
      expect(Object.keys(x as object).sort(), where).toEqual(Object.keys(y).sort());
      for (const key of Object.keys(y)) close((x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key], `${where}.${key}`);
    } else {
      expect(x, where).toEqual(y);
    }
  };
  close(a, e, 'summary');
}

describeEachEngine(
  'the CDNOW run on PostgreSQL/Citus gives DuckDB’s results',
  import.meta.url,
  (under) => {
    let dir: string;
    let duckdbOut: string;
    const postgres = () => ['--engine', POSTGRES_URL, '--schema', under.schema];

    beforeAll(async () => {
      dir = await tempDir('crm-cross-engine-');
      duckdbOut = path.join(dir, 'duckdb');
      // Without a history on either side (previous_segment and segment_changed_at come with one).
      await crm(['score', CDNOW_CSV, '--as-of', AS_OF, '--format', 'csv', '--no-db', '--out', duckdbOut]);
    }, 120_000);

    it('from the file: the same customers.csv, counts and fits', { timeout: 180_000 }, async () => {
      const out = path.join(dir, 'postgres-file');
      await crm(['score', CDNOW_CSV, '--as-of', AS_OF, '--format', 'csv', '--no-db', '--out', out, ...postgres()]);
      expectSameTable(parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8')), parseCsv(await readFile(path.join(duckdbOut, 'customers.csv'), 'utf8')));
      expectSameSummary(await readJson(path.join(out, 'summary.json')), await readJson(path.join(duckdbOut, 'summary.json')));
      expect(await readFile(path.join(out, 'rejects.csv'), 'utf8')).toBe(await readFile(path.join(duckdbOut, 'rejects.csv'), 'utf8'));
    });

    it('from --source-table: the same customers.csv, counts and fits', { timeout: 180_000 }, async () => {
      const engine = under.engine();
      const table = `${under.schema}.cdnow_transactions`;
      const q = engine.dialect.quoteIdentifier;
      await engine.run(`CREATE TABLE ${q(under.schema)}.cdnow_transactions (customer_id TEXT, order_date DATE, amount NUMERIC(12, 2))`);
      const rows = parseCsv(await readFile(CDNOW_CSV, 'utf8'));
      for (let from = 0; from < rows.length; from += 500) {
        const batch = rows.slice(from, from + 500);
        await engine.run(
          `INSERT INTO ${q(under.schema)}.cdnow_transactions VALUES ${batch.map(() => '(?, CAST(? AS DATE), CAST(? AS NUMERIC(12, 2)))').join(', ')}`,
          batch.flatMap((r) => [r.customer_id!, r.order_date!, r.amount!]),
        );
      }
      const out = path.join(dir, 'postgres-table');
      await crm(['score', '--source-table', table, '--as-of', AS_OF, '--format', 'csv', '--no-db', '--out', out, ...postgres()]);
      expectSameTable(parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8')), parseCsv(await readFile(path.join(duckdbOut, 'customers.csv'), 'utf8')));
      expectSameSummary(await readJson(path.join(out, 'summary.json')), await readJson(path.join(duckdbOut, 'summary.json')));
    });
  },
  'postgres',
);
