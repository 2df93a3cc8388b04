import path from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../errors.js';
import { isSameFile } from '../io/paths.js';
import type { TableFormat } from '../io/writers.js';
import type { ExportFilters } from '../jobs/exportSelection.js';
import { addCommonOptions, addEngineOptions, addHistoryOptions, checkNotKept, checkOutputFile, collect, engineSettings, historyFiles, loggerFor, parseInteger, parseNumber, recordedRunFiles, type KeptFile } from './context.js';
import { exportJob, partName, partsOf } from '../jobs/export.js';

const EXAMPLES = `
Examples:
  # Tomorrow's mailing: the 5,000 Champions with the highest CLV, with contact details, minus unsubscribes
  $ crm export --db out/crm.duckdb --segment Champions --contacts contacts.csv --suppress unsubscribed.csv \\
      --limit 5000 --order-by clv --out mailing.csv

  # Best recency and frequency whatever the value, as Parquet
  $ crm export --db out/crm.duckdb --cell '[45][45]?' --out top.parquet

  # Customers slipping since the previous run while their value is high
  $ crm export --db out/crm.duckdb --preset slipping --contacts contacts.parquet > call-list.csv

  # For Klaviyo: email first under its header, chosen columns, files of at most 50 MB (klaviyo-001.csv, …)
  $ crm export --db out/crm.duckdb --segment Champions --contacts contacts.csv \\
      --columns email,first_name,last_name,rfm_segment,clv --rename email=Email,first_name="First Name",last_name="Last Name" \\
      --split-mb 50 --out klaviyo.csv

Counts (matched, without contact, no address, suppressed, cut by the limit, written) go to stderr
and add up: each customer counted once, under the first that applies; rows to --out or stdout.
A contact whose email is empty or not name@domain is "no address" and never written.
Filters combine with AND; a repeated filter is an OR of its values.
Columns without --columns: the email (with --contacts), customer_id, the other contact columns, then
rfm_segment, lifecycle_stage, clv, p_alive, orders, revenue, last_purchase; --columns all: every score column.`;

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
    .option('--columns <names>', 'the columns, in order, by name: contact columns and score columns, comma list or repeated (all: every one)', collect)
    .option('--rename <old=new>', 'write a column under another header, comma list or repeated: clv=predicted_value', collect)
    .option('--split-rows <n>', 'at most N customers a file: mailing-001.csv, mailing-002.csv, … after --out, each with the header', parseInteger('--split-rows'))
    .option('--split-mb <mb>', 'at most N MB (1,000,000 bytes) a file, header included: 50 for Klaviyo', parseNumber('--split-mb'))
    .option('--bom', 'start the CSV with a UTF-8 byte order mark, so that Excel reads accented names right')
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
    const format: TableFormat = options.format ?? (out?.endsWith('.parquet') ? 'parquet' : out && /\.(json|ndjson|jsonl)$/.test(out) ? 'json' : 'csv');
    const split = splitLimits(options, out, format);
    if (options.bom && format !== 'csv') throw new UsageError(`--bom is for CSV (Excel reads a CSV as UTF-8 with it); ${format === 'json' ? 'NDJSON' : 'Parquet'} has none`);
    const kept = [...(options.db ? historyFiles(options.db) : []), ...inputs];
    if (out) await checkOutputFile(out, 'mailing.csv', kept);
    if (out && split) await checkPartsNotKept(out, kept);
    const { counts, files } = await exportJob({
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
      columns: { columns: options.columns, renames: options.rename },
      bom: Boolean(options.bom),
      split,
      refuseOut: async (recorded) => {
        await checkNotKept(out!, recordedRunFiles(recorded));
        if (split) await checkPartsNotKept(out!, recordedRunFiles(recorded));
      },
    });
    // Log lines, so they are JSON like the rest of stderr off a terminal; with parts, one a file, then the total.
    const log = loggerFor(options);
    if (split) for (const [i, f] of files.entries()) log.info({ file: f.file, customers: f.rows }, `crm export: part ${i + 1} of ${files.length}: ${f.rows} written to ${f.file}`);
    const where = !out ? '' : split ? ` to ${files.length} ${files.length === 1 ? 'file' : 'files'} (${files.map((f) => path.basename(f.file)).join(', ')})` : ` to ${out}`;
    log.info(
      `crm export: run ${counts.run}: ${counts.matched} matched, ${counts.withoutContact} without contact, ${counts.noAddress} no address, ` +
        `${counts.suppressed} suppressed, ` +
        `${counts.cutByLimit} cut by the limit, ${counts.written} written${where}`,
    );
  });
  return command;
}

/** --split-rows and --split-mb as the parts' limits; usage errors for what cannot be split. */
function splitLimits(options: { splitRows?: number; splitMb?: number }, out: string | undefined, format: TableFormat): { rows?: number; bytes?: number } | undefined {
  const { splitRows, splitMb } = options;
  if (splitRows === undefined && splitMb === undefined) return undefined;
  const flag = splitRows !== undefined ? '--split-rows' : '--split-mb';
  if (splitRows !== undefined && splitRows < 1) throw new UsageError(`--split-rows must be 1 or more, got ${splitRows}`);
  if (splitMb !== undefined && !(splitMb > 0)) throw new UsageError(`--split-mb must be more than 0, got ${splitMb}`);
  if (!out) throw new UsageError(`${flag} needs --out: the parts are files named after it (--out mailing.csv writes ${partName('mailing.csv', 1)}, ${partName('mailing.csv', 2)}, …), not stdout`);
  if (format === 'parquet') throw new UsageError(`${flag} is for CSV and NDJSON uploads; write Parquet as one file`);
  return { ...(splitRows !== undefined ? { rows: splitRows } : {}), ...(splitMb !== undefined ? { bytes: Math.floor(splitMb * 1e6) } : {}) };
}

/** The parts of `out` (mailing-001.csv, …) may not be, or replace, a file the command must keep. */
async function checkPartsNotKept(out: string, kept: readonly KeptFile[]): Promise<void> {
  for (const { file, is } of kept) {
    if (partsOf(out, [path.basename(file)]).length && (await isSameFile(path.dirname(file), path.dirname(out)))) {
      throw new UsageError(`--out ${out} in parts would write over ${file}, ${is}: give another file name`);
    }
  }
}
