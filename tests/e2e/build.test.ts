/**
 * Rebuilding the CLI bundle (npm run build) must not break a crm started
 * meanwhile: the bundle is built in a fresh folder and dist/bundle, a
 * symlink, is pointed at it in one rename. It used to be deleted first and
 * stay empty for the whole build; then renamed away and replaced, which still
 * left a moment without a dist/bundle. A crm runs on the real folder it
 * started in, which stays until the next build, so its lazily loaded chunks
 * are still there after a rebuild.
 *
 * The rebuild runs in a copy of the checkout's build (bin/, dist/, the bundle
 * script) in a temporary folder: the shared dist/bundle, which the other
 * tests' crm processes run from, is never rebuilt under them.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, lstatSync, readdirSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, ROOT, runCli, tempDir, type CliResult } from '../helpers.js';

/**
 * A copy of the built checkout: package.json, bin/, scripts/, dist/ (tsc's
 * output and the current bundle folder, dist/bundle a symlink to it as the
 * build leaves it), and node_modules as a link to the checkout's.
 */
async function copyOfBuild(): Promise<string> {
  const root = await tempDir('crm-build-');
  for (const part of ['package.json', 'bin', 'scripts']) cpSync(path.join(ROOT, part), path.join(root, part), { recursive: true });
  const bundle = realpathSync(path.join(ROOT, 'dist', 'bundle'));
  cpSync(path.join(ROOT, 'dist'), path.join(root, 'dist'), { recursive: true, filter: (source) => !/^bundle/.test(path.relative(path.join(ROOT, 'dist'), source)) });
  cpSync(bundle, path.join(root, 'dist', path.basename(bundle)), { recursive: true });
  symlinkSync(path.basename(bundle), path.join(root, 'dist', 'bundle'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
  return root;
}

describe('the CLI bundle', () => {
  it('stays runnable while it is rebuilt', { timeout: 60_000 }, async () => {
    const sharedBundle = realpathSync(path.join(ROOT, 'dist', 'bundle'));
    const root = await copyOfBuild();
    const before = realpathSync(path.join(root, 'dist', 'bundle'));
    const build = spawn(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: 'ignore' });
    let building = true;
    const built = new Promise<number | null>((resolve) => build.on('exit', (code) => { building = false; resolve(code); }));
    const runs: CliResult[] = [];
    const scores: CliResult[] = [];
    const out = await tempDir();
    while (building) {
      // --version loads the main chunk only; a score also loads the stages' chunks lazily.
      const [version, score] = await Promise.all([
        runCli(['--version'], { root }),
        runCli(['score', fixture('tiny', 'transactions.csv'), '--out', out, '--no-db', '--no-kmeans', '--log-level', 'error'], { root }),
      ]);
      runs.push(version);
      scores.push(score);
    }
    expect(await built).toBe(0);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect({ code: run.code, stdout: run.stdout.trim(), stderr: run.stderr }).toEqual({ code: 0, stdout: '0.1.0', stderr: '' });
    for (const run of scores) expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    // The swap is a rename of a symlink, and the folder a running crm started in outlives it.
    expect(lstatSync(path.join(root, 'dist', 'bundle')).isSymbolicLink()).toBe(true);
    expect(realpathSync(path.join(root, 'dist', 'bundle'))).not.toBe(before);
    // The shared bundle the other tests run is untouched.
    expect(realpathSync(path.join(ROOT, 'dist', 'bundle'))).toBe(sharedBundle);
    expect(readdirSync(before).length).toBeGreaterThan(0);
    expect(existsSync(path.join(before, 'main.js'))).toBe(true);
  });
});
