/**
 * What crm reads from an input file's first bytes before DuckDB does, on real
 * files in a temp folder. The expected verdicts and messages are worked out
 * from the bytes written here (the load's end-to-end cases are in
 * tests/engine/badInput.test.ts and the e2e tests).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { checkTextInput, foreignEncoding, gzipDamage, HEAD_BYTES, isGzip, readHead, shellQuote, startsAsJsonArray } from '../../src/io/inputBytes.js';
import { tempDir } from '../helpers.js';

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));
/** `pairs` two-byte units, the first `withNul` of them [0x41, 0] (an ASCII letter in UTF-16LE), the rest [0x41, 0x41]. */
const oddNuls = (pairs: number, withNul: number) => bytes(...Array.from({ length: pairs }, (_, i) => (i < withNul ? [0x41, 0] : [0x41, 0x41])).flat());

/** The message of the error `checkTextInput` throws, or null when it accepts the file. */
async function refusal(file: string, kind: 'csv' | 'ndjson'): Promise<string | null> {
  try {
    await checkTextInput(file, kind);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

describe('isGzip', () => {
  it('is gzip\'s two magic bytes 1f 8b, both of them', () => {
    expect(isGzip(bytes(0x1f, 0x8b, 8))).toBe(true);
    expect(isGzip(bytes(0x1f, 0x8c))).toBe(false);
    expect(isGzip(bytes(0x1e, 0x8b))).toBe(false);
    expect(isGzip(bytes(0x1f))).toBe(false);
  });
});

describe('foreignEncoding', () => {
  it('reads the byte-order marks, UTF-32 before the UTF-16 mark it starts with', () => {
    expect(foreignEncoding(bytes(0xff, 0xfe, 0, 0, 0x41, 0, 0, 0))).toEqual({ encoding: 'UTF-32', endian: 'LE', bom: true });
    expect(foreignEncoding(bytes(0, 0, 0xfe, 0xff, 0, 0, 0, 0x41))).toEqual({ encoding: 'UTF-32', endian: 'BE', bom: true });
    expect(foreignEncoding(bytes(0xff, 0xfe, 0x41, 0))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: true });
    expect(foreignEncoding(bytes(0xfe, 0xff, 0, 0x41))).toEqual({ encoding: 'UTF-16', endian: 'BE', bom: true });
  });

  it('finds UTF-16 without a mark by the NUL beside each ASCII byte: odd offsets little-endian, even ones big-endian', () => {
    expect(foreignEncoding(new Uint8Array(Buffer.from('id,date,amount', 'utf16le')))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: false });
    expect(foreignEncoding(new Uint8Array(Buffer.from('id,date,amount', 'utf16le').swap16()))).toEqual({ encoding: 'UTF-16', endian: 'BE', bom: false });
  });

  it('needs 4 whole pairs: 7 bytes of UTF-16LE say nothing, 8 do', () => {
    expect(foreignEncoding(oddNuls(4, 4).subarray(0, 7))).toBeNull();
    expect(foreignEncoding(oddNuls(4, 4))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: false });
  });

  it('takes more than 70% of the pairs with a NUL: 7 of 10 is not UTF-16, 8 of 10 is', () => {
    expect(foreignEncoding(oddNuls(10, 7))).toBeNull();
    expect(foreignEncoding(oddNuls(10, 8))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: false });
    const swapped = (b: Uint8Array) => new Uint8Array(Buffer.from(b).swap16());
    expect(foreignEncoding(swapped(oddNuls(10, 7)))).toBeNull();
    expect(foreignEncoding(swapped(oddNuls(10, 8)))).toEqual({ encoding: 'UTF-16', endian: 'BE', bom: false });
  });

  it('takes under 10% of NULs on the other side: 1 NUL pair in 10 is too many, 1 in 20 is not', () => {
    // [0, 0] pairs count on both sides: 9 of 10 odd NULs, 1 of 10 even ones.
    const withBoth = (pairs: number) => bytes(0, 0, ...oddNuls(pairs - 1, pairs - 1));
    expect(foreignEncoding(withBoth(10))).toBeNull();
    expect(foreignEncoding(withBoth(20))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: false });
    const swapped = (b: Uint8Array) => new Uint8Array(Buffer.from(b).swap16());
    expect(foreignEncoding(swapped(withBoth(10)))).toBeNull();
    expect(foreignEncoding(swapped(withBoth(20)))).toEqual({ encoding: 'UTF-16', endian: 'BE', bom: false });
  });

  it('reads each pair\'s own second byte: NULs in the last pairs count as much as in the first', () => {
    const nulsLast = (withNul: number) => bytes(...Array.from({ length: 10 }, (_, i) => (i >= 10 - withNul ? [0x41, 0] : [0x41, 0x41])).flat());
    expect(foreignEncoding(nulsLast(8))).toEqual({ encoding: 'UTF-16', endian: 'LE', bom: false });
    expect(foreignEncoding(nulsLast(7))).toBeNull();
  });

  it('leaves UTF-8 text, and text with a few stray NUL bytes, alone', () => {
    expect(foreignEncoding(text('customer_id,order_date,amount\nC1,2024-01-05,12.50\n'))).toBeNull();
    expect(foreignEncoding(text('C1,2024-01-05,12.50\0\nC2,2024-01-06\0,7\n'))).toBeNull();
  });
});

describe('startsAsJsonArray', () => {
  it('is true for a JSON array, on one line or spread over several', () => {
    expect(startsAsJsonArray(text('[{"id":"C1"},{"id":"C2"}]'))).toBe(true);
    expect(startsAsJsonArray(text('[\n  {"id":"C1"},\n  {"id":"C2"}\n]\n'))).toBe(true);
    expect(startsAsJsonArray(text('[{"id":"C1"},\n{"id":"C2"}]'))).toBe(true);
    expect(startsAsJsonArray(text('[\n{"id":"C1"},\n{"id":"C2"}\n]\n'))).toBe(true);
    // One object, indented, with no comma after it: its line ends with } but does not start with {.
    expect(startsAsJsonArray(text('[\n  {"id":"C1"}\n]\n'))).toBe(true);
  });

  it('looks past a UTF-8 byte-order mark, blank lines and leading blanks', () => {
    expect(startsAsJsonArray(text('\uFEFF[{"id":"C1"}]'))).toBe(true);
    expect(startsAsJsonArray(text('\n  \n   [{"id":"C1"}]'))).toBe(true);
  });

  it('is false for NDJSON, also when its first line is a stray array and the second a whole object', () => {
    expect(startsAsJsonArray(text('{"id":"C1"}\n{"id":"C2"}\n'))).toBe(false);
    expect(startsAsJsonArray(text('[1,2]\n{"id":"C1"}\n'))).toBe(false);
    expect(startsAsJsonArray(text('[1,2]\r\n{"id":"C1"}\r\n'))).toBe(false);
    expect(startsAsJsonArray(text('[1,2]\n\n{"id":"C1"}   \n'))).toBe(false);
  });

  it('is false for an empty head or one that does not start with [', () => {
    expect(startsAsJsonArray(text(''))).toBe(false);
    expect(startsAsJsonArray(text('id,amount\n[1]\n'))).toBe(false);
  });
});

describe('readHead', () => {
  const content = Buffer.from(Array.from({ length: 3 * HEAD_BYTES }, (_, i) => `${i % 10}`).join(''));

  it('reads the first HEAD_BYTES of a long file, decompressed for gzip', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx.csv'), content);
    await writeFile(path.join(dir, 'tx.csv.gz'), gzipSync(content));
    expect(HEAD_BYTES).toBe(4096);
    expect((await readHead(path.join(dir, 'tx.csv'), false)).equals(content.subarray(0, 4096))).toBe(true);
    expect((await readHead(path.join(dir, 'tx.csv.gz'), true)).equals(content.subarray(0, 4096))).toBe(true);
  });

  it('reads a short file whole', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx.csv'), 'id\nC1\n');
    await writeFile(path.join(dir, 'tx.csv.gz'), gzipSync('id\nC1\n'));
    expect((await readHead(path.join(dir, 'tx.csv'), false)).toString()).toBe('id\nC1\n');
    expect((await readHead(path.join(dir, 'tx.csv.gz'), true)).toString()).toBe('id\nC1\n');
  });

  it('gives what comes before the break of a gzip file cut short, without throwing', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'tx.csv.gz');
    const whole = gzipSync('id\nC1\n');
    // Cut off the 8-byte trailer (CRC and length): the data itself is all there.
    await writeFile(file, whole.subarray(0, whole.length - 8));
    expect((await readHead(file, true)).toString()).toBe('id\nC1\n');
  });
});

describe('gzipDamage', () => {
  it('is null for a whole gzip file and zlib\'s reason for one that ends early', async () => {
    const dir = await tempDir();
    const whole = gzipSync('id,amount\nC1,5\n'.repeat(100));
    await writeFile(path.join(dir, 'whole.csv.gz'), whole);
    await writeFile(path.join(dir, 'cut.csv.gz'), whole.subarray(0, whole.length - 8));
    expect(await gzipDamage(path.join(dir, 'whole.csv.gz'))).toBeNull();
    expect(await gzipDamage(path.join(dir, 'cut.csv.gz'))).toBe('unexpected end of file');
  });
});

describe('shellQuote', () => {
  it('leaves a plain path as it is and single-quotes any other, a quote inside as \'\\\'\'', () => {
    expect(shellQuote('in/tx-2024_01.csv.gz')).toBe('in/tx-2024_01.csv.gz');
    expect(shellQuote('a@b%c+d=e:f,g')).toBe('a@b%c+d=e:f,g');
    expect(shellQuote('my files/tx.csv')).toBe("'my files/tx.csv'");
    expect(shellQuote("it's.csv")).toBe("'it'\\''s.csv'");
    expect(shellQuote('x.csv; rm y')).toBe("'x.csv; rm y'");
    expect(shellQuote('')).toBe("''");
  });
});

describe('checkTextInput', () => {
  const utf16le = (s: string) => Buffer.from(s, 'utf16le');

  it('accepts UTF-8 CSV and NDJSON, and a CSV whose first line starts with [', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx.csv'), 'customer_id,order_date,amount\nC1,2024-01-05,12.5\n');
    await writeFile(path.join(dir, 'tx.ndjson'), '{"customer_id":"C1"}\n');
    await writeFile(path.join(dir, 'odd.csv'), '[id],amount\nC1,5\n');
    await writeFile(path.join(dir, 'tx.csv.gz'), gzipSync('customer_id,amount\nC1,5\n'));
    expect(await refusal(path.join(dir, 'tx.csv'), 'csv')).toBeNull();
    expect(await refusal(path.join(dir, 'tx.ndjson'), 'ndjson')).toBeNull();
    expect(await refusal(path.join(dir, 'odd.csv'), 'csv')).toBeNull();
    expect(await refusal(path.join(dir, 'tx.csv.gz'), 'csv')).toBeNull();
  });

  it('refuses gzip bytes under a name without .gz, with the mv that fixes it', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'tx.csv');
    await writeFile(file, gzipSync('customer_id,amount\nC1,5\n'));
    expect(await refusal(file, 'csv')).toBe(
      `${file}: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv ${file} ${file}.gz`,
    );
  });

  it('refuses UTF-16 text, naming the encoding, the byte order and the iconv line, the converted name beside it', async () => {
    const dir = await tempDir();
    const plain = path.join(dir, 'tx.csv');
    const marked = path.join(dir, 'marked.csv');
    const big = path.join(dir, 'big.csv');
    await writeFile(plain, utf16le('customer_id,amount\nC1,5\n'));
    await writeFile(marked, Buffer.concat([Buffer.from([0xff, 0xfe]), utf16le('customer_id,amount\n')]));
    await writeFile(big, utf16le('customer_id,amount\nC1,5\n').swap16());
    expect(await refusal(plain, 'csv')).toBe(
      `${plain}: the text is UTF-16 (little-endian); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16LE -t UTF-8 ${plain} > ${path.join(dir, 'tx.utf8.csv')}`,
    );
    expect(await refusal(marked, 'csv')).toBe(
      `${marked}: the text is UTF-16 (little-endian, with a byte-order mark); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16 -t UTF-8 ${marked} > ${path.join(dir, 'marked.utf8.csv')}`,
    );
    expect(await refusal(big, 'csv')).toBe(
      `${big}: the text is UTF-16 (big-endian); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16BE -t UTF-8 ${big} > ${path.join(dir, 'big.utf8.csv')}`,
    );
  });

  it('reads a .gz file decompressed: UTF-16 inside gets a gunzip | iconv line, the name keeping its extension without .gz', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'tx.csv.GZ');
    await writeFile(file, gzipSync(utf16le('customer_id,amount\nC1,5\n')));
    expect(await refusal(file, 'csv')).toBe(
      `${file}: the text is UTF-16 (little-endian); crm reads UTF-8: convert it first, e.g. gunzip -c ${file} | iconv -f UTF-16LE -t UTF-8 > ${path.join(dir, 'tx.utf8.csv')}`,
    );
  });

  it('refuses a JSON array given as NDJSON with the jq line, gzipped or not; a name without an extension gets the suffix at its end', async () => {
    const dir = await tempDir();
    const array = '[{"customer_id":"C1"},\n{"customer_id":"C2"}]\n';
    const plain = path.join(dir, 'tx.json');
    const gz = path.join(dir, 'tx.json.gz');
    const bare = path.join(dir, 'export');
    const dotted = path.join(dir, '.export');
    await writeFile(plain, array);
    await writeFile(gz, gzipSync(array));
    await writeFile(bare, array);
    await writeFile(dotted, array);
    const message = (file: string, source: string, target: string) =>
      `${file}: the file is a JSON array, not newline-delimited JSON (one object per line); convert it first, e.g. ${source} > ${target}`;
    expect(await refusal(plain, 'ndjson')).toBe(message(plain, `jq -c '.[]' ${plain}`, path.join(dir, 'tx.lines.json')));
    expect(await refusal(gz, 'ndjson')).toBe(message(gz, `gunzip -c ${gz} | jq -c '.[]'`, path.join(dir, 'tx.lines.json')));
    expect(await refusal(bare, 'ndjson')).toBe(message(bare, `jq -c '.[]' ${bare}`, path.join(dir, 'export.lines')));
    expect(await refusal(dotted, 'ndjson')).toBe(message(dotted, `jq -c '.[]' ${dotted}`, path.join(dir, '.export.lines')));
    // The same bytes as CSV are DuckDB's to judge.
    expect(await refusal(plain, 'csv')).toBeNull();
  });

  it('takes .gz only at the end of the name: gzip bytes in tx.gz.csv are refused, UTF-16 in it keeps .gz in the converted name', async () => {
    const dir = await tempDir();
    const gz = path.join(dir, 'tx.gz.csv');
    const text16 = path.join(dir, 'in.gz.csv');
    await writeFile(gz, gzipSync('customer_id,amount\n'));
    await writeFile(text16, utf16le('customer_id,amount\nC1,5\n'));
    expect(await refusal(gz, 'csv')).toBe(`${gz}: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv ${gz} ${gz}.gz`);
    expect(await refusal(text16, 'csv')).toBe(
      `${text16}: the text is UTF-16 (little-endian); crm reads UTF-8: convert it first, e.g. iconv -f UTF-16LE -t UTF-8 ${text16} > ${path.join(dir, 'in.gz.utf8.csv')}`,
    );
  });

  it('quotes a path with a space in every hint, so the line can be pasted', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'my tx.csv');
    await writeFile(file, gzipSync('customer_id,amount\n'));
    expect(await refusal(file, 'csv')).toBe(
      `${file}: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv '${file}' '${file}.gz'`,
    );
  });
});
