import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { UsageError } from '../errors.js';
import { chooseK, clusterLabel, fitKMeans, KMeansError } from '../models/kmeans.js';
import {
  assignClustersSql,
  CLUSTER_ORDER_SQL,
  clusterFeaturesSql,
  clusterSampleSql,
  CUSTOMER_CLUSTER_SQL,
  FEATURE_NAMES,
  featureStatsSql,
  POPULATION_MEDIANS_SQL,
} from '../sql/segment.js';

export interface SegmentResult {
  k: number;
  kChosen: 'fixed' | 'auto';
  silhouette: { k: number; silhouette: number }[] | null;
  features: string[];
  sampleSize: number;
  inertia: number;
  iterations: number;
  seed: number;
  /** Centroids in original units (days, orders, revenue, clv), cluster 1 first. */
  centroids: { cluster: number; label: string; customers: number; recency_days: number; orders: number; revenue: number; clv?: number }[];
}


export async function segmentCustomers(engine: Engine, options: ScoreConfig['kmeans'], clvAvailable: boolean): Promise<SegmentResult> {
  const withClv = options.useClv && clvAvailable;
  const features = FEATURE_NAMES.filter((f) => f !== 'log_clv' || withClv);
  const d = features.length;
  await engine.run(clusterFeaturesSql(withClv));

  const stats = (await engine.one<Record<string, number>>(featureStatsSql(features)))!;
  const scaling: Record<string, number> = {};
  for (const f of features) {
    scaling[`mean_${f}`] = stats[`mean_${f}`]!;
    scaling[`std_${f}`] = stats[`std_${f}`]!;
  }
  const sample = await engine.numericColumns(clusterSampleSql(features, engine.dialect.stableHash), features, {
    ...scaling,
    seed: options.seed,
    sampleSize: options.sampleSize,
  });
  const n = sample[features[0]!].length;
  const points = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) points[i * d + j] = sample[features[j]!][i]!;

  let model;
  let silhouette: SegmentResult['silhouette'] = null;
  try {
    if (options.k === 'auto') {
      const choice = chooseK(points, d, { kMin: 2, kMax: Math.min(8, n), seed: options.seed, restarts: options.restarts, sampleSize: n });
      model = choice.model;
      silhouette = choice.scores.map((s) => ({ k: s.k, silhouette: s.silhouette }));
    } else {
      model = fitKMeans(points, d, { k: options.k, seed: options.seed, restarts: options.restarts, sampleSize: n });
    }
  } catch (error) {
    if (error instanceof KMeansError) throw new UsageError(`--k ${options.k}: ${error.message}`);
    throw error;
  }
  const k = model.k;
  const centroidParams: Record<string, number> = { ...scaling };
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) centroidParams[`c${i}_${features[j]}`] = model.centroids[i * d + j]!;
  await engine.run(assignClustersSql(features, k), centroidParams);

  // Number clusters by descending mean revenue and name them from their median customer.
  const order = await engine.all<{ raw_cluster: number; cluster: number; customers: number; median_recency_days: number; median_orders: number; median_revenue: number }>(
    CLUSTER_ORDER_SQL,
  );
  const population = (await engine.one<{ recency_days: number; orders: number; revenue: number }>(POPULATION_MEDIANS_SQL))!;
  const seen = new Map<string, number>();
  const labels = order.map((row) => {
    const base = clusterLabel(
      { recencyDays: row.median_recency_days, orders: row.median_orders, revenue: row.median_revenue },
      { recencyDays: population.recency_days, orders: population.orders, revenue: population.revenue },
    );
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base} (${count})`;
  });
  await engine.run(`CREATE OR REPLACE TEMP TABLE cluster_labels (raw_cluster INTEGER, cluster INTEGER, cluster_label VARCHAR)`);
  await engine.run(
    `INSERT INTO cluster_labels VALUES ${order.map(() => '(?, ?, ?)').join(', ')}`,
    order.flatMap((row, i) => [row.raw_cluster, row.cluster, labels[i]!]),
  );
  await engine.run(CUSTOMER_CLUSTER_SQL);

  const centroids = order.map((row, i) => {
    const at = (f: string) => {
      const j = features.indexOf(f as (typeof features)[number]);
      const z = model.centroids[row.raw_cluster * d + j]!;
      return Math.expm1(z * scaling[`std_${f}`]! + scaling[`mean_${f}`]!);
    };
    return {
      cluster: row.cluster,
      label: labels[i]!,
      customers: row.customers,
      recency_days: at('log_recency_days'),
      orders: at('log_orders'),
      revenue: at('log_revenue'),
      ...(withClv ? { clv: at('log_clv') } : {}),
    };
  });
  return {
    k,
    kChosen: options.k === 'auto' ? 'auto' : 'fixed',
    silhouette,
    features: [...features],
    sampleSize: n,
    inertia: model.inertia,
    iterations: model.iterations,
    seed: options.seed,
    centroids,
  };
}
