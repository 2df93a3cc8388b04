import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Engine, QueryEngine } from '../engine/Engine.js';
import { CrmError, UsageError } from '../errors.js';
import { OutputSet, recoverInterruptedPublish, removeDeadTempFiles, tempPathBeside } from '../io/atomic.js';
import { onInterrupt } from '../io/interrupt.js';
import { ownerOnThisMachine, removeLeftByDeadProcesses, thisMachine } from '../io/leftovers.js';
import { RecordTooLargeError, writeParts, type PartLimits } from '../io/parts.js';
import { excelSafeSql, type TableFormat } from '../io/writers.js';
import { buildExport, type ExportCounts, type ExportFilters } from './exportSelection.js';
import type { ColumnChoice, ExportColumn } from './exportColumns.js';
import { recordedRunPaths } from '../stages/history/runs.js';
import { testPointHandled } from '../testHooks.js';
import { withHistory, type HistoryJobOptions, type RefuseOut } from './history.js';

/** How an export is written: format, columns, and for mailing tools a BOM and parts of a bounded size. */
export interface ExportOutput {
  format: TableFormat;
  excelSafe: boolean;
  /** The file, or the name its parts are numbered after (mailing.csv: mailing-001.csv, …); stdout without. */
  out?: string;
  columns?: ColumnChoice;
  /** A UTF-8 BOM before a CSV's header (Excel). */
  bom?: boolean;
  /** Parts of at most so many customers or bytes, each with the header (needs `out`; CSV or NDJSON). */
  split?: PartLimits;
  refuseOut?: RefuseOut;
}

/** A file the export wrote, and how many customers are in it. */
export interface WrittenFile {
  file: string;
  rows: number;
}

/**
 * crm export: the customers of a run that pass the filters, with their
 * contacts, written to `out` (or stdout) in `format`, or in parts beside it;
 * returns the counts and the files written.
 */
export async function exportJob(options: HistoryJobOptions & ExportOutput & { filters: ExportFilters }): Promise<{ counts: ExportCounts; files: WrittenFile[] }> {
  const { out, format } = options;
  if (options.split && !out) throw new Error('split export without --out');
  return withHistory(options, async (engine, history) => {
    if (out && options.refuseOut) await options.refuseOut(await recordedRunPaths(engine, history));
    const { counts, columns, warnings } = await buildExport(engine, history, options.filters, options.columns);
    for (const warning of warnings) options.log.warn(warning);
    const select = `SELECT ${(await exportColumnsSql(engine, columns, format === 'csv' && options.excelSafe)).join(', ')} FROM export_rows ORDER BY export_rank`;
    if (options.split) return { counts, files: await writeInParts(engine, select, options as ExportOutput & { out: string; split: PartLimits }) };
    // Written to a temp file, then renamed into place (--out) or copied to stdout:
    // DuckDB opening /dev/stdout itself would truncate or overwrite a redirected file.
    // The temp file sits in a folder of its own, the one thing a signal removes: DuckDB may
    // create the file after the removal starts, but not in a folder that is gone.
    // Named after the process (and, in the shared temporary folder, the machine), so that
    // one a killed export left goes when the next export runs there.
    if (out) await mkdir(path.dirname(out), { recursive: true });
    if (out) await removeDeadTempFiles(path.dirname(out));
    await removeLeftByDeadProcesses(tmpdir(), ownerOnThisMachine('crm-export'));
    const scratch = await mkdtemp(out ? tempPathBeside(out) : path.join(tmpdir(), `crm-export-${thisMachine()}-${process.pid}-`));
    const temp = path.join(scratch, 'export');
    const forget = onInterrupt({ remove: scratch });
    await testPointHandled('export-writing');
    try {
      await engine.writeQuery(select, format, temp, { crlf: true });
      let written = temp;
      if (options.bom) {
        written = path.join(scratch, 'with-bom');
        await writeParts(temp, () => written, { csv: true, bom: true });
      }
      if (out) await rename(written, out);
      else await copyToStdout(written);
    } finally {
      await rm(scratch, { recursive: true, force: true });
      forget();
    }
    return { counts, files: out ? [{ file: out, rows: counts.written }] : [] };
  });
}

/** mailing.csv's parts: mailing-001.csv, mailing-002.csv, … (wider past 999). */
export const partName = (out: string, part: number) => {
  const ext = path.extname(out);
  return `${path.basename(out, ext)}-${String(part).padStart(3, '0')}${ext}`;
};

/** The names in `names` that are parts of `out` (mailing-001.csv, … of mailing.csv). */
export const partsOf = (out: string, names: readonly string[]) => {
  const ext = path.extname(out);
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${escape(path.basename(out, ext))}-\\d{3,}${escape(ext)}$`);
  return names.filter((name) => pattern.test(name));
};

/**
 * The export cut into parts beside `out`, published as one set (OutputSet):
 * a kill leaves the previous set or this one, never a mix; parts an earlier,
 * longer export left beyond this one's go in the same publish.
 */
async function writeInParts(engine: Engine, select: string, options: ExportOutput & { out: string; split: PartLimits }): Promise<WrittenFile[]> {
  const { out, format } = options;
  const dir = path.dirname(out);
  await mkdir(dir, { recursive: true });
  // A crm score publish cut short there, that its history has not settled yet: its journal must stay.
  const pending = await recoverInterruptedPublish(dir);
  if (pending?.run) throw new CrmError(`${dir} holds an unfinished crm score publish (run ${pending.run.id}): run crm runs on that run's history to finish it, then export again`, 1);
  const set = await OutputSet.begin(dir, `${process.pid}-export-${randomBytes(4).toString('hex')}`);
  try {
    await testPointHandled('export-writing');
    const whole = set.staged('.export');
    await engine.writeQuery(select, format, whole, { crlf: true });
    let rows: number[];
    try {
      rows = await writeParts(whole, (part) => set.staged(partName(out, part)), { csv: format === 'csv', bom: options.bom, limits: options.split });
    } catch (error) {
      if (error instanceof RecordTooLargeError) {
        throw new UsageError(`--split-mb ${options.split.bytes! / 1e6}: one customer's row takes ${error.bytes} bytes with the header, more than a part may hold`);
      }
      throw error;
    }
    await rm(whole);
    const names = rows.map((_, i) => partName(out, i + 1));
    const stale = partsOf(out, await readdir(dir)).filter((name) => !names.includes(name));
    await testPointHandled('export-parts-written');
    await set.publish(names, undefined, stale);
    await set.finish();
    return names.map((name, i) => ({ file: path.join(dir, name), rows: rows[i]! }));
  } catch (error) {
    if (!set.committed) await set.abandon();
    throw error;
  }
}

/** The export's columns in order, under their headers; with `excelSafe`, text columns (ids, labels, contact fields) as excel-safe text. */
async function exportColumnsSql(engine: QueryEngine & { textColumns(table: string): Promise<string[]> }, columns: readonly ExportColumn[], excelSafe: boolean): Promise<string[]> {
  const q = engine.dialect.quoteIdentifier;
  const text = new Set(excelSafe ? await engine.textColumns('export_rows') : []);
  return columns.map((c) => `${text.has(c.name) ? excelSafeSql(engine.dialect)(q(c.name)) : q(c.name)} AS ${q(c.header)}`);
}

/** Copies a file to stdout; a reader that stops early (`| head`) ends the copy quietly. */
async function copyToStdout(file: string): Promise<void> {
  try {
    await pipeline(createReadStream(file), process.stdout, { end: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}
