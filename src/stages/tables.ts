/**
 * The run's tables and views, by name: one list, by the stage that creates
 * them, in the order a score run makes them. A stage's `contract` (its
 * stage.ts) names those it reads and, from here, those it creates; tests/stages/contracts.test.ts runs the
 * stages one by one on every engine and checks each against what it did.
 */
export const TABLES_BY_STAGE = {
  // The load (the engine's ingest): one row per customer and day, and the rejected rows.
  load: ['customer_days', 'rejects'],
  features: ['run_parameters', 'occasions', 'customer_features'],
  clv: ['clv_inputs', 'clv_groups', 'clv_intervals', 'clv_patterns', 'clv_parameters'],
  rfm: [
    'segment_map',
    'rfm_revenue_customers',
    'rfm_recency_scores',
    'rfm_frequency_scores',
    'rfm_monetary_scores',
    'rfm_score_bounds',
    'rfm_scores',
    'rfm_decile_bounds',
  ],
  lifecycle: ['lifecycle_parameters'],
  clusters: ['cluster_model', 'cluster_means', 'cluster_medians', 'cluster_profiles', 'cluster_labels'],
  scored: ['run_labels', 'vocabulary', 'label_values', 'scored', 'final_scores'],
  // The run history's tables are the history's own, not the run's.
  history: [],
} as const;

export type TableName = (typeof TABLES_BY_STAGE)[keyof typeof TABLES_BY_STAGE][number];

export const RUN_TABLES: readonly TableName[] = Object.values(TABLES_BY_STAGE).flat();

/**
 * What a stage reads and creates among the run's tables: every table it may
 * read (some only with some options: clv_patterns with a model other than
 * BG/NBD) and every table it may create (rfm_scores with --rfm-method ntile,
 * the per-value tables otherwise). Tables of the run history are not the
 * run's: they are the history's (stages/history/queries.ts).
 */
export interface StageContract {
  readonly reads: readonly TableName[];
  readonly creates: readonly TableName[];
}
