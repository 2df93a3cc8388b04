import type { Engine, RunHistory } from '../../engine/Engine.js';
import { runStatements } from '../../engine/tables.js';
import { addHistoryColumns } from '../history/stage.js';
import { TABLES_BY_STAGE, type StageContract, type TableName } from '../tables.js';
import { defineLabels } from './labels.js';
import { assembleScoredSql, finalWithoutHistorySql, type Layer, type ScoredColumn } from './queries.js';

/**
 * The scored table: the run's label type, the scored view stacking the model
 * stages' layers over the customers (each layer reads its own stage's tables),
 * and final_scores, sorted by customer_id, with the history's columns when the
 * run is recorded.
 */
export const contract = {
  reads: [
    'customer_features',
    'run_parameters',
    'segment_map',
    'rfm_score_bounds',
    'rfm_scores',
    'rfm_decile_bounds',
    'clv_groups',
    'clv_intervals',
    'clv_patterns',
    'clv_parameters',
    'lifecycle_parameters',
    'cluster_model',
  ],
  creates: TABLES_BY_STAGE.scored,
} as const satisfies StageContract;

export interface ScoredTableOptions {
  /** The stages whose columns the table has. */
  stages: ReadonlySet<ScoredColumn['stage']>;
  layers: readonly Layer[];
  /** Columns later steps need that are not output (raw_cluster). */
  internal: readonly string[];
  /** Every text a label column of this run can hold. */
  vocabulary: readonly string[];
  /** The open history, its previous run with scores (for previous_segment) and the as-of date; null without one. */
  history: { history: RunHistory; previousRun: number | null; asOf: string } | null;
}

/** Makes the scored table; returns its name, for the steps that read it, and how many labels the history already had. */
export async function scoreTable(engine: Engine, options: ScoredTableOptions): Promise<{ table: TableName; knownLabels: number }> {
  const { known } = await defineLabels(engine, options.vocabulary, options.history?.history ?? null);
  await engine.run(assembleScoredSql(options.stages, options.layers, engine.dialect, options.internal));
  if (options.history) await addHistoryColumns(engine, options.history.history, options.history.asOf, options.history.previousRun);
  else await runStatements(engine, finalWithoutHistorySql(engine.dialect));
  return { table: 'final_scores', knownLabels: known };
}
