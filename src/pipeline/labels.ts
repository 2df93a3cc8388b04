import type { Engine } from '../engine/Engine.js';
import {
  ADD_NEW_LABELS_SQL,
  KNOWN_LABELS_SQL,
  LABEL_TYPE_SQL,
  LABELS_ARE_DENSE_SQL,
  RUN_LABELS_TABLE_SQL,
  VOCABULARY_TABLE_SQL,
} from '../sql/labels.js';

/** Bound values per INSERT: a few hundred labels in one statement is plenty. */
const BATCH = 500;

/**
 * Creates the run's label type (src/sql/labels.ts) from the labels the run
 * can write, in that order, after those of the attached history database
 * (`withHistory`). Returns how many labels the database already had.
 */
export async function defineLabels(engine: Engine, vocabulary: readonly string[], withHistory: boolean): Promise<{ known: number }> {
  await engine.run(RUN_LABELS_TABLE_SQL);
  if (withHistory) await engine.run(KNOWN_LABELS_SQL);
  const known = (await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM run_labels`))!.n;
  if (!(await engine.one<{ dense: boolean }>(LABELS_ARE_DENSE_SQL))!.dense) {
    throw new Error('the history database is damaged: the label ids in its labels table are not 0, 1, 2, ...');
  }
  await engine.run(VOCABULARY_TABLE_SQL);
  for (let start = 0; start < vocabulary.length; start += BATCH) {
    const batch = vocabulary.slice(start, start + BATCH);
    await engine.run(
      `INSERT INTO vocabulary VALUES ${batch.map(() => '(?, ?)').join(', ')}`,
      batch.flatMap((label, i) => [start + i, label]),
    );
  }
  await engine.run(ADD_NEW_LABELS_SQL);
  for (const sql of LABEL_TYPE_SQL) await engine.run(sql);
  return { known };
}
