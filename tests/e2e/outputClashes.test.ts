/**
 * Output paths that would destroy data (the audit of issue 13's fixes), through
 * the real CLI: each is a usage error (exit 2) naming the clash, said before any
 * data is read, with nothing written.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, type CliResult, lastMessage, logLines, messages, runCli, sha256, tempDir } from '../helpers.js';

let dir: string;
let run: string; // a scored run's output folder, its database the default DIR/crm.duckdb
let db: string;
let input: string; // the run's input, a copy of CDNOW

const why = (r: CliResult) => `exit ${r.code}: ${r.stderr}`;
/** One usage-error line on stderr, nothing on stdout, exit 2. */
const refused = (r: CliResult) => ({ code: r.code, stdout: r.stdout, stderr: messages(r.stderr) });
const usageError = (stderr: string) => ({ code: 2, stdout: '', stderr });

beforeAll(async () => {
  dir = await tempDir('crm-output-clashes-');
  run = path.join(dir, 'run');
  db = path.join(run, 'crm.duckdb');
  input = path.join(dir, 'in.csv');
  await copyFile(CDNOW_CSV, input);
  // Two runs: migration compares one with the one before.
  for (const asOf of ['1997-09-30', '1997-12-31']) {
    const scored = await runCli(['score', input, '--as-of', asOf, '--no-clv', '--no-kmeans', '--out', run, '--quiet']);
    expect(scored.code, why(scored)).toBe(0);
  }
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('migration, export and report --out never replace the history database, a run output or a recorded input', { timeout: 60_000 }, () => {
  it('migration --out: the database, its run outputs and a recorded input are refused; another name is written', async () => {
    const files = ['crm.duckdb', 'summary.json'];
    const before = await Promise.all(files.map((f) => sha256(path.join(run, f))));
    const inputBefore = await sha256(input);
    const moves = path.join(dir, 'moves.csv');
    const [dbItself, summary, recordedInput, written] = await Promise.all([
      runCli(['migration', '--db', db, '--out', db]),
      runCli(['migration', '--db', db, '--out', path.join(run, 'summary.json')]),
      runCli(['migration', '--db', db, '--out', input]),
      runCli(['migration', '--db', db, '--out', moves]),
    ]);
    // Each was exit 0, the file replaced by the CSV matrix.
    expect(refused(dbItself)).toEqual(usageError(`--out ${db} is the run-history database given by --db (${db}): give another file name`));
    expect(refused(summary)).toEqual(usageError(`--out ${path.join(run, 'summary.json')} is an output of crm score (${path.join(run, 'summary.json')}): give another file name`));
    expect(refused(recordedInput)).toEqual(usageError(`--out ${input} is an input of a run in the history (${input}): give another file name`));
    expect(written.code, why(written)).toBe(0);
    expect((await readFile(moves, 'utf8')).split('\n')[0]).toBe('from,to,customers,revenue');
    expect(await Promise.all(files.map((f) => sha256(path.join(run, f))))).toEqual(before);
    expect(await sha256(input)).toBe(inputBefore);
  });

  it('export and report --out an input of a recorded run: refused naming it, the input kept', async () => {
    const inputBefore = await sha256(input);
    const [mailing, report] = await Promise.all([runCli(['export', '--db', db, '--out', input]), runCli(['report', '--db', db, '--out', input])]);
    const message = usageError(`--out ${input} is an input of a run in the history (${input}): give another file name`);
    expect(refused(mailing)).toEqual(message);
    expect(refused(report)).toEqual(message);
    expect(await sha256(input)).toBe(inputBefore);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });
});

const fastScore = ['--as-of', '1997-09-30', '--no-clv', '--no-kmeans', '--no-lifecycle', '--quiet'];
/** Exit 2 with `message` as the failure, nothing on stdout. */
const failedWith = (r: CliResult) => ({ code: r.code, stdout: r.stdout, last: lastMessage(r.stderr) });

describe.concurrent('score never writes over its own inputs, and --db is never one of its outputs', { timeout: 60_000 }, () => {
  it('--db naming a file of the output set for the chosen formats: exit 2 naming it, nothing written', async () => {
    const out = path.join(dir, 'db-is-an-output');
    const [summary, rejects, customers, json] = await Promise.all([
      runCli(['score', input, ...fastScore, '--out', out, '--db', path.join(out, 'summary.json')]),
      runCli(['score', input, ...fastScore, '--out', out, '--db', path.join(out, 'rejects.csv')]),
      runCli(['score', input, ...fastScore, '--out', out, '--db', path.join(out, 'customers.csv')]),
      runCli(['score', input, ...fastScore, '--out', out, '-f', 'json', '--db', path.join(out, 'customers.json')]),
    ]);
    // Each was exit 0, the publish writing the output over the new database.
    const message = (name: string) => usageError(`--db ${path.join(out, name)} is an output of this run (${path.join(out, name)}): give another file name`);
    expect(refused(summary)).toEqual(message('summary.json'));
    expect(refused(rejects)).toEqual(message('rejects.csv'));
    expect(refused(customers)).toEqual(message('customers.csv'));
    expect(refused(json)).toEqual(message('customers.json'));
    expect(await readdir(dir)).not.toContain('db-is-an-output');
  });

  it('an input that is an output of the run (named like one in --out, a glob matching one, a hard link to one, or the database): exit 2 naming it, the input kept', async () => {
    const folder = path.join(dir, 'input-in-out');
    await mkdir(folder);
    await copyFile(CDNOW_CSV, path.join(folder, 'customers.csv'));
    await copyFile(CDNOW_CSV, path.join(folder, 'rejects.csv'));
    const elsewhere = path.join(dir, 'linked-input.csv');
    await link(path.join(folder, 'customers.csv'), elsewhere);
    const [here, glob, hardLink, database] = await Promise.all([
      runCli(['score', 'customers.csv', ...fastScore.filter((f) => f !== '--quiet'), '--out', '.'], { cwd: folder }),
      runCli(['score', path.join(folder, 'rej*.csv'), ...fastScore, '--out', folder, '--db', path.join(dir, 'glob.duckdb')]),
      runCli(['score', elsewhere, ...fastScore, '--out', folder, '--no-db']),
      runCli(['score', elsewhere, ...fastScore, '--out', path.join(dir, 'database-out'), '--db', elsewhere]),
    ]);
    // The first three were exit 0, the input replaced by the scored table or the rejects.
    const message = (file: string, is: string, output: string) => ({ code: 2, stdout: '', last: `input ${file} is ${is} (${output}), which the run would write over: give another --out or --db, or move the input` });
    expect(failedWith(here)).toEqual(message('customers.csv', 'an output of this run', 'customers.csv'));
    expect(failedWith(glob)).toEqual(message(path.join(folder, 'rejects.csv'), 'an output of this run', path.join(folder, 'rejects.csv')));
    expect(failedWith(hardLink)).toEqual(message(elsewhere, 'an output of this run', path.join(folder, 'customers.csv')));
    expect(failedWith(database)).toEqual(message(elsewhere, 'the run-history database given by --db', elsewhere));
    // Said before any data was read: no line logged between the start and the failure.
    expect(logLines(here.stderr).map((l) => l.msg)).toEqual(['crm score started', failedWith(here).last]);
    expect((await readdir(folder)).sort()).toEqual(['customers.csv', 'rejects.csv']);
    expect(await sha256(path.join(folder, 'customers.csv'))).toBe(await sha256(CDNOW_CSV));
    expect(await sha256(path.join(folder, 'rejects.csv'))).toBe(await sha256(CDNOW_CSV));
    expect(await readdir(dir)).not.toContain('glob.duckdb');
  });
});

describe('a long --db name', { timeout: 120_000 }, () => {
  /**
   * 40,000 customers, one purchase each: enough scores that pruning one run frees over a quarter of the file, and the history is rewritten.
   * (20,000 freed 4 of 16 blocks once the history had run_clusters too, exactly a quarter: not rewritten.)
   */
  const transactions = () => ['customer_id,order_date,amount', ...Array.from({ length: 40_000 }, (_, c) => `C${c},2025-0${1 + (c % 9)}-10,${10 + (c % 200)}`)].join('\n') + '\n';
  const rewriteRun = ['--as-of', '2025-12-31', '--no-clv', '--no-kmeans', '--no-lifecycle', '-f', 'csv', '--keep-runs', '1'];

  it('of 240 bytes: the history is rewritten after pruning, without a warning, nothing left beside it', async () => {
    const folder = path.join(dir, 'long-240');
    await mkdir(folder);
    const tx = path.join(folder, 'tx.csv');
    await writeFile(tx, transactions());
    const name = 'h'.repeat(240);
    const first = await runCli(['score', tx, ...rewriteRun, '--out', path.join(folder, 'out'), '--db', path.join(folder, name), '--quiet']);
    expect(first.code, why(first)).toBe(0);
    const second = await runCli(['score', tx, ...rewriteRun, '--out', path.join(folder, 'out'), '--db', path.join(folder, name)]);
    expect(second.code, why(second)).toBe(0);
    // It warned "could not be rewritten": the copy's name, the database's plus .rewrite-<pid>.tmp, was too long.
    expect(logLines(second.stderr).filter((l) => l.level >= 40)).toEqual([]);
    expect(messages(second.stderr)).toContain('rewrote the history database to give back the space of pruned scores');
    expect((await readdir(folder)).sort()).toEqual([name, 'out', 'tx.csv']);
  });

  it("a copy a killed rewrite left, under this version's name or an earlier one's, is removed by the next run; another database's stays", async () => {
    const folder = path.join(dir, 'abandoned');
    await mkdir(folder);
    const db = path.join(folder, 'crm.duckdb');
    const first = await runCli(['score', input, ...fastScore, '--out', path.join(folder, 'out'), '--db', db]);
    expect(first.code, why(first)).toBe(0);
    const hashOf = (name: string) => createHash('sha256').update(name).digest('hex').slice(0, 8);
    const left = ['.crm.duckdb.rewrite-12345.tmp', '.crm.duckdb.rewrite-12345.tmp.wal', `.crm-rewrite-${hashOf('crm.duckdb')}-0012345.tmp`];
    const others = ['.other.duckdb.rewrite-12345.tmp', `.crm-rewrite-${hashOf('other.duckdb')}-0012345.tmp`];
    for (const name of [...left, ...others]) await writeFile(path.join(folder, name), 'an abandoned copy\n');
    const next = await runCli(['score', input, ...fastScore, '--out', path.join(folder, 'out'), '--db', db]);
    expect(next.code, why(next)).toBe(0);
    expect((await readdir(folder)).sort()).toEqual([...others, 'crm.duckdb', 'out'].sort());
  });

  it('of 252 bytes (its .wal would have 256): exit 2 naming it before any data is read, nothing written', async () => {
    const folder = path.join(dir, 'long-252');
    await mkdir(folder);
    const db = path.join(folder, 'h'.repeat(252));
    const result = await runCli(['score', input, ...fastScore, '--out', path.join(folder, 'out'), '--db', db]);
    // It failed after scoring, on DuckDB's "File name too long" for the .wal, leaving a 12 KB database.
    expect(refused(result)).toEqual(usageError(`--db ${db}: the file name is 252 bytes long; with the .wal DuckDB writes beside it, a database name can have at most 251`));
    expect(await readdir(folder)).toEqual([]);
  });
});
