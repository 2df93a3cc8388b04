import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { lastMessage, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

/** The flags of runs that look at loading only: RFM scores, a CSV table, no database. */
const LOAD_ONLY = ['--no-db', '-f', 'csv', '--no-clv', '--no-kmeans', '--no-lifecycle', '-q'];

/** `crm score` on inputs into `out`, the load-only way. */
const score = (inputs: string[], out: string, ...flags: string[]) => runCli(['score', ...inputs, '--out', out, ...LOAD_ONLY, ...flags]);

const readOutput = async (dir: string, table: 'rejects' | 'customers') => parseCsv(await readFile(path.join(dir, `${table}.csv`), 'utf8'));

const HEADER = 'customer_id,order_date,amount\n';

describe('reading input (issue 13: nothing lost, nothing misread)', () => {
  it('a delimiter of up to 4 bytes is read; a longer one is a usage error said before any file is read', async () => {
    const dir = await tempDir();
    const pipes = path.join(dir, 'pipes.csv');
    await writeFile(pipes, 'customer_id||order_date||amount\nA||2024-01-01||5\nB||2024-01-02||3.5\n');
    const read = await score([pipes], path.join(dir, 'o'), '--delimiter', '||');
    expect(read.code).toBe(0);
    expect((await readOutput(path.join(dir, 'o'), 'customers')).map((c) => [c.customer_id, c.revenue])).toEqual([
      ['A', '5.0'],
      ['B', '3.5'],
    ]);
    // The input does not even exist: the delimiter is refused first.
    const refused = await score([path.join(dir, 'missing.csv')], path.join(dir, 'p'), '--delimiter', '|||||');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/delimiter: expected 'tab', 'whitespace' or 1 to 4 bytes/);
  });
  it('an amount past DECIMAL(18,4) is rejected as out of range, not as non-numeric (CSV and NDJSON)', async () => {
    const dir = await tempDir();
    const csv = path.join(dir, 'big.csv');
    await writeFile(csv, `${HEADER}A,2024-01-01,5\nB,2024-01-02,99999999999999999\nC,2024-01-03,abc\nD,2024-01-04,-1e20\nE,2024-01-05,NaN\n`);
    const ndjson = path.join(dir, 'big.ndjson');
    await writeFile(ndjson, '{"customer_id":"F","order_date":"2024-01-06","amount":7}\n{"customer_id":"G","order_date":"2024-01-07","amount":123456789012345678901}\n{"customer_id":"H","order_date":"2024-01-08","amount":"1e25"}\n');
    const run = await score([csv, ndjson], path.join(dir, 'o'));
    expect(run.code).toBe(0);
    const rejects = await readOutput(path.join(dir, 'o'), 'rejects');
    expect(rejects.map((r) => [path.basename(r.source), r.line, r.reason])).toEqual([
      ['big.csv', '3', 'amount out of range'],
      ['big.csv', '4', 'non-numeric amount'],
      ['big.csv', '5', 'amount out of range'],
      ['big.csv', '6', 'non-numeric amount'],
      ['big.ndjson', '2', 'amount out of range'],
      ['big.ndjson', '3', 'amount out of range'],
    ]);
    expect((await readJson(path.join(dir, 'o', 'summary.json'))).rows).toMatchObject({ read: 8, accepted: 2, rejected: 6 });
  });
  it('a file whose name has [ ] * or ? is read as named when it exists; only a name that does not exist is a pattern', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx[1].csv'), `${HEADER}A,2024-01-01,5\n`);
    await writeFile(path.join(dir, 'tx1.csv'), `${HEADER}B,2024-01-02,3\n`);
    await writeFile(path.join(dir, 'a*b?.csv'), `${HEADER}C,2024-01-03,4\nC,2024-01-04,x\n`);
    const ids = async (inputs: string[], out: string) => {
      const run = await score(inputs, path.join(dir, out));
      expect(run.code).toBe(0);
      return (await readOutput(path.join(dir, out), 'customers')).map((c) => c.customer_id);
    };
    // DuckDB read tx[1].csv as the pattern tx[1].csv, that is tx1.csv: customer B.
    expect(await ids([path.join(dir, 'tx[1].csv')], 'one')).toEqual(['A']);
    expect(await ids([path.join(dir, 'a*b?.csv')], 'star')).toEqual(['C']);
    // A pattern's matches are read as named too: tx[1].csv is not tx1.csv read twice.
    expect(await ids([path.join(dir, 'tx*.csv')], 'pattern')).toEqual(['A', 'B']);
    // The reject of a file with a bracket in its name names that file.
    expect((await readOutput(path.join(dir, 'star'), 'rejects')).map((r) => [r.source, r.line, r.reason])).toEqual([[path.join(dir, 'a*b?.csv'), '3', 'non-numeric amount']]);
    const none = await score([path.join(dir, 'tx[2].csv')], path.join(dir, 'none'));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('tx[2].csv: no file matches this pattern');
  });
  it('an NDJSON id, date or amount that is an object, array or true/false is a reject; every other row reads as without it', async () => {
    const dir = await tempDir();
    const row = (id: string, date: string, amount: string) => `{"customer_id":${id},"order_date":${date},"amount":${amount}}`;
    const good = [row('"C0"', '"2024-01-01"', '5'), row('"00004"', '"2024-01-02"', '2.5'), row('17', '"2024-01-03"', '"7"'), row('"C0"', '"2024-01-04"', '1')];
    const bad = [
      row('{"id":"X"}', '"2024-01-02"', '3'),
      row('["C0"]', '"2024-01-02"', '3'),
      row('"C0"', '{"d":"2024-01-02"}', '3'),
      row('"C0"', '"2024-01-02"', '[3]'),
      row('"C0"', '"2024-01-02"', 'true'),
    ];
    const clean = path.join(dir, 'clean.ndjson');
    await writeFile(clean, `${good.join('\n')}\n`);
    // Lines 2, 3, 5, 6 and 8 are the bad ones.
    const mixed = path.join(dir, 'mixed.ndjson');
    await writeFile(mixed, `${[good[0], bad[0], bad[1], good[1], bad[2], bad[3], good[2], bad[4], good[3]].join('\n')}\n`);
    expect((await score([clean], path.join(dir, 'a'))).code).toBe(0);
    expect((await score([mixed], path.join(dir, 'b'))).code).toBe(0);
    // Before, one object made DuckDB type the column JSON, and every id came out quoted ("C0").
    const customers = await readFile(path.join(dir, 'a', 'customers.csv'), 'utf8');
    expect(parseCsv(customers).map((c) => c.customer_id)).toEqual(['00004', '17', 'C0']);
    expect(await readFile(path.join(dir, 'b', 'customers.csv'), 'utf8')).toBe(customers);
    const rejects = await readOutput(path.join(dir, 'b'), 'rejects');
    expect(rejects.map((r) => [r.line, r.reason, r.customer_id, r.order_date, r.amount])).toEqual([
      ['2', 'customer id is not a text or number value', '{"id":"X"}', '2024-01-02', '3'],
      ['3', 'customer id is not a text or number value', '["C0"]', '2024-01-02', '3'],
      ['5', 'date is not a text or number value', 'C0', '{"d":"2024-01-02"}', '3'],
      ['6', 'amount is not a text or number value', 'C0', '2024-01-02', '[3]'],
      ['8', 'amount is not a text or number value', 'C0', '2024-01-02', 'true'],
    ]);
    expect((await readJson(path.join(dir, 'b', 'summary.json'))).rows).toMatchObject({ read: 9, accepted: 4, rejected: 5 });
  });

  it('a Parquet id column of STRUCTs or lists is not read as text: its rows are rejects, and a file of only those fails saying why', async () => {
    const dir = await tempDir();
    const files = { struct: "{'id': 'A' || i}", list: "['A' || i]" };
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    for (const [name, id] of Object.entries(files)) {
      const file = path.join(dir, `${name}.parquet`).replaceAll("'", "''");
      await connection.run(`COPY (SELECT ${id} AS customer_id, DATE '2024-01-01' + i::INTEGER AS order_date, 5.0 AS amount FROM range(3) t(i)) TO '${file}'`);
    }
    connection.closeSync();
    db.closeSync();
    for (const name of Object.keys(files)) {
      // Before: customers {'id': A0}, {'id': A1}, ... and exit 0.
      const run = await score([path.join(dir, `${name}.parquet`)], path.join(dir, name));
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('all 3 rows were rejected: 3 customer id is not a text or number value');
    }
  });
  it('a Parquet date column of times of day, durations or bytes, or an amount column of dates or bytes, fails naming the file and column (before: a binder error)', async () => {
    const dir = await tempDir();
    // name: [date column SQL, amount column SQL, the message's end]
    const files: Record<string, [date: string, amount: string, message: string]> = {
      time: ["TIME '10:00:00'", '5.0', 'the date column order_date holds times of day (TIME), not dates; map the date column with --date-col'],
      timetz: ["'10:00:00+02'::TIMETZ", '5.0', 'the date column order_date holds times of day (TIME WITH TIME ZONE), not dates; map the date column with --date-col'],
      interval: ['INTERVAL 3 DAY', '5.0', 'the date column order_date holds durations (INTERVAL), not dates; map the date column with --date-col'],
      blobdate: ["'2024-01-02'::BLOB", '5.0', 'the date column order_date holds binary data (BLOB), not dates; map the date column with --date-col'],
      blobamount: ["DATE '2024-01-02'", "'5.0'::BLOB", 'the amount column amount holds binary data (BLOB), not amounts; map the amount column with --amount-col'],
      dateamount: ["DATE '2024-01-02'", "DATE '2024-01-05'", 'the amount column amount holds dates (DATE), not amounts; map the amount column with --amount-col'],
    };
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    for (const [name, [date, amount]] of Object.entries(files)) {
      const file = path.join(dir, `${name}.parquet`).replaceAll("'", "''");
      await connection.run(`COPY (SELECT 'C' || i AS customer_id, ${date} AS order_date, ${amount} AS amount FROM range(3) t(i)) TO '${file}'`);
    }
    connection.closeSync();
    db.closeSync();
    const runs = await Promise.all(Object.keys(files).map((name) => score([path.join(dir, `${name}.parquet`)], path.join(dir, name))));
    expect(runs.map((r) => [r.code, lastMessage(r.stderr)])).toEqual(Object.entries(files).map(([name, [, , message]]) => [1, `${path.join(dir, `${name}.parquet`)}: ${message}`]));
  });

  describe('files that are not what their name says: a clear message, exit 1', () => {
    const text = `${HEADER}A,2024-01-01,5\nB,2024-01-02,3\n`;
    const utf16be = (t: string) => Buffer.from(t, 'utf16le').swap16();
    const bom16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    // The hints name the file as given (here the full path into d), shell-quoted when it needs it: before, only its basename.
    const cases: [name: string, bytes: Buffer, message: (d: string) => RegExp | string][] = [
      ['le-bom.csv', bom16le, (d) => `${d}/le-bom.csv: the text is UTF-16 (little-endian, with a byte-order mark); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 ${d}/le-bom.csv > ${d}/le-bom.utf8.csv`],
      ['be-bom.csv', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(text)]), () => /be-bom\.csv: the text is UTF-16 \(big-endian, with a byte-order mark\).* iconv -f UTF-16 -t UTF-8 \/.*\/be-bom\.csv/],
      ['le.csv', Buffer.from(text, 'utf16le'), () => /le\.csv: the text is UTF-16 \(little-endian\).* iconv -f UTF-16LE -t UTF-8 \/.*\/le\.csv/],
      ['le-bom.csv.gz', gzipSync(bom16le), (d) => `${d}/le-bom.csv.gz: the text is UTF-16 (little-endian, with a byte-order mark); crm reads UTF-8: convert it first, e.g. gunzip -c ${d}/le-bom.csv.gz | iconv -f UTF-16 -t UTF-8 > ${d}/le-bom.utf8.csv`],
      ["it's mine.csv", bom16le, (d) => `${d}/it's mine.csv: the text is UTF-16 (little-endian, with a byte-order mark); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 '${d}/it'\\''s mine.csv' > '${d}/it'\\''s mine.utf8.csv'`],
      ['packed.csv', gzipSync(text), (d) => `${d}/packed.csv: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv ${d}/packed.csv ${d}/packed.csv.gz`],
      ['my orders.csv', gzipSync(text), (d) => `${d}/my orders.csv: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv '${d}/my orders.csv' '${d}/my orders.csv.gz'`],
      ['one-line.ndjson', Buffer.from('[{"customer_id":"A","order_date":"2024-01-01","amount":5}]\n'), (d) => `${d}/one-line.ndjson: the file is a JSON array, not newline-delimited JSON (one object per line); convert it first, e.g. jq -c '.[]' ${d}/one-line.ndjson > ${d}/one-line.lines.ndjson`],
      ['pretty.json', Buffer.from('\n  [\n  {"customer_id": "A", "order_date": "2024-01-01", "amount": 5}\n]\n'), () => /pretty\.json: the file is a JSON array, not newline-delimited JSON/],
    ];
    for (const [name, bytes, message] of cases) {
      it(name, async () => {
        const dir = await tempDir();
        await writeFile(path.join(dir, name), bytes);
        const run = await score([path.join(dir, name)], path.join(dir, 'o'));
        expect(run.code).toBe(1);
        const expected = message(dir);
        if (typeof expected === 'string') expect(lastMessage(run.stderr)).toBe(expected);
        else expect(lastMessage(run.stderr)).toMatch(expected);
      });
    }
  });

  it('a .csv.gz that ends early fails naming the file; the whole file reads every row', async () => {
    const dir = await tempDir();
    const rows = Array.from({ length: 5000 }, (_, i) => `C${i % 300},2024-01-${String(1 + (i % 28)).padStart(2, '0')},${(i % 97) + 0.5}`);
    const whole = gzipSync(`${HEADER}${rows.join('\n')}\n`);
    await writeFile(path.join(dir, 'whole.csv.gz'), whole);
    await writeFile(path.join(dir, 'cut.csv.gz'), whole.subarray(0, Math.floor(whole.length / 3)));
    expect((await score([path.join(dir, 'whole.csv.gz')], path.join(dir, 'a'))).code).toBe(0);
    expect((await readJson(path.join(dir, 'a', 'summary.json'))).rows).toMatchObject({ read: 5000, accepted: 5000, rejected: 0 });
    // Before: exit 0 with the rows before the break (565 of 5000) and the broken last one as a reject.
    const cut = await score([path.join(dir, 'cut.csv.gz')], path.join(dir, 'b'));
    expect(cut.code).toBe(1);
    expect(lastMessage(cut.stderr)).toMatch(/cut\.csv\.gz: the compressed file ends early, it is truncated \(gzip: unexpected end of file\), so only part of it can be read; copy or download it again$/);
  });
  describe('long lines', () => {
    it('a 2.5 MB field is read (DuckDB refused the whole file, naming line 1)', async () => {
      const dir = await tempDir();
      const file = path.join(dir, 'long.csv');
      await writeFile(file, `customer_id,order_date,amount,note\nA,2024-01-01,5,x\nB,2024-01-02,3,${'y'.repeat(2.5 * 1024 * 1024)}\nC,2024-01-03,4,z\n`);
      const run = await score([file], path.join(dir, 'o'));
      expect(run.code).toBe(0);
      expect((await readOutput(path.join(dir, 'o'), 'customers')).map((c) => c.customer_id)).toEqual(['A', 'B', 'C']);
    });

    it('a CSV line over 8 MB fails naming its line', async () => {
      const dir = await tempDir();
      const csv = path.join(dir, 'huge.csv');
      await writeFile(csv, `customer_id,order_date,amount,note\nA,2024-01-01,5,x\nB,2024-01-02,3,${'y'.repeat(9_000_000)}\nC,2024-01-03,4,z\n`);
      const run = await score([csv], path.join(dir, 'o'));
      expect(run.code).toBe(1);
      // 15 bytes before the note, then 9,000,000 of it.
      expect(lastMessage(run.stderr)).toMatch(/huge\.csv: line 3 has 9000015 bytes, more than the 8000000 one line can have/);
    });

    it('an NDJSON line of 9 MB is read whether or not the file has rejects; one over 64 MB is a reject at its line', async () => {
      const dir = await tempDir();
      const row = (id: string, note: string, amount = '5') => `{"customer_id":"${id}","order_date":"2024-01-01","amount":${amount},"note":"${note}"}`;
      const ids = async (name: string, lines: string[]) => {
        await writeFile(path.join(dir, name), `${lines.join('\n')}\n`);
        expect((await score([path.join(dir, name)], path.join(dir, `${name}-out`))).code).toBe(0);
        return [
          (await readOutput(path.join(dir, `${name}-out`), 'customers')).map((c) => c.customer_id),
          (await readOutput(path.join(dir, `${name}-out`), 'rejects')).map((r) => [r.line, r.reason]),
        ];
      };
      const long = row('B', 'y'.repeat(9_000_000));
      expect(await ids('clean.ndjson', [row('A', 'x'), long, row('C', 'z')])).toEqual([['A', 'B', 'C'], []]);
      expect(await ids('rejects.ndjson', [row('A', 'x'), long, row('C', 'z', '"x"')])).toEqual([['A', 'B'], [['3', 'non-numeric amount']]]);
      // Before: 'invalid encoding: the line is not UTF-8'.
      expect(await ids('huge.ndjson', [row('A', 'x'), row('B', 'y'.repeat(65_000_000)), row('C', 'z')])).toEqual([['A', 'C'], [['2', 'line too long: over 64000000 bytes']]]);
    });
  });
  it('a date or amount of blanks only is missing, as an empty one is (not unparseable or non-numeric)', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'blanks.csv');
    await writeFile(file, `${HEADER}A1,2024-01-01,5\nA2,2024-01-02, \nA3,2024-01-03,\nA4,  ,4\n`);
    expect((await score([file], path.join(dir, 'o'))).code).toBe(0);
    expect((await readOutput(path.join(dir, 'o'), 'rejects')).map((r) => [r.line, r.reason])).toEqual([
      ['3', 'missing amount'],
      ['4', 'missing amount'],
      ['5', 'missing date'],
    ]);
    // With --date-format DuckDB's reader parses the dates itself and refused the blank one as a cast.
    expect((await score([file], path.join(dir, 'p'), '--date-format', '%Y-%m-%d')).code).toBe(0);
    expect((await readOutput(path.join(dir, 'p'), 'rejects')).map((r) => [r.line, r.reason])).toEqual([
      ['3', 'missing amount'],
      ['4', 'missing amount'],
      ['5', 'missing date'],
    ]);
  });
  it('NDJSON whose first line is an array, then one object per line, is NDJSON with a rejected first line, not a JSON array', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'stray.ndjson');
    await writeFile(file, '[1, 2]\n{"customer_id":"A","order_date":"2024-01-01","amount":5}\n{"customer_id":"B","order_date":"2024-01-02","amount":3}\n');
    expect((await score([file], path.join(dir, 'o'))).code).toBe(0);
    expect((await readOutput(path.join(dir, 'o'), 'rejects')).map((r) => [r.line, r.reason])).toEqual([['1', 'malformed JSON: not an object']]);
    expect((await readOutput(path.join(dir, 'o'), 'customers')).map((c) => c.customer_id)).toEqual(['A', 'B']);
  });
});
