import { describe, expect, it } from 'vitest';
import {
  conditionalExpectedAverageValue,
  fitGammaGamma,
  gammaGammaLogLikelihood,
  gammaGammaLogLikelihoodGradient,
  populationMeanSpend,
} from '../../src/models/gammaGamma.js';
import type { GammaGammaParams, SpendPatterns } from '../../src/models/types.js';
import { centralDifferenceGradient, loadCdnowCalibration, relativeError, spend, textbookSpendTerm } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005) "RFM and CLV"; BTYD spend.LL convention.
const PUBLISHED: GammaGammaParams = { p: 6.2493, q: 3.7443, gamma: 15.4443 };
const PUBLISHED_LL = -4055.92;
const NAMES = ['p', 'q', 'gamma'] as const;

describe('Gamma-Gamma log-likelihood', () => {
  it('is −4055.92 at the published parameters (BTYD / lifetimes convention)', () => {
    expect(Math.abs(gammaGammaLogLikelihood(PUBLISHED, cdnow.spend) - PUBLISHED_LL)).toBeLessThan(0.01);
  });

  it('equals the sum of the textbook per-customer terms', () => {
    const s = cdnow.spend;
    let sum = 0;
    for (let i = 0; i < s.frequency.length; i++) sum += textbookSpendTerm(PUBLISHED, s.frequency[i], s.monetaryValue[i]);
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

});
