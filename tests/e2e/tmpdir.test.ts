/**
 * DuckDB spills to a folder crm makes under the system's temporary folder
 * (TMPDIR). One that cannot hold it was an internal error ("crm: ENOENT: no
 * such file or directory, mkdtemp …", run with --debug); it is a usage error
 * (exit 2) that names the folder and what to do, said before any data is read.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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
