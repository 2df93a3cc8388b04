import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The UTF-8 byte order mark: Excel reads a CSV as UTF-8 only when the file starts with it. */
export const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** When a part is full: at most `rows` records, at most `bytes` bytes (header and BOM included). */
export interface PartLimits {
  rows?: number;
  bytes?: number;
}

/** One record (with the header it is written under) is larger than the byte limit of a part. */
export class RecordTooLargeError extends Error {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`a record of ${bytes} bytes (with the header) does not fit in a part of at most ${limit} bytes`);
  }
}

const QUOTE = 0x22;
const LF = 0x0a;
/** Written in blocks of about this much rather than a write per record. */
const BLOCK = 1 << 20;

/**
 * Copies `source` into parts `target(1)`, `target(2)`, … cut at record
 * boundaries, each part within `limits`; returns the records in each part
 * (one part, perhaps empty, at least). A CSV (`csv`) starts with its header
 * line, which every part repeats, after a BOM with `bom`; a line break inside
 * a quoted field is not a boundary (DuckDB quotes with " and doubles a " inside,
 * so every " toggles the quoting). NDJSON has no header, and a record per line.
 */
export async function writeParts(source: string, target: (part: number) => string, options: { csv: boolean; bom?: boolean; limits?: PartLimits }): Promise<number[]> {
  const { csv, limits = {} } = options;
  const rows: number[] = [];
  let header: Buffer | null = csv ? null : Buffer.alloc(0);
  let prefix: Buffer = Buffer.alloc(0);
  let handle: FileHandle | null = null;
  let bytes = 0;
  let block: Buffer[] = [];
  let blockBytes = 0;

  const flush = async () => {
    if (handle && blockBytes > 0) await handle.write(Buffer.concat(block, blockBytes));
    block = [];
    blockBytes = 0;
  };
  const write = async (data: Buffer) => {
    block.push(data);
    blockBytes += data.length;
    bytes += data.length;
    if (blockBytes >= BLOCK) await flush();
  };
  const startPart = async () => {
    await flush();
    await handle?.close();
    handle = null;
    handle = await open(target(rows.length + 1), 'w');
    rows.push(0);
    bytes = 0;
    await write(prefix);
  };
  const addRecord = async (record: Buffer) => {
    if (header === null) {
      header = record;
      prefix = options.bom ? Buffer.concat([UTF8_BOM, header]) : header;
      return;
    }
    if (limits.bytes !== undefined && prefix.length + record.length > limits.bytes) throw new RecordTooLargeError(prefix.length + record.length, limits.bytes);
    const inPart = rows.at(-1) ?? 0;
    const full = (limits.rows !== undefined && inPart >= limits.rows) || (limits.bytes !== undefined && bytes + record.length > limits.bytes);
    if (handle === null || (inPart > 0 && full)) await startPart();
    await write(record);
    rows[rows.length - 1]! += 1;
  };

  try {
    let inQuotes = false;
    let pending: Buffer[] = [];
    for await (const chunk of createReadStream(source, { highWaterMark: BLOCK }) as AsyncIterable<Buffer>) {
      let start = 0;
      let i = 0;
      // The next quote at or after i (chunk.length: none left), found once per quote rather than once per record.
      let quote = -1;
      const nextQuote = () => {
        if (quote < i) quote = csv ? chunk.indexOf(QUOTE, i) : -1;
        if (quote < 0) quote = chunk.length;
        return quote;
      };
      while (i < chunk.length) {
        if (inQuotes) {
          const q = nextQuote();
          if (q === chunk.length) break;
          inQuotes = false;
          i = q + 1;
          continue;
        }
        const lf = chunk.indexOf(LF, i);
        const q = nextQuote();
        if (q < chunk.length && (lf < 0 || q < lf)) {
          inQuotes = true;
          i = q + 1;
          continue;
        }
        if (lf < 0) break;
        const end = chunk.subarray(start, lf + 1);
        await addRecord(pending.length ? Buffer.concat([...pending, end]) : end);
        pending = [];
        start = i = lf + 1;
      }
      if (start < chunk.length) pending.push(chunk.subarray(start));
    }
    // A last record without a line break after it.
    if (pending.length) await addRecord(Buffer.concat(pending));
    if (header === null) {
      header = Buffer.alloc(0);
      prefix = options.bom ? UTF8_BOM : header;
    }
    if (handle === null) await startPart();
    await flush();
  } finally {
    await (handle as FileHandle | null)?.close();
  }
  return rows;
}
