import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';

/**
 * How many lines of a file end in CRLF and how many in a bare LF. Read only
 * when DuckDB's CSV reader has failed on a file: it cannot read one that mixes
 * the two (two exports concatenated), and says only that its state machine
 * reached an invalid state. A gzip file is not looked into.
 */
export async function countLineEndings(file: string): Promise<{ crlf: number; lf: number }> {
  let crlf = 0;
  let lf = 0;
  let previous = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
      if ((i > 0 ? chunk[i - 1] : previous) === 13) crlf++;
      else lf++;
    }
    if (chunk.length > 0) previous = chunk[chunk.length - 1]!;
  }
  return { crlf, lf };
}

/**
 * The first line (1-based) of a file longer than `limit` bytes, and its
 * length; null when none is. Read only when DuckDB's reader has refused a
 * line as too long, which it reports as line 1 wherever the line is.
 */
export async function firstLineLongerThan(file: string, limit: number): Promise<{ line: number; bytes: number } | null> {
  let line = 1;
  let length = 0;
  const source = createReadStream(file);
  const stream = /\.gz$/i.test(file) ? source.pipe(createGunzip()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) {
        length += i - start;
        if (length > limit) return { line, bytes: length };
        line++;
        length = 0;
        start = i + 1;
      }
      length += chunk.length - start;
    }
    return length > limit ? { line, bytes: length } : null;
  } finally {
    source.destroy();
  }
}
