import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedAverageValue,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodGradient,
  populationMeanSpend,
} from '../../src/models/gammaGamma.js';
import { logGamma } from '../../src/models/specialFunctions.js';
import type { GammaGammaParams, SpendPatterns } from '../../src/models/types.js';
import { allFinite, centralDifferenceGradient, loadCdnowCalibration, relativeError, simulateCustomerBase } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005) "RFM and CLV"; BTYD spend.LL convention.
const PUBLISHED: GammaGammaParams = { p: 6.2493, q: 3.7443, gamma: 15.4443 };
const PUBLISHED_LL = -4055.92;
const NAMES = ['p', 'q', 'gamma'] as const;

const fit = fitGammaGamma(cdnow.spend);

function spend(rows: [x: number, m: number, w: number][]): SpendPatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    monetaryValue: Float64Array.from(rows, (r) => r[1]),
    weight: Float64Array.from(rows, (r) => r[2]),
  };
}

/** BTYD `spend.LL` / lifetimes `GammaGammaFitter` term for one customer, as written there. */
function textbook({ p, q, gamma }: GammaGammaParams, x: number, m: number): number {
  return (
    logGamma(p * x + q) -
    logGamma(p * x) -
    logGamma(q) +
    q * Math.log(gamma) +
    (p * x - 1) * Math.log(m) +
    p * x * Math.log(x) -
    (p * x + q) * Math.log(gamma + m * x)
  );
}

describe('Gamma-Gamma log-likelihood', () => {
  it("counts CDNOW's 946 repeat customers only: given all 2357, it ignores the 1411 one-time buyers", () => {
    const everyone = spend(cdnow.customers.map((c) => [c.frequency, c.monetaryValue, 1]));
    expect(Math.abs(gammaGammaLogLikelihood(PUBLISHED, everyone) - PUBLISHED_LL)).toBeLessThan(0.01);
    const again = fitGammaGamma(everyone);
    expect(again.message).toContain('(1411 rows with frequency ≤ 0 or monetary value ≤ 0 ignored)');
    for (const name of NAMES) expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
  });

  it('is −4055.92 at the published parameters (BTYD / lifetimes convention)', () => {
    expect(Math.abs(gammaGammaLogLikelihood(PUBLISHED, cdnow.spend) - PUBLISHED_LL)).toBeLessThan(0.01);
  });

  it('equals the sum of the textbook per-customer terms', () => {
    const s = cdnow.spend;
    let sum = 0;
    for (let i = 0; i < s.frequency.length; i++) sum += textbook(PUBLISHED, s.frequency[i], s.monetaryValue[i]);
    expect(relativeError(gammaGammaLogLikelihood(PUBLISHED, s), sum)).toBeLessThan(1e-12);
  });

  it.each([
    { p: 2, q: 5, gamma: 30 },
    { p: 10, q: 1.5, gamma: 3 },
    { p: 0.5, q: 8, gamma: 200 },
  ])('has an analytic gradient matching central differences at %o', (params) => {
    const gradient = gammaGammaLogLikelihoodGradient(params, cdnow.spend);
    const numeric = centralDifferenceGradient((q) => gammaGammaLogLikelihood(q, cdnow.spend), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });

  it('ignores rows with frequency 0, spend ≤ 0, non-finite spend or zero weight', () => {
    const base = gammaGammaLogLikelihood(PUBLISHED, cdnow.spend);
    const padded: SpendPatterns = {
      frequency: Float64Array.from([...cdnow.spend.frequency, 0, 3, 2, 4]),
      monetaryValue: Float64Array.from([...cdnow.spend.monetaryValue, 20, 0, Number.NaN, 50]),
      weight: Float64Array.from([...cdnow.spend.weight, 1, 1, 1, 0]),
    };
    expect(gammaGammaLogLikelihood(PUBLISHED, padded)).toBe(base);
  });
});

describe('fitGammaGamma on CDNOW', () => {
  it('reproduces the published estimates', () => {
    expect(fit.converged).toBe(true);
    for (const name of NAMES) expect(relativeError(fit.params[name], PUBLISHED[name])).toBeLessThan(1e-3);
    expect(Math.abs(fit.logLikelihood - PUBLISHED_LL)).toBeLessThan(0.01);
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

describe('Gamma-Gamma predictions', () => {
  it('population mean spend pγ/(q−1) = 35.17', () => {
    expect(relativeError(populationMeanSpend(PUBLISHED), 35.17)).toBeLessThan(1e-3);
    expect(populationMeanSpend({ p: 1, q: 0.9, gamma: 1 })).toBe(Number.POSITIVE_INFINITY);
  });

  it('customer with m_x = 40 and x = 2 expects 39.13', () => {
    expect(relativeError(conditionalExpectedAverageValue(PUBLISHED, 2, 40), 39.13)).toBeLessThan(1e-3);
  });

  it('customers without usable spend get the population mean; vectorised equals scalar', () => {
    const x = Float64Array.of(2, 0, 3, 5, 1);
    const m = Float64Array.of(40, 0, -5, Number.NaN, 1000);
    const values = conditionalExpectedAverageValue(PUBLISHED, x, m);
    const mean = populationMeanSpend(PUBLISHED);
    expect(values[1]).toBe(mean);
    expect(values[2]).toBe(mean);
    expect(values[3]).toBe(mean);
    for (let i = 0; i < x.length; i++) expect(values[i]).toBe(conditionalExpectedAverageValue(PUBLISHED, x[i], m[i]));
    // A heavy spender is shrunk towards the population mean, more so with fewer purchases.
    expect(values[4]).toBeLessThan(1000);
    expect(values[4]).toBeGreaterThan(mean);
    expect(conditionalExpectedAverageValue(PUBLISHED, 50, 1000)).toBeGreaterThan(values[4]);
  });
});

describe('Gamma-Gamma edge cases never produce NaN', () => {
  it('no usable rows: not converged, clear message', () => {
    const result = fitGammaGamma(spend([
      [0, 10, 1],
      [2, 0, 1],
    ]));
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/no repeat customers/);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
  });

  it('a single customer, and identical spends (no variation to fit)', () => {
    for (const rows of [
      [[2, 10, 1]],
      [
        [2, 10, 1],
        [3, 10, 1],
        [1, 10, 4],
      ],
    ] as [number, number, number][][]) {
      const result = fitGammaGamma(spend(rows));
      expect(result.converged).toBe(false);
      expect(result.message).toMatch(/boundary|not a minimum|did not converge/);
      for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
      expect(Number.isFinite(result.logLikelihood)).toBe(true);
    }
  });

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
  const { spend: data } = simulateCustomerBase(150_000, 77, undefined, truth);

  it('log-likelihood equals the textbook sum; gradient matches central differences', () => {
    expect(data.frequency.length).toBeGreaterThan(50_000);
    let sum = 0;
    for (let i = 0; i < data.frequency.length; i++) sum += textbook(truth, data.frequency[i], data.monetaryValue[i]);
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
