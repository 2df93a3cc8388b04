/**
 * --memory-limit and --temp-dir bound a run's memory and say where it spills
 * (DESIGN §7). Before them, a run took DuckDB's default limit (80% of RAM,
 * leaving too little for Node on a large run), spilled only under TMPDIR, and
 * a run that could not fit failed as "crm: Out of Memory Error: …" with a
 * pointer to --debug: an internal error naming neither the stage nor the limit.
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname, totalmem } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, lastMessage, logLines, runCli, tempDir } from '../helpers.js';

/** The debug line each command logs once its engine is open (JSON lines: stderr is not a terminal here). */
const engineLine = (stderr: string): { memoryLimit: string; bufferPool: string; spillFolder: string } =>
  stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .find((entry) => entry.msg === 'DuckDB engine opened');

/** DuckDB shows memory_limit as "<n> <unit>" in binary units, one decimal: back to bytes, to compare. */
const shownBytes = (shown: string) => {
  const [, n, unit] = /^([\d.]+) (KiB|MiB|GiB|TiB)$/.exec(shown)!;
  return Number(n) * 1024 ** (['KiB', 'MiB', 'GiB', 'TiB'].indexOf(unit!) + 1);
};

const SPILL_FOLDER = new RegExp(`^crm-duckdb-${hostname().replace(/[^A-Za-z0-9.-]/g, '_').replace(/\./g, '\\.')}-\\d+-[A-Za-z0-9]{6}$`);

describe('--memory-limit', () => {
  it('gives DuckDB 70% of it as its memory_limit, in decimal (MB) or binary (GiB) units, from a flag, a config file and on backtest', async () => {
    const dir = await tempDir();
    // 512MB = 512 000 000 bytes; 70% = 358.4e6 bytes = 341.8 MiB (not 512 MiB, nor 488.3 MiB).
    const score = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'score'), '--memory-limit', '512MB', '--debug']);
    expect(score.code, score.stderr).toBe(0);
    expect(engineLine(score.stderr).memoryLimit).toBe('512MB');
    expect(Math.abs(shownBytes(engineLine(score.stderr).bufferPool) - 0.7 * 512e6)).toBeLessThan(0.1 * 2 ** 20);
    // 5GiB: 70% = 3.5 GiB exactly.
    const backtest = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--memory-limit', '5GiB', '--debug']);
    expect(backtest.code, backtest.stderr).toBe(0);
    expect(engineLine(backtest.stderr).bufferPool).toBe('3.5 GiB');
    // 2GB from the config file: 70% = 1.4e9 bytes = 1.30 GiB, which DuckDB shows as 1.3 GiB (one decimal, cut).
    const config = path.join(dir, 'crm.yaml');
    await writeFile(config, 'memoryLimit: 2GB\n');
    const configured = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'configured'), '--config', config, '--debug']);
    expect(configured.code, configured.stderr).toBe(0);
    expect(Math.abs(shownBytes(engineLine(configured.stderr).bufferPool) - 1.4e9)).toBeLessThan(0.1 * 2 ** 30);
  });

  it('defaults to 75% of the memory left after 1 GiB for Node (DuckDB\'s pool 52.5%), not DuckDB\'s 80% of RAM', async () => {
    const dir = await tempDir();
    const run = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'out'), '--debug']);
    expect(run.code, run.stderr).toBe(0);
    const memory = Math.min(totalmem(), process.constrainedMemory?.() || Number.POSITIVE_INFINITY);
    // 0.7 × 0.75 = 0.525 of the memory after 1 GiB.
    const expected = 0.525 * (memory - 2 ** 30);
    // DuckDB shows one decimal of GiB: within 0.05 GiB, and well away from 80% of RAM.
    expect(Math.abs(shownBytes(engineLine(run.stderr).bufferPool) - expected)).toBeLessThan(0.06 * 2 ** 30);
    expect(engineLine(run.stderr).memoryLimit).toBe(`${Math.floor((0.75 * (memory - 2 ** 30)) / 2 ** 20)}MiB`);
  });

  it('that is not a size, or under 1MB, is a usage error (exit 2) naming the field, before any data is read', async () => {
    const dir = await tempDir();
    for (const [size, problem] of [
      ['lots', 'expected a size such as 3GB, 512MB or 3GiB'],
      ['3', 'expected a size such as 3GB, 512MB or 3GiB'],
      ['80%', 'expected a size such as 3GB, 512MB or 3GiB'],
      ['500KB', 'at least 1MB'],
    ] as const) {
      const out = path.join(dir, size);
      const run = await runCli(['score', CDNOW_CSV, '--out', out, '--memory-limit', size]);
      expect(run.code, size).toBe(2);
      expect(lastMessage(run.stderr)).toBe(`invalid options: memoryLimit: ${problem}`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('too small for the run fails it (exit 1) naming the stage and the limit, with what to do, and publishes nothing', async () => {
    const dir = await tempDir();
    const spill = path.join(dir, 'spill');
    await mkdir(spill);
    const out = path.join(dir, 'out');
    const run = await runCli(['score', CDNOW_CSV, '--out', out, '--memory-limit', '1MB', '--temp-dir', spill]);
    expect(run.code).toBe(1);
    // Reading the CSV needs a block of some 30 MiB: the load stage, the first, cannot start.
    expect(lastMessage(run.stderr)).toMatch(
      new RegExp(
        `^the load stage ran out of memory under --memory-limit 1MB \\(could not allocate block of size .+\\): raise --memory-limit, and check that the temporary folder ${spill.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(--temp-dir\\) has free space to spill to$`,
      ),
    );
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
    expect(existsSync(path.join(out, 'customers.csv'))).toBe(false);
    expect(await readdir(spill)).toEqual([]);
    const backtest = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--memory-limit', '1MB']);
    expect(backtest.code).toBe(1);
    expect(lastMessage(backtest.stderr)).toMatch(/^the load stage ran out of memory under --memory-limit 1MB \(could not allocate block of size .+\): raise --memory-limit/);
    expect(logLines(backtest.stderr).at(-1)).toMatchObject({ exitCode: 1, outcome: 'failed' });
  });
});

describe('--temp-dir', () => {
  it("holds the run's spill folder while it runs (not TMPDIR), removed when it ends; a killed run's is swept by the next", async () => {
    const dir = await tempDir();
    const spill = path.join(dir, 'spill');
    const system = path.join(dir, 'system-tmp');
    await mkdir(spill);
    await mkdir(system);
    // Killed at a known point (after the scoring, as the outputs are staged): its folder is left where the run put it.
    const killed = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'killed'), '--temp-dir', spill], {
      env: { CRM_TEST_KILL_AT: 'outputs-staging', TMPDIR: system },
    });
    expect(killed.signal).toBe('SIGKILL');
    const left = await readdir(spill);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(SPILL_FOLDER);
    expect(await readdir(system)).toEqual([]);

    const run = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, 'out'), '--temp-dir', spill, '--debug'], { env: { TMPDIR: system } });
    expect(run.code, run.stderr).toBe(0);
    const folder = engineLine(run.stderr).spillFolder;
    expect(path.dirname(folder)).toBe(spill);
    expect(path.basename(folder)).toMatch(SPILL_FOLDER);
    // Its own folder is removed on close, the killed run's when it started.
    expect(await readdir(spill)).toEqual([]);
    expect(await readdir(system)).toEqual([]);
  });

  it('given relative to the working directory is used as an absolute folder', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'spill'));
    const run = await runCli(['score', CDNOW_CSV, '--no-db', '--out', 'out', '--temp-dir', 'spill', '--debug'], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(path.dirname(engineLine(run.stderr).spillFolder)).toBe(path.join(dir, 'spill'));
  });

  it('that does not exist is a usage error (exit 2) naming it, before any data is read, on score and backtest', async () => {
    const dir = await tempDir();
    const missing = path.join(dir, 'missing');
    const out = path.join(dir, 'out');
    const run = await runCli(['score', CDNOW_CSV, '--out', out, '--temp-dir', missing]);
    expect(run.code).toBe(2);
    expect(lastMessage(run.stderr)).toBe(`--temp-dir ${missing}: cannot make DuckDB's spill folder there: it does not exist; give a folder crm can write to`);
    expect(existsSync(out)).toBe(false);
    const backtest = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--temp-dir', missing]);
    expect(backtest.code).toBe(2);
    expect(lastMessage(backtest.stderr)).toBe(`--temp-dir ${missing}: cannot make DuckDB's spill folder there: it does not exist; give a folder crm can write to`);
  });
});

describe('--customer-buckets', () => {
  it('computes the features bucket by bucket, says so, and writes the same files as one pass', async () => {
    const dir = await tempDir();
    const once = await runCli(['score', CDNOW_CSV, '--no-db', '--as-of', '1997-09-30', '--format', 'csv', '--out', path.join(dir, 'once')]);
    expect(once.code, once.stderr).toBe(0);
    expect(logLines(once.stderr).filter((line) => line.buckets !== undefined)).toEqual([]);
    const inBuckets = await runCli(['score', CDNOW_CSV, '--no-db', '--as-of', '1997-09-30', '--format', 'csv', '--out', path.join(dir, 'buckets'), '--customer-buckets', '6']);
    expect(inBuckets.code, inBuckets.stderr).toBe(0);
    expect(logLines(inBuckets.stderr).filter((line) => line.buckets !== undefined).map((line) => line.buckets)).toEqual([6]);
    for (const file of ['customers.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv']) {
      expect(await readFile(path.join(dir, 'buckets', file), 'utf8'), file).toBe(await readFile(path.join(dir, 'once', file), 'utf8'));
    }
  });

  it('refuses a count that is not a whole number from 1 to 1024 (usage error, exit 2)', async () => {
    const dir = await tempDir();
    for (const count of ['0', '1025', '2.5']) {
      const run = await runCli(['score', CDNOW_CSV, '--no-db', '--out', path.join(dir, `out-${count}`), '--customer-buckets', count]);
      expect(run.code, count).toBe(2);
      expect(lastMessage(run.stderr), count).toMatch(/customer-?[bB]uckets/);
    }
  });
});
