/**
 * DuckDB spills to disk when a query needs more memory than it may use. For
 * an in-memory database its default spill folder is `.tmp` in the working
 * directory, which a cron job started from `/` cannot write; the engine
 * spills to a fresh folder under the system's temporary directory instead,
 * and removes it on close; the folders of killed runs are removed by the next one.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
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

  it('of a killed run is removed by the next engine on the machine, never that of a live process or of another machine', async () => {
    const tmp = await mkdtemp(path.join(tmpdir(), 'crm-spill-test-'));
    // A pid that is surely dead: a child that has exited.
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('exit', () => resolve(child.pid!));
    });
    // A process that lives until it is killed (it waits on its stdin), however long the test takes.
    const live = spawn(process.execPath, ['-e', 'process.stdin.resume()'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const host = hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    const killed = `crm-duckdb-${host}-${dead}-aB3xY9`;
    const running = `crm-duckdb-${host}-${live.pid}-Qw12Er`;
    const elsewhere = `crm-duckdb-another-host-${dead}-Zx98Cv`;
    const notOurs = `crm-duckdb-notes`;
    for (const folder of [killed, running, elsewhere, notOurs]) {
      await mkdir(path.join(tmp, folder));
      await writeFile(path.join(tmp, folder, 'duckdb_temp_storage_DEFAULT-0.tmp'), 'spilled blocks');
    }
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const engine = await DuckDbEngine.create();
      try {
        const own = path.basename((await engine.one<{ dir: string }>(`SELECT current_setting('temp_directory') AS dir`))!.dir);
        expect(own).toMatch(new RegExp(`^crm-duckdb-${host.replace(/\./g, '\\.')}-${process.pid}-`));
        expect(readdirSync(tmp).sort()).toEqual([own, running, elsewhere, notOurs].sort());
      } finally {
        await engine.close();
      }
      expect(readdirSync(tmp).sort()).toEqual([running, elsewhere, notOurs].sort());
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      live.kill();
    }
  });
});
