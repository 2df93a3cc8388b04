/**
 * Rebuilding the CLI bundle (npm run build) must not break a crm started
 * meanwhile: the bundle is built in a fresh folder that then replaces
 * dist/bundle, which used to be deleted first and stay empty for the whole
 * build. Chunk names are content hashes, so the other tests' CLI processes
 * load the same files from the rebuilt folder.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, type CliResult } from '../helpers.js';

describe('the CLI bundle', () => {
  it('stays runnable while it is rebuilt', { timeout: 60_000 }, async () => {
    const build = spawn(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'ignore' });
    let building = true;
    const built = new Promise<number | null>((resolve) => build.on('exit', (code) => { building = false; resolve(code); }));
    const runs: CliResult[] = [];
    while (building) {
      runs.push(await runCli(['--version']));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await built).toBe(0);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect({ code: run.code, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
  });
});
