/**
 * A run is either published (its files and its history row) or it is not.
 * A kill test kills `crm score` at an exact point (CRM_TEST_KILL_AT, read by
 * src/testHooks.ts): on either side of the history commit and just before
 * each rename of the publish. Then each command that opens the output folder
 * or its history (runs, export, report, migration, the next score), each on
 * its own copy of the killed state, must see one whole set (the old run's
 * files or the new run's, by hash) and a history listing exactly the runs
 * whose files were published. Real CLI processes, real DuckDB, temp folders.
 */
import { cp, mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { recoverInterruptedPublish, writeFileAtomic } from '../../src/io/atomic.js';
import { CDNOW_CSV, fileHashes, oldRunAndNext, runCli, sha256, tempDir, withEngine } from '../helpers.js';

const TABLES = ['customers.csv', 'customers.parquet', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];
/** The files a full run publishes, in the order it renames them (summary.json last). */
const PUBLISHED = [...TABLES, 'summary.json'];

const hashes = (dir: string) => fileHashes(dir, TABLES);
const asOfIn = async (dir: string): Promise<string> => JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')).run.asOf;
const hidden = async (dir: string) => (await readdir(dir)).filter((f) => f.startsWith('.'));

const OLD_AS_OF = '1997-09-30';
const NEW_AS_OF = '1998-06-30';
const score = (out: string, asOf: string) => ['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--format', 'csv', '--format', 'parquet', '-q'];
const exportArgs = (out: string, file: string) => ['export', '--db', path.join(out, 'crm.duckdb'), '--order-by', 'revenue', '--out', file, '-q'];

/** The runs the history database holds, read as stored (no recovery), and how many are still pending. */
async function historyOf(out: string): Promise<{ runs: number[]; pending: number }> {
  return withEngine(async (engine) => {
    await engine.run(`ATTACH ${engine.dialect.quoteString(path.join(out, 'crm.duckdb'))} AS h (READ_ONLY)`);
    const runs = (await engine.all<{ run_id: number }>(`SELECT run_id FROM h.runs ORDER BY run_id`)).map((r) => r.run_id);
    const table = await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM duckdb_tables() WHERE database_name = 'h' AND table_name = 'pending_runs'`);
    const pending = table!.n ? (await engine.one<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM h.pending_runs`))!.n : 0;
    return { runs, pending };
  });
}

/**
 * Where each kill point must leave the folder: the run is recorded pending
 * (history-commit), then its publish is committed by its journal, written
 * before the first rename, and the history is told it is published.
 */
const KILL_POINTS = ['history-commit:before', 'history-commit:after', ...PUBLISHED.map((_, i) => `publish-rename:${i + 1}`), 'history-published'];
const outcome = (point: string): 'old' | 'new' => (point.startsWith('history-commit:') ? 'old' : 'new');

describe('writeFileAtomic', () => {
  it('leaves no temp file behind when the rename fails (a folder where the file should go)', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'report.html'));
    await expect(writeFileAtomic(path.join(dir, 'report.html'), '<!doctype html>')).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY/);
    expect((await readdir(dir)).sort()).toEqual(['report.html']);
  });
});

describe('a run killed at any point of its publish', { timeout: 600_000 }, () => {
  let dir: string;
  let tmp: string;
  /** The old run alone; the new run over it; a second new run over that. */
  let old: string;
  let ref: string;
  let ref2: string;
  const sets: Record<string, Record<string, string>> = {};
  const exports: Record<'old' | 'new', string> = { old: '', new: '' };

  beforeAll(async () => {
    dir = await tempDir();
    tmp = path.join(dir, 'tmp');
    await mkdir(tmp);
    ({ old, ref } = await oldRunAndNext(dir, score));
    ref2 = path.join(dir, 'ref2');
    await cp(ref, ref2, { recursive: true });
    const third = await runCli(score(ref2, NEW_AS_OF));
    expect(third.code, third.stderr).toBe(0);
    for (const [name, folder] of [['old', old], ['new', ref], ['new2', ref2]] as const) sets[name] = await hashes(folder);
    // The new run's table differs from the old one's, and a run after it from it (previous_segment).
    expect(sets.new!['customers.csv']).not.toBe(sets.old!['customers.csv']);
    expect(sets.new2!['customers.csv']).not.toBe(sets.new!['customers.csv']);
    expect(JSON.parse(await readFile(path.join(ref, 'summary.json'), 'utf8')).run.outputs).toEqual(PUBLISHED);
    for (const [name, folder] of [['old', old], ['new', ref]] as const) {
      const file = path.join(dir, `export-${name}.csv`);
      const run = await runCli(exportArgs(folder, file));
      expect(run.code, run.stderr).toBe(0);
      exports[name] = await sha256(file);
    }
    expect(exports.new).not.toBe(exports.old);
  }, 300_000);

  /** What one whole set looks like: its tables, its as-of, the runs its history lists. */
  async function expectWholeSet(folder: string, set: 'old' | 'new' | 'new2', context: string): Promise<void> {
    expect(await hashes(folder), context).toEqual(sets[set]);
    expect(await asOfIn(folder), context).toBe(set === 'old' ? OLD_AS_OF : NEW_AS_OF);
    expect(await historyOf(folder), context).toEqual({ runs: { old: [1], new: [1, 2], new2: [1, 2, 3] }[set], pending: 0 });
  }

  it.each(KILL_POINTS)('killed at %s: every command after it sees one whole set and only published runs', async (point) => {
    const tag = point.replace(/\W/g, '-');
    const killed = path.join(dir, `killed-${tag}`);
    await cp(old, killed, { recursive: true });
    const run = await runCli(score(killed, NEW_AS_OF), { env: { CRM_TEST_KILL_AT: point, TMPDIR: tmp } });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const expected = outcome(point);
    const copy = async (name: string) => {
      const folder = path.join(dir, `${tag}-${name}`);
      await cp(killed, folder, { recursive: true });
      return folder;
    };
    const env = { TMPDIR: tmp };

    const runsIn = await copy('runs');
    const runs = await runCli(['runs', '--db', path.join(runsIn, 'crm.duckdb'), '--json'], { env });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id), 'crm runs').toEqual(expected === 'old' ? [1] : [1, 2]);
    await expectWholeSet(runsIn, expected, `${point}, after crm runs`);

    const exportIn = await copy('export');
    const file = path.join(dir, `${tag}-export.csv`);
    const exported = await runCli(exportArgs(exportIn, file), { env });
    expect(exported.code, exported.stderr).toBe(0);
    expect(await sha256(file), 'crm export').toBe(exports[expected]);
    await expectWholeSet(exportIn, expected, `${point}, after crm export`);

    const reportIn = await copy('report');
    const html = path.join(dir, `${tag}-report.html`);
    const report = await runCli(['report', '--db', path.join(reportIn, 'crm.duckdb'), '--out', html, '-q'], { env });
    expect(report.code, report.stderr).toBe(0);
    // The page's title names the run it reports on (its runs-across-the-history section names the others too).
    const title = /<h1>([^<]*)<\/h1>/.exec(await readFile(html, 'utf8'))![1];
    expect(title, 'crm report').toContain(expected === 'old' ? OLD_AS_OF : NEW_AS_OF);
    expect(title, 'crm report').not.toContain(expected === 'old' ? NEW_AS_OF : OLD_AS_OF);
    await expectWholeSet(reportIn, expected, `${point}, after crm report`);

    // With one run there is nothing to compare: a usage error; with two, the matrix.
    const migrationIn = await copy('migration');
    const migration = await runCli(['migration', '--db', path.join(migrationIn, 'crm.duckdb'), '-q'], { env });
    expect(migration.code, migration.stderr).toBe(expected === 'old' ? 2 : 0);
    await expectWholeSet(migrationIn, expected, `${point}, after crm migration`);

    // The next run scores over whichever run was published: its previous_segment says which.
    const nextIn = await copy('next');
    const next = await runCli(score(nextIn, NEW_AS_OF), { env });
    expect(next.code, next.stderr).toBe(0);
    await expectWholeSet(nextIn, expected === 'old' ? 'new' : 'new2', `${point}, after the next crm score`);
    expect(await hidden(nextIn), 'staging folders and journal after the next run').toEqual([]);
  });

  it('a later run that fails on its input still finishes the interrupted publish first', async () => {
    const killed = path.join(dir, 'killed-then-failed');
    await cp(old, killed, { recursive: true });
    const run = await runCli(score(killed, NEW_AS_OF), { env: { CRM_TEST_KILL_AT: 'publish-rename:3', TMPDIR: tmp } });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const failed = await runCli(['score', path.join(dir, 'no-such-export.csv'), '--out', killed, '-q'], { env: { TMPDIR: tmp } });
    expect(failed.code).toBe(1);
    await expectWholeSet(killed, 'new', 'after a run that failed on its input');
    expect(await hidden(killed)).toEqual([]);
  });

  it('crm backtest writing into the same folder finishes the interrupted publish first', async () => {
    const killed = path.join(dir, 'killed-then-backtest');
    await cp(old, killed, { recursive: true });
    const run = await runCli(score(killed, NEW_AS_OF), { env: { CRM_TEST_KILL_AT: 'publish-rename:3', TMPDIR: tmp } });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const backtest = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--out', killed, '-q'], { env: { TMPDIR: tmp } });
    expect(backtest.code, backtest.stderr).toBe(0);
    await expectWholeSet(killed, 'new', 'after crm backtest');
    expect(await hidden(killed)).toEqual([]);
  });

  it('with --db outside the output folder, crm runs finishes the publish in the folder the run recorded', async () => {
    const base = path.join(dir, 'elsewhere');
    const out = path.join(base, 'out');
    const db = path.join(base, 'history', 'crm.duckdb');
    const args = (asOf: string) => ['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--db', db, '--format', 'csv', '--format', 'parquet', '-q'];
    const first = await runCli(args(OLD_AS_OF));
    expect(first.code, first.stderr).toBe(0);
    const run = await runCli(args(NEW_AS_OF), { env: { CRM_TEST_KILL_AT: 'publish-rename:3', TMPDIR: tmp } });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const runs = await runCli(['runs', '--db', db, '--json'], { env: { TMPDIR: tmp } });
    expect(runs.code, runs.stderr).toBe(0);
    expect(runs.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id)).toEqual([1, 2]);
    expect(await hashes(out)).toEqual(sets.new);
    expect(await asOfIn(out)).toBe(NEW_AS_OF);
    expect(await hidden(out)).toEqual([]);
  });

  it('leaves no spill folder once the next command has run', async () => {
    // Every command above ran with TMPDIR=tmp: the killed runs' folders were removed by the ones after them.
    const next = await runCli(['runs', '--db', path.join(old, 'crm.duckdb')], { env: { TMPDIR: tmp } });
    expect(next.code, next.stderr).toBe(0);
    expect((await readdir(tmp)).filter((f) => f.startsWith('crm-duckdb-'))).toEqual([]);
  });
});

describe('staging folders of runs that died', () => {
  it('the next run removes staging folders of runs that died before publishing, never those of a live run', async () => {
    const { spawn } = await import('node:child_process');
    const { writeFile } = await import('node:fs/promises');
    const dir = await tempDir();
    // A pid that is surely dead: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => resolve(child.pid!));
    });
    // A live process, until the test kills it (a timer of a few seconds could end it first on a loaded machine).
    const live = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    try {
      await mkdir(path.join(dir, `.crm-staging-${dead}-aaaa`));
      await writeFile(path.join(dir, `.crm-staging-${dead}-aaaa`, 'customers.csv'), 'half a fi');
      await mkdir(path.join(dir, `.crm-staging-${live.pid}-bbbb`));
      await writeFile(path.join(dir, 'customers.csv'), 'the previous outputs\n');
      expect(await recoverInterruptedPublish(dir)).toBe(null);
      expect((await readdir(dir)).sort()).toEqual([`.crm-staging-${live.pid}-bbbb`, 'customers.csv']);
      expect(await readFile(path.join(dir, 'customers.csv'), 'utf8')).toBe('the previous outputs\n');
    } finally {
      live.kill();
    }
  });
});
