import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { countLineEndings, firstLineLongerThan } from '../../src/io/lineEndings.js';
import { tempDir } from '../helpers.js';

describe('countLineEndings', () => {
  it('counts CRLF and bare LF line ends, also a CRLF split across two reads of the file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'mixed.csv');
    // Node reads files in 64 KiB chunks: the first line's CR is the chunk's last byte, its LF the next chunk's first.
    const first = `${'x'.repeat(65_535)}\r\n`;
    await writeFile(file, `${first}a\nb\r\n\nc`);
    expect(await countLineEndings(file)).toEqual({ crlf: 2, lf: 2 });
    await writeFile(file, 'no line end at all');
    expect(await countLineEndings(file)).toEqual({ crlf: 0, lf: 0 });
    await writeFile(file, 'a\r\nb\nc\nd\n');
    expect(await countLineEndings(file)).toEqual({ crlf: 1, lf: 3 });
  });
});

describe('firstLineLongerThan', () => {
  /** The answer for `text` written plain and gzipped (as tx.csv.gz, read decompressed). */
  async function both(text: string, limit: number) {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx.csv'), text);
    await writeFile(path.join(dir, 'tx.csv.gz'), gzipSync(text));
    const [plain, gzipped] = [await firstLineLongerThan(path.join(dir, 'tx.csv'), limit), await firstLineLongerThan(path.join(dir, 'tx.csv.gz'), limit)];
    expect(gzipped).toEqual(plain);
    return plain;
  }

  it('gives the first line longer than the limit and its length in bytes up to the LF (a CR before it counts)', async () => {
    expect(await both('ab\nabcdef\nxy\nabcdefgh\n', 5)).toEqual({ line: 2, bytes: 6 });
    expect(await both('ab\r\nabcde\r\n', 5)).toEqual({ line: 2, bytes: 6 });
  });

  it('takes a line of exactly the limit, and is null when no line is longer', async () => {
    expect(await both('ab\nabcdef\nxy\n', 6)).toBeNull();
    expect(await both('', 0)).toBeNull();
  });

  it('reads a file decompressed only when its name ends in .gz', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'tx.gz.csv'), 'ab\nabcdef\n');
    expect(await firstLineLongerThan(path.join(dir, 'tx.gz.csv'), 5)).toEqual({ line: 2, bytes: 6 });
  });

  it('counts a last line without a line end', async () => {
    expect(await both('a\nb\nabcdefg', 5)).toEqual({ line: 3, bytes: 7 });
    expect(await both('a\nb\nabcde', 5)).toBeNull();
  });

  it('adds up a line spread over several reads of the file (64 KiB each), and counts the lines before it in every read', async () => {
    const short = 'c,2024-01-01,1\n'.repeat(5000);
    const long = 'x'.repeat(200_000);
    expect(await both(`${short}${long}\n${short}`, 199_999)).toEqual({ line: 5001, bytes: 200_000 });
    expect(await both(`${short}${long}\n${short}`, 200_000)).toBeNull();
    expect(await both(`${short}${short}${long}`, 199_999)).toEqual({ line: 10_001, bytes: 200_000 });
  });
});
