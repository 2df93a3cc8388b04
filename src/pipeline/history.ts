import type { Engine } from '../engine/Engine.js';
import {
  HISTORY_SCHEMA_SQL,
  INSERT_RUN_SQL,
  INSERT_SCORES_SQL,
  MIGRATE_OLD_LAYOUT_SQL,
  NEXT_RUN_ID_SQL,
  OLD_LAYOUT_SQL,
  PREVIOUS_RUN_SQL,
  PRUNE_SCORES_SQL,
  WITH_HISTORY_SQL,
} from '../sql/history.js';
import { NEW_LABELS_SQL } from '../sql/labels.js';
import type { AfterScoring } from '../sql/scored.js';

/**
 * Attaches the history database, creating its tables on first use and
 * moving a database of the old layout (labels as text) to the current one.
 */
export async function attachHistory(engine: Engine, dbPath: string): Promise<void> {
  const q = engine.dialect.quoteIdentifier;
  await engine.run(`ATTACH ${engine.dialect.quoteString(dbPath)} AS history`);
  if ((await engine.one<{ n: number }>(OLD_LAYOUT_SQL))!.n > 0) {
    await inTransaction(engine, async () => {
      for (const sql of MIGRATE_OLD_LAYOUT_SQL(q)) await engine.run(sql);
    });
  }
  for (const sql of HISTORY_SCHEMA_SQL(q)) await engine.run(sql);
}

async function inTransaction(engine: Engine, work: () => Promise<void>): Promise<void> {
  await engine.run('BEGIN TRANSACTION');
  try {
    await work();
    await engine.run('COMMIT');
  } catch (error) {
    await engine.run('ROLLBACK');
    throw error;
  }
}

export async function detachHistory(engine: Engine): Promise<void> {
  await engine.run(`DETACH history`);
}

/** The newest run before `runId` whose customer scores are still kept, or null. */
export async function previousRunWithScores(engine: Engine, runId: number): Promise<number | null> {
  return (await engine.one<{ run_id: number | null }>(PREVIOUS_RUN_SQL, { runId }))?.run_id ?? null;
}

export async function nextRunId(engine: Engine): Promise<{ runId: number; previousRun: number | null }> {
  const next = (await engine.one<{ run_id: number }>(NEXT_RUN_ID_SQL))!.run_id;
  return { runId: next, previousRun: await previousRunWithScores(engine, next) };
}

/** Adds previous_segment and segment_changed_at from the previous run. */
export async function addHistoryColumns(engine: Engine, asOf: string, previousRun: number | null): Promise<void> {
  await engine.run(WITH_HISTORY_SQL, { asOf, previousRun: previousRun ?? -1 });
}

export interface RunRecord {
  runId: number;
  asOf: string;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  inputs: string[];
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  rowsExcluded: number;
  customers: number;
  options: unknown;
  summary: unknown;
}

/**
 * One transaction: a crash leaves the database as it was before the run.
 * `knownLabels`: how many labels the database had; the run's new ones follow.
 * `after`: the columns given after scoring, as expressions for the database.
 */
export async function recordRun(
  engine: Engine,
  record: RunRecord,
  scoredColumns: readonly string[],
  keepRuns: number | undefined,
  knownLabels: number,
  after: AfterScoring = {},
): Promise<void> {
  await inTransaction(engine, async () => {
    await engine.run(NEW_LABELS_SQL, { known: knownLabels });
    await engine.run(INSERT_SCORES_SQL([...scoredColumns, 'previous_segment', 'segment_changed_at'], engine.dialect, after), { runId: record.runId });
    await engine.run(INSERT_RUN_SQL, {
      runId: record.runId,
      asOf: record.asOf,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt,
      duration: record.durationSeconds,
      inputs: JSON.stringify(record.inputs),
      rowsRead: record.rowsRead,
      rowsAccepted: record.rowsAccepted,
      rowsRejected: record.rowsRejected,
      rowsExcluded: record.rowsExcluded,
      customers: record.customers,
      options: JSON.stringify(record.options),
      summary: JSON.stringify(record.summary),
    });
    if (keepRuns !== undefined) for (const sql of PRUNE_SCORES_SQL) await engine.run(sql, { keep: keepRuns });
  });
}
