import { Command } from 'commander';
import { addCommonOptions, addEngineOptions, addHistoryOptions, checkNotKept, checkOutputFile, engineSettings, historyFiles, loggerFor, parseInteger, recordedRunFiles, type CommonOptions } from './context.js';
import { reportJob } from '../jobs/history.js';

export function reportCommand(): Command {
  const command = new Command('report')
    .description('a self-contained HTML report of one run: key numbers, model fit and charts')
    .option('--run <id>', 'run to report on (default: the newest)', parseInteger('--run'))
    .requiredOption('-o, --out <file.html>', 'where to write the report');
  addHistoryOptions(command);
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', `
Examples:
  $ crm report --db out/crm.duckdb --out report.html
  $ crm report --db out/crm.duckdb --run 12 --out reports/run-12.html

The file has no external references: it can be mailed or opened offline. Charts:
RFM heatmap, segment sizes and revenue share, Pareto curve, CLV distribution (log
axis), lifecycle funnel, cluster profiles, the segment migration from the previous
run; the model's diagnostics (repeat purchases actual vs model, P(alive)
distribution, P(alive) and expected-purchases matrices, and with a holdout the
calibration-vs-holdout and tracking charts); and the last 12 runs of the history
(key figures, segment and stage shares per run).`);
  command.action(async (options: { db?: string; engine?: string; schema?: string; dbWait?: number; run?: number; out: string; memoryLimit?: string; tempDir?: string } & CommonOptions) => {
    const log = loggerFor(options);
    const settings = engineSettings(options);
    await checkOutputFile(options.out, 'report.html', (options.db ? historyFiles(options.db) : []));
    const data = await reportJob({
      db: options.db,
      dbWait: options.dbWait,
      engine: options.engine,
      schema: options.schema,
      log,
      ...settings,
      run: options.run,
      out: options.out,
      refuseOut: async (recorded) => checkNotKept(options.out, recordedRunFiles(recorded)),
    });
    log.info({ out: options.out, run: data.run.id }, 'wrote report');
  });
  return command;
}
