import { createReadStream } from 'node:fs';

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
