import { Command } from 'commander';
import { attachHistoryReadOnly, listRuns } from '../pipeline/runs.js';
import { addCommonOptions, dbWaitOption, loggerFor, withEngine, type CommonOptions } from './context.js';
import { formatTable } from './format.js';

export function runsCommand(): Command {
  const command = new Command('runs')
    .description('list the scoring runs recorded in a database')
    .requiredOption('--db <file>', 'the run-history database written by crm score')
    .addOption(dbWaitOption())
    .option('--json', 'JSON lines instead of a table');
  addCommonOptions(command);
  command.addHelpText('after', `
Examples:
  $ crm runs --db out/crm.duckdb
  $ crm runs --db out/crm.duckdb --json | jq 'select(.rows_rejected > 0)'`);
  command.action(async (options: { db: string; dbWait?: number; json?: boolean } & CommonOptions) => {
    const runs = await withEngine(async (engine) => {
      await attachHistoryReadOnly(engine, options.db, { waitSeconds: options.dbWait, log: loggerFor(options) });
      return listRuns(engine);
    });
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
