/**
 * Paths as the CLI checks them before any work (src/io/paths.ts), and what a
 * killed process leaves behind (src/io/leftovers.ts), on real files, links and
 * processes in a temp folder.
 */
import { spawn } from 'node:child_process';
import { link, mkdir, readdir, realpath, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, ownerOnThisMachine, removeLeftByDeadProcesses, thisMachine } from '../../src/io/leftovers.js';
import { canonicalPath, isSameFile, NAME_MAX, whyNotWritableFile, whyNotWritableFolder } from '../../src/io/paths.js';
import { tempDir } from '../helpers.js';

/** A temp folder by its real path (the system's temp folder may itself be a link). */
const realTempDir = async () => realpath(await tempDir());

/** The id of a process that has exited (and was reaped), so no longer exists. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('canonicalPath', () => {
  it('resolves links in the part that exists and appends the rest as given', async () => {
    const dir = await realTempDir();
    await mkdir(path.join(dir, 'real'));
    await symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    expect(await canonicalPath(path.join(dir, 'link'))).toBe(path.join(dir, 'real'));
    expect(await canonicalPath(path.join(dir, 'link', 'out', 'scores.csv'))).toBe(path.join(dir, 'real', 'out', 'scores.csv'));
  });

  it('resolves a relative path against the working folder', async () => {
    expect(await canonicalPath('no-such-folder-here/x.csv')).toBe(path.join(await realpath(process.cwd()), 'no-such-folder-here', 'x.csv'));
  });

  it('goes on past a file in the middle of the path (ENOTDIR)', async () => {
    const dir = await realTempDir();
    await writeFile(path.join(dir, 'file'), 'x');
    await symlink(path.join(dir, 'file'), path.join(dir, 'alias'));
    expect(await canonicalPath(path.join(dir, 'alias', 'x'))).toBe(path.join(dir, 'file', 'x'));
  });

  it('gives the path resolved but as written, links left as they are, when a link loops', async () => {
    const dir = await realTempDir();
    await mkdir(path.join(dir, 'real'));
    await symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    await symlink(path.join(dir, 'real', 'loop'), path.join(dir, 'real', 'loop'));
    expect(await canonicalPath(path.join(dir, 'real', 'loop', 'x.csv'))).toBe(path.join(dir, 'real', 'loop', 'x.csv'));
    expect(await canonicalPath(path.join(dir, 'link', 'loop', 'x.csv'))).toBe(path.join(dir, 'link', 'loop', 'x.csv'));
  });
});

describe('isSameFile', () => {
  it('is true for a file and its hard link or symlink, false for another file with the same content', async () => {
    const dir = await realTempDir();
    const file = path.join(dir, 'tx.csv');
    await writeFile(file, 'same');
    await writeFile(path.join(dir, 'copy.csv'), 'same');
    await link(file, path.join(dir, 'hard.csv'));
    await symlink(file, path.join(dir, 'soft.csv'));
    expect(await isSameFile(file, path.join(dir, 'hard.csv'))).toBe(true);
    expect(await isSameFile(path.join(dir, 'soft.csv'), file)).toBe(true);
    expect(await isSameFile(file, path.join(dir, 'copy.csv'))).toBe(false);
  });

  it('is false when only one of the two exists, whichever', async () => {
    const dir = await realTempDir();
    await writeFile(path.join(dir, 'tx.csv'), 'x');
    expect(await isSameFile(path.join(dir, 'tx.csv'), path.join(dir, 'new.csv'))).toBe(false);
    expect(await isSameFile(path.join(dir, 'new.csv'), path.join(dir, 'tx.csv'))).toBe(false);
  });

  it('compares canonical paths when neither exists yet', async () => {
    const dir = await realTempDir();
    await mkdir(path.join(dir, 'out'));
    await symlink(path.join(dir, 'out'), path.join(dir, 'link'));
    expect(await isSameFile(path.join(dir, 'out', 'scores.csv'), path.join(dir, 'link', 'scores.csv'))).toBe(true);
    expect(await isSameFile(path.join(dir, 'out', 'scores.csv'), path.join(dir, 'out', 'other.csv'))).toBe(false);
  });
});

describe('whyNotWritableFolder', () => {
  it('is null for a writable folder, and for one still to be made under it', async () => {
    const dir = await realTempDir();
    expect(await whyNotWritableFolder(dir)).toBeNull();
    expect(await whyNotWritableFolder(path.join(dir, 'a', 'b', 'c'))).toBeNull();
  });

  it('names the file that stands where a folder must be', async () => {
    const dir = await realTempDir();
    await writeFile(path.join(dir, 'out'), 'a file');
    expect(await whyNotWritableFolder(path.join(dir, 'out'))).toBe(`${path.join(dir, 'out')} is a file, not a folder`);
    expect(await whyNotWritableFolder(path.join(dir, 'out', 'sub'))).toBe(`${path.join(dir, 'out')} is a file, not a folder`);
  });

  it('says a path that cannot be looked at cannot be reached, with the error code', async () => {
    const dir = await realTempDir();
    await symlink(path.join(dir, 'loop'), path.join(dir, 'loop'));
    expect(await whyNotWritableFolder(path.join(dir, 'loop', 'out'))).toBe(`${path.join(dir, 'loop', 'out')} cannot be reached (ELOOP)`);
  });
});

describe('whyNotWritableFile', () => {
  it('takes a name of NAME_MAX = 255 bytes and refuses 256, counted in bytes', async () => {
    const dir = await realTempDir();
    expect(NAME_MAX).toBe(255);
    expect(await whyNotWritableFile(path.join(dir, 'new', `${'a'.repeat(251)}.csv`))).toBeNull();
    expect(await whyNotWritableFile(path.join(dir, `${'a'.repeat(252)}.csv`))).toBe('the file name is 256 bytes long; a file name can have at most 255');
    // 126 two-byte letters and '.csv': 256 bytes in 130 characters.
    expect(await whyNotWritableFile(path.join(dir, `${'é'.repeat(126)}.csv`))).toBe('the file name is 256 bytes long; a file name can have at most 255');
  });

  it('asks about the file\'s folder', async () => {
    const dir = await realTempDir();
    await writeFile(path.join(dir, 'out'), 'a file');
    expect(await whyNotWritableFile(path.join(dir, 'out', 'scores.csv'))).toBe(`${path.join(dir, 'out')} is a file, not a folder`);
  });
});

describe('leftovers of killed processes', () => {
  it('isAlive: this process and init are, a reaped child is not', async () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(1)).toBe(true);
    expect(isAlive(await deadPid())).toBe(false);
  });

  it('thisMachine is the host name with anything but letters, digits, . and - made _', () => {
    expect(thisMachine()).toMatch(/^[A-Za-z0-9._-]+$/);
    expect(thisMachine().length).toBe(hostname().length);
    expect([...hostname()].filter((c, i) => c !== thisMachine()[i]).every((c) => !/[A-Za-z0-9.-]/.test(c))).toBe(true);
  });

  it('ownerOnThisMachine reads the process id of <prefix>-<machine>-<pid>-XXXXXX made here, and nothing else', () => {
    const owner = ownerOnThisMachine('crm-duckdb');
    const here = thisMachine();
    expect(owner(`crm-duckdb-${here}-4242-aB3xYz`)).toBe('4242');
    expect(owner(`crm-duckdb-other-host-4242-aB3xYz`)).toBeUndefined();
    expect(owner(`crm-duckdbx-${here}-4242-aB3xYz`)).toBeUndefined();
    expect(owner(`crm-spill-${here}-4242-aB3xYz`)).toBeUndefined();
    expect(owner(`crm-duckdb-${here}-4242-aB3xY`)).toBeUndefined();
    expect(owner(`crm-duckdb-${here}-4242-aB3xYz.tmp`)).toBeUndefined();
    expect(owner(`crm-duckdb-${here}-42a2-aB3xYz`)).toBeUndefined();
    expect(owner(`x-crm-duckdb-${here}-4242-aB3xYz`)).toBeUndefined();
    // Another prefix of the same length.
    expect(owner(`crm-sqlite-${here}-4242-aB3xYz`)).toBeUndefined();
  });

  it('removeLeftByDeadProcesses removes the entries of dead processes only, folders with their content', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    const owner = (entry: string) => /^left-(\d+)$/.exec(entry)?.[1];
    await mkdir(path.join(dir, `left-${dead}`, 'inner'), { recursive: true });
    await writeFile(path.join(dir, `left-${dead}`, 'inner', 'part.csv'), 'x');
    await writeFile(path.join(dir, `left-${process.pid}`), 'mine');
    await writeFile(path.join(dir, 'left-1'), 'init');
    await writeFile(path.join(dir, `other-${dead}`), 'not one of these');
    await removeLeftByDeadProcesses(dir, owner);
    expect((await readdir(dir)).sort()).toEqual(['left-1', `left-${process.pid}`, `other-${dead}`].sort());
  });

  it('removeLeftByDeadProcesses does nothing, and does not fail, on a folder that is not there', async () => {
    const dir = await tempDir();
    await expect(removeLeftByDeadProcesses(path.join(dir, 'missing'), () => '1')).resolves.toBeUndefined();
  });
});
