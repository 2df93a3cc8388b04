/**
 * A rename of the publish that fails after the journal is written (a full
 * disk, a folder where a file should go). The journal commits the new set:
 * the old files being replaced cannot come back. So the run tries the renames
 * once more; if they still fail it exits 1 saying why and that the next crm
 * command completes the publish once that is fixed, which it then does. Real
 * CLI processes, real DuckDB, temp folders; the failure by the test hook
 * (src/testHooks.ts) or by a real folder in the way.
 */
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, fileHashes, oldRunAndNext, lastMessage, listedRunIds, runCli, sha256, tempDir } from '../helpers.js';

const TABLES = ['customers.csv', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];
const score = (out: string, asOf: string) => ['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--format', 'csv', '-q'];
const hashes = (dir: string) => fileHashes(dir, TABLES);
const hidden = async (dir: string) => (await readdir(dir)).filter((f) => f.startsWith('.'));
const asOfIn = async (dir: string): Promise<string> => JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')).run.asOf;

describe('a rename of the publish that fails after the journal is written', { timeout: 120_000 }, () => {
  let dir: string;
  /** One run as of 1997-09-30; the reference: a second run as of 1998-06-30 over it. */
  let old: string;
  let ref: string;

  beforeAll(async () => {
    dir = await tempDir();
    ({ old, ref } = await oldRunAndNext(dir, score));
  });

  it('once: the run tries again, publishes, exits 0, and is listed', async () => {
    const out = path.join(dir, 'once');
    await cp(old, out, { recursive: true });
    const run = await runCli(score(out, '1998-06-30'), { env: { CRM_TEST_FAIL_AT: 'publish-rename:2' } });
    expect(run.code, run.stderr).toBe(0);
    expect(await hashes(out)).toEqual(await hashes(ref));
    expect(await asOfIn(out)).toBe('1998-06-30');
    expect(await hidden(out)).toEqual([]);
    expect(await listedRunIds(out)).toEqual([1, 2]);
  });

  it('for good: exit 1 naming the cause and who completes the publish; the next command does, once the cause is gone', async () => {
    const out = path.join(dir, 'stuck');
    await cp(old, out, { recursive: true });
    // A folder where deciles.csv should go: no rename can replace it, however often tried.
    await rm(path.join(out, 'deciles.csv'));
    await mkdir(path.join(out, 'deciles.csv'));
    await writeFile(path.join(out, 'deciles.csv', 'notes.txt'), 'mine\n');
    const run = await runCli(score(out, '1998-06-30'));
    expect(run.code, run.stderr).toBe(1);
    expect(lastMessage(run.stderr)).toMatch(
      new RegExp(`^the new outputs could not all be moved into place in ${out} \\(EISDIR: illegal operation on a directory, rename '[^']+' -> '${out}/deciles\\.csv'\\); the publish will be completed by the next crm command once that is fixed$`),
    );
    // Files before deciles.csv are the new run's already: the old set cannot come back.
    expect(await sha256(path.join(out, 'customers.csv'))).toBe(await sha256(path.join(ref, 'customers.csv')));

    await rm(path.join(out, 'deciles.csv'), { recursive: true });
    expect(await listedRunIds(out)).toEqual([1, 2]);
    expect(await hashes(out)).toEqual(await hashes(ref));
    expect(await asOfIn(out)).toBe('1998-06-30');
    expect(await hidden(out)).toEqual([]);
  });
});
