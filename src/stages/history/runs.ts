import type { Engine, QueryEngine, RunHistory } from '../../engine/Engine.js';
import { InputError, UsageError } from '../../errors.js';
import {
  HISTORY_OVERVIEW_SQL,
  LAST_RUNS_SQL,
  LIST_RUNS_SQL,
  migrationSql,
  migrationValuesSql,
  RECORDED_INPUTS_SQL,
  RECORDED_OUT_FOLDERS_SQL,
  RUN_EXISTS_SQL,
} from './queries.js';
import type { Logger } from '../../effects.js';
import { checkDatabasePath, detachHistory, openHistoryWaiting, previousRunWithScores } from './stage.js';
import { hasPendingRuns, openHistory } from './publish.js';

/**
 * Opens an existing run history read-only (`db`: its database file on
 * DuckDB; PostgreSQL's is the engine's schema), waiting, as
 * openHistoryWaiting does, while a run records itself. Runs a killed process
 * left pending are settled first (for that, the history is opened for writing
 * a moment): what the command reads is only published runs.
 */
export async function attachHistoryReadOnly(
  engine: Engine,
  db: string | null,
  options: { waitSeconds?: number; log?: Logger } = {},
): Promise<RunHistory> {
  if (db !== null) checkDatabasePath(db);
  for (;;) {
    const history = await openHistoryWaiting(engine, db, { ...options, readOnly: true });
    try {
      await engine.one(`SELECT 1 FROM ${history.qualifier}.runs LIMIT 1`);
    } catch (error) {
      await detachHistory(engine);
      if (db === null) throw new InputError(`${history.where}: no run history there yet (run crm score with the same --engine and --schema first)`);
      throw new InputError(`${db}: not a crm run-history database (${(error as Error).message.split('\n')[0]})`);
    }
    if (!(await hasPendingRuns(engine, history))) return history;
    await detachHistory(engine);
    await openHistory(engine, db, options);
    await detachHistory(engine);
  }
}

export interface RunRow {
  run_id: number;
  as_of: string;
  started_at: string;
  duration_seconds: number;
  inputs: string;
  rows_read: number;
  rows_accepted: number;
  rows_rejected: number;
  rows_excluded: number;
  customers: number;
  scores_kept: boolean;
}

export const listRuns = (engine: QueryEngine, history: RunHistory) => engine.all<RunRow>(LIST_RUNS_SQL(history.qualifier, engine.dialect));

export interface HistoryOverview {
  /** What the history takes on disk, in bytes (its database file on DuckDB). */
  bytes: number;
  runs: number;
  /** Runs whose customer scores are kept. */
  kept: number;
  /** The newest run's --keep-runs ('all' or a number as text), null for a run from before the option. */
  keepRuns: string | null;
}

/** How big the open history is, and how much of it is kept. */
export async function historyOverview(engine: Engine, history: RunHistory): Promise<HistoryOverview> {
  const row = (await engine.one<{ runs: number; kept: number; keep_runs: string | null }>(HISTORY_OVERVIEW_SQL(history.qualifier, engine.dialect)))!;
  return { bytes: await engine.historyBytes(), runs: row.runs, kept: row.kept, keepRuns: row.keep_runs };
}

/** A run id that exists and still has its scores, or the latest such run. */
export async function resolveRun(engine: QueryEngine, history: RunHistory, run: number | undefined): Promise<number> {
  if (run === undefined) {
    const last = await engine.all<{ run_id: number }>(LAST_RUNS_SQL(history.qualifier));
    if (last.length === 0) throw new InputError('the database has no run with scores yet');
    return last[0]!.run_id;
  }
  const row = await engine.one<{ run_id: number; scores_kept: boolean }>(RUN_EXISTS_SQL(history.qualifier), { runId: run });
  if (!row) throw new UsageError(`no run ${run} in the database (see crm runs)`);
  if (!row.scores_kept) throw new UsageError(`run ${run}'s customer scores were pruned (--keep-runs)`);
  return run;
}

export const MIGRATION_DIMENSIONS = { segment: 'rfm_segment', stage: 'lifecycle_stage', cluster: 'cluster' } as const;
export type MigrationDimension = keyof typeof MIGRATION_DIMENSIONS;
const MIGRATION_LABELS: Record<MigrationDimension, string> = { segment: 'RFM segments', stage: 'lifecycle stages', cluster: 'k-means clusters' };

export interface MigrationCell {
  from: string;
  to: string;
  customers: number;
  revenue: number;
}

export async function migrationBetween(
  engine: QueryEngine,
  history: RunHistory,
  by: MigrationDimension,
  from: number | undefined,
  to: number | undefined,
): Promise<{ fromRun: number; toRun: number; cells: MigrationCell[] }> {
  // The later run first (default: the newest with scores), then the earlier one
  // (default: the newest with scores before it), so `--to 3` alone compares 2 → 3.
  const toRun = await resolveRun(engine, history, to);
  let fromRun: number;
  if (from === undefined) {
    const previous = await previousRunWithScores(engine, history, toRun);
    if (previous === null) throw new UsageError(`migration needs an earlier run with scores before run ${toRun} (see crm runs)`);
    fromRun = previous;
  } else {
    fromRun = await resolveRun(engine, history, from);
  }
  if (fromRun === toRun) throw new UsageError(`--from and --to are the same run (${toRun}); compare two different runs (see crm runs)`);
  const column = engine.dialect.quoteIdentifier(MIGRATION_DIMENSIONS[by]);
  for (const runId of [fromRun, toRun]) {
    const values = (await engine.one<{ n: number }>(migrationValuesSql(history.qualifier, column), { runId }))!.n;
    if (values === 0) throw new UsageError(`run ${runId} has no ${MIGRATION_LABELS[by]} (it was scored without that stage); try another --by`);
  }
  const cells = await engine.all<MigrationCell>(migrationSql(history.qualifier, engine.dialect, column), { fromRun, toRun });
  return { fromRun, toRun, cells };
}

/** What the history's runs read and wrote: the output folder of every run (as given) and every input. */
export interface RecordedRunPaths {
  outFolders: string[];
  inputs: string[];
}

export async function recordedRunPaths(engine: QueryEngine, history: RunHistory): Promise<RecordedRunPaths> {
  const folders = await engine.all<{ out: string }>(RECORDED_OUT_FOLDERS_SQL(history.qualifier, engine.dialect));
  const inputs = await engine.all<{ file: string }>(RECORDED_INPUTS_SQL(history.qualifier, engine.dialect));
  return { outFolders: folders.map((f) => f.out), inputs: inputs.map((i) => i.file) };
}
