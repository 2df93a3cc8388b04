import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The longest file name (one path component, in bytes) Linux file systems take. */
export const NAME_MAX = 255;

const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');

/** The absolute path with symlinks resolved as far as it exists; the part not made yet is appended as given. */
export async function canonicalPath(file: string): Promise<string> {
  let existing = path.resolve(file);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(await realpath(existing), ...rest);
    } catch (error) {
      const parent = path.dirname(existing);
      if (!missing(error) || parent === existing) return path.resolve(file);
      rest.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Whether two paths name the same file: the same device and inode where both
 * exist (a symlink or hard link is caught), else the same canonical path.
 */
export async function isSameFile(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a).catch(() => null), stat(b).catch(() => null)]);
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino;
  if (sa || sb) return false;
  return (await canonicalPath(a)) === (await canonicalPath(b));
}

const REFUSALS: Record<string, string> = {
  EROFS: 'is on a read-only file system',
  EACCES: 'is not writable (permission denied)',
  // Root is refused a write only by an immutable folder (chattr +i).
  EPERM: 'is not writable (operation not permitted)',
};

/**
 * Why files cannot be made in `folder` (made first, with its parents, if need
 * be), or null when they can. Asked before the work rather than found after
 * it; access(2) answers for root too on a read-only or immutable folder.
 */
export async function whyNotWritableFolder(folder: string): Promise<string | null> {
  let at = path.resolve(folder);
  for (;;) {
    let found;
    try {
      found = await stat(at);
    } catch (error) {
      if (!missing(error)) return `${at} cannot be reached (${(error as NodeJS.ErrnoException).code})`;
    }
    if (found && !found.isDirectory()) return `${at} is a file, not a folder`;
    if (found) break;
    const parent = path.dirname(at);
    if (parent === at) return `${at} does not exist`;
    at = parent;
  }
  try {
    await access(at, constants.W_OK | constants.X_OK);
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    return `${at} ${REFUSALS[code] ?? `cannot be written (${code})`}`;
  }
}

/** Why `file` cannot be written (its folder made if need be), or null when it can. */
export async function whyNotWritableFile(file: string): Promise<string | null> {
  const bytes = Buffer.byteLength(path.basename(file));
  if (bytes > NAME_MAX) return `the file name is ${bytes} bytes long; a file name can have at most ${NAME_MAX}`;
  return whyNotWritableFolder(path.dirname(file));
}
