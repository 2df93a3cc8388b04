#!/usr/bin/env node
// Mutation testing, one Stryker run per source folder (stryker.config.mjs holds
// the shared options). Each folder keeps its own incremental file, committed,
// so a later run re-tests only the mutants whose code or covering tests changed.
//
//   npm run mutate                      # src/io, src/models, src/sql in turn
//   npm run mutate -- models            # one folder
//   npm run mutate -- src/models/clv.ts   # a trial on one file with its own tests, tests/models/clv{,.*}.test.ts (no incremental file)
import { readdirSync } from 'node:fs';
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
 * The tests each folder's mutants are run against. The models and the writers
 * must be pinned down by their own unit tests: the pipeline tests run whole
 * scores on CDNOW, and a mutant they all survive costs minutes. The SQL runs
 * only inside the pipeline; the bad-input corpus is where mixed line ends are met.
 */
const TESTS = {
  io: ['tests/io/**/*.test.ts', 'tests/pipeline/badInput.test.ts'],
  models: withoutFits('tests/models'),
  sql: ['tests/pipeline/**/*.test.ts'],
};

/**
 * The models' tests run in well under a second each, even instrumented: a
 * mutant that loops for ever is cut 3 s past its tests' time, not the 10 s the
 * DuckDB-backed folders need (each timeout also restarts the test runner).
 */
const FOLDER_OPTIONS = { models: { timeoutMS: 3_000 } };

/**
 * A source file's own tests if it has some (tests/models/clv.test.ts and
 * clv.*.test.ts but not clv.fit.test.ts for src/models/clv.ts; the SQL's are the pipeline's, as
 * tests/pipeline/rfm.test.ts for src/sql/rfm.ts).
 */
function ownTests(file) {
  const [, folder, base] = /^src\/(\w+)\/(\w+)\.ts$/.exec(file) ?? [];
  const testFolder = folder === 'sql' ? 'pipeline' : folder;
  return withoutFits(`tests/${testFolder}`).filter((name) => path.basename(name).startsWith(`${base}.`));
}

/** A file's own tests, else its folder's. */
function trialTests(file) {
  const own = ownTests(file);
  return { testFiles: own.length > 0 ? own : TESTS[/^src\/(\w+)\//.exec(file)?.[1]] };
}

const runFor = (arg) =>
  FOLDERS.includes(arg)
    ? {
        name: `src/${arg}`,
        options: {
          mutate: [`src/${arg}/**/*.ts`],
          testFiles: TESTS[arg],
          incrementalFile: `reports/stryker-incremental-${arg}.json`,
          ...FOLDER_OPTIONS[arg],
          htmlReporter: { fileName: `reports/mutation/${arg}.html` },
          jsonReporter: { fileName: `reports/mutation/${arg}.json` },
        },
      }
    : {
        name: arg,
        options: {
          mutate: [arg],
          ...trialTests(arg),
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

const args = process.argv.slice(2);
const summaries = [];
for (const { name, options } of (args.length > 0 ? args : FOLDERS).map(runFor)) {
  const started = Date.now();
  const results = await new Stryker(options).runMutationTest();
  summaries.push({ run: name, ...summarise(results), wallSeconds: Math.round((Date.now() - started) / 1000) });
}
console.table(summaries);
