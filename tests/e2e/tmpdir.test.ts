/**
 * DuckDB spills to a folder crm makes under the system's temporary folder
 * (TMPDIR). One that cannot hold it was an internal error ("crm: ENOENT: no
 * such file or directory, mkdtemp …", run with --debug); it is a usage error
 * (exit 2) that names the folder and what to do, said before any data is read.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, lastMessage, runCli, tempDir } from '../helpers.js';

const COMMANDS = [
  ['score', CDNOW_CSV, '--no-db'],
  ['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30'],
];

describe('a temporary folder crm cannot use', () => {
  it('that does not exist (TMPDIR=/nonexistent) is a usage error naming it, before any data is read', async () => {
    expect(existsSync('/nonexistent')).toBe(false);
    const dir = await tempDir();
    for (const command of COMMANDS) {
      const out = path.join(dir, command[0]!);
      const result = await runCli([...command, '--out', out], { env: { TMPDIR: '/nonexistent' } });
      expect(result.code, command[0]).toBe(2);
      expect(lastMessage(result.stderr)).toBe(
        "cannot make DuckDB's spill folder in the temporary folder /nonexistent (TMPDIR): it does not exist; set TMPDIR (or --temp-dir) to a folder crm can write to",
      );
      // Nothing was read or written.
      expect(existsSync(out)).toBe(false);
    }
  });

  it('that cannot be written is a usage error naming it', async () => {
    // These tests run as root, which writes through permission bits (chmod 555 stops no one), and
    // mounting a read-only file system needs privileges a test should not use. No one, root
    // included, can make a folder inside a regular file: TMPDIR naming a file fails (ENOTDIR) as
    // a read-only folder does for anyone else.
    const dir = await tempDir();
    const file = path.join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    const result = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'out')], { env: { TMPDIR: file } });
    expect(result.code).toBe(2);
    expect(lastMessage(result.stderr)).toBe(`cannot make DuckDB's spill folder in the temporary folder ${file} (TMPDIR): it is not a folder; set TMPDIR (or --temp-dir) to a folder crm can write to`);
  });
});

describe('the advice to set TMPDIR or --temp-dir', { timeout: 120_000 }, () => {
  it('works on every command that reads the history: runs, migration, export and report take --temp-dir', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    for (const asOf of ['1997-09-30', '1998-06-30']) {
      const run = await runCli(['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--format', 'csv', '--no-kmeans', '-q']);
      expect(run.code, run.stderr).toBe(0);
    }
    const db = path.join(out, 'crm.duckdb');
    const spill = path.join(dir, 'spill');
    await mkdir(spill);
    const commands = [
      ['runs', '--db', db],
      ['migration', '--db', db],
      ['export', '--db', db, '--out', path.join(dir, 'mailing.csv')],
      ['report', '--db', db, '--out', path.join(dir, 'report.html')],
    ];
    for (const command of commands) {
      const failed = await runCli([...command, '-q'], { env: { TMPDIR: '/nonexistent' } });
      expect(failed.code, command[0]).toBe(2);
      expect(lastMessage(failed.stderr)).toBe(
        "cannot make DuckDB's spill folder in the temporary folder /nonexistent (TMPDIR): it does not exist; set TMPDIR (or --temp-dir) to a folder crm can write to",
      );
      // Following the advice: the same command with --temp-dir runs, and leaves its spill folder behind no more than it found.
      const advised = await runCli([...command, '--temp-dir', spill, '-q'], { env: { TMPDIR: '/nonexistent' } });
      expect(advised.code, `${command[0]}: ${advised.stderr}`).toBe(0);
      expect(await readdir(spill), command[0]).toEqual([]);
    }
  });

  it('--memory-limit on those commands is checked as on crm score (exit 2, naming the field)', async () => {
    const dir = await tempDir();
    const result = await runCli(['runs', '--db', path.join(dir, 'none.duckdb'), '--memory-limit', 'lots']);
    expect(result.code).toBe(2);
    expect(lastMessage(result.stderr)).toBe('invalid options: memoryLimit: expected a size such as 3GB, 512MB or 3GiB');
  });
});
