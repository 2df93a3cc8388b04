/**
 * The BG/NBD fits: CDNOW and a 150,000-customer simulated base. Seconds each,
 * and minutes under Stryker's instrumentation, so they live apart from
 * bgNbd.test.ts, which pins the same maths without fitting (scripts/mutate.mjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  bgNbdLogLikelihoodGradient,
  bgNbdPatternLogLikelihood,
  conditionalExpectedPurchases,
  conditionalProbabilityAlive,
  conditionalProbabilityNoPurchase,
  fitBgNbd,
} from '../../src/models/bgNbd.js';
import type { BgNbdParams, PurchasePatterns } from '../../src/models/types.js';
import { allFinite, centralDifferenceGradient, expectPublishedFit, loadCdnowCalibration, patterns, PUBLISHED_CDNOW, relativeError, shuffled, simulateCustomerBase, withPatterns } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005), as reproduced by BTYD / CLVTools (fixtures/cdnow/README.md).
const { params: PUBLISHED, logLikelihood: PUBLISHED_LL } = PUBLISHED_CDNOW.bgnbd;
const NAMES = ['r', 'alpha', 'a', 'b'] as const;

describe('fitBgNbd on CDNOW', () => {
  let fit: ReturnType<typeof fitBgNbd>;
  beforeAll(() => {
    fit = fitBgNbd(cdnow.patterns);
  });

  it('reproduces the published estimates', () => {
    expectPublishedFit('bgnbd', fit);
    expect(fit.iterations).toBeGreaterThan(0);
    expect(fit.message).toMatch(/BG\/NBD: converged/);
  });

  it('reports delta-method standard errors close to lifetimes (0.0126, 0.378, 0.186, 0.705)', () => {
    const se = fit.standardErrors as BgNbdParams;
    expect(se).not.toBeNull();
    const lifetimes = { r: 0.012557, alpha: 0.378221, a: 0.185719, b: 0.705345 };
    for (const name of NAMES) expect(relativeError(se[name], lifetimes[name])).toBeLessThan(1e-3);
  });

  it('returns an immutable result', () => {
    expect(Object.isFrozen(fit)).toBe(true);
    expect(Object.isFrozen(fit.params)).toBe(true);
  });

  it('does not depend on the order of the patterns (to 1e-9)', () => {
    for (const seed of [1, 2]) {
      const again = fitBgNbd(shuffled(cdnow.patterns, seed));
      for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
    }
  });

  it('gives the same fit from one row per customer as from weighted patterns', () => {
    const perCustomer = patterns(cdnow.customers.map((c) => [c.frequency, c.recency, c.T, 1]));
    const again = fitBgNbd(perCustomer);
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-7);
    expect(Math.abs(again.logLikelihood - fit.logLikelihood)).toBeLessThan(1e-8);
  });

  it('ignores zero-weight patterns', () => {
    const padded = withPatterns(cdnow.patterns, [
      [7, 1, 2, 0],
      [0, 0, 0.001, 0],
    ]);
    const again = fitBgNbd(padded);
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
  });

  it('shrinks the parameters with an L2 penalty', () => {
    const penalised = fitBgNbd(cdnow.patterns, { penalty: 0.01 });
    expect(penalised.converged).toBe(true);
    const size = (p: BgNbdParams) => p.r ** 2 + p.alpha ** 2 + p.a ** 2 + p.b ** 2;
    expect(size(penalised.params)).toBeLessThan(size(fit.params));
    expect(penalised.logLikelihood).toBeLessThan(fit.logLikelihood);
  });
});

describe('BG/NBD edge cases never produce NaN or Infinity (fitted on CDNOW)', () => {
  it('a customer with 500 purchases, recency = T, T tiny, zero weights', () => {
    const data = withPatterns(cdnow.patterns, [
      [500, 38, 38.5, 1],
      [500, 38.5, 38.5, 1],
      [3, 1e-6, 1e-6, 1],
      [0, 0, 0, 1],
      [12, 0.5, 20, 0],
    ]);
    const result = fitBgNbd(data);
    expect(result.converged).toBe(true);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
    const f = Float64Array.of(500, 500, 3, 0, 200);
    const tx = Float64Array.of(38, 38.5, 1e-6, 0, 1);
    const T = Float64Array.of(38.5, 38.5, 1e-6, 0, 1000);
    expect(allFinite(conditionalExpectedPurchases(result.params, 52, f, tx, T))).toBe(true);
    expect(allFinite(conditionalProbabilityAlive(result.params, f, tx, T))).toBe(true);
    expect(allFinite(conditionalProbabilityNoPurchase(result.params, 52, f, tx, T))).toBe(true);
    expect(conditionalProbabilityAlive(result.params, 500, 38.5, 38.5)).toBeGreaterThan(0.99);
    expect(conditionalProbabilityAlive(result.params, 200, 1, 1000)).toBe(0);
  });
});

describe('BG/NBD on a large simulated base (warm start, tabulated powers, blocked sums)', () => {
  const truth: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  let p: PurchasePatterns;
  beforeAll(() => {
    p = simulateCustomerBase(150_000, 2024, truth).patterns;
  });

  it('log-likelihood equals the per-pattern textbook sum; gradient matches central differences', () => {
    for (const params of [truth, { r: 0.6, alpha: 9, a: 1.4, b: 0.9 }]) {
      let sum = 0;
      for (let i = 0; i < p.frequency.length; i++) sum += p.weight[i] * bgNbdPatternLogLikelihood(params, p.frequency[i], p.recency[i], p.T[i]);
      expect(relativeError(bgNbdLogLikelihood(params, p), sum)).toBeLessThan(1e-11);
    }
    const params = { r: 0.6, alpha: 9, a: 1.4, b: 0.9 };
    const gradient = bgNbdLogLikelihoodGradient(params, p);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, p), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });

  it('the warm-started fit equals a cold fit and recovers the simulated parameters', () => {
    const warm = fitBgNbd(p);
    expect(warm.converged).toBe(true);
    expect(warm.message).toMatch(/warm start/);
    const cold = fitBgNbd(p, { initialParams: { r: 1, alpha: 10, a: 1, b: 1 } });
    expect(cold.converged).toBe(true);
    expect(warm.standardErrors).not.toBeNull();
    for (const name of NAMES) {
      expect(relativeError(warm.params[name], cold.params[name])).toBeLessThan(1e-8);
      // Same-day purchases are merged as in the real data, which biases α a little.
      expect(relativeError(warm.params[name], truth[name])).toBeLessThan(0.1);
    }
  });
});
