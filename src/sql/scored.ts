/**
 * The scored customer table: the output contract's columns, in its order
 * (DESIGN §2). Each stage adds its columns as a {@link Layer} over
 * customer_features; this assembles them. A stage that did not run leaves its
 * columns NULL in the database and absent from the output files.
 */
export interface ScoredColumn {
  name: string;
  type: string;
  /**
   * How the history database stores the column. DuckDB otherwise tries every
   * string compression on every row group of every run; naming the one that
   * wins (FSST for ids, a dictionary for the few distinct labels) makes the
   * insert of a run 10-15% faster with the same file size.
   */
  compression?: 'fsst' | 'dictionary';
  stage: 'features' | 'rfm' | 'clv' | 'lifecycle' | 'segment' | 'history';
}

export const SCORED_COLUMNS: readonly ScoredColumn[] = [
  { name: 'customer_id', type: 'VARCHAR', compression: 'fsst', stage: 'features' },
  { name: 'first_purchase', type: 'DATE', stage: 'features' },
  { name: 'last_purchase', type: 'DATE', stage: 'features' },
  { name: 'orders', type: 'BIGINT', stage: 'features' },
  { name: 'revenue', type: 'DOUBLE', stage: 'features' },
  { name: 'avg_order_value', type: 'DOUBLE', stage: 'features' },
  { name: 'recency_days', type: 'BIGINT', stage: 'features' },
  { name: 'tenure_days', type: 'BIGINT', stage: 'features' },
  { name: 'r_score', type: 'TINYINT', stage: 'rfm' },
  { name: 'f_score', type: 'TINYINT', stage: 'rfm' },
  { name: 'm_score', type: 'TINYINT', stage: 'rfm' },
  { name: 'rfm_cell', type: 'VARCHAR', compression: 'dictionary', stage: 'rfm' },
  { name: 'rfm_segment', type: 'VARCHAR', compression: 'dictionary', stage: 'rfm' },
  { name: 'value_decile', type: 'TINYINT', stage: 'rfm' },
  { name: 'frequency', type: 'BIGINT', stage: 'clv' },
  { name: 'recency', type: 'DOUBLE', stage: 'clv' },
  { name: 'T', type: 'DOUBLE', stage: 'clv' },
  { name: 'monetary_value', type: 'DOUBLE', stage: 'clv' },
  { name: 'p_alive', type: 'DOUBLE', stage: 'clv' },
  { name: 'expected_purchases', type: 'DOUBLE', stage: 'clv' },
  { name: 'expected_avg_value', type: 'DOUBLE', stage: 'clv' },
  { name: 'clv', type: 'DOUBLE', stage: 'clv' },
  { name: 'lifecycle_stage', type: 'VARCHAR', compression: 'dictionary', stage: 'lifecycle' },
  { name: 'cluster', type: 'INTEGER', stage: 'segment' },
  { name: 'cluster_label', type: 'VARCHAR', compression: 'dictionary', stage: 'segment' },
  { name: 'previous_segment', type: 'VARCHAR', compression: 'dictionary', stage: 'history' },
  { name: 'segment_changed_at', type: 'DATE', stage: 'history' },
];

/**
 * A stage's columns as SQL over a source relation: the rows of `source` (a
 * SELECT with customer_features' columns, and those of earlier layers) with the
 * stage's columns added, one output row per source row. A layer joins only
 * small tables (model parameters, score lookups), so the stages stack into one
 * pass over the customers instead of per-stage tables joined on customer_id.
 */
export type Layer = (source: string) => string;

export const CUSTOMERS = 'SELECT * FROM customer_features';

/** The layers applied in order over customer_features. */
export const stack = (layers: readonly Layer[], source = CUSTOMERS): string => layers.reduce((inner, layer) => layer(inner), source);

export function assembleScoredSql(stages: ReadonlySet<ScoredColumn['stage']>, layers: readonly Layer[], q: (name: string) => string): string {
  const columns = SCORED_COLUMNS.filter((c) => c.stage !== 'history' && stages.has(c.stage)).map((c) => `CAST(${q(c.name)} AS ${c.type}) AS ${q(c.name)}`);
  return `CREATE OR REPLACE TEMP VIEW scored AS SELECT ${columns.join(', ')} FROM (${stack(layers)})`;
}

/**
 * The scored table in customer_id order, sorted once: every output file and
 * the history insert read it in this order (with preserve_insertion_order on).
 */
export const FINAL_WITHOUT_HISTORY_SQL = `CREATE OR REPLACE TEMP TABLE final_scores AS SELECT * FROM scored ORDER BY customer_id`;
