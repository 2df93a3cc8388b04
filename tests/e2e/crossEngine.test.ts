import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, fileHashes, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

/**
 * Issue 14's acceptance, through the real CLI: the CDNOW sample scored on
 * PostgreSQL/Citus (from the file, and from a table already in the database)
 * gives DuckDB's customers.csv (doubles within 1e-9 relative, everything
 * else equal), the same counts and the same fitted parameters. (The run
 * history in the cluster comes with its own step: until then the PostgreSQL
 * runs keep none, --no-db.)
 */
const AS_OF = '1997-09-30';
const LATER = '1997-12-31';
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
  return { rows: summary.rows, customers: summary.customers, rfm: summary.rfm, clv: summary.clv, lifecycle: summary.lifecycle, clusters: summary.clusters, segments: summary.segments };
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

    it('from the file, in every format: every output file byte for byte DuckDB’s', { timeout: 180_000 }, async () => {
      const formats = ['--format', 'parquet', '--format', 'csv', '--format', 'json', '--format', 'arrow', '--no-db'];
      const duckdb = path.join(dir, 'duckdb-all');
      const inCluster = path.join(dir, 'postgres-all');
      await crm(['score', CDNOW_CSV, '--as-of', AS_OF, ...formats, '--out', duckdb]);
      await crm(['score', CDNOW_CSV, '--as-of', AS_OF, ...formats, '--out', inCluster, ...postgres()]);
      const files = ['customers.parquet', 'customers.csv', 'customers.json', 'customers.arrow', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];
      expect(await fileHashes(inCluster, files)).toEqual(await fileHashes(duckdb, files));
    });

    it('--clv-model auto with --holdout-days: the same choice, holdout and intervals (clv_low, clv_high)', { timeout: 180_000 }, async () => {
      const args = ['--as-of', '1997-12-31', '--clv-model', 'auto', '--holdout-days', '92', '--format', 'csv', '--no-db'];
      const duckdb = path.join(dir, 'duckdb-auto');
      const inCluster = path.join(dir, 'postgres-auto');
      await crm(['score', CDNOW_CSV, ...args, '--out', duckdb]);
      await crm(['score', CDNOW_CSV, ...args, '--out', inCluster, ...postgres()]);
      expect(await fileHashes(inCluster, ['customers.csv'])).toEqual(await fileHashes(duckdb, ['customers.csv']));
      const summary = await readJson(path.join(inCluster, 'summary.json'));
      expect(summary.clv.selection.method).toBe('holdout');
      expect(summary.clv.intervals.draws).toBe(200);
      expectSameSummary(summary, await readJson(path.join(duckdb, 'summary.json')));
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

    it('with the run history in the cluster: the second run, runs, migration, export and report give DuckDB’s', { timeout: 300_000 }, async () => {
      const db = path.join(dir, 'history.duckdb');
      const duckdb = (out: string) => ['--format', 'csv', '--db', db, '--out', path.join(dir, out)];
      const inCluster = (out: string) => ['--format', 'csv', '--out', path.join(dir, out), ...postgres()];
      for (const [asOf, suffix] of [[AS_OF, '1'], [LATER, '2']] as const) {
        await crm(['score', CDNOW_CSV, '--as-of', asOf, ...duckdb(`duckdb-run${suffix}`)]);
        await crm(['score', CDNOW_CSV, '--as-of', asOf, ...inCluster(`postgres-run${suffix}`)]);
      }
      // The second run has the history's columns (previous_segment, segment_changed_at).
      const second = (engine: string) => readFile(path.join(dir, `${engine}-run2`, 'customers.csv'), 'utf8');
      expect(Object.keys(parseCsv(await second('postgres'))[0]!)).toContain('previous_segment');
      expectSameTable(parseCsv(await second('postgres')), parseCsv(await second('duckdb')));

      // crm runs: the same two runs (their clocks aside: started_at and seconds are this run's own).
      const runsOf = (stdout: string) =>
        stdout
          .split('\n')
          .filter((line) => /^\s*\d+\s/.test(line))
          .map((line) => line.trim().split(/\s+/))
          .map(([run, asOf, , , rowsRead, rejected, excluded, customers, scores]) => ({ run, asOf, rowsRead, rejected, excluded, customers, scores }));
      const duckdbRuns = runsOf((await crm(['runs', '--db', db])).stdout);
      expect(duckdbRuns.map((r) => r.asOf)).toEqual([AS_OF, LATER]);
      expect(runsOf((await crm(['runs', ...postgres()])).stdout)).toEqual(duckdbRuns);

      // crm migration: the same matrix, cell by cell.
      const duckdbMigration = (await crm(['migration', '--db', db, '--by', 'segment'])).stdout;
      expect(duckdbMigration).toContain('Champions');
      expect((await crm(['migration', ...postgres(), '--by', 'segment'])).stdout).toBe(duckdbMigration);

      // crm export --segment Champions: the same file, byte for byte.
      await crm(['export', '--db', db, '--segment', 'Champions', '--out', path.join(dir, 'champions-duckdb.csv')]);
      await crm(['export', ...postgres(), '--segment', 'Champions', '--out', path.join(dir, 'champions-postgres.csv')]);
      const champions = await readFile(path.join(dir, 'champions-duckdb.csv'), 'utf8');
      expect(parseCsv(champions).length).toBeGreaterThan(100);
      expect(await readFile(path.join(dir, 'champions-postgres.csv'), 'utf8')).toBe(champions);

      // crm report: the page of the newest run, with the same segment sizes as DuckDB's.
      await crm(['report', '--db', db, '--out', path.join(dir, 'report-duckdb.html')]);
      await crm(['report', ...postgres(), '--out', path.join(dir, 'report-postgres.html')]);
      const segmentRows = (html: string) => html.match(/Champions[^<]*<\/t[dh]>\s*<td[^>]*>[^<]*/g);
      const reportPostgres = await readFile(path.join(dir, 'report-postgres.html'), 'utf8');
      expect(reportPostgres).toContain('<svg');
      expect(segmentRows(reportPostgres)).toEqual(segmentRows(await readFile(path.join(dir, 'report-duckdb.html'), 'utf8')));
    });

    it('--format none keeps the scores in the cluster only: no customer file, every customer in customer_scores', { timeout: 180_000 }, async () => {
      const out = path.join(dir, 'postgres-none');
      await crm(['score', CDNOW_CSV, '--as-of', AS_OF, '--format', 'none', '--out', out, ...postgres()]);
      const summary = await readJson(path.join(out, 'summary.json'));
      expect(summary.run.outputs.filter((name: string) => name.startsWith('customers.'))).toEqual([]);
      const engine = under.engine();
      const q = engine.dialect.quoteIdentifier;
      const stored = await engine.one<{ customers: number; revenue: number }>(
        `SELECT count(*)::BIGINT AS customers, sum(revenue) AS revenue FROM ${q(under.schema)}.customer_scores WHERE run_id = ?`,
        [summary.run.id],
      );
      const reference = parseCsv(await readFile(path.join(duckdbOut, 'customers.csv'), 'utf8'));
      expect(stored!.customers).toBe(reference.length);
      expect(stored!.revenue).toBeCloseTo(reference.reduce((sum, row) => sum + Number(row.revenue), 0), 6);
    });
  },
  'postgres',
);
