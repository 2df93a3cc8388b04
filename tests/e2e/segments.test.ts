import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DESIGN_SEGMENTS, designSegment } from '../designSegments.js';
import { CDNOW_CSV, fixture, logLines, parseCsv, readJson, runCli, tempDir, type CliResult } from '../helpers.js';

const STAGES = ['new', 'active', 'loyal', 'reactivated', 'at_risk', 'lapsed', 'lost'];
const CDNOW = ['--as-of', '1997-09-30', '--format', 'csv', '--no-db', '--quiet'];

/** The CDNOW rows in a fixed (LCG) permutation, header first. */
async function shuffledCdnow(dir: string): Promise<string> {
  const [header, ...rows] = (await readFile(CDNOW_CSV, 'utf8')).trim().split('\n');
  let seed = 987654321;
  for (let i = rows.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const j = seed % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const file = path.join(dir, 'cdnow-shuffled.csv');
  await writeFile(file, `${header}\n${rows.join('\n')}\n`);
  return file;
}

describe('crm score lifecycle and k-means clusters on the CDNOW sample (end to end)', () => {
  let dir: string;
  const out = (name: string) => path.join(dir, name);
  const runs: Record<string, CliResult> = {};

  beforeAll(async () => {
    dir = await tempDir('crm-segments-');
    const shuffled = await shuffledCdnow(dir);
    // --k auto with seed 11, the file as it is and shuffled; the default k (5) with seed 3, the same two.
    const [a, b] = await Promise.all([
      runCli(['score', CDNOW_CSV, ...CDNOW, '--k', 'auto', '--seed', '11', '--out', out('auto')]),
      runCli(['score', shuffled, ...CDNOW, '--k', 'auto', '--seed', '11', '--out', out('auto-shuffled')]),
    ]);
    const [c, d] = await Promise.all([
      runCli(['score', CDNOW_CSV, ...CDNOW, '--seed', '3', '--out', out('k5')]),
      runCli(['score', shuffled, ...CDNOW, '--seed', '3', '--out', out('k5-shuffled')]),
    ]);
    Object.assign(runs, { a, b, c, d });
  });

  it('runs exit 0', () => {
    for (const [name, run] of Object.entries(runs)) expect(run.code, `${name}: ${run.stderr}`).toBe(0);
  });

  it('gives every customer exactly one of the 7 lifecycle stages and one cluster; the counts add up', async () => {
    const summary = await readJson(path.join(out('auto'), 'summary.json'));
    const customers = parseCsv(await readFile(path.join(out('auto'), 'customers.csv'), 'utf8'));
    expect(summary.customers).toBe(2357);
    expect(customers).toHaveLength(2357);
    expect(new Set(customers.map((c) => c.customer_id)).size).toBe(2357);
    const k = summary.clusters.k;
    expect(k).toBeGreaterThanOrEqual(2);
    expect(k).toBeLessThanOrEqual(8);
    for (const c of customers) {
      expect(STAGES, c.customer_id).toContain(c.lifecycle_stage);
      const cluster = Number(c.cluster);
      expect(Number.isInteger(cluster) && cluster >= 1 && cluster <= k, `${c.customer_id} cluster ${c.cluster}`).toBe(true);
      expect(c.cluster_label, c.customer_id).not.toBe('');
    }
    // Summary counts = the table's counts = stages.csv, and they add up to the customers.
    const counts: Record<string, number> = summary.lifecycle.counts;
    expect(Object.keys(counts)).toEqual(STAGES);
    expect(Object.values(counts).reduce((s, n) => s + n, 0)).toBe(2357);
    for (const stage of STAGES) expect(customers.filter((c) => c.lifecycle_stage === stage).length, stage).toBe(counts[stage]);
    const stages = parseCsv(await readFile(path.join(out('auto'), 'stages.csv'), 'utf8'));
    expect(stages.map((s) => s.stage)).toEqual(STAGES);
    expect(stages.map((s) => Number(s.customers))).toEqual(STAGES.map((s) => counts[s]));
    expect(stages.reduce((s, r) => s + Number(r.revenue_share), 0)).toBeCloseTo(1, 4);
    // Clusters: clusters.csv sizes add up, numbered 1..k by descending mean revenue.
    const clusters = parseCsv(await readFile(path.join(out('auto'), 'clusters.csv'), 'utf8'));
    expect(clusters.map((c) => Number(c.cluster))).toEqual(Array.from({ length: k }, (_, i) => i + 1));
    expect(clusters.reduce((s, c) => s + Number(c.customers), 0)).toBe(2357);
    const meanRevenue = clusters.map((c) => Number(c.mean_revenue));
    expect([...meanRevenue].sort((x, y) => y - x)).toEqual(meanRevenue);
    expect(summary.clusters.kChosen).toBe('auto');
    expect(summary.clusters.silhouette.map((s: { k: number }) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
  });

  it('names the RFM segment of every customer from their scores by the map of DESIGN §3; segments.csv counts them, all 11 listed', async () => {
    const customers = parseCsv(await readFile(path.join(out('k5'), 'customers.csv'), 'utf8'));
    const segmentOf = (c: Record<string, string>) => designSegment(Number(c.r_score), Number(c.f_score), Number(c.m_score));
    expect(customers.filter((c) => c.rfm_segment !== segmentOf(c)).map((c) => `${c.customer_id} ${c.rfm_cell} ${c.rfm_segment}`)).toEqual([]);
    // Sizes and revenue (in cents, amounts have two decimals) per segment, counted here from the scores.
    const expected = DESIGN_SEGMENTS.map((segment) => {
      const members = customers.filter((c) => segmentOf(c) === segment);
      return [segment, members.length, members.reduce((s, c) => s + Math.round(Number(c.revenue) * 100), 0)] as const;
    });
    const written = parseCsv(await readFile(path.join(out('k5'), 'segments.csv'), 'utf8'));
    const bySegment = new Map(written.map((r) => [r.segment, [r.segment, Number(r.customers), Math.round(Number(r.revenue) * 100)] as const]));
    expect(DESIGN_SEGMENTS.map((segment) => bySegment.get(segment))).toEqual(expected);
    expect(written).toHaveLength(11);
    // A cell of every FM for R = 4 is present on CDNOW, so a cell moved between segments changes a size.
    expect(new Set(customers.filter((c) => c.r_score === '4').map((c) => Math.floor((Number(c.f_score) + Number(c.m_score)) / 2 + 0.5)))).toEqual(new Set([1, 2, 3, 4, 5]));
  });

  it('writes a byte-identical customers.csv for the same --seed when the rows are shuffled, also with --k auto', async () => {
    const table = await readFile(path.join(out('auto'), 'customers.csv'), 'utf8');
    expect(await readFile(path.join(out('auto-shuffled'), 'customers.csv'), 'utf8')).toBe(table);
    expect(await readFile(path.join(out('auto-shuffled'), 'clusters.csv'), 'utf8')).toBe(await readFile(path.join(out('auto'), 'clusters.csv'), 'utf8'));
    // The default k with another seed, shuffled or not.
    const k5 = await readFile(path.join(out('k5'), 'customers.csv'), 'utf8');
    expect(await readFile(path.join(out('k5-shuffled'), 'customers.csv'), 'utf8')).toBe(k5);
    expect((await readJson(path.join(out('k5'), 'summary.json'))).clusters.k).toBe(5);
  });
});

describe('crm score --k on the command line', () => {
  const results: Record<string, { result: CliResult; out: string }> = {};
  beforeAll(async () => {
    const dir = await tempDir('crm-k-');
    const cases: Record<string, string[]> = {
      'blobs4.csv': ['score', fixture('blobs', 'blobs4.csv'), '--as-of', '2024-12-31', '--k', 'auto', '--no-clv', '--no-db', '--format', 'csv', '--quiet'],
      'blobs3.csv': ['score', fixture('blobs', 'blobs3.csv'), '--as-of', '2024-12-31', '--k', 'auto', '--no-clv', '--no-db', '--format', 'csv', '--quiet'],
      huge: ['score', CDNOW_CSV, '--k', '100000'],
      seven: ['score', fixture('tiny', 'transactions.csv'), '--as-of', '2024-03-31', '--k', '7', '--no-clv', '--quiet'],
    };
    const names = Object.keys(cases);
    const done = await Promise.all(names.map((name) => runCli([...cases[name]!, '--out', path.join(dir, name)])));
    names.forEach((name, i) => (results[name] = { result: done[i]!, out: path.join(dir, name) }));
  });

  it.each([
    { file: 'blobs4.csv', k: 4 },
    { file: 'blobs3.csv', k: 3 },
  ])('--k auto on fixtures/blobs/$file chooses the true k = $k', async ({ file, k }) => {
    const { result, out } = results[file]!;
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.clusters.k).toBe(k);
    const customers = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8'));
    // Blob b has the b-th highest revenue, so its customers are all in one cluster, ranked the same.
    const rank = new Map([...new Set(customers.map((c) => c.customer_id.slice(0, 2)))].sort().map((b, i) => [b, String(i + 1)]));
    expect(customers.filter((c) => c.cluster !== rank.get(c.customer_id.slice(0, 2)))).toEqual([]);
  });

  it('--k 100000: exit 2, one clear line naming k, no output', async () => {
    const { result, out } = results.huge!;
    expect(result.code).toBe(2);
    const lines = logLines(result.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, exitCode: 2, msg: expect.stringMatching(/kmeans\.k.*50/) });
    expect(result.stdout).toBe('');
    await expect(stat(out)).rejects.toThrow();
  });

  it('--k above the number of customers: exit 2, one line naming k and the customers', async () => {
    const { result, out } = results.seven!;
    expect(result.code).toBe(2);
    expect(logLines(result.stderr).at(-1)).toMatchObject({ level: 50, exitCode: 2, msg: '--k 7: k = 7 is more than the 6 customers; use a k of at most 6' });
    await expect(stat(out)).rejects.toThrow();
  });
});
