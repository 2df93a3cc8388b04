import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ts from 'typescript';
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
  'tests/engine/inputReading.test.ts': 'opens a second DuckDB instance to show a file another process holds',
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

/**
 * Every module a source file imports, with its line: static imports and
 * re-exports (types too), `import x = require(…)`, `require(…)`, dynamic
 * `import(…)` and `typeof import(…)` types, read from the syntax tree (so an
 * import named in a comment or a string is none).
 */
function importsOf(file: string, text: string): { specifier: string; line: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ specifier: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * DESIGN §4: imports point one way, cli → jobs → stages → {models, engine, io}.
 * For each room of src/, the rooms above it that it may not import.
 */
const ROOMS_ABOVE: Record<string, readonly string[]> = {
  engine: ['stages', 'jobs', 'cli', 'report'],
  models: ['stages', 'jobs', 'cli', 'report'],
  io: ['stages', 'jobs', 'cli', 'report'],
  stages: ['jobs', 'cli'],
};

/** A path under src/ (posix) as its room (`engine`, `stages`, …; '' for the files of src/ itself) and, in src/engine/<name>/, the engine's name. */
function roomOf(file: string): { room: string; engine: string | null } {
  const parts = file.split('/');
  if (parts[0] !== 'src' || parts.length < 3) return { room: '', engine: null };
  return { room: parts[1], engine: parts[1] === 'engine' && parts.length > 3 ? parts[2] : null };
}

/**
 * The imports of `file` (a path under src/, posix) that go the wrong way, as
 * `file:line imports specifier (why)`: a room importing a room above it, or a
 * file outside src/engine/ reaching into one engine's folder instead of the
 * engine-neutral src/engine/*.ts (Engine, Dialect, openEngine).
 */
function upwardImports(file: string, text: string): string[] {
  const from = roomOf(file);
  const wrong: string[] = [];
  for (const { specifier, line } of importsOf(file, text)) {
    if (!specifier.startsWith('.')) continue;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    const to = roomOf(target);
    const why = ROOMS_ABOVE[from.room]?.includes(to.room)
      ? `${from.room}/ may not import ${to.room}/: imports point one way, cli → jobs → stages → {models, engine, io}`
      : to.engine !== null && from.room !== 'engine'
        ? `only src/engine/ imports src/engine/${to.engine}/: the rest of crm uses the engine-neutral src/engine/*.ts`
        : null;
    if (why) wrong.push(`${file}:${line} imports ${specifier} (${why})`);
  }
  return wrong;
}

/**
 * The benchmarks call jobs, not stages (DESIGN §4): a benchmark that wires
 * stages by hand times a pipeline no job runs. They load the compiled tree by
 * paths they build (`dist('jobs/score.js')`), so the check reads the strings
 * of each line of code for a module under stages/.
 */
const STAGE_MODULE = /['"`][^'"`\n]*\bstages\/[^'"`\n]*\.js['"`]/g;
const stageModulesNamed = (text: string): string[] =>
  text.split('\n').flatMap((line, i) => (line.trimStart().startsWith('//') ? [] : [...line.matchAll(STAGE_MODULE)].map((m) => `${i + 1}: ${m[0]}`)));

describe('the benchmarks call jobs, not stages', () => {
  it('no benchmark names a module under stages/', async () => {
    const named: string[] = [];
    for (const file of await sourceFiles('benchmarks')) {
      named.push(...stageModulesNamed(await readFile(path.join(ROOT, file), 'utf8')).map((hit) => `${file.split(path.sep).join('/')}:${hit}`));
    }
    expect(named).toEqual([]);
  });

  it('the check finds a stage module named in code, and not in a comment', () => {
    const text = ["const clvStage = await import(dist('stages/clv/stage.js'));", "// dist('stages/clv/stage.js') in a comment", "const { scoreJob } = await import(dist('jobs/score.js'));"].join('\n');
    expect(stageModulesNamed(text)).toEqual(["1: 'stages/clv/stage.js'"]);
  });
});

describe('imports point one way (DESIGN §4)', () => {
  it('no file of src/ imports a room above its own, or one engine\'s folder from outside src/engine/', async () => {
    const wrong: string[] = [];
    for (const file of await sourceFiles('src')) {
      const posix = file.split(path.sep).join('/');
      wrong.push(...upwardImports(posix, await readFile(path.join(ROOT, file), 'utf8')));
    }
    expect(wrong).toEqual([]);
  });

  it('the import reader finds every form of import, and none in comments or strings', () => {
    const text = [
      "import { a } from './static.js';",
      "import type { B } from './typeOnly.js';",
      "import './sideEffect.js';",
      "export { c } from './reExport.js';",
      "export * from './reExportAll.js';",
      "import d = require('./importEquals.js');",
      "const e = require('./required.js');",
      "const f = await import('./dynamic.js');",
      "let g: typeof import('./importType.js');",
      "// import { h } from './comment.js';",
      "const i = \"import('./string.js')\";",
    ].join('\n');
    expect(importsOf('src/x.ts', text)).toEqual([
      { specifier: './static.js', line: 1 },
      { specifier: './typeOnly.js', line: 2 },
      { specifier: './sideEffect.js', line: 3 },
      { specifier: './reExport.js', line: 4 },
      { specifier: './reExportAll.js', line: 5 },
      { specifier: './importEquals.js', line: 6 },
      { specifier: './required.js', line: 7 },
      { specifier: './dynamic.js', line: 8 },
      { specifier: './importType.js', line: 9 },
    ]);
  });

  it('names the file, the line and the import that goes the wrong way, and lets the right ways be', () => {
    expect(upwardImports('src/engine/duckdb/historyFile.ts', "import x from 'node:path';\nimport { LABELS_SQL } from '../../stages/history/queries.js';")).toEqual([
      'src/engine/duckdb/historyFile.ts:2 imports ../../stages/history/queries.js (engine/ may not import stages/: imports point one way, cli → jobs → stages → {models, engine, io})',
    ]);
    expect(upwardImports('src/jobs/history.ts', "const { checkSchemaName } = await import('../engine/postgres/connection.js');")).toEqual([
      'src/jobs/history.ts:1 imports ../engine/postgres/connection.js (only src/engine/ imports src/engine/postgres/: the rest of crm uses the engine-neutral src/engine/*.ts)',
    ]);
    expect(upwardImports('src/stages/clv/stage.ts', "let run: typeof import('../../jobs/score.js');")).toHaveLength(1);
    expect(upwardImports('src/models/clv.ts', "export * from '../report/page.js';")).toHaveLength(1);
    expect(upwardImports('src/io/atomic.ts', "import type { Engine } from '../cli/context.js';")).toHaveLength(1);
    // Downward, sideways within a room, the engine-neutral engine files, and an engine's own folder from src/engine/.
    const fine: [string, string][] = [
      ['src/cli/score.ts', "import { scoreJob } from '../jobs/score.js';"],
      ['src/jobs/score.ts', "import { Engine } from '../engine/Engine.js'; import { openEngine } from '../engine/openEngine.js';"],
      ['src/stages/history/stage.ts', "import { x } from '../clusters/clusterHistory.js'; import { y } from '../../models/clv.js';"],
      ['src/engine/openEngine.ts', "const { PostgresEngine } = await import('./postgres/PostgresEngine.js');"],
      ['src/engine/postgres/PostgresEngine.ts', "import { DuckDbEngine } from '../duckdb/DuckDbEngine.js';"],
      ['src/report/reportData.ts', "import { listRuns } from '../stages/history/runs.js';"],
    ];
    for (const [file, text] of fine) expect(upwardImports(file, text), file).toEqual([]);
  });
});
