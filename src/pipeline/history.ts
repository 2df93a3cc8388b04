import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Engine } from '../engine/Engine.js';
import { DEFAULT_DB_WAIT_SECONDS } from '../config/schema.js';
import { DatabaseInUseError, InputError, UsageError } from '../errors.js';
import { testPoint } from '../testHooks.js';
import type { Logger } from './effects.js';
import {
  HISTORY_SCHEMA_SQL,
  INSERT_PENDING_RUN_SQL,
  INSERT_RUN_SQL,
  INSERT_SCORES_SQL,
  MIGRATE_OLD_LAYOUT_SQL,
  NEXT_RUN_ID_SQL,
  OLD_LAYOUT_SQL,
  PREVIOUS_RUN_SQL,
  WITH_HISTORY_SQL,
} from '../sql/history.js';
import { NEW_LABELS_SQL } from '../sql/labels.js';
import type { AfterScoring } from '../sql/scored.js';

export interface AttachOptions {
  readOnly?: boolean;
  /** Seconds to wait while another process holds the database. */
  waitSeconds?: number;
  log?: Logger;
}

/** `--db :memory:` would keep the history nowhere: a usage error, said before anything is read. */
export function checkDatabasePath(dbPath: string): void {
  if (/^:memory:/i.test(dbPath)) throw new UsageError(`--db ${dbPath}: the run history needs a database file (or crm score --no-db to keep none)`);
}

/**
 * Attaches the database at `dbPath` as `history`. DuckDB lets one process
 * open a database file for writing (and none read it meanwhile): when another
 * holds it (a run recording its history, a report being made), this retries
 * for up to `waitSeconds` before it fails with an error that says so.
 */
export async function attachDatabase(engine: Engine, dbPath: string, options: AttachOptions = {}): Promise<void> {
  const waitSeconds = options.waitSeconds ?? DEFAULT_DB_WAIT_SECONDS;
  const deadline = Date.now() + waitSeconds * 1000;
  let warned = false;
  for (;;) {
    try {
      await engine.attachDatabase(dbPath, 'history', { readOnly: options.readOnly });
      return;
    } catch (error) {
      if (!(error instanceof DatabaseInUseError)) throw error;
      const message = error.detail;
      if (Date.now() >= deadline) {
        throw new InputError(
          `${dbPath}: the database is in use by another process${waitSeconds > 0 ? ` (waited ${waitSeconds} s; --db-wait sets how long)` : ''}: ${message}`,
        );
      }
      if (!warned) options.log?.warn({ db: dbPath, waitSeconds }, 'the history database is in use by another process; waiting for it');
      warned = true;
      await sleep(200);
    }
  }
}

/**
 * Attaches the history database, creating its tables on first use and
 * moving a database of the old layout (labels as text) to the current one.
 */
export async function attachHistory(engine: Engine, dbPath: string, options: AttachOptions = {}): Promise<void> {
  const q = engine.dialect.quoteIdentifier;
  // Like --out, a new database's folder is created.
  await mkdir(path.dirname(path.resolve(dbPath)), { recursive: true });
  await attachDatabase(engine, dbPath, options);
  if ((await engine.one<{ n: number }>(OLD_LAYOUT_SQL))!.n > 0) {
    await inTransaction(engine, async () => {
      for (const sql of MIGRATE_OLD_LAYOUT_SQL(q)) await engine.run(sql);
    });
  }
  for (const sql of HISTORY_SCHEMA_SQL(q)) await engine.run(sql);
}

export async function inTransaction(engine: Engine, work: () => Promise<void>, commit = () => engine.run('COMMIT')): Promise<void> {
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
  await engine.detachDatabase('history');
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

/** Where a run's files are staged, for the history to find them if the run dies before they are published. */
export interface PendingPublish {
  /** The output folder, relative to the database's folder. */
  outDir: string;
  staging: string;
  /** Runs whose scores to keep once this one is published; null keeps all. */
  keepRuns: number | null;
}

/**
 * One transaction: a crash leaves the database as it was before the run.
 * The run is recorded as pending (pipeline/publish.ts marks it published
 * once its files are), so that no command lists a run whose files are not there.
 * `knownLabels`: how many labels the database had; the run's new ones follow.
 * `after`: the columns given after scoring, as expressions for the database.
 */
export async function recordRun(
  engine: Engine,
  record: RunRecord,
  scoredColumns: readonly string[],
  pending: PendingPublish,
  knownLabels: number,
  after: AfterScoring = {},
): Promise<void> {
  await inTransaction(
    engine,
    async () => {
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
      await engine.run(INSERT_PENDING_RUN_SQL, { runId: record.runId, outDir: pending.outDir, staging: pending.staging, keepRuns: pending.keepRuns });
    },
    async () => {
      testPoint('history-commit:before');
      await engine.run('COMMIT');
      testPoint('history-commit:after');
    },
  );
}
