/**
 * The history database a run opens. DuckDB lets one process at a time open a
 * database file for writing, and none read it meanwhile. A nightly run
 * records itself in the history database for a second or two; a report, an
 * export or an overlapping run in that moment waits for it (--db-wait) rather
 * than failing, and a database that stays busy, or is no database, fails the
 * run before it reads any data. A new database's folder is created. Real CLI
 * processes; the holder is a second process with its own DuckDB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, ROOT, runCli, tempDir } from '../helpers.js';

/** A process holding `db` open for writing: say `release()` to make it let go (it does, then exits). */
interface Holder {
  release(): void;
  kill(): void;
}

/** Starts a process that opens `db` for writing; resolves once it holds it (it says so on stdout) and keeps it until released. */
function holdDatabase(db: string): Promise<Holder> {
  const script = `
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(${JSON.stringify(db)});
    const connection = await instance.connect();
    await connection.run('CREATE TABLE IF NOT EXISTS held (x INTEGER)');
    process.stdout.write('holding\\n');
    process.stdin.once('data', () => { connection.closeSync(); instance.closeSync(); process.exit(0); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
    const holder: Holder = { release: () => child.stdin!.write('release\n'), kill: () => child.kill() };
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('holding')) resolve(holder);
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the holder exited (${code}) before holding the database`)));
  });
}

const WAITING = 'in use by another process; waiting for it';

/** Releases the holder once the CLI says it is waiting for the database (for runCli's onStderr). */
const releaseWhenWaiting = (holder: Holder) => {
  let released = false;
  return (stderr: string) => {
    if (!released && stderr.includes(WAITING)) (released = true), holder.release();
  };
};

const score = (out: string, db: string, more: string[] = [], onStderr?: (stderr: string) => void) =>
  runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', out, '--db', db, '--no-kmeans', '--format', 'csv', '--log-level', 'info', ...more], { onStderr });

/** A fresh database with one run recorded in it. */
async function databaseWithOneRun(): Promise<{ dir: string; db: string }> {
  const dir = await tempDir();
  const db = path.join(dir, 'history.duckdb');
  const first = await score(path.join(dir, 'a'), db);
  expect(first.code, first.stderr).toBe(0);
  return { dir, db };
}

describe.concurrent('the history database a run records itself in', { timeout: 60_000 }, () => {
  it('a run waits while another process holds the database, then records itself', async () => {
    const { dir, db } = await databaseWithOneRun();
    const holder = await holdDatabase(db);
    try {
      const second = await score(path.join(dir, 'b'), db, [], releaseWhenWaiting(holder));
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain(WAITING);
      // What the failing runs below must not have logged.
      expect(second.stderr).toContain('loaded transactions');
      const runs = await runCli(['runs', '--db', db, '--json']);
      expect(runs.code, runs.stderr).toBe(0);
      expect(runs.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id)).toEqual([1, 2]);
    } finally {
      holder.kill();
    }
  });

  it('crm runs (read-only) waits for it too', async () => {
    const { db } = await databaseWithOneRun();
    const holder = await holdDatabase(db);
    try {
      const runs = await runCli(['runs', '--db', db, '--json', '--log-level', 'info'], { onStderr: releaseWhenWaiting(holder) });
      expect(runs.code, runs.stderr).toBe(0);
      expect(runs.stderr).toContain(WAITING);
      expect(JSON.parse(runs.stdout.trim()).run_id).toBe(1);
    } finally {
      holder.kill();
    }
  });

  it('a run fails before reading any data when the database stays busy longer than --db-wait', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'history.duckdb');
    const holder = await holdDatabase(db);
    try {
      const run = await score(path.join(dir, 'out'), db, ['--db-wait', '0.5']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/history\.duckdb: the database is in use by another process \(waited 0\.5 s; --db-wait sets how long\)/);
      expect(run.stderr).not.toContain('loaded transactions');
    } finally {
      holder.kill();
    }
  });

  it('a --db that is not a DuckDB database fails the run before it reads any data', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'notes.txt');
    await writeFile(db, 'customer_id,order_date,amount\nthis is not a database\n');
    const run = await score(path.join(dir, 'out'), db);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('notes.txt: cannot be opened as a DuckDB database');
    expect(run.stderr).not.toContain('loaded transactions');
  });

  it('a --db in a folder that does not exist yet: the folder is created, as for --out', async () => {
    const dir = await tempDir();
    const db = path.join(dir, 'history', 'nightly', 'crm.duckdb');
    const run = await score(path.join(dir, 'out'), db);
    expect(run.code, run.stderr).toBe(0);
    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout.trim()).run_id).toBe(1);
  });

  it('--db-wait takes seconds, 0 or more', async () => {
    const run = await runCli(['score', CDNOW_CSV, '--db-wait', '-1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--db-wait expects 0 or more seconds');
  });
});

// Not run beside the waiting tests above: those need a CLI to reach the database within the holder's second or two.
describe('a history the run cannot keep', { timeout: 180_000 }, () => {
  it('a --db that is a Parquet or CSV file fails before any data is read, saying it is not a DuckDB database, and records nothing', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const first = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', out, '--no-db', '--no-kmeans', '--format', 'parquet']);
    expect(first.code, first.stderr).toBe(0);
    for (const db of [path.join(out, 'customers.parquet'), path.join(out, 'rejects.csv')]) {
      const before = await readFile(db);
      const run = await score(path.join(dir, 'second'), db);
      expect(run.code, db).toBe(1);
      expect(run.stderr).toContain(`${db}: cannot be opened as a DuckDB database`);
      expect(run.stderr).toContain('not a valid DuckDB database file');
      expect(run.stderr).not.toContain('loaded transactions');
      expect(await readFile(db)).toEqual(before);
      const runs = await runCli(['runs', '--db', db]);
      expect(runs.code).toBe(1);
      expect(runs.stderr).toContain('not a valid DuckDB database file');
    }
  });

  it('--db :memory: is a usage error (exit 2), said before any data is read', async () => {
    const dir = await tempDir();
    const run = await score(path.join(dir, 'out'), ':memory:');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the run history needs a database file (or --no-db to keep none)');
    expect(run.stderr).not.toContain('loaded transactions');
    const runs = await runCli(['runs', '--db', ':memory:']);
    expect(runs.code).toBe(2);
    expect(runs.stderr).toContain('--db :memory:: the run history needs a database file');
  });

  it('a run whose history cannot be written to the database file (a full disk at the checkpoint) fails, and is never listed', { timeout: 180_000 }, async () => {
    const { dir, db } = await databaseWithOneRun();
    const out = path.join(dir, 'a');
    const before = await readFile(path.join(out, 'summary.json'), 'utf8');
    const run = await runCli(['score', CDNOW_CSV, '--out', out, '--db', db, '--no-kmeans', '--format', 'csv'], { env: { CRM_TEST_FAIL_AT: 'history-checkpoint' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('test failure at history-checkpoint');
    expect(await readFile(path.join(out, 'summary.json'), 'utf8')).toBe(before);
    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id)).toEqual([1]);
    // The next run is run 2, scored against run 1.
    const next = await score(path.join(dir, 'c'), db);
    expect(next.code, next.stderr).toBe(0);
    const after = await runCli(['runs', '--db', db, '--json']);
    expect(after.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id)).toEqual([1, 2]);
  });
});
