import { hostname } from 'node:os';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/*
 * What a killed process (SIGKILL, the out-of-memory killer) leaves behind:
 * staging folders, DuckDB spill folders, temp files beside an output. Each is
 * named after the process that made it, and the next command that works in
 * the same folder removes those of processes that are gone.
 */

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
 * This machine's name, as it goes in the names of folders made in the shared
 * temporary folder: containers sharing one see each other's process ids as dead.
 */
export const thisMachine = () => hostname().replace(/[^A-Za-z0-9.-]/g, '_');

/**
 * Removes the entries of `dir` whose process is gone: `owner` reads the
 * process id from an entry's name (undefined: not one of these). A live
 * process may be writing there right now, so its entries stay; one that cannot
 * be removed (another user's) stays too, as tidying must not stop a command.
 */
export async function removeLeftByDeadProcesses(dir: string, owner: (entry: string) => string | undefined): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const pid = owner(entry);
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
      await rm(path.join(dir, entry), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** The owner of a folder named `<prefix>-<machine>-<pid>-XXXXXX` (mkdtemp's suffix) made on this machine. */
export const ownerOnThisMachine =
  (prefix: string) =>
  (entry: string): string | undefined => {
    if (!entry.startsWith(`${prefix}-`)) return undefined;
    const match = /^(.*)-(\d+)-[A-Za-z0-9]{6}$/.exec(entry.slice(prefix.length + 1));
    return match && match[1] === thisMachine() ? match[2] : undefined;
  };
