/**
 * Pareto/NBD's expectation for a customer alive at T, at the horizons it
 * answers without the series: none (t ≤ 0), forever (t = ∞), and s = 1. Given
 * alive at T after x purchases, λ ~ Gamma(r+x, α+T) and μ ~ Gamma(s, β+T)
 * independently (rates), and E[Y(t) | alive] = E[λ] · E[(1 − e^(−μt))/μ].
 */
import { describe, expect, it } from 'vitest';
import { expectedPurchasesIfAlive } from '../../src/models/paretoNbd.js';

// r + x = 6, α + T = 10, β + T = 12.
const P = { r: 2, alpha: 3, s: 3, beta: 5 };
const [x, T] = [4, 7];

describe('Pareto/NBD expectedPurchasesIfAlive', () => {
  it('is 0 over no time or a negative one', () => {
    expect(expectedPurchasesIfAlive(P, x, T, 0)).toBe(0);
    expect(expectedPurchasesIfAlive(P, x, T, -5)).toBe(0);
  });

  it('for t = ∞ is E[λ] · E[1/μ] = (r+x)/(α+T) · (β+T)/(s−1), infinite when s ≤ 1', () => {
    // 6/10 · 12/2 = 3.6.
    expect(expectedPurchasesIfAlive(P, x, T, Number.POSITIVE_INFINITY)).toBeCloseTo(3.6, 14);
    expect(expectedPurchasesIfAlive({ ...P, s: 1 }, x, T, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(expectedPurchasesIfAlive({ ...P, s: 0.5 }, x, T, Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('for finite t is (r+x)/(α+T) · (β+T)/(s−1) · (1 − ((β+T)/(β+T+t))^(s−1)), and (β+T) log(1 + t/(β+T)) in place of the last two at s = 1', () => {
    // t = 12: 3.6 · (1 − (1/2)²) = 2.7.
    expect(expectedPurchasesIfAlive(P, x, T, 12)).toBeCloseTo(2.7, 14);
    // s = 1: E[(1 − e^(−μt))/μ] with μ ~ Exp(β+T) is (β+T) log 2 at t = β+T.
    expect(expectedPurchasesIfAlive({ ...P, s: 1 }, x, T, 12)).toBeCloseTo(0.6 * 12 * Math.LN2, 14);
  });
});
