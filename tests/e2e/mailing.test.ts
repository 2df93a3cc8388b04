/**
 * Issue 13, the mailing export through the real CLI: counts that add up, no
 * row without a usable address, email suppressions only with contacts, and CSV
 * text a spreadsheet shows rather than runs (OWASP CSV injection) in
 * `crm export` and `crm score`'s customers.csv. Sixteen customers, each with a
 * part to play; every expectation below is worked out by hand from this table.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, exportCounts, logLines, messages, parseCsv, runCli, tempDir, withEngine } from '../helpers.js';

// id, revenue (one purchase each; -C5 bought 30 and returned 42.5), email in the contacts (undefined: no contact row), name.
const CUSTOMERS: [string, number, string | undefined, string][] = [
  ['C01', 100, 'c01@example.com', 'Ann'],
  ['C02', 90, 'c02@example.com', 'Bob'],
  ['C03', 80, 'c03@example.com', 'Cy'],
  ['C04', 70, '', 'Empty Email'],
  ['C05', 60, '   ', 'Blank Email'],
  ['C06', 50, 'not an address', 'No At Sign'],
  ['C07', 40, ' C07@Example.com ', 'Suppressed By Email'],
  ['C08', 30, 'c08@example.com', 'Suppressed By Id'],
  ['C09', 20, '', 'Blank And Suppressed By Id'],
  ['C10', 10, undefined, 'No Contact Row'],
  ['C11', 95, 'c11@example.com', '\tTab Name'],
  ['C12', 85, 'c12@example.com', '\rCR Name'],
  ['-C5', -12.5, 'minus@example.com', '-Minus'],
  ['=1+2', 75, 'eq@example.com', '=HYPERLINK("http://evil.example","click")'],
  ['+C7', 65, 'plus@example.com', '+44 20 7946 0000'],
  ['@C8', 55, 'at@example.com', '@SUM(1+1)'],
];
const emailOf = new Map(CUSTOMERS.map(([id, , email]) => [id, email]));
const nameOf = new Map(CUSTOMERS.map(([id, , , name]) => [id, name]));
/** What a spreadsheet-safe CSV holds for a text value: a leading ' before = + - @, tab or CR. */
const safe = (text: string) => (/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);

let dir: string;
let db: string;
let run: string;
let contacts: string;
let suppress: string;
const why = (r: CliResult) => `exit ${r.code}: ${r.stderr}`;
const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
/** The contacts of CUSTOMERS (those with a contact row) under another header: id, email, name columns. */
const contactsCsv = (header: string) =>
  [header, ...CUSTOMERS.filter(([, , email]) => email !== undefined).map(([id, , email, name]) => [id, email!, name].map(quote).join(','))].join('\n') + '\n';
/** The warnings a command logged (level 40). */
const warnings = (stderr: string) => logLines(stderr).filter((l) => l.level === 40).map((l) => l.msg);

beforeAll(async () => {
  dir = await tempDir('crm-mailing-');
  const lines = ['customer_id,order_date,amount'];
  CUSTOMERS.forEach(([id, revenue], i) => {
    const day = `2024-03-${String(i + 1).padStart(2, '0')}`;
    if (revenue < 0) lines.push(`${id},2024-01-10,30`, `${id},2024-02-10,-42.5`);
    else lines.push(`${id},${day},${revenue}`);
  });
  const transactions = path.join(dir, 'transactions.csv');
  await writeFile(transactions, `${lines.join('\n')}\n`);
  contacts = path.join(dir, 'contacts.csv');
  await writeFile(contacts, contactsCsv('customer_id,email,name'));
  suppress = path.join(dir, 'suppress.csv');
  await writeFile(suppress, 'customer_id,email\nC08,\nC09,\n,c07@example.com\nnobody,nobody@example.com\n');
  run = path.join(dir, 'run');
  db = path.join(run, 'crm.duckdb');
  const scored = await runCli(['score', transactions, '--as-of', '2024-06-30', '--no-clv', '--no-kmeans', '--format', 'csv', '--format', 'parquet', '--out', run, '--quiet']);
  expect(scored.code, why(scored)).toBe(0);
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const out = (name: string) => path.join(dir, name);
const readRows = async (name: string) => parseCsv(await readFile(out(name), 'utf8'));

describe.concurrent('crm export: a mailing list', { timeout: 60_000 }, () => {
  it('with contacts and suppressions: every customer counted once, no row without a usable address', async () => {
    const [all, capped] = await Promise.all([
      runCli(['export', '--db', db, '--contacts', contacts, '--suppress', suppress, '--out', out('all.csv')]),
      runCli(['export', '--db', db, '--contacts', contacts, '--suppress', suppress, '--limit', '5', '--order-by', 'revenue', '--out', out('capped.csv')]),
    ]);
    expect(all.code, why(all)).toBe(0);
    expect(capped.code, why(capped)).toBe(0);
    // Before: 4 of these were lost from the counts: C04, C05, C06 written with no address, C09 (blank email, suppressed by id) dropped uncounted.
    // C10 has no contact; C04, C05, C06 and C09 no usable address (C09 is also suppressed, counted once, as no address);
    // C07 (by email, in other case and spacing) and C08 (by id) are suppressed.
    expect(exportCounts(all.stderr)).toEqual({ run: 1, matched: 16, withoutContact: 1, noAddress: 4, suppressed: 2, cutByLimit: 0, written: 9 });
    const written = await readRows('all.csv');
    expect(written.map((r) => r.customer_id).sort()).toEqual(["'+C7", "'-C5", "'=1+2", "'@C8", 'C01', 'C02', 'C03', 'C11', 'C12']);
    for (const r of written) expect(r.email, r.customer_id).toMatch(/^[a-z0-9]+@example\.com$/);
    // The best 5 by revenue of those 9: C01 100, C11 95, C02 90, C12 85, C03 80.
    expect(exportCounts(capped.stderr)).toEqual({ run: 1, matched: 16, withoutContact: 1, noAddress: 4, suppressed: 2, cutByLimit: 4, written: 5 });
    expect((await readRows('capped.csv')).map((r) => r.customer_id)).toEqual(['C01', 'C11', 'C02', 'C12', 'C03']);
  });

  it('with contacts only: a blank, empty or @-less email is still no address, never written with a blank email', async () => {
    const result = await runCli(['export', '--db', db, '--contacts', contacts, '--format', 'json', '--out', out('contacts-only.ndjson')]);
    expect(result.code, why(result)).toBe(0);
    expect(exportCounts(result.stderr)).toEqual({ run: 1, matched: 16, withoutContact: 1, noAddress: 4, suppressed: 0, cutByLimit: 0, written: 11 });
    const rows = (await readFile(out('contacts-only.ndjson'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.customer_id).sort()).toEqual(['+C7', '-C5', '=1+2', '@C8', 'C01', 'C02', 'C03', 'C07', 'C08', 'C11', 'C12']);
    for (const r of rows) expect(r.email, r.customer_id).toBe(emailOf.get(r.customer_id));
  });

  it('without contacts: an id list suppresses by id; a list with emails is a usage error, as is one with contacts that have no email column', async () => {
    const ids = out('suppress-ids.csv');
    await writeFile(ids, 'C08\nC09\n');
    const noEmailColumn = out('contacts-no-email.csv');
    await writeFile(noEmailColumn, 'customer_id,phone\nC01,555-0100\n');
    const [byId, emails, emailsNoColumn] = await Promise.all([
      runCli(['export', '--db', db, '--suppress', ids, '--out', out('by-id.csv')]),
      runCli(['export', '--db', db, '--suppress', suppress, '--out', out('emails.csv')]),
      runCli(['export', '--db', db, '--contacts', noEmailColumn, '--suppress', suppress, '--out', out('emails-no-column.csv')]),
    ]);
    expect(byId.code, why(byId)).toBe(0);
    expect(exportCounts(byId.stderr)).toEqual({ run: 1, matched: 16, withoutContact: 0, noAddress: 0, suppressed: 2, cutByLimit: 0, written: 14 });
    // Before, the emails matched nobody and C07 was exported: exit 0.
    expect([emails.code, emails.stdout, messages(emails.stderr)]).toEqual([2, '', `--suppress ${suppress} lists email addresses: give --contacts with an email column to match them against`]);
    expect([emailsNoColumn.code, messages(emailsNoColumn.stderr)]).toEqual([
      2,
      `--suppress ${suppress} lists email addresses, but --contacts ${noEmailColumn} has no email column to match them against`,
    ]);
  });

  it('an email column under another name (contact_email, Mail, courriel) or named by --email-col is checked too; contacts without one get a warning', async () => {
    const files = { contact: 'customer_id,contact_email,name', mail: 'Customer_ID,Mail,name', courriel: 'customer_id,courriel,name', own: 'customer_id,Adresse Perso,name', none: 'customer_id,phone,name' };
    const file = (name: string) => out(`contacts-${name}.csv`);
    await Promise.all(Object.entries(files).map(([name, header]) => writeFile(file(name), contactsCsv(header))));
    const run = (name: keyof typeof files, ...flags: string[]) => runCli(['export', '--db', db, '--contacts', file(name), ...flags, '--format', 'json', '--out', out(`by-${name}.ndjson`)]);
    const [contact, mail, courriel, own, none] = await Promise.all([run('contact'), run('mail'), run('courriel'), run('own', '--email-col', 'adresse perso'), run('none')]);
    // Before: no column was checked, so C04, C05, C06 and C09 went out with no address: 0 no address, 15 written.
    const checked = { run: 1, matched: 16, withoutContact: 1, noAddress: 4, suppressed: 0, cutByLimit: 0, written: 11 };
    for (const [r, name, column] of [[contact, 'contact', 'contact_email'], [mail, 'mail', 'Mail'], [courriel, 'courriel', 'courriel'], [own, 'own', 'Adresse Perso']] as const) {
      expect(r.code, why(r)).toBe(0);
      expect(exportCounts(r.stderr), name).toEqual(checked);
      expect(warnings(r.stderr), name).toEqual([]);
      const rows = (await readFile(out(`by-${name}.ndjson`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(rows.map((row) => [row.customer_id, row[column]]).sort(), name).toEqual(
        ['+C7', '-C5', '=1+2', '@C8', 'C01', 'C02', 'C03', 'C07', 'C08', 'C11', 'C12'].map((id) => [id, emailOf.get(id)]).sort(),
      );
    }
    // No email column: every contact is written, and the log says the addresses were not checked.
    expect(none.code, why(none)).toBe(0);
    expect(exportCounts(none.stderr)).toEqual({ ...checked, noAddress: 0, written: 15 });
    expect(warnings(none.stderr)).toEqual([`--contacts ${file('none')} has no email column (columns: customer_id, phone, name): addresses were not checked; name it with --email-col`]);
  });

  it('--email-col that is not a contacts column, or without --contacts, is a usage error; a suppression list\'s contact_email column suppresses', async () => {
    const listed = out('suppress-contact-email.csv');
    await writeFile(listed, 'customer_id,contact_email\nC08,\n,c07@example.com\n');
    const [unknown, alone, suppressed] = await Promise.all([
      runCli(['export', '--db', db, '--contacts', contacts, '--email-col', 'courriel', '--out', out('unknown-col.csv')]),
      runCli(['export', '--db', db, '--email-col', 'email', '--out', out('alone.csv')]),
      runCli(['export', '--db', db, '--contacts', contacts, '--suppress', listed, '--out', out('suppress-contact-email.out.csv')]),
    ]);
    expect([unknown.code, messages(unknown.stderr)]).toEqual([2, `--email-col courriel is not a column of --contacts ${contacts} (columns: customer_id, email, name)`]);
    expect([alone.code, messages(alone.stderr)]).toEqual([2, '--email-col email names a column of the contacts: give --contacts too']);
    // Before, the contact_email column was ignored and C07 was mailed: 1 suppressed, 10 written.
    expect(suppressed.code, why(suppressed)).toBe(0);
    expect(exportCounts(suppressed.stderr)).toEqual({ run: 1, matched: 16, withoutContact: 1, noAddress: 4, suppressed: 2, cutByLimit: 0, written: 9 });
  });

  it("CSV text that a spreadsheet would run gets a leading '; numbers stay numbers; --no-excel-safe and Parquet leave the text as it is", async () => {
    const [safeRun, rawRun, stdoutRun, parquetRun] = await Promise.all([
      runCli(['export', '--db', db, '--contacts', contacts, '--out', out('safe.csv')]),
      runCli(['export', '--db', db, '--contacts', contacts, '--no-excel-safe', '--out', out('raw.csv')]),
      runCli(['export', '--db', db, '--contacts', contacts]),
      runCli(['export', '--db', db, '--contacts', contacts, '--out', out('mailing.parquet')]),
    ]);
    for (const r of [safeRun, rawRun, stdoutRun, parquetRun]) {
      expect(r.code, why(r)).toBe(0);
      expect(exportCounts(r.stderr).written).toBe(11);
    }
    const injected = ['-C5', '=1+2', '+C7', '@C8', 'C11', 'C12'];
    const safeRows = new Map((await readRows('safe.csv')).map((r) => [r.customer_id, r]));
    for (const id of injected) {
      const r = safeRows.get(safe(id))!;
      expect(r.name, id).toBe(safe(nameOf.get(id)!));
      expect(r.email, id).toBe(emailOf.get(id));
    }
    expect(safeRows.get("'=1+2")!.name).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(safeRows.get("'-C5")!.revenue).toBe('-12.5');
    expect(safeRows.get('C01')!.name).toBe('Ann');
    expect(stdoutRun.stdout).toBe(await readFile(out('safe.csv'), 'utf8'));

    const rawRows = new Map((await readRows('raw.csv')).map((r) => [r.customer_id, r]));
    for (const id of injected) expect(rawRows.get(id)?.name, id).toBe(nameOf.get(id));
    expect(rawRows.get('-C5')!.revenue).toBe('-12.5');

    const parquet = await withEngine((engine) =>
      engine.all<{ customer_id: string; name: string; revenue: number }>(`SELECT customer_id, name, revenue FROM read_parquet(${engine.dialect.quoteString(out('mailing.parquet'))})`),
    );
    for (const id of injected) expect(parquet.find((r) => r.customer_id === id)?.name, id).toBe(nameOf.get(id));
    expect(parquet.find((r) => r.customer_id === '-C5')!.revenue).toBe(-12.5);
  });
});

describe("crm score's customers.csv", () => {
  it("escapes text ids a spreadsheet would run, keeps a negative revenue a number, and --no-excel-safe leaves ids as they are", { timeout: 60_000 }, async () => {
    const raw = path.join(dir, 'run-raw');
    const result = await runCli(['score', path.join(dir, 'transactions.csv'), '--as-of', '2024-06-30', '--no-clv', '--no-kmeans', '--no-db', '--format', 'csv', '--no-excel-safe', '--out', raw, '--quiet']);
    expect(result.code, why(result)).toBe(0);
    const ids = CUSTOMERS.map(([id]) => id);
    const safeRows = parseCsv(await readFile(path.join(run, 'customers.csv'), 'utf8'));
    expect(safeRows.map((r) => r.customer_id).sort()).toEqual(ids.map(safe).sort());
    expect(safeRows.find((r) => r.customer_id === "'-C5")!.revenue).toBe('-12.5');
    const rawRows = parseCsv(await readFile(path.join(raw, 'customers.csv'), 'utf8'));
    expect(rawRows.map((r) => r.customer_id).sort()).toEqual([...ids].sort());
    expect(rawRows.find((r) => r.customer_id === '-C5')!.revenue).toBe('-12.5');
    // The Parquet table of the same run is not touched.
    const parquetIds = await withEngine(async (engine) =>
      (await engine.all<{ customer_id: string }>(`SELECT customer_id FROM read_parquet(${engine.dialect.quoteString(path.join(run, 'customers.parquet'))})`)).map((r) => r.customer_id),
    );
    expect(parquetIds.sort()).toEqual([...ids].sort());
  });

  it('keeps the excel-safe customers.csv in customer_id order, row for row the Parquet table, over more than one row group', { timeout: 60_000 }, async () => {
    // More than one DuckDB row group (122,880 rows), read in parallel: an escape with chr(9) in it let
    // the second row group's rows into the CSV among the first one's (sql in src/io/writers.ts).
    const lines = ['customer_id,order_date,amount'];
    for (let i = 0; i < 130_000; i++) lines.push(`${i % 7 === 0 ? '-' : 'K'}${String(i).padStart(5, '0')},2024-0${1 + (i % 6)}-1${i % 10},${10 + (i % 50)}`);
    const input = path.join(dir, 'many.csv');
    await writeFile(input, `${lines.join('\n')}\n`);
    const many = path.join(dir, 'run-many');
    const result = await runCli(['score', input, '--as-of', '2024-06-30', '--no-clv', '--no-kmeans', '--no-db', '--format', 'csv', '--format', 'parquet', '--out', many, '--quiet']);
    expect(result.code, why(result)).toBe(0);
    const csvIds = (await readFile(path.join(many, 'customers.csv'), 'utf8')).trimEnd().split('\n').slice(1).map((l) => l.split(',')[0]!);
    const expected = lines.slice(1).map((l) => l.split(',')[0]!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(csvIds).toEqual(expected.map(safe));
    const parquetIds = await withEngine(async (engine) =>
      (await engine.all<{ customer_id: string }>(`SELECT customer_id FROM read_parquet(${engine.dialect.quoteString(path.join(many, 'customers.parquet'))})`)).map((r) => r.customer_id),
    );
    expect(parquetIds).toEqual(expected);
  });
});
