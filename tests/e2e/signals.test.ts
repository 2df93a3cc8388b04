/**
 * SIGTERM, SIGINT and SIGHUP end a run cleanly: exit 128 + the signal's
 * number, one log line, no staging or spill folder left, the previous outputs
 * and history as they were. A signal during the publish lets it finish. The
 * signal is sent at an exact point by the test hook (src/testHooks.ts), not
 * after a guessed delay. Real CLI processes, real DuckDB, temp folders.
 */
import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, fileHashes, oldRunAndNext, listedRunIds, runCli, tempDir } from '../helpers.js';

const FILES = ['customers.csv', 'customers.parquet', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];
const score = (out: string, asOf: string) => ['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--format', 'csv', '--format', 'parquet', '-q'];

describe('a run stopped by a signal', { timeout: 120_000 }, () => {
  let dir: string;
  let old: string;
  let ref: string;

  beforeAll(async () => {
    dir = await tempDir();
    ({ old, ref } = await oldRunAndNext(dir, score));
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
    ['SIGHUP', 129],
  ])('%s while it writes its outputs: exit %i, one log line, no staging or spill folder, the previous outputs intact', async (signal, code) => {
    const out = path.join(dir, signal);
    const tmp = path.join(dir, `${signal}-tmp`);
    await cp(old, out, { recursive: true });
    await mkdir(tmp);
    const run = await runCli(score(out, '1998-06-30'), { env: { CRM_TEST_KILL_AT: 'outputs-staging', CRM_TEST_SIGNAL: signal, TMPDIR: tmp } });
    expect(run.signal).toBe(null);
    expect(run.code, run.stderr).toBe(code);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 50, signal, exitCode: code, msg: `stopped by ${signal}; its temporary files were removed` });
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
    expect(await fileHashes(out, [...FILES, 'summary.json'])).toEqual(await fileHashes(old, [...FILES, 'summary.json']));
    expect(await listedRunIds(out)).toEqual([1]);
  });

  it('SIGTERM while crm export writes: exit 143, no temp file beside --out', async () => {
    const folder = path.join(dir, 'mailing');
    const tmp = path.join(dir, 'mailing-tmp');
    await mkdir(folder);
    await mkdir(tmp);
    const run = await runCli(['export', '--db', path.join(ref, 'crm.duckdb'), '--out', path.join(folder, 'mailing.csv'), '-q'], {
      env: { CRM_TEST_KILL_AT: 'export-writing', CRM_TEST_SIGNAL: 'SIGTERM', TMPDIR: tmp },
    });
    expect(run.code, run.stderr).toBe(143);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(await readdir(folder)).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('SIGTERM during the publish: the publish finishes, then exit 143', async () => {
    const out = path.join(dir, 'publishing');
    const tmp = path.join(dir, 'publishing-tmp');
    await cp(old, out, { recursive: true });
    await mkdir(tmp);
    const run = await runCli(score(out, '1998-06-30'), { env: { CRM_TEST_KILL_AT: 'publish-rename:3', CRM_TEST_SIGNAL: 'SIGTERM', TMPDIR: tmp } });
    expect(run.code, run.stderr).toBe(143);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ signal: 'SIGTERM', exitCode: 143, msg: 'stopped by SIGTERM once the publish in progress had ended' });
    expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await readdir(tmp)).toEqual([]);
    expect(await fileHashes(out, FILES)).toEqual(await fileHashes(ref, FILES));
    expect(JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')).run.asOf).toBe('1998-06-30');
    expect(await listedRunIds(out)).toEqual([1, 2]);
  });
});
