#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, from tsc) into dist/bundle/ for
// bin/crm.js: Node then resolves and reads a handful of files at start-up
// instead of several hundred (zod, pino, commander, ...), which is most of the
// CLI's start-up time. Optional stages stay in chunks loaded when they run.
import { existsSync, lstatSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

// Each build goes to a fresh folder dist/bundle-<time>-<pid> (chunk names carry
// content hashes; old chunks would pile up otherwise), and dist/bundle is a
// symlink to the current one, replaced in one rename: a crm started at any
// moment of a rebuild finds a whole bundle. Node loads modules by their real
// path, so a crm that started on the previous folder keeps loading its lazy
// chunks from there: that folder stays until the next build.
const stamp = `${Date.now()}-${process.pid}`;
const next = `dist/bundle-${stamp}`;
rmSync(next, { recursive: true, force: true });

await build({
  // The CLV fit worker and its intervals helper are entries of their own: each is started from beside its caller's chunk.
  entryPoints: { main: 'dist/cli/main.js', clvWorker: 'dist/stages/clv/clvWorker.js', intervalsWorker: 'dist/stages/clv/intervalsWorker.js' },
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The native DuckDB binding cannot be bundled, its JavaScript API (some 180
  // files) can; pino-pretty is loaded with createRequire when used. pg asks
  // for its optional native client (pg-native, not installed) only when told to:
  // left to Node, which never loads it.
  external: ['@duckdb/node-bindings', 'pg-native'],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __crmCreateRequire } from 'node:module'; const require = __crmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// Tests only (tests/e2e/build.test.ts): CRM_BUNDLE_HOLD=FILE stops here, the new folder written and dist/bundle
// not yet swapped, writes FILE.ready and waits for FILE.go: a crm can then be started at exactly that moment.
if (process.env.CRM_BUNDLE_HOLD) {
  const hold = process.env.CRM_BUNDLE_HOLD;
  writeFileSync(`${hold}.ready`, '');
  while (!existsSync(`${hold}.go`)) await new Promise((resolve) => setTimeout(resolve, 20));
}

const kind = (path) => {
  try {
    return lstatSync(path).isSymbolicLink() ? 'link' : 'folder';
  } catch {
    return 'none';
  }
};
const current = kind('dist/bundle');
const previous = current === 'link' ? readlinkSync('dist/bundle') : null;
// A bundle from before the symlink was a folder: it goes once, not atomically.
if (current === 'folder') rmSync('dist/bundle', { recursive: true, force: true });
const link = `dist/bundle.link-${stamp}`;
symlinkSync(`bundle-${stamp}`, link);
renameSync(link, 'dist/bundle');
// Older folders, and links left by a build that was killed.
for (const entry of readdirSync('dist')) {
  if (/^bundle[-.]/.test(entry) && entry !== `bundle-${stamp}` && entry !== previous) rmSync(`dist/${entry}`, { recursive: true, force: true });
}
