import type { Dialect, RecipeStatement } from '../../engine/dialect.js';
import { exactMean } from '../sums.js';

/**
 * The k-means clusters stage (DESIGN §3 "k-means segment"). Features: log1p of recency_days, orders and
 * max(revenue, 0) (and optionally max(clv, 0)), z-scored over all customers.
 *
 * Determinism: each feature is rounded to an exact integer number of
 * billionths ({@link FEATURE_SCALE}), so the means and standard deviations
 * come from exact integer sums, identical however the rows are ordered or
 * split among threads; every other step is per customer (no floating-point
 * aggregate), and the sample is chosen by a seeded hash of the id.
 *
 * `source` is the customers with their features (and clv, when used): one
 * pass over it before the fit, then the stage's layer assigns every customer
 * in the final pass, and the clusters are described from the finished table:
 *   1. {@link featureSampleSql}: the feature means and standard deviations and
 *      the seeded fitting sample, z-scored, in one query;
 *   2. {@link clustersLayerSql}: every customer's `raw_cluster`, the nearest
 *      centroid (table cluster_model);
 *   3. {@link clusterProfilesSql}: size, means and medians per raw cluster
 *      and for the whole base, from final_scores. From those, the clusters are
 *      numbered and labelled, and the output columns cluster and
 *      cluster_label are expressions of raw_cluster ({@link clusterColumnsSql}):
 *      describing the clusters from the finished table instead of assigning
 *      every customer twice saves a pass.
 */
export const FEATURE_NAMES = ['log_recency_days', 'log_orders', 'log_revenue', 'log_clv'] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/**
 * Features are integers in units of 1/FEATURE_SCALE (billionths of a log
 * unit: BIGINT, with HUGEINT sums of squares); so are the means and standard
 * deviations.
 */
export const FEATURE_SCALE = 1e9;

const scaled = (logExpression: string) => `round(${logExpression} * ${FEATURE_SCALE})::BIGINT`;
const FEATURE_SQL: Record<FeatureName, string> = {
  log_recency_days: scaled('ln(1 + s.recency_days)'),
  log_orders: scaled('ln(1 + s.orders)'),
  log_revenue: scaled('ln(1 + greatest(s.revenue, 0)::DOUBLE PRECISION)'),
  log_clv: scaled('ln(1 + greatest(coalesce(s.clv, 0), 0))'),
};

/** z-score of a feature column, given its mean and standard deviation. */
const zExpression = (f: string, mean: string, std: string) => `CASE WHEN ${std} > 0 THEN (${f}::DOUBLE PRECISION - ${mean}) / ${std} ELSE 0 END`;

/**
 * Pass 1, one query. Per feature the population mean and standard deviation
 * (`mean_<f>`, `std_<f>`, from exact HUGEINT sums; repeated on every row,
 * with the number of `customers`), and the fitting sample: the `$sampleSize`
 * customers with the smallest seeded hash of their id (ties by id), so the
 * sample depends on the seed and the ids, never on row order; their features
 * z-scored (`<f>`), in that hash order.
 *
 * Only the hash is computed for every customer in the sample scan: a range
 * filter keeps the customers whose hash falls in the lowest
 * ($oversample·$sampleSize + 100)/customers of the hash range (about twice the
 * sample), and the top-N runs on those. That is exactly the top-N of all
 * customers whenever at least $sampleSize pass the filter; when fewer do
 * (rare, small samples), the caller runs the query again with
 * `$oversample = 0`, which turns the filter off.
 */
export const featureSampleSql = (features: readonly FeatureName[], dialect: Dialect, source: string) => {
  const key = dialect.sampleHash(`s.customer_id || '#' || $seed::VARCHAR`);
  return `
WITH stats AS (
  SELECT count(*)::BIGINT AS customers,
         ${features
           .map(
             (f) => `(sum(${f}) / count(*))::DOUBLE PRECISION AS mean_${f},
         sqrt(((count(*) * sum(${f}::${dialect.sql.wideInteger} * ${f}) - sum(${f}) * sum(${f})) / (count(*)::DOUBLE PRECISION * count(*)))::DOUBLE PRECISION) AS std_${f}`,
           )
           .join(',\n         ')}
  -- Aliased: PostgreSQL 15 requires a name for a subquery in FROM.
  FROM (SELECT ${features.map((f) => `${FEATURE_SQL[f]} AS ${f}`).join(', ')} FROM (${source}) s) scaled_features
),
sample AS (
  SELECT s.customer_id, ${dialect.byteOrder(key)} AS sample_key, ${features.map((f) => `${FEATURE_SQL[f]} AS ${f}`).join(', ')}
  FROM (${source}) s
  WHERE $oversample = 0
     OR ${dialect.byteOrder(key)} <= ${dialect.sampleHashBound('($oversample * $sampleSize + 100) / CAST((SELECT count(*) FROM customer_features) AS DOUBLE PRECISION)')}
  ORDER BY sample_key, ${dialect.byteOrder('s.customer_id')}
  LIMIT $sampleSize
)
SELECT ${features.map((f) => `${zExpression(`sample.${f}`, `stats.mean_${f}`, `stats.std_${f}`)} AS ${f}`).join(', ')},
       stats.customers, ${features.map((f) => `stats.mean_${f}, stats.std_${f}`).join(', ')}
FROM sample CROSS JOIN stats
ORDER BY sample.sample_key, ${dialect.byteOrder('sample.customer_id')}`;
};

/** The fitted model's columns in `cluster_model`: each feature's mean and standard deviation, and each centroid (z-scored). */
export const clusterModelColumns = (features: readonly FeatureName[], k: number): string[] => [
  ...features.flatMap((f) => [`mean_${f}`, `std_${f}`]),
  ...Array.from({ length: k }, (_, i) => features.map((f) => `c${i}_${f}`)).flat(),
];

/** One row: the fitted model, from bound values named as its columns. */
export const clusterModelSql = (dialect: Dialect, features: readonly FeatureName[], k: number) =>
  dialect.createTempTableAs('cluster_model', `SELECT ${clusterModelColumns(features, k).map((c) => `$${c}::DOUBLE PRECISION AS ${c}`).join(', ')}`);

/**
 * The rows of `source` with `raw_cluster`: the nearest centroid by squared
 * Euclidean distance, features z-scored exactly as in the sample; ties go to
 * the lowest index.
 */
const nearestClusterSql = (features: readonly FeatureName[], k: number, source: string) => {
  const clusters = Array.from({ length: k }, (_, i) => i);
  const distances = clusters.map((i) => `d${i}`);
  const nearest = k === 1 ? '0' : `CASE ${clusters.slice(0, -1).map((i) => `WHEN d${i} = d_min THEN ${i}`).join(' ')} ELSE ${k - 1} END`;
  // The model's columns, the z-scores and the distances pass through to the next layer unused (see clvLayerSql).
  return `
SELECT *, (${nearest})::INTEGER AS raw_cluster
FROM (
  SELECT *, least(${distances.join(', ')}) AS d_min
  FROM (
    SELECT *,
           ${clusters.map((i) => `${features.map((f) => `(z_${f} - c${i}_${f}) * (z_${f} - c${i}_${f})`).join(' + ')} AS d${i}`).join(',\n           ')}
    FROM (
      SELECT s.*, m.*, ${features.map((f) => `${zExpression(FEATURE_SQL[f], `m.mean_${f}`, `m.std_${f}`)} AS z_${f}`).join(',\n             ')}
      FROM (${source}) s CROSS JOIN cluster_model m
    ) scaled
  ) distances
) nearest`;
};

/** The stage's layer: every customer's nearest centroid, `raw_cluster` (numbered and named after scoring). */
export const clustersLayerSql =
  (features: readonly FeatureName[], k: number) =>
  (source: string) =>
    nearestClusterSql(features, k, source);

/**
 * Per raw cluster (and, with raw_cluster NULL, for the whole base), from the
 * finished table: customers, exact mean revenue (to number the clusters), the
 * median customer (to name them), and what clusters.csv shows.
 *
 * An exact median holds every value of its group in memory, outside the
 * engine's memory limit (DuckDB's quantile states are not spilled): so each
 * median is its own query, one column and one grouping at a time, instead of
 * all twelve at once: about 8 bytes per customer at a time instead of 96.
 */
export const clusterProfilesSql = (dialect: Dialect, withClv: boolean): RecipeStatement[] => {
  const { sql } = dialect;
  const double = 'DOUBLE PRECISION';
  const means = (rawCluster: string, groupBy: string) => `
SELECT ${rawCluster} AS raw_cluster,
       count(*)::BIGINT AS customers,
       ${exactMean('revenue')} AS mean_revenue,
       round(avg(recency_days), 4)::${double} AS mean_recency_days,
       round(avg(orders), 4)::${double} AS mean_orders,
       ${withClv ? `round(${exactMean('clv', 6)}, 4)::${double}` : `CAST(NULL AS ${double})`} AS mean_clv
FROM final_scores${groupBy}`;
  const medians: [measure: string, value: string][] = [
    ['recency_days', sql.median('recency_days')],
    ['orders', sql.median('orders')],
    ['revenue', sql.median('revenue')],
    ['tenure_days', sql.median('tenure_days')],
    ...(withClv
      ? ([
          ['clv', sql.roundDouble(sql.median('clv'), 4)],
          ['p_alive', sql.roundDouble(sql.median('p_alive'), 6)],
        ] as [string, string][])
      : []),
  ];
  const medianOf = (measure: string) =>
    `(SELECT m.value FROM cluster_medians m WHERE m.measure = '${measure}' AND m.raw_cluster IS NOT DISTINCT FROM p.raw_cluster)`;
  return [
    // Two aggregates rather than GROUPING SETS, which Citus does not run on a distributed table.
    ...dialect.createTempTableAs('cluster_means', `${means('raw_cluster', '\nGROUP BY raw_cluster')}\nUNION ALL${means('CAST(NULL AS INTEGER)', '')}`),
    ...dialect.createTempTable('cluster_medians', `raw_cluster INTEGER, measure VARCHAR, value ${double}`),
    // Per cluster only: of the all-customers row (raw_cluster NULL) only its count is read, by the shares.
    ...medians.map(([measure, value]) => `INSERT INTO cluster_medians SELECT raw_cluster, '${measure}', ${value}::${double} FROM final_scores GROUP BY raw_cluster`),
    ...dialect.createTempTableAs(
      'cluster_profiles',
      `
SELECT p.raw_cluster, p.customers, p.mean_revenue,
       p.mean_recency_days, ${medianOf('recency_days')} AS median_recency_days,
       p.mean_orders, ${medianOf('orders')} AS median_orders,
       ${medianOf('revenue')} AS median_revenue,
       ${medianOf('tenure_days')} AS median_tenure_days,
       p.mean_clv, ${withClv ? medianOf('clv') : `CAST(NULL AS ${double})`} AS median_clv,
       ${withClv ? medianOf('p_alive') : `CAST(NULL AS ${double})`} AS median_p_alive
FROM cluster_means p`,
    ),
  ];
};

export const CLUSTER_PROFILES_ROWS_SQL = `
SELECT raw_cluster, customers, mean_revenue::DOUBLE PRECISION AS mean_revenue, median_recency_days, median_orders, median_revenue,
       median_tenure_days, median_clv, median_p_alive
FROM cluster_profiles ORDER BY raw_cluster NULLS FIRST`;

/**
 * Where each cluster's median customer stands in the run (kmeansLabels.ts
 * RunShare), from one pass over the base: each customer's place among the
 * distinct cluster medians of revenue, `$revenue0` < `$revenue1` < … (bound
 * in that order): 2j below the j-th, 2j + 1 equal to it, 2m above all m of
 * them; the same for clv (`$clv<j>`, NULL where a customer has no clv) when
 * the run has CLV. The customers are counted per pair of places: how many
 * have at least or at most a median is a sum of those counts
 * (stage.ts runShares). One grouping of a million customers into a few dozen
 * groups costs less than a filtered count per median and side.
 */
export const runPlacesSql = (revenueMedians: number, clvMedians: number) => {
  const place = (column: string, medians: number) =>
    `CASE WHEN ${column} IS NULL THEN NULL ${Array.from({ length: medians }, (_, j) => `WHEN ${column} < $${column}${j}::DOUBLE PRECISION THEN ${2 * j} WHEN ${column} = $${column}${j}::DOUBLE PRECISION THEN ${2 * j + 1}`).join(' ')} ELSE ${2 * medians} END`;
  return `
SELECT revenue_place, clv_place, count(*)::BIGINT AS customers
FROM (SELECT ${place('revenue', revenueMedians)} AS revenue_place, ${clvMedians > 0 ? place('clv', clvMedians) : 'CAST(NULL AS INTEGER)'} AS clv_place FROM final_scores) places
GROUP BY revenue_place, clv_place`;
};

export const clusterLabelsTableSql = (d: Dialect) => d.createTempTable('cluster_labels', 'raw_cluster INTEGER, cluster INTEGER, cluster_label VARCHAR');

/** A numbered, named cluster, and the id of its name among the run's labels. */
export interface NamedCluster {
  rawCluster: number;
  cluster: number;
  label: string;
  labelId: number;
}

/**
 * The output columns cluster and cluster_label as expressions of raw_cluster
 * (in final_scores); for the history database, the label's id.
 */
export const clusterColumnsSql = (clusters: readonly NamedCluster[], quote: (value: string) => string) => {
  const mapping = (value: (c: NamedCluster) => string) => `CASE raw_cluster ${clusters.map((c) => `WHEN ${c.rawCluster} THEN ${value(c)}`).join(' ')} END`;
  const cluster = mapping((c) => String(c.cluster));
  return {
    output: { cluster, cluster_label: mapping((c) => quote(c.label)) },
    history: { cluster, cluster_label: mapping((c) => String(c.labelId)) },
  };
};

/** clusters.csv, from the profiles of the finished table: the medians the label states facts of beside it, then size and means. */
export const clustersCsvSql = (d: Dialect) => `
SELECT l.cluster, l.cluster_label, p.median_recency_days, p.median_orders, p.median_revenue, p.customers,
       ${d.sql.roundDouble('CAST(p.customers AS DOUBLE PRECISION) / (SELECT customers FROM cluster_profiles WHERE raw_cluster IS NULL)', 6)}::DOUBLE PRECISION AS share,
       p.mean_recency_days, p.mean_orders,
       round(p.mean_revenue, 4)::DOUBLE PRECISION AS mean_revenue, p.mean_clv, p.median_clv
FROM cluster_profiles p JOIN cluster_labels l USING (raw_cluster)
ORDER BY l.cluster`;
