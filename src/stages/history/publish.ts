import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, QueryEngine, RunHistory } from '../../engine/Engine.js';
import { readJournal, recoverInterruptedPublish, removeJournal, rollForward } from '../../io/atomic.js';
import { COUNT_PENDING_RUNS_SQL, FORGET_RUN_SQL, HISTORY_OVERVIEW_SQL, LIST_PENDING_RUNS_SQL, MARK_PUBLISHED_SQL, PRUNE_SCORES_SQL, PRUNE_UP_TO_SQL } from './queries.js';
import { testPoint } from '../../testHooks.js';
import { attachHistory, detachHistory, inTransaction, type AttachOptions } from './stage.js';

/*
 * A run is either published (files and history row) or it is not (DESIGN §7).
 * A run records itself as pending in the history, then publishes its files
 * (the journal, naming the run, is written before the first rename), then
 * marks itself published. A command that opens the history or the output
 * folder first settles what a killed run left: a pending run whose journal
 * is there is rolled forward and marked published; one with no journal was
 * killed before its files moved, and is removed.
 */

const exists = (file: string) => access(file).then(() => true, () => false);

/**
 * The run's files are in place: it is no longer pending, and older runs'
 * scores beyond --keep-runs go (`keepRuns` null: all are kept). Pruning waits
 * for the publish: a run that dies unpublished has taken no one's scores.
 * Returns how many runs' scores went (one a night in the steady state; more
 * when --keep-runs is lowered or the default meets a longer history).
 */
export async function markPublished(engine: QueryEngine, history: RunHistory, runId: number, keepRuns: number | null): Promise<number> {
  const h = history.qualifier;
  const keptRuns = async () => Number((await engine.one<{ kept: number }>(HISTORY_OVERVIEW_SQL(h, engine.dialect)))!.kept);
  let pruned = 0;
  await inTransaction(engine, async () => {
    await engine.run(MARK_PUBLISHED_SQL(h), { runId });
    if (keepRuns === null) return;
    const upTo = (await engine.one<{ up_to: number | null }>(PRUNE_UP_TO_SQL(h), { keep: keepRuns }))?.up_to ?? null;
    if (upTo === null) return;
    const before = await keptRuns();
    for (const sql of PRUNE_SCORES_SQL(h)) await engine.run(sql, { upTo });
    pruned = before - (await keptRuns());
  });
  testPoint('history-published');
  return pruned;
}

/** Removes a run whose files were never published. */
export async function forgetRun(engine: QueryEngine, history: RunHistory, runId: number): Promise<void> {
  await inTransaction(engine, async () => {
    for (const sql of FORGET_RUN_SQL(history.qualifier)) await engine.run(sql, { runId });
  });
}

interface PendingRun {
  run_id: number;
  out_dir: string;
  staging: string;
  keep_runs: number | null;
}

/** Settles the pending runs of the open (writable) run history. */
async function settlePendingRuns(engine: QueryEngine, history: RunHistory): Promise<void> {
  for (const run of await engine.all<PendingRun>(LIST_PENDING_RUNS_SQL(history.qualifier))) {
    // The history is locked while a run is pending: one found here is a run that died.
    const out = history.folder === null ? path.resolve(run.out_dir) : path.resolve(history.folder, run.out_dir);
    const journal = await readJournal(out);
    if (journal?.run?.id === run.run_id && journal.staging === run.staging) {
      await rollForward(out, journal);
      await markPublished(engine, history, run.run_id, run.keep_runs);
      await removeJournal(out);
    } else {
      await forgetRun(engine, history, run.run_id);
      await rm(path.join(out, run.staging), { recursive: true, force: true });
    }
  }
}

/** Opens the history for writing (`db`: its file on DuckDB), settling runs that a killed process left pending. */
export async function openHistory(engine: Engine, db: string | null, options: AttachOptions): Promise<RunHistory> {
  const history = await attachHistory(engine, db, options);
  try {
    await settlePendingRuns(engine, history);
  } catch (error) {
    await engine.closeHistory().catch(() => undefined);
    throw error;
  }
  return history;
}

/** Whether the open history has runs left pending (a database from before pending runs has none). */
export async function hasPendingRuns(engine: Engine, history: RunHistory): Promise<boolean> {
  if (!(await engine.historyHas('pending_runs'))) return false;
  return (await engine.one<{ n: number }>(COUNT_PENDING_RUNS_SQL(history.qualifier)))!.n > 0;
}

/**
 * What crm score does before it reads any data: finishes a publish cut short
 * in its output folder (and marks that run published in the history the
 * journal names), and settles the pending runs of its own history database.
 * That database, if it exists, is thereby also checked to open: a busy or
 * foreign file fails the run now, not after the scoring.
 */
export async function recoverBeforeRun(engine: Engine, out: string, history: HistoryTarget | null, options: AttachOptions): Promise<void> {
  const journal = await recoverInterruptedPublish(out);
  if (journal?.run) {
    // null: the history is the engine's own schema, settled below.
    const journalDb = journal.run.db === null ? null : path.resolve(out, journal.run.db);
    if (journalDb !== null && (await exists(journalDb))) {
      await openHistory(engine, journalDb, options);
      await detachHistory(engine);
    }
    await removeJournal(out);
  }
  if (history && (history.db === null || (await exists(history.db)))) {
    await openHistory(engine, history.db, options);
    await detachHistory(engine);
  }
}

/** Where a run is recorded: its database file (`db`), or, null, the engine's own schema (PostgreSQL). */
export interface HistoryTarget {
  db: string | null;
}
