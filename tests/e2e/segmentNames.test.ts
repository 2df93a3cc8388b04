/**
 * Segment names as long as a marketing team writes them. On DuckDB any
 * length works; on PostgreSQL a segment is a label ENUM value, at most 63
 * bytes: a longer name is a usage error before any data is read (exit 2,
 * naming the segment and the limit, no output folder), rather than the run
 * failing when its scores are written ("invalid input value for enum").
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { ALL_CELLS } from '../../src/stages/rfm/segmentMap.js';
import { describeEachEngine, POSTGRES_URL } from '../engines.js';
import { CDNOW_CSV, parseCsv, runCli, tempDir } from '../helpers.js';

// 82 bytes (the dash is 3 in UTF-8); the other name is short.
const LONG = 'Customers who bought recently but whose frequency is declining — needs attention';

async function segmentMapFile(dir: string): Promise<string> {
  const file = path.join(dir, 'segments.json');
  await writeFile(file, JSON.stringify({ [LONG]: ALL_CELLS.filter((c) => c[0]! >= '4'), 'Everyone else': ALL_CELLS.filter((c) => c[0]! < '4') }));
  return file;
}

function score(dir: string, map: string, engineArgs: string[] = []) {
  return runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--segment-map', map, '--out', path.join(dir, 'out'), '--no-db', '--no-clv', '--no-kmeans', ...engineArgs]);
}

describeEachEngine(
  'a segment name longer than 63 bytes',
  import.meta.url,
  ({ schema }) => {
    it('is refused before any data is read, naming the segment and the limit', { timeout: 120_000 }, async () => {
      const dir = await tempDir('segment-names-');
      const result = await score(dir, await segmentMapFile(dir), ['--engine', POSTGRES_URL, '--schema', schema]);
      expect(result.code).toBe(2);
      // Not a terminal: the last line on stderr is the JSON of the usage error.
      const last = JSON.parse(result.stderr.trim().split('\n').at(-1)!);
      expect(last.exitCode).toBe(2);
      expect(last.msg).toContain(`"${LONG}" (82 bytes) is longer than the 63 bytes a segment name may have on the postgres engine: shorten it`);
      expect(existsSync(path.join(dir, 'out'))).toBe(false);
    });
  },
  'postgres',
);

describeEachEngine(
  'a segment name longer than 63 bytes',
  import.meta.url,
  () => {
    it('scores as any other', { timeout: 120_000 }, async () => {
      expect(Buffer.byteLength(LONG)).toBe(82);
      const dir = await tempDir('segment-names-');
      const result = await score(dir, await segmentMapFile(dir));
      expect(result.code, result.stderr).toBe(0);
      const segments = parseCsv(await readFile(path.join(dir, 'out', 'segments.csv'), 'utf8'));
      expect(segments.map((row) => row.segment).sort()).toEqual(['Everyone else', LONG].sort());
    });
  },
  'duckdb',
);
