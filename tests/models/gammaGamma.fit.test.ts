/**
 * The Gamma-Gamma fits: CDNOW and a 150,000-customer simulated base. Seconds
 * each, and minutes under Stryker's instrumentation, so they live apart from
 * gammaGamma.test.ts, which pins the same maths without fitting (scripts/mutate.mjs).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { conditionalExpectedAverageValue, fitGammaGamma, gammaGammaLogLikelihood, gammaGammaLogLikelihoodGradient } from '../../src/models/gammaGamma.js';
import type { GammaGammaParams, SpendPatterns } from '../../src/models/types.js';
import { allFinite, centralDifferenceGradient, expectPublishedFit, loadCdnowCalibration, PUBLISHED_CDNOW, relativeError, simulateCustomerBase, spend, textbookSpendTerm } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005) "RFM and CLV"; BTYD spend.LL convention.
const { params: PUBLISHED, logLikelihood: PUBLISHED_LL } = PUBLISHED_CDNOW.gammagamma;
const NAMES = ['p', 'q', 'gamma'] as const;

describe('fitGammaGamma on CDNOW', () => {
  let fit: ReturnType<typeof fitGammaGamma>;
  beforeAll(() => {
    fit = fitGammaGamma(cdnow.spend);
  });

  it("counts CDNOW's 946 repeat customers only: given all 2357, it ignores the 1411 one-time buyers", () => {
    const everyone = spend(cdnow.customers.map((c) => [c.frequency, c.monetaryValue, 1]));
    expect(Math.abs(gammaGammaLogLikelihood(PUBLISHED, everyone) - PUBLISHED_LL)).toBeLessThan(0.01);
    const again = fitGammaGamma(everyone);
    expect(again.message).toContain('(1411 rows with frequency ≤ 0 or monetary value ≤ 0 ignored)');
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
  });


  it('reproduces the published estimates', () => {
    expectPublishedFit('gammagamma', fit);
    expect(fit.standardErrors).not.toBeNull();
    expect(Object.isFrozen(fit) && Object.isFrozen(fit.params)).toBe(true);
  });

  it('does not depend on the order of the rows (to 1e-9)', () => {
    const n = cdnow.spend.frequency.length;
    const order = Array.from({ length: n }, (_, i) => (i * 389) % n); // 389 is coprime with 946
    const permuted: SpendPatterns = {
      frequency: Float64Array.from(order, (i) => cdnow.spend.frequency[i]),
      monetaryValue: Float64Array.from(order, (i) => cdnow.spend.monetaryValue[i]),
      weight: Float64Array.from(order, (i) => cdnow.spend.weight[i]),
    };
    const again = fitGammaGamma(permuted);
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
  });

  it('weights are counts: duplicated rows equal doubled weights', () => {
    const doubled = fitGammaGamma({ ...cdnow.spend, weight: cdnow.spend.weight.map(() => 2) });
    const twice = fitGammaGamma({
      frequency: Float64Array.from([...cdnow.spend.frequency, ...cdnow.spend.frequency]),
      monetaryValue: Float64Array.from([...cdnow.spend.monetaryValue, ...cdnow.spend.monetaryValue]),
      weight: new Float64Array(2 * cdnow.spend.frequency.length).fill(1),
    });
    for (const name of NAMES) expect(relativeError(doubled.params[name], twice.params[name])).toBeLessThan(1e-8);
    expect(relativeError(doubled.params.p, fit.params.p)).toBeLessThan(1e-8);
  });
});

describe('Gamma-Gamma edge cases never produce NaN (fitted on CDNOW)', () => {
  it('a customer with 500 purchases and extreme spends', () => {
    const data: SpendPatterns = {
      frequency: Float64Array.from([...cdnow.spend.frequency, 500, 1]),
      monetaryValue: Float64Array.from([...cdnow.spend.monetaryValue, 25, 1e6]),
      weight: new Float64Array(cdnow.spend.frequency.length + 2).fill(1),
    };
    const result = fitGammaGamma(data);
    expect(result.converged).toBe(true);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(allFinite(conditionalExpectedAverageValue(result.params, Float64Array.of(500, 1), Float64Array.of(25, 1e6)))).toBe(true);
  });
});

describe('Gamma-Gamma on a large simulated base (warm start, blocked products)', () => {
  const truth: GammaGammaParams = { p: 6, q: 4, gamma: 15 };
  let data: SpendPatterns;
  beforeAll(() => {
    data = simulateCustomerBase(150_000, 77, undefined, truth).spend;
  });

  it('log-likelihood equals the textbook sum; gradient matches central differences', () => {
    expect(data.frequency.length).toBeGreaterThan(50_000);
    let sum = 0;
    for (let i = 0; i < data.frequency.length; i++) sum += textbookSpendTerm(truth, data.frequency[i], data.monetaryValue[i]);
    expect(relativeError(gammaGammaLogLikelihood(truth, data), sum)).toBeLessThan(1e-11);
    const params = { p: 3, q: 7, gamma: 40 };
    const gradient = gammaGammaLogLikelihoodGradient(params, data);
    const numeric = centralDifferenceGradient((q) => gammaGammaLogLikelihood(q, data), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });

  it('the warm-started fit equals a cold fit and recovers the simulated parameters', () => {
    const warm = fitGammaGamma(data);
    expect(warm.converged).toBe(true);
    expect(warm.message).toMatch(/warm start/);
    const cold = fitGammaGamma(data, { initialParams: { p: 1, q: 2, gamma: 30 } });
    expect(cold.converged).toBe(true);
    const se = warm.standardErrors as GammaGammaParams;
    for (const name of NAMES) {
      expect(relativeError(warm.params[name], cold.params[name])).toBeLessThan(1e-8);
      expect(Math.abs(warm.params[name] - truth[name])).toBeLessThan(4 * se[name]);
    }
  });
});
