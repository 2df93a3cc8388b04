import { defaultMemoryLimit } from '../config/schema.js';
import type { Engine, RunHistory } from '../engine/Engine.js';
import { checkEngineSettings, openEngine, parseEngineSpec } from '../engine/openEngine.js';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../effects.js';
import { attachHistoryReadOnly, historyOverview, listRuns, migrationBetween, recordedRunPaths, type MigrationDimension, type RecordedRunPaths } from '../stages/history/runs.js';

/** What the history commands print, for the CLI (which talks to jobs, not stages). */
export type { HistoryOverview, MigrationCell, MigrationDimension, RecordedRunPaths } from '../stages/history/runs.js';

/** Where a command reads the run history from, and the limits of its engine. */
export interface HistoryJobOptions {
  /** The history's database file (DuckDB); PostgreSQL keeps it in `schema`. */
  db?: string;
  dbWait?: number;
  log: Logger;
  memoryLimit?: string;
  tempDir?: string;
  /** `--engine` (default DuckDB) and `--schema` (PostgreSQL, default crm). */
  engine?: string;
  schema?: string;
}

/**
 * Where the history is, checked before anything is opened: DuckDB's is the
 * file --db names; PostgreSQL's is in the cluster, under --schema (default
 * crm), so --db there would name nothing. Usage errors name the flags.
 */
export function checkHistorySource(options: Pick<HistoryJobOptions, 'db' | 'engine' | 'schema'>): void {
  const spec = parseEngineSpec(options.engine);
  if (spec.kind === 'duckdb') {
    if (options.db === undefined) throw new UsageError('--db is needed: the run-history database written by crm score (or --engine postgres://… for the history in a PostgreSQL cluster)');
    if (options.schema !== undefined) throw new UsageError(`--schema ${options.schema} is for --engine postgres: a DuckDB history is the file --db names`);
    return;
  }
  if (options.db !== undefined) throw new UsageError(`--db ${options.db} names a DuckDB history file: with --engine postgres the history is in the cluster, under --schema (default crm)`);
  checkEngineSettings(spec, { schema: options.schema });
}

/** A command's --out, checked against what the history's runs read and wrote before anything is written (the command's own wording). */
export type RefuseOut = (recorded: RecordedRunPaths) => Promise<void>;

/**
 * Runs `work` on the run history, open read-only (runs a killed process left
 * pending settled first), on the engine `--engine` names, closed whatever
 * happens. The engine is bounded by the memory limit (the default one unless
 * given), as every command's is.
 */
export async function withHistory<T>(options: HistoryJobOptions, work: (engine: Engine, history: RunHistory) => Promise<T>): Promise<T> {
  checkHistorySource(options);
  // A database without crm's schema stays without it: "no run history there yet" is all a read finds there.
  const engine = await openEngine(options.engine, { memoryLimit: options.memoryLimit ?? defaultMemoryLimit(), tempDir: options.tempDir, schema: options.schema, createSchema: false });
  try {
    options.log.debug(await engine.describeSettings(), `${engine.name} engine opened`);
    const history = await attachHistoryReadOnly(engine, options.db ?? null, { waitSeconds: options.dbWait, log: options.log });
    return await work(engine, history);
  } finally {
    await engine.close();
  }
}

/** crm runs: every run in the history, and what the history holds. */
export const runsJob = (options: HistoryJobOptions) =>
  withHistory(options, async (engine, history) => ({ runs: await listRuns(engine, history), overview: await historyOverview(engine, history), where: history.where }));

export const csvField = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** crm migration: customers moved between two runs, by segment, stage or cluster; written to `out` as CSV when given. */
export async function migrationJob(
  options: HistoryJobOptions & { by: MigrationDimension; from?: number; to?: number; out?: string; refuseOut?: RefuseOut },
) {
  const result = await withHistory(options, async (engine, history) => {
    if (options.out && options.refuseOut) await options.refuseOut(await recordedRunPaths(engine, history));
    return migrationBetween(engine, history, options.by, options.from, options.to);
  });
  if (options.out) {
    const lines = ['from,to,customers,revenue', ...result.cells.map((c) => [csvField(c.from), csvField(c.to), c.customers, c.revenue].join(','))];
    await writeFileAtomic(options.out, `${lines.join('\n')}\n`);
  }
  return result;
}

/** crm report: the run's report page (vega loads only for this command), written to `out`. */
export async function reportJob(options: HistoryJobOptions & { run?: number; out: string; refuseOut?: RefuseOut }) {
  const { gatherReportData } = await import('../report/reportData.js');
  const data = await withHistory(options, async (engine, history) => {
    if (options.refuseOut) await options.refuseOut(await recordedRunPaths(engine, history));
    return gatherReportData(engine, history, options.run);
  });
  const { renderReport } = await import('../report/page.js');
  await writeFileAtomic(options.out, await renderReport(data));
  return data;
}
