/**
 * writeQuery on a real DuckDB, file by file, in this process (the e2e tests
 * check the formats through the CLI). Expected files are written by hand from
 * each format's definition.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARROW_BATCH_ROWS } from '../../src/engine/duckdb/arrowFile.js';
import { duckdbDialect } from '../../src/engine/duckdb/dialect.js';
import { excelSafeSql, EXTENSION } from '../../src/io/writers.js';
import { tempDir, withEngine } from '../helpers.js';

const QUERY = `SELECT * FROM (VALUES
    ('c1', DATE '2024-03-01', 12.50::DECIMAL(10, 2), 0.25::DOUBLE, 9007199254740993::BIGINT, 7::INTEGER),
    ('c2', NULL, NULL, NULL, NULL, NULL)
  ) AS t(customer_id, first_order, revenue, share, big, orders)`;

describe('writeQuery', () => {
  it('CSV: a header, LF line ends, empty fields for NULL', async () => {
    const file = path.join(await tempDir(), 'customers.csv');
    await withEngine((engine) => engine.writeQuery(QUERY, 'csv', file));
    expect(await readFile(file, 'utf8')).toBe(
      'customer_id,first_order,revenue,share,big,orders\nc1,2024-03-01,12.50,0.25,9007199254740993,7\nc2,,,,,\n',
    );
  });

  it('CSV with crlf: every record ends in CRLF (RFC 4180)', async () => {
    const file = path.join(await tempDir(), 'customers.csv');
    await withEngine((engine) => engine.writeQuery(`SELECT customer_id, orders FROM (${QUERY})`, 'csv', file, { crlf: true }));
    expect(await readFile(file, 'utf8')).toBe('customer_id,orders\r\nc1,7\r\nc2,\r\n');
  });

  it('JSON: one object per line (NDJSON), null for NULL', async () => {
    const file = path.join(await tempDir(), 'customers.json');
    await withEngine((engine) => engine.writeQuery(`SELECT customer_id, first_order, orders FROM (${QUERY})`, 'json', file));
    expect(await readFile(file, 'utf8')).toBe(
      '{"customer_id":"c1","first_order":"2024-03-01","orders":7}\n{"customer_id":"c2","first_order":null,"orders":null}\n',
    );
  });

  it('Parquet: the same rows and column types read back', async () => {
    const file = path.join(await tempDir(), "o'brien customers.parquet");
    const back = await withEngine(async (engine) => {
      await engine.writeQuery(QUERY, 'parquet', file);
      const source = `read_parquet(${engine.dialect.quoteString(file)})`;
      return {
        types: (await engine.all<{ column_type: string }>(`DESCRIBE SELECT * FROM ${source}`)).map((c) => c.column_type),
        rows: await engine.all(`SELECT customer_id, first_order::VARCHAR AS first_order, revenue::VARCHAR AS revenue, share, big::VARCHAR AS big, orders FROM ${source} ORDER BY customer_id`),
      };
    });
    expect(back.types).toEqual(['VARCHAR', 'DATE', 'DECIMAL(10,2)', 'DOUBLE', 'BIGINT', 'INTEGER']);
    expect(back.rows).toEqual([
      { customer_id: 'c1', first_order: '2024-03-01', revenue: '12.50', share: 0.25, big: '9007199254740993', orders: 7 },
      { customer_id: 'c2', first_order: null, revenue: null, share: null, big: null, orders: null },
    ]);
  });

  it('Arrow: an IPC file with dates as days, decimals as doubles, 64- and 32-bit integers, text, and nulls', async () => {
    const file = path.join(await tempDir(), 'customers.arrow');
    const query = `SELECT customer_id, first_order, revenue, share, orders, big, 3::HUGEINT AS huge, 4::UBIGINT AS ubig,
        5::UTINYINT AS utiny, 6::USMALLINT AS usmall, 7::UINTEGER AS uint, 8::TINYINT AS tiny, 9::SMALLINT AS small,
        1.5::FLOAT AS float, true AS flag
      FROM (${QUERY})`;
    await withEngine((engine) => engine.writeQuery(query, 'arrow', file));
    const bytes = await readFile(file);
    // The IPC file format (not the stream format) begins and ends with the magic ARROW1.
    expect(bytes.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    expect(bytes.subarray(-6).toString('latin1')).toBe('ARROW1');
    const { tableFromIPC } = await import('apache-arrow');
    const table = tableFromIPC(bytes);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'customer_id:Utf8',
      'first_order:Date32<DAY>',
      'revenue:Float64',
      'share:Float64',
      'orders:Int32',
      'big:Int64',
      'huge:Int64',
      'ubig:Int64',
      'utiny:Int32',
      'usmall:Int32',
      'uint:Int32',
      'tiny:Int32',
      'small:Int32',
      'float:Float64',
      'flag:Utf8',
    ]);
    const [c1, c2] = table.toArray().map((row) => row.toJSON());
    // 2024-03-01 is day 19783 after 1970-01-01 (54 years, 13 of them leap, plus 31 + 29 days).
    expect(c1).toEqual({
      customer_id: 'c1',
      first_order: 19_783 * 86_400_000,
      revenue: 12.5,
      share: 0.25,
      orders: 7,
      big: 9_007_199_254_740_993n, // 2^53 + 1: not a double
      huge: 3n,
      ubig: 4n,
      utiny: 5,
      usmall: 6,
      uint: 7,
      tiny: 8,
      small: 9,
      float: 1.5,
      flag: 'true',
    });
    expect(c2).toMatchObject({ customer_id: 'c2', first_order: null, revenue: null, share: null, orders: null, big: null });
  });

  it('Arrow: a long table in record batches of ARROW_BATCH_ROWS rows (Node holds one at a time), every value in its place, the same bytes twice', async () => {
    const rows = 2 * ARROW_BATCH_ROWS + 5;
    const query = `SELECT 'c' || i AS customer_id,
        CASE WHEN i % 3 = 0 THEN NULL ELSE i * 0.5 END::DOUBLE AS share,
        CASE WHEN i % 5 = 0 THEN NULL ELSE DATE '2024-01-01' + (i % 400)::INTEGER END AS first_order,
        i::BIGINT AS big, (i % 7)::INTEGER AS small,
        CASE WHEN i % 11 = 0 THEN NULL ELSE repeat('é', (i % 4)::INTEGER) END AS label
      FROM range(${rows}) t(i) ORDER BY i`;
    const dir = await tempDir();
    const [first, second] = [path.join(dir, 'a.arrow'), path.join(dir, 'b.arrow')];
    await withEngine(async (engine) => {
      await engine.writeQuery(query, 'arrow', first);
      await engine.writeQuery(query, 'arrow', second);
    });
    const bytes = await readFile(first);
    expect(bytes.equals(await readFile(second))).toBe(true);
    const { tableFromIPC } = await import('apache-arrow');
    const table = tableFromIPC(bytes);
    expect(table.batches.map((b) => b.numRows)).toEqual([ARROW_BATCH_ROWS, ARROW_BATCH_ROWS, 5]);
    // Expected from the query's own rules; 2024-01-01 is day 19723 after 1970-01-01 (2024-03-01, day 19783, less 31 + 29 days).
    const expected = (i: number) => ({
      customer_id: `c${i}`,
      share: i % 3 === 0 ? null : i * 0.5,
      first_order: i % 5 === 0 ? null : (19_723 + (i % 400)) * 86_400_000,
      big: BigInt(i),
      small: i % 7,
      label: i % 11 === 0 ? null : 'é'.repeat(i % 4),
    });
    for (const i of [0, 1, 2, 10, 11, ARROW_BATCH_ROWS - 1, ARROW_BATCH_ROWS, ARROW_BATCH_ROWS + 1, 2 * ARROW_BATCH_ROWS - 1, 2 * ARROW_BATCH_ROWS, rows - 1]) {
      expect(table.get(i)!.toJSON(), `row ${i}`).toEqual(expected(i));
    }
    const nullsOf = (name: string) => table.getChild(name)!.nullCount;
    // Multiples of m in 0 … rows − 1: ⌊(rows − 1)/m⌋ + 1.
    expect({ share: nullsOf('share'), first_order: nullsOf('first_order'), label: nullsOf('label'), big: nullsOf('big') }).toEqual({
      share: Math.floor((rows - 1) / 3) + 1,
      first_order: Math.floor((rows - 1) / 5) + 1,
      label: Math.floor((rows - 1) / 11) + 1,
      big: 0,
    });
  });

  it('Arrow: an empty result is a file with the schema and no rows', async () => {
    const file = path.join(await tempDir(), 'empty.arrow');
    await withEngine((engine) => engine.writeQuery(`SELECT customer_id, share FROM (${QUERY}) WHERE false`, 'arrow', file));
    const { tableFromIPC } = await import('apache-arrow');
    const table = tableFromIPC(await readFile(file));
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['customer_id:Utf8', 'share:Float64']);
    expect(table.numRows).toBe(0);
  });
});

describe('excelSafeSql and the file extensions', () => {
  it('puts a quote before text starting with = + - @, a tab or a CR, and leaves other text and NULL as they are', async () => {
    const file = path.join(await tempDir(), 'customers.csv');
    const query = `SELECT ${excelSafeSql(duckdbDialect)('v')} AS v FROM (VALUES (1, '=HYPERLINK("x")'), (2, '+1'), (3, '-C5'), (4, '@SUM(A1)'), (5, chr(9) || 'tab'), (6, chr(13) || 'cr'), (7, 'C-5'), (8, NULL)) AS t(i, v) ORDER BY i`;
    await withEngine((engine) => engine.writeQuery(query, 'csv', file));
    expect(await readFile(file, 'utf8')).toBe(`v\n"'=HYPERLINK(""x"")"\n'+1\n'-C5\n'@SUM(A1)\n'\ttab\n"'\rcr"\nC-5\n\n`);
  });

  it('names each format\'s files by the format', () => {
    expect(EXTENSION).toEqual({ parquet: 'parquet', csv: 'csv', json: 'json', arrow: 'arrow' });
  });
});
