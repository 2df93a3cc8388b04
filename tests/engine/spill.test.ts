/**
 * DuckDB spills to disk when a query needs more memory than it may use. For
 * an in-memory database its default spill folder is `.tmp` in the working
 * directory, which a cron job started from `/` cannot write; the engine
 * spills to a fresh folder under the system's temporary directory instead,
 * and removes it on close.
 */
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';

describe('the engine spill folder', () => {
  it('is a fresh folder under the system temporary directory, used when memory runs short, and gone after close', async () => {
    const engine = await DuckDbEngine.create({ memoryLimit: '100MB', threads: 1 });
    let folder: string;
    try {
      folder = (await engine.one<{ dir: string }>(`SELECT current_setting('temp_directory') AS dir`))!.dir;
      expect(path.dirname(folder)).toBe(tmpdir());
      expect(path.basename(folder)).toMatch(/^crm-duckdb-/);
      expect(existsSync(folder)).toBe(true);
      // A table of some 250 MB under a 100 MB limit: its blocks are spilled, into that folder.
      await engine.run(
        `CREATE TEMP TABLE big AS SELECT i, md5(i::VARCHAR) || md5((i + 1)::VARCHAR) AS s FROM range(3000000) t(i) ORDER BY s`,
      );
      expect((await engine.one<{ n: number }>(`SELECT count(*)::BIGINT AS n FROM big`))!.n).toBe(3_000_000);
      const files = await engine.all<{ path: string }>(`SELECT path FROM duckdb_temporary_files()`);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(path.dirname(path.resolve(file.path))).toBe(folder);
      expect(readdirSync(folder).length).toBeGreaterThan(0);
    } finally {
      await engine.close();
    }
    expect(existsSync(folder!)).toBe(false);
    expect(readdirSync(tmpdir()).filter((f) => f === path.basename(folder!))).toEqual([]);
  });
});
