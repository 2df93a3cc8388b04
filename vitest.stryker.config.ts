import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The tests Stryker runs against each mutant: only those that import src/.
 * Tests that spawn the CLI (bin/crm.js) or the CLV worker run the dist/ bundle,
 * which holds no mutant, so they could never kill one and would only cost time.
 */
const config = mergeConfig(
  base,
  defineConfig({
    test: {
      // Stryker's instrumented code runs the model fits several times slower; it times mutants out itself.
      testTimeout: 600_000,
      exclude: [
        'tests/e2e/**',
        // The page, not the report's SQL (tests/report/report.test.ts runs that in-process, for src/report/queries.ts's mutants).
        'tests/report/page.test.ts',
        // Both spawn the built CLI or worker (tests/io/atomic.edges.test.ts covers writeFileAtomic in-process).
        'tests/io/atomicOutputs.test.ts',
        'tests/stages/clv/clvWorker.test.ts',
      ],
    },
  }),
);

/**
 * scripts/mutate.mjs names a folder's tests here (CRM_MUTATE_TESTS) rather than
 * as Stryker's testFiles: given testFiles, Stryker 9.6 activates a mutant of a
 * module-level constant only after the module is imported, so it always
 * "survives". Set after the merge, which would add to the base's include.
 */
if (process.env.CRM_MUTATE_TESTS) config.test!.include = process.env.CRM_MUTATE_TESTS.split(',');

export default config;
