import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Data, DataType } from 'apache-arrow';
import type { QueryEngine } from '../Engine.js';
import { duckdbDialect } from './dialect.js';

/**
 * Rows per record batch of an Arrow file: a fixed count, not the engine's
 * chunk sizes, so that the same table gives the same bytes; Node holds a batch
 * or two of the table at a time (the file streams to disk batch by batch, and
 * the next batch waits while the file has not taken the last).
 */
export const ARROW_BATCH_ROWS = 65_536;

type Arrow = typeof import('apache-arrow');

/** How a column crosses: the Arrow type, and how the engine's value is stored in the batch. */
type Kind = 'date' | 'double' | 'bigint' | 'int' | 'text';

const kindOf = (duckdbType: string): Kind => {
  const t = duckdbType.toUpperCase();
  if (t === 'DATE') return 'date';
  if (t === 'DOUBLE' || t === 'FLOAT' || t.startsWith('DECIMAL')) return 'double';
  if (t === 'BIGINT' || t === 'HUGEINT' || t === 'UBIGINT') return 'bigint';
  if (/^(TINYINT|SMALLINT|INTEGER|UTINYINT|USMALLINT|UINTEGER)$/.test(t)) return 'int';
  return 'text';
};

const arrowType = ({ DateDay, Float64, Int64, Int32, Utf8 }: Arrow, kind: Kind): DataType =>
  ({ date: () => new DateDay(), double: () => new Float64(), bigint: () => new Int64(), int: () => new Int32(), text: () => new Utf8() })[kind]();

/** One column of the batch being filled: its values (numbers in a typed array, texts as they came) and validity bits. */
interface ColumnBatch {
  kind: Kind;
  numbers: Float64Array | BigInt64Array | Int32Array | null;
  texts: (string | null)[];
  valid: Uint8Array;
  nulls: number;
}

const newColumn = (kind: Kind): ColumnBatch => ({
  kind,
  numbers: kind === 'double' ? new Float64Array(ARROW_BATCH_ROWS) : kind === 'bigint' ? new BigInt64Array(ARROW_BATCH_ROWS) : kind === 'text' ? null : new Int32Array(ARROW_BATCH_ROWS),
  texts: [],
  valid: new Uint8Array(Math.ceil(ARROW_BATCH_ROWS / 8)),
  nulls: 0,
});

function setValue(column: ColumnBatch, row: number, value: unknown): void {
  if (value === null || value === undefined) {
    column.nulls++;
    if (column.kind === 'text') column.texts.push(null);
    return;
  }
  column.valid[row >> 3]! |= 1 << (row & 7);
  if (column.kind === 'text') column.texts.push(String(value));
  else if (column.kind === 'bigint') (column.numbers as BigInt64Array)[row] = BigInt(value as number | bigint);
  else (column.numbers as Float64Array | Int32Array)[row] = Number(value);
}

/** The column's `rows` values as Arrow data: the buffers as Arrow lays them out (UTF-8 bytes and offsets for text). */
function columnData(arrow: Arrow, column: ColumnBatch, type: DataType, rows: number): Data {
  // As long as apache-arrow's own builders make it (whole 64-byte blocks), which the file holds as it is.
  const nullBitmap = column.nulls > 0 ? column.valid.subarray(0, Math.ceil(rows / 512) * 64) : undefined;
  if (column.kind !== 'text') {
    return arrow.makeData({ type, length: rows, nullCount: column.nulls, nullBitmap, data: column.numbers!.subarray(0, rows) } as never);
  }
  // Each text encoded once, into room for the longest its UTF-16 length allows (3 bytes a code unit); only the bytes written reach the file.
  let room = 0;
  for (const text of column.texts) if (text !== null) room += 3 * text.length;
  const data = Buffer.allocUnsafe(room);
  const valueOffsets = new Int32Array(rows + 1);
  let bytes = 0;
  column.texts.forEach((text, i) => {
    if (text !== null) bytes += data.write(text, bytes);
    valueOffsets[i + 1] = bytes;
  });
  return arrow.makeData({ type, length: rows, nullCount: column.nulls, nullBitmap, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, bytes) } as never);
}

/**
 * The query's rows as an Arrow IPC file, every column nullable: streamed from
 * the engine into record batches of ARROW_BATCH_ROWS rows, each written out
 * before the next is filled. Dates and decimals cross as day numbers and
 * doubles.
 */
export async function writeArrowFile(engine: QueryEngine, query: string, file: string): Promise<void> {
  // Loaded on demand: most runs write no Arrow file, and the library is large.
  const arrow = await import('apache-arrow');
  const described = await engine.all<{ column_name: string; column_type: string }>(`DESCRIBE ${query}`);
  const kinds = described.map((c) => kindOf(c.column_type));
  const types = kinds.map((kind) => arrowType(arrow, kind));
  const schema = new arrow.Schema(described.map((c, i) => new arrow.Field(c.column_name, types[i]!, true)));
  const select = described
    .map((c, i) => {
      const name = duckdbDialect.quoteIdentifier(c.column_name);
      if (kinds[i] === 'date') return `date_diff('day', DATE '1970-01-01', ${name}) AS ${name}`;
      if (kinds[i] === 'double') return `${name}::DOUBLE AS ${name}`;
      return name;
    })
    .join(', ');

  const writer = new arrow.RecordBatchFileWriter();
  let failed: unknown = null;
  const out = createWriteStream(file);
  const written = pipeline(writer.toNodeStream(), out).catch((error: unknown) => {
    failed = error;
  });
  let batch = kinds.map(newColumn);
  let rows = 0;
  let batches = 0;
  const flush = async () => {
    // A file that cannot be written (a full disk) stops the query, rather than batches piling up in memory.
    if (failed) throw failed;
    const children = batch.map((column, i) => columnData(arrow, column, types[i]!, rows));
    writer.write(new arrow.RecordBatch(schema, arrow.makeData({ type: new arrow.Struct(schema.fields), length: rows, nullCount: 0, children })));
    batches++;
    batch = kinds.map(newColumn);
    rows = 0;
    // A disk slower than the engine would otherwise leave the batches waiting in memory.
    if (out.writableNeedDrain) await Promise.race([once(out, 'drain'), written]);
  };
  try {
    for await (const chunk of engine.streamColumns(`SELECT ${select} FROM (${query})`)) {
      const count = chunk.columns[0]?.length ?? 0;
      for (let from = 0; from < count; ) {
        const take = Math.min(count - from, ARROW_BATCH_ROWS - rows);
        chunk.columns.forEach((values, i) => {
          const column = batch[i]!;
          for (let k = 0; k < take; k++) setValue(column, rows + k, values[from + k]);
        });
        rows += take;
        from += take;
        if (rows === ARROW_BATCH_ROWS) await flush();
      }
    }
    // An empty table is one empty batch, so that the file has its schema.
    if (rows > 0 || batches === 0) await flush();
  } finally {
    writer.finish();
    await written;
  }
  if (failed) throw failed;
}
