/**
 * History retention: by default the history keeps the customer scores of the
 * newest 90 runs (--keep-runs N, or all), every run's row stays, and when
 * pruning frees much of the database file, the file is rewritten smaller.
 *
 * A history of 99 runs is built once, in-process through crm's own pipeline
 * (runScore, the code `crm score` runs, with the model stages off), keeping
 * every run's scores; each test copies it and adds the 100th run with the
 * real CLI. 5,000 customers a run: 100 runs are then about four of DuckDB's
 * row groups (122,880 rows), so pruning frees whole ones, as it does on a
 * real history (456k customers a run).
 */
import { copyFile, lstat, mkdir, readdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/effects.js';
import { runScore } from '../../src/jobs/score.js';
import { config, lastMessage, logLines, runCli, tempDir, withEngine, type CliResult } from '../helpers.js';

const CUSTOMERS = 5000;
const BUILT_RUNS = 99;
const AS_OF = '2025-12-31';
const why = (r: CliResult) => r.stderr;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let dir: string;
let transactions: string;
let built: string;

/** Two purchases per customer, on days and amounts that vary with the id. */
function transactionsCsv(): string {
  const lines = ['customer_id,order_date,amount'];
  for (let c = 0; c < CUSTOMERS; c++) {
    const id = `C${String(c).padStart(5, '0')}`;
    lines.push(`${id},2025-0${1 + (c % 9)}-10,${(10 + ((c * 7) % 200)).toFixed(2)}`, `${id},2025-0${1 + ((c + 3) % 9)}-21,${(5 + ((c * 13) % 90)).toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

const fastRun = ['--as-of', AS_OF, '--no-clv', '--no-lifecycle', '--no-kmeans', '-f', 'csv', '--quiet'];

/** A copy of the 99-run history in its own folder, and the 100th run by the CLI with `args`. */
async function hundredthRun(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ db: string; sizeBefore: number; result: CliResult }> {
  const folder = path.join(dir, name);
  await mkdir(folder);
  const db = path.join(folder, 'crm.duckdb');
  await copyFile(built, db);
  const sizeBefore = (await stat(db)).size;
  const result = await runCli(['score', transactions, ...fastRun, '--out', path.join(dir, `${name}-out`), '--db', db, ...args], { env });
  return { db, sizeBefore, result };
}

/** Which runs have scores in the database, read from both the runs table and the scores themselves. */
async function keptRuns(db: string): Promise<{ runs: number; flagged: number[]; scored: number[]; rows: number }> {
  return withEngine(async (engine) => {
    await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
    const flagged = await engine.all<{ id: number }>(`SELECT run_id::INTEGER AS id FROM h.runs WHERE scores_kept ORDER BY run_id`);
    const scored = await engine.all<{ id: number }>(`SELECT DISTINCT run_id::INTEGER AS id FROM h.scores ORDER BY id`);
    return {
      runs: (await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM h.runs`))!.n,
      flagged: flagged.map((r) => r.id),
      scored: scored.map((r) => r.id),
      rows: (await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM h.customer_scores`))!.n,
    };
  });
}

/** The history's tables and views, their columns, types, defaults and constraints: what a rewrite must carry over. */
async function historySchema(db: string): Promise<unknown> {
  return withEngine(async (engine) => {
    await engine.run(`ATTACH ${engine.dialect.quoteString(db)} AS h (READ_ONLY)`);
    return {
      columns: await engine.all(`SELECT table_name, column_name, data_type, column_default, is_nullable FROM duckdb_columns() WHERE database_name = 'h' ORDER BY table_name, column_index`),
      constraints: await engine.all(`SELECT table_name, constraint_type, constraint_column_names::VARCHAR AS cols FROM duckdb_constraints() WHERE database_name = 'h' ORDER BY ALL`),
      views: await engine.all(`SELECT view_name FROM duckdb_views() WHERE database_name = 'h' ORDER BY view_name`),
    };
  });
}

beforeAll(async () => {
  dir = await tempDir('crm-retention-');
  transactions = path.join(dir, 'transactions.csv');
  await writeFile(transactions, transactionsCsv());
  built = path.join(dir, 'built.duckdb');
  const options = config({
    inputs: [transactions],
    out: path.join(dir, 'built-out'),
    db: built,
    asOf: AS_OF,
    format: ['csv'],
    keepRuns: 1000,
    clv: { enabled: false },
    lifecycle: { enabled: false },
    kmeans: { enabled: false },
  });
  for (let i = 0; i < BUILT_RUNS; i++) {
    await withEngine((engine) => runScore(engine, options, { logger: silentLogger, stage: () => () => undefined, now: () => new Date() }));
  }
}, 600_000);

describe('history retention', () => {
  it('keeps the scores of the newest 90 runs by default, and its file shrinks; every run keeps its row; crm runs says the size', async () => {
    const { db, sizeBefore, result } = await hundredthRun('default', []);
    expect(result.code, why(result)).toBe(0);
    expect(await keptRuns(db)).toEqual({ runs: 100, flagged: range(11, 100), scored: range(11, 100), rows: 90 * CUSTOMERS });
    // Pruning 10 of 100 runs frees about a tenth of the file: it is rewritten smaller than the 99-run file it started as.
    const sizeAfter = (await stat(db)).size;
    expect(sizeAfter, `${sizeBefore} → ${sizeAfter} bytes`).toBeLessThan(sizeBefore);
    expect(await readdir(path.dirname(db))).toEqual(['crm.duckdb']);

    const listed = await runCli(['runs', '--db', db]);
    expect(listed.code, why(listed)).toBe(0);
    // The table on stdout is unchanged: header, rule, one line per run.
    expect(listed.stdout.trimEnd().split('\n')).toHaveLength(2 + 100);
    expect(sizeAfter).toBeGreaterThan(1e6);
    expect(sizeAfter).toBeLessThan(1e9);
    const messages = listed.stderr.trim().split('\n').map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain(`history: ${db}, ${(sizeAfter / 1e6).toFixed(1)} MB, 100 runs, scores kept for the newest 90 (--keep-runs 90)`);

    // --quiet keeps stderr for warnings; --json's stdout stays one object per run.
    const quiet = await runCli(['runs', '--db', db, '--json', '--quiet']);
    expect(quiet.code, why(quiet)).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { run_id: number }).run_id)).toEqual(range(1, 100));

    // The next nights each prune one run, whose space the night after fills again: the file is not rewritten every night.
    for (const night of [101, 102]) {
      const next = await runCli(['score', transactions, ...fastRun.filter((a) => a !== '--quiet'), '--out', path.join(dir, 'default-out'), '--db', db]);
      expect(next.code, why(next)).toBe(0);
      expect(logLines(next.stderr).map((l) => l.msg), `night ${night}`).not.toContain('rewrote the history database to give back the space of pruned scores');
    }
  });

  it('--keep-runs all, or keepRuns "all" in the config file, keeps every run\'s scores', async () => {
    const flag = await hundredthRun('all-flag', ['--keep-runs', 'all']);
    expect(flag.result.code, why(flag.result)).toBe(0);
    expect(await keptRuns(flag.db)).toEqual({ runs: 100, flagged: range(1, 100), scored: range(1, 100), rows: 100 * CUSTOMERS });

    const file = path.join(dir, 'keep-all.json');
    await writeFile(file, JSON.stringify({ keepRuns: 'all' }));
    const fromConfig = await hundredthRun('all-config', ['--config', file]);
    expect(fromConfig.result.code, why(fromConfig.result)).toBe(0);
    expect(await keptRuns(fromConfig.db)).toEqual({ runs: 100, flagged: range(1, 100), scored: range(1, 100), rows: 100 * CUSTOMERS });
  });

  it('--keep-runs 5 keeps 5 and gives the freed space back: the database file shrinks, nothing is left beside it', async () => {
    const schemaBefore = await historySchema(built);
    const { db, sizeBefore, result } = await hundredthRun('five', ['--keep-runs', '5']);
    expect(result.code, why(result)).toBe(0);
    expect(await keptRuns(db)).toEqual({ runs: 100, flagged: range(96, 100), scored: range(96, 100), rows: 5 * CUSTOMERS });
    // 5 of 100 runs' scores are left, and the scores were most of the file: at least half of it goes. (What stays, about
    // 2 MB, is those 5 runs, the 100 runs rows and DuckDB's first blocks of each table; the file before is 8-16 MB, as
    // DuckDB's parallel inserts fill row groups more or less fully.)
    const sizeAfter = (await stat(db)).size;
    expect(sizeAfter, `${sizeBefore} → ${sizeAfter} bytes`).toBeLessThan(sizeBefore / 2);
    expect(await readdir(path.dirname(db))).toEqual(['crm.duckdb']);
    expect(await historySchema(db)).toEqual(schemaBefore);

    // The rewritten database works on: a migration between the two newest runs, and another run.
    const migration = await runCli(['migration', '--db', db]);
    expect(migration.code, why(migration)).toBe(0);
    const next = await runCli(['score', transactions, ...fastRun, '--out', path.join(dir, 'five-out'), '--db', db, '--keep-runs', '5']);
    expect(next.code, why(next)).toBe(0);
    expect(await keptRuns(db)).toEqual({ runs: 101, flagged: range(97, 101), scored: range(97, 101), rows: 5 * CUSTOMERS });
  });

  it('a kill during the rewrite leaves the old database whole; the next run removes the copy and shrinks the file', async () => {
    const { db, sizeBefore, result } = await hundredthRun('killed', ['--keep-runs', '5'], { CRM_TEST_KILL_AT: 'history-rewrite:before-rename' });
    expect(result.signal).toBe('SIGKILL');
    // Killed with the fresh copy written, before it replaced the database.
    const left = (await readdir(path.dirname(db))).sort();
    expect(left).toHaveLength(2);
    // Named from a hash of the database name and the pid, at a fixed length.
    expect(left[0]).toMatch(/^\.crm-rewrite-[0-9a-f]{8}-\d{7}\.tmp$/);
    expect(left[1]).toBe('crm.duckdb');
    // The run was published and pruned before the rewrite began: the old file has it, at no smaller a size.
    expect((await stat(db)).size).toBeGreaterThanOrEqual(sizeBefore);
    expect(await keptRuns(db)).toEqual({ runs: 100, flagged: range(96, 100), scored: range(96, 100), rows: 5 * CUSTOMERS });

    const next = await runCli(['score', transactions, ...fastRun, '--out', path.join(dir, 'killed-out'), '--db', db, '--keep-runs', '5']);
    expect(next.code, why(next)).toBe(0);
    expect(await readdir(path.dirname(db))).toEqual(['crm.duckdb']);
    expect((await stat(db)).size).toBeLessThan(sizeBefore / 2);
    expect(await keptRuns(db)).toEqual({ runs: 101, flagged: range(97, 101), scored: range(97, 101), rows: 5 * CUSTOMERS });
  });

  it('a --db that is a symbolic link stays one: the file it points to is rewritten, beside itself', async () => {
    const real = path.join(dir, 'linked-real');
    const links = path.join(dir, 'linked-links');
    await mkdir(real);
    await mkdir(links);
    const target = path.join(real, 'crm.duckdb');
    await copyFile(built, target);
    const sizeBefore = (await stat(target)).size;
    const link = path.join(links, 'crm.duckdb');
    await symlink(target, link);
    const run = await runCli(['score', transactions, ...fastRun, '--out', path.join(dir, 'linked-out'), '--db', link, '--keep-runs', '5']);
    expect(run.code, why(run)).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect(await readdir(links)).toEqual(['crm.duckdb']);
    expect(await readdir(real)).toEqual(['crm.duckdb']);
    expect((await stat(target)).size).toBeLessThan(sizeBefore / 2);
    expect(await keptRuns(link)).toEqual({ runs: 100, flagged: range(96, 100), scored: range(96, 100), rows: 5 * CUSTOMERS });
  });

  it('a --keep-runs or keepRuns that is not a whole number from 1 or "all" is a usage error, said before any data is read', async () => {
    const out = path.join(dir, 'bad-out');
    const flag = await runCli(['score', transactions, '--keep-runs', 'some', '--out', out]);
    expect(flag.code).toBe(2);
    expect(lastMessage(flag.stderr)).toMatch(/--keep-runs expects a whole number of runs from 1, or all, got "some"/);
    const file = path.join(dir, 'keep-some.json');
    await writeFile(file, JSON.stringify({ keepRuns: 'some' }));
    const fromConfig = await runCli(['score', transactions, '--config', file, '--out', out]);
    expect(fromConfig.code).toBe(2);
    expect(lastMessage(fromConfig.stderr)).toMatch(/keepRuns: expected a whole number of runs from 1, or "all"/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});
