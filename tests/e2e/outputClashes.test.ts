/**
 * Output paths that would destroy data (the audit of issue 13's fixes), through
 * the real CLI: each is a usage error (exit 2) naming the clash, said before any
 * data is read, with nothing written.
 */
import { createHash } from 'node:crypto';
import { copyFile, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, type CliResult, messages, runCli, tempDir } from '../helpers.js';

let dir: string;
let run: string; // a scored run's output folder, its database the default DIR/crm.duckdb
let db: string;
let input: string; // the run's input, a copy of CDNOW

const why = (r: CliResult) => `exit ${r.code}: ${r.stderr}`;
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
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
