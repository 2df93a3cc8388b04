import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
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

export async function recoverInterruptedPublish(dir: string): Promise<boolean> {
  let journal: { staging: string; files: string[] };
  try {
    journal = JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'));
  } catch {
    return false;
  }
  await rollForward(dir, journal.staging, journal.files);
  await rm(path.join(dir, JOURNAL), { force: true });
  await rm(path.join(dir, journal.staging), { recursive: true, force: true });
  return true;
}

/** Write to a temp file beside the target, then rename over it. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  await writeFile(temp, data);
  await rename(temp, target);
}
