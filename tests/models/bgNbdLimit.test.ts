import { describe, expect, it } from 'vitest';
import { conditionalExpectedPurchases, conditionalProbabilityAlive, expectedPurchases } from '../../src/models/bgNbd.js';
import { aliveFixed, fixedDropout, integrated } from './dropoutReference.js';
import { relativeError } from './cdnowPatterns.js';

/** (x, t_x, T, t) in weeks: one-time and repeat buyers, recent and lapsed, short and long horizons. */
const HISTORIES = [
  [0, 0, 0, 52],
  [0, 0, 20, 52],
  [2, 30, 38, 52],
  [7, 10, 40, 26],
  [1, 1, 2, 520],
  [15, 50, 52, 52],
] as const;

describe('BG/NBD predictions for any a, b', () => {
  it.each([
    { r: 0.8, alpha: 3, a: 33.9, b: 298 },
    { r: 0.8, alpha: 3, a: 339, b: 2980 },
    { r: 2.5, alpha: 12, a: 1200, b: 300 },
  ])('equal the expectation integrated over the dropout probability at %o', (params) => {
    for (const [x, tx, T, t] of HISTORIES) {
      const expected = integrated(params, t, x, tx, T);
      const actual = conditionalExpectedPurchases(params, t, x, tx, T);
      expect(relativeError(actual, expected), `x=${x} t_x=${tx} T=${T} t=${t}`).toBeLessThan(1e-8);
    }
    expect(relativeError(expectedPurchases(params, 52), integrated(params, 52, 0, 0, 0))).toBeLessThan(1e-8);
  });

  it('equal the closed-form fixed-dropout limit at a = 1e8·p, b = 1e8·(1−p)', () => {
    const [r, alpha, p] = [0.8, 3, 0.12];
    const params = { r, alpha, a: 1e8 * p, b: 1e8 * (1 - p) };
    for (const [x, tx, T, t] of HISTORIES) {
      const expected = fixedDropout(r, alpha, p, t, x, tx, T);
      expect(relativeError(conditionalExpectedPurchases(params, t, x, tx, T), expected), `x=${x} t_x=${tx} T=${T} t=${t}`).toBeLessThan(1e-6);
      expect(relativeError(conditionalProbabilityAlive(params, x, tx, T), aliveFixed(r, alpha, p, x, tx, T))).toBeLessThan(1e-6);
    }
    // New customers: (1 − (α/(α+pt))^r)/p.
    expect(relativeError(expectedPurchases(params, 52), (1 - Math.pow(alpha / (alpha + p * 52), r)) / p)).toBeLessThan(1e-6);
  });

  it('approach the limit as a + b grows from 10 to 1e16, finite all the way (O(1/(a+b)) apart)', () => {
    const [r, alpha, p] = [0.8, 3, 0.12];
    for (const [x, tx, T, t] of HISTORIES) {
      const limit = fixedDropout(r, alpha, p, t, x, tx, T);
      for (let k = 1; k <= 16; k++) {
        const n = 10 ** k;
        const value = conditionalExpectedPurchases({ r, alpha, a: n * p, b: n * (1 - p) }, t, x, tx, T);
        expect(Number.isFinite(value), `a+b=1e${k} x=${x} t=${t}`).toBe(true);
        expect(relativeError(value, limit), `a+b=1e${k} x=${x} t=${t}`).toBeLessThan(100 / n);
      }
    }
  });
});
