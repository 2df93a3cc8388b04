import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recoverInterruptedPublish, writeFileAtomic } from '../../src/io/atomic.js';
import { CDNOW_CSV, ROOT, runCli, tempDir, withEngine } from '../helpers.js';

const TABLES = ['customers.csv', 'customers.parquet', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];

const sha = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const hashes = async (dir: string) => Object.fromEntries(await Promise.all(TABLES.map(async (f) => [f, await sha(path.join(dir, f))] as const)));

/**
 * Starts `crm score` and SIGKILLs it after `ms` milliseconds (or lets it
 * finish first), with its temporary directory `tmp`: a killed run cannot
 * remove its DuckDB spill folder, the next run on the machine does.
 */
function scoreAndKill(args: string[], ms: number, tmp: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'crm.js'), ...args], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal);
    });
  });
}

describe('writeFileAtomic', () => {
  it('leaves no temp file behind when the rename fails (a folder where the file should go)', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'report.html'));
    await expect(writeFileAtomic(path.join(dir, 'report.html'), '<!doctype html>')).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY/);
    expect((await readdir(dir)).sort()).toEqual(['report.html']);
  });
});

describe('outputs are published atomically', () => {
  it('a run killed at any moment leaves the previous outputs or the new ones, never a mix or a partial file', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    // Two complete, different output sets: as of 1997-09-30 (old) and 1998-06-30 (new).
    const oldArgs = ['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', out, '--format', 'csv', '--format', 'parquet', '--no-db'];
    const newArgs = ['score', CDNOW_CSV, '--as-of', '1998-06-30', '--out', out, '--format', 'csv', '--format', 'parquet', '--no-db'];
    const reference = path.join(dir, 'reference-new');
    const [first, ref] = await Promise.all([
      runCli(oldArgs),
      runCli(['score', CDNOW_CSV, '--as-of', '1998-06-30', '--out', reference, '--format', 'csv', '--format', 'parquet', '--no-db']),
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(ref.code, ref.stderr).toBe(0);
    const oldSet = await hashes(out);
    const oldCopy = path.join(dir, 'old-copy');
    await cp(out, oldCopy, { recursive: true });
    const newSet = await hashes(reference);
    expect(newSet['customers.csv']).not.toBe(oldSet['customers.csv']);

    let killed = 0;
    for (const ms of [100, 300, 500, 700, 900, 1200]) {
      const signal = await scoreAndKill(newArgs, ms, dir);
      if (signal === 'SIGKILL') killed++;
      // What the next run does first: finish a publish that was cut short.
      await recoverInterruptedPublish(out);
      const now = await hashes(out);
      const asOf = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')).run.asOf;
      expect(now, `killed after ${ms} ms`).toEqual(asOf === '1997-09-30' ? oldSet : newSet);
      expect((await readdir(out)).filter((f) => f.startsWith('.'))).toEqual([]);
      // Put the old set back for the next attempt.
      await rm(out, { recursive: true });
      await cp(oldCopy, out, { recursive: true });
    }
    expect(killed).toBeGreaterThan(2);
    // Each run removes the spill folders of the killed runs before it (in `dir`): they never pile
    // up, and the next run leaves none.
    expect((await readdir(dir)).filter((f) => f.startsWith('crm-duckdb-')).length).toBeLessThanOrEqual(1);
    const next = await runCli(oldArgs, { env: { TMPDIR: dir } });
    expect(next.code, next.stderr).toBe(0);
    expect((await readdir(dir)).filter((f) => f.startsWith('crm-duckdb-'))).toEqual([]);
  });

  it('the next run removes staging folders of runs that died before publishing, never those of a live run', async () => {
    const { mkdir, writeFile } = await import('node:fs/promises');
    const dir = await tempDir();
    // A pid that is surely dead: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => resolve(child.pid!));
    });
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
    try {
      await mkdir(path.join(dir, `.crm-staging-${dead}-aaaa`));
      await writeFile(path.join(dir, `.crm-staging-${dead}-aaaa`, 'customers.csv'), 'half a fi');
      await mkdir(path.join(dir, `.crm-staging-${live.pid}-bbbb`));
      await writeFile(path.join(dir, 'customers.csv'), 'the previous outputs\n');
      expect(await recoverInterruptedPublish(dir)).toBe(false);
      expect((await readdir(dir)).sort()).toEqual([`.crm-staging-${live.pid}-bbbb`, 'customers.csv']);
      expect(await readFile(path.join(dir, 'customers.csv'), 'utf8')).toBe('the previous outputs\n');
    } finally {
      live.kill();
    }
  });

  it('a run killed while recording history leaves a readable database with whole runs only', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'history.duckdb');
    const ok = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', path.join(dir, 'a'), '--db', db, '--no-kmeans']);
    expect(ok.code, ok.stderr).toBe(0);
    for (const ms of [300, 600, 900, 1200]) {
      await scoreAndKill(['score', CDNOW_CSV, '--out', path.join(dir, `k${ms}`), '--db', db, '--no-kmeans'], ms, dir);
    }
    await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
      const runs = await engine.all<{ run_id: number; customers: number; scored: number }>(
        `SELECT r.run_id, r.customers, (SELECT count(*) FROM h.customer_scores s WHERE s.run_id = r.run_id)::INTEGER AS scored FROM h.runs r ORDER BY r.run_id`,
      );
      expect(runs.length).toBeGreaterThanOrEqual(1);
      for (const run of runs) expect(run.scored).toBe(run.customers);
      const orphans = await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM h.customer_scores WHERE run_id NOT IN (SELECT run_id FROM h.runs)`);
      expect(orphans!.n).toBe(0);
    });
  });
});
