import { createHash } from 'node:crypto';
import { open, readdir, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, HistoryLayout } from '../Engine.js';
import { onInterrupt } from '../../io/interrupt.js';
import { testPoint } from '../../testHooks.js';

/*
 * Pruned scores free their blocks in the history file (whole row groups, once
 * checkpointed), and later runs reuse them, but DuckDB never shrinks the file:
 * neither CHECKPOINT nor VACUUM gives the space back. A copy of the database
 * into a fresh file does. It is made only when much of the file is free (a
 * smaller --keep-runs, or the first run with the default on a long history),
 * so that a nightly run, which frees about one run and fills it again, does
 * not rewrite the whole history every night.
 */

/** Blocks of the attached history file, and how many are free (pruned scores' whole row groups, once checkpointed). */
const HISTORY_BLOCKS_SQL = `
SELECT total_blocks::BIGINT AS total, free_blocks::BIGINT AS free FROM pragma_database_size() WHERE database_name = 'history'`;

/** Copies every table and view of the history into `target`, an attached empty database (DuckDB writes it afresh, without free blocks). */
const copyHistorySql = (target: string) => `COPY FROM DATABASE history TO ${target}`;

/** Share of the file's blocks that, free, makes the history worth rewriting. */
export const REWRITE_WHEN_FREE = 0.25;

/**
 * Free share of the file above which the history is rewritten, after a run
 * that pruned `prunedRuns` runs' scores from a history that now keeps
 * `keptRuns`. A nightly run prunes one run and the next fills its space
 * again: a quarter free, as before. A run that pruned more (a lowered
 * --keep-runs, or the default 90 meeting a history of 100 runs, a tenth of
 * the file) gives back anything beyond what one night refills, about
 * 1/(keptRuns + 1) of the file; under a flat quarter, 100 runs pruned to 90
 * left the file as large as before. (Free space alone cannot tell the two
 * apart: DuckDB frees space by whole row groups of up to 122,880 scores, so
 * on a history of small runs one night's pruning can free a tenth of the file.)
 */
export function rewriteWhenFree(keptRuns: number, prunedRuns: number): number {
  return prunedRuns > 1 ? Math.min(REWRITE_WHEN_FREE, 1 / (keptRuns + 1)) : REWRITE_WHEN_FREE;
}

/**
 * The fresh copy, beside the database (same file system, so the rename is
 * atomic). Its name is short and of a fixed length whatever the database's
 * (a name near the 255-byte limit plus a suffix would be too long): a hash of
 * the database's name, so copies of other databases in the folder are left
 * alone, and the process that writes it.
 */
const rewritePrefix = (file: string) => `.crm-rewrite-${createHash('sha256').update(path.basename(file)).digest('hex').slice(0, 8)}-`;
const rewritePath = (file: string) => path.join(path.dirname(file), `${rewritePrefix(file)}${String(process.pid).padStart(7, '0')}.tmp`);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the copies (and their WAL) that a rewrite killed before its rename
 * left beside `dbPath`. Called with the database attached for writing: a
 * rewrite holds that lock from its copy to its rename, so any copy found now
 * is abandoned, whether or not its process still lives.
 */
export async function removeAbandonedRewrites(dbPath: string): Promise<void> {
  const file = await realpath(dbPath);
  // Also the name earlier versions gave the copy, .<db name>.rewrite-<pid>.tmp, which a kill left behind.
  const earlier = `\\.${escapeRegExp(path.basename(file))}\\.rewrite-`;
  const pattern = new RegExp(`^(${escapeRegExp(rewritePrefix(file))}|${earlier})\\d+\\.tmp(\\.wal)?$`);
  const dir = path.dirname(file);
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (pattern.test(entry)) await rm(path.join(dir, entry), { force: true });
  }
}

/** fsync: the copy's blocks, then the rename, reach the disk (a power cut then leaves one whole database or the other). */
async function syncToDisk(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Checkpoints the attached history at `dbPath` (so pruned scores' blocks are
 * free) and, when more than rewriteWhenFree of it is free, replaces the file
 * by a fresh copy. The history stays attached, and so locked, throughout: no
 * other process can write to the old file between the copy and the rename,
 * and one waiting for it opens the new file. A kill before the rename leaves
 * the old database whole (the next run removes the copy); after it, the new
 * one. Call it with no run pending (stages/history/publish.ts): the copy is of
 * published runs only. The runs kept are counted by the history's `layout`. Returns the file's size before and after, or null when
 * it was not rewritten.
 */
export async function giveBackPrunedSpace(
  engine: Engine,
  dbPath: string,
  { qualifier, prunedRuns, layout }: { qualifier: string; prunedRuns: number; layout: HistoryLayout },
): Promise<{ before: number; after: number } | null> {
  await engine.run('CHECKPOINT history');
  const blocks = (await engine.one<{ total: number; free: number }>(HISTORY_BLOCKS_SQL))!;
  const { kept } = (await engine.one<{ kept: number }>(layout.overview(qualifier, engine.dialect)))!;
  if (blocks.total === 0 || blocks.free / blocks.total <= rewriteWhenFree(Number(kept), prunedRuns)) return null;
  // A --db that is a symbolic link: the file it points to is replaced, beside itself, and the link stays.
  const file = await realpath(dbPath);
  const before = (await stat(file)).size;
  const copy = rewritePath(file);
  const forget = [onInterrupt({ remove: copy }), onInterrupt({ remove: `${copy}.wal` })];
  try {
    await rm(copy, { force: true });
    await engine.run(`ATTACH ${engine.dialect.quoteString(copy)} AS history_copy (TYPE duckdb)`);
    try {
      await engine.run(copyHistorySql('history_copy'));
    } finally {
      // Detaching checkpoints the copy: its file is then whole, without a WAL.
      await engine.run('DETACH history_copy');
    }
    await syncToDisk(copy);
    testPoint('history-rewrite:before-rename');
    await rename(copy, file);
    await syncToDisk(path.dirname(file));
  } catch (error) {
    await rm(copy, { force: true });
    await rm(`${copy}.wal`, { force: true });
    throw error;
  } finally {
    for (const f of forget) f();
  }
  return { before, after: (await stat(file)).size };
}
