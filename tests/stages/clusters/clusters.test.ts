import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../../../src/engine/Engine.js';
import { UsageError } from '../../../src/errors.js';
import { assignNearest } from '../../../src/models/kmeansFit.js';
import { kMeansPlusPlus } from '../../../src/models/kmeansSeeding.js';
import { adjustedRandIndex } from '../../models/kmeansHelpers.js';
import { silentEffects } from '../../../src/effects.js';
import { runScore, type ScoreSummary } from '../../../src/jobs/score.js';
import { FEATURE_SCALE, featureSampleSql } from '../../../src/stages/clusters/queries.js';
import { CUSTOMERS } from '../../../src/stages/scored/queries.js';
import { CDNOW_CSV, config, fixture, parseCsv, tempDir, withEngine } from '../../helpers.js';

/**
 * fixtures/blobs (README): customers B<b>-nnnn drawn around blob b's centre in
 * (recency days, orders, revenue); blob 1 has the highest revenue, so blob b
 * should be cluster b once clusters are numbered by descending mean revenue.
 *   blobs4.csv: 1 (6 days, 24 orders, 5000) ×120, 2 (30, 8, 800) ×180, 3 (150, 3, 150) ×240, 4 (500, 1, 30) ×300
 *   blobs3.csv: blobs 1, 3 and 4 only (120 + 240 + 300).
 */
const BLOBS4 = fixture('blobs', 'blobs4.csv');
const BLOBS3 = fixture('blobs', 'blobs3.csv');
const AS_OF = '2024-12-31';
const blobOf = (id: string) => Number(/^B(\d)-/.exec(id)![1]);

interface Run {
  summary: ScoreSummary;
  rows: { customer_id: string; cluster: number; cluster_label: string; recency_days: number; orders: number; revenue: number }[];
  out: string;
}

async function segment(input: string, kmeans: Record<string, unknown>, inspect?: (engine: Engine) => Promise<void>, asOf = AS_OF): Promise<Run> {
  const out = await tempDir();
  return withEngine(async (engine) => {
    const summary = await runScore(
      engine,
      config({ inputs: [input], out, asOf, noDb: true, format: ['csv'], clv: { enabled: false }, lifecycle: { enabled: false }, kmeans }),
      silentEffects,
    );
    const rows = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8')).map((r) => ({
      customer_id: r.customer_id!,
      cluster: Number(r.cluster),
      cluster_label: r.cluster_label!,
      recency_days: Number(r.recency_days),
      orders: Number(r.orders),
      revenue: Number(r.revenue),
    }));
    await inspect?.(engine);
    return { summary, rows, out };
  });
}

/** A fixed permutation of a CSV's data rows (LCG), header kept. */
async function shuffledCopy(file: string, seed: number): Promise<string> {
  const [header, ...rows] = (await readFile(file, 'utf8')).trim().split('\n');
  let state = seed;
  for (let i = rows.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const target = path.join(await tempDir(), `shuffled-${path.basename(file)}`);
  await writeFile(target, `${header}\n${rows.join('\n')}\n`);
  return target;
}

describe('k-means clusters stage on well-separated blobs', () => {
  it('--k 4 recovers the 4 blobs (ARI ≥ 0.99), numbered by descending mean revenue, with labels', async () => {
    const { rows, summary, out } = await segment(BLOBS4, { k: 4, seed: 42 });
    expect(rows).toHaveLength(840);
    const truth = rows.map((r) => blobOf(r.customer_id));
    const clusters = rows.map((r) => r.cluster);
    expect(adjustedRandIndex(clusters, truth)).toBeGreaterThanOrEqual(0.99);
    // Numbered by descending mean revenue, blob b (b-th highest revenue) is cluster b.
    expect(clusters).toEqual(truth);
    for (const row of rows) expect(row.cluster_label.length, row.customer_id).toBeGreaterThan(0);

    const seg = summary.clusters!;
    expect(seg).toMatchObject({ k: 4, kChosen: 'fixed', silhouette: null, features: ['log_recency_days', 'log_orders', 'log_revenue'], seed: 42, sampleSize: 840 });
    expect(seg.centroids.map((c) => c.cluster)).toEqual([1, 2, 3, 4]);
    expect(seg.centroids.map((c) => c.customers)).toEqual([120, 180, 240, 300]);
    // Centroids in original units: the geometric centre of each blob, near its scale.
    const near = (actual: number, expected: number, tolerance: number) => expect(Math.abs(actual / expected - 1)).toBeLessThan(tolerance);
    near(seg.centroids[0]!.revenue, 5000, 0.1);
    near(seg.centroids[0]!.orders, 24, 0.1);
    near(seg.centroids[0]!.recency_days, 6, 0.15);
    near(seg.centroids[3]!.revenue, 30, 0.1);
    expect(seg.centroids[3]!.orders).toBeCloseTo(1, 6); // every blob-4 customer has exactly 1 order
    expect(seg.centroids.map((c) => c.label)).toEqual(labelsOf(rows));

    // clusters.csv: one row per cluster, sizes add up to the customers, mean revenue descending.
    const csv = parseCsv(await readFile(path.join(out, 'clusters.csv'), 'utf8'));
    expect(csv.map((r) => Number(r.cluster))).toEqual([1, 2, 3, 4]);
    expect(csv.reduce((s, r) => s + Number(r.customers), 0)).toBe(summary.customers);
    expect(csv.map((r) => Number(r.customers))).toEqual([120, 180, 240, 300]);
    const meanRevenue = csv.map((r) => Number(r.mean_revenue));
    expect([...meanRevenue].sort((a, b) => b - a)).toEqual(meanRevenue);
    expect(csv.map((r) => r.cluster_label)).toEqual(seg.centroids.map((c) => c.label));
  });

  it.each([
    { file: BLOBS4, k: 4 },
    { file: BLOBS3, k: 3 },
  ])('--k auto chooses the true k = $k by silhouette', async ({ file, k }) => {
    const { rows, summary } = await segment(file, { k: 'auto', seed: 42 });
    const seg = summary.clusters!;
    expect(seg.k).toBe(k);
    expect(seg.kChosen).toBe('auto');
    expect(seg.silhouette!.map((s) => s.k)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    const best = Math.max(...seg.silhouette!.map((s) => s.silhouette));
    expect(seg.silhouette!.find((s) => s.k === k)!.silhouette).toBe(best);
    // blobs3 has blobs 1, 3, 4: by revenue they are clusters 1, 2, 3.
    const rank = new Map([...new Set(rows.map((r) => blobOf(r.customer_id)))].sort().map((b, i) => [b, i + 1]));
    expect(rows.map((r) => r.cluster)).toEqual(rows.map((r) => rank.get(blobOf(r.customer_id))));
  });

  it('gives an identical cluster column for shuffled input rows with the same seed', async () => {
    const shuffled = await shuffledCopy(BLOBS4, 2024);
    for (const kmeans of [
      { k: 4, seed: 7 },
      { k: 5, seed: 7, sampleSize: 300 }, // a k that splits a blob, and a sample: the hardest case for determinism
    ]) {
      const [a, b] = [await segment(BLOBS4, kmeans), await segment(shuffled, kmeans)];
      expect(b.rows).toEqual(a.rows);
      expect(b.summary.clusters).toEqual(a.summary.clusters);
    }
  });

  it('fits on a seeded sample when the base is larger than sampleSize', async () => {
    const { rows, summary } = await segment(BLOBS4, { k: 4, seed: 3, sampleSize: 200 });
    expect(summary.clusters!.sampleSize).toBe(200);
    expect(adjustedRandIndex(rows.map((r) => r.cluster), rows.map((r) => blobOf(r.customer_id)))).toBeGreaterThanOrEqual(0.99);
  });

  it('the sample query gives the same rows with and without its hash-range prefilter', async () => {
    await segment(BLOBS4, { k: 4 }, async (engine) => {
      // A run frees customer_features once the scored table is written; that table has the same customers and features.
      await engine.run(`CREATE TEMP TABLE customer_features AS SELECT * FROM final_scores`);
      const features = ['log_recency_days', 'log_orders', 'log_revenue'] as const;
      const names = [...features, 'customers', ...features.flatMap((f) => [`mean_${f}`, `std_${f}`])];
      const sql = featureSampleSql(features, engine.dialect, CUSTOMERS);
      for (const sampleSize of [10, 50, 400, 2000]) {
        const filtered = await engine.numericColumns(sql, names, { seed: 5, sampleSize, oversample: 2 });
        const all = await engine.numericColumns(sql, names, { seed: 5, sampleSize, oversample: 0 });
        expect(all.log_orders.length).toBe(Math.min(sampleSize, 840));
        expect(filtered).toEqual(all);
      }
      // Exact population statistics of the rounded features.
      const stats = await engine.one<Record<string, number>>(
        `SELECT avg(round(ln(1 + orders) * ${FEATURE_SCALE})) AS mean, stddev_pop(round(ln(1 + orders) * ${FEATURE_SCALE})) AS std FROM customer_features`,
      );
      const all = await engine.numericColumns(sql, names, { seed: 5, sampleSize: 10, oversample: 0 });
      expect(all.mean_log_orders[0]).toBeCloseTo(stats!.mean, 3);
      expect(all.std_log_orders[0]! / stats!.std).toBeCloseTo(1, 12);
    });
  });

  it('refuses a k larger than the number of customers with a UsageError naming k', async () => {
    // fixtures/tiny has 6 customers as of 2024-03-31.
    const run = segment(fixture('tiny', 'transactions.csv'), { k: 7 }, undefined, '2024-03-31');
    await expect(run).rejects.toThrow(UsageError);
    await expect(segment(fixture('tiny', 'transactions.csv'), { k: 7 }, undefined, '2024-03-31')).rejects.toThrow(/--k 7: .*more than the 6 customers/);
    // k = the number of customers is fine: their 6 feature vectors are distinct, one customer per cluster.
    const six = await segment(fixture('tiny', 'transactions.csv'), { k: 6 }, undefined, '2024-03-31');
    expect(new Set(six.rows.map((r) => r.cluster)).size).toBe(6);
  });
});

describe('--k auto on few distinct customers', () => {
  const write = async (lines: string[]) => {
    const file = path.join(await tempDir(), 'few.csv');
    await writeFile(file, ['customer_id,order_date,amount', ...lines, ''].join('\n'));
    return file;
  };

  it('tries no more clusters than distinct feature vectors', async () => {
    // 7 customers, 2 distinct (recency, orders, revenue): k = 2 is the only candidate.
    const file = await write(['A,2024-01-01,10', 'B,2024-01-01,10', 'C,2024-01-01,10', 'D,2024-01-01,10', 'E,2024-01-05,20', 'F,2024-01-05,20', 'G,2024-01-05,20']);
    const { summary, rows } = await segment(file, { k: 'auto' }, undefined, '2024-01-05');
    expect(summary.clusters!.k).toBe(2);
    expect(summary.clusters!.silhouette).toEqual([{ k: 2, silhouette: 1 }]);
    expect(rows.map((r) => r.cluster)).toEqual([2, 2, 2, 2, 1, 1, 1]); // E–G have the higher revenue
  });

  it('is a UsageError when every customer looks the same', async () => {
    const file = await write(['A,2024-01-01,10', 'B,2024-01-01,10']);
    await expect(segment(file, { k: 'auto' }, undefined, '2024-01-05')).rejects.toThrow(/--k auto: all 2 customers have the same/);
  });
});

describe('k-means clusters stage on CDNOW', () => {
  it('assigns every customer to the nearest centroid of the fit (the vectorised SQL pass agrees with the maths)', async () => {
    const { rows, summary } = await segment(CDNOW_CSV, { k: 5, seed: 42 }, undefined, '1997-09-30');
    const seg = summary.clusters!;
    expect(rows).toHaveLength(2357);
    // Rebuild the z-scored features and centroids from the summary (original units → log1p → z).
    const logs = rows.map((r) => [Math.log1p(r.recency_days), Math.log1p(r.orders), Math.log1p(Math.max(r.revenue, 0))]);
    const d = 3;
    const mean = [0, 1, 2].map((j) => logs.reduce((s, l) => s + l[j]!, 0) / logs.length);
    const std = [0, 1, 2].map((j) => Math.sqrt(logs.reduce((s, l) => s + (l[j]! - mean[j]!) ** 2, 0) / logs.length));
    const points = Float64Array.from(logs.flatMap((l) => l.map((v, j) => (v - mean[j]!) / std[j]!)));
    const centroids = Float64Array.from(
      seg.centroids.flatMap((c) => [c.recency_days, c.orders, c.revenue].map((v, j) => (Math.log1p(v) - mean[j]!) / std[j]!)),
    );
    const nearest = assignNearest(points, d, centroids, seg.k);
    const disagree = rows.filter((r, i) => seg.centroids[nearest[i]!]!.cluster !== r.cluster);
    expect(disagree).toEqual([]);
    // Numbered by descending mean revenue.
    const meanRevenue = seg.centroids.map((c) => {
      const members = rows.filter((r) => r.cluster === c.cluster);
      return members.reduce((s, r) => s + r.revenue, 0) / members.length;
    });
    expect([...meanRevenue].sort((a, b) => b - a)).toEqual(meanRevenue);
    expect(seg.centroids.reduce((s, c) => s + c.customers, 0)).toBe(2357);
  });

  it('adds log1p(clv) as a feature with kmeans.useClv when CLV is on', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const summary = await runScore(
        engine,
        config({ inputs: [CDNOW_CSV], out, asOf: '1997-09-30', noDb: true, format: ['csv'], kmeans: { k: 4, useClv: true } }),
        silentEffects,
      );
      const seg = summary.clusters!;
      expect(seg.features).toEqual(['log_recency_days', 'log_orders', 'log_revenue', 'log_clv']);
      expect(seg.centroids.every((c) => typeof c.clv === 'number' && c.clv >= 0)).toBe(true);
      const csv = parseCsv(await readFile(path.join(out, 'clusters.csv'), 'utf8'));
      expect(csv.reduce((s, r) => s + Number(r.customers), 0)).toBe(2357);
      expect(csv.every((r) => r.mean_clv !== '')).toBe(true);
    });
  });
});

describe('kMeansPlusPlus (the typed-array seeding handed to ml-kmeans)', () => {
  // Four tight pairs far apart on a line, plus duplicates: k-means++ must pick one point of each pair.
  const points = Float64Array.from([0, 0.1, 100, 100.1, 200, 200.1, 300, 300.1, 0, 0, 0, 0]);
  it('picks k distinct input points, one per well-separated group, the same for the same seed', () => {
    for (let seed = 0; seed < 20; seed++) {
      const centers = kMeansPlusPlus(points, 1, 4, seed);
      expect(Array.from(centers).every((c) => points.includes(c))).toBe(true);
      expect(Array.from(centers, (c) => Math.floor(c / 100)).sort()).toEqual([0, 1, 2, 3]);
      expect(kMeansPlusPlus(points, 1, 4, seed)).toEqual(centers);
    }
  });

  it('needs only k distinct points, even among duplicates (k = the number of distinct points)', () => {
    const few = Float64Array.from([5, 5, 5, 7, 7, 9]);
    for (let seed = 0; seed < 20; seed++) expect(Array.from(kMeansPlusPlus(few, 1, 3, seed)).sort()).toEqual([5, 7, 9]);
  });
});

function labelsOf(rows: Run['rows']): string[] {
  const byCluster = new Map<number, string>();
  for (const r of rows) byCluster.set(r.cluster, r.cluster_label);
  return [...byCluster.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => l);
}

/** The continuous percentile p of `values` (interpolated between the two nearest ranks), as the run's SQL takes it. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = p * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo]! + (at - lo) * ((sorted[lo + 1] ?? sorted[lo]!) - sorted[lo]!);
}
const median = (values: number[]) => percentile(values, 0.5);
const DAYS: Record<string, number> = { '1 year': 365, '2 years': 730 };
const daysOf = (text: string) => DAYS[text] ?? Number(/^(\d+) days$/.exec(text)![1]);

describe('cluster labels on CDNOW', () => {
  it('are unique, and each of their three facts holds for the cluster\'s median customer', async () => {
    const { rows, summary, out } = await segment(CDNOW_CSV, { k: 6, seed: 42 }, undefined, '1997-09-30');
    const labels = labelsOf(rows);
    expect(labels).toHaveLength(6);
    expect(new Set(labels).size).toBe(6);
    const revenue = rows.map((r) => r.revenue);
    const csv = parseCsv(await readFile(path.join(out, 'clusters.csv'), 'utf8'));
    // The medians the facts are about stand beside the label in clusters.csv.
    expect(Object.keys(csv[0]!).slice(0, 5)).toEqual(['cluster', 'cluster_label', 'median_recency_days', 'median_orders', 'median_revenue']);
    // Which form each fact took: every form must be checked at least once (CDNOW's 6 clusters hold
    // recent and long-lapsed customers, one-order and repeat buyers, the top and the bottom of revenue).
    const forms = new Set<string>();
    for (const c of summary.clusters!.centroids) {
      const members = rows.filter((r) => r.cluster === c.cluster);
      const m = { recency: median(members.map((r) => r.recency_days)), orders: median(members.map((r) => r.orders)), revenue: median(members.map((r) => r.revenue)) };
      const row = csv.find((r) => Number(r.cluster) === c.cluster)!;
      expect([Number(row.median_recency_days), Number(row.median_orders), Number(row.median_revenue)]).toEqual([m.recency, m.orders, m.revenue]);
      const [recency, orders, value] = c.label.split(' · ');
      const within = /^bought in the last (.+)$/.exec(recency!);
      const since = /^no order in (\d+)\+ (days|years?)$/.exec(recency!);
      if (within) expect(m.recency, c.label).toBeLessThanOrEqual(daysOf(within[1]!));
      else expect(m.recency, c.label).toBeGreaterThanOrEqual(daysOf(`${since![1]} ${since![2] === 'days' ? 'days' : since![1] === '1' ? 'year' : 'years'}`));
      if (orders === 'one order') expect(m.orders).toBeLessThan(2);
      else expect(m.orders, c.label).toBeGreaterThanOrEqual(Number(/^(\d+)\+ orders$/.exec(orders!)![1]));
      forms.add(within ? 'recent' : 'lapsed').add(orders === 'one order' ? 'one order' : 'repeat');
      // "top 10% revenue": at most 10% of all customers have as much as the median customer; "bottom": as little.
      const [, side, share] = /^(top|bottom) (\d+)% revenue$/.exec(value!)!;
      forms.add(side!);
      const reached = revenue.filter((r) => (side === 'top' ? r >= m.revenue : r <= m.revenue)).length;
      expect(reached / revenue.length, c.label).toBeLessThanOrEqual(Number(share) / 100);
    }
    expect([...forms].sort()).toEqual(['bottom', 'lapsed', 'one order', 'recent', 'repeat', 'top']);
  });
});

describe('cluster labels built to collide', () => {
  it('add the next fact that tells clusters apart, and count tied revenue on both sides (no "top 1%" for half the base)', async () => {
    // As of 2024-06-30, three groups of alike customers (three points: k = 3 finds them exactly):
    //   P ×10: 5 orders of 100 on 2024-06-16..20: 10 days since the last, first order 14 days ago, revenue 500;
    //   Q ×10: 4 orders of 100 on 2023-05-01..04 and one on 2024-06-10: 20 days, first order 426 days ago, revenue 500;
    //   R ×20: one order of 20 on 2023-09-04: 300 days.
    // P and Q read "bought in the last 30 days · 5+ orders": 20 of the 40 customers have 500, so "top 50% revenue"
    // (the 99th percentile is 500 too, which would have said top 1%); they differ first in tenure.
    const lines = ['customer_id,order_date,amount'];
    for (let i = 0; i < 10; i++) for (let d = 16; d <= 20; d++) lines.push(`P${i},2024-06-${d},100`);
    for (let i = 0; i < 10; i++) lines.push(...['2023-05-01', '2023-05-02', '2023-05-03', '2023-05-04', '2024-06-10'].map((day) => `Q${i},${day},100`));
    for (let i = 0; i < 20; i++) lines.push(`R${String(i).padStart(2, '0')},2023-09-04,20`);
    const file = path.join(await tempDir(), 'collide.csv');
    await writeFile(file, `${lines.join('\n')}\n`);
    const { rows } = await segment(file, { k: 3 }, undefined, '2024-06-30');
    const labelOf = (group: string) => [...new Set(rows.filter((r) => r.customer_id.startsWith(group)).map((r) => r.cluster_label))];
    expect(labelOf('P')).toEqual(['bought in the last 30 days · 5+ orders · top 50% revenue · first order in the last 30 days']);
    expect(labelOf('Q')).toEqual(['bought in the last 30 days · 5+ orders · top 50% revenue · customer for 1+ year']);
    expect(labelOf('R')).toEqual(['no order in 180+ days · one order · bottom 50% revenue']);
  });
});
