import { access, stat } from 'node:fs/promises';
import type { Engine } from '../engine/Engine.js';
import { InputError, UsageError } from '../errors.js';
import { HISTORY_OVERVIEW_SQL, LAST_RUNS_SQL, LIST_RUNS_SQL, migrationSql, migrationValuesSql, RUN_EXISTS_SQL } from '../sql/history.js';
import type { Logger } from './effects.js';
import { attachDatabase, checkDatabasePath, detachHistory, previousRunWithScores } from './history.js';
import { hasPendingRuns, openHistory } from './publish.js';

/**
 * Attaches an existing history database read-only (waiting, as
 * attachDatabase does, while a run records itself). Runs a killed process
 * left pending are settled first (for that, the database is opened for
 * writing a moment): what the command reads is only published runs.
 */
export async function attachHistoryReadOnly(engine: Engine, dbPath: string, options: { waitSeconds?: number; log?: Logger } = {}): Promise<void> {
  checkDatabasePath(dbPath);
  try {
    await access(dbPath);
  } catch {
    throw new InputError(`${dbPath}: no such database (run crm score with --db first)`);
  }
  for (;;) {
    await attachDatabase(engine, dbPath, { ...options, readOnly: true });
    try {
      await engine.one('SELECT 1 FROM history.runs LIMIT 1');
    } catch (error) {
      throw new InputError(`${dbPath}: not a crm run-history database (${(error as Error).message.split('\n')[0]})`);
    }
    if (!(await hasPendingRuns(engine))) return;
    await detachHistory(engine);
    await openHistory(engine, dbPath, options);
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

export const listRuns = (engine: Engine) => engine.all<RunRow>(LIST_RUNS_SQL);

export interface HistoryOverview {
  /** The database file's size in bytes. */
  bytes: number;
  runs: number;
  /** Runs whose customer scores are kept. */
  kept: number;
  /** The newest run's --keep-runs ('all' or a number as text), null for a run from before the option. */
  keepRuns: string | null;
}

/** How big the attached history at `dbPath` is, and how much of it is kept. */
export async function historyOverview(engine: Engine, dbPath: string): Promise<HistoryOverview> {
  const row = (await engine.one<{ runs: number; kept: number; keep_runs: string | null }>(HISTORY_OVERVIEW_SQL))!;
  return { bytes: (await stat(dbPath)).size, runs: row.runs, kept: row.kept, keepRuns: row.keep_runs };
}

/** A run id that exists and still has its scores, or the latest such run. */
export async function resolveRun(engine: Engine, run: number | undefined): Promise<number> {
  if (run === undefined) {
    const last = await engine.all<{ run_id: number }>(LAST_RUNS_SQL);
    if (last.length === 0) throw new InputError('the database has no run with scores yet');
    return last[0]!.run_id;
  }
  const row = await engine.one<{ run_id: number; scores_kept: boolean }>(RUN_EXISTS_SQL, { runId: run });
  if (!row) throw new UsageError(`no run ${run} in the database (see crm runs)`);
  if (!row.scores_kept) throw new UsageError(`run ${run}'s customer scores were pruned (--keep-runs)`);
  return run;
}

export const MIGRATION_DIMENSIONS = { segment: 'rfm_segment', stage: 'lifecycle_stage', cluster: 'cluster_label' } as const;
export type MigrationDimension = keyof typeof MIGRATION_DIMENSIONS;
const MIGRATION_LABELS: Record<MigrationDimension, string> = { segment: 'RFM segments', stage: 'lifecycle stages', cluster: 'k-means clusters' };

export interface MigrationCell {
  from: string;
  to: string;
  customers: number;
  revenue: number;
}

export async function migrationBetween(
  engine: Engine,
  by: MigrationDimension,
  from: number | undefined,
  to: number | undefined,
): Promise<{ fromRun: number; toRun: number; cells: MigrationCell[] }> {
  // The later run first (default: the newest with scores), then the earlier one
  // (default: the newest with scores before it), so `--to 3` alone compares 2 → 3.
  const toRun = await resolveRun(engine, to);
  let fromRun: number;
  if (from === undefined) {
    const previous = await previousRunWithScores(engine, toRun);
    if (previous === null) throw new UsageError(`migration needs an earlier run with scores before run ${toRun} (see crm runs)`);
    fromRun = previous;
  } else {
    fromRun = await resolveRun(engine, from);
  }
  if (fromRun === toRun) throw new UsageError(`--from and --to are the same run (${toRun}); compare two different runs (see crm runs)`);
  const column = engine.dialect.quoteIdentifier(MIGRATION_DIMENSIONS[by]);
  for (const runId of [fromRun, toRun]) {
    const values = (await engine.one<{ n: number }>(migrationValuesSql(column), { runId }))!.n;
    if (values === 0) throw new UsageError(`run ${runId} has no ${MIGRATION_LABELS[by]} (it was scored without that stage); try another --by`);
  }
  const cells = await engine.all<MigrationCell>(migrationSql(column), { fromRun, toRun });
  return { fromRun, toRun, cells };
}

/** What the history's runs read and wrote: the output folder of every run (as given) and every input. */
export interface RecordedRunPaths {
  outFolders: string[];
  inputs: string[];
}

export async function recordedRunPaths(engine: Engine): Promise<RecordedRunPaths> {
  const folders = await engine.all<{ out: string }>(`SELECT DISTINCT json_extract_string(options, '$.out') AS out FROM history.runs WHERE json_extract_string(options, '$.out') IS NOT NULL ORDER BY out`);
  const inputs = await engine.all<{ file: string }>(`SELECT DISTINCT unnest(json_extract_string(inputs, '$[*]')) AS file FROM history.runs ORDER BY file`);
  return { outFolders: folders.map((f) => f.out), inputs: inputs.map((i) => i.file) };
}
