import type { QueryEngine, RunHistory } from '../../engine/Engine.js';
import { INSERT_RUN_CLUSTER_SQL, PREVIOUS_RUN_CLUSTERS_SQL, RUN_SUMMARIES_SQL } from '../history/queries.js';

/*
 * The k-means clusters in the run history (table run_clusters): what a run
 * records of its clusters and the next run reads back to keep their numbers
 * (models/kmeansIdentity.ts). Apart from stage.ts, which pulls in
 * ml-kmeans, so that opening a history does not load it.
 */

/** A recorded cluster: its number, label, size and centroid in the features' original units. */
export interface RecordedCluster {
  cluster: number;
  label: string;
  customers: number;
  recency_days: number;
  orders: number;
  revenue: number;
  /** Null when the run did not cluster on clv. */
  clv?: number | null;
}

export async function recordClusters(engine: QueryEngine, history: RunHistory, runId: number, clusters: readonly RecordedCluster[]): Promise<void> {
  for (const c of clusters) {
    await engine.run(INSERT_RUN_CLUSTER_SQL(history.qualifier), [runId, c.cluster, c.label, c.customers, c.recency_days, c.orders, c.revenue, c.clv ?? null]);
  }
}

/** The clusters of the newest run before `runId` that has some, or null. */
export async function previousClusters(engine: QueryEngine, history: RunHistory, runId: number): Promise<{ runId: number; clusters: RecordedCluster[] } | null> {
  const rows = await engine.all<{ run_id: number; cluster: number; recency_days: number; orders: number; revenue: number; clv: number | null }>(
    PREVIOUS_RUN_CLUSTERS_SQL(history.qualifier),
    { runId },
  );
  if (rows.length === 0) return null;
  return {
    runId: Number(rows[0]!.run_id),
    clusters: rows.map((r) => ({ cluster: Number(r.cluster), label: '', customers: 0, recency_days: r.recency_days, orders: r.orders, revenue: r.revenue, clv: r.clv })),
  };
}

/**
 * Fills run_clusters in a history recorded before it existed, from each run's
 * summary (`segments.centroids` then, the clusters numbered by descending mean
 * revenue as its scores have them), so the first run after the upgrade keeps
 * the numbers of the run before. Run in the transaction that makes the table.
 */
export async function fillRunClusters(engine: QueryEngine, history: RunHistory): Promise<void> {
  for (const run of await engine.all<{ run_id: number; summary: string }>(RUN_SUMMARIES_SQL(history.qualifier))) {
    let summary: { clusters?: { centroids?: unknown }; segments?: { centroids?: unknown } } | null = null;
    try {
      summary = JSON.parse(run.summary);
    } catch {
      continue;
    }
    const centroids = summary?.clusters?.centroids ?? summary?.segments?.centroids;
    if (!Array.isArray(centroids)) continue;
    const recorded = centroids.filter(
      (c): c is RecordedCluster =>
        c && Number.isInteger(c.cluster) && typeof c.label === 'string' && [c.customers, c.recency_days, c.orders, c.revenue].every(Number.isFinite),
    );
    await recordClusters(engine, history, Number(run.run_id), recorded);
  }
}
