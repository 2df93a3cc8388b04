/**
 * k-means segment features (DESIGN §3): log1p of recency_days, orders and
 * max(revenue, 0) (and optionally max(clv, 0)), z-scored over all customers.
 * Features are rounded to exact decimals so that their means and standard
 * deviations are exact sums, identical however the rows are ordered.
 */
export const FEATURE_NAMES = ['log_recency_days', 'log_orders', 'log_revenue', 'log_clv'] as const;

export const clusterFeaturesSql = (withClv: boolean) => `
CREATE OR REPLACE TEMP TABLE cluster_features AS
SELECT r.customer_id,
       round(ln(1 + r.recency_days), 9)::DECIMAL(18,9) AS log_recency_days,
       round(ln(1 + r.orders), 9)::DECIMAL(18,9) AS log_orders,
       round(ln(1 + greatest(r.revenue, 0)::DOUBLE), 9)::DECIMAL(18,9) AS log_revenue
       ${withClv ? ', round(ln(1 + greatest(coalesce(c.clv, 0), 0)), 9)::DECIMAL(18,9) AS log_clv' : ''}
FROM customer_features r ${withClv ? 'LEFT JOIN customer_clv c USING (customer_id)' : ''}`;

/** Population mean and standard deviation of each feature, from exact decimal sums. */
export const featureStatsSql = (features: readonly string[]) => `
SELECT ${features
  .map(
    (f) => `(sum(${f}) / count(*))::DOUBLE AS mean_${f},
       sqrt(greatest((sum(${f} * ${f}) - sum(${f}) * sum(${f}) / count(*)) / count(*), 0)::DOUBLE) AS std_${f}`,
  )
  .join(',\n       ')}
FROM cluster_features`;

const zExpression = (f: string) => `CASE WHEN $std_${f} > 0 THEN (${f}::DOUBLE - $mean_${f}) / $std_${f} ELSE 0 END`;

/**
 * The fitting sample: customers ordered by a seeded hash of their id (ties by
 * id), so the sample depends on the seed and the ids, never on row order.
 */
export const clusterSampleSql = (features: readonly string[], hash: (e: string) => string) => `
SELECT ${features.map((f) => `${zExpression(f)} AS ${f}`).join(', ')}
FROM cluster_features
ORDER BY ${hash(`customer_id || '#' || $seed::VARCHAR`)}, customer_id
LIMIT $sampleSize`;

/**
 * Every customer to the nearest centroid (`$c<i>_<feature>`) in one pass;
 * list_position returns the first minimum, so ties go to the lowest index.
 */
export const assignClustersSql = (features: readonly string[], k: number) => {
  const distance = (i: number) => features.map((f) => `power(${zExpression(f)} - $c${i}_${f}, 2)`).join(' + ');
  const distances = Array.from({ length: k }, (_, i) => distance(i)).join(',\n         ');
  return `
CREATE OR REPLACE TEMP TABLE cluster_raw AS
SELECT customer_id, list_position(d, list_min(d)) - 1 AS raw_cluster
FROM (SELECT customer_id, [${distances}] AS d FROM cluster_features)`;
};

/** Clusters numbered 1.. by descending mean revenue (exact decimal mean; ties by raw index). */
export const CLUSTER_ORDER_SQL = `
SELECT raw_cluster, row_number() OVER (ORDER BY avg(r.revenue) DESC, raw_cluster)::INTEGER AS cluster,
       count(*)::BIGINT AS customers,
       median(r.recency_days)::DOUBLE AS median_recency_days, median(r.orders)::DOUBLE AS median_orders, median(r.revenue)::DOUBLE AS median_revenue
FROM cluster_raw JOIN customer_features r USING (customer_id)
GROUP BY raw_cluster ORDER BY cluster`;

export const POPULATION_MEDIANS_SQL = `
SELECT median(recency_days)::DOUBLE AS recency_days, median(orders)::DOUBLE AS orders, median(revenue)::DOUBLE AS revenue FROM customer_features`;

export const CUSTOMER_CLUSTER_SQL = `
CREATE OR REPLACE TEMP TABLE customer_cluster AS
SELECT c.customer_id, l.cluster, l.cluster_label
FROM cluster_raw c JOIN cluster_labels l USING (raw_cluster)`;

/** clusters.csv, from the finished table. */
export const clustersCsvSql = (withClv: boolean) => `
SELECT cluster, cluster_label,
       count(*)::BIGINT AS customers,
       round(count(*) / sum(count(*)) OVER (), 6)::DOUBLE AS share,
       round(avg(recency_days), 4)::DOUBLE AS mean_recency_days, median(recency_days)::DOUBLE AS median_recency_days,
       round(avg(orders), 4)::DOUBLE AS mean_orders, median(orders)::DOUBLE AS median_orders,
       round(avg(revenue), 4)::DOUBLE AS mean_revenue, median(revenue)::DOUBLE AS median_revenue,
       ${withClv ? 'round(avg(clv), 4)::DOUBLE AS mean_clv, round(median(clv), 4)::DOUBLE AS median_clv' : 'NULL::DOUBLE AS mean_clv, NULL::DOUBLE AS median_clv'}
FROM final_scores GROUP BY cluster, cluster_label ORDER BY cluster`;
