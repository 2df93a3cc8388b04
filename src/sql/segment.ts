import { exactMean } from './sums.js';

/**
 * k-means segment (DESIGN §3). Features: log1p of recency_days, orders and
 * max(revenue, 0) (and optionally max(clv, 0)), z-scored over all customers.
 *
 * Determinism: each feature is rounded to an exact integer number of
 * billionths ({@link FEATURE_SCALE}), so the means and standard deviations
 * come from exact integer sums, identical however the rows are ordered or
 * split among threads; every other step is per customer (no floating-point
 * aggregate), and the sample is chosen by a seeded hash of the id.
 *
 * Three passes over the customers, none of them materialising the features:
 *   1. {@link featureSampleSql}: the feature means and standard deviations and
 *      the seeded fitting sample, z-scored, in one query;
 *   2. {@link assignClustersSql}: every customer to the nearest centroid;
 *   3. {@link CLUSTER_PROFILES_SQL}: size, mean revenue and medians per
 *      cluster and for the whole base, from the table pass 2 wrote.
 * `customer_cluster` is then a view joining pass 2's table to the 1-row-per-
 * cluster `cluster_labels`.
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
  log_recency_days: scaled('ln(1 + r.recency_days)'),
  log_orders: scaled('ln(1 + r.orders)'),
  log_revenue: scaled('ln(1 + greatest(r.revenue, 0)::DOUBLE)'),
  log_clv: scaled('ln(1 + greatest(coalesce(c.clv, 0), 0))'),
};

const withClv = (features: readonly FeatureName[]) => features.includes('log_clv');
const customersFrom = (features: readonly FeatureName[]) =>
  `customer_features r${withClv(features) ? ' LEFT JOIN customer_clv c USING (customer_id)' : ''}`;

/** z-score of a feature column, given its mean and standard deviation (columns or `$` parameters). */
const zExpression = (f: string, mean: string, std: string) => `CASE WHEN ${std} > 0 THEN (${f}::DOUBLE - ${mean}) / ${std} ELSE 0 END`;

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
export const featureSampleSql = (features: readonly FeatureName[], hash: (e: string) => string) => {
  const key = hash(`r.customer_id || '#' || $seed::VARCHAR`);
  return `
WITH stats AS (
  SELECT count(*)::BIGINT AS customers,
         ${features
           .map(
             (f) => `(sum(${f}) / count(*))::DOUBLE AS mean_${f},
         sqrt(((count(*) * sum(${f}::HUGEINT * ${f}) - sum(${f}) * sum(${f})) / (count(*)::DOUBLE * count(*)))::DOUBLE) AS std_${f}`,
           )
           .join(',\n         ')}
  FROM (SELECT ${features.map((f) => `${FEATURE_SQL[f]} AS ${f}`).join(', ')} FROM ${customersFrom(features)})
),
sample AS (
  SELECT r.customer_id, ${key} AS sample_key, ${features.map((f) => `${FEATURE_SQL[f]} AS ${f}`).join(', ')}
  FROM ${customersFrom(features)}
  WHERE $oversample = 0
     OR ${key}::DOUBLE <= ($oversample * $sampleSize + 100) / (SELECT count(*) FROM customer_features) * 18446744073709551616.0
  ORDER BY sample_key, r.customer_id
  LIMIT $sampleSize
)
SELECT ${features.map((f) => `${zExpression(`sample.${f}`, `stats.mean_${f}`, `stats.std_${f}`)} AS ${f}`).join(', ')},
       stats.customers, ${features.map((f) => `stats.mean_${f}, stats.std_${f}`).join(', ')}
FROM sample CROSS JOIN stats
ORDER BY sample.sample_key, sample.customer_id`;
};

/**
 * Pass 2. Every customer to the nearest centroid (`$c<i>_<f>`; features
 * z-scored with `$mean_<f>` / `$std_<f>` exactly as in the sample) by squared
 * Euclidean distance; ties go to the lowest index. Keeps the columns the
 * cluster profiles need, so pass 3 reads this table alone.
 */
export const assignClustersSql = (features: readonly FeatureName[], k: number) => {
  const clusters = Array.from({ length: k }, (_, i) => i);
  const nearest = k === 1 ? '0' : `CASE ${clusters.slice(0, -1).map((i) => `WHEN d${i} = d_min THEN ${i}`).join(' ')} ELSE ${k - 1} END`;
  return `
CREATE OR REPLACE TEMP TABLE cluster_raw AS
SELECT customer_id, recency_days, orders, revenue, (${nearest})::INTEGER AS raw_cluster
FROM (
  SELECT customer_id, recency_days, orders, revenue, ${clusters.map((i) => `d${i}`).join(', ')}, least(${clusters.map((i) => `d${i}`).join(', ')}) AS d_min
  FROM (
    SELECT customer_id, recency_days, orders, revenue,
           ${clusters.map((i) => `${features.map((f) => `e${i}_${f} * e${i}_${f}`).join(' + ')} AS d${i}`).join(',\n           ')}
    FROM (
      SELECT customer_id, recency_days, orders, revenue,
             ${clusters.map((i) => features.map((f) => `z_${f} - $c${i}_${f} AS e${i}_${f}`).join(', ')).join(',\n             ')}
      FROM (
        SELECT r.customer_id, r.recency_days, r.orders, r.revenue,
               ${features.map((f) => `${zExpression(FEATURE_SQL[f], `$mean_${f}`, `$std_${f}`)} AS z_${f}`).join(',\n               ')}
        FROM ${customersFrom(features)}
      )
    )
  )
)`;
};

/**
 * Pass 3. Per raw cluster (and, with raw_cluster NULL, for the whole base):
 * customers, mean revenue (exact decimal mean) and the median customer.
 */
export const CLUSTER_PROFILES_SQL = `
SELECT raw_cluster, count(*)::BIGINT AS customers, avg(revenue)::DOUBLE AS mean_revenue,
       median(recency_days)::DOUBLE AS median_recency_days, median(orders)::DOUBLE AS median_orders, median(revenue)::DOUBLE AS median_revenue
FROM cluster_raw
GROUP BY GROUPING SETS ((raw_cluster), ())
ORDER BY raw_cluster NULLS FIRST`;

export const CLUSTER_LABELS_TABLE_SQL = `CREATE OR REPLACE TEMP TABLE cluster_labels (raw_cluster INTEGER, cluster INTEGER, cluster_label VARCHAR)`;

/** The stage's output table: a view, so the 1M-row assignment is written once. */
export const CUSTOMER_CLUSTER_SQL = `
CREATE OR REPLACE TEMP VIEW customer_cluster AS
SELECT c.customer_id, l.cluster, l.cluster_label
FROM cluster_raw c JOIN cluster_labels l USING (raw_cluster)`;

/** clusters.csv, from the finished table. */
export const clustersCsvSql = (withClv: boolean) => `
SELECT cluster, cluster_label,
       count(*)::BIGINT AS customers,
       round(count(*) / sum(count(*)) OVER (), 6)::DOUBLE AS share,
       round(avg(recency_days), 4)::DOUBLE AS mean_recency_days, median(recency_days)::DOUBLE AS median_recency_days,
       round(avg(orders), 4)::DOUBLE AS mean_orders, median(orders)::DOUBLE AS median_orders,
       round(${exactMean('revenue')}, 4)::DOUBLE AS mean_revenue, median(revenue)::DOUBLE AS median_revenue,
       ${withClv ? `round(${exactMean('clv', 6)}, 4)::DOUBLE AS mean_clv, round(median(clv), 4)::DOUBLE AS median_clv` : 'NULL::DOUBLE AS mean_clv, NULL::DOUBLE AS median_clv'}
FROM final_scores GROUP BY cluster, cluster_label ORDER BY cluster`;
