#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, from tsc) into dist/bundle/ for
// bin/crm.js: Node then resolves and reads a handful of files at start-up
// instead of several hundred (zod, pino, commander, ...), which is most of the
// CLI's start-up time. Optional stages stay in chunks loaded when they run.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunk names carry content hashes, so each build goes to a fresh folder
// (old chunks would pile up otherwise), which then replaces dist/bundle: a
// crm started during a rebuild finds a whole bundle, the old or the new one,
// never an empty folder.
const next = `dist/bundle-${process.pid}`;
rmSync(next, { recursive: true, force: true });

await build({
  // The CLV fit worker is an entry of its own: pipeline/clv.ts starts it from beside its own chunk.
  entryPoints: { main: 'dist/cli/main.js', clvWorker: 'dist/pipeline/clvWorker.js' },
  outdir: next,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The native DuckDB binding cannot be bundled, its JavaScript API (some 180
  // files) can; pino-pretty and cli-progress are loaded with createRequire when used.
  external: ['@duckdb/node-bindings'],
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: { js: "import { createRequire as __crmCreateRequire } from 'node:module'; const require = __crmCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

const previous = `dist/bundle-old-${process.pid}`;
if (existsSync('dist/bundle')) renameSync('dist/bundle', previous);
renameSync(next, 'dist/bundle');
rmSync(previous, { recursive: true, force: true });
