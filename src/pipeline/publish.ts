import { access, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from '../engine/Engine.js';
import { readJournal, recoverInterruptedPublish, removeJournal, rollForward } from '../io/atomic.js';
import { COUNT_PENDING_RUNS_SQL, FORGET_RUN_SQL, HAS_PENDING_TABLE_SQL, HISTORY_OVERVIEW_SQL, LIST_PENDING_RUNS_SQL, MARK_PUBLISHED_SQL, PRUNE_SCORES_SQL } from '../sql/history.js';
import { testPoint } from '../testHooks.js';
import { attachHistory, detachHistory, inTransaction, type AttachOptions } from './history.js';

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
export async function markPublished(engine: Engine, runId: number, keepRuns: number | null): Promise<number> {
  const keptRuns = async () => Number((await engine.one<{ kept: number }>(HISTORY_OVERVIEW_SQL))!.kept);
  let pruned = 0;
  await inTransaction(engine, async () => {
    await engine.run(MARK_PUBLISHED_SQL, { runId });
    if (keepRuns !== null) {
      const before = await keptRuns();
      for (const sql of PRUNE_SCORES_SQL) await engine.run(sql, { keep: keepRuns });
      pruned = before - (await keptRuns());
    }
  });
  testPoint('history-published');
  return pruned;
}

/** Removes a run whose files were never published. */
export async function forgetRun(engine: Engine, runId: number): Promise<void> {
  await inTransaction(engine, async () => {
    for (const sql of FORGET_RUN_SQL) await engine.run(sql, { runId });
  });
}

interface PendingRun {
  run_id: number;
  out_dir: string;
  staging: string;
  keep_runs: number | null;
}

/** Settles the pending runs of the attached (writable) history database at `dbPath`. */
async function settlePendingRuns(engine: Engine, dbPath: string): Promise<void> {
  for (const run of await engine.all<PendingRun>(LIST_PENDING_RUNS_SQL)) {
    // The database holds its lock while a run is pending: one found here is a run that died.
    const out = path.resolve(path.dirname(path.resolve(dbPath)), run.out_dir);
    const journal = await readJournal(out);
    if (journal?.run?.id === run.run_id && journal.staging === run.staging) {
      await rollForward(out, journal);
      await markPublished(engine, run.run_id, run.keep_runs);
      await removeJournal(out);
    } else {
      await forgetRun(engine, run.run_id);
      await rm(path.join(out, run.staging), { recursive: true, force: true });
    }
  }
}

/** Attaches the history for writing, settling runs that a killed process left pending. */
export async function openHistory(engine: Engine, dbPath: string, options: AttachOptions): Promise<void> {
  await attachHistory(engine, dbPath, options);
  await settlePendingRuns(engine, dbPath);
}

/** Whether the attached history has runs left pending (a database from before pending runs has none). */
export async function hasPendingRuns(engine: Engine): Promise<boolean> {
  if ((await engine.one<{ n: number }>(HAS_PENDING_TABLE_SQL))!.n === 0) return false;
  return (await engine.one<{ n: number }>(COUNT_PENDING_RUNS_SQL))!.n > 0;
}

/**
 * What crm score does before it reads any data: finishes a publish cut short
 * in its output folder (and marks that run published in the history the
 * journal names), and settles the pending runs of its own history database.
 * That database, if it exists, is thereby also checked to open: a busy or
 * foreign file fails the run now, not after the scoring.
 */
export async function recoverBeforeRun(engine: Engine, out: string, dbPath: string | null, options: AttachOptions): Promise<void> {
  const journal = await recoverInterruptedPublish(out);
  if (journal?.run) {
    const journalDb = path.resolve(out, journal.run.db);
    if (await exists(journalDb)) {
      await openHistory(engine, journalDb, options);
      await detachHistory(engine);
    }
    await removeJournal(out);
  }
  if (dbPath && (await exists(dbPath))) {
    await openHistory(engine, dbPath, options);
    await detachHistory(engine);
  }
}
