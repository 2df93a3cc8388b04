import { access } from 'node:fs/promises';
import type { Engine } from '../engine/Engine.js';
import { InputError, UsageError } from '../errors.js';
import { LAST_RUNS_SQL, LIST_RUNS_SQL, migrationSql, RUN_EXISTS_SQL } from '../sql/history.js';

/** Attaches an existing history database read-only. */
export async function attachHistoryReadOnly(engine: Engine, dbPath: string): Promise<void> {
  try {
    await access(dbPath);
  } catch {
    throw new InputError(`${dbPath}: no such database (run crm score with --db first)`);
  }
  try {
    await engine.run(`ATTACH ${engine.dialect.quoteString(dbPath)} AS history (READ_ONLY)`);
    await engine.one('SELECT 1 FROM history.runs LIMIT 1');
  } catch (error) {
    throw new InputError(`${dbPath}: not a crm run-history database (${(error as Error).message.split('\n')[0]})`);
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
  let fromRun = from;
  let toRun = to;
  if (fromRun === undefined || toRun === undefined) {
    const last = (await engine.all<{ run_id: number }>(LAST_RUNS_SQL)).map((r) => r.run_id);
    toRun ??= last[0];
    fromRun ??= last.find((id) => id !== toRun) ?? undefined;
    if (fromRun === undefined || toRun === undefined) throw new UsageError('migration needs two runs with scores in the database');
  }
  fromRun = await resolveRun(engine, fromRun);
  toRun = await resolveRun(engine, toRun);
  const cells = await engine.all<MigrationCell>(migrationSql(engine.dialect.quoteIdentifier(MIGRATION_DIMENSIONS[by])), { fromRun, toRun });
  return { fromRun, toRun, cells };
}
