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
import type { BgNbdParams, PurchasePatterns } from '../../src/models/types.js';
import { allFinite, centralDifferenceGradient, loadCdnowCalibration, relativeError, shuffled, simulateCustomerBase } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Fader, Hardie & Lee (2005), as reproduced by BTYD / CLVTools (fixtures/cdnow/README.md).
const PUBLISHED: BgNbdParams = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 };
const PUBLISHED_LL = -9582.43;
const PAPER: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const NAMES = ['r', 'alpha', 'a', 'b'] as const;

const fit = fitBgNbd(cdnow.patterns);

function patterns(rows: [x: number, tx: number, T: number, w: number][]): PurchasePatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    recency: Float64Array.from(rows, (r) => r[1]),
    T: Float64Array.from(rows, (r) => r[2]),
    weight: Float64Array.from(rows, (r) => r[3]),
  };
}

function withPatterns(base: PurchasePatterns, rows: [number, number, number, number][]): PurchasePatterns {
  const extra = patterns(rows);
  const cat = (a: Float64Array, b: Float64Array) => Float64Array.from([...a, ...b]);
  return {
    frequency: cat(base.frequency, extra.frequency),
    recency: cat(base.recency, extra.recency),
    T: cat(base.T, extra.T),
    weight: cat(base.weight, extra.weight),
  };
}

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
    const gradient = bgNbdLogLikelihoodGradient(params, cdnow.patterns);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, cdnow.patterns), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });

  it('also matches central differences with a frequency-500 customer (direct-exp path)', () => {
    const data = withPatterns(cdnow.patterns, [[500, 38, 38.5, 1]]);
    const params = { r: 0.3, alpha: 5, a: 0.8, b: 2.4 };
    const gradient = bgNbdLogLikelihoodGradient(params, data);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, data), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-5);
  });
});

describe('fitBgNbd on CDNOW', () => {
  it('reproduces the published estimates', () => {
    expect(fit.converged).toBe(true);
    for (const name of NAMES) expect(relativeError(fit.params[name], PUBLISHED[name])).toBeLessThan(1e-3);
    expect(Math.abs(fit.logLikelihood - PUBLISHED_LL)).toBeLessThan(0.01);
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

  it('rejects input that cannot be a purchase history', () => {
    expect(() => fitBgNbd(patterns([[1, 5, 3, 1]]))).toThrow(RangeError); // recency > T
    expect(() => fitBgNbd(patterns([[1.5, 1, 3, 1]]))).toThrow(RangeError); // fractional count
    expect(() => fitBgNbd(patterns([[1, 1, Number.NaN, 1]]))).toThrow(RangeError);
    expect(() => fitBgNbd(patterns([[1, 1, 3, -1]]))).toThrow(RangeError);
    expect(() => fitBgNbd({ ...patterns([[1, 1, 3, 1]]), weight: new Float64Array(2) })).toThrow(TypeError);
    expect(() => conditionalProbabilityAlive({ ...PUBLISHED, r: -1 }, 1, 1, 2)).toThrow(RangeError);
  });
});

describe('BG/NBD on a large simulated base (warm start, tabulated powers, blocked sums)', () => {
  const truth: BgNbdParams = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 };
  const base = simulateCustomerBase(150_000, 2024, truth);
  const p = base.patterns;

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
