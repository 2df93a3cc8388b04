import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Publishes a set of output files so that a kill at any moment leaves either
 * the previous set or the new one. Files are written into a staging folder
 * inside the output folder (same file system, so rename is atomic); a journal
 * listing them is written (itself atomically) before the renames start, and
 * removed after. A run that finds a journal finishes the renames first
 * (roll forward), so an interrupted publish never stays half done.
 */
export class OutputSet {
  private constructor(
    readonly dir: string,
    readonly stagingDir: string,
  ) {}

  static async begin(dir: string, runTag: string): Promise<OutputSet> {
    await mkdir(dir, { recursive: true });
    await recoverInterruptedPublish(dir);
    const stagingDir = path.join(dir, `.crm-staging-${runTag}`);
    await rm(stagingDir, { recursive: true, force: true });
    await mkdir(stagingDir, { recursive: true });
    return new OutputSet(dir, stagingDir);
  }

  /** Where to write `name` before it is published. */
  staged(name: string): string {
    return path.join(this.stagingDir, name);
  }

  async publish(names: readonly string[]): Promise<void> {
    const journal = path.join(this.dir, JOURNAL);
    await writeFileAtomic(journal, JSON.stringify({ staging: path.basename(this.stagingDir), files: names }));
    await rollForward(this.dir, path.basename(this.stagingDir), names);
    await rm(journal, { force: true });
    await rm(this.stagingDir, { recursive: true, force: true });
  }

  async abandon(): Promise<void> {
    await rm(this.stagingDir, { recursive: true, force: true });
  }
}

const JOURNAL = '.crm-publish.json';

async function rollForward(dir: string, staging: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await rename(path.join(dir, staging, name), path.join(dir, name));
    } catch (error) {
      // Already moved by the interrupted run: nothing left to do for this file.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

const STAGING = /^\.crm-staging-(\d+)-/;

/** Whether a process with this id exists on this machine (one of another user counts: it cannot be signalled, but it lives). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Finishes a publish that was cut short (roll forward from the journal), and
 * removes staging folders left by runs that died before publishing: their
 * files never replaced anything, so the previous outputs stand.
 */
export async function recoverInterruptedPublish(dir: string): Promise<boolean> {
  let recovered = false;
  try {
    const journal: { staging: string; files: string[] } = JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'));
    await rollForward(dir, journal.staging, journal.files);
    await rm(path.join(dir, JOURNAL), { force: true });
    await rm(path.join(dir, journal.staging), { recursive: true, force: true });
    recovered = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const pid = STAGING.exec(entry)?.[1];
    // A live process may be staging into the same folder right now: leave its files alone.
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
      await rm(path.join(dir, entry), { recursive: true, force: true });
    }
  }
  return recovered;
}

/**
 * A temp file's name beside `target`, for writing it before the rename. Short
 * and of fixed length: the target's own name may already be near the 255
 * bytes a file name can have.
 */
export const tempPathBeside = (target: string) => path.join(path.dirname(target), `.crm-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);

/** Write to a temp file beside the target (its folder created if need be), then rename over it. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = tempPathBeside(target);
  await mkdir(path.dirname(target), { recursive: true });
  try {
    await writeFile(temp, data);
    await rename(temp, target);
  } catch (error) {
    // A failed write or rename leaves no temp file behind.
    await rm(temp, { force: true });
    throw error;
  }
}
