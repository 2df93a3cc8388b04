/**
 * crm export and crm report write a temp file and rename it into place. A
 * SIGKILL (the out-of-memory killer) leaves it; each is named after its
 * process, and the next export or report working in the same folder removes
 * those of processes that are gone, never a live one's. A signal removes the
 * command's own. Real CLI processes, real DuckDB, temp folders; the kill at an
 * exact point by the test hook (src/testHooks.ts).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, runCli, tempDir } from '../helpers.js';

/** A process id that is surely dead: a child that has exited. */
const deadPid = () =>
  new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['-e', '0']);
    child.on('exit', () => resolve(child.pid!));
  });

describe('temp files of a killed crm export or crm report', { timeout: 120_000 }, () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = await tempDir();
    const out = path.join(dir, 'out');
    const run = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', out, '--format', 'csv', '--no-kmeans', '-q']);
    expect(run.code, run.stderr).toBe(0);
    db = path.join(out, 'crm.duckdb');
  });

  it('export to stdout: its temp folder in TMPDIR is named after the process and goes with the next export', async () => {
    const tmp = path.join(dir, 'stdout-tmp');
    await mkdir(tmp);
    const killed = await runCli(['export', '--db', db, '-q'], { env: { CRM_TEST_KILL_AT: 'export-writing', TMPDIR: tmp } });
    expect(killed.signal).toBe('SIGKILL');
    const left = (await readdir(tmp)).filter((f) => f.startsWith('crm-export-'));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^crm-export-.+-\d+-[A-Za-z0-9]{6}$/);
    const next = await runCli(['export', '--db', db, '-q'], { env: { TMPDIR: tmp } });
    expect(next.code, next.stderr).toBe(0);
    // Its own spill folder and temp folder are gone too once it has ended.
    expect(await readdir(tmp)).toEqual([]);
  });

  it('export --out: the temp folder beside the file goes with the next export there', async () => {
    const folder = path.join(dir, 'mailing');
    const file = path.join(folder, 'mailing.csv');
    const killed = await runCli(['export', '--db', db, '--out', file, '-q'], { env: { CRM_TEST_KILL_AT: 'export-writing' } });
    expect(killed.signal).toBe('SIGKILL');
    const left = await readdir(folder);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.crm-\d+-[0-9a-f]{8}\.tmp[A-Za-z0-9]{6}$/);
    const next = await runCli(['export', '--db', db, '--out', file, '-q']);
    expect(next.code, next.stderr).toBe(0);
    expect(await readdir(folder)).toEqual(['mailing.csv']);
  });

  it("report: the temp file beside --out goes with the next report there, a live process's stays", async () => {
    const folder = path.join(dir, 'report');
    const file = path.join(folder, 'report.html');
    const killed = await runCli(['report', '--db', db, '--out', file, '-q'], { env: { CRM_TEST_KILL_AT: 'temp-written' } });
    expect(killed.signal).toBe('SIGKILL');
    const left = await readdir(folder);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/^\.crm-\d+-[0-9a-f]{8}\.tmp$/);
    // Another one from a dead process, and one of a process that lives (a report being written now).
    const dead = `.crm-${await deadPid()}-0badcafe.tmp`;
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      const alive = `.crm-${live.pid}-00c0ffee.tmp`;
      await writeFile(path.join(folder, dead), 'half a rep');
      await writeFile(path.join(folder, alive), 'half a rep');
      const next = await runCli(['report', '--db', db, '--out', file, '-q']);
      expect(next.code, next.stderr).toBe(0);
      expect((await readdir(folder)).sort()).toEqual([alive, 'report.html']);
    } finally {
      live.kill();
    }
  });

  it('report stopped by SIGTERM while writing: exit 143, its temp file removed, no report', async () => {
    const folder = path.join(dir, 'report-term');
    const run = await runCli(['report', '--db', db, '--out', path.join(folder, 'report.html'), '-q'], {
      env: { CRM_TEST_KILL_AT: 'temp-written', CRM_TEST_SIGNAL: 'SIGTERM' },
    });
    expect(run.code, run.stderr).toBe(143);
    expect(await readdir(folder)).toEqual([]);
  });
});
