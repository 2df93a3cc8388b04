import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine, QueryEngine, RunHistory } from '../../engine/Engine.js';
import { DEFAULT_DB_WAIT_SECONDS } from '../../config/schema.js';
import { DatabaseInUseError, InputError, UsageError } from '../../errors.js';
import { testPoint } from '../../testHooks.js';
import type { Logger } from '../../effects.js';
import { HISTORY_LAYOUT, HISTORY_RELATIONS, INSERT_PENDING_RUN_SQL, INSERT_RUN_SQL, INSERT_SCORES_SQL, NEXT_RUN_ID_SQL, PREVIOUS_RUN_SQL, WITH_HISTORY_SQL } from './queries.js';
import { NEW_LABELS_SQL } from '../scored/labelsQueries.js';
import type { AfterScoring } from '../scored/queries.js';
import { runStatements } from '../../engine/tables.js';
import { fillRunClusters, recordClusters, type RecordedCluster } from '../clusters/clusterHistory.js';
import { TABLES_BY_STAGE, type StageContract } from '../tables.js';

/**
 * The run history's tables are the history's, not the run's (stages/tables.ts):
 * recording a run reads the finished table and the run's labels, and makes no
 * table of the run (the scored stage adds the history's columns to final_scores).
 */
export const contract = {
  reads: ['final_scores', 'run_labels', 'label_values'],
  creates: TABLES_BY_STAGE.history,
} as const satisfies StageContract;

/**
 * What a history recorded before a relation existed fills it with, in the
 * transaction that makes it (the layout migrations of pipeline code; the
 * engines move their own older layouts, as DuckDB's labels-as-text).
 */
const FILL_FROM_OLDER_HISTORY: Record<string, (engine: QueryEngine, history: RunHistory) => Promise<void>> = {
  run_clusters: fillRunClusters,
};

export interface AttachOptions {
  readOnly?: boolean;
  /** Seconds to wait while another process holds the history. */
  waitSeconds?: number;
  log?: Logger;
}

/** `--db :memory:` would keep the history nowhere: a usage error, said before anything is read. */
export function checkDatabasePath(dbPath: string): void {
  if (/^:memory:/i.test(dbPath)) throw new UsageError(`--db ${dbPath}: the run history needs a database file (or crm score --no-db to keep none)`);
}

/**
 * Opens the run history (`db`: its database file on DuckDB; PostgreSQL keeps
 * it in the engine's schema). One process records at a time (DuckDB's file
 * lock, PostgreSQL's advisory lock): while another holds it (a run recording
 * its history, a report being made), this retries for up to `waitSeconds`
 * before it fails with an error that says so.
 */
export async function openHistoryWaiting(engine: Engine, db: string | null, options: AttachOptions = {}): Promise<RunHistory> {
  const waitSeconds = options.waitSeconds ?? DEFAULT_DB_WAIT_SECONDS;
  const deadline = Date.now() + waitSeconds * 1000;
  let warned = false;
  for (;;) {
    try {
      return await engine.openHistory({ db, readOnly: options.readOnly, layout: HISTORY_LAYOUT });
    } catch (error) {
      if (!(error instanceof DatabaseInUseError)) throw error;
      const message = error.detail;
      const where = db ?? 'the run history';
      if (Date.now() >= deadline) {
        throw new InputError(
          `${where}: the database is in use by another process${waitSeconds > 0 ? ` (waited ${waitSeconds} s; --db-wait sets how long)` : ''}: ${message}`,
        );
      }
      if (!warned) options.log?.warn({ db: where, waitSeconds }, 'the history database is in use by another process; waiting for it');
      warned = true;
      await sleep(200);
    }
  }
}

/**
 * Opens the run history for writing, making its tables on first use (placed
 * on a distributed engine: scores by customer, the rest replicated). The
 * engine moves a DuckDB database of the old layout (labels as text) to the current one.
 */
export async function attachHistory(engine: Engine, db: string | null, options: AttachOptions = {}): Promise<RunHistory> {
  const history = await openHistoryWaiting(engine, db, { ...options, readOnly: false });
  try {
    const older = await engine.historyHas('runs');
    for (const relation of HISTORY_RELATIONS(history.qualifier, engine.dialect)) {
      if (await engine.historyHas(relation.name)) continue;
      const make = async () => {
        await engine.run(relation.sql);
        if (relation.placement) await engine.placeHistoryTable(relation.name, relation.placement);
      };
      const fill = older ? FILL_FROM_OLDER_HISTORY[relation.name] : undefined;
      if (fill) {
        await inTransaction(engine, async () => {
          await make();
          await fill(engine, history);
        });
      } else await make();
    }
  } catch (error) {
    await engine.closeHistory().catch(() => undefined);
    throw error;
  }
  return history;
}

export async function inTransaction(engine: QueryEngine, work: () => Promise<void>, commit = () => engine.run('COMMIT')): Promise<void> {
  await engine.run('BEGIN TRANSACTION');
  try {
    await work();
    await commit();
  } catch (error) {
    // After a failed COMMIT there may be no transaction left to roll back: the first error is the one to tell.
    await engine.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

export async function detachHistory(engine: Engine): Promise<void> {
  await engine.closeHistory();
}

/** The newest run before `runId` whose customer scores are still kept, or null. */
export async function previousRunWithScores(engine: QueryEngine, history: RunHistory, runId: number): Promise<number | null> {
  return (await engine.one<{ run_id: number | null }>(PREVIOUS_RUN_SQL(history.qualifier), { runId }))?.run_id ?? null;
}

export async function nextRunId(engine: QueryEngine, history: RunHistory): Promise<{ runId: number; previousRun: number | null }> {
  const next = (await engine.one<{ run_id: number }>(NEXT_RUN_ID_SQL(history.qualifier)))!.run_id;
  return { runId: next, previousRun: await previousRunWithScores(engine, history, next) };
}

/** Adds previous_segment and segment_changed_at from the previous run. */
export async function addHistoryColumns(engine: QueryEngine, history: RunHistory, asOf: string, previousRun: number | null): Promise<void> {
  await runStatements(engine, WITH_HISTORY_SQL(history.qualifier, engine.dialect), { asOf, previousRun: previousRun ?? -1 });
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

/** Where a run's files are staged, for the history to find them if the run dies before they are published. */
export interface PendingPublish {
  /** The output folder, relative to the history's folder (RunHistory.folder; absolute without one). */
  outDir: string;
  staging: string;
  /** Runs whose scores to keep once this one is published; null keeps all. */
  keepRuns: number | null;
}

/**
 * One transaction: a crash leaves the database as it was before the run.
 * The run is recorded as pending (publish.ts marks it published
 * once its files are), so that no command lists a run whose files are not there.
 * `knownLabels`: how many labels the database had; the run's new ones follow.
 * `after`: the columns given after scoring, as expressions for the database.
 * `clusters`: the run's k-means clusters, for the next run to keep their numbers.
 */
export async function recordRun(
  engine: QueryEngine,
  history: RunHistory,
  record: RunRecord,
  scoredColumns: readonly string[],
  pending: PendingPublish,
  knownLabels: number,
  after: AfterScoring = {},
  clusters: readonly RecordedCluster[] = [],
): Promise<void> {
  await inTransaction(
    engine,
    async () => {
      const h = history.qualifier;
      await engine.run(NEW_LABELS_SQL(h), { known: knownLabels });
      await engine.run(INSERT_SCORES_SQL(h, [...scoredColumns, 'previous_segment', 'segment_changed_at'], engine.dialect, after), { runId: record.runId });
      await engine.run(INSERT_RUN_SQL(h), {
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
      await recordClusters(engine, history, record.runId, clusters);
      await engine.run(INSERT_PENDING_RUN_SQL(h), { runId: record.runId, outDir: pending.outDir, staging: pending.staging, keepRuns: pending.keepRuns });
    },
    async () => {
      testPoint('history-commit:before');
      await engine.run('COMMIT');
      testPoint('history-commit:after');
    },
  );
}
