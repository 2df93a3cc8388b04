/**
 * Issue 5 end to end: run history, migration, mailing export and the HTML
 * report, through the real CLI on the CDNOW sample. Two scoring runs (as of
 * 1997-09-30 and 1998-06-30) share one database; every expectation is computed
 * here, from the runs' customers.parquet and the contact / suppression files
 * this test writes, never with the code under test.
 */
import { copyFile, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserSkipReason, checkReportInBrowser } from '../report/browser.js';
import { CDNOW_CSV, type CliResult, exportCounts, lastMessage, parseCsv, readJson, ROOT, runCli, sha256, tempDir, withEngine } from '../helpers.js';

const AS_OF_1 = '1997-09-30';
const AS_OF_2 = '1998-06-30';
const CUSTOMERS = 2357;

let dir: string;
let db: string;
let run1: string; // output folder of run 1 (its crm.duckdb is the shared database)
let run2: string;

interface Scored {
  customer_id: string;
  rfm_segment: string;
  r_score: number;
  f_score: number;
  m_score: number;
  lifecycle_stage: string;
  cluster: number;
  p_alive: number;
  clv: number;
  rfm_cell: string;
  previous_segment: string | null;
  segment_changed_at: string;
}

/** A run's customers.parquet as plain rows, read with a scratch DuckDB. */
async function readScored(outDir: string): Promise<Scored[]> {
  return withEngine((engine) =>
    engine.all<Scored>(
      `SELECT customer_id, rfm_segment, r_score::INTEGER AS r_score, f_score::INTEGER AS f_score, m_score::INTEGER AS m_score,
              lifecycle_stage, cluster::INTEGER AS cluster, p_alive, clv, rfm_cell, previous_segment,
              strftime(segment_changed_at, '%Y-%m-%d') AS segment_changed_at
       FROM read_parquet(${engine.dialect.quoteString(path.join(outDir, 'customers.parquet'))}) ORDER BY customer_id`,
    ),
  );
}

/** What a failed exit-code assertion shows: the code, any signal, and stderr. */
const why = (r: CliResult) => `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}: ${r.stderr}`;


/** Cells of the text matrix `crm migration` prints: row label → counts (last = row total). */
function matrixRows(stdout: string): Map<string, number[]> {
  const lines = stdout.trimEnd().split('\n');
  const rule = lines.findIndex((l) => /^-+(\s+-+)+$/.test(l));
  expect(rule, stdout).toBeGreaterThan(0);
  const rows = new Map<string, number[]>();
  for (const line of lines.slice(rule + 1)) {
    const m = /^(.*?)((?:\s+\d+)+)$/.exec(line);
    expect(m, line).not.toBeNull();
    rows.set(m![1]!.trim(), m![2]!.trim().split(/\s+/).map(Number));
  }
  return rows;
}

/** Checks a printed matrix: every row adds up to its total, the totals row to the columns; returns the grand total. */
function checkMatrix(stdout: string): number {
  const rows = matrixRows(stdout);
  const total = rows.get('total');
  expect([...rows.keys()], stdout).toContain('total');
  let sum = 0;
  const columns = new Array<number>(total!.length - 1).fill(0);
  for (const [label, values] of rows) {
    const cells = values.slice(0, -1);
    expect(cells.reduce((a, b) => a + b, 0), `row ${label}`).toBe(values.at(-1));
    if (label === 'total') continue;
    sum += cells.reduce((a, b) => a + b, 0);
    cells.forEach((v, i) => (columns[i]! += v));
  }
  expect(columns).toEqual(total!.slice(0, -1));
  expect(total!.at(-1)).toBe(sum);
  return sum;
}

beforeAll(async () => {
  dir = await tempDir('crm-history-');
  run1 = path.join(dir, 'run1');
  run2 = path.join(dir, 'run2');
  // The first run records into the default database (OUT/crm.duckdb); the second points --db at it.
  const first = await runCli(['score', CDNOW_CSV, '--as-of', AS_OF_1, '--out', run1, '--quiet']);
  expect(first.code, why(first)).toBe(0);
  db = path.join(run1, 'crm.duckdb');
  const second = await runCli(['score', CDNOW_CSV, '--as-of', AS_OF_2, '--out', run2, '--db', db, '--quiet']);
  expect(second.code, why(second)).toBe(0);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

// The tests run concurrently (each mostly waits on CLI processes); generous timeouts
// because the suite's other files compete for the same two cores.
describe.concurrent('run history, migration, export and report (end to end)', { timeout: 120_000 }, () => {
  it('lists both runs, prints migration matrices that add up, and carries the previous segment', async () => {
    const [table, json, bySegment, byStage, byCluster, badFrom, badTo, same] = await Promise.all([
      runCli(['runs', '--db', db]),
      runCli(['runs', '--db', db, '--json']),
      runCli(['migration', '--db', db, '--out', path.join(dir, 'migration.csv')]),
      runCli(['migration', '--db', db, '--by', 'stage']),
      runCli(['migration', '--db', db, '--by', 'cluster', '--out', path.join(dir, 'migration-cluster.csv')]),
      runCli(['migration', '--db', db, '--from', '99']),
      runCli(['migration', '--db', db, '--from', '1', '--to', '42']),
      runCli(['migration', '--db', db, '--from', '2', '--to', '2']),
    ]);

    // crm runs: a table and JSON lines.
    expect(table.code, why(table)).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run\s+as_of\s+/);
    expect(lines.slice(2)).toHaveLength(2);
    expect(lines[2]).toMatch(new RegExp(`^\\s*1\\s+${AS_OF_1}\\s.*\\s${CUSTOMERS}\\s+kept\\s`));
    expect(lines[3]).toMatch(new RegExp(`^\\s*2\\s+${AS_OF_2}\\s.*\\s${CUSTOMERS}\\s+kept\\s`));
    expect(json.code, why(json)).toBe(0);
    const runs = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(runs.map((r) => [r.run_id, r.as_of, r.customers, r.rows_read, r.scores_kept])).toEqual([
      [1, AS_OF_1, CUSTOMERS, 6919, true],
      [2, AS_OF_2, CUSTOMERS, 6919, true],
    ]);
    expect(runs[0].inputs).toEqual([CDNOW_CSV]);
    expect(runs[0].rows_excluded).toBe(1959);
    expect(runs[1].rows_excluded).toBe(0);

    // The union of both runs' customers, from the parquet files: everyone is in both.
    const [a, b] = await Promise.all([readScored(run1), readScored(run2)]);
    const union = new Set([...a, ...b].map((c) => c.customer_id));
    expect(union.size).toBe(CUSTOMERS);
    expect(a.length).toBe(CUSTOMERS);
    expect(b.length).toBe(CUSTOMERS);

    // Default migration: the last two runs, by segment; the printed matrix and the CSV both sum to the union.
    expect(bySegment.code, why(bySegment)).toBe(0);
    expect(bySegment.stdout).toMatch(/Migration by segment: run 1 \(rows\) → run 2 \(columns\)/);
    expect(checkMatrix(bySegment.stdout)).toBe(union.size);
    expect(bySegment.stdout).not.toMatch(/\((new|gone)\)/);
    const csv = parseCsv(await readFile(path.join(dir, 'migration.csv'), 'utf8'));
    expect(Object.keys(csv[0]!)).toEqual(['from', 'to', 'customers', 'revenue']);
    expect(csv.reduce((s, r) => s + Number(r.customers), 0)).toBe(union.size);
    // Each cell against the parquet files.
    const expected = new Map<string, number>();
    const segmentOf = new Map(a.map((c) => [c.customer_id, c.rfm_segment]));
    for (const c of b) {
      const key = `${segmentOf.get(c.customer_id)}→${c.rfm_segment}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map(csv.map((r) => [`${r.from}→${r.to}`, Number(r.customers)]))).toEqual(expected);
    // The printed matrix has the same cells (Champions stayed Champions, for one).
    const printed = matrixRows(bySegment.stdout);
    const header = bySegment.stdout.split('\n')[1]!.split(/\s{2,}/).slice(1, -1);
    expect(printed.get('Champions')![header.indexOf('Champions')]).toBe(expected.get('Champions→Champions'));

    for (const [result, by] of [[byStage, 'stage'], [byCluster, 'cluster']] as const) {
      expect(result.code, why(result)).toBe(0);
      expect(result.stdout).toContain(`Migration by ${by}: run 1 (rows) → run 2 (columns)`);
      expect(checkMatrix(result.stdout)).toBe(union.size);
    }
    expect(byStage.stdout).toMatch(/\n(active|loyal|lapsed|lost|at_risk|reactivated|new)\s/);
    const clusterCsv = parseCsv(await readFile(path.join(dir, 'migration-cluster.csv'), 'utf8'));
    expect(clusterCsv.reduce((s, r) => s + Number(r.customers), 0)).toBe(union.size);

    // Unknown or equal run ids are usage errors with a clear message.
    expect(badFrom.code, why(badFrom)).toBe(2);
    expect(badFrom.stderr).toMatch(/no run 99 in the database/);
    expect(badTo.code, why(badTo)).toBe(2);
    expect(badTo.stderr).toMatch(/no run 42 in the database/);
    expect(same.code, why(same)).toBe(2);
    expect(same.stderr).toMatch(/same run/);
    for (const r of [badFrom, badTo, same]) expect(r.stdout).toBe('');

    // The second run's table knows the first run's segment and when the current one began.
    const before = new Map(a.map((c) => [c.customer_id, c]));
    expect(b.find((c) => c.customer_id === '00004')!.previous_segment).toBe(before.get('00004')!.rfm_segment);
    let changed = 0;
    for (const c of b) {
      const prev = before.get(c.customer_id)!;
      expect(c.previous_segment, c.customer_id).toBe(prev.rfm_segment);
      expect(c.segment_changed_at, c.customer_id).toBe(c.rfm_segment === prev.rfm_segment ? AS_OF_1 : AS_OF_2);
      if (c.rfm_segment !== prev.rfm_segment) changed += 1;
    }
    expect(changed).toBeGreaterThan(100);
    expect(changed).toBeLessThan(CUSTOMERS - 100);
    // The first run has no history yet: no previous segment, its segments begin at its own as-of.
    expect(a.every((c) => c.previous_segment === null && c.segment_changed_at === AS_OF_1)).toBe(true);
    // The CSV output carries the same columns.
    const csvRows = parseCsv(await readFile(path.join(run2, 'customers.csv'), 'utf8'));
    const sample = csvRows.find((r) => r.customer_id === '00004')!;
    expect(sample.previous_segment).toBe(before.get('00004')!.rfm_segment);
    expect(sample.segment_changed_at).toBe(sample.rfm_segment === sample.previous_segment ? AS_OF_1 : AS_OF_2);
    const summary = await readJson(path.join(run2, 'summary.json'));
    expect(summary.run.id).toBe(2);
  });

  it('exports a mailing list: filters, contacts, suppressions, budget, order, formats and counts that add up', async () => {
    const b = await readScored(run2);
    const ids = b.map((c) => c.customer_id); // sorted by customer_id
    const champions = b.filter((c) => c.rfm_segment === 'Champions').sort((x, y) => y.clv - x.clv || (x.customer_id < y.customer_id ? -1 : 1));
    expect(champions.length).toBeGreaterThan(300);

    // Contacts for most customers (every 10th has none), names that need quoting, non-ASCII and an embedded quote.
    const contacts = new Map<string, { email: string; name: string }>();
    const withoutContact = new Set(ids.filter((_, i) => i % 10 === 3));
    // Make sure some of the very best Champions have no contact.
    for (const c of champions.slice(1, 4)) withoutContact.add(c.customer_id);
    ids.forEach((id, i) => {
      if (withoutContact.has(id)) return;
      const name = i % 4 === 0 ? `Doe, Jane ${id}` : i % 4 === 1 ? `Zoë Ünïcode-Ståhl ${id}` : i % 4 === 2 ? `Pat "PJ" O'Neil ${id}` : `Customer ${id}`;
      contacts.set(id, { email: `customer.${id}@example.com`, name });
    });
    const quote = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    const contactsCsv = ['customer_id,email,name', ...[...contacts].map(([id, c]) => [id, c.email, c.name].map(quote).join(','))].join('\r\n') + '\r\n';
    // A file name with a quote and a space: paths are bound, never spliced into SQL.
    const contactsFile = path.join(dir, "contacts o'brien.csv");
    await writeFile(contactsFile, contactsCsv, 'utf8');

    // Suppress some of the best Champions by id and others by email (one in upper case with spaces),
    // one Champion without contact, and noise that matches no one.
    const withContact = champions.filter((c) => contacts.has(c.customer_id));
    const byId = [withContact[0]!, withContact[5]!, withContact[10]!].map((c) => c.customer_id);
    const byEmail = [withContact[2]!, withContact[7]!, withContact[40]!].map((c) => contacts.get(c.customer_id)!.email);
    const noContactChampion = champions.find((c) => !contacts.has(c.customer_id))!.customer_id;
    const suppressLines = [
      'customer_id,email',
      ...byId.map((id) => `${id},`),
      `,${byEmail[0]}`,
      `,${byEmail[1]}`,
      `,"  ${byEmail[2]!.toUpperCase()} "`,
      `${noContactChampion},`,
      ',nobody@example.com',
      'no-such-id,',
    ];
    const suppressFile = path.join(dir, 'suppress.csv');
    await writeFile(suppressFile, `${suppressLines.join('\n')}\n`);
    // The same list as plain lines without a header (its first line must count too).
    const plainSuppressFile = path.join(dir, 'suppress-plain.txt');
    await writeFile(plainSuppressFile, `${[...byId, byEmail[0], noContactChampion, byEmail[1], byEmail[2]].join('\n')}\n`);
    const suppressedIds = new Set(byId.concat(noContactChampion));
    const suppressedEmails = new Set(byEmail.map((e) => e.toLowerCase()));

    // The expectation, computed here.
    const isSuppressed = (id: string) => suppressedIds.has(id) || suppressedEmails.has(contacts.get(id)?.email.toLowerCase() ?? '');
    const eligible = champions.filter((c) => contacts.has(c.customer_id) && !isSuppressed(c.customer_id));
    const expectedIds = eligible.slice(0, 100).map((c) => c.customer_id);
    const expectedCounts = {
      run: 2,
      matched: champions.length,
      withoutContact: champions.filter((c) => !contacts.has(c.customer_id)).length,
      noAddress: 0,
      suppressed: champions.filter((c) => contacts.has(c.customer_id) && isSuppressed(c.customer_id)).length,
      cutByLimit: eligible.length - 100,
      written: 100,
    };
    expect(expectedCounts.suppressed).toBe(6);
    expect(expectedCounts.withoutContact).toBeGreaterThan(3);

    const common = ['export', '--db', db, '--segment', 'Champions', '--contacts', contactsFile, '--suppress', suppressFile, '--limit', '100', '--order-by', 'clv'];
    const csvOut = path.join(dir, "mailing it's.csv");
    const parquetOut = path.join(dir, 'mailing.parquet');
    const ndjsonOut = path.join(dir, 'mailing.ndjson');
    const plainOut = path.join(dir, 'mailing-plain.csv');
    // The contacts as Parquet give the same list.
    const contactsParquet = path.join(dir, 'contacts.parquet');
    await withEngine((engine) =>
      engine.run(`COPY (SELECT * FROM read_csv(${engine.dialect.quoteString(contactsFile)}, all_varchar = true)) TO ${engine.dialect.quoteString(contactsParquet)} (FORMAT parquet)`),
    );
    const parquetContactsOut = path.join(dir, 'mailing-parquet-contacts.csv');
    const withParquetContacts = [...common];
    withParquetContacts[withParquetContacts.indexOf(contactsFile)] = contactsParquet;
    const [csvRun, parquetRun, ndjsonRun, stdoutRun, plainRun, parquetContactsRun] = await Promise.all([
      runCli([...common, '--out', csvOut]),
      runCli([...common, '--out', parquetOut]),
      runCli([...common, '--out', ndjsonOut]),
      runCli(common),
      runCli([...common.slice(0, -6), '--suppress', plainSuppressFile, '--limit', '100', '--out', plainOut]),
      runCli([...withParquetContacts, '--out', parquetContactsOut]),
    ]);
    for (const r of [csvRun, parquetRun, ndjsonRun, stdoutRun, plainRun, parquetContactsRun]) {
      expect(r.code, why(r)).toBe(0);
      const counts = exportCounts(r.stderr);
      expect(counts).toEqual(expectedCounts);
    }
    expect(csvRun.stdout).toBe('');

    // CSV: header, UTF-8, RFC 4180 quoting; exactly the expected customers in the expected order.
    const text = await readFile(csvOut, 'utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    // RFC 4180 records end in CRLF (every line break outside quotes).
    expect(text.endsWith('\r\n')).toBe(true);
    // The email first (mailing tools key on it), then the id, the other contact columns and the default score columns.
    expect(text.split('\r\n')[0]).toBe('email,customer_id,name,rfm_segment,lifecycle_stage,clv,p_alive,orders,revenue,last_purchase');
    const rows = parseCsv(text);
    expect(rows.length).toBeLessThanOrEqual(100);
    expect(rows.map((r) => r.customer_id)).toEqual(expectedIds);
    for (const r of rows) {
      expect(r.rfm_segment).toBe('Champions');
      expect(r.email).toBe(contacts.get(r.customer_id)!.email);
      expect(r.name).toBe(contacts.get(r.customer_id)!.name);
      expect(isSuppressed(r.customer_id)).toBe(false);
    }
    const clvs = rows.map((r) => Number(r.clv));
    for (let i = 1; i < clvs.length; i++) {
      expect(clvs[i]! < clvs[i - 1]! || (clvs[i] === clvs[i - 1] && rows[i]!.customer_id > rows[i - 1]!.customer_id)).toBe(true);
    }
    const quoted = rows.find((r) => r.name.startsWith('Doe, Jane'))!;
    expect(text).toContain(`"${quoted.name}"`);
    // Names follow the id's position (every 4th has "PJ"), so some of the 100 expected customers have one.
    const withQuote = expectedIds.map((id) => contacts.get(id)!.name).filter((name) => name.includes('"PJ"'));
    expect(withQuote.length).toBeGreaterThan(0);
    for (const name of withQuote) expect(text).toContain(`,"${name.replaceAll('"', '""')}",`);
    expect(rows.some((r) => r.name.startsWith('Zoë Ünïcode-Ståhl'))).toBe(true);
    expect(await readFile(csvOut)).toEqual(Buffer.from(text, 'utf8'));

    // stdout is the same CSV; so is the export with the header-less suppression list.
    expect(stdoutRun.stdout).toBe(text);
    expect(await readFile(plainOut, 'utf8')).toBe(text);
    expect(await readFile(parquetContactsOut, 'utf8')).toBe(text);

    // Parquet and NDJSON: same rows, same order.
    const parquetIds = await withEngine((engine) =>
      engine.all<{ customer_id: string; name: string }>(`SELECT customer_id, name FROM read_parquet(${engine.dialect.quoteString(parquetOut)})`),
    );
    expect(parquetIds.map((r) => r.customer_id)).toEqual(expectedIds);
    expect(parquetIds.map((r) => r.name)).toEqual(expectedIds.map((id) => contacts.get(id)!.name));
    const ndjson = (await readFile(ndjsonOut, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(ndjson.map((r) => r.customer_id)).toEqual(expectedIds);
    expect(ndjson[0].email).toBe(contacts.get(expectedIds[0]!)!.email);
    expect(typeof ndjson[0].clv).toBe('number');

    // Other filters, each against the parquet file.
    const out = (name: string) => path.join(dir, name);
    // (Filters combine with AND; each combination below is checked against the parquet file,
    // so a filter that did nothing would show as extra rows.)
    const [cellAlive, cellSetStage, combined, slipping] = await Promise.all([
      runCli(['export', '--db', db, '--cell', '5??', '--min-p-alive', '0.9', '--order-by', 'p_alive', '--out', out('p-alive.csv')]),
      runCli(['export', '--db', db, '--cell', '[45][45]?', '--stage', 'loyal', '--stage', 'at_risk', '--order-by', 'recency_days', '--columns', 'customer_id,recency_days', '--out', out('cell-set.csv')]),
      runCli(['export', '--db', db, '--run', '2', '--segment', 'Loyal', '--segment', 'Champions', '--cluster', '1', '--max-p-alive', '0.95', '--min-clv', '50', '--out', out('combined.csv')]),
      runCli(['export', '--db', db, '--preset', 'slipping', '--columns', 'all', '--out', out('slipping.csv')]),
    ]);
    const check = async (result: CliResult, file: string, keep: (c: Scored) => boolean) => {
      expect(result.code, why(result)).toBe(0);
      const got = parseCsv(await readFile(out(file), 'utf8')).map((r) => r.customer_id).sort();
      const want = b.filter(keep).map((c) => c.customer_id);
      expect(got.length, file).toBeGreaterThan(0);
      expect(got, file).toEqual(want);
      const counts = exportCounts(result.stderr);
      expect(counts, file).toEqual({ run: 2, matched: want.length, withoutContact: 0, noAddress: 0, suppressed: 0, cutByLimit: 0, written: want.length });
    };
    await check(cellAlive, 'p-alive.csv', (c) => c.r_score === 5 && c.p_alive >= 0.9);
    await check(cellSetStage, 'cell-set.csv', (c) => c.r_score >= 4 && c.f_score >= 4 && ['loyal', 'at_risk'].includes(c.lifecycle_stage));
    // Each filter alone would have let more through.
    expect(b.filter((c) => c.r_score === 5).length).toBeGreaterThan(b.filter((c) => c.r_score === 5 && c.p_alive >= 0.9).length);
    expect(b.filter((c) => c.p_alive >= 0.9).length).toBeGreaterThan(b.filter((c) => c.r_score === 5 && c.p_alive >= 0.9).length);
    const isStage = (c: Scored) => ['loyal', 'at_risk'].includes(c.lifecycle_stage);
    expect(b.filter(isStage).length).toBeGreaterThan(b.filter((c) => c.r_score >= 4 && c.f_score >= 4 && isStage(c)).length);
    expect(b.filter((c) => c.r_score >= 4 && c.f_score >= 4).length).toBeGreaterThan(b.filter((c) => c.r_score >= 4 && c.f_score >= 4 && isStage(c)).length);
    await check(combined, 'combined.csv', (c) => ['Loyal', 'Champions'].includes(c.rfm_segment) && c.cluster === 1 && c.p_alive <= 0.95 && c.clv >= 50);
    // Order: recency_days ascending, p_alive descending.
    const recency = parseCsv(await readFile(out('cell-set.csv'), 'utf8')).map((r) => Number(r.recency_days));
    expect(recency).toEqual([...recency].sort((x, y) => x - y));
    const alive = parseCsv(await readFile(out('p-alive.csv'), 'utf8')).map((r) => Number(r.p_alive));
    expect(alive).toEqual([...alive].sort((x, y) => y - x));

    // Slipping: R or F score fell since run 1, with M score or CLV in the top 40%.
    expect(slipping.code, why(slipping)).toBe(0);
    const a = new Map((await readScored(run1)).map((c) => [c.customer_id, c]));
    const sorted = b.map((c) => c.clv).sort((x, y) => x - y);
    const slipped = parseCsv(await readFile(out('slipping.csv'), 'utf8'));
    expect(slipped.length).toBeGreaterThan(0);
    const byIdNow = new Map(b.map((c) => [c.customer_id, c]));
    for (const r of slipped) {
      const now = byIdNow.get(r.customer_id)!;
      const then = a.get(r.customer_id)!;
      expect(now.r_score < then.r_score || now.f_score < then.f_score, r.customer_id).toBe(true);
      expect(Number(r.r_score)).toBe(now.r_score);
      // CLV in the top 40%: at least 60% of customers have a CLV at or below it.
      const rank = sorted.filter((v) => v <= now.clv).length / sorted.length;
      expect(now.m_score >= 4 || rank >= 0.6, r.customer_id).toBe(true);
    }
    // And nobody is missing: every high-value customer whose R or F fell is on the list.
    const cut = await withEngine(async (engine) =>
      (await engine.one<{ q: number }>(`SELECT quantile_cont(clv, 0.6) AS q FROM read_parquet(${engine.dialect.quoteString(path.join(run2, 'customers.parquet'))})`))!.q,
    );
    const expectedSlipping = b
      .filter((c) => {
        const then = a.get(c.customer_id)!;
        return (c.r_score < then.r_score || c.f_score < then.f_score) && (c.m_score >= 4 || c.clv >= cut);
      })
      .map((c) => c.customer_id);
    expect(slipped.map((r) => r.customer_id).sort()).toEqual(expectedSlipping);
  });

  it('counts customers new in or gone from the later run as their own row and column', async () => {
    // A third run on a copy of the database: customers from id 20000 on are left out, one new customer comes in.
    const newDb = path.join(dir, 'new-gone.duckdb');
    await copyFile(db, newDb);
    const lines = (await readFile(CDNOW_CSV, 'utf8')).trimEnd().split('\n');
    const kept = lines.slice(1).filter((l) => l.split(',')[0]! < '20000');
    const input = path.join(dir, 'subset.csv');
    await writeFile(input, [lines[0], ...kept, 'NEW-1,1998-05-01,40.00', 'NEW-1,1998-06-01,25.50'].join('\n') + '\n');
    const gone = new Set(lines.slice(1).map((l) => l.split(',')[0]!).filter((id) => id >= '20000')).size;
    expect(gone).toBeGreaterThan(0);
    const run = await runCli(['score', input, '--as-of', AS_OF_2, '--out', path.join(dir, 'run-subset'), '--db', newDb, '--quiet']);
    expect(run.code, why(run)).toBe(0);
    const csvOut = path.join(dir, 'new-gone.csv');
    const [bySegment, byStage, toOnly] = await Promise.all([
      runCli(['migration', '--db', newDb, '--out', csvOut]),
      runCli(['migration', '--db', newDb, '--by', 'stage', '--from', '1']),
      runCli(['migration', '--db', newDb, '--to', '2']),
    ]);
    // --to alone compares with the run before it.
    expect(toOnly.code, why(toOnly)).toBe(0);
    expect(toOnly.stdout).toMatch(/run 1 \(rows\) → run 2 \(columns\)/);
    expect(checkMatrix(toOnly.stdout)).toBe(CUSTOMERS);
    for (const r of [bySegment, byStage]) {
      expect(r.code, why(r)).toBe(0);
      expect(checkMatrix(r.stdout)).toBe(CUSTOMERS + 1);
      const rows = matrixRows(r.stdout);
      expect(rows.get('(new)')!.at(-1)).toBe(1);
      const header = r.stdout.split('\n')[1]!.split(/\s{2,}/);
      expect(header.at(-2)).toBe('(gone)');
      expect(rows.get('total')![header.indexOf('(gone)') - 1]).toBe(gone);
    }
    expect(bySegment.stdout).toMatch(/run 2 \(rows\) → run 3 \(columns\)/);
    expect(byStage.stdout).toMatch(/run 1 \(rows\) → run 3 \(columns\)/);
    const cells = parseCsv(await readFile(csvOut, 'utf8'));
    expect(cells.filter((c) => c.from === '(new)').reduce((s, c) => s + Number(c.customers), 0)).toBe(1);
    expect(cells.filter((c) => c.to === '(gone)').reduce((s, c) => s + Number(c.customers), 0)).toBe(gone);
    expect(cells.reduce((s, c) => s + Number(c.customers), 0)).toBe(CUSTOMERS + 1);
  });

  it('export and report --out: a folder not made yet is made (reports/run-12.html), a folder in its place is a usage error said up front', async () => {
    const nested = path.join(dir, 'out-files', 'reports');
    const [report, mailing, reportOnFolder, exportOnFolder] = await Promise.all([
      runCli(['report', '--db', db, '--out', path.join(nested, 'run-2.html'), '--quiet']),
      runCli(['export', '--db', db, '--segment', 'Champions', '--out', path.join(dir, 'out-files', 'mailings', 'champions.csv')]),
      runCli(['report', '--db', db, '--out', dir, '--quiet']),
      runCli(['export', '--db', db, '--segment', 'Champions', '--out', dir]),
    ]);
    // Both failed before: ENOENT opening the temp file in a folder that was not there.
    expect(report.code, why(report)).toBe(0);
    expect((await readFile(path.join(nested, 'run-2.html'), 'utf8')).startsWith('<!doctype html>')).toBe(true);
    expect(mailing.code, why(mailing)).toBe(0);
    expect(exportCounts(mailing.stderr).written).toBeGreaterThan(0);
    // Before: EISDIR on the rename, after all the work, with the temp file left beside the folder.
    expect(reportOnFolder.code, why(reportOnFolder)).toBe(2);
    expect(lastMessage(reportOnFolder.stderr)).toBe(`--out ${dir}: a folder is there; give a file name, e.g. ${path.join(dir, 'report.html')}`);
    expect(exportOnFolder.code, why(exportOnFolder)).toBe(2);
    expect(lastMessage(exportOnFolder.stderr)).toBe(`--out ${dir}: a folder is there; give a file name, e.g. ${path.join(dir, 'mailing.csv')}`);
    expect((await readdir(path.dirname(dir))).filter((name) => name.startsWith(`.${path.basename(dir)}.`))).toEqual([]);
  });

  it('keeps SQL in filter values inert: refused, nothing written, the database unchanged', async () => {
    const before = await sha256(db);
    const sizeBefore = (await stat(db)).size;
    const out = (name: string) => path.join(dir, name);
    const [segment, cluster, stage, cell, minClv, emptySegment] = await Promise.all([
      runCli(['export', '--db', db, '--segment', "x' OR '1'='1", '--out', out('inject-segment.csv')]),
      runCli(['export', '--db', db, '--cluster', "1' OR '1'='1", '--out', out('inject-cluster.csv')]),
      runCli(['export', '--db', db, '--stage', "lost'; DROP TABLE runs; --", '--out', out('inject-stage.csv')]),
      runCli(['export', '--db', db, '--cell', "5' OR '1'='1", '--out', out('inject-cell.csv')]),
      runCli(['export', '--db', db, '--min-clv', '0; DROP TABLE history.runs', '--out', out('inject-clv.csv')]),
      // A valid segment with no customers in this run is an empty list, not an error.
      runCli(['export', '--db', db, '--segment', 'New Customers', '--out', out('empty-segment.csv')]),
    ]);
    const newCustomers = (await readScored(run2)).filter((c) => c.rfm_segment === 'New Customers').length;
    expect(emptySegment.code, why(emptySegment)).toBe(0);
    expect(exportCounts(emptySegment.stderr)).toMatchObject({ matched: newCustomers, written: newCustomers });
    expect(parseCsv(await readFile(out('empty-segment.csv'), 'utf8'))).toHaveLength(newCustomers);
    expect(segment.code, why(segment)).toBe(2);
    expect(lastMessage(segment.stderr)).toContain(`--segment "x' OR '1'='1" is not in run 2; valid: `);
    for (const name of ['Champions', 'Loyal', 'Potential Loyalist', 'At Risk', "Can't Lose Them", 'Hibernating', 'Lost']) expect(lastMessage(segment.stderr)).toContain(name);
    expect(cluster.code, why(cluster)).toBe(2);
    expect(lastMessage(cluster.stderr)).toMatch(/--cluster "1' OR '1'='1" is not in run 2; valid: 1 \(/);
    expect(stage.code, why(stage)).toBe(2);
    expect(lastMessage(stage.stderr)).toMatch(/--stage "lost'; DROP TABLE runs; --" is not in run 2; valid: .*lost/);
    expect(cell.code, why(cell)).toBe(2);
    expect(cell.stderr).toMatch(/not an RFM cell pattern/);
    expect(minClv.code, why(minClv)).toBe(2);
    expect(minClv.stderr).toMatch(/--min-clv expects a number/);
    for (const r of [segment, cluster, stage, cell, minClv]) {
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    }
    for (const f of ['segment', 'cluster', 'stage', 'cell', 'clv']) {
      await expect(stat(out(`inject-${f}.csv`)), f).rejects.toThrow(/ENOENT/);
    }

    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(runs.code, why(runs)).toBe(0);
    expect(runs.stdout.trim().split('\n').map((l) => JSON.parse(l).run_id)).toEqual([1, 2]);
    expect((await stat(db)).size).toBe(sizeBefore);
    expect(await sha256(db)).toBe(before);
  });

  it('writes a self-contained report whose charts draw in headless Chromium', async (context) => {
    const skip = browserSkipReason();
    if (skip) context.skip(skip);
    const html = path.join(dir, 'report.html');
    const result = await runCli(['report', '--db', db, '--out', html, '--quiet']);
    expect(result.code, why(result)).toBe(0);
    const page = await readFile(html, 'utf8');
    expect(page).toContain('BG/NBD');
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?https?:/i);

    const check = await checkReportInBrowser(html, path.join(dir, 'report.png'));
    expect(check.consoleErrors).toEqual([]);
    expect(check.failedRequests).toEqual([]);
    expect(check.dialogs).toEqual([]);
    expect(check.requests).toHaveLength(1);
    // The customer base, the model's diagnostics (no holdout in these runs) and the two runs across the history.
    const names = ['rfm-heatmap', 'segments', 'pareto', 'clv', 'lifecycle', 'clusters', 'migration'];
    names.push('period-transactions', 'p-alive', 'p-alive-matrix', 'frequency-recency-matrix', 'history-kpis', 'history-segments', 'history-stages');
    expect(check.charts.map((c) => c.name).sort()).toEqual([...names].sort());
    for (const chart of check.charts) {
      expect(chart.hasSvg, chart.name).toBe(true);
      expect(chart.marks, chart.name).toBeGreaterThan(10);
    }
  });

  it('--keep-runs prunes older runs\' scores; migration from a pruned run is a usage error', async () => {
    const pruneDb = path.join(dir, 'prune.duckdb');
    await copyFile(db, pruneDb);
    const run3 = path.join(dir, 'run3');
    const third = await runCli(['score', CDNOW_CSV, '--as-of', AS_OF_2, '--out', run3, '--db', pruneDb, '--keep-runs', '1', '--quiet']);
    expect(third.code, why(third)).toBe(0);

    const [table, defaultMigration, fromPruned, exportPruned] = await Promise.all([
      runCli(['runs', '--db', pruneDb]),
      runCli(['migration', '--db', pruneDb]),
      runCli(['migration', '--db', pruneDb, '--from', '1', '--to', '3']),
      runCli(['export', '--db', pruneDb, '--run', '2', '--out', path.join(dir, 'pruned.csv')]),
    ]);
    expect(table.code, why(table)).toBe(0);
    const lines = table.stdout.trimEnd().split('\n').slice(2);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => /\b(kept|pruned)\b/.exec(l)?.[1])).toEqual(['pruned', 'pruned', 'kept']);

    for (const r of [defaultMigration, fromPruned, exportPruned]) {
      expect(r.code, why(r)).toBe(2);
      expect(r.stdout).toBe('');
    }
    expect(defaultMigration.stderr).toMatch(/needs an earlier run with scores before run 3/);
    expect(fromPruned.stderr).toMatch(/run 1's customer scores were pruned \(--keep-runs\)/);
    expect(exportPruned.stderr).toMatch(/run 2's customer scores were pruned/);
    await expect(stat(path.join(dir, 'pruned.csv'))).rejects.toThrow(/ENOENT/);

    // Only the newest run's scores are left, and it still took its history from run 2 before pruning.
    const left = await withEngine(async (engine) => {
      await engine.run(`ATTACH ${engine.dialect.quoteString(pruneDb)} AS h (READ_ONLY)`);
      return {
        scores: await engine.all<{ run_id: number; n: number }>(`SELECT run_id::INTEGER AS run_id, count(*)::INTEGER AS n FROM h.customer_scores GROUP BY run_id`),
        kept: (await engine.all<{ kept: boolean }>(`SELECT scores_kept AS kept FROM h.runs ORDER BY run_id`)).map((r) => r.kept),
      };
    });
    expect(left).toEqual({ scores: [{ run_id: 3, n: CUSTOMERS }], kept: [false, false, true] });
    const [b, c] = await Promise.all([readScored(run2), readScored(run3)]);
    const previous = new Map(b.map((x) => [x.customer_id, x]));
    for (const x of c) {
      expect(x.previous_segment).toBe(previous.get(x.customer_id)!.rfm_segment);
      // Same as-of as run 2, so nobody changed segment: the date carries over from run 2.
      expect(x.segment_changed_at).toBe(previous.get(x.customer_id)!.segment_changed_at);
    }
  });
});
