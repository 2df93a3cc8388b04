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
import { cpSync, existsSync, lstatSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
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
  it('stays runnable while it is rebuilt: before, at and after the swap of dist/bundle', { timeout: 120_000 }, async () => {
    const sharedBundle = realpathSync(path.join(ROOT, 'dist', 'bundle'));
    const root = await copyOfBuild();
    const before = realpathSync(path.join(root, 'dist', 'bundle'));
    const out = await tempDir();
    // --version loads the main chunk only; a score also loads the stages' chunks lazily.
    const crmRuns = () =>
      Promise.all([
        runCli(['--version'], { root }),
        runCli(['score', fixture('tiny', 'transactions.csv'), '--out', out, '--no-db', '--no-kmeans', '--log-level', 'error'], { root }),
      ]);
    const expectRan = ([version, score]: CliResult[], when: string) => {
      expect({ when, code: version!.code, stdout: version!.stdout.trim(), stderr: version!.stderr }).toEqual({ when, code: 0, stdout: '0.1.0', stderr: '' });
      expect({ when, code: score!.code, stderr: score!.stderr }).toEqual({ when, code: 0, stderr: '' });
    };
    // The build holds (CRM_BUNDLE_HOLD) with the new folder written and the old one still current.
    const hold = path.join(await tempDir(), 'hold');
    const build = spawn(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: 'ignore', env: { ...process.env, CRM_BUNDLE_HOLD: hold } });
    const built = new Promise<number | null>((resolve) => build.on('exit', resolve));
    // A crm started while esbuild writes, then one at the moment before the swap.
    const whileBuilding = crmRuns();
    while (!existsSync(`${hold}.ready`)) await new Promise((resolve) => setTimeout(resolve, 20));
    expectRan(await whileBuilding, 'while the new bundle was written');
    expect(readdirSync(path.join(root, 'dist')).filter((name) => /^bundle-/.test(name))).toHaveLength(2);
    expect(realpathSync(path.join(root, 'dist', 'bundle'))).toBe(before);
    expectRan(await crmRuns(), 'with the new bundle written, before the swap');
    // Started before the swap, finishing after it: its lazily loaded chunks come from the folder it started in.
    const acrossTheSwap = crmRuns();
    writeFileSync(`${hold}.go`, '');
    expect(await built).toBe(0);
    expectRan(await acrossTheSwap, 'across the swap');
    expectRan(await crmRuns(), 'after the swap');
    // The swap is a rename of a symlink, and the folder a running crm started in outlives it.
    expect(lstatSync(path.join(root, 'dist', 'bundle')).isSymbolicLink()).toBe(true);
    expect(realpathSync(path.join(root, 'dist', 'bundle'))).not.toBe(before);
    // The shared bundle the other tests run is untouched.
    expect(realpathSync(path.join(ROOT, 'dist', 'bundle'))).toBe(sharedBundle);
    expect(readdirSync(before).length).toBeGreaterThan(0);
    expect(existsSync(path.join(before, 'main.js'))).toBe(true);
  });
});
