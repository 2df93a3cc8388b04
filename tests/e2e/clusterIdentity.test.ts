/**
 * Cluster identity across runs (README "k-means clusters"), through the real
 * CLI on every engine of CRM_TEST_ENGINES: a run's clusters keep the numbers
 * of the previous recorded run's clusters they match (optimal assignment of
 * centroids), so two runs on the same data give the same ids, a run on
 * shifted data keeps them by proximity, new clusters take new numbers, and a
 * history from before the table run_clusters is filled from its runs' summaries.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

const env = { TZ: 'UTC' };

async function crm(args: string[]) {
  const result = await runCli(args, { env });
  expect(result.code, `crm ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

/** Every purchase day from `first`, one a day, `count` of them, each of `amount`. */
const days = (customer: string, first: string, count: number, amount: number) =>
  Array.from({ length: count }, (_, i) => {
    const day = new Date(`${first}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() + i);
    return `${customer},${day.toISOString().slice(0, 10)},${amount}`;
  });
const group = (prefix: string, size: number, rows: (id: string) => string[]) =>
  Array.from({ length: size }, (_, i) => rows(`${prefix}${String(i + 1).padStart(2, '0')}`)).flat();

/**
 * Three groups of alike customers (each group one point, so k = 3 finds them exactly), as of 2024-06-30:
 *   A ×10: 10 orders of 100, the last on 2024-06-20 (10 days), revenue 1000;
 *   B ×10: 10 orders of 110, the last on 2023-12-13 (200 days), revenue 1100;
 *   C ×20: one order of 40 on 2023-09-04 (300 days).
 * By mean revenue B is cluster 1, A 2, C 3.
 */
const RUN_1 = [...group('A', 10, (id) => days(id, '2024-06-11', 10, 100)), ...group('B', 10, (id) => days(id, '2023-12-04', 10, 110)), ...group('C', 20, (id) => [`${id},2023-09-04,40`])];
/**
 * Thirty days on (as of 2024-07-30), A bought twice more for 150 (12 orders, 1300, 5 days), B and C nothing
 * (230 and 330 days): by mean revenue A would now be cluster 1. In this run's z-scored log features
 * (population standard deviations over the 40 customers: recency 1.69, orders 0.90, revenue 1.69), the
 * squared distances of the new centroids to the old ones are A→A 0.19, A→B 4.35, B→B 0.007, B→A 3.24,
 * C→C 0.003, and over 7 from C to A or B: the least total pairs each group with itself, so A stays 2 and B 1.
 */
const RUN_2 = [...RUN_1, ...group('A', 10, (id) => days(id, '2024-07-24', 2, 150))];
/** Then ten new customers, one order of 500 on 2024-07-28, and k = 4: the new group is far from every old centroid, so it is left unpaired and takes number 4. */
const RUN_3 = [...RUN_2, ...group('D', 10, (id) => [`${id},2024-07-28,500`])];

describeEachEngine('k-means cluster identity across runs', import.meta.url, (under) => {
  let dir: string;
  const schemas: string[] = [];
  /** Flags for one history: a DuckDB file, or a schema of the cluster. */
  const historyFlags = (name: string) => {
    if (under.name === 'duckdb') return ['--db', path.join(dir, `${name}.duckdb`)];
    const schema = `${under.schema}_${name}`;
    schemas.push(schema);
    return ['--engine', POSTGRES_URL, '--schema', schema];
  };
  const score = async (input: string, asOf: string, history: string[], out: string, k = 3) => {
    await crm(['score', input, '--as-of', asOf, '--k', String(k), '--format', 'csv', '--no-clv', '--no-lifecycle', ...history, '--out', path.join(dir, out)]);
    const customers = parseCsv(await readFile(path.join(dir, out, 'customers.csv'), 'utf8'));
    return { customers, summary: await readJson(path.join(dir, out, 'summary.json')) };
  };
  /** Customer group (A, B, …) → its cluster number; every customer of a group in one cluster. */
  const clusterOfGroup = (customers: Record<string, string>[]) => {
    const of = new Map<string, Set<string>>();
    for (const c of customers) of.set(c.customer_id![0]!, (of.get(c.customer_id![0]!) ?? new Set()).add(c.cluster!));
    for (const [g, clusters] of of) expect(clusters.size, `group ${g}`).toBe(1);
    return Object.fromEntries([...of].map(([g, clusters]) => [g, Number([...clusters][0])]));
  };

  beforeAll(async () => {
    dir = await tempDir();
    for (const [name, rows] of [['run1', RUN_1], ['run2', RUN_2], ['run3', RUN_3]] as const) {
      await writeFile(path.join(dir, `${name}.csv`), ['customer_id,order_date,amount', ...rows, ''].join('\n'));
    }
  });
  afterAll(async () => {
    for (const schema of schemas) await under.engine().run(`DROP SCHEMA IF EXISTS ${under.engine().dialect.quoteIdentifier(schema)} CASCADE`);
  });

  it('two runs on the same data give every customer the same cluster and label', { timeout: 120_000 }, async () => {
    const history = historyFlags('same');
    const first = await score(CDNOW_CSV, '1997-09-30', history, 'same1', 5);
    const second = await score(CDNOW_CSV, '1997-09-30', history, 'same2', 5);
    expect(first.summary.clusters.previousRun).toBeNull();
    expect(second.summary.clusters.previousRun).toBe(first.summary.run.id);
    expect(second.summary.clusters.newClusters).toEqual([]);
    const pick = (rows: Record<string, string>[]) => rows.map((r) => [r.customer_id, r.cluster, r.cluster_label]);
    expect(pick(second.customers)).toEqual(pick(first.customers));
    expect(new Set(first.customers.map((r) => r.cluster))).toEqual(new Set(['1', '2', '3', '4', '5']));
  });

  it('on shifted data keeps each group its number by proximity, and numbers a new group after them', { timeout: 120_000 }, async () => {
    const history = historyFlags('shift');
    const first = await score(path.join(dir, 'run1.csv'), '2024-06-30', history, 'shift1');
    expect(clusterOfGroup(first.customers)).toEqual({ A: 2, B: 1, C: 3 });
    const second = await score(path.join(dir, 'run2.csv'), '2024-07-30', history, 'shift2');
    expect(clusterOfGroup(second.customers)).toEqual({ A: 2, B: 1, C: 3 });
    // A's mean revenue (1300) is now the highest: numbered afresh it would be cluster 1.
    expect(second.summary.clusters.centroids.find((c: { cluster: number }) => c.cluster === 2).revenue).toBeCloseTo(1300, 3);
    expect(second.summary.clusters.previousRun).toBe(first.summary.run.id);
    const third = await score(path.join(dir, 'run3.csv'), '2024-07-30', history, 'shift3', 4);
    expect(clusterOfGroup(third.customers)).toEqual({ A: 2, B: 1, C: 3, D: 4 });
    expect(third.summary.clusters.newClusters).toEqual([4]);
    // migration --by cluster compares the numbers: every group stays in its cluster, the new one comes into 4.
    const moves = path.join(dir, 'moves.csv');
    await crm(['migration', ...history, '--by', 'cluster', '--out', moves]);
    const cells = parseCsv(await readFile(moves, 'utf8')).map((r) => [r.from, r.to, Number(r.customers)]);
    expect(cells).toEqual([
      ['(new)', '4', 10],
      ['1', '1', 10],
      ['2', '2', 10],
      ['3', '3', 20],
    ]);
  });

  it('fills run_clusters in a history from before it, from its runs\' summaries, so the next run keeps their numbers', { timeout: 120_000 }, async () => {
    const history = historyFlags('older');
    const first = await score(path.join(dir, 'run1.csv'), '2024-06-30', history, 'older1');
    expect(clusterOfGroup(first.customers)).toEqual({ A: 2, B: 1, C: 3 });
    // As an earlier version left it: no run_clusters, and the clusters in the summary under "segments" only.
    const engine = under.engine();
    const h = under.name === 'duckdb' ? 'older' : engine.dialect.quoteIdentifier(history[3]!);
    if (under.name === 'duckdb') await engine.run(`ATTACH ${engine.dialect.quoteString(history[1]!)} AS older`);
    await engine.run(`DROP TABLE ${h}.run_clusters`);
    for (const run of await engine.all<{ run_id: number; summary: string }>(`SELECT run_id, CAST(summary AS VARCHAR) AS summary FROM ${h}.runs`)) {
      const old = { segments: JSON.parse(run.summary).segments };
      expect(old.segments.centroids).toHaveLength(3);
      await engine.run(`UPDATE ${h}.runs SET summary = CAST(? AS JSON) WHERE run_id = ?`, [JSON.stringify(old), run.run_id]);
    }
    if (under.name === 'duckdb') await engine.run(`DETACH older`);
    const second = await score(path.join(dir, 'run2.csv'), '2024-07-30', history, 'older2');
    expect(clusterOfGroup(second.customers)).toEqual({ A: 2, B: 1, C: 3 });
    expect(second.summary.clusters.previousRun).toBe(first.summary.run.id);
  });

  it('crm migration --by cluster lists the clusters in number order, 2 before 10', { timeout: 120_000 }, async () => {
    // Eleven groups of two alike customers: group g has g + 1 orders of 10 from 2024-01-01, so k = 11 finds them exactly.
    const rows = Array.from({ length: 11 }, (_, g) => [0, 1].flatMap((i) => days(`G${g}-${i}`, '2024-01-01', g + 1, 10))).flat();
    const input = path.join(dir, 'eleven.csv');
    await writeFile(input, ['customer_id,order_date,amount', ...rows, ''].join('\n'));
    const history = historyFlags('eleven');
    for (const out of ['eleven1', 'eleven2']) await score(input, '2024-03-31', history, out, 11);
    const printed = (await crm(['migration', ...history, '--by', 'cluster'])).stdout.split('\n');
    const header = printed.find((line) => line.startsWith('from'))!.split(/\s{2,}/);
    expect(header).toEqual(['from \\ to', ...Array.from({ length: 11 }, (_, i) => String(i + 1)), 'total']);
    const rowNames = printed.filter((line) => /^\d+\s/.test(line)).map((line) => line.split(/\s+/)[0]);
    expect(rowNames).toEqual(Array.from({ length: 11 }, (_, i) => String(i + 1)));
  });
});
