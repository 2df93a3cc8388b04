import path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { mergeOptions, parseScoreConfig, readConfigFile } from '../config/loadConfig.js';
import { CLV_MODELS, TABLE_FORMATS } from '../config/lists.js';
import { DEFAULT_KEEP_RUNS, type ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { parseEngineSpec, shownEngineSpec } from '../engine/openEngine.js';
import {
  addCommonOptions,
  addEngineOptions,
  checkDbName,
  CUSTOMER_BUCKETS_HELP,
  checkInputsNotKept,
  checkNotKept,
  checkOutputFolder,
  collect,
  dbWaitOption,
  historyFiles,
  logLevel,
  parseInteger,
  parseNumber,
  thisRunOutputFiles,
  type CommonOptions,
  type KeptFile,
} from './context.js';
import { startRun } from './logger.js';
import { createStageProgress } from './progress.js';

const parseKeepRuns = (value: string) => {
  if (value === 'all') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new UsageError(`--keep-runs expects a whole number of runs from 1, or all, got "${value}"`);
  return n;
};

const EXAMPLES = `
Examples:
  # Nightly job on one export, scored as of yesterday, Parquet + CSV into out/
  $ crm score exports/transactions.csv --as-of 2025-06-30 --out out/

  # Several files and a glob; columns named differently in the source
  $ crm score 'exports/2025-*.parquet' extra.csv --customer-col CustomerID --date-col InvoiceDate --amount-col TotalPrice --out out/

  # Whitespace-separated file without a header (CDNOW), columns by position
  $ crm score fixtures/cdnow/CDNOW_sample.txt --customer-col 1 --date-col 3 --amount-col 5 --as-of 1997-09-30 --out out/cdnow

  # A European export: amounts with a decimal comma (12,50), fields separated by semicolons (detected)
  $ crm score export.csv --decimal-separator , --out out/

  # Pareto/NBD instead of BG/NBD, 24-month CLV at 1% a month and a 30% margin
  $ crm score tx.csv --clv-model paretonbd --horizon 24 --discount-rate 0.01 --margin 0.3 --out out/

  # On PostgreSQL/Citus: transactions already in the cluster; crm's tables and the run history in schema crm
  $ crm score --engine postgres://crm@db.example.com:5432/sales --source-table sales.transactions --as-of 2025-06-30 --out out/
  # ... or files read here and streamed in (PGHOST, PGUSER, PGPASSWORD, PGDATABASE with --engine postgres);
  # --format none: no customer file, the scores only in crm_nightly.customer_scores
  $ crm score exports/transactions.csv --engine postgres --schema crm_nightly --format none --out out/

  # Everything from a config file, one flag overriding it; fail if over 1% of rows are rejected
  $ crm score --config crm.config.yaml --max-reject-rate 0.01

Outputs (DIR = --out): customers.{parquet,csv,json,arrow}, summary.json, rejects.csv,
deciles.csv, segments.csv, stages.csv, clusters.csv; the run is recorded in DIR/crm.duckdb (--db),
or on PostgreSQL in the tables of --schema.

Exit codes: 0 success, 1 the job failed (bad input, engine error), 2 usage error.`;

export function scoreCommand(): Command {
  const command = new Command('score')
    .description('load transaction exports and write RFM, CLV, lifecycle and k-means scored customer tables')
    .argument('[inputs...]', 'transaction files (CSV/TSV/whitespace text, Parquet, NDJSON) or globs')
    .option('-c, --config <file>', 'options from a JSON or YAML file (flags override it)')
    .option('-o, --out <dir>', 'output folder (default: crm-out)')
    .option('--engine <engine>', 'duckdb (embedded, the default), postgres (the PG* environment variables) or a postgres://user@host:port/database URL')
    .option('--schema <name>', 'PostgreSQL: the schema that holds crm\'s tables (default: crm)')
    .option('--source-table <schema.table>', 'PostgreSQL: score the transactions of this table instead of input files (columns mapped as for files)')
    .option('--db <file>', 'DuckDB database that keeps the run history (default: DIR/crm.duckdb)')
    .option('--no-db', 'do not record the run in a database')
    .addOption(dbWaitOption())
    .addOption(new Option('-f, --format <format>', 'customer table format, repeatable (default: parquet and csv); none: no customer file, the scores kept in the run history only').choices([...TABLE_FORMATS, 'none']).argParser(collect as never))
    .option('--customer-col <name|n>', 'customer id column (name, or 1-based position)')
    .option('--date-col <name|n>', 'order date column')
    .option('--amount-col <name|n>', 'amount column (negative = refund)')
    .option('--order-col <name|n>', 'order id column (else one order per customer and day)')
    .option('--delimiter <char>', "field delimiter ('tab', 'whitespace', or a character; default: detected)")
    .addOption(new Option('--header <mode>', 'first line is a header (default: detected)').choices(['auto', 'yes', 'no']))
    .option('--date-format <format>', 'strptime format for dates, e.g. %d/%m/%Y (default: ISO, YYYYMMDD or timestamps)')
    .addOption(new Option('--decimal-separator <char>', "decimal mark of amounts written as text (default: '.'; ',' for 12,50)").choices(['.', ',']))
    .option('--timezone <tz>', 'time zone that timestamps are reduced to dates in (default: UTC)')
    .option('--as-of <date>', 'score as of this date, YYYY-MM-DD, not after tomorrow (default: the latest transaction date up to today; rows dated after tomorrow are rejected)')
    .option('--max-reject-rate <rate>', 'fail (exit 1) when more than this share of rows is rejected, 0..1', parseNumber('--max-reject-rate'))
    .addOption(new Option('--rfm-method <method>', 'RFM scoring (default: quantile)').choices(['quantile', 'ntile', 'fixed']))
    .option('--segment-map <file>', 'named segments per RFM cell (JSON or YAML); must cover all 125 cells once')
    .option('--no-clv', 'skip the CLV stage')
    .addOption(new Option('--clv-model <model>', 'purchase model, or auto: all three fitted, the lowest AIC (or holdout error) kept (default: bgnbd)').choices(CLV_MODELS))
    .option('--holdout-days <n>', 'fit the purchase model on all but the last N days before the as-of date, compare its predictions with them (summary clv.holdout), then refit on all; with --clv-model auto the lowest holdout error chooses', parseInteger('--holdout-days'))
    .option('--clv-draws <n>', 'parameter draws behind the 90% interval clv_low..clv_high; 0: no intervals (default: 200, fewer on a large base, at least 40)', parseInteger('--clv-draws'))
    .addOption(new Option('--time-unit <unit>', 'model time unit (default: week)').choices(['day', 'week', 'month']))
    .option('--horizon <months>', 'CLV horizon in months (default: 12)', parseInteger('--horizon'))
    .option('--discount-rate <rate>', 'monthly discount rate (default: 0.01)', parseNumber('--discount-rate'))
    .option('--margin <share>', 'profit margin applied to spend (default: 1)', parseNumber('--margin'))
    .option('--penalty <l2>', 'L2 penalty on model parameters (default: 0)', parseNumber('--penalty'))
    .option('--no-lifecycle', 'skip the lifecycle stage')
    .option('--no-kmeans', 'skip the k-means clusters stage')
    .option('--k <n|auto>', 'number of k-means clusters, or auto (silhouette over 2..8; default: 5)')
    .option('--seed <n>', 'random seed for k-means and the CLV intervals\' draws (default: 42)', parseInteger('--seed'))
    .option('--restarts <n>', 'k-means restarts, best inertia kept (default: 4)', parseInteger('--restarts'))
    .option('--sample-size <n>', 'customers k-means is fitted on, a seeded sample (default: 20000)', parseInteger('--sample-size'))
    .option('--keep-runs <n|all>', `keep the customer scores of the newest N runs in the database, or all (default: ${DEFAULT_KEEP_RUNS})`, parseKeepRuns)
    .option('--threads <n>', 'threads for DuckDB and for the CLV intervals (default: all cores; the intervals at most 4)', parseInteger('--threads'))
    .option('--customer-buckets <n>', CUSTOMER_BUCKETS_HELP, parseInteger('--customer-buckets'))
    .option('--no-excel-safe', "write customers.csv text as it is; by default text starting with = + - @ gets a leading ' so a spreadsheet shows it rather than runs it");
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', EXAMPLES);
  command.action(async (inputs: string[], options: Record<string, unknown>, cmd: Command) => {
    const config = await resolveScoreConfig(inputs, options, cmd);
    checkEngineChoice(config);
    await checkOutputFolder(config.out);
    const outputs = thisRunOutputFiles(config.out, config.format);
    if (!config.noDb && config.db) {
      checkDbName(config.db);
      await checkNotKept(config.db, outputs, '--db');
    }
    // The engine URL's password never reaches the log.
    const run = startRun('score', logLevel(options as CommonOptions), { ...config, engine: shownEngineSpec(config.engine) });
    const log = run.log;
    const progress = createStageProgress(Boolean(process.stderr.isTTY) && !options.quiet, 8);
    // The pipeline (models, k-means) loads only for the command that runs it.
    const { scoreJob } = await import('../jobs/score.js');
    const asOfField = cmd.getOptionValueSource('asOf') === 'cli' || !options.config ? '--as-of' : `asOf in ${options.config}`;
    const summary = await scoreJob(
      config,
      { logger: log, stage: (name) => run.stage(name, progress.stage), now: () => new Date(), logId: run.runId },
      { asOfField, checkBeforeRead: (engine) => checkInputsNotWrittenOver(engine, config, outputs) },
    ).finally(() => progress.stop());
    log.info(
      // historyRun: the run's number in the history database (crm runs), when it has one.
      { historyRun: summary.run.id ?? undefined, out: config.out, customers: summary.customers, rows: summary.rows },
      'scored customers',
    );
    if (summary.rows.rejected > 0) log.warn({ rejected: summary.rows.rejected, file: `${config.out}/rejects.csv` }, 'some rows were rejected');
  });
  return command;
}

/** The engine the run names, and what it can do so far, checked before anything is opened or read. */
function checkEngineChoice(config: ScoreConfig): void {
  const engine = parseEngineSpec(config.engine);
  if (config.sourceTable && engine.kind !== 'postgres') {
    throw new UsageError(`--source-table ${config.sourceTable}: a table is read in a PostgreSQL database; give --engine postgres (or a postgres:// URL)`);
  }
  if (config.sourceTable && config.inputs.length) throw new UsageError('give either input files or --source-table, not both');
  if (config.format.length === 0 && config.noDb) throw new UsageError('--format none with --no-db would keep the scores nowhere: keep the run history, or name a format');
  // On PostgreSQL the history is the tables of --schema: a database file named as well would be ignored.
  if (engine.kind === 'postgres' && config.db !== undefined) {
    throw new UsageError(`--db ${config.db}: on PostgreSQL the run history is kept in the database, in --schema ${config.schema ?? 'crm'}; leave out --db (or give --no-db to keep none)`);
  }
}

/** Refuses a run that would write its outputs or history over one of its inputs or its segment map (globs expanded as the load expands them), before any is read. */
async function checkInputsNotWrittenOver(engine: Engine, config: ScoreConfig, outputs: readonly KeptFile[]): Promise<void> {
  const db = config.noDb ? [] : historyFiles(config.db ?? path.join(config.out, 'crm.duckdb'));
  // An input that cannot be read is the load's error to report, in its stage, after an interrupted publish is settled.
  const inputs = await engine.expandInputs(config.inputs).catch(() => []);
  const read = [...inputs, ...(config.rfm.segmentMap ? [config.rfm.segmentMap] : [])];
  await checkInputsNotKept(read, [...outputs, ...db]);
}

/** Flags given on the command line override the config file; defaults come from the schema. */
async function resolveScoreConfig(inputs: string[], options: Record<string, unknown>, cmd: Command): Promise<ScoreConfig> {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli';
  const flag = (name: string) => (given(name) ? options[name] : undefined);
  const k = flag('k') as string | undefined;
  const flags: Record<string, unknown> = {
    inputs: inputs.length ? inputs : undefined,
    engine: flag('engine'),
    schema: flag('schema'),
    sourceTable: flag('sourceTable'),
    out: flag('out'),
    db: typeof options.db === 'string' ? options.db : undefined,
    noDb: options.db === false ? true : undefined,
    dbWait: flag('dbWait'),
    format: flag('format'),
    columns: { customer: flag('customerCol'), date: flag('dateCol'), amount: flag('amountCol'), order: flag('orderCol') },
    delimiter: flag('delimiter'),
    header: flag('header'),
    dateFormat: flag('dateFormat'),
    decimalSeparator: flag('decimalSeparator'),
    timezone: flag('timezone'),
    asOf: flag('asOf'),
    maxRejectRate: flag('maxRejectRate'),
    rfm: { method: flag('rfmMethod'), segmentMap: flag('segmentMap') },
    clv: {
      enabled: given('clv') ? options.clv : undefined,
      model: flag('clvModel'),
      timeUnit: flag('timeUnit'),
      horizonMonths: flag('horizon'),
      discountRate: flag('discountRate'),
      margin: flag('margin'),
      penalty: flag('penalty'),
      holdoutDays: flag('holdoutDays'),
      draws: flag('clvDraws'),
      seed: flag('seed'),
    },
    lifecycle: { enabled: given('lifecycle') ? options.lifecycle : undefined },
    kmeans: {
      enabled: given('kmeans') ? options.kmeans : undefined,
      k: k === undefined ? undefined : k === 'auto' ? 'auto' : parseInteger('--k')(k),
      seed: flag('seed'),
      restarts: flag('restarts'),
      sampleSize: flag('sampleSize'),
    },
    keepRuns: flag('keepRuns'),
    threads: flag('threads'),
    customerBuckets: flag('customerBuckets'),
    memoryLimit: flag('memoryLimit'),
    tempDir: flag('tempDir'),
    excelSafe: given('excelSafe') ? options.excelSafe : undefined,
  };
  const file = options.config ? await readConfigFile(options.config as string) : {};
  return parseScoreConfig(mergeOptions(file, flags), options.config ? `config (${options.config} and flags)` : 'options');
}
