/**
 * Gamma-Gamma's input checks, its note on ignored rows, its starting point
 * and its refusal of a population mean that does not exist (q ≤ 1), on small
 * inputs worked out by hand or simulated with known parameters.
 */
import { describe, expect, it } from 'vitest';
import { conditionalExpectedAverageValue, fitGammaGamma, gammaGammaLogLikelihood } from '../../src/models/gammaGamma.js';
import { logGamma } from '../../src/models/specialFunctions.js';
import type { GammaGammaParams, SpendPatterns } from '../../src/models/types.js';
import { simulateCustomerBase } from './cdnowPatterns.js';

function spend(rows: [x: number, m: number, w: number][]): SpendPatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    monetaryValue: Float64Array.from(rows, (r) => r[1]),
    weight: Float64Array.from(rows, (r) => r[2]),
  };
}

/** One customer's term of the BTYD `spend.LL` convention, as written there. */
function textbook({ p, q, gamma }: GammaGammaParams, x: number, m: number): number {
  return (
    logGamma(p * x + q) - logGamma(p * x) - logGamma(q) + q * Math.log(gamma) + (p * x - 1) * Math.log(m) + p * x * Math.log(x) - (p * x + q) * Math.log(gamma + m * x)
  );
}

describe('Gamma-Gamma input', () => {
  it('refuses arrays of unequal lengths, giving each length', () => {
    const data = { ...spend([[1, 10, 1], [2, 20, 1]]), monetaryValue: Float64Array.of(10) };
    expect(() => fitGammaGamma(data)).toThrow(new TypeError('Gamma-Gamma: arrays must have equal lengths (frequency=2, monetaryValue=1, weight=2)'));
    expect(() => gammaGammaLogLikelihood({ p: 1, q: 2, gamma: 3 }, { ...spend([[1, 10, 1]]), weight: Float64Array.of(1, 1) })).toThrow(/weight=2\)$/);
  });

  it('refuses a weight that is negative or not finite, naming the row', () => {
    expect(() => fitGammaGamma(spend([[1, 10, 1], [2, 20, -1]]))).toThrow(new RangeError('Gamma-Gamma: weight[1] = -1 must be a finite number ≥ 0'));
    expect(() => fitGammaGamma(spend([[1, 10, Number.NaN]]))).toThrow(/weight\[0\] = NaN/);
    expect(() => fitGammaGamma(spend([[1, 10, Number.POSITIVE_INFINITY]]))).toThrow(/weight\[0\] = Infinity/);
  });

  it('counts the rows it ignores (weight > 0 but no usable spend), not those of weight 0', () => {
    const result = fitGammaGamma(spend([[0, 10, 1], [3, 0, 2], [2, Number.POSITIVE_INFINITY, 1], [Number.POSITIVE_INFINITY, 5, 1], [2, 5, 0]]));
    expect(result).toMatchObject({ converged: false, iterations: 0, logLikelihood: 0, standardErrors: null });
    // No usable row: the starting values, γ = 1 for want of a mean spend.
    expect(result.params).toEqual({ p: 1, q: 2, gamma: 1 });
    expect(result.message).toBe(
      'Gamma-Gamma not fitted: no repeat customers with a positive monetary value (4 rows with frequency ≤ 0 or monetary value ≤ 0 ignored); parameters are the starting values',
    );
  });

  it('starts from p = 1, q = 2, γ = the weighted mean spend, and reports the log-likelihood there', () => {
    // Mean spend (10·1 + 40·3) / 4 = 32.5; no iteration allowed, so the result is the start.
    const result = fitGammaGamma(spend([[2, 10, 1], [3, 40, 3], [0, 99, 5]]), { maxIterations: 0 });
    expect(result.params).toEqual({ p: 1, q: 2, gamma: 32.5 });
    expect(result.converged).toBe(false);
    const start = { p: 1, q: 2, gamma: 32.5 };
    expect(result.logLikelihood).toBeCloseTo(textbook(start, 2, 10) + 3 * textbook(start, 3, 40), 10);
    expect(result.message).toMatch(/ \(1 rows with frequency ≤ 0 or monetary value ≤ 0 ignored\)$/);
  });
});

describe('Gamma-Gamma with q ≤ 1', () => {
  it('fits, but says the population mean spend pγ/(q−1) is undefined, and does not claim convergence', () => {
    const { spend: data } = simulateCustomerBase(4000, 11, undefined, { p: 4, q: 0.6, gamma: 10 });
    const result = fitGammaGamma(data);
    expect(result.params.q).toBeLessThan(1);
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/^Gamma-Gamma: converged: .*; q = 0\.\d+ ≤ 1, so the population mean spend is undefined$/);
  });
});

describe('conditionalExpectedAverageValue', () => {
  it('is p(γ + x m)/(px + q − 1)', () => {
    // p = 2, q = 3, γ = 10, x = 4, m = 5: 2 · 30 / 10 = 6.
    expect(conditionalExpectedAverageValue({ p: 2, q: 3, gamma: 10 }, 4, 5)).toBe(6);
  });

  it('gives the population mean for an infinite frequency, and refuses arrays of unequal lengths', () => {
    expect(conditionalExpectedAverageValue({ p: 2, q: 3, gamma: 10 }, Number.POSITIVE_INFINITY, 5)).toBe(10);
    // Nor for no spend, where p(γ + x m)/(px + q − 1) would give 2 · 10 / 6.
    expect(conditionalExpectedAverageValue({ p: 2, q: 3, gamma: 10 }, 2, 0)).toBe(10);
    expect(() => conditionalExpectedAverageValue({ p: 2, q: 3, gamma: 10 }, Float64Array.of(1, 2), Float64Array.of(5))).toThrow(
      new TypeError('Gamma-Gamma: frequency and monetaryValue must have equal lengths'),
    );
  });
});

describe('Gamma-Gamma log-likelihood at extreme spends', () => {
  // Per frequency the likelihood multiplies the (γ + x m) of unit-weight rows into one
  // product and logs it once: these rows would overflow it (nine of 1e39, two of 1e200)
  // or underflow it (two of 1e-200) unless it is flushed, or the factor logged on its own.
  const sum = (params: GammaGammaParams, rows: [number, number][]) => rows.reduce((s, [x, m]) => s + textbook(params, x, m), 0);

  it('equals the textbook sum with total spends x·m of 1e39 and 1e200', () => {
    const rows: [number, number][] = [...Array.from({ length: 9 }, (_, i): [number, number] => [1, (1 + i) * 1e39]), [2, 1e200], [2, 3e200], [2, 7]];
    const params = { p: 2, q: 3, gamma: 10 };
    const actual = gammaGammaLogLikelihood(params, spend(rows.map(([x, m]) => [x, m, 1])));
    expect(Math.abs(actual - sum(params, rows))).toBeLessThan(1e-9 * Math.abs(actual));
  });

  it('equals the textbook sum with γ and total spends of 1e-200', () => {
    const rows: [number, number][] = [[1, 1e-200], [1, 2e-200], [1, 5e-200]];
    const params = { p: 2, q: 3, gamma: 1e-200 };
    const actual = gammaGammaLogLikelihood(params, spend(rows.map(([x, m]) => [x, m, 1])));
    expect(Math.abs(actual - sum(params, rows))).toBeLessThan(1e-9 * Math.abs(actual));
  });
});
