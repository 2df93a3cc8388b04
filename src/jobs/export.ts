import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Engine, QueryEngine } from '../engine/Engine.js';
import { removeDeadTempFiles, tempPathBeside } from '../io/atomic.js';
import { onInterrupt } from '../io/interrupt.js';
import { ownerOnThisMachine, removeLeftByDeadProcesses, thisMachine } from '../io/leftovers.js';
import { excelSafeSql, type TableFormat } from '../io/writers.js';
import { buildExport, type ExportCounts, type ExportFilters } from '../pipeline/export.js';
import { recordedRunPaths } from '../pipeline/runs.js';
import { testPoint } from '../testHooks.js';
import { withHistory, type HistoryJobOptions, type RefuseOut } from './history.js';

/**
 * crm export: the customers of a run that pass the filters, with their
 * contacts, written to `out` (or stdout) in `format`; returns the counts.
 */
export async function exportJob(
  options: HistoryJobOptions & { filters: ExportFilters; format: TableFormat; excelSafe: boolean; out?: string; refuseOut?: RefuseOut },
): Promise<ExportCounts> {
  const { out, format } = options;
  return withHistory(options, async (engine, history) => {
    if (out && options.refuseOut) await options.refuseOut(await recordedRunPaths(engine, history));
    const { counts, columns, warnings } = await buildExport(engine, history, options.filters);
    for (const warning of warnings) options.log.warn(warning);
    const select = `SELECT ${(await exportColumnsSql(engine, columns, format === 'csv' && options.excelSafe)).join(', ')} FROM export_rows ORDER BY export_rank`;
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
    testPoint('export-writing');
    try {
      await engine.writeQuery(select, format, temp, { crlf: true });
      if (out) await rename(temp, out);
      else await copyToStdout(temp);
    } finally {
      await rm(scratch, { recursive: true, force: true });
      forget();
    }
    return counts;
  });
}

/** The export's columns in order; with `excelSafe`, text columns (ids, labels, contact fields) as excel-safe text. */
async function exportColumnsSql(engine: QueryEngine & { textColumns(table: string): Promise<string[]> }, columns: readonly string[], excelSafe: boolean): Promise<string[]> {
  const q = engine.dialect.quoteIdentifier;
  const text = new Set(excelSafe ? await engine.textColumns('export_rows') : []);
  return columns.map((c) => (text.has(c) ? `${excelSafeSql(engine.dialect)(q(c))} AS ${q(c)}` : q(c)));
}

/** Copies a file to stdout; a reader that stops early (`| head`) ends the copy quietly. */
async function copyToStdout(file: string): Promise<void> {
  try {
    await pipeline(createReadStream(file), process.stdout, { end: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}
