import type { Engine } from '../engine/Engine.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { Logger } from '../pipeline/effects.js';
import { attachHistoryReadOnly, historyOverview, listRuns, migrationBetween, recordedRunPaths, type MigrationDimension, type RecordedRunPaths } from '../pipeline/runs.js';
import { withRunEngine } from './openRunEngine.js';

/** Where a command reads the run history from, and the limits of its engine. */
export interface HistoryJobOptions {
  db: string;
  dbWait?: number;
  log: Logger;
  memoryLimit: string;
  tempDir?: string;
}

/** A command's --out, checked against what the history's runs read and wrote before anything is written (the command's own wording). */
export type RefuseOut = (recorded: RecordedRunPaths) => Promise<void>;

/** Runs `work` on the history database, attached read-only (runs a killed process left pending settled first). */
export function withHistory<T>(options: HistoryJobOptions, work: (engine: Engine) => Promise<T>): Promise<T> {
  return withRunEngine(
    async (engine) => {
      await attachHistoryReadOnly(engine, options.db, { waitSeconds: options.dbWait, log: options.log });
      return work(engine);
    },
    { memoryLimit: options.memoryLimit, tempDir: options.tempDir },
  );
}

/** crm runs: every run in the history, and what the history holds. */
export const runsJob = (options: HistoryJobOptions) =>
  withHistory(options, async (engine) => ({ runs: await listRuns(engine), overview: await historyOverview(engine, options.db) }));

export const csvField = (value: string) => (/[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** crm migration: customers moved between two runs, by segment, stage or cluster; written to `out` as CSV when given. */
export async function migrationJob(
  options: HistoryJobOptions & { by: MigrationDimension; from?: number; to?: number; out?: string; refuseOut?: RefuseOut },
) {
  const result = await withHistory(options, async (engine) => {
    if (options.out && options.refuseOut) await options.refuseOut(await recordedRunPaths(engine));
    return migrationBetween(engine, options.by, options.from, options.to);
  });
  if (options.out) {
    const lines = ['from,to,customers,revenue', ...result.cells.map((c) => [csvField(c.from), csvField(c.to), c.customers, c.revenue].join(','))];
    await writeFileAtomic(options.out, `${lines.join('\n')}\n`);
  }
  return result;
}

/** crm report: the run's report page (vega loads only for this command), written to `out`. */
export async function reportJob(options: HistoryJobOptions & { run?: number; out: string; refuseOut?: RefuseOut }) {
  const { gatherReportData } = await import('../pipeline/reportData.js');
  const data = await withHistory(options, async (engine) => {
    if (options.refuseOut) await options.refuseOut(await recordedRunPaths(engine));
    return gatherReportData(engine, options.run);
  });
  const { renderReport } = await import('../report/page.js');
  await writeFileAtomic(options.out, await renderReport(data));
  return data;
}
