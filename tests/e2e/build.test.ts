/**
 * Rebuilding the CLI bundle (npm run build) must not break a crm started
 * meanwhile: the bundle is built in a fresh folder and dist/bundle, a
 * symlink, is pointed at it in one rename. It used to be deleted first and
 * stay empty for the whole build; then renamed away and replaced, which still
 * left a moment without a dist/bundle. A crm runs on the real folder it
 * started in, which stays until the next build, so its lazily loaded chunks
 * are still there after a rebuild.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, runCli, tempDir, type CliResult } from '../helpers.js';

describe('the CLI bundle', () => {
  it('stays runnable while it is rebuilt', { timeout: 60_000 }, async () => {
    const build = spawn(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'ignore' });
    let building = true;
    const built = new Promise<number | null>((resolve) => build.on('exit', (code) => { building = false; resolve(code); }));
    const before = realpathSync(path.join(ROOT, 'dist', 'bundle'));
    const runs: CliResult[] = [];
    const scores: CliResult[] = [];
    const out = await tempDir();
    while (building) {
      // --version loads the main chunk only; a score also loads the stages' chunks lazily.
      const [version, score] = await Promise.all([
        runCli(['--version']),
        runCli(['score', fixture('tiny', 'transactions.csv'), '--out', out, '--no-db', '--no-kmeans', '--log-level', 'error']),
      ]);
      runs.push(version);
      scores.push(score);
    }
    expect(await built).toBe(0);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect({ code: run.code, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
    for (const run of scores) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    // The swap is a rename of a symlink, and the folder a running crm started in outlives it.
    expect(lstatSync(path.join(ROOT, 'dist', 'bundle')).isSymbolicLink()).toBe(true);
    expect(realpathSync(path.join(ROOT, 'dist', 'bundle'))).not.toBe(before);
    expect(readdirSync(before).length).toBeGreaterThan(0);
    expect(existsSync(path.join(before, 'main.js'))).toBe(true);
  });
});
