import { sortedOnWrite, type Dialect } from '../../engine/dialect.js';
/**
 * The scored customer table: the output contract's columns, in its order
 * (DESIGN §2). Each stage adds its columns as a {@link Layer} over
 * customer_features; this assembles them. A stage that did not run leaves its
 * columns NULL in the database and absent from the output files.
 */
export interface ScoredColumn {
  name: string;
  /** The type in the output files and in the history view. */
  type: string;
  /**
   * A text column with a few distinct values (cells, segment, stage and
   * cluster names). While scoring, it holds the run's label ENUM
   * ({@link LABEL_TYPE}): a byte or two per customer instead of a string, which
   * the sort, the summaries and above all the history insert feel (DuckDB
   * compressing a string column with a dictionary cost more than writing all
   * the numeric columns). The output files get text; the history database
   * stores the label's id (stages/history/queries.ts).
   */
  label?: true;
  /**
   * How the history database stores a string column that is not a label:
   * FSST for ids, rather than DuckDB trying every string compression on
   * every row group of every run.
   */
  compression?: 'fsst';
  /**
   * Given its value after scoring, from the finished table: final_scores has
   * the stage's internal column instead (raw_cluster), and the outputs an
   * expression of it (stages/clusters/queries.ts clusterColumnsSql).
   */
  afterScoring?: true;
  /**
   * In the output files only, not in the history's scores (clv_low,
   * clv_high: a history database written before them has no such columns,
   * and adding them is a migration of its own).
   */
  outputOnly?: true;
  stage: 'features' | 'rfm' | 'clv' | 'lifecycle' | 'clusters' | 'history';
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
  { name: 'rfm_cell', type: 'VARCHAR', label: true, stage: 'rfm' },
  { name: 'rfm_segment', type: 'VARCHAR', label: true, stage: 'rfm' },
  { name: 'value_decile', type: 'TINYINT', stage: 'rfm' },
  { name: 'frequency', type: 'BIGINT', stage: 'clv' },
  { name: 'recency', type: 'DOUBLE', stage: 'clv' },
  { name: 'T', type: 'DOUBLE', stage: 'clv' },
  { name: 'monetary_value', type: 'DOUBLE', stage: 'clv' },
  { name: 'p_alive', type: 'DOUBLE', stage: 'clv' },
  { name: 'expected_purchases', type: 'DOUBLE', stage: 'clv' },
  { name: 'expected_avg_value', type: 'DOUBLE', stage: 'clv' },
  { name: 'clv', type: 'DOUBLE', stage: 'clv' },
  { name: 'clv_low', type: 'DOUBLE', outputOnly: true, stage: 'clv' },
  { name: 'clv_high', type: 'DOUBLE', outputOnly: true, stage: 'clv' },
  { name: 'lifecycle_stage', type: 'VARCHAR', label: true, stage: 'lifecycle' },
  { name: 'cluster', type: 'INTEGER', afterScoring: true, stage: 'clusters' },
  { name: 'cluster_label', type: 'VARCHAR', label: true, afterScoring: true, stage: 'clusters' },
  { name: 'previous_segment', type: 'VARCHAR', label: true, stage: 'history' },
  { name: 'segment_changed_at', type: 'DATE', stage: 'history' },
];

/** The columns the history's scores table keeps, and their names. */
export const HISTORY_COLUMNS = SCORED_COLUMNS.filter((c) => !c.outputOnly);
export const HISTORY_COLUMN_NAMES: ReadonlySet<string> = new Set(HISTORY_COLUMNS.map((c) => c.name));

/** The label columns (see ScoredColumn.label), and their names. */
export const LABEL_COLUMNS = SCORED_COLUMNS.filter((c) => c.label);
export const LABEL_COLUMN_NAMES: ReadonlySet<string> = new Set(LABEL_COLUMNS.map((c) => c.name));

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

/**
 * The ENUM of every label a run can write (labelsQueries.ts), in label-id
 * order: a label column's code is the label's id in the history database.
 */
export const LABEL_TYPE = 'crm_label';

/** A label value as a constant of the label type, for the layers (constants are cast once, when the query is planned). */
export const labelConstant = (quoted: string) => `${quoted}::${LABEL_TYPE}`;

/**
 * The scored view: the run's stages' columns over the stacked layers, and the
 * `internal` columns that later steps need (raw_cluster).
 */
export function assembleScoredSql(
  stages: ReadonlySet<ScoredColumn['stage']>,
  layers: readonly Layer[],
  d: Dialect,
  internal: readonly string[] = [],
): string {
  const q = d.quoteIdentifier;
  const columns = SCORED_COLUMNS.filter((c) => c.stage !== 'history' && !c.afterScoring && stages.has(c.stage)).map(
    (c) => `CAST(${q(c.name)} AS ${c.label ? LABEL_TYPE : sqlType(d, c.type)}) AS ${q(c.name)}`,
  );
  return `CREATE OR REPLACE TEMP VIEW scored AS SELECT ${[...columns, ...internal.map(q)].join(', ')} FROM (${stack(layers)}) layers`;
}

/** A column type of SCORED_COLUMNS (DuckDB's names) in the engine's words. */
export const sqlType = (d: Dialect, type: string): string => (type === 'DOUBLE' ? d.sql.double : type === 'TINYINT' ? d.sql.tinyint : type);

/** Expressions over final_scores for the columns given after scoring, by name. */
export type AfterScoring = Readonly<Record<string, string>>;

const TEXT_COLUMN_NAMES: ReadonlySet<string> = new Set(SCORED_COLUMNS.filter((c) => c.type === 'VARCHAR').map((c) => c.name));

/**
 * The output files' columns from final_scores: labels as text, columns given
 * after scoring from their expressions; `text`, when given, wraps each text
 * column (customers.csv's excel-safe text).
 */
export function outputColumnsSql(names: readonly string[], q: (name: string) => string, after: AfterScoring = {}, text?: (expression: string) => string): string {
  return names
    .map((n) => {
      const value = after[n] ?? (LABEL_COLUMN_NAMES.has(n) ? `CAST(${q(n)} AS VARCHAR)` : q(n));
      return `${text && TEXT_COLUMN_NAMES.has(n) ? text(value) : value} AS ${q(n)}`;
    })
    .join(', ');
}

/**
 * The scored table in customer_id order, sorted once: every output file and
 * the history insert read it in this order (with preserve_insertion_order on).
 */
export const finalWithoutHistorySql = (d: Dialect) => d.createTempTableAs('final_scores', `SELECT * FROM scored${sortedOnWrite(d, 'customer_id')}`);

/**
 * Once final_scores is written, the outputs, summaries and history read only
 * it: the scored view and the customer table it stacks on go, the biggest
 * table left by then (the smaller model tables stay).
 */
export const DROP_SCORING_INPUTS_SQL = [`DROP VIEW IF EXISTS scored`, `DROP TABLE IF EXISTS customer_features`];
