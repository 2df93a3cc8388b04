import { Command, Option } from 'commander';
import type { MigrationCell, MigrationDimension } from '../jobs/history.js';
import { LIFECYCLE_STAGES, SEGMENT_NAMES } from '../config/lists.js';
import { addCommonOptions, addEngineOptions, addHistoryOptions, checkNotKept, checkOutputFile, engineSettings, historyFiles, loggerFor, parseInteger, recordedRunFiles, type CommonOptions } from './context.js';
import { migrationJob } from '../jobs/history.js';
import { formatTable } from './format.js';

export function migrationCommand(): Command {
  const command = new Command('migration')
    .description('how customers moved between segments, lifecycle stages or clusters from one run to another')
    .option('--from <run>', 'earlier run id (default: the second newest)', parseInteger('--from'))
    .option('--to <run>', 'later run id (default: the newest)', parseInteger('--to'))
    .addOption(new Option('--by <dimension>', 'what to compare').choices(['segment', 'stage', 'cluster']).default('segment'))
    .option('--out <file.csv>', 'also write the matrix as CSV (from,to,customers,revenue)');
  addHistoryOptions(command);
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', `
Examples:
  $ crm migration --db out/crm.duckdb                          # last two runs, RFM segments
  $ crm migration --db out/crm.duckdb --by stage --from 3 --to 7 --out moves.csv

Rows are the earlier run, columns the later one; "(new)" are customers only in the
later run, "(gone)" customers only in the earlier one.`);
  command.action(async (options: { db?: string; engine?: string; schema?: string; dbWait?: number; from?: number; to?: number; by: MigrationDimension; out?: string; memoryLimit?: string; tempDir?: string } & CommonOptions) => {
    if (options.out) await checkOutputFile(options.out, 'moves.csv', (options.db ? historyFiles(options.db) : []));
    const settings = engineSettings(options);
    const out = options.out;
    const result = await migrationJob({
      db: options.db,
      dbWait: options.dbWait,
      engine: options.engine,
      schema: options.schema,
      log: loggerFor(options),
      ...settings,
      by: options.by,
      from: options.from,
      to: options.to,
      out,
      refuseOut: async (recorded) => checkNotKept(out!, recordedRunFiles(recorded)),
    });
    process.stdout.write(`Migration by ${options.by}: run ${result.fromRun} (rows) → run ${result.toRun} (columns), customers\n${renderMatrix(result.cells, options.by)}\n`);
  });
  return command;
}

/** Canonical order where there is one (segments best → worst, the lifecycle funnel), else by name, numbers as numbers (cluster 2 before 10); "(new)"/"(gone)" last. */
function renderMatrix(cells: readonly MigrationCell[], by: MigrationDimension): string {
  const canonical: readonly string[] = by === 'segment' ? SEGMENT_NAMES : by === 'stage' ? LIFECYCLE_STAGES : [];
  const rank = (v: string) => (v === '(new)' || v === '(gone)' ? 2 : canonical.includes(v) ? 0 : 1);
  const position = (v: string) => canonical.indexOf(v);
  const order = (values: string[]) => [...new Set(values)].sort((a, b) => rank(a) - rank(b) || position(a) - position(b) || a.localeCompare(b, 'en', { numeric: true }));
  const rows = order(cells.map((c) => c.from));
  const columns = order(cells.map((c) => c.to));
  const count = new Map(cells.map((c) => [`${c.from}\u0000${c.to}`, c.customers]));
  const body = rows.map((r) => {
    const values = columns.map((c) => count.get(`${r}\u0000${c}`) ?? 0);
    return [r, ...values, values.reduce((a, b) => a + b, 0)];
  });
  const totals = columns.map((c) => cells.filter((x) => x.to === c).reduce((a, x) => a + x.customers, 0));
  body.push(['total', ...totals, totals.reduce((a, b) => a + b, 0)]);
  return formatTable(['from \\ to', ...columns, 'total'], body);
}
