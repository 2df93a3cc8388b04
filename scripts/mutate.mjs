#!/usr/bin/env node
// Mutation testing, one Stryker run per source folder (stryker.config.mjs holds
// the shared options), and for the stages' SQL one per file (SQL_FILES, SQL_TESTS),
// added up into the group's figure. Each run keeps its own incremental file, committed, so a
// later run re-tests only the mutants whose code or covering tests changed.
//
//   npm run mutate                      # src/io, src/models, the SQL in turn
//   npm run mutate -- models            # one folder
//   npm run mutate -- sql:rfm           # one SQL file's part of the group's run (src/stages/rfm/queries.ts)
//   npm run mutate -- models:bgNbd,optimize   # the models folder's run on some of its files (same incremental file)
//   npm run mutate -- io --force        # every mutant again, not only those whose code or tests changed
//   npm run mutate -- src/models/clv.ts   # a trial on one file with its own tests, tests/models/clv{,.*}.test.ts (no incremental file)
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Stryker } from '@stryker-mutator/core';

const FOLDERS = ['io', 'models', 'sql'];

/**
 * A folder's test files less its `*.fit.test.ts`, for Stryker only (`npm test`
 * runs them all). Those fit the models to CDNOW and to simulated bases of up to
 * 150,000 customers: seconds each, ~80× that instrumented, re-run for every
 * surviving mutant of a likelihood or of the optimiser (49 h estimated for
 * src/models with them). The formulas they exercise are pinned without fitting
 * by the other files (published log-likelihoods, finite-difference gradients,
 * closed-form predictions). Stryker's testFiles takes no negated globs.
 */
function withoutFits(folder) {
  return readdirSync(folder)
    .filter((name) => name.endsWith('.test.ts') && !name.endsWith('.fit.test.ts'))
    .map((name) => `${folder}/${name}`);
}

/**
 * The tests each group's mutants are run against. The models and src/io
 * must be pinned down by their own unit tests: the pipeline tests run whole
 * scores on CDNOW, and a mutant they all survive costs minutes (with the
 * bad-input corpus added, src/io's run went at 2 mutants a minute). The SQL
 * runs only inside the pipeline.
 */
const TESTS = {
  io: ['tests/io/**/*.test.ts'],
  models: withoutFits('tests/models'),
  // The stages', the jobs', the load's and the report's tests, which run the SQL in-process.
  sql: [
    'tests/stages/*/**/*.test.ts',
    'tests/jobs/**/*.test.ts',
    // Named one by one: CRM_MUTATE_TESTS is split at commas, a {a,b} glob with it.
    ...['badCorpus', 'badInput', 'futureDates', 'inputReading'].map((name) => `tests/engine/${name}.test.ts`),
    'tests/report/report.test.ts',
  ],
};

/**
 * The SQL (`sql`): each stage's queries.ts and the other query files, by the
 * name of its run and of its incremental file (reports/stryker-incremental-sql/<name>.json).
 */
const SQL_FILES = {
  lifecycle: 'src/stages/lifecycle/queries.ts',
  rfm: 'src/stages/rfm/queries.ts',
  clusters: 'src/stages/clusters/queries.ts',
  sums: 'src/stages/sums.ts',
  scored: 'src/stages/scored/queries.ts',
  labels: 'src/stages/scored/labelsQueries.ts',
  history: 'src/stages/history/queries.ts',
  report: 'src/report/queries.ts',
  export: 'src/jobs/exportQueries.ts',
  features: 'src/stages/features/queries.ts',
  clv: 'src/stages/clv/queries.ts',
  backtest: 'src/stages/clv/backtestQueries.ts',
};

/**
 * The models' tests run in well under a second each, even instrumented: a
 * mutant that loops for ever is cut 3 s past its tests' time, not the 10 s the
 * DuckDB-backed folders need (each timeout also restarts the test runner).
 */
const FOLDER_OPTIONS = { models: { timeoutMS: 3_000 } };

/**
 * The SQL is run file by file, each file against the stage and job tests that run
 * its SQL: most of its mutants are in module-level SQL text, and each of those
 * runs every test it is given that imports the file (up to the first failure),
 * so against all of TESTS.sql the group takes hours. A mutant killed only
 * by a test left out here counts as surviving: the figure can only be lower.
 */
const t = (...names) => names.map((name) => `tests/${name}.test.ts`);
const SQL_TESTS = {
  lifecycle: t('stages/lifecycle/lifecycle'),
  rfm: t('stages/rfm/rfm', 'stages/rfm/rfmTables', 'stages/rfm/segmentMap'),
  clusters: t('stages/clusters/clusters', 'stages/clusters/clusters.history', 'stages/clusters/clusters.profiles'),
  sums: t('stages/rfm/rfmTables', 'stages/clusters/clusters'),
  scored: t('jobs/score', 'stages/scored/scoredColumns', 'stages/rfm/rfm', 'stages/clusters/clusters'),
  labels: t('stages/history/history', 'stages/rfm/rfm', 'stages/history/runHistory.engines'),
  history: t('stages/history/history', 'stages/history/runHistory.engines'),
  report: t('report/report', 'stages/history/runHistory.engines'),
  export: t('jobs/exportColumns', 'jobs/exportEmailColumn', 'jobs/export', 'stages/history/runHistory.engines'),
  features: t('stages/features/features', 'stages/rfm/rfm', 'stages/rfm/rfmTables', 'jobs/score', 'stages/lifecycle/lifecycle'),
  clv: t('stages/clv/clv'),
  backtest: t('stages/clv/clv'),
};

/**
 * A source file's own tests if it has some (tests/models/clv.test.ts and
 * clv.*.test.ts but not clv.fit.test.ts for src/models/clv.ts; an SQL file's
 * are its SQL_TESTS, as tests/stages/rfm/rfm.test.ts for src/stages/rfm/queries.ts).
 */
function ownTests(file) {
  const sql = Object.entries(SQL_FILES).find(([, sqlFile]) => sqlFile === file)?.[0];
  if (sql) return SQL_TESTS[sql] ?? [];
  const [, folder, base] = /^src\/(\w+)\/(\w+)\.ts$/.exec(file) ?? [];
  return folder ? withoutFits(`tests/${folder}`).filter((name) => path.basename(name).startsWith(`${base}.`)) : [];
}

/** A file's own tests, else its folder's. */
function trialTests(file) {
  const own = ownTests(file);
  return own.length > 0 ? own : TESTS[groupOf(file)];
}

/** A file's group: `sql` for the SQL files, else its folder under src/. */
const groupOf = (file) => (Object.values(SQL_FILES).includes(file) ? 'sql' : /^src\/(\w+)\//.exec(file)?.[1]);

/**
 * Groups whose module-level mutants are run and scored (most of the stages'
 * SQL text is in module-level constants). Each such mutant runs with the
 * tests that import its file, stopping at the first failure.
 */
const SCORE_STATIC = new Set(['io', 'sql']);

/** One SQL file's run, with its own incremental file. */
const sqlFileRun = (base) => ({
  name: SQL_FILES[base],
  folder: 'sql',
  tests: SQL_TESTS[base],
  options: {
    mutate: [SQL_FILES[base]],
    ignoreStatic: false,
    tempDirName: `.stryker-tmp-sql-${base}`,
    incrementalFile: `reports/stryker-incremental-sql/${base}.json`,
    htmlReporter: { fileName: `reports/mutation/sql/${base}.html` },
    jsonReporter: { fileName: `reports/mutation/sql/${base}.json` },
  },
});

/**
 * The models folder's run, its tests and incremental file, on some of its files
 * only: the incremental file keeps the other files' latest results, so the
 * folder's figure can be brought up to date a few files at a time.
 */
const modelsFilesRun = (bases) => {
  const run = runFor('models');
  return { ...run, name: `src/models: ${bases.join(', ')}`, options: { ...run.options, mutate: bases.map((base) => `src/models/${base}.ts`) } };
};

/** `sql` is every SQL file's run; `sql:rfm` that of src/stages/rfm/queries.ts alone; `models:a,b` the models run on a.ts and b.ts. */
const runsFor = (arg) => {
  if (arg === 'sql') return Object.keys(SQL_TESTS).map(sqlFileRun);
  const models = /^models:([\w,]+)$/.exec(arg)?.[1];
  if (models) return [modelsFilesRun(models.split(','))];
  const base = /^sql:(\w+)$/.exec(arg)?.[1];
  return base ? [sqlFileRun(base)] : [runFor(arg)];
};

/** The SQL's figure: the latest result of every file, from their incremental files. */
function sqlFolderResults() {
  const dir = 'reports/stryker-incremental-sql';
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .flatMap((name) => Object.values(JSON.parse(readFileSync(path.join(dir, name), 'utf8')).files).flatMap((f) => f.mutants));
}

const runFor = (arg) =>
  FOLDERS.includes(arg)
    ? {
        name: `src/${arg}`,
        tests: TESTS[arg],
        options: {
          mutate: [`src/${arg}/**/*.ts`],
          ignoreStatic: !SCORE_STATIC.has(arg),
          // Its own sandbox folder, so that two folders can run at once.
          tempDirName: `.stryker-tmp-${arg}`,
          incrementalFile: `reports/stryker-incremental-${arg}.json`,
          ...FOLDER_OPTIONS[arg],
          htmlReporter: { fileName: `reports/mutation/${arg}.html` },
          jsonReporter: { fileName: `reports/mutation/${arg}.json` },
        },
      }
    : {
        name: arg,
        tests: trialTests(arg),
        options: {
          mutate: [arg],
          ignoreStatic: !SCORE_STATIC.has(groupOf(arg)),
          incremental: false,
          htmlReporter: { fileName: `reports/mutation/${path.basename(arg, '.ts')}.html` },
          jsonReporter: { fileName: `reports/mutation/${path.basename(arg, '.ts')}.json` },
        },
      };

/** The figures of one run, with Stryker's score: detected / (detected + undetected), compile and runtime errors left out. */
function summarise(results) {
  const count = (status) => results.filter((r) => r.status === status).length;
  const killed = count('Killed');
  const timeout = count('Timeout');
  const survived = count('Survived');
  const noCoverage = count('NoCoverage');
  const detected = killed + timeout;
  const score = (100 * detected) / (detected + survived + noCoverage);
  return { mutants: results.length, killed, timeout, survived, noCoverage, errors: count('CompileError') + count('RuntimeError'), ignored: count('Ignored'), score: score.toFixed(2) };
}

// --force: test every mutant again. The incremental file keeps a static mutant's
// result while its file is unchanged, even when a new test would now kill it.
const force = process.argv.includes('--force');
const args = process.argv.slice(2).filter((arg) => arg !== '--force');
const summaries = [];
const folderResults = new Map();
for (const { name, folder, tests, options } of (args.length > 0 ? args : FOLDERS).flatMap(runsFor)) {
  // The tests go to vitest.stryker.config.ts, not to Stryker's testFiles (see there).
  process.env.CRM_MUTATE_TESTS = tests.join(',');
  const started = Date.now();
  // CRM_MUTATE_CONCURRENCY: more than stryker.config.mjs' one mutant at a time, on a machine with cores to spare.
  const concurrency = process.env.CRM_MUTATE_CONCURRENCY ? { concurrency: Number(process.env.CRM_MUTATE_CONCURRENCY) } : {};
  const results = await new Stryker({ ...options, ...concurrency, ...(force ? { force: true } : {}) }).runMutationTest();
  const wallSeconds = Math.round((Date.now() - started) / 1000);
  summaries.push({ run: name, ...summarise(results), wallSeconds });
  if (folder) {
    const sum = folderResults.get(folder) ?? { results: [], wallSeconds: 0 };
    folderResults.set(folder, { results: [...sum.results, ...results], wallSeconds: sum.wallSeconds + wallSeconds });
  }
}
for (const [folder, { wallSeconds }] of folderResults) summaries.push({ run: `${folder} (every file's latest run)`, ...summarise(sqlFolderResults()), wallSeconds });
console.table(summaries);
