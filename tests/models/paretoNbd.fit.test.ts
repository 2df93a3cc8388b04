/**
 * The Pareto/NBD fits: CDNOW and a 150,000-customer simulated base. Seconds
 * each, and minutes under Stryker's instrumentation, so they live apart from
 * paretoNbd.test.ts, which pins the same maths without fitting (scripts/mutate.mjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  conditionalExpectedPurchases,
  conditionalProbabilityAlive,
  conditionalProbabilityNoPurchase,
  fitParetoNbd,
  paretoNbdLogLikelihood,
  paretoNbdPatternLogLikelihood,
} from '../../src/models/paretoNbd.js';
import type { ParetoNbdParams, PurchasePatterns } from '../../src/models/types.js';
import { allFinite, expectPublishedFit, loadCdnowCalibration, PUBLISHED_CDNOW, relativeError, shuffled, simulateCustomerBase, withPatterns } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005) "RFM and CLV", reproduced by BTYD / CLVTools.
const { params: PUBLISHED, logLikelihood: PUBLISHED_LL } = PUBLISHED_CDNOW.paretonbd;
const NAMES = ['r', 'alpha', 's', 'beta'] as const;

describe('fitParetoNbd on CDNOW', () => {
  let fit: ReturnType<typeof fitParetoNbd>;
  beforeAll(() => {
    fit = fitParetoNbd(cdnow.patterns);
  });

  it('reproduces the published estimates', () => {
    expectPublishedFit('paretonbd', fit);
    expect(fit.standardErrors).not.toBeNull();
    expect(Object.isFrozen(fit)).toBe(true);
  });

  it('does not depend on the order of the patterns (to 1e-9)', () => {
    const again = fitParetoNbd(shuffled(cdnow.patterns, 7));
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
  });
});

describe('Pareto/NBD edge cases never produce NaN or Infinity (fitted on CDNOW)', () => {
  it('a customer with 500 purchases, recency = T, T tiny, zero weights', () => {
    const data = withPatterns(cdnow.patterns, [
      [500, 38, 38.5, 1],
      [500, 38.5, 38.5, 1],
      [3, 1e-6, 1e-6, 1],
      [0, 0, 0, 1],
      [12, 0.5, 20, 0],
    ]);
    const result = fitParetoNbd(data);
    expect(result.converged).toBe(true);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    const f = Float64Array.of(500, 500, 3, 0, 200);
    const tx = Float64Array.of(38, 38.5, 1e-6, 0, 1);
    const T = Float64Array.of(38.5, 38.5, 1e-6, 0, 1000);
    for (const params of [result.params, { r: 0.7, alpha: 30, s: 1.3, beta: 2 }, { r: 0.7, alpha: 2, s: 1.3, beta: 3000 }]) {
      expect(allFinite(conditionalExpectedPurchases(params, 52, f, tx, T))).toBe(true);
      expect(allFinite(conditionalProbabilityAlive(params, f, tx, T))).toBe(true);
      expect(allFinite(conditionalProbabilityNoPurchase(params, 52, f, tx, T))).toBe(true);
      expect(Number.isFinite(paretoNbdLogLikelihood(params, data))).toBe(true);
    }
  });
});

describe('Pareto/NBD on a large base (warm start)', () => {
  // BG/NBD-simulated data: the Pareto/NBD only has to fit it, not recover anything.
  let data: PurchasePatterns;
  beforeAll(() => {
    data = simulateCustomerBase(150_000, 5).patterns;
  });

  it('log-likelihood equals the per-pattern sum, and the warm-started fit equals a cold fit', () => {
    expect(data.frequency.length).toBeGreaterThan(50_000);
    const params = { r: 0.3, alpha: 5, s: 0.8, beta: 20 };
    let sum = 0;
    for (let i = 0; i < data.frequency.length; i++) sum += data.weight[i] * paretoNbdPatternLogLikelihood(params, data.frequency[i], data.recency[i], data.T[i]);
    expect(relativeError(paretoNbdLogLikelihood(params, data), sum)).toBeLessThan(1e-11);
    const warm = fitParetoNbd(data);
    expect(warm.converged).toBe(true);
    expect(warm.message).toMatch(/warm start/);
    const cold = fitParetoNbd(data, { initialParams: { r: 1, alpha: 10, s: 1, beta: 10 } });
    expect(cold.converged).toBe(true);
    for (const name of NAMES) expect(relativeError(warm.params[name], cold.params[name])).toBeLessThan(1e-8);
  });
});
