import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { silentEffects } from '../../src/effects.js';
import { runScore } from '../../src/jobs/score.js';
import { config, fixture, parseCsv, tempDir, withEngine } from '../helpers.js';

/** Options of the runs here that look at loading only: RFM scores, a CSV table, no database. */
const LOAD_ONLY = { noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false }, lifecycle: { enabled: false } };

/** A run's output table (rejects.csv, customers.csv), parsed. */
const readOutput = async (dir: string, table: 'rejects' | 'customers') => parseCsv(await readFile(path.join(dir, `${table}.csv`), 'utf8'));

/** fixtures/bad/: each file with what must happen to it. */
const CORPUS: { file: string; options?: Record<string, unknown>; error?: RegExp; read?: number; rejected?: { line: number; reason: RegExp }[] }[] = [
  { file: 'wrong_delimiter.csv', read: 3, rejected: [] },
  { file: 'wrong_delimiter.csv', options: { delimiter: ',' }, error: /missing customer column .*columns: customer_id;order_date;amount/ },
  { file: 'missing_column.csv', error: /missing amount column/ },
  {
    file: 'bad_dates.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^unparseable date$/ },
      { line: 4, reason: /^unparseable date$/ },
      { line: 5, reason: /^missing date$/ },
      { line: 6, reason: /^unparseable date$/ },
    ],
  },
  {
    file: 'non_numeric_amounts.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^non-numeric amount$/ },
      { line: 4, reason: /^missing amount$/ },
      { line: 5, reason: /^non-numeric amount$/ },
      { line: 6, reason: /^non-numeric amount$/ },
    ],
  },
  { file: 'empty.csv', error: /empty\.csv: the file is empty/ },
  { file: 'header_only.csv', error: /header_only\.csv: no transaction rows/ },
  { file: 'utf8_bom.csv', read: 2, rejected: [] },
  { file: 'crlf.csv', read: 3, rejected: [] },
  { file: 'quoted_delimiters.csv', read: 3, rejected: [{ line: 3, reason: /^non-numeric amount$/ }] },
  { file: 'long_ids.csv', read: 3, rejected: [] },
  {
    file: 'mixed_date_formats.csv',
    read: 6,
    rejected: [
      { line: 6, reason: /^unparseable date$/ },
      { line: 7, reason: /^unparseable date$/ },
    ],
  },
  {
    file: 'missing_ids_and_fields.csv',
    read: 6,
    rejected: [
      { line: 3, reason: /^missing customer id$/ },
      { line: 4, reason: /^too many columns/ },
      { line: 5, reason: /^missing customer id$/ },
      { line: 6, reason: /^missing columns/ },
    ],
  },
  // Blank lines at the start, in the middle, before bad rows and at the end: lines are physical lines.
  ...['blank_lines.csv', 'blank_lines_crlf.csv'].map((file) => ({
    file,
    read: 6,
    rejected: [
      { line: 6, reason: /^unparseable date$/ },
      { line: 7, reason: /^too many columns/ },
      { line: 9, reason: /^non-numeric amount$/ },
      { line: 10, reason: /^missing customer id$/ },
    ],
  })),
  // Quoted fields with line breaks (one with a blank line inside): the line where the record starts.
  {
    file: 'multiline_quoted.csv',
    read: 7,
    rejected: [
      { line: 5, reason: /^unparseable date$/ },
      { line: 9, reason: /^non-numeric amount$/ },
      { line: 10, reason: /^missing date$/ },
      { line: 12, reason: /^too many columns/ },
    ],
  },
  // A double quote inside an unquoted field (12" vinyl) opens no quoted field: later lines stay where they are.
  {
    file: 'stray_quote.csv',
    read: 5,
    rejected: [
      { line: 5, reason: /^unparseable date$/ },
      { line: 6, reason: /^non-numeric amount$/ },
      { line: 7, reason: /^missing date$/ },
    ],
  },
];

/** Reasons for a value: the reject shows the row's fields. Other reasons (the wrong number of columns) show the line. */
const VALUE_REASON = /^(missing customer id|missing date|missing amount|unparseable date|non-numeric amount)$/;

/**
 * What a user sees opening the file at a reported line: the record starts
 * there. A row with a rejected value shows its raw fields, exactly as written
 * (customer_id, order_date, amount lead every fixture with rejects); a row
 * the reader could not split shows that line as raw_line. Any raw_line is the
 * line there.
 */
function expectRecordAtLine(text: string, reject: Record<string, string>): void {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const physical = lines[Number(reject.line) - 1]!;
  const shown = VALUE_REASON.test(reject.reason!)
    ? new RegExp(`^"?${escapeRegExp(reject.customer_id!)}"?,"?${escapeRegExp(reject.order_date!)}"?,"?${escapeRegExp(reject.amount!)}"?(,|$)`)
    : new RegExp(`^${escapeRegExp(reject.raw_line!.split(/\r?\n/)[0]!)}$`);
  expect(physical, `line ${reject.line} (${reject.reason})`).toMatch(shown);
  expect(['', physical], `line ${reject.line} raw_line`).toContain(reject.raw_line!.split(/\r?\n/)[0]);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bad input corpus (fixtures/bad)', () => {
  for (const c of CORPUS) {
    it(`${c.file}${c.options ? ` with ${JSON.stringify(c.options)}` : ''}: ${c.error ? 'fails clearly' : `${c.rejected!.length} rejected`}`, async () => {
      const out = await tempDir();
      const input = fixture('bad', c.file);
      const cfg = config({ inputs: [input], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false }, ...c.options });
      await withEngine(async (engine) => {
        if (c.error) {
          const error = await runScore(engine, cfg, silentEffects).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(InputError);
          expect((error as Error).message).toMatch(c.error);
          expect((error as Error).message).not.toContain('\n');
          return;
        }
        const summary = await runScore(engine, cfg, silentEffects);
        const rejects = await readOutput(out, 'rejects');
        expect(summary.rows.read).toBe(c.read);
        expect(summary.rows.read).toBe(summary.rows.accepted + summary.rows.rejected);
        expect(rejects).toHaveLength(summary.rows.rejected);
        expect(rejects.map((r) => Number(r.line))).toEqual(c.rejected!.map((r) => r.line));
        const text = await readFile(input, 'utf8');
        rejects.forEach((r, i) => {
          expect(r.reason).toMatch(c.rejected![i]!.reason);
          expect(r.source).toBe(input);
          expectRecordAtLine(text, r);
        });
      });
    });
  }

  it('the load (run with one DuckDB thread more) gives the engine back its number of threads, also when the input is refused', async () => {
    await withEngine(async (engine) => {
      const threads = async () => (await engine.one<{ n: number }>(`SELECT current_setting('threads')::INTEGER AS n`))!.n;
      const before = await threads();
      const ingest = (options: Record<string, unknown>) => engine.ingest(config(options).inputs, config(options));
      await ingest({ inputs: [fixture('tiny', 'transactions.csv')] });
      expect(await threads()).toBe(before);
      await expect(ingest({ inputs: [fixture('bad', 'empty.csv')] })).rejects.toThrow(InputError);
      expect(await threads()).toBe(before);
      // A number of threads the user chose is left alone.
      await engine.run('SET threads = 1');
      await ingest({ inputs: [fixture('tiny', 'transactions.csv')], threads: 1 });
      expect(await threads()).toBe(1);
    });
  });

  it('keeps long ids and quoted delimiters inside ids intact', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      await runScore(engine, config({ inputs: [fixture('bad', 'long_ids.csv'), fixture('bad', 'quoted_delimiters.csv')], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
    });
    const ids = (await readOutput(out, 'customers')).map((r) => r.customer_id);
    expect(ids).toContain(`${'X'.repeat(300)}1`);
    expect(ids).toContain(`${'0'.repeat(250)}7`);
    expect(ids).toContain('Smith, J');
  });

  it('reads quoted fields that first appear past the lines DuckDB samples as quoted (RFC 4180), not with their quotes', async () => {
    const out = await tempDir();
    const file = path.join(out, 'late_quotes.csv');
    // 25,000 plain lines (DuckDB's sniffer samples 20,480), then the first quotes of the file.
    const plain = Array.from({ length: 25_000 }, (_, i) => `P${i % 5000},2024-01-${String(1 + (i % 28)).padStart(2, '0')},10,plain`);
    const late = ['"C5",2024-02-01,"12.50","Smith, J"', 'C5,2024-02-02,7.50,x', '"",2024-02-03,3,"no id"', 'C6,2024-02-04,"",x'];
    await writeFile(file, `customer_id,order_date,amount,note\n${[...plain, ...late].join('\n')}\n`);
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), asOf: '2024-02-28', ...LOAD_ONLY });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 25_004, accepted: 25_002, rejected: 2 });
      // "C5" is C5: one customer with both orders, 12.50 + 7.50; no customer is called "" or "C5" with its quotes.
      expect(summary.customers).toBe(5001);
      const customers = await readOutput(path.join(out, 'o'), 'customers');
      expect(customers.filter((c) => c.customer_id.includes('"'))).toEqual([]);
      expect(customers.find((c) => c.customer_id === 'C5')).toMatchObject({ orders: '2', revenue: '20.0' });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason])).toEqual([
        ['25004', 'missing customer id'],
        ['25005', 'missing amount'],
      ]);
    });
  });

  it('a file that is not UTF-8 (Latin-1) loses only its undecodable lines, as rejects, and is read', async () => {
    const out = await tempDir();
    const file = path.join(out, 'latin1.csv');
    await writeFile(file, Buffer.from('customer_id,order_date,amount\nCaf\xe9,2024-01-01,5\nC2,2024-01-02,3\n', 'latin1'));
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), ...LOAD_ONLY });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 2, accepted: 1, rejected: 1 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason.split(':')[0]])).toEqual([['2', 'invalid encoding']]);
    });
  });

  it('a Windows-1252 file (curly quotes, which neither UTF-8 nor Latin-1 decodes) loses only those lines, at their line numbers', async () => {
    const out = await tempDir();
    const file = path.join(out, 'cp1252.csv');
    // Line 1 header, 2 blank, 3-4 one record (a quoted line break), 5 curly quotes (0x93 0x94) in the id,
    // 6 a non-numeric amount, 7 blank, 8 a euro sign (0x80) in a column that is not read, 9 fine.
    const lines = ['customer_id,order_date,amount,note', '', 'A1,2024-01-01,5,"two', 'lines"', '\x93B\x94,2024-01-02,3,x', 'A2,2024-01-03,bad,y', '', 'A3,2024-01-04,2,\x80', 'A4,2024-01-05,1,z'];
    await writeFile(file, Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), ...LOAD_ONLY });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 5, accepted: 3, rejected: 2 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason.split(':')[0]])).toEqual([
        ['5', 'invalid encoding'],
        ['6', 'non-numeric amount'],
      ]);
    });
  });

  describe('whitespace-aligned text (the CDNOW layout)', () => {
    const byPosition = { customer: '1', date: '3', amount: '5' };
    const cdnowLine = (id: number) => ` ${String(id).padStart(5, '0')} 0001 19970101  2   29.33`;
    const score = async (file: string, out: string) =>
      withEngine((engine) =>
        runScore(
          engine,
          config({ inputs: [file], out, columns: byPosition, ...LOAD_ONLY }),
          silentEffects,
        ),
      );

    it('a line that is not UTF-8 is rejected at its line, as written, and the rest is read (first line or later)', async () => {
      const out = await tempDir();
      for (const [name, lines, badLine] of [
        ['later.txt', [cdnowLine(1), cdnowLine(2), '', ` 00\x937 0001 19970101  2   29.33`, cdnowLine(3)], 4],
        ['first.txt', [` 00\x937 0001 19970101  2   29.33`, cdnowLine(1), cdnowLine(2), cdnowLine(3)], 1],
      ] as const) {
        const file = path.join(out, name);
        await writeFile(file, Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1'));
        const summary = await score(file, path.join(out, `${name}-out`));
        expect(summary.rows).toMatchObject({ read: 4, accepted: 3, rejected: 1 });
        const rejects = await readOutput(path.join(out, `${name}-out`), 'rejects');
        expect(rejects.map((r) => [r.line, r.reason, r.raw_line])).toEqual([[String(badLine), 'invalid encoding: the line is not UTF-8', ' 00?7 0001 19970101  2   29.33']]);
      }
    });

    it('numbers a rejected line by its place in a file big enough to be read in parallel', async () => {
      const out = await tempDir();
      const file = path.join(out, 'big.txt');
      // 400,000 lines (13 MB): read in parallel with insertion order off, rows came back out of order (line 148,300 for 399,000).
      const lines = Array.from({ length: 400_000 }, (_, i) => (i + 1 === 399_000 ? ' 00999 0001 19970105' : cdnowLine(1 + (i % 20_000))));
      await writeFile(file, `${lines.join('\n')}\n`);
      const summary = await score(file, path.join(out, 'o'));
      expect(summary.rows).toMatchObject({ read: 400_000, rejected: 1 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason, r.raw_line])).toEqual([['399000', 'wrong number of fields: expected 5', ' 00999 0001 19970105']]);
    });
  });

  it('NDJSON: lines that are not JSON objects, not UTF-8, or hold text where numbers were found are rejects at their lines', async () => {
    const out = await tempDir();
    const file = path.join(out, 'orders.ndjson');
    const record = (id: string, date: string, amount: string) => `{"customer_id":"${id}","order_date":"${date}","amount":${amount}}`;
    const lines = [
      record('A', '2024-01-01', '5'), // 1
      '', // 2: blank lines count
      'not json', // 3
      record('B', '2024-01-02', '"7.5"'), // 4: a number written as text is a number
      '[1, 2]', // 5
      record('\x93C\x94', '2024-01-02', '3'), // 6: Windows-1252 curly quotes
      record('', '2024-01-03', '4'), // 7
      record('D', '2024-01-03', '"N/A"'), // 8: DuckDB's reader typed amount as a number from the lines above
    ];
    await writeFile(file, Buffer.from(`${lines.join('\n')}\n`, 'latin1'));
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), ...LOAD_ONLY });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 7, accepted: 2, rejected: 5 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason])).toEqual([
        ['3', 'malformed JSON'],
        ['5', 'malformed JSON: not an object'],
        ['6', 'invalid encoding: the line is not UTF-8'],
        ['7', 'missing customer id'],
        ['8', 'non-numeric amount'],
      ]);
      expect(rejects.at(-1)).toMatchObject({ customer_id: 'D', amount: 'N/A', raw_line: record('D', '2024-01-03', '"N/A"') });
      const customers = await readOutput(path.join(out, 'o'), 'customers');
      expect(customers.map((c) => [c.customer_id, c.revenue])).toEqual([
        ['A', '5.0'],
        ['B', '7.5'],
      ]);
      // A JSON array over several lines is not NDJSON: said so, not "missing customer column".
      const array = path.join(out, 'array.json');
      await writeFile(array, `[${record('A', '2024-01-01', '5')},\n ${record('B', '2024-01-02', '7')}]\n`);
      await expect(runScore(engine, { ...cfg, inputs: [array] }, silentEffects)).rejects.toThrow(/array\.json: the file is a JSON array, not newline-delimited JSON \(one object per line\); convert it first, e\.g\. jq -c '\.\[\]'/);
    });
  });

  it("reads amounts with a decimal comma (12,50) with decimalSeparator ',', and says to use it when every amount is refused", async () => {
    const out = await tempDir();
    const csv = path.join(out, 'europe.csv');
    await writeFile(csv, 'customer_id;order_date;amount\nA1;2024-01-01;12,50\nA2;2024-01-02;-3,25\nA3;2024-01-03;1.234,75\nA4;2024-01-04;7\n');
    // NDJSON amounts as text take the same decimal mark.
    const ndjson = path.join(out, 'europe.ndjson');
    await writeFile(ndjson, '{"customer_id":"B1","order_date":"2024-01-05","amount":"4,75"}\n{"customer_id":"B2","order_date":"2024-01-06","amount":"x"}\n');
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [csv, ndjson], out: path.join(out, 'o'), decimalSeparator: ',', ...LOAD_ONLY }), silentEffects);
      expect(summary.rows).toMatchObject({ read: 6, accepted: 4, rejected: 2 });
      const customers = await readOutput(path.join(out, 'o'), 'customers');
      expect(customers.map((c) => [c.customer_id, c.revenue])).toEqual([
        ['A1', '12.5'],
        ['A2', '-3.25'],
        ['A4', '7.0'],
        ['B1', '4.75'],
      ]);
      // No thousands separator is guessed: 1.234,75 is refused, never read as 1.23475 or 1234.75.
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [path.basename(r.source), r.line, r.reason, r.amount])).toEqual([
        ['europe.csv', '4', 'non-numeric amount', '1.234,75'],
        ['europe.ndjson', '2', 'non-numeric amount', 'x'],
      ]);
      // Without it, a file of decimal-comma amounts is refused whole, and the error says what to do.
      const commas = path.join(out, 'commas.csv');
      await writeFile(commas, 'customer_id;order_date;amount\nA1;2024-01-01;12,50\nA2;2024-01-02;3,00\n');
      await expect(runScore(engine, config({ inputs: [commas], out: path.join(out, 'p'), ...LOAD_ONLY }), silentEffects)).rejects.toThrow(
        /rows were rejected: \d+ non-numeric amount.* \(amounts such as "12,50" have a decimal comma: run with --decimal-separator ,\)$/,
      );
    });
  });

  it('counts the rows of each run when one engine scores files with rejects one after the other (none left over from the run before)', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const run = (file: string, o: string) =>
        runScore(engine, config({ inputs: [fixture('bad', file)], out: path.join(out, o), noDb: true, clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      // DuckDB adds to a rejects table that exists: the second run counted the first one's reader rejects too (8 rows read, not 6).
      expect((await run('blank_lines.csv', 'a')).rows).toMatchObject({ read: 6, rejected: 4 });
      expect((await run('non_numeric_amounts.csv', 'b')).rows).toMatchObject({ read: 6, rejected: 4 });
      expect((await run('blank_lines.csv', 'c')).rows).toMatchObject({ read: 6, rejected: 4 });
    });
  });

  it('a run refused for day-and-month dates it was not told how to read (text dates in NDJSON) says to give --date-format', async () => {
    const out = await tempDir();
    const file = path.join(out, 'dates.ndjson');
    await writeFile(file, '{"customer_id":"A1","order_date":"01/02/2024","amount":5}\n{"customer_id":"A2","order_date":"13/01/2024","amount":3}\n');
    await withEngine(async (engine) => {
      await expect(runScore(engine, config({ inputs: [file], out: path.join(out, 'a'), ...LOAD_ONLY }), silentEffects)).rejects.toThrow(
        `all 2 rows were rejected: 2 unparseable date (dates such as "01/02/2024" need --date-format, e.g. '%d/%m/%Y' or '%m/%d/%Y')`,
      );
      const summary = await runScore(engine, config({ inputs: [file], out: path.join(out, 'b'), dateFormat: '%d/%m/%Y', ...LOAD_ONLY }), silentEffects);
      expect(summary.rows).toMatchObject({ read: 2, accepted: 2 });
    });
  });

  it('refuses dates that read as day-first and month-first alike (01/02/2024) unless --date-format says which; reads them when the sample decides', async () => {
    const out = await tempDir();
    const ambiguous = path.join(out, 'ambiguous.csv');
    await writeFile(ambiguous, 'customer_id,order_date,amount\nA1,01/02/2024,5\nA2,03/01/2024,3\n');
    const us = path.join(out, 'us.csv');
    await writeFile(us, 'customer_id,order_date,amount\nA1,01/02/2024,5\nA2,12/31/2024,3\n');
    const firstDays = async (file: string, o: string, dateFormat?: string) => {
      await withEngine((engine) => runScore(engine, config({ inputs: [file], out: path.join(out, o), dateFormat, ...LOAD_ONLY }), silentEffects));
      return (await readOutput(path.join(out, o), 'customers')).map((c) => [c.customer_id, c.first_purchase]);
    };
    // DuckDB alone read these as 1 February and 3 January, without a word.
    await expect(withEngine((engine) => runScore(engine, config({ inputs: [ambiguous], out: path.join(out, 'a'), ...LOAD_ONLY }), silentEffects))).rejects.toThrow(
      `${ambiguous}: dates in order_date such as "01/02/2024" read as day-first or month-first alike (DuckDB would guess %d/%m/%Y); say which with --date-format '%d/%m/%Y' or --date-format '%m/%d/%Y'`,
    );
    expect(await firstDays(ambiguous, 'b', '%m/%d/%Y')).toEqual([
      ['A1', '2024-01-02'],
      ['A2', '2024-03-01'],
    ]);
    // 12/31 can only be month-first: the sniffer's reading stands.
    expect(await firstDays(us, 'c')).toEqual([
      ['A1', '2024-01-02'],
      ['A2', '2024-12-31'],
    ]);
  });

  it('a file mixing CRLF and LF line endings (two exports concatenated) fails with an error that says so', async () => {
    const out = await tempDir();
    const early = path.join(out, 'early.csv');
    await writeFile(early, 'customer_id,order_date,amount\r\nA1,2024-01-01,5\r\nA2,2024-01-02,3\nA3,2024-01-03,4\n');
    // Past the lines DuckDB's sniffer samples: the read itself fails.
    const late = path.join(out, 'late.csv');
    await writeFile(late, `customer_id,order_date,amount\n${Array.from({ length: 30_000 }, (_, i) => `A${i},2024-01-01,5\n`).join('')}B1,2024-01-02,3\r\nB2,2024-01-03,4\r\n`);
    await withEngine(async (engine) => {
      for (const [file, crlf, lf] of [[early, 2, 2], [late, 2, 30_001]] as const) {
        const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, clv: { enabled: false }, kmeans: { enabled: false } });
        await expect(runScore(engine, cfg, silentEffects)).rejects.toThrow(`${file}: mixes Windows (CRLF, ${crlf} lines) and Unix (LF, ${lf} lines) line endings`);
      }
    });
  });

  it("shows the fields of a row DuckDB's reader could not cast (a bad amount or date) as written, not only its raw line", async () => {
    const out = await tempDir();
    const fields = async (file: string) => {
      const o = path.join(out, file);
      await withEngine((engine) =>
        runScore(engine, config({ inputs: [fixture('bad', file)], out: o, ...LOAD_ONLY }), silentEffects),
      );
      return (await readOutput(o, 'rejects')).map((r) => [r.line, r.customer_id, r.order_date, r.amount]);
    };
    expect(await fields('non_numeric_amounts.csv')).toEqual([
      ['3', 'A2', '2024-01-06', 'abc'],
      ['4', 'A3', '2024-01-07', ''],
      ['5', 'A4', '2024-01-08', '12.5.3'],
      ['6', 'A5', '2024-01-09', 'NaN'],
    ]);
    // Quoted fields unquoted; CRLF lines after blank lines; a line after a quoted line break.
    expect(await fields('quoted_delimiters.csv')).toEqual([['3', 'A2', '2024-01-06', '1,234.50']]);
    expect((await fields('blank_lines_crlf.csv')).find((r) => r[0] === '9')).toEqual(['9', 'A4', '2024-01-08', 'abc']);
    expect((await fields('multiline_quoted.csv')).find((r) => r[0] === '9')).toEqual(['9', 'A4', '2024-01-08', 'abc']);
  });

  it('shows the raw text of a value-rejected row, not the value the reader parsed', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      await runScore(engine, config({ inputs: [fixture('bad', 'bad_dates.csv')], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      const rejects = await readOutput(out, 'rejects');
      expect(rejects.map((r) => [r.line, r.customer_id, r.order_date, r.amount])).toEqual([
        ['3', 'A2', 'not-a-date', '20'],
        ['4', 'A3', '2024-13-45', '30'],
        ['5', 'A4', '', '40'],
        ['6', 'A5', '2024-02-30', '50'],
      ]);
    });
  });

  it('shows the raw date and amount when the reader typed both (--date-format)', async () => {
    const out = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(out, 'typed.csv');
    await writeFile(file, 'customer_id,order_date,amount\nA1,05/01/2024,10\n,06/01/2024,20.5\n\nA3,07/01/2024,\nA4,08/01/2024,7.10\n');
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, format: ['csv'], dateFormat: '%d/%m/%Y', clv: { enabled: false }, kmeans: { enabled: false } });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 4, accepted: 2, rejected: 2 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason, r.customer_id, r.order_date, r.amount])).toEqual([
        ['3', 'missing customer id', '', '06/01/2024', '20.5'],
        ['5', 'missing amount', 'A3', '07/01/2024', ''],
      ]);
    });
  });

  it('counts blank lines in a file with a BOM and no header', async () => {
    const out = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(out, 'noheader.csv');
    // 1 A1 (after the BOM), 2 blank, 3 A2 (bad date), 4 too many fields, 5-6 blank, 7 A4 (no amount), 8 A5, 9 blank.
    const text = '\uFEFFA1,2024-01-05,10\n\nA2,bad,20\nA3,2024-01-07,1,2\n\n\nA4,2024-01-08,\nA5,2024-01-09,5\n\n';
    await writeFile(file, text);
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, format: ['csv'], header: 'no', columns: { customer: '1', date: '2', amount: '3' }, clv: { enabled: false }, kmeans: { enabled: false } });
      const summary = await runScore(engine, cfg, silentEffects);
      expect(summary.rows).toMatchObject({ read: 5, accepted: 2, rejected: 3 });
      const rejects = await readOutput(path.join(out, 'o'), 'rejects');
      expect(rejects.map((r) => [r.line, r.reason.replace(/:.*/, '')])).toEqual([
        ['3', 'unparseable date'],
        ['4', 'too many columns'],
        ['7', 'missing amount'],
      ]);
      rejects.forEach((r) => expectRecordAtLine(text, r));
    });
  });

  // The ordered passes that place value rejects keep only the rows that look
  // rejected, and number them among all rows: here the same customers have
  // many accepted rows around each rejected one, past many blank lines and
  // quoted fields with line breaks, and reader rejects shift the typed rows.
  // With --date-format the reader parses the dates itself, and sets aside the bad ones.
  for (const [name, eol, dateFormat] of [['LF', '\n', undefined], ['CRLF', '\r\n', undefined], ['--date-format', '\n', '%Y-%m-%d']] as const) {
    it(`places reader and value rejects after many blank lines and multi-line quoted fields (${name})`, async () => {
      const out = await tempDir();
      const { writeFile } = await import('node:fs/promises');
      const records: string[] = ['customer_id,order_date,amount,note'];
      let line = 1;
      const expected: string[][] = [];
      /** Appends a record (or a blank line); a rejected one with its reason and the fields rejects.csv must show. */
      const add = (record: string, reject?: [reason: string, customer: string, date: string, amount: string]) => {
        records.push(record);
        if (reject) expected.push([String(line + 1), ...reject]);
        line += record.split(eol).length;
      };
      /** A bad date (the reader's reject when it parses dates) shows its fields as written either way. */
      const badDate = (customer: string, date: string, amount: string): [string, string, string, string] => ['unparseable date', customer, date, amount];
      const bad: Record<number, () => void> = {
        3: () => add('C3,not-a-date,12.50,x', badDate('C3', 'not-a-date', '12.50')),
        1003: () => add(`C1,2024-13-01,4.00,"note${eol}${eol}continued"`, badDate('C1', '2024-13-01', '4.00')),
        1104: () => add(',2024-02-01,7.50,x', ['missing customer id', '', '2024-02-01', '7.50']),
        1105: () => add('   ,2024-02-02,2.00,x', ['missing customer id', '   ', '2024-02-02', '2.00']),
        1205: () => add('C5,2024-02-04,1,x,extra', ['too many columns', '', '', '']),
        1206: () => add('C2,2024-02-03,,x', ['missing amount', 'C2', '2024-02-03', '']),
        1207: () => add('C3,2024-02-03,"",x', ['missing amount', 'C3', '2024-02-03', '']),
        1307: () => add('C6,2024-02-05,abc,x', ['non-numeric amount', 'C6', '2024-02-05', 'abc']),
        1308: () => add('C4,,9.90,"a ""quoted"" note"', ['missing date', 'C4', '', '9.90']),
        1499: () => add('C0,2024-99-99,3.30,x', badDate('C0', '2024-99-99', '3.30')),
      };
      for (let i = 0; i < 1500; i++) {
        if (i % 97 === 0) for (let b = 0; b < 12; b++) add('');
        if (bad[i]) bad[i]!();
        else if (i % 50 === 0) add(`C${i % 7},2024-03-${10 + (i % 19)},20.50,"two${eol}lines${eol}${eol}and a blank one"`);
        else add(`C${i % 7},2024-03-${10 + (i % 19)},${(i % 40) + 0.25},plain`);
      }
      add('');
      const text = records.join(eol) + eol;
      const file = path.join(out, 'late.csv');
      await writeFile(file, text);
      await withEngine(async (engine) => {
        const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, format: ['csv'], dateFormat, clv: { enabled: false }, kmeans: { enabled: false } });
        const summary = await runScore(engine, cfg, silentEffects);
        expect(summary.rows).toMatchObject({ read: 1500, rejected: expected.length });
        const rejects = await readOutput(path.join(out, 'o'), 'rejects');
        expect(rejects.map((r) => [r.line, r.reason.replace(/:.*/, ''), r.customer_id, r.order_date, r.amount])).toEqual(expected);
        rejects.forEach((r) => expectRecordAtLine(text, r));
      });
    });
  }

  it('finds the lines of rejects in a UTF-8 file whose text has bytes 0x80-0x9F (€ is E2 82 AC)', async () => {
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(await tempDir(), 'euro.csv');
    await writeFile(file, 'customer_id,order_date,amount\nC€1,2024-01-02,5\n\nC2,not-a-date,3\nC€1,2024-01-03,4\n');
    const out = await tempDir();
    await withEngine(async (engine) => {
      await runScore(engine, config({ inputs: [file], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      const rejects = (await readOutput(out, 'rejects')).map((r) => [r.line, r.reason, r.order_date]);
      expect(rejects).toEqual([['4', 'unparseable date', 'not-a-date']]);
      expect((await readOutput(out, 'customers')).map((r) => [r.customer_id, r.orders])).toEqual([['C€1', '2']]);
    });
  });

  // A field of spaces only is missing, not malformed: "missing date", not "unparseable date".
  for (const [name, extension, dateFormat] of [['CSV', 'csv', undefined], ['CSV with --date-format', 'csv', '%Y-%m-%d'], ['NDJSON', 'ndjson', undefined]] as const) {
    it(`rejects a whitespace-only id, date or amount as missing (${name})`, async () => {
      const dir = await tempDir();
      // [id, date, amount] as written; the reason each must get, by DESIGN's rule "missing" for a blank field.
      const rows: [string, string, string, string | null][] = [
        ['C1', '2024-01-01', '5', null],
        ['C2', '   ', '5', 'missing date'],
        ['C3', '2024-01-02', '   ', 'missing amount'],
        ['   ', '2024-01-03', '5', 'missing customer id'],
        ['C4', ' ', '6', 'missing date'],
        ['   ', '  ', '  ', 'missing customer id'],
        ['C1', '2024-01-05', '8', null],
      ];
      const file = path.join(dir, `blank.${extension}`);
      const body =
        extension === 'csv'
          ? ['customer_id,order_date,amount', ...rows.map(([id, date, amount]) => `${id},${date},${amount}`)]
          : rows.map(([customer_id, order_date, amount]) => JSON.stringify({ customer_id, order_date, amount }));
      await writeFile(file, `${body.join('\n')}\n`);
      const out = path.join(dir, 'o');
      const summary = await withEngine((engine) => runScore(engine, config({ inputs: [file], out, dateFormat, ...LOAD_ONLY }), silentEffects));
      const firstLine = extension === 'csv' ? 2 : 1;
      const expected = rows.flatMap(([id, date, amount, reason], i) => (reason ? [[String(firstLine + i), reason, id, date, amount]] : []));
      expect(summary.rows).toMatchObject({ read: 7, accepted: 2, rejected: 5 });
      expect((await readOutput(out, 'rejects')).map((r) => [r.line, r.reason, r.customer_id, r.order_date, r.amount])).toEqual(expected);
      expect((await readOutput(out, 'customers')).map((r) => [r.customer_id, r.orders, r.revenue])).toEqual([['C1', '2', '13.0']]);
    });
  }

  it('treats ids with non-breaking spaces the same in a file with or without rejected values', async () => {
    // Only ASCII spaces around an id are trimmed; a non-breaking space (U+00A0) is part of the id.
    // The clean path and the path of a file with rejects used to disagree on it.
    const dir = await tempDir();
    const rows = ['customer_id,order_date,amount', 'C1,2024-01-01,10', '\u00a0,2024-01-02,5', '\u00a0C2,2024-01-03,7', ' C3 ,2024-01-04,8', 'C3,2024-01-05,9'];
    const clean = path.join(dir, 'clean.csv');
    const withReject = path.join(dir, 'with-reject.csv');
    await writeFile(clean, `${rows.join('\n')}\n`);
    await writeFile(withReject, `${[...rows, 'C5,2024-01-06,'].join('\n')}\n`);
    const customers: string[][] = [];
    for (const input of [clean, withReject]) {
      const out = await tempDir();
      const summary = await withEngine((engine) =>
        runScore(engine, config({ inputs: [input], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects),
      );
      expect(summary.rows.read).toBe(summary.rows.accepted + summary.rows.rejected);
      customers.push((await readOutput(out, 'customers')).map((r) => `${r.customer_id}:${r.orders}:${r.revenue}`));
    }
    expect(customers[0]).toEqual(['C1:1:10.0', 'C3:2:17.0', '\u00a0:1:5.0', '\u00a0C2:1:7.0']);
    expect(customers[1]).toEqual(customers[0]);
  });

  it('reads the BOM file header as customer_id, not as a BOM-prefixed name', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [fixture('bad', 'utf8_bom.csv')], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      expect(summary.customers).toBe(2);
    });
  });

  it('a file whose every row is rejected fails with the reasons (no rejects.csv is written for a failed run)', async () => {
    const out = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    const file = path.join(out, 'all-bad.csv');
    await writeFile(file, 'customer_id,order_date,amount\nA,bad,1\nB,2024-01-01,x\nC,also bad,2\n');
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [file], out: path.join(out, 'o'), noDb: true, clv: { enabled: false }, kmeans: { enabled: false } });
      await expect(runScore(engine, cfg, silentEffects)).rejects.toThrow(/^all 3 rows were rejected: 2 unparseable date, 1 non-numeric amount$/);
    });
  });

  it('--max-reject-rate fails the run and names the reasons', async () => {
    const out = await tempDir();
    await withEngine(async (engine) => {
      const cfg = config({ inputs: [fixture('bad', 'bad_dates.csv')], out, noDb: true, maxRejectRate: 0.5, clv: { enabled: false }, kmeans: { enabled: false } });
      await expect(runScore(engine, cfg, silentEffects)).rejects.toThrow(/4 of 6 rows rejected \(66\.67%\), above --max-reject-rate 0\.5: 3 unparseable date, 1 missing date/);
    });
  });
});
