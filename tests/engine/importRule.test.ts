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

/**
 * SQL that PostgreSQL does not run (../shared/citus/README.md), with an
 * example each: the stage SQL is written in the subset both engines run, the
 * differences as Dialect hooks (src/engine/dialect.ts).
 */
const DUCKDB_ONLY: Record<string, { pattern: RegExp; example: string }> = {
  'GROUP BY ALL': { pattern: /GROUP BY ALL/, example: 'SELECT a, count(*) FROM t GROUP BY ALL' },
  'EXCLUDE (': { pattern: /EXCLUDE \(/, example: 'SELECT * EXCLUDE (a) FROM t' },
  QUALIFY: { pattern: /\bQUALIFY\b/, example: 'SELECT a FROM t QUALIFY row_number() OVER () = 1' },
  'CREATE OR REPLACE TABLE': { pattern: /CREATE OR REPLACE (TEMP )?TABLE/, example: 'CREATE OR REPLACE TEMP TABLE t AS SELECT 1' },
  enum_code: { pattern: /\benum_code\(/, example: 'SELECT enum_code(label) FROM t' },
  'list_': { pattern: /\blist_[a-z_]+\(/, example: 'SELECT list_count(list_filter(l, c -> c > 1))' },
  '//': { pattern: /[\w)] \/\/ [\w($]/, example: 'SELECT (a + 1) // 5' },
  'median(': { pattern: /(?<![\w.])median\(/, example: 'SELECT median(x) FROM t' },
  'date_diff(': { pattern: /\bdate_diff\(/, example: "SELECT date_diff('day', a, b)" },
  '::DOUBLE': { pattern: /::DOUBLE\b(?! PRECISION)/, example: 'SELECT x::DOUBLE' },
  '::TINYINT': { pattern: /::TINYINT\b/, example: 'SELECT x::TINYINT' },
  HUGEINT: { pattern: /\bHUGEINT\b/, example: 'SELECT sum(x::HUGEINT)' },
  'hash(': { pattern: /(?<![\w.])hash\(/, example: 'SELECT hash(id)' },
  'arg_min(': { pattern: /\barg_(min|max)\(/, example: 'SELECT arg_min(a, b) FROM t' },
  getvariable: { pattern: /\bgetvariable\(/, example: "SELECT getvariable('run_day')" },
  'strftime(': { pattern: /\bstrftime\(/, example: "SELECT strftime(d, '%Y')" },
  duckdb_tables: { pattern: /\bduckdb_tables\(/, example: 'SELECT * FROM duckdb_tables()' },
  'USING COMPRESSION': { pattern: /USING COMPRESSION/, example: 'CREATE TABLE t (a INTEGER USING COMPRESSION rle)' },
  ASOF: { pattern: /\bASOF\b/, example: 'SELECT * FROM a ASOF JOIN b USING (k, d)' },
};

/** The DuckDB-only forms in a source file's text, whole-line comments left out (they may name what they replace). */
function duckdbOnlySyntax(text: string): string[] {
  const code = text
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join('\n');
  return Object.entries(DUCKDB_ONLY)
    .filter(([, { pattern }]) => pattern.test(code))
    .map(([name]) => name)
    .sort();
}

/**
 * Files of src/ outside src/engine/duckdb/ that still have DuckDB-only SQL,
 * with what and why it waits. The list may shrink, never grow: a file that
 * loses a form must leave it.
 */
const STILL_DUCKDB_ONLY: Record<string, { syntax: string[]; reason: string }> = {
  'src/engine/dialect.ts': { syntax: ['median('], reason: 'declares the median hook, named after the function it stands for' },
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

  it('no file of src/ outside src/engine/duckdb/ has DuckDB-only SQL, except the listed ones', async () => {
    const found: Record<string, string[]> = {};
    for (const file of await sourceFiles('src')) {
      if (file.startsWith(path.join('src', 'engine', 'duckdb') + path.sep)) continue;
      const hits = duckdbOnlySyntax(await readFile(path.join(ROOT, file), 'utf8'));
      if (hits.length) found[file.split(path.sep).join('/')] = hits;
    }
    expect(found).toEqual(Object.fromEntries(Object.entries(STILL_DUCKDB_ONLY).map(([file, { syntax }]) => [file, [...syntax].sort()])));
  });

  it('the syntax check finds each form it names (it looks for the right words)', () => {
    for (const [name, { example }] of Object.entries(DUCKDB_ONLY)) expect(duckdbOnlySyntax(`const q = \`${example}\`;`), name).toEqual([name]);
    // Comment lines and the portable spellings are not DuckDB-only.
    expect(duckdbOnlySyntax(`// GROUP BY ALL\n * median(x)\nconst q = \`CAST(x AS DOUBLE PRECISION), x::DOUBLE PRECISION, div(a, b), CREATE OR REPLACE TEMP VIEW v\`; // a comment after code`)).toEqual([]);
  });

  it('the driver is imported inside src/engine/duckdb/ (the check above looks for the right words)', async () => {
    const engine = await readFile(path.join(ROOT, 'src', 'engine', 'duckdb', 'DuckDbEngine.ts'), 'utf8');
    expect(DRIVER.test(engine)).toBe(true);
  });
});
