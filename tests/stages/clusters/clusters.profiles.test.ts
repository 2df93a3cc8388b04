/**
 * clusters.csv with the CLV stage on: each cluster's medians and means, and
 * its share, recomputed here from customers.csv of the same run (the
 * continuous median, as DuckDB's median and PostgreSQL's percentile_cont).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { CDNOW_CSV, config, parseCsv, tempDir, withEngine } from '../../helpers.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return (sorted[Math.floor(mid)]! + sorted[Math.ceil(mid)]!) / 2;
}
const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** The run's two files, read once by the first test (not in beforeAll: see scoredColumns.test.ts). */
let made: Promise<{ customers: Record<string, string>[]; clusters: Record<string, string>[] }> | undefined;
const run = () =>
  (made ??= (async () => {
    const out = await tempDir('crm-cluster-profiles-');
    await withEngine((engine) =>
      runScore(engine, config({ inputs: [CDNOW_CSV], out, asOf: '1997-09-30', noDb: true, format: ['csv'], clv: { draws: 0 }, kmeans: { k: 4, seed: 42 } }), silentEffects),
    );
    return {
      customers: parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8')),
      clusters: parseCsv(await readFile(path.join(out, 'clusters.csv'), 'utf8')),
    };
  })());

describe('clusters.csv with CLV', { timeout: 120_000 }, () => {
  it('has one row per cluster, with median and mean CLV beside the medians of the label', async () => {
    const { clusters } = await run();
    expect(clusters.map((c) => Number(c.cluster))).toEqual([1, 2, 3, 4]);
    expect(Object.keys(clusters[0]!)).toEqual(expect.arrayContaining(['median_recency_days', 'median_orders', 'median_revenue', 'mean_clv', 'median_clv']));
  });

  it("gives each cluster its members' medians and means, from customers.csv", async () => {
    const { customers, clusters } = await run();
    for (const c of clusters) {
      const members = customers.filter((r) => r.cluster === c.cluster);
      const of = (column: string) => members.map((r) => Number(r[column]));
      expect(Number(c.customers), c.cluster).toBe(members.length);
      expect(Number(c.share), c.cluster).toBeCloseTo(members.length / customers.length, 6);
      expect(Number(c.median_recency_days), c.cluster).toBe(median(of('recency_days')));
      expect(Number(c.median_orders), c.cluster).toBe(median(of('orders')));
      expect(Number(c.median_revenue), c.cluster).toBeCloseTo(median(of('revenue')), 4);
      // customers.csv keeps clv to 6 places or more, clusters.csv to 4.
      expect(Number(c.median_clv), c.cluster).toBeCloseTo(median(of('clv')), 3);
      expect(Number(c.mean_clv), c.cluster).toBeCloseTo(mean(of('clv')), 3);
      expect(Number(c.mean_revenue), c.cluster).toBeCloseTo(mean(of('revenue')), 3);
    }
  });
});
