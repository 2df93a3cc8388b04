/**
 * clvFactors against its definition on all of CDNOW's patterns: seconds under
 * Stryker's instrumentation for each mutant of the predictions, so apart from
 * clv.test.ts, which checks the same on every 10th pattern (scripts/mutate.mjs).
 */
import { describe } from 'vitest';
import { loadCdnowCalibration } from './cdnowPatterns.js';
import { clvFactorDefinitionTests } from './clvFactorChecks.js';

describe('clvFactors on every CDNOW pattern', () => {
  clvFactorDefinitionTests(loadCdnowCalibration().patterns, 'every CDNOW pattern');
});
