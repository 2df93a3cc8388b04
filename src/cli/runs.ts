import { Command } from 'commander';
import type { HistoryOverview } from '../jobs/history.js';
import { addCommonOptions, addEngineOptions, addHistoryOptions, engineSettings, loggerFor, type CommonOptions } from './context.js';
import { runsJob } from '../jobs/history.js';
import { formatBytes, formatTable } from './format.js';

/** "history: out/crm.duckdb, 12.3 MB, 100 runs, scores kept for the newest 90 (--keep-runs 90)" */
export function describeHistory(db: string, h: HistoryOverview): string {
  if (h.runs === 0) return `history: ${db}, ${formatBytes(h.bytes)}, no runs yet`;
  const kept = h.kept === h.runs ? `all ${h.runs}` : `the newest ${h.kept}`;
  const setting = h.keepRuns === null ? '' : ` (--keep-runs ${h.keepRuns})`;
  return `history: ${db}, ${formatBytes(h.bytes)}, ${h.runs} run${h.runs === 1 ? '' : 's'}, scores kept for ${kept}${setting}`;
}

export function runsCommand(): Command {
  const command = new Command('runs')
    .description('list the scoring runs recorded in a database')
    .option('--json', 'JSON lines instead of a table');
  addHistoryOptions(command);
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', `
Examples:
  $ crm runs --db out/crm.duckdb
  $ crm runs --db out/crm.duckdb --json | jq 'select(.rows_rejected > 0)'
  $ crm runs --engine postgres://crm@warehouse:5432/analytics --schema crm`);
  command.action(async (options: { db?: string; engine?: string; schema?: string; dbWait?: number; json?: boolean; memoryLimit?: string; tempDir?: string } & CommonOptions) => {
    const log = loggerFor(options);
    const settings = engineSettings(options);
    const { runs, overview, where } = await runsJob({ db: options.db, dbWait: options.dbWait, engine: options.engine, schema: options.schema, log, ...settings });
    // On stderr, with the logs: stdout stays the table (or JSON lines) that scripts read.
    log.info({ db: where, bytes: overview.bytes, runs: overview.runs, scoresKept: overview.kept, keepRuns: overview.keepRuns }, describeHistory(where, overview));
    if (options.json) {
      for (const run of runs) process.stdout.write(`${JSON.stringify({ ...run, inputs: JSON.parse(run.inputs) })}\n`);
      return;
    }
    process.stdout.write(
      `${formatTable(
        ['run', 'as_of', 'started_at', 'seconds', 'rows_read', 'rejected', 'excluded', 'customers', 'scores', 'inputs'],
        runs.map((r) => [r.run_id, r.as_of, r.started_at, r.duration_seconds, r.rows_read, r.rows_rejected, r.rows_excluded, r.customers, r.scores_kept ? 'kept' : 'pruned', (JSON.parse(r.inputs) as string[]).join(' ')]),
      )}\n`,
    );
  });
  return command;
}
