/**
 * What an input file's bytes say before DuckDB reads it: text in an encoding
 * crm does not read (UTF-16, UTF-32), gzip under a name without .gz, a JSON
 * array where one object per line is expected; and whether a gzip file ends
 * where its compressed stream does. DuckDB reads each of these without a word
 * or with a message about something else.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

/** Bytes looked at from the start of a file (decompressed, for .gz). */
export const HEAD_BYTES = 4096;

export type ForeignEncoding = { encoding: 'UTF-16' | 'UTF-32'; endian: 'LE' | 'BE'; bom: boolean };

const startsWith = (head: Uint8Array, bytes: number[]) => bytes.every((b, i) => head[i] === b);

/** Gzip's magic number. */
export const isGzip = (head: Uint8Array) => startsWith(head, [0x1f, 0x8b]);

/**
 * UTF-16 or UTF-32 text, by its byte-order mark or, without one, by the NUL
 * bytes that sit beside every ASCII character in UTF-16 (most of the bytes at
 * odd offsets for little-endian, at even ones for big-endian). A few stray NUL
 * bytes in UTF-8 text are not this.
 */
export function foreignEncoding(head: Uint8Array): ForeignEncoding | null {
  if (startsWith(head, [0xff, 0xfe, 0, 0])) return { encoding: 'UTF-32', endian: 'LE', bom: true };
  if (startsWith(head, [0, 0, 0xfe, 0xff])) return { encoding: 'UTF-32', endian: 'BE', bom: true };
  if (startsWith(head, [0xff, 0xfe])) return { encoding: 'UTF-16', endian: 'LE', bom: true };
  if (startsWith(head, [0xfe, 0xff])) return { encoding: 'UTF-16', endian: 'BE', bom: true };
  const pairs = Math.floor(head.length / 2);
  if (pairs < 4) return null;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0) evenNul++;
    if (head[i + 1] === 0) oddNul++;
  }
  if (oddNul > 0.7 * pairs && evenNul < 0.1 * pairs) return { encoding: 'UTF-16', endian: 'LE', bom: false };
  if (evenNul > 0.7 * pairs && oddNul < 0.1 * pairs) return { encoding: 'UTF-16', endian: 'BE', bom: false };
  return null;
}

/**
 * Whether text is a JSON array, not one JSON object per line: it starts,
 * after a UTF-8 BOM and blanks, with `[`, and its second line is not a whole
 * object (then it is NDJSON whose first line is a stray array, a reject).
 */
export function startsAsJsonArray(head: Uint8Array): boolean {
  const lines = Buffer.from(head).toString('utf8').replace(/^\uFEFF/, '').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  if (!lines[0]?.trimStart().startsWith('[')) return false;
  const second = lines[1];
  return !(second !== undefined && second.startsWith('{') && second.endsWith('}'));
}

/** The first HEAD_BYTES of a file, decompressed when `gzip`; as many as there are when the file is shorter or breaks off. */
export async function readHead(file: string, gzip: boolean): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  const source = createReadStream(file, gzip ? {} : { end: HEAD_BYTES - 1 });
  const stream = gzip ? source.pipe(createGunzip()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= HEAD_BYTES) break;
    }
  } catch {
    // A damaged file: what came before the damage is the head; the load says what is wrong.
  } finally {
    source.destroy();
  }
  return Buffer.concat(chunks).subarray(0, HEAD_BYTES);
}

/**
 * Decompresses a gzip file to nowhere: null when it is whole, else zlib's
 * reason (`unexpected end of file` for one that ends early). DuckDB's reader
 * takes the rows before the break and says nothing. Never rejects.
 */
export async function gzipDamage(file: string): Promise<string | null> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  try {
    await pipeline(createReadStream(file), createGunzip(), discard);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A file's path without .gz, split at its extension: `in/tx.csv.gz` → ['in/tx', '.csv']. */
function nameParts(file: string): [stem: string, extension: string] {
  const base = path.basename(file).replace(/\.gz$/i, '');
  const dot = base.lastIndexOf('.');
  const [stem, extension] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  return [path.join(path.dirname(file), stem), extension];
}

/** A path as a shell word: as it is when it is plain, else in single quotes (a ' inside as '\''), so a hint can be pasted. */
export const shellQuote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);

/**
 * Refuses a text input whose bytes crm cannot read as what its name says,
 * with what it is and how to convert it: gzip bytes in a file not named .gz,
 * UTF-16 or UTF-32 text, a JSON array given as newline-delimited JSON.
 */
export async function checkTextInput(file: string, kind: 'csv' | 'ndjson'): Promise<void> {
  const gzipped = /\.gz$/i.test(file);
  const head = await readHead(file, gzipped);
  const [stem, extension] = nameParts(file);
  // Hints name the file as it was given, so they work from where crm was run.
  const given = shellQuote(file);
  const target = (suffix: string) => shellQuote(`${stem}${suffix}${extension}`);
  if (!gzipped && isGzip(head)) {
    throw new InputError(`${file}: the file is gzip-compressed, but its name does not end in .gz; rename it so it is read decompressed, e.g. mv ${given} ${shellQuote(`${file}.gz`)}`);
  }
  const foreign = foreignEncoding(head);
  if (foreign) {
    const from = foreign.bom ? foreign.encoding : `${foreign.encoding}${foreign.endian}`;
    const source = gzipped ? `gunzip -c ${given} | iconv -f ${from} -t UTF-8` : `iconv -f ${from} -t UTF-8 ${given}`;
    throw new InputError(
      `${file}: the text is ${foreign.encoding} (${foreign.endian === 'LE' ? 'little' : 'big'}-endian${foreign.bom ? ', with a byte-order mark' : ''}); crm reads UTF-8: convert it first, e.g. ${source} > ${target('.utf8')}`,
    );
  }
  if (kind === 'ndjson' && startsAsJsonArray(head)) {
    const source = gzipped ? `gunzip -c ${given} | jq -c '.[]'` : `jq -c '.[]' ${given}`;
    throw new InputError(`${file}: the file is a JSON array, not newline-delimited JSON (one object per line); convert it first, e.g. ${source} > ${target('.lines')}`);
  }
}
