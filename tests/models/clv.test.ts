import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { clvFactors } from '../../src/models/clv.js';
import { allFinite, everyNth, loadCdnowCalibration, relativeError } from './cdnowPatterns.js';
import { BG, clvFactorDefinitionTests, discountFactorByDefinition, MONTH_WEEKS, PN } from './clvFactorChecks.js';

// Every 10th pattern: clv.fit.test.ts has the same checks on all of them.
const SAMPLE = everyNth(loadCdnowCalibration().patterns, 10);

describe('clvFactors', () => {
  clvFactorDefinitionTests(SAMPLE, 'every 10th CDNOW pattern');

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
