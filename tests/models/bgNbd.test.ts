import { describe, expect, it } from 'vitest';
import {
  bgNbdLogLikelihood,
  bgNbdLogLikelihoodGradient,
  bgNbdPatternLogLikelihood,
  conditionalExpectedPurchases,
  conditionalProbabilityAlive,
  conditionalProbabilityNoPurchase,
  expectedPurchases,
  expectedPurchasesIfAlive,
  fitBgNbd,
  probabilityNoPurchase,
} from '../../src/models/bgNbd.js';
import { compilePurchasePatterns } from '../../src/models/fitting.js';
import { hyp2f1 } from '../../src/models/specialFunctions.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { allFinite, centralDifferenceGradient, everyNth, loadCdnowCalibration, patterns, relativeError, withPatterns } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Gradients take 9 evaluations of the likelihood: on every 10th pattern (the published value is checked on all).
const SMALL = everyNth(cdnow.patterns, 10);
// Fader, Hardie & Lee (2005), as reproduced by BTYD / CLVTools (fixtures/cdnow/README.md).
const PUBLISHED: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 };
const PUBLISHED_LL = -9582.43;
const PAPER: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const NAMES = ['r', 'alpha', 'a', 'b'] as const;

describe('compilePurchasePatterns on CDNOW', () => {
  // The published summary of the calibration period: 2357 customers, 2457 repeat
  // purchases, 946 repeat buyers (so 1411 one-time buyers), T ≤ 38.86 weeks.
  it.each([
    ['weighted patterns', cdnow.patterns],
    ['one row per customer', patterns(cdnow.customers.map((c) => [c.frequency, c.recency, c.T, 1]))],
  ])('keeps the published totals, from %s', (_name, data) => {
    const compiled = compilePurchasePatterns(data);
    expect(compiled.totalWeight).toBe(2357);
    expect(compiled.sumWeightedFrequency).toBe(2457);
    expect(compiled.xValues[0]).toBe(0);
    expect(compiled.xWeight[0]).toBe(2357 - 946);
    expect(compiled.maxT).toBeLessThanOrEqual(38.86);
    // Sorted by frequency, each block holding its frequency's patterns.
    for (let j = 0; j < compiled.xValues.length; j++) {
      for (let i = compiled.blockStart[j]; i < compiled.blockStart[j + 1]; i++) expect(compiled.frequency[i]).toBe(compiled.xValues[j]);
    }
  });
});

describe('BG/NBD log-likelihood', () => {
  it('is −9582.43 at the published parameters', () => {
    expect(Math.abs(bgNbdLogLikelihood(PUBLISHED, cdnow.patterns) - PUBLISHED_LL)).toBeLessThan(0.01);
  });

  it('is the weighted sum of the per-pattern textbook formula', () => {
    const p = cdnow.patterns;
    let sum = 0;
    for (let i = 0; i < p.frequency.length; i++) sum += p.weight[i] * bgNbdPatternLogLikelihood(PAPER, p.frequency[i], p.recency[i], p.T[i]);
    expect(relativeError(bgNbdLogLikelihood(PAPER, p), sum)).toBeLessThan(1e-12);
  });

  it.each([
    { r: 0.5, alpha: 2, a: 1.3, b: 0.7 },
    { r: 0.2, alpha: 12, a: 0.4, b: 5 },
    { r: 3, alpha: 40, a: 2.5, b: 2.5 },
  ])('has an analytic gradient matching central differences at %o', (params) => {
    const gradient = bgNbdLogLikelihoodGradient(params, SMALL);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, SMALL), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });

  it('also matches central differences with a frequency-500 customer (direct-exp path)', () => {
    const data = withPatterns(SMALL, [[500, 38, 38.5, 1]]);
    const params = { r: 0.3, alpha: 5, a: 0.8, b: 2.4 };
    const gradient = bgNbdLogLikelihoodGradient(params, data);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, data), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });
});

describe('BG/NBD predictions (fixtures/cdnow/README.md "Known predictions")', () => {
  it('customer x = 2, t_x = 30.43, T = 38.86: E[Y(39)] = 1.2259, P(alive) = 0.7266', () => {
    expect(relativeError(conditionalExpectedPurchases(PUBLISHED, 39, 2, 30.43, 38.86), 1.2259)).toBeLessThan(1e-3);
    expect(relativeError(conditionalProbabilityAlive(PUBLISHED, 2, 30.43, 38.86), 0.7266)).toBeLessThan(1e-3);
  });

  it('P(no purchase in 39 weeks | new customer) = 0.5738 at the paper parameters', () => {
    expect(relativeError(probabilityNoPurchase(PAPER, 39), 0.5738)).toBeLessThan(1e-3);
  });

  it('E[X(t)] of a new customer at t = 1, 3, 32, 78 weeks', () => {
    const expected = [0.0532, 0.1506, 1.0437, 1.8576];
    const values = expectedPurchases(PUBLISHED, Float64Array.of(1, 3, 32, 78));
    expected.forEach((v, i) => expect(relativeError(values[i], v)).toBeLessThan(1e-3));
    expected.forEach((v, i) => expect(relativeError(expectedPurchases(PUBLISHED, [1, 3, 32, 78][i]), v)).toBeLessThan(1e-3));
  });

  it('vectorised forms equal the scalar forms', () => {
    const p = cdnow.patterns;
    const expected = conditionalExpectedPurchases(PUBLISHED, 39, p.frequency, p.recency, p.T);
    const alive = conditionalProbabilityAlive(PUBLISHED, p.frequency, p.recency, p.T);
    const none = conditionalProbabilityNoPurchase(PUBLISHED, 39, p.frequency, p.recency, p.T);
    for (let i = 0; i < p.frequency.length; i++) {
      expect(expected[i]).toBe(conditionalExpectedPurchases(PUBLISHED, 39, p.frequency[i], p.recency[i], p.T[i]));
      expect(alive[i]).toBe(conditionalProbabilityAlive(PUBLISHED, p.frequency[i], p.recency[i], p.T[i]));
      expect(none[i]).toBe(conditionalProbabilityNoPurchase(PUBLISHED, 39, p.frequency[i], p.recency[i], p.T[i]));
    }
    expect(probabilityNoPurchase(PUBLISHED, Float64Array.of(39))[0]).toBe(probabilityNoPurchase(PUBLISHED, 39));
  });

  it('the stable series equals the textbook ₂F₁ formula (paper eq. 10)', () => {
    const { r, alpha, a, b } = PUBLISHED;
    const out = new Float64Array(1);
    for (const [x, T, t] of [
      [0, 0, 78],
      [2, 38.86, 39],
      [7, 20, 10],
      [1, 5, 100],
    ]) {
      const z = t / (alpha + T + t);
      const textbook = ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z));
      expectedPurchasesIfAlive(PUBLISHED, x, T, [t], out);
      expect(relativeError(out[0], textbook)).toBeLessThan(1e-10);
    }
  });

  it('is continuous through a = 1, where the textbook formula divides by zero', () => {
    const at = (a: number) => expectedPurchases({ r: 0.5, alpha: 3, a, b: 2 }, 20);
    expect(Math.abs(at(1) - at(1 + 1e-9))).toBeLessThan(1e-8);
    expect(Math.abs(at(1) - at(1 - 1e-9))).toBeLessThan(1e-8);
    expect(Number.isFinite(at(1))).toBe(true);
  });

  it('stays defined when a + b < 1 (the textbook ₂F₁ has c ≤ 0)', () => {
    const params = { r: 0.5, alpha: 3, a: 0.3, b: 0.4 };
    const values = expectedPurchases(params, Float64Array.of(1, 10, 100));
    expect(allFinite(values)).toBe(true);
    expect(values[0]).toBeGreaterThan(0);
    expect(values[1]).toBeGreaterThan(values[0]);
    expect(values[2]).toBeGreaterThan(values[1]);
  });

  it('conditional no-purchase probability is 1 − P(alive) + P(alive)·P(no purchase | alive)', () => {
    const p = conditionalProbabilityNoPurchase(PUBLISHED, 39, 2, 30.43, 38.86);
    expect(p).toBeGreaterThan(1 - 0.7266);
    expect(p).toBeLessThan(1);
    expect(conditionalProbabilityNoPurchase(PUBLISHED, 0, 2, 30.43, 38.86)).toBe(1);
  });
});

describe('BG/NBD edge cases never produce NaN or Infinity', () => {
  it('all one-time buyers: not converged, clear message, finite numbers', () => {
    const result = fitBgNbd(patterns([
      [0, 0, 10, 5],
      [0, 0, 20, 3],
      [0, 0, 1e-9, 1],
    ]));
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/no repeat purchases/);
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
    expect(result.standardErrors).toBeNull();
  });

  it('only zero weights: not converged', () => {
    const result = fitBgNbd(patterns([[1, 2, 3, 0]]));
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/no patterns/);
  });

  it('a single customer', () => {
    const result = fitBgNbd(patterns([[3, 8, 10, 1]]));
    for (const name of NAMES) expect(Number.isFinite(result.params[name])).toBe(true);
    expect(Number.isFinite(result.logLikelihood)).toBe(true);
    expect(typeof result.message).toBe('string');
  });

  it('rejects input that cannot be a purchase history', () => {
    expect(() => fitBgNbd(patterns([[1, 5, 3, 1]]))).toThrow(RangeError); // recency > T
    expect(() => fitBgNbd(patterns([[1.5, 1, 3, 1]]))).toThrow(RangeError); // fractional count
    expect(() => fitBgNbd(patterns([[1, 1, Number.NaN, 1]]))).toThrow(RangeError);
    expect(() => fitBgNbd(patterns([[1, 1, 3, -1]]))).toThrow(RangeError);
    expect(() => fitBgNbd({ ...patterns([[1, 1, 3, 1]]), weight: new Float64Array(2) })).toThrow(TypeError);
    expect(() => conditionalProbabilityAlive({ ...PUBLISHED, r: -1 }, 1, 1, 2)).toThrow(RangeError);
  });
});
