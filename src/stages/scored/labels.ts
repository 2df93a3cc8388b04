import type { Engine, RunHistory } from '../../engine/Engine.js';
import { runStatements } from '../../engine/tables.js';
import {
  ADD_NEW_LABELS_SQL,
  KNOWN_LABEL_COUNT_SQL,
  KNOWN_LABELS_SQL,
  labelTypeSql,
  RUN_LABELS_IN_ORDER_SQL,
  runLabelsTableSql,
  vocabularyTableSql,
} from './labelsQueries.js';

/** Bound values per INSERT: a few hundred labels in one statement is plenty. */
const BATCH = 500;

/**
 * Creates the run's label type (labelsQueries.ts) from the labels the run
 * can write, in that order, after those of the open run history, if any.
 * Returns how many labels the history already had.
 */
export async function defineLabels(engine: Engine, vocabulary: readonly string[], history: RunHistory | null): Promise<{ known: number }> {
  await runStatements(engine, runLabelsTableSql(engine.dialect));
  if (history) await engine.run(KNOWN_LABELS_SQL(history.qualifier));
  const { known, dense } = (await engine.one<{ known: number; dense: boolean }>(KNOWN_LABEL_COUNT_SQL))!;
  if (!dense) {
    throw new Error('the history database is damaged: the label ids in its labels table are not 0, 1, 2, ...');
  }
  await runStatements(engine, vocabularyTableSql(engine.dialect));
  await addLabels(engine, vocabulary);
  // A few hundred labels: the type is written out, as no engine but DuckDB makes an ENUM from a query.
  const labels = (await engine.all<{ label: string }>(RUN_LABELS_IN_ORDER_SQL)).map((r) => r.label);
  await runStatements(engine, labelTypeSql(engine.dialect, labels));
  return { known };
}

/** Adds labels to the run's (after those it has, in this order) and gives each one's id. */
export async function labelIds(engine: Engine, labels: readonly string[]): Promise<Map<string, number>> {
  await addLabels(engine, labels);
  const ids = new Map<string, number>();
  for (let start = 0; start < labels.length; start += BATCH) {
    const batch = labels.slice(start, start + BATCH);
    const rows = await engine.all<{ label: string; label_id: number }>(
      `SELECT label, label_id FROM run_labels WHERE label IN (${batch.map(() => '?').join(', ')})`,
      batch,
    );
    for (const row of rows) ids.set(row.label, row.label_id);
  }
  return ids;
}

async function addLabels(engine: Engine, labels: readonly string[]): Promise<void> {
  const first = (await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM vocabulary`))!.n;
  for (let start = 0; start < labels.length; start += BATCH) {
    const batch = labels.slice(start, start + BATCH);
    await engine.run(
      `INSERT INTO vocabulary VALUES ${batch.map(() => '(?, ?)').join(', ')}`,
      batch.flatMap((label, i) => [first + start + i, label]),
    );
  }
  await engine.run(ADD_NEW_LABELS_SQL);
}
