import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors } from '../../src/models/clv.js';
import * as paretoNbd from '../../src/models/paretoNbd.js';
import type { BgNbdParams, ParetoNbdParams } from '../../src/models/types.js';
import { allFinite, everyNth, loadCdnowCalibration, relativeError } from './cdnowPatterns.js';

// Every 10th pattern: clv.fit.test.ts has the same checks on all of them.
const SAMPLE = everyNth(loadCdnowCalibration().patterns, 10);
const BG: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 };
const PN: ParetoNbdParams = { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6685 };
const MONTH_WEEKS = 30 / 7;

/** The definition, term by term, from the scalar conditional expectations. */
function discountFactorByDefinition(
  expectedPurchases: (t: number) => number,
  horizonMonths: number,
  rate: number,
  month: number,
): number {
  let factor = 0;
  for (let k = 1; k <= horizonMonths; k++) factor += (expectedPurchases(k * month) - expectedPurchases((k - 1) * month)) / (1 + rate) ** k;
  return factor;
}

describe('clvFactors', () => {
  it('BG/NBD: equals Σ_k (E[X(k)] − E[X(k−1)]) / (1+d)^k for every 10th CDNOW pattern', () => {
    const p = SAMPLE;
    const result = clvFactors('bgnbd', BG, p);
    for (let i = 0; i < p.frequency.length; i++) {
      const byDefinition = discountFactorByDefinition(
        (t) => (t === 0 ? 0 : bgNbd.conditionalExpectedPurchases(BG, t, p.frequency[i], p.recency[i], p.T[i])),
        12,
        0.01,
        MONTH_WEEKS,
      );
      expect(relativeError(result.discountFactor[i], byDefinition)).toBeLessThan(1e-10);
      expect(relativeError(result.expectedPurchases[i], bgNbd.conditionalExpectedPurchases(BG, 12 * MONTH_WEEKS, p.frequency[i], p.recency[i], p.T[i]))).toBeLessThan(1e-12);
      expect(result.pAlive[i]).toBe(bgNbd.conditionalProbabilityAlive(BG, p.frequency[i], p.recency[i], p.T[i]));
    }
  });

  it('Pareto/NBD: same definition', () => {
    const p = SAMPLE;
    const result = clvFactors('paretonbd', PN, p, { horizonMonths: 6, monthlyDiscountRate: 0.02 });
    for (let i = 0; i < p.frequency.length; i += 3) {
      const byDefinition = discountFactorByDefinition(
        (t) => paretoNbd.conditionalExpectedPurchases(PN, t, p.frequency[i], p.recency[i], p.T[i]),
        6,
        0.02,
        MONTH_WEEKS,
      );
      expect(relativeError(result.discountFactor[i], byDefinition)).toBeLessThan(1e-12);
      expect(relativeError(result.pAlive[i], paretoNbd.conditionalProbabilityAlive(PN, p.frequency[i], p.recency[i], p.T[i]))).toBeLessThan(1e-15);
    }
  });

  it('without discounting the factor is the expected purchases over the horizon', () => {
    const result = clvFactors('bgnbd', BG, SAMPLE, { monthlyDiscountRate: 0 });
    for (let i = 0; i < result.discountFactor.length; i++) {
      expect(relativeError(result.discountFactor[i], result.expectedPurchases[i])).toBeLessThan(1e-12);
    }
    // Discounting only lowers it.
    const discounted = clvFactors('bgnbd', BG, SAMPLE);
    for (let i = 0; i < discounted.discountFactor.length; i++) expect(discounted.discountFactor[i]).toBeLessThan(result.discountFactor[i]);
  });

  it('does not depend on the time unit (days, weeks, months with rescaled α, β)', () => {
    const p = SAMPLE;
    const scale = (v: Float64Array, k: number) => v.map((x) => x * k);
    const inWeeks = clvFactors('bgnbd', BG, p, { timeUnit: 'week' });
    const inDays = clvFactors('bgnbd', { ...BG, alpha: BG.alpha * 7 }, { frequency: p.frequency, recency: scale(p.recency, 7), T: scale(p.T, 7) }, { timeUnit: 'day' });
    const inMonths = clvFactors(
      'bgnbd',
      { ...BG, alpha: (BG.alpha * 7) / 30 },
      { frequency: p.frequency, recency: scale(p.recency, 7 / 30), T: scale(p.T, 7 / 30) },
      { timeUnit: 'month' },
    );
    const pnWeeks = clvFactors('paretonbd', PN, p);
    const pnDays = clvFactors(
      'paretonbd',
      { ...PN, alpha: PN.alpha * 7, beta: PN.beta * 7 },
      { frequency: p.frequency, recency: scale(p.recency, 7), T: scale(p.T, 7) },
      { timeUnit: 'day' },
    );
    for (let i = 0; i < p.frequency.length; i++) {
      expect(relativeError(inDays.discountFactor[i], inWeeks.discountFactor[i])).toBeLessThan(1e-10);
      expect(relativeError(inMonths.discountFactor[i], inWeeks.discountFactor[i])).toBeLessThan(1e-10);
      expect(relativeError(pnDays.discountFactor[i], pnWeeks.discountFactor[i])).toBeLessThan(1e-10);
    }
  });
  it('shares the (x, T) computation correctly between patterns that differ only in recency', () => {
    const frequency = Float64Array.of(3, 3, 3, 0, 3);
    const recency = Float64Array.of(1, 10, 20, 0, 10);
    const T = Float64Array.of(20, 20, 20, 20, 25);
    const result = clvFactors('bgnbd', BG, { frequency, recency, T });
    for (let i = 0; i < 5; i++) {
      const byDefinition = discountFactorByDefinition(
        (t) => (t === 0 ? 0 : bgNbd.conditionalExpectedPurchases(BG, t, frequency[i], recency[i], T[i])),
        12,
        0.01,
        MONTH_WEEKS,
      );
      expect(relativeError(result.discountFactor[i], byDefinition)).toBeLessThan(1e-10);
    }
    expect(result.discountFactor[0]).toBeLessThan(result.discountFactor[1]);
    expect(result.discountFactor[1]).toBeLessThan(result.discountFactor[2]);
  });

  it('handles a zero horizon, empty input and extreme patterns without NaN', () => {
    const none = clvFactors('bgnbd', BG, SAMPLE, { horizonMonths: 0 });
    expect(none.discountFactor.every((v) => v === 0)).toBe(true);
    expect(none.expectedPurchases.every((v) => v === 0)).toBe(true);
    const empty = clvFactors('paretonbd', PN, { frequency: new Float64Array(0), recency: new Float64Array(0), T: new Float64Array(0) });
    expect(empty.discountFactor.length).toBe(0);
    const extreme = {
      frequency: Float64Array.of(500, 500, 3, 0, 200),
      recency: Float64Array.of(38, 38.5, 1e-6, 0, 1),
      T: Float64Array.of(38.5, 38.5, 1e-6, 0, 1000),
    };
    for (const result of [clvFactors('bgnbd', BG, extreme, { horizonMonths: 60 }), clvFactors('paretonbd', PN, extreme, { horizonMonths: 60 })]) {
      expect(allFinite(result.discountFactor)).toBe(true);
      expect(allFinite(result.expectedPurchases)).toBe(true);
      expect(allFinite(result.pAlive)).toBe(true);
      expect(result.discountFactor[0]).toBeGreaterThan(100); // a live heavy buyer
    }
  });

  it('rejects invalid options and patterns', () => {
    expect(() => clvFactors('bgnbd', BG, SAMPLE, { horizonMonths: 1.5 })).toThrow(RangeError);
    expect(() => clvFactors('bgnbd', BG, SAMPLE, { monthlyDiscountRate: -1 })).toThrow(RangeError);
    expect(() => clvFactors('bgnbd', BG, { frequency: Float64Array.of(1), recency: Float64Array.of(5), T: Float64Array.of(2) })).toThrow(RangeError);
    expect(() => clvFactors('bgnbd', BG, { frequency: Float64Array.of(1), recency: Float64Array.of(1, 2), T: Float64Array.of(2) })).toThrow(TypeError);
  });
});
