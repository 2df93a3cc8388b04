import type { ScoreConfig } from '../config/schema.js';
import { runStatements } from '../engine/tables.js';
import type { Engine, QueryEngine } from '../engine/Engine.js';
import { UsageError } from '../errors.js';
import { chooseK, clusterLabel, countDistinctRows, fitKMeans, KMeansError, type KMeansModel } from '../models/kmeans.js';
import { CUSTOMERS, stack, type Layer } from '../sql/scored.js';
import {
  clusterLabelsTableSql,
  CLUSTER_PROFILES_ROWS_SQL,
  clusterProfilesSql,
  clusterColumnsSql,
  clusterModelSql,
  FEATURE_NAMES,
  FEATURE_SCALE,
  featureSampleSql,
  segmentLayerSql,
  type FeatureName,
} from '../sql/segment.js';
import { labelIds } from './labels.js';

export interface ClustersResult {
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

/**
 * The k-means clusters stage (DESIGN §3, src/sql/segment.ts): one pass over
 * the customers, the fit on a seeded sample, and the layer that gives every
 * customer its raw cluster; {@link describeClusters} numbers and names the
 * clusters once the customers are scored.
 * `clv`: the CLV stage's layer when it gave usable values, for the clv feature.
 */
export async function clusterCustomers(
  engine: QueryEngine,
  options: ScoreConfig['kmeans'],
  clv: Layer | null,
): Promise<{ fitted: FittedClusters; layer: Layer }> {
  const withClv = options.useClv && clv !== null;
  const features = FEATURE_NAMES.filter((f) => f !== 'log_clv' || withClv);
  const d = features.length;
  const source = withClv ? stack([clv]) : CUSTOMERS;

  // Pass 1: the feature scaling and the z-scored fitting sample, in one query.
  const statNames = features.flatMap((f) => [`mean_${f}`, `std_${f}`]);
  const columns = [...features, ...statNames, 'customers'];
  const sql = featureSampleSql(features, engine.dialect, source);
  const params = { seed: options.seed, sampleSize: options.sampleSize };
  let sample = await engine.numericColumns(sql, columns, { ...params, oversample: 2 });
  if (sample[features[0]!].length < Math.min(options.sampleSize, sample.customers[0] ?? Infinity)) {
    // The hash range filter kept too few customers (only plausible for small samples): without it.
    sample = await engine.numericColumns(sql, columns, { ...params, oversample: 0 });
  }
  const scaling: Record<string, number> = {};
  for (const name of statNames) scaling[name] = sample[name][0]!;
  const n = sample[features[0]!].length;
  const customers = sample.customers[0] ?? 0;
  if (options.k !== 'auto' && options.k > customers) {
    throw new UsageError(`--k ${options.k}: k = ${options.k} is more than the ${customers} customers; use a k of at most ${customers}`);
  }
  const points = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) points[i * d + j] = sample[features[j]!][i]!;

  let model;
  let silhouette: ClustersResult['silhouette'] = null;
  try {
    if (options.k === 'auto') {
      // Candidates 2..8, but never more clusters than distinct customers (feature vectors) in the sample.
      const distinct = countDistinctRows(points, d, 8);
      if (distinct < 2) {
        const who = n === customers ? `all ${customers} customers` : `the ${n} customers sampled (of ${customers})`;
        throw new UsageError(`--k auto: ${who} have the same recency, orders and revenue; there is nothing to cluster`);
      }
      const choice = chooseK(points, d, { kMin: 2, kMax: distinct, seed: options.seed, restarts: options.restarts, sampleSize: n });
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
  const modelParams: Record<string, number> = { ...scaling };
  for (let i = 0; i < k; i++) for (let j = 0; j < d; j++) modelParams[`c${i}_${features[j]}`] = model.centroids[i * d + j]!;
  await runStatements(engine, clusterModelSql(engine.dialect, features, k), modelParams);

  return { fitted: { features, k, model, scaling, silhouette, sampleSize: n, withClv }, layer: segmentLayerSql(features, k) };
}

/** What the fit leaves for {@link describeClusters}, once the customers are scored. */
export interface FittedClusters {
  features: FeatureName[];
  k: number;
  model: KMeansModel;
  scaling: Record<string, number>;
  silhouette: ClustersResult['silhouette'];
  sampleSize: number;
  withClv: boolean;
}

/**
 * From the finished table (final_scores, with each customer's raw_cluster):
 * the clusters numbered by descending mean revenue (ties by raw index) and
 * named from their median customer against the whole base; table
 * cluster_labels and the profiles for clusters.csv; the stage's summary; and
 * the output columns cluster and cluster_label as expressions of raw_cluster.
 * `clvColumn`: final_scores has clv (the CLV stage ran), for clusters.csv.
 */
export async function describeClusters(
  engine: Engine,
  fitted: FittedClusters,
  options: ScoreConfig['kmeans'],
  clvColumn: boolean,
): Promise<{ result: ClustersResult; columns: ReturnType<typeof clusterColumnsSql> }> {
  const { features, k, model, scaling, withClv } = fitted;
  const d = features.length;
  await runStatements(engine, clusterProfilesSql(engine.dialect, clvColumn));
  const profiles = await engine.all<{
    raw_cluster: number | null;
    customers: number;
    mean_revenue: number;
    median_recency_days: number;
    median_orders: number;
    median_revenue: number;
  }>(CLUSTER_PROFILES_ROWS_SQL);
  const population = profiles.find((p) => p.raw_cluster === null)!;
  const order = profiles
    .filter((p) => p.raw_cluster !== null)
    .sort((a, b) => b.mean_revenue - a.mean_revenue || a.raw_cluster! - b.raw_cluster!)
    .map((p, i) => ({ ...p, raw_cluster: p.raw_cluster!, cluster: i + 1 }));
  const labels = distinctLabels(
    order.map((row) => ({
      cluster: row.cluster,
      label: clusterLabel(
        { recencyDays: row.median_recency_days, orders: row.median_orders, revenue: row.median_revenue },
        { recencyDays: population.median_recency_days, orders: population.median_orders, revenue: population.median_revenue },
      ),
      detail: `median ${Math.round(row.median_recency_days)} days since last order, ${Math.round(row.median_orders)} orders, ${Math.round(row.median_revenue)} revenue`,
    })),
  );
  await runStatements(engine, clusterLabelsTableSql(engine.dialect));
  await engine.run(
    `INSERT INTO cluster_labels VALUES ${order.map(() => '(?, ?, ?)').join(', ')}`,
    order.flatMap((row, i) => [row.raw_cluster, row.cluster, labels[i]!]),
  );
  const ids = await labelIds(engine, labels);
  const named = order.map((row, i) => ({ rawCluster: row.raw_cluster, cluster: row.cluster, label: labels[i]!, labelId: ids.get(labels[i]!)! }));

  const centroids = order.map((row, i) => {
    const at = (f: string) => {
      const j = features.indexOf(f as FeatureName);
      const z = model.centroids[row.raw_cluster * d + j]!;
      return Math.expm1((z * scaling[`std_${f}`]! + scaling[`mean_${f}`]!) / FEATURE_SCALE);
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
  const result: ClustersResult = {
    k,
    kChosen: options.k === 'auto' ? 'auto' : 'fixed',
    silhouette: fitted.silhouette,
    features: [...features],
    sampleSize: fitted.sampleSize,
    inertia: model.inertia,
    iterations: model.iterations,
    seed: options.seed,
    centroids,
  };
  return { result, columns: clusterColumnsSql(named, engine.dialect.quoteString) };
}

/**
 * Labels compare a cluster with the whole base, so two clusters can earn the
 * same words (both "Recent · frequent · high value"). Those get their median
 * customer spelled out; if even that repeats, the cluster number.
 */
export function distinctLabels(clusters: readonly { cluster: number; label: string; detail: string }[]): string[] {
  const count = (labels: string[]) => labels.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  const base = clusters.map((c) => c.label);
  const baseCounts = count(base);
  const detailed = clusters.map((c, i) => (baseCounts.get(base[i]!)! > 1 ? `${c.label} (${c.detail})` : c.label));
  const detailedCounts = count(detailed);
  return clusters.map((c, i) => (detailedCounts.get(detailed[i]!)! > 1 ? `${detailed[i]} #${c.cluster}` : detailed[i]!));
}
