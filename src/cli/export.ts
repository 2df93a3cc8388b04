import { Command, Option } from 'commander';
import type { TableFormat } from '../io/writers.js';
import type { ExportFilters } from '../pipeline/export.js';
import { addCommonOptions, addEngineOptions, addHistoryOptions, checkNotKept, checkOutputFile, collect, engineSettings, historyFiles, loggerFor, parseInteger, parseNumber, recordedRunFiles } from './context.js';
import { exportJob } from '../jobs/export.js';

const EXAMPLES = `
Examples:
  # Tomorrow's mailing: the 5,000 Champions with the highest CLV, with contact details, minus unsubscribes
  $ crm export --db out/crm.duckdb --segment Champions --contacts contacts.csv --suppress unsubscribed.csv \\
      --limit 5000 --order-by clv --out mailing.csv

  # Best recency and frequency whatever the value, as Parquet
  $ crm export --db out/crm.duckdb --cell '[45][45]?' --out top.parquet

  # Customers slipping since the previous run while their value is high
  $ crm export --db out/crm.duckdb --preset slipping --contacts contacts.parquet > call-list.csv

Counts (matched, without contact, no address, suppressed, cut by the limit, written) go to stderr
and add up: each customer counted once, under the first that applies; rows to --out or stdout.
A contact whose email is empty or not name@domain is "no address" and never written.
Filters combine with AND; a repeated filter is an OR of its values.`;

export function exportCommand(): Command {
  const command = new Command('export')
    .description('a customer list for a mailing: filter a run by segment, cell, stage, cluster or value; join contacts; drop suppressed; cap to a budget')
    .option('--run <id>', 'run to export from (default: the newest)', parseInteger('--run'))
    .option('--segment <name>', 'RFM segment, repeatable', collect)
    .option('--cell <pattern>', "RFM cell pattern, repeatable: 555, 5??, '[45][45]?'", collect)
    .option('--stage <stage>', 'lifecycle stage, repeatable', collect)
    .option('--cluster <n|label>', 'k-means cluster number or label, repeatable', collect)
    .option('--min-clv <value>', 'CLV at least', parseNumber('--min-clv'))
    .option('--min-p-alive <p>', 'P(alive) at least', parseNumber('--min-p-alive'))
    .option('--max-p-alive <p>', 'P(alive) at most', parseNumber('--max-p-alive'))
    .addOption(new Option('--preset <name>', 'a ready list: slipping = R or F score fell since the previous run, M or CLV in the top 40%').choices(['slipping']))
    .option('--contacts <file>', 'CSV or Parquet with customer_id and contact columns (email, name, …) to join')
    .option('--email-col <name>', 'the contacts\' email column, when it is not called email, mail, contact_email, courriel, …')
    .option('--suppress <file>', 'CSV or Parquet of customer ids or emails to leave out (unsubscribed, bounced)')
    .option('--limit <n>', 'at most N customers (a budget), the best by --order-by', parseInteger('--limit'))
    .addOption(new Option('--order-by <column>', 'what "best" means (default: clv)').choices(['clv', 'revenue', 'p_alive', 'recency_days']))
    .addOption(new Option('--format <format>', 'output format (default: from the --out extension, else csv)').choices(['csv', 'parquet', 'json']))
    .option('-o, --out <file>', 'output file (default: stdout)')
    .option('--no-excel-safe', "write CSV text as it is; by default text starting with = + - @ gets a leading ' so a spreadsheet shows it rather than runs it");
  addHistoryOptions(command);
  addEngineOptions(command);
  addCommonOptions(command);
  command.addHelpText('after', EXAMPLES);
  command.action(async (options: Record<string, any>) => {
    const settings = engineSettings(options);
    const filters: ExportFilters = {
      run: options.run,
      segments: options.segment ?? [],
      cells: options.cell ?? [],
      stages: options.stage ?? [],
      clusters: options.cluster ?? [],
      minClv: options.minClv,
      minPAlive: options.minPAlive,
      maxPAlive: options.maxPAlive,
      preset: options.preset,
      contacts: options.contacts,
      emailColumn: options.emailCol,
      suppress: options.suppress,
      limit: options.limit,
      orderBy: options.orderBy,
    };
    const out: string | undefined = options.out;
    const inputs = [
      ...(filters.contacts ? [{ file: filters.contacts, is: 'the contacts file given by --contacts' }] : []),
      ...(filters.suppress ? [{ file: filters.suppress, is: 'the suppression list given by --suppress' }] : []),
    ];
    if (out) await checkOutputFile(out, 'mailing.csv', [...(options.db ? historyFiles(options.db) : []), ...inputs]);
    const format: TableFormat = options.format ?? (out?.endsWith('.parquet') ? 'parquet' : out && /\.(json|ndjson|jsonl)$/.test(out) ? 'json' : 'csv');
    const counts = await exportJob({
      db: options.db,
      dbWait: options.dbWait,
      engine: options.engine,
      schema: options.schema,
      log: loggerFor(options),
      ...settings,
      filters,
      format,
      excelSafe: Boolean(options.excelSafe),
      out,
      refuseOut: async (recorded) => checkNotKept(out!, recordedRunFiles(recorded)),
    });
    // A log line, so it is JSON like the rest of stderr off a terminal.
    loggerFor(options).info(
      `crm export: run ${counts.run}: ${counts.matched} matched, ${counts.withoutContact} without contact, ${counts.noAddress} no address, ` +
        `${counts.suppressed} suppressed, ` +
        `${counts.cutByLimit} cut by the limit, ${counts.written} written${out ? ` to ${out}` : ''}`,
    );
  });
  return command;
}
