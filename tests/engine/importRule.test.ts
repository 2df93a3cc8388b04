import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

/**
 * The engine seam (DESIGN §4, issue 14): only src/engine/duckdb/ imports the
 * DuckDB driver. The files outside it that still do are listed with the
 * reason each must wait; this list may shrink, never grow.
 */
const STILL_IMPORTING: Record<string, string> = {
  'benchmarks/generate.mjs': 'writes the benchmark data with DuckDB directly, outside crm (no engine needed)',
  'benchmarks/baseline.mjs': 'times DuckDB itself, as the floor crm is compared with',
  'tests/pipeline/inputReading.test.ts': 'opens a second DuckDB instance to show a file another process holds',
  'tests/e2e/historyDatabase.test.ts': 'holds the history database from another DuckDB instance, as a second process would',
};

const DRIVER = /from\s+['"]@duckdb\/node-api['"]|import\(\s*['"]@duckdb\/node-api['"]\s*\)|require\(\s*['"]@duckdb\/node-api['"]\s*\)/;

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true }).catch(() => []);
  const files = await Promise.all(
    entries.map((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'data' ? [] : sourceFiles(rel);
      return /\.(ts|mts|js|mjs|cjs)$/.test(e.name) ? [rel] : [];
    }),
  );
  return files.flat();
}

describe('the engine seam', () => {
  it('no file outside src/engine/duckdb/ imports @duckdb/node-api, except the listed ones', async () => {
    const files = (await Promise.all(['src', 'bin', 'scripts', 'benchmarks', 'tests'].map(sourceFiles))).flat();
    const importing: string[] = [];
    for (const file of files) {
      if (file.startsWith(path.join('src', 'engine', 'duckdb') + path.sep)) continue;
      if (DRIVER.test(await readFile(path.join(ROOT, file), 'utf8'))) importing.push(file.split(path.sep).join('/'));
    }
    expect(importing.sort()).toEqual(Object.keys(STILL_IMPORTING).sort());
  });

  it('the driver is imported inside src/engine/duckdb/ (the check above looks for the right words)', async () => {
    const engine = await readFile(path.join(ROOT, 'src', 'engine', 'duckdb', 'DuckDbEngine.ts'), 'utf8');
    expect(DRIVER.test(engine)).toBe(true);
  });
});
