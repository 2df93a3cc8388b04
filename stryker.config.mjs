// Mutation testing (`npm run mutate`, not part of `npm test` or CI): see README "Testing".
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  // The SQL: scripts/mutate.mjs's SQL_FILES.
  mutate: [
    'src/io/**/*.ts',
    'src/models/**/*.ts',
    'src/stages/**/queries.ts',
    'src/stages/scored/labelsQueries.ts',
    'src/stages/clv/backtestQueries.ts',
    'src/stages/sums.ts',
    'src/report/queries.ts',
    'src/jobs/exportQueries.ts',
  ],
  coverageAnalysis: 'perTest',
  // Module-level constants (the journal's name, the format extensions, most of
  // the stages' SQL text) run once at import, so each of their mutants runs all
  // the tests that import its file (up to the first failure). scripts/mutate.mjs
  // scores them for src/io and the SQL; src/models' are Ignored, not scored.
  ignoreStatic: true,
  // Committed, so that the next run re-tests only the mutants whose code or tests changed.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Two cores shared by the whole team.
  concurrency: 1,
  // DuckDB-backed tests take seconds; a mutant that loops forever is cut at 2x + 10 s of its tests' own time.
  timeoutMS: 10_000,
  timeoutFactor: 2,
  // The first, unmutated run of the whole selection (the DuckDB pipeline tests for the SQL) on a busy machine.
  dryRunTimeoutMinutes: 20,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { reportTests: false },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'coverage', 'reports', 'benchmarks/data', 'benchmarks/out', 'tests/.tmp', '.stryker-tmp*'],
};
