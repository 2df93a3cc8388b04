/**
 * Issue 13: where `export`, `report` and `score` may write their --out, through
 * the real CLI. A place that would destroy a file the run needs, or that cannot
 * be written, is refused before the work with a message naming the path.
 */
import { copyFile, link, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, type CliResult, exportCounts, messages, runCli, sha256, tempDir } from '../helpers.js';

let dir: string;
let run: string; // a scored run's output folder, its database the default DIR/crm.duckdb
let db: string;

const why = (r: CliResult) => `exit ${r.code}: ${r.stderr}`;
/** One usage-error line on stderr, nothing on stdout, exit 2. */
const refused = (r: CliResult) => ({ code: r.code, stdout: r.stdout, stderr: messages(r.stderr) });

beforeAll(async () => {
  dir = await tempDir('crm-output-checks-');
  run = path.join(dir, 'run');
  db = path.join(run, 'crm.duckdb');
  const scored = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--no-clv', '--no-kmeans', '--out', run, '--quiet']);
  expect(scored.code, why(scored)).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Not concurrent: the first test checks the run folder has no temp file, which the second's export writes there for a moment.
describe('--out of export and report never replaces the history database, an input or a run output', { timeout: 60_000 }, () => {
  it('refuses the database itself, a symlink and a hard link to it, the contacts and suppression files, and customers.csv or summary.json of a run', async () => {
    const files = ['crm.duckdb', 'customers.csv', 'summary.json', 'segments.csv'];
    const before = await Promise.all(files.map((f) => sha256(path.join(run, f))));
    const contacts = path.join(dir, 'contacts.csv');
    await writeFile(contacts, 'customer_id,email\n00001,a@example.com\n');
    const suppress = path.join(dir, 'suppress.csv');
    await writeFile(suppress, 'customer_id\n00002\n');
    const symlinked = path.join(dir, 'looks-like-a.csv');
    await symlink(db, symlinked);
    const hardLinked = path.join(dir, 'hard-linked.html');
    await link(db, hardLinked);
    // A database under another name, away from the run: the run's folder comes from the history (runs.options.out).
    const elsewhere = path.join(dir, 'history.duckdb');
    await copyFile(db, elsewhere);

    const [dbItself, viaSymlink, viaHardLink, contactsFile, suppressFile, customers, summary, recorded, dotted] = await Promise.all([
      runCli(['export', '--db', db, '--out', db]),
      runCli(['report', '--db', db, '--out', symlinked]),
      runCli(['export', '--db', db, '--out', hardLinked]),
      runCli(['export', '--db', db, '--contacts', contacts, '--out', contacts]),
      runCli(['export', '--db', db, '--suppress', suppress, '--out', suppress]),
      runCli(['export', '--db', db, '--out', path.join(run, 'customers.csv')]),
      runCli(['report', '--db', db, '--out', path.join(run, 'summary.json')]),
      runCli(['export', '--db', elsewhere, '--out', path.join(run, 'segments.csv')]),
      runCli(['export', '--db', db, '--out', `${run}/../run/./customers.csv`]),
    ]);
    // Each was exit 0, the file replaced by a CSV or an HTML report.
    const message = (out: string, is: string, file: string) => ({ code: 2, stdout: '', stderr: `--out ${out} is ${is} (${file}): give another file name` });
    expect(refused(dbItself)).toEqual(message(db, 'the run-history database given by --db', db));
    expect(refused(viaSymlink)).toEqual(message(symlinked, 'the run-history database given by --db', db));
    expect(refused(viaHardLink)).toEqual(message(hardLinked, 'the run-history database given by --db', db));
    expect(refused(contactsFile)).toEqual(message(contacts, 'the contacts file given by --contacts', contacts));
    expect(refused(suppressFile)).toEqual(message(suppress, 'the suppression list given by --suppress', suppress));
    expect(refused(customers)).toEqual(message(path.join(run, 'customers.csv'), 'an output of crm score', path.join(run, 'customers.csv')));
    expect(refused(summary)).toEqual(message(path.join(run, 'summary.json'), 'an output of crm score', path.join(run, 'summary.json')));
    expect(refused(recorded)).toEqual(message(path.join(run, 'segments.csv'), 'an output of crm score', path.join(run, 'segments.csv')));
    expect(refused(dotted)).toEqual(message(`${run}/../run/./customers.csv`, 'an output of crm score', path.join(run, 'customers.csv')));

    expect(await Promise.all(files.map((f) => sha256(path.join(run, f))))).toEqual(before);
    expect(await readFile(contacts, 'utf8')).toBe('customer_id,email\n00001,a@example.com\n');
    expect(await readFile(suppress, 'utf8')).toBe('customer_id\n00002\n');
    expect((await readdir(run)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('still writes beside them: another name in the run folder, and a new file in the database folder', async () => {
    const [mailing, report] = await Promise.all([
      runCli(['export', '--db', db, '--segment', 'Champions', '--out', path.join(run, 'champions.csv')]),
      runCli(['report', '--db', db, '--out', path.join(run, 'report.html'), '--quiet']),
    ]);
    expect(mailing.code, why(mailing)).toBe(0);
    expect(report.code, why(report)).toBe(0);
    expect(exportCounts(mailing.stderr).written).toBeGreaterThan(0);
    expect((await readFile(path.join(run, 'champions.csv'), 'utf8')).startsWith('customer_id,')).toBe(true);
    expect((await readFile(path.join(run, 'report.html'), 'utf8')).startsWith('<!doctype html>')).toBe(true);
  });
});

describe.concurrent('--out that cannot be written is a clear error said before the work', { timeout: 60_000 }, () => {
  // The tests run as root here, and root writes into a folder whatever its mode
  // bits say (chmod 555 refuses nobody). A path under a regular file fails for
  // every user, root included (ENOTDIR), on every file system, without a mount
  // or chattr +i that would need privileges: so that is the folder that cannot
  // be written to.
  it('export, report and score --no-db with --out under a regular file: exit 2 naming the path, nothing read', async () => {
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a folder\n');
    const [mailing, report, score] = await Promise.all([
      runCli(['export', '--db', db, '--out', path.join(file, 'mailing.csv')]),
      runCli(['report', '--db', db, '--out', path.join(file, 'reports', 'run.html')]),
      // Before, the whole run was scored and only publishing failed (ENOTDIR, as an internal error).
      runCli(['score', CDNOW_CSV, '--no-db', '--no-clv', '--no-kmeans', '--out', path.join(file, 'out')]),
    ]);
    expect(refused(mailing)).toEqual({ code: 2, stdout: '', stderr: `--out ${path.join(file, 'mailing.csv')}: cannot write there: ${file} is a file, not a folder` });
    expect(refused(report)).toEqual({ code: 2, stdout: '', stderr: `--out ${path.join(file, 'reports', 'run.html')}: cannot write there: ${file} is a file, not a folder` });
    // One line, no 'loaded transactions' log before it: refused before the input was read.
    expect(refused(score)).toEqual({ code: 2, stdout: '', stderr: `--out ${path.join(file, 'out')}: cannot write there: ${file} is a file, not a folder` });
    expect(await readFile(file, 'utf8')).toBe('not a folder\n');
  });

  it('a legal 250-character file name is written by export and report; a 256-character one is refused naming its length', async () => {
    const names = path.join(dir, 'long-names');
    await mkdir(names);
    const csv = path.join(names, `${'m'.repeat(246)}.csv`);
    const html = path.join(names, `${'r'.repeat(245)}.html`);
    const tooLong = path.join(names, `${'x'.repeat(251)}.html`);
    expect([path.basename(csv).length, path.basename(html).length, path.basename(tooLong).length]).toEqual([250, 250, 256]);
    const [mailing, report, refusedReport] = await Promise.all([
      runCli(['export', '--db', db, '--segment', 'Champions', '--out', csv]),
      runCli(['report', '--db', db, '--out', html, '--quiet']),
      runCli(['report', '--db', db, '--out', tooLong, '--quiet']),
    ]);
    // Both were ENAMETOOLONG as an internal error: the temp name beside the file added 10 or more characters.
    expect(mailing.code, why(mailing)).toBe(0);
    expect(exportCounts(mailing.stderr).written).toBeGreaterThan(0);
    expect((await readFile(csv, 'utf8')).startsWith('customer_id,')).toBe(true);
    expect(report.code, why(report)).toBe(0);
    expect((await readFile(html, 'utf8')).startsWith('<!doctype html>')).toBe(true);
    expect(refused(refusedReport)).toEqual({ code: 2, stdout: '', stderr: `--out ${tooLong}: cannot write there: the file name is 256 bytes long; a file name can have at most 255` });
    expect((await readdir(names)).sort()).toEqual([path.basename(csv), path.basename(html)].sort());
  });
});
