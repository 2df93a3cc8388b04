import type { ScoreConfig } from '../../config/schema.js';
import { runStatements } from '../../engine/tables.js';
import type { Engine, QueryEngine } from '../../engine/Engine.js';
import { UsageError } from '../../errors.js';
import { KMeansError } from '../../models/kmeans.js';
import { chooseK } from '../../models/kmeansChoice.js';
import { countDistinctRows, fitKMeans, type KMeansModel } from '../../models/kmeansFit.js';
import { clusterIds } from '../../models/kmeansIdentity.js';
import { clusterLabels, type RunShare } from '../../models/kmeansLabels.js';
import { CUSTOMERS, stack, type Layer } from '../scored/queries.js';
import {
  clusterLabelsTableSql,
  CLUSTER_PROFILES_ROWS_SQL,
  clusterProfilesSql,
  clusterColumnsSql,
  clusterModelSql,
  FEATURE_NAMES,
  FEATURE_SCALE,
  featureSampleSql,
  clustersLayerSql,
  runPlacesSql,
  type FeatureName,
} from './queries.js';
import type { RecordedCluster } from './clusterHistory.js';
import { labelIds } from '../scored/labels.js';
import { TABLES_BY_STAGE, type StageContract } from '../tables.js';

/**
 * The k-means stage's tables (stages/tables.ts): the fitted model its layer
 * reads; once the customers are scored, the clusters' profiles and labels
 * (whose names join the run's labels). With --kmeans-use-clv its sample reads
 * the CLV stage's layer.
 */
export const contract = {
  reads: ['customer_features', 'run_parameters', 'clv_groups', 'clv_intervals', 'clv_patterns', 'clv_parameters', 'final_scores', 'run_labels', 'vocabulary'],
  creates: TABLES_BY_STAGE.clusters,
} as const satisfies StageContract;

export interface ClustersResult {
  k: number;
  kChosen: 'fixed' | 'auto';
  silhouette: { k: number; silhouette: number }[] | null;
  features: string[];
  sampleSize: number;
  inertia: number;
  iterations: number;
  seed: number;
  /** The run whose clusters this run's were matched to, keeping their numbers (null: none, numbered by descending mean revenue). */
  previousRun: number | null;
  /** Clusters with no counterpart in that run (k grew), numbered after its clusters. */
  newClusters: number[];
  /** Centroids in original units (days, orders, revenue, clv), by cluster number. */
  centroids: { cluster: number; label: string; customers: number; recency_days: number; orders: number; revenue: number; clv?: number }[];
}

/**
 * The k-means clusters stage (DESIGN §3, queries.ts): one pass over
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

  return { fitted: { features, k, model, scaling, silhouette, sampleSize: n, withClv }, layer: clustersLayerSql(features, k) };
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

/** A feature's column in original units. */
const ORIGINAL: Record<FeatureName, 'recency_days' | 'orders' | 'revenue' | 'clv'> = {
  log_recency_days: 'recency_days',
  log_orders: 'orders',
  log_revenue: 'revenue',
  log_clv: 'clv',
};

/**
 * From the finished table (final_scores, with each customer's raw_cluster):
 * the clusters numbered — matched to the previous run's (`previous`) where
 * there is one, else by descending mean revenue (ties by raw index) — and
 * labelled with facts of their median customer; table cluster_labels and the
 * profiles for clusters.csv; the stage's summary; what the history records of
 * them; and the output columns cluster and cluster_label as expressions of
 * raw_cluster. `clvColumn`: final_scores has clv (the CLV stage ran).
 */
export async function describeClusters(
  engine: Engine,
  fitted: FittedClusters,
  options: ScoreConfig['kmeans'],
  clvColumn: boolean,
  previous: { runId: number; clusters: readonly RecordedCluster[] } | null = null,
): Promise<{ result: ClustersResult; columns: ReturnType<typeof clusterColumnsSql>; recorded: RecordedCluster[] }> {
  const { features, k, model, scaling, withClv } = fitted;
  const d = features.length;
  await runStatements(engine, clusterProfilesSql(engine.dialect, clvColumn));
  const profiles = await engine.all<{ raw_cluster: number | null; customers: number; mean_revenue: number } & ClusterMedians>(CLUSTER_PROFILES_ROWS_SQL);
  const byRevenue = profiles
    .filter((p) => p.raw_cluster !== null)
    .sort((a, b) => b.mean_revenue - a.mean_revenue || a.raw_cluster! - b.raw_cluster!)
    .map((p) => ({ ...p, raw_cluster: p.raw_cluster! }));
  const ids = clusterNumbers(fitted, byRevenue.map((p) => p.raw_cluster), previous);
  const order = byRevenue.map((p, i) => ({ ...p, cluster: ids[i]! })).sort((a, b) => a.cluster - b.cluster);
  const labels = await labelClusters(engine, order, clvColumn);
  await runStatements(engine, clusterLabelsTableSql(engine.dialect));
  await engine.run(
    `INSERT INTO cluster_labels VALUES ${order.map(() => '(?, ?, ?)').join(', ')}`,
    order.flatMap((row, i) => [row.raw_cluster, row.cluster, labels[i]!]),
  );
  const labelIdOf = await labelIds(engine, labels);
  const named = order.map((row, i) => ({ rawCluster: row.raw_cluster, cluster: row.cluster, label: labels[i]!, labelId: labelIdOf.get(labels[i]!)! }));

  const centroids = order.map((row, i) => {
    const at = (f: FeatureName) => {
      const zValue = model.centroids[row.raw_cluster * d + features.indexOf(f)]!;
      return Math.expm1((zValue * scaling[`std_${f}`]! + scaling[`mean_${f}`]!) / FEATURE_SCALE);
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
  const previousIds = new Set(previous?.clusters.map((c) => c.cluster) ?? []);
  const result: ClustersResult = {
    k,
    kChosen: options.k === 'auto' ? 'auto' : 'fixed',
    silhouette: fitted.silhouette,
    features: [...features],
    sampleSize: fitted.sampleSize,
    inertia: model.inertia,
    iterations: model.iterations,
    seed: options.seed,
    previousRun: previous?.runId ?? null,
    newClusters: previous ? order.map((row) => row.cluster).filter((c) => !previousIds.has(c)) : [],
    centroids,
  };
  return { result, columns: clusterColumnsSql(named, engine.dialect.quoteString), recorded: centroids.map((c) => ({ ...c, clv: c.clv ?? null })) };
}

/**
 * The numbers of the raw clusters `rawOrder` (given by descending mean
 * revenue): 1..k in that order on a first run; else those of the previous
 * run's clusters they match (models/kmeansIdentity.ts), compared in this
 * run's z-scored log features, on the features both runs have (README "k-means clusters").
 */
function clusterNumbers(fitted: FittedClusters, rawOrder: readonly number[], previous: { clusters: readonly RecordedCluster[] } | null): number[] {
  if (!previous) return rawOrder.map((_, i) => i + 1);
  const { features, model, scaling } = fitted;
  const d = features.length;
  const z = (f: FeatureName, original: number) => {
    const std = scaling[`std_${f}`]!;
    return std > 0 ? (Math.log1p(Math.max(original, 0)) * FEATURE_SCALE - scaling[`mean_${f}`]!) / std : 0;
  };
  const common = features.filter((f) => previous.clusters.every((c) => c[ORIGINAL[f]] != null));
  const current = Float64Array.from(rawOrder.flatMap((raw) => common.map((f) => model.centroids[raw * d + features.indexOf(f)]!)));
  const before = Float64Array.from(previous.clusters.flatMap((c) => common.map((f) => z(f, c[ORIGINAL[f]]!))));
  return clusterIds(current, before, previous.clusters.map((c) => c.cluster), common.length);
}

/** A cluster's median customer (CLUSTER_PROFILES_ROWS_SQL); clv and P(alive) null without the CLV stage. */
interface ClusterMedians {
  median_recency_days: number;
  median_orders: number;
  median_revenue: number;
  median_tenure_days: number;
  median_clv: number | null;
  median_p_alive: number | null;
}

/**
 * Of `of` customers, the shares with at least and at most each of the sorted
 * distinct `medians`, from the customers counted per place among them
 * (queries.ts runPlacesSql: 2j below the j-th median, 2j + 1 on it; null
 * places are not counted).
 */
function runShares(places: readonly { place: number | null; customers: number }[], medians: readonly number[], of: number): Map<number, RunShare> {
  return new Map(
    medians.map((median, j) => {
      let atLeast = 0;
      let atMost = 0;
      for (const { place, customers } of places) {
        if (place === null) continue;
        if (place >= 2 * j + 1) atLeast += customers;
        if (place <= 2 * j + 1) atMost += customers;
      }
      return [median, { atLeast: atLeast / of, atMost: atMost / of }];
    }),
  );
}

/**
 * Of the run's customers (final_scores), the shares with at least and at most
 * each of the given revenues and clvs (the clusters' medians), by the value;
 * the clv shares are of the customers with a clv (`clvCustomers`).
 */
export async function medianShares(engine: QueryEngine, revenueMedians: readonly number[], clvMedians: readonly number[]) {
  const distinct = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);
  const revenue = distinct(revenueMedians);
  const clv = distinct(clvMedians);
  const params = Object.fromEntries([...revenue.map((v, j) => [`revenue${j}`, v]), ...clv.map((v, j) => [`clv${j}`, v])]);
  const rows = await engine.all<{ revenue_place: number; clv_place: number | null; customers: number | bigint }>(runPlacesSql(revenue.length, clv.length), params);
  const counted = rows.map((row) => ({ revenue: row.revenue_place, clv: row.clv_place, customers: Number(row.customers) }));
  const customers = counted.reduce((n, row) => n + row.customers, 0);
  const clvCustomers = counted.reduce((n, row) => n + (row.clv === null ? 0 : row.customers), 0);
  return {
    revenue: runShares(counted.map((row) => ({ place: row.revenue, customers: row.customers })), revenue, customers),
    clv: runShares(counted.map((row) => ({ place: row.clv, customers: row.customers })), clv, clvCustomers),
    clvCustomers,
  };
}

/** The clusters' labels (models/kmeansLabels.ts), from their median customers and where those stand in the whole base. */
async function labelClusters(
  engine: Engine,
  clusters: readonly ({ cluster: number } & ClusterMedians)[],
  clvColumn: boolean,
): Promise<string[]> {
  const withClvShares = clvColumn && clusters.every((row) => row.median_clv !== null);
  const shares = await medianShares(engine, clusters.map((row) => row.median_revenue), withClvShares ? clusters.map((row) => row.median_clv!) : []);
  return clusterLabels(
    clusters.map((row) => ({
      cluster: row.cluster,
      medianRecencyDays: row.median_recency_days,
      medianOrders: row.median_orders,
      medianRevenue: row.median_revenue,
      revenueShare: shares.revenue.get(row.median_revenue)!,
      medianTenureDays: row.median_tenure_days,
      clvShare: withClvShares && shares.clvCustomers > 0 ? shares.clv.get(row.median_clv!)! : null,
      medianPAlive: row.median_p_alive,
    })),
  );
}
