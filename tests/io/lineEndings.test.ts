import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countLineEndings } from '../../src/io/lineEndings.js';
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
  });
});
