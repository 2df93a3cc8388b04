/**
 * The k-means clusters as the run history records them (src/stages/clusters/queries.ts's
 * clusterColumnsSql, history side), and a single cluster (k = 1), on
 * fixtures/blobs (see clusters.test.ts): blob b is cluster b once the clusters
 * are numbered by descending mean revenue.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { config, fixture, parseCsv, tempDir, withEngine } from '../../helpers.js';

const blobOf = (id: string) => Number(/^B(\d)-/.exec(id)![1]);

/** One run with a history database: customers.csv's clusters and the history's, by customer id. */
async function clustersOf(input: string, k: number) {
  const dir = await tempDir();
  const db = path.join(dir, 'crm.duckdb');
  const out = path.join(dir, 'out');
  await withEngine((engine) =>
    runScore(
      engine,
      config({ inputs: [input], out, asOf: '2024-12-31', db, format: ['csv'], clv: { enabled: false }, lifecycle: { enabled: false }, kmeans: { k } }),
      silentEffects,
    ),
  );
  const csv = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8'));
  const history = await withEngine(async (engine) => {
    await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
    return engine.all<{ customer_id: string; cluster: number; cluster_label: string }>(
      `SELECT customer_id, cluster, CAST(cluster_label AS VARCHAR) AS cluster_label FROM h.customer_scores WHERE run_id = 1 ORDER BY customer_id`,
    );
  });
  return { csv, history };
}

describe('clusters in the run history', () => {
  it('records each customer\'s cluster (blob b is cluster b) and the label customers.csv gives it', async () => {
    const { csv, history } = await clustersOf(fixture('blobs', 'blobs4.csv'), 4);
    expect(history).toHaveLength(840);
    expect(history.filter((r) => r.cluster !== blobOf(r.customer_id))).toEqual([]);
    const csvLabel = new Map(csv.map((r) => [r.customer_id!, r.cluster_label!]));
    expect(history.filter((r) => r.cluster_label !== csvLabel.get(r.customer_id))).toEqual([]);
    expect(new Set(history.map((r) => r.cluster_label)).size).toBe(4);
  });

  it('with k = 1 puts every customer in cluster 1, in the outputs and the history', async () => {
    const { csv, history } = await clustersOf(fixture('blobs', 'blobs3.csv'), 1);
    expect(history).toHaveLength(660);
    expect(new Set(history.map((r) => r.cluster))).toEqual(new Set([1]));
    expect(new Set(csv.map((r) => r.cluster))).toEqual(new Set(['1']));
    expect(new Set(history.map((r) => r.cluster_label))).toEqual(new Set(csv.map((r) => r.cluster_label)));
    expect(new Set(csv.map((r) => r.cluster_label)).size).toBe(1);
  });
});
