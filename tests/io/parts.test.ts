/**
 * writeParts (src/io/parts.ts) on real files: a written CSV or NDJSON cut
 * into parts at record boundaries, each within its limits, each CSV part with
 * the header (and a BOM when asked). The records are made here, so each
 * expected cut is worked out from their lengths.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordTooLargeError, writeParts } from '../../src/io/parts.js';
import { tempDir } from '../helpers.js';

const BOM = [0xef, 0xbb, 0xbf];
const HEADER = 'email,name,clv\r\n';

/** `n` CSV records, some with a quoted line break or doubled quote inside, of different lengths. */
const records = (n: number) =>
  Array.from({ length: n }, (_, i) => {
    const name = i % 3 === 0 ? `"Doe, ""J${i}""\r\nline two"` : i % 3 === 1 ? `Ann ${'x'.repeat(i % 17)}` : `"Zoë ${i}"`;
    return `c${i}@example.com,${name},${(i * 1.5).toFixed(2)}\r\n`;
  });

async function cut(content: string, options: Parameters<typeof writeParts>[2]) {
  const dir = await tempDir('crm-parts-');
  const source = path.join(dir, 'whole');
  await writeFile(source, content);
  const rows = await writeParts(source, (part) => path.join(dir, `part-${part}`), options);
  const parts = await Promise.all(rows.map((_, i) => readFile(path.join(dir, `part-${i + 1}`))));
  return { rows, parts };
}

describe('writeParts', () => {
  it('by rows: every part has the header and at most N records, quoted line breaks kept inside their record', async () => {
    const body = records(10);
    const { rows, parts } = await cut(HEADER + body.join(''), { csv: true, limits: { rows: 4 } });
    expect(rows).toEqual([4, 4, 2]);
    expect(parts.map((p) => p.toString('utf8'))).toEqual([HEADER + body.slice(0, 4).join(''), HEADER + body.slice(4, 8).join(''), HEADER + body.slice(8).join('')]);
  });

  it('by bytes: each part as full as the limit allows, header and BOM counted', async () => {
    const body = records(40);
    const limit = 300;
    const { rows, parts } = await cut(HEADER + body.join(''), { csv: true, bom: true, limits: { bytes: limit } });
    // Greedy by hand: a part holds the BOM, the header and the records while they fit.
    const expected: string[][] = [];
    let size = Infinity;
    for (const record of body) {
      const bytes = Buffer.byteLength(record);
      if (size + bytes > limit) expected.push([]), (size = 3 + HEADER.length);
      expected.at(-1)!.push(record);
      size += bytes;
    }
    expect(rows).toEqual(expected.map((p) => p.length));
    expect(expected.length).toBeGreaterThan(3);
    parts.forEach((part, i) => {
      expect(part.length).toBeLessThanOrEqual(limit);
      expect([...part.subarray(0, 3)]).toEqual(BOM);
      expect(part.subarray(3).toString('utf8')).toBe(HEADER + expected[i]!.join(''));
    });
  });

  it('records across the reader’s 1 MiB chunks: rows and bytes together, nothing lost or doubled', async () => {
    const body = records(60_000);
    const { rows, parts } = await cut(HEADER + body.join(''), { csv: true, limits: { rows: 25_000, bytes: 1_500_000 } });
    expect(rows.reduce((a, b) => a + b, 0)).toBe(60_000);
    for (const [i, part] of parts.entries()) {
      expect(part.length, `part ${i + 1}`).toBeLessThanOrEqual(1_500_000);
      expect(rows[i]!).toBeLessThanOrEqual(25_000);
      expect(part.subarray(0, HEADER.length).toString('utf8')).toBe(HEADER);
    }
    expect(parts.map((p) => p.subarray(HEADER.length).toString('utf8')).join('')).toBe(body.join(''));
  });

  it('a header-only CSV gives one part with the header; a last record without a line break is kept', async () => {
    expect((await cut(HEADER, { csv: true, limits: { rows: 10 } })).parts.map(String)).toEqual([HEADER]);
    const { rows, parts } = await cut(`${HEADER}a@x,A,1\r\nb@x,B,2`, { csv: true, limits: { rows: 1 } });
    expect(rows).toEqual([1, 1]);
    expect(parts.map(String)).toEqual([`${HEADER}a@x,A,1\r\n`, `${HEADER}b@x,B,2`]);
  });

  it('NDJSON: no header, a record a line, a quote inside a string is not a quoting', async () => {
    const lines = ['{"email":"a@x","name":"say \\"hi\\""}\n', '{"email":"b@x","name":"B"}\n', '{"email":"c@x","name":"C"}\n'];
    const { rows, parts } = await cut(lines.join(''), { csv: false, limits: { rows: 2 } });
    expect(rows).toEqual([2, 1]);
    expect(parts.map(String)).toEqual([lines[0]! + lines[1]!, lines[2]!]);
  });

  it('without limits and with a BOM: the whole file after the BOM', async () => {
    const body = records(5).join('');
    const { parts } = await cut(HEADER + body, { csv: true, bom: true });
    expect(parts).toHaveLength(1);
    expect(parts[0]).toEqual(Buffer.concat([Buffer.from(BOM), Buffer.from(HEADER + body)]));
  });

  it('a record that cannot fit in a part with the header is an error naming its size', async () => {
    const record = `a@x,${'y'.repeat(100)},1\r\n`;
    // 16 bytes of header and 108 of record.
    const error = await cut(HEADER + record, { csv: true, limits: { bytes: 100 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(error).toMatchObject({ bytes: 124, limit: 100, message: 'a record of 124 bytes (with the header) does not fit in a part of at most 100 bytes' });
  });

  it('a part may be exactly as long as the byte limit: a record that just fits with the header, parts filled to the byte', async () => {
    const record = 'a@x,Ann,1\r\n';
    const limit = HEADER.length + 2 * record.length;
    const { rows, parts } = await cut(HEADER + record.repeat(5), { csv: true, limits: { bytes: limit } });
    expect(rows).toEqual([2, 2, 1]);
    expect(parts.map((p) => p.length)).toEqual([limit, limit, HEADER.length + record.length]);
    // One record as long as the limit allows with the header: no error, one part.
    const long = `b@x,${'z'.repeat(40)},2\r\n`;
    expect((await cut(HEADER + long, { csv: true, limits: { bytes: HEADER.length + long.length } })).parts.map(String)).toEqual([HEADER + long]);
  });

  it('a header that starts with a quote: the quoting is followed from the first byte', async () => {
    const header = '"email","name"\n';
    const body = ['a@x,"one\nline two"\n', 'b@x,"B"\n', 'c@x,"three\n\nlines"\n'];
    const { rows, parts } = await cut(header + body.join(''), { csv: true, limits: { rows: 1 } });
    expect(rows).toEqual([1, 1, 1]);
    expect(parts.map(String)).toEqual(body.map((record) => header + record));
  });

  it('a 1 MiB chunk of the reader that begins with the line break of a record, a quoted field after it', async () => {
    const MIB = 1 << 20;
    // Records of 100 bytes (CRLF included) after a 16-byte header: the LF of record n sits at 16 + 100n − 1.
    // Padding the first record by p bytes moves every LF by p: choose p so that one LF is the chunk's first byte, MIB.
    const record = (i: number, pad = 0) => `r${String(i).padStart(6, '0')}@x,"Q ${'q'.repeat(82 + pad)}",1\r\n`;
    expect(record(0).length).toBe(100);
    const pad = (MIB - HEADER.length + 1) % 100;
    const body = Array.from({ length: 12_000 }, (_, i) => record(i, i === 0 ? pad : 0));
    const content = HEADER + body.join('');
    expect(content.charCodeAt(MIB)).toBe(0x0a);
    expect(content.charCodeAt(MIB - 1)).toBe(0x0d);
    const { rows, parts } = await cut(content, { csv: true, limits: { rows: 5_000 } });
    expect(rows).toEqual([5_000, 5_000, 2_000]);
    expect(parts.map(String)).toEqual([0, 5_000, 10_000].map((from) => HEADER + body.slice(from, from + 5_000).join('')));
  });

  it('an empty file gives one empty part, or the BOM alone when asked', async () => {
    expect((await cut('', { csv: true, limits: { rows: 10 } })).parts).toEqual([Buffer.alloc(0)]);
    expect((await cut('', { csv: true, bom: true })).parts).toEqual([Buffer.from(BOM)]);
    expect((await cut('', { csv: false, bom: false })).rows).toEqual([0]);
  });
});
