import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Command, Option } from 'commander';
import { mergeOptions, parseScoreConfig, readConfigFile } from '../config/loadConfig.js';
import { isCalendarDate } from '../config/schema.js';
import { CLV_MODELS } from '../config/lists.js';
import { UsageError } from '../errors.js';
import { whyNotWritableFile } from '../io/paths.js';
import { round, type BacktestReport } from '../jobs/backtest.js';
import { addCommonOptions, addEngineOptions, logLevel, parseNumber, parseInteger, checkOutputFolder, CUSTOMER_BUCKETS_HELP, type CommonOptions } from './context.js';
import { formatTable } from './format.js';
import { startRun } from './logger.js';

const EXAMPLES = `
Examples:
  # The standard CDNOW experiment: calibrate to 1997-09-30, compare with the 39 weeks after
  $ crm backtest fixtures/cdnow/cdnow.csv --calibration-end 1997-09-30 --holdout-end 1998-06-30 --out out/backtest

  # The same, with its charts on an HTML page
  $ crm backtest fixtures/cdnow/cdnow.csv --calibration-end 1997-09-30 --holdout-end 1998-06-30 --report backtest.html

  # Pareto/NBD, holdout to the latest transaction
  $ crm backtest tx.parquet --calibration-end 2025-03-31 --clv-model paretonbd`;

export function backtestCommand(): Command {
  const command = new Command('backtest')
    .description('calibration/holdout check of the CLV purchase model: predicted vs actual purchases per customer')
    .argument('<inputs...>', 'transaction files or globs')
    .requiredOption('--calibration-end <date>', 'last day of the calibration period (YYYY-MM-DD)')
    .option('--holdout-end <date>', 'last day of the holdout period, not in the future (default: the latest transaction date up to today)')
    .option('-o, --out <dir>', 'write backtest.json and backtest.csv here')
    .option('--report <file.html>', 'write an HTML page with the charts: calibration vs holdout purchases, and the weekly tracking curve')
    .option('-c, --config <file>', 'column mapping and model options from a config file')
    .option('--customer-col <name|n>', 'customer id column')
    .option('--date-col <name|n>', 'order date column')
    .option('--amount-col <name|n>', 'amount column')
    .option('--delimiter <char>', "field delimiter ('tab', 'whitespace', or a character)")
    .option('--date-format <format>', 'strptime format for dates')
    .option('--timezone <tz>', "time zone that timestamps are reduced to dates in, and of today's date (default: UTC)")
    .addOption(new Option('--decimal-separator <char>', "decimal mark of amounts written as text (default: '.')").choices(['.', ',']))
    .addOption(new Option('--clv-model <model>', 'purchase model, or auto: all three backtested, the lowest holdout RMSE reported (default: bgnbd)').choices(CLV_MODELS))
    .addOption(new Option('--time-unit <unit>', 'model time unit (default: week)').choices(['day', 'week', 'month']))
    .option('--penalty <l2>', 'L2 penalty on model parameters', parseNumber('--penalty'))
    .option('--customer-buckets <n>', CUSTOMER_BUCKETS_HELP, parseInteger('--customer-buckets'));
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', EXAMPLES);
  command.action(async (inputs: string[], options: Record<string, any>) => {
    for (const key of ['calibrationEnd', 'holdoutEnd'] as const) {
      if (options[key] !== undefined && !isCalendarDate(options[key])) throw new UsageError(`--${key === 'calibrationEnd' ? 'calibration-end' : 'holdout-end'} expects a day as YYYY-MM-DD`);
    }
    if (options.out) await checkOutputFolder(options.out);
    if (options.report) await checkReportFile(options.report);
    const file = options.config ? await readConfigFile(options.config) : {};
    const config = parseScoreConfig(
      mergeOptions(file, {
        inputs,
        columns: { customer: options.customerCol, date: options.dateCol, amount: options.amountCol },
        delimiter: options.delimiter,
        dateFormat: options.dateFormat,
        timezone: options.timezone,
        decimalSeparator: options.decimalSeparator,
        clv: { model: options.clvModel, timeUnit: options.timeUnit, penalty: options.penalty },
        memoryLimit: options.memoryLimit,
        tempDir: options.tempDir,
        customerBuckets: options.customerBuckets,
      }),
    );
    const { calibrationEnd, holdoutEnd, out, report } = options;
    const run = startRun('backtest', logLevel(options as CommonOptions), { inputs: config.inputs, calibrationEnd, holdoutEnd, out, report, columns: config.columns, timezone: config.timezone, clv: config.clv });
    const log = run.log;
    const { backtestJob } = await import('../jobs/backtest.js');
    const result = await backtestJob(config, { calibrationEnd, holdoutEnd, out, report }, { log, stage: (name) => run.stage(name) });
    process.stdout.write(renderBacktest(result, options.calibrationEnd));
  });
  return command;
}

/** --report names a file that can be written, before any work. */
async function checkReportFile(file: string): Promise<void> {
  if ((await stat(file).catch(() => null))?.isDirectory()) throw new UsageError(`--report ${file}: a folder is there; give a file name, e.g. ${path.join(file, 'backtest.html')}`);
  const why = await whyNotWritableFile(file);
  if (why) throw new UsageError(`--report ${file}: cannot write there: ${why}`);
}

/** A missing prediction is n/a on the terminal. */
const fixed = (x: number | null, digits: number) => (x === null ? 'n/a' : x.toFixed(digits));

function renderBacktest(r: BacktestReport, calibrationEnd: string): string {
  const head = [
    `Backtest (${r.model}, time unit ${r.timeUnit}): calibration to ${calibrationEnd}, holdout to ${r.holdoutEnd} (${round(r.holdoutLength)} ${r.timeUnit}s)`,
    `customers ${r.customers}   actual purchases ${r.actualTotal}   predicted ${fixed(r.predictedTotal, 2)}   MAE ${fixed(r.mae, 4)}`,
    ...(r.selection ? [`--clv-model auto: ${r.selection.reason}`] : []),
    ...r.warnings.map((w) => `warning: ${w}`),
    '',
  ];
  const table = formatTable(
    ['calibration frequency', 'customers', 'actual', 'predicted', 'actual/customer', 'predicted/customer'],
    r.byFrequency.map((b) => [b.frequency, b.customers, b.actual, fixed(b.predicted, 2), b.actualMean.toFixed(3), fixed(b.predictedMean, 3)]),
  );
  return `${head.join('\n')}${table}\n`;
}
