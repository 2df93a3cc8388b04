/**
 * Issue 16 item 6, through the real CLI on the CDNOW sample: an export a
 * mailing tool takes as it is. --columns and --rename (choice, order,
 * headers), the email first, --split-rows / --split-mb parts with the counts
 * on stderr adding up across them, --bom, and the usage errors; on every
 * engine of CRM_TEST_ENGINES (the history in a DuckDB file, or in a
 * PostgreSQL schema). The contacts are made here from the sample's ids (every
 * tenth customer has none), so the expected rows are worked out from them.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, type CliResult, exportCounts, logLines, messages, parseCsv, runCli, sha256, tempDir } from '../helpers.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const why = (r: CliResult) => `exit ${r.code}: ${r.stderr}`;
const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

interface Contact {
  id: string;
  email: string;
  first: string;
  last: string;
}

/** The sample's customer ids, in byte order; contacts for all but every tenth, with accents, commas and quotes in the names. */
async function cdnowContacts(): Promise<{ ids: string[]; contacts: Contact[] }> {
  const lines = (await readFile(CDNOW_CSV, 'utf8')).trimEnd().split('\n').slice(1);
  const ids = [...new Set(lines.map((l) => l.split(',')[0]!))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const firsts = ['Zoë', 'Ann', 'José', 'Bob'];
  const lasts = ['Smith', 'Doe, Jr', "O'Brien", 'Ståhl "PJ"', 'Lee'];
  const contacts = ids.filter((_, i) => i % 10 !== 3).map((id, i) => ({ id, email: `c${id}@example.com`, first: firsts[i % 4]!, last: lasts[i % 5]! }));
  return { ids, contacts };
}

/** The per-file lines of a split export: part, of, customers, file. */
const partLines = (stderr: string) =>
  logLines(stderr)
    .map((l) => /^crm export: part (\d+) of (\d+): (\d+) written to (.+)$/.exec(l.msg))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ part: Number(m[1]), of: Number(m[2]), customers: Number(m[3]), file: m[4]! }));

/** A CSV's records (its header and line breaks inside quotes kept in their record), as written. */
function csvRecords(text: string): string[] {
  const records: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') quoted = !quoted;
    else if (text[i] === '\n' && !quoted) records.push(text.slice(start, i + 1)), (start = i + 1);
  }
  if (start < text.length) records.push(text.slice(start));
  return records;
}

describeEachEngine('crm export for mailing tools', import.meta.url, (under) => {
  let dir: string;
  let history: string[];
  let contactsFile: string;
  let contacts: Contact[];
  let byEmail: Map<string, Contact>;
  const crm = (args: string[]) => runCli(['export', ...history, ...args], { env: { TZ: 'UTC' } });
  const out = (...parts: string[]) => path.join(dir, ...parts);

  beforeAll(async () => {
    dir = await tempDir('crm-mailing-upload-');
    const run = out('run');
    history = under.name === 'duckdb' ? ['--db', path.join(run, 'crm.duckdb')] : ['--engine', POSTGRES_URL, '--schema', under.schema];
    const scored = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--format', 'csv', '--out', run, ...(under.name === 'duckdb' ? [] : history), '-q'], { env: { TZ: 'UTC' } });
    expect(scored.code, why(scored)).toBe(0);
    ({ contacts } = await cdnowContacts());
    byEmail = new Map(contacts.map((c) => [c.email, c]));
    contactsFile = out('contacts.csv');
    await writeFile(contactsFile, ['customer_id,email,first_name,last_name', ...contacts.map((c) => [c.id, c.email, c.first, c.last].map(quote).join(','))].join('\n') + '\n');
  }, 240_000);

  it('--columns email,rfm_segment,clv --split-rows 1000: files whose first column is email, counts on stderr adding up across them', { timeout: 120_000 }, async () => {
    const result = await crm(['--contacts', contactsFile, '--columns', 'email,rfm_segment,clv', '--split-rows', '1000', '--out', out('acceptance', 'mailing.csv')]);
    expect(result.code, why(result)).toBe(0);
    // 2,357 customers, 236 of them (every tenth) without a contact: 2,121 written, 1,000 a file.
    const counts = exportCounts(result.stderr);
    expect(counts).toEqual({ run: 1, matched: 2357, withoutContact: 2357 - contacts.length, noAddress: 0, suppressed: 0, cutByLimit: 0, written: contacts.length });
    expect(contacts.length).toBe(2121);
    expect(await readdir(out('acceptance'))).toEqual(['mailing-001.csv', 'mailing-002.csv', 'mailing-003.csv']);
    const parts = partLines(result.stderr);
    expect(parts.map((p) => [p.part, p.of, p.customers, path.basename(p.file)])).toEqual([
      [1, 3, 1000, 'mailing-001.csv'],
      [2, 3, 1000, 'mailing-002.csv'],
      [3, 3, 121, 'mailing-003.csv'],
    ]);
    const rows: Record<string, string>[] = [];
    for (const p of parts) {
      const text = await readFile(p.file, 'utf8');
      expect(text.split('\r\n')[0], p.file).toBe('email,rfm_segment,clv');
      const fileRows = parseCsv(text);
      expect(fileRows.length, p.file).toBe(p.customers);
      rows.push(...fileRows);
    }
    expect(parts.reduce((sum, p) => sum + p.customers, 0)).toBe(counts.written);
    // Every customer with a contact exactly once, best CLV first across the files.
    expect(rows.map((r) => r.email).sort()).toEqual(contacts.map((c) => c.email).sort());
    const clv = rows.map((r) => Number(r.clv));
    for (let i = 1; i < clv.length; i++) expect(clv[i]!, `row ${i + 1}`).toBeLessThanOrEqual(clv[i - 1]!);
    // The values are the run's.
    const scored = new Map(parseCsv(await readFile(out('run', 'customers.csv'), 'utf8')).map((r) => [r.customer_id, r]));
    for (const r of rows) {
      const customer = scored.get(byEmail.get(r.email!)!.id)!;
      expect([r.rfm_segment, Number(r.clv)]).toEqual([customer.rfm_segment, Number(customer.clv)]);
    }
  });

  it('--columns and --rename: the order and headers asked for (Klaviyo\'s Email, First Name, Last Name); --bom adds the three bytes before the same CSV', { timeout: 120_000 }, async () => {
    const columns = ['--columns', 'email,first_name,last_name,rfm_segment,clv'];
    const renames = ['--rename', 'email=Email,first_name=First Name', '--rename', 'last_name=Last Name,clv=predicted_value'];
    const [plain, renamed, withBom] = await Promise.all([
      crm(['--contacts', contactsFile, ...columns, '--out', out('plain.csv')]),
      crm(['--contacts', contactsFile, ...columns, ...renames, '--out', out('klaviyo.csv')]),
      crm(['--contacts', contactsFile, ...columns, ...renames, '--bom', '--out', out('klaviyo-bom.csv')]),
    ]);
    for (const r of [plain, renamed, withBom]) expect(exportCounts(r.stderr).written, why(r)).toBe(2121);
    const text = await readFile(out('klaviyo.csv'), 'utf8');
    expect(text.split('\r\n')[0]).toBe('Email,First Name,Last Name,rfm_segment,predicted_value');
    const rows = parseCsv(text);
    for (const r of rows) {
      const contact = byEmail.get(r.Email!)!;
      expect([r['First Name'], r['Last Name']], r.Email).toEqual([contact.first, contact.last]);
    }
    // Only the header differs from the export without renames.
    const plainText = await readFile(out('plain.csv'), 'utf8');
    expect(plainText.split('\r\n')[0]).toBe('email,first_name,last_name,rfm_segment,clv');
    expect(text.slice(text.indexOf('\r\n'))).toBe(plainText.slice(plainText.indexOf('\r\n')));
    expect(await readFile(out('klaviyo-bom.csv'))).toEqual(Buffer.concat([BOM, Buffer.from(text, 'utf8')]));
    expect((await readFile(out('klaviyo.csv')))[0]).toBe(0x45);
  });

  it('a header given by --rename is only ever a quoted name: quotes and SQL in it are written as text', async () => {
    const result = await crm(['--columns', 'customer_id,clv', '--rename', 'clv=x"; DROP TABLE runs; --', '--limit', '1']);
    expect(result.code, why(result)).toBe(0);
    expect(result.stdout.split('\r\n')[0]).toBe('customer_id,"x""; DROP TABLE runs; --"');
    const runs = await runCli(['runs', ...history, '--json']);
    expect([runs.code, runs.stdout.trim().split('\n').length]).toEqual([0, 1]);
  });

  it('without --columns: the email first, the id, the other contact columns, then the short set of scores', async () => {
    const result = await crm(['--contacts', contactsFile, '--limit', '3']);
    expect(result.code, why(result)).toBe(0);
    expect(result.stdout.split('\r\n')[0]).toBe('email,customer_id,first_name,last_name,rfm_segment,lifecycle_stage,clv,p_alive,orders,revenue,last_purchase');
    // A contact column named like a score column: the score is written, and a warning says so.
    const clashing = out('contacts-with-revenue.csv');
    await writeFile(clashing, `customer_id,email,Revenue,first_purchase\n${contacts[0]!.id},${contacts[0]!.email},123,2001-01-01\n`);
    const hidden = await crm(['--contacts', clashing, '--columns', 'email,revenue']);
    expect(hidden.code, why(hidden)).toBe(0);
    expect(logLines(hidden.stderr).filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      `--contacts ${clashing}: Revenue, first_purchase are names of crm's own columns, which are written instead; rename them in the contacts file to export them`,
    ]);
    expect(hidden.stdout.split('\r\n')[1]).not.toContain(',123');
    const alone = await crm(['--limit', '3', '--columns', 'all']);
    expect(alone.stdout.split('\r\n')[0]).toMatch(/^customer_id,first_purchase,last_purchase,orders,revenue,.*,clv,(.*,)?lifecycle_stage,cluster,cluster_label,(.*,)?previous_segment,segment_changed_at$/);
  });

  it('--split-mb with --bom: every part within the size, as full as it can be, with the BOM and header; together the unsplit list', { timeout: 120_000 }, async () => {
    const limit = 30_000;
    const [split, whole] = await Promise.all([
      crm(['--contacts', contactsFile, '--split-mb', String(limit / 1e6), '--bom', '--out', out('by-size', 'mailing.csv')]),
      crm(['--contacts', contactsFile, '--bom', '--out', out('whole.csv')]),
    ]);
    expect(split.code, why(split)).toBe(0);
    expect(exportCounts(split.stderr).written).toBe(2121);
    const [header, ...body] = csvRecords((await readFile(out('whole.csv'))).subarray(3).toString('utf8'));
    const files = partLines(split.stderr).map((p) => p.file);
    expect(files.length).toBeGreaterThan(5);
    expect(await readdir(out('by-size'))).toEqual(files.map((f) => path.basename(f)));
    const parts = await Promise.all(files.map((f) => readFile(f)));
    const records: string[] = [];
    parts.forEach((part, i) => {
      expect(part.length, files[i]).toBeLessThanOrEqual(limit);
      expect(part.subarray(0, 3), files[i]).toEqual(BOM);
      const [partHeader, ...partRecords] = csvRecords(part.subarray(3).toString('utf8'));
      expect(partHeader).toBe(header);
      // Full: the next part's first record would not have fitted.
      if (i + 1 < parts.length) {
        const next = csvRecords(parts[i + 1]!.subarray(3).toString('utf8'))[1]!;
        expect(part.length + Buffer.byteLength(next), files[i]).toBeGreaterThan(limit);
      }
      records.push(...partRecords);
    });
    expect(records).toEqual(body);
    expect(partLines(split.stderr).reduce((sum, p) => sum + p.customers, 0)).toBe(body.length);
  });

  it('a shorter set replaces a longer one: parts the new export does not write go, other files stay', { timeout: 120_000 }, async () => {
    const folder = out('replace');
    await mkdir(folder);
    await Promise.all(['mailing-01.csv', 'other-004.csv', 'mailing.csv'].map((f) => writeFile(path.join(folder, f), 'keep\n')));
    const first = await crm(['--contacts', contactsFile, '--split-rows', '500', '--out', path.join(folder, 'mailing.csv')]);
    expect(first.code, why(first)).toBe(0);
    expect((await readdir(folder)).filter((f) => /^mailing-\d{3}\.csv$/.test(f))).toEqual(['mailing-001.csv', 'mailing-002.csv', 'mailing-003.csv', 'mailing-004.csv', 'mailing-005.csv']);
    const second = await crm(['--contacts', contactsFile, '--segment', 'Champions', '--split-rows', '1000', '--out', path.join(folder, 'mailing.csv')]);
    expect(second.code, why(second)).toBe(0);
    expect(await readdir(folder)).toEqual(['mailing-001.csv', 'mailing-01.csv', 'mailing.csv', 'other-004.csv']);
    expect(parseCsv(await readFile(path.join(folder, 'mailing-001.csv'), 'utf8')).length).toBe(exportCounts(second.stderr).written);
    for (const kept of ['mailing-01.csv', 'other-004.csv', 'mailing.csv']) expect(await readFile(path.join(folder, kept), 'utf8')).toBe('keep\n');
  });

  it('usage errors (exit 2), said before anything is written: unknown columns listing those there are, a split to stdout, clashing headers, a BOM on Parquet', async () => {
    const [unknown, toStdout, clash, bomParquet, splitParquet, tooSmall] = await Promise.all([
      crm(['--contacts', contactsFile, '--columns', 'email,segment', '--out', out('errors', 'unknown.csv')]),
      crm(['--contacts', contactsFile, '--split-rows', '1000']),
      crm(['--columns', 'customer_id,clv,revenue', '--rename', 'clv=revenue', '--out', out('errors', 'clash.csv')]),
      crm(['--bom', '--out', out('errors', 'mailing.parquet')]),
      crm(['--split-mb', '50', '--out', out('errors', 'mailing.parquet')]),
      crm(['--contacts', contactsFile, '--split-mb', '0.0001', '--out', out('errors', 'small.csv')]),
    ]);
    expect(unknown.code).toBe(2);
    expect(messages(unknown.stderr)).toMatch(
      /^--columns "segment": no such column; the columns are email, customer_id, first_name, last_name, first_purchase, last_purchase, orders, revenue, .*, rfm_segment, .*, clv, /,
    );
    expect([toStdout.code, toStdout.stdout, messages(toStdout.stderr)]).toEqual([
      2,
      '',
      '--split-rows needs --out: the parts are files named after it (--out mailing.csv writes mailing-001.csv, mailing-002.csv, …), not stdout',
    ]);
    expect([clash.code, messages(clash.stderr)]).toEqual([2, '--rename: clv and revenue would both be written as "revenue"; choose another name']);
    expect([bomParquet.code, messages(bomParquet.stderr)]).toEqual([2, '--bom is for CSV (Excel reads a CSV as UTF-8 with it); Parquet has none']);
    expect([splitParquet.code, messages(splitParquet.stderr)]).toEqual([2, '--split-mb is for CSV and NDJSON uploads; write Parquet as one file']);
    // 100 bytes cannot hold the header and one customer.
    expect(tooSmall.code).toBe(2);
    expect(messages(tooSmall.stderr)).toMatch(/^--split-mb 0\.0001: one customer's row takes \d+ bytes with the header, more than a part may hold$/);
    expect(await readdir(out('errors')).catch(() => [])).toEqual([]);
  });
});

describe('a split export stopped by SIGKILL', { timeout: 180_000 }, () => {
  let dir: string;
  let db: string;
  const parts = (folder: string) => readdir(folder).then((names) => names.filter((n) => /^mailing-\d{3}\.csv$/.test(n)));
  const hashes = async (folder: string) => Object.fromEntries(await Promise.all((await parts(folder)).map(async (n) => [n, await sha256(path.join(folder, n))])));
  const split = (rows: number, folder: string, env: NodeJS.ProcessEnv = {}) =>
    runCli(['export', '--db', db, '--split-rows', String(rows), '--out', path.join(folder, 'mailing.csv'), '-q'], { env: { TZ: 'UTC', ...env } });

  beforeAll(async () => {
    dir = await tempDir('crm-mailing-kill-');
    const scored = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--no-kmeans', '--format', 'csv', '--out', path.join(dir, 'run'), '-q']);
    expect(scored.code, why(scored)).toBe(0);
    db = path.join(dir, 'run', 'crm.duckdb');
  });

  it('between two renames of the publish: the next export in the folder finishes the set, old parts beyond it removed', async () => {
    const ref = path.join(dir, 'ref');
    const killedIn = path.join(dir, 'killed');
    expect((await split(1000, ref)).code).toBe(0);
    expect((await split(500, killedIn)).code).toBe(0);
    expect(await parts(killedIn)).toHaveLength(5);
    const killed = await split(1000, killedIn, { CRM_TEST_KILL_AT: 'publish-rename:2' });
    expect(killed.signal).toBe('SIGKILL');
    // Another export there (under another name) first rolls the interrupted one forward.
    const next = await runCli(['export', '--db', db, '--segment', 'Champions', '--split-rows', '1000', '--out', path.join(killedIn, 'champions.csv'), '-q']);
    expect(next.code, why(next)).toBe(0);
    expect(await hashes(killedIn)).toEqual(await hashes(ref));
    expect(Object.keys(await hashes(ref))).toEqual(['mailing-001.csv', 'mailing-002.csv', 'mailing-003.csv']);
    expect((await readdir(killedIn)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('SIGTERM while the parts are written: exit 143, the previous set as it was, no staging folder left', async () => {
    const folder = path.join(dir, 'term');
    expect((await split(500, folder)).code).toBe(0);
    const before = await hashes(folder);
    const stopped = await split(1000, folder, { CRM_TEST_KILL_AT: 'export-parts-written', CRM_TEST_SIGNAL: 'SIGTERM' });
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(await hashes(folder)).toEqual(before);
    expect((await readdir(folder)).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('before the publish: the previous set stands as it was, and the next export removes what the dead one left', async () => {
    const folder = path.join(dir, 'before');
    expect((await split(500, folder)).code).toBe(0);
    const before = await hashes(folder);
    const killed = await split(1000, folder, { CRM_TEST_KILL_AT: 'export-parts-written' });
    expect(killed.signal).toBe('SIGKILL');
    expect(await hashes(folder)).toEqual(before);
    expect((await readdir(folder)).filter((f) => f.startsWith('.crm-staging-'))).toHaveLength(1);
    expect((await split(1000, folder)).code).toBe(0);
    expect(await parts(folder)).toEqual(['mailing-001.csv', 'mailing-002.csv', 'mailing-003.csv']);
    expect((await readdir(folder)).filter((f) => f.startsWith('.'))).toEqual([]);
  });
});
