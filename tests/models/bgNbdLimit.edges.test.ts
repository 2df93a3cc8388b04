/**
 * The horizons that expectedPurchasesIfAliveByDropout answers without
 * integrating: none (t ≤ 0), forever (t = ∞), and the closed-form limit.
 */
import { describe, expect, it } from 'vitest';
import { expectedPurchasesIfAliveByDropout } from '../../src/models/bgNbdLimit.js';

describe('expectedPurchasesIfAliveByDropout', () => {
  it('integrated over p ~ Beta(a, b+x): 0 for t ≤ 0, and E[1/p] = (a+b+x−1)/(a−1) for t = ∞ (infinite when a ≤ 1)', () => {
    const out = new Float64Array(3);
    expectedPurchasesIfAliveByDropout({ r: 1, alpha: 2, a: 50, b: 150 }, 1, 6, [0, -3, Number.POSITIVE_INFINITY], out);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe(0);
    expect(out[2]).toBeCloseTo(200 / 49, 12);
    expectedPurchasesIfAliveByDropout({ r: 1, alpha: 2, a: 0.5, b: 150 }, 1, 6, [Number.POSITIVE_INFINITY], out);
    expect(out[0]).toBe(Number.POSITIVE_INFINITY);
  });

  it('past a + b + x = 1e13, the fixed-dropout limit (1 − (1 + pu)^−(r+x))/p at p = a/(a+b+x), u = t/(α+T)', () => {
    // r = 1, x = 1, α = 2, T = 2, t = 4: u = 1, p = 1/4: (1 − 0.8²)/0.25 = 1.44; t = ∞: 1/p = 4.
    const out = new Float64Array(3);
    expectedPurchasesIfAliveByDropout({ r: 1, alpha: 2, a: 2.5e13 - 0.25, b: 7.5e13 - 0.75 }, 1, 2, [4, 0, Number.POSITIVE_INFINITY], out);
    expect(out[0]).toBeCloseTo(1.44, 12);
    expect(out[1]).toBe(0);
    expect(out[2]).toBeCloseTo(4, 12);
  });
});
