import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CrmError } from '../errors.js';
import { testPoint, testPointHandled } from '../testHooks.js';
import { onInterrupt } from './interrupt.js';
import { removeLeftByDeadProcesses } from './leftovers.js';

export { isAlive } from './leftovers.js';

/** What a publish writes before its first rename: the staged files, and the history run they belong to. */
export interface Journal {
  staging: string;
  files: string[];
  /** The run recorded with these files, and its history: a database file (relative to the output folder), or null for the engine's own schema. */
  run?: { id: number; db: string | null };
  /** Files the publish removes once the new ones are in place: those of the set it replaces that it does not write again. */
  remove?: string[];
}

/**
 * Publishes a set of output files so that a kill at any moment leaves either
 * the previous set or the new one. Files are written into a staging folder
 * inside the output folder (same file system, so rename is atomic); a journal
 * listing them is written (itself atomically) before the renames start: from
 * then on the publish is committed, and a command that finds the journal
 * finishes the renames (roll forward), so an interrupted publish never stays
 * half done. The journal goes once the history knows the run is published.
 */
export class OutputSet {
  /** The journal is written: the publish is committed, whatever happens to the renames. */
  committed = false;

  private constructor(
    readonly dir: string,
    readonly stagingDir: string,
    private readonly forget: () => void,
  ) {}

  static async begin(dir: string, runTag: string): Promise<OutputSet> {
    await mkdir(dir, { recursive: true });
    await recoverInterruptedPublish(dir);
    const stagingDir = path.join(dir, `.crm-staging-${runTag}`);
    await rm(stagingDir, { recursive: true, force: true });
    await mkdir(stagingDir, { recursive: true });
    // A run stopped by a signal before it publishes leaves nothing behind.
    return new OutputSet(dir, stagingDir, onInterrupt({ remove: stagingDir }));
  }

  get staging(): string {
    return path.basename(this.stagingDir);
  }

  /** Where to write `name` before it is published. */
  staged(name: string): string {
    return path.join(this.stagingDir, name);
  }

  /**
   * Commits the publish (the journal, naming `run`), then renames the files into place.
   * A rename that fails is tried once more: the old files being replaced cannot come
   * back, so the run finishes its own publish if it can, and else says who will.
   */
  async publish(names: readonly string[], run?: Journal['run'], remove: readonly string[] = []): Promise<void> {
    const journal: Journal = { staging: this.staging, files: [...names], ...(run ? { run } : {}), ...(remove.length ? { remove: [...remove] } : {}) };
    await writeFileAtomic(path.join(this.dir, JOURNAL), JSON.stringify(journal));
    this.committed = true;
    // From here a signal must not remove the staged files: the journal says they are published.
    this.forget();
    try {
      await rollForward(this.dir, journal, (i) => testPoint(`publish-rename:${i + 1}`));
    } catch {
      try {
        await rollForward(this.dir, journal, (i) => testPoint(`publish-retry:${i + 1}`));
      } catch (error) {
        const cause = (error as Error).message.split('\n')[0];
        throw new CrmError(`the new outputs could not all be moved into place in ${this.dir} (${cause}); the publish will be completed by the next crm command once that is fixed`, 1);
      }
    }
  }

  /** The history knows the run is published: the journal and the staging folder go. */
  async finish(): Promise<void> {
    await removeJournal(this.dir);
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  async abandon(): Promise<void> {
    this.forget();
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}

const JOURNAL = '.crm-publish.json';

/** The journal of a publish that was cut short in `dir`, or null. */
export async function readJournal(dir: string): Promise<Journal | null> {
  try {
    return JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8')) as Journal;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export const removeJournal = (dir: string) => rm(path.join(dir, JOURNAL), { force: true });

/** Renames the journal's staged files into place, those not moved yet, then removes the old files it lists. */
export async function rollForward(dir: string, journal: Journal, beforeRename = (_i: number) => {}): Promise<void> {
  for (const [i, name] of journal.files.entries()) {
    beforeRename(i);
    try {
      await rename(path.join(dir, journal.staging, name), path.join(dir, name));
    } catch (error) {
      // Already moved by the interrupted run: nothing left to do for this file.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  for (const name of journal.remove ?? []) await rm(path.join(dir, name), { force: true });
  await rm(path.join(dir, journal.staging), { recursive: true, force: true });
}

const STAGING = /^\.crm-staging-(\d+)-/;

/**
 * Finishes the files of a publish that was cut short (roll forward from the
 * journal), and removes staging folders left by runs that died before
 * publishing: their files never replaced anything, so the previous outputs
 * stand. A journal that names a history run stays, and is returned, until
 * that history marks the run published (stages/history/publish.ts).
 */
export async function recoverInterruptedPublish(dir: string): Promise<Journal | null> {
  const journal = await readJournal(dir);
  if (journal) {
    await rollForward(dir, journal);
    if (!journal.run) await removeJournal(dir);
  }
  await removeLeftByDeadProcesses(dir, (entry) => STAGING.exec(entry)?.[1]);
  return journal;
}

/**
 * A temp file's name beside `target`, for writing it before the rename. Short
 * and of fixed length: the target's own name may already be near the 255
 * bytes a file name can have.
 */
export const tempPathBeside = (target: string) => path.join(path.dirname(target), `.crm-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);

/** Removes the temp files (and export's temp folders, `….tmpXXXXXX`) that processes now gone left in `dir`. */
export const removeDeadTempFiles = (dir: string) => removeLeftByDeadProcesses(dir, (entry) => /^\.crm-(\d+)-[0-9a-f]{8}\.tmp/.exec(entry)?.[1]);

/**
 * Write to a temp file beside the target (its folder created if need be), then
 * rename over it. A signal removes the temp file; one a killed process left
 * there goes when the next write there begins.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathBeside(target);
  await mkdir(path.dirname(target), { recursive: true });
  await removeDeadTempFiles(path.dirname(target));
  const forget = onInterrupt({ remove: temp });
  try {
    await writeFile(temp, data);
    await testPointHandled('temp-written');
    await rename(temp, target);
  } catch (error) {
    // A failed write or rename leaves no temp file behind.
    await rm(temp, { force: true });
    throw error;
  } finally {
    forget();
  }
}
