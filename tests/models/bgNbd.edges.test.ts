/**
 * BG/NBD's starting point, its not-fitted results and its predictions at
 * parameters where the formulas of Fader, Hardie & Lee (2005) reduce to
 * closed forms worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import {
  conditionalProbabilityAlive,
  conditionalProbabilityNoPurchase,
  expectedPurchases,
  expectedPurchasesIfAliveEvaluator,
  fitBgNbd,
  probabilityNoPurchase,
} from '../../src/models/bgNbd.js';
import { logGamma } from '../../src/models/specialFunctions.js';
import type { BgNbdParams, PurchasePatterns } from '../../src/models/types.js';

function patterns(rows: [x: number, tx: number, T: number, w: number][]): PurchasePatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    recency: Float64Array.from(rows, (r) => r[1]),
    T: Float64Array.from(rows, (r) => r[2]),
    weight: Float64Array.from(rows, (r) => r[3]),
  };
}

/** Paper eq. (6) for one history, written out. */
function textbook({ r, alpha, a, b }: BgNbdParams, x: number, tx: number, T: number): number {
  const likelihood =
    (Math.exp(logGamma(r + x) - logGamma(r) + logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x)) * alpha ** r) *
    ((alpha + T) ** -(r + x) + (x > 0 ? (a / (b + x - 1)) * (alpha + tx) ** -(r + x) : 0));
  return Math.log(likelihood);
}

describe('fitBgNbd starting point and refusals', () => {
  it('starts from r = 1, α = ΣwT/Σwx, a = b = 1', () => {
    // ΣwT = 6 + 2·10 + 3·8 = 50, Σwx = 2 + 2·1 = 4: α = 12.5. No iteration allowed: the result is the start.
    const data = patterns([[2, 4, 6, 1], [1, 3, 10, 2], [0, 0, 8, 3]]);
    const result = fitBgNbd(data, { maxIterations: 0 });
    const start = { r: 1, alpha: 12.5, a: 1, b: 1 };
    // exp(log v) is v to rounding.
    for (const name of ['r', 'alpha', 'a', 'b'] as const) expect(result.params[name]).toBeCloseTo(start[name], 13);
    expect(result.converged).toBe(false);
    expect(result.boundary).toBeNull();
    expect(result.logLikelihood).toBeCloseTo(textbook(start, 2, 4, 6) + 2 * textbook(start, 1, 3, 10) + 3 * textbook(start, 0, 0, 8), 10);
  });

  it('one-time buyers only: not fitted, with the log-likelihood at the start (r = α = 1: −Σ w log(1 + T))', () => {
    const result = fitBgNbd(patterns([[0, 0, 10, 5], [0, 0, 20, 3]]));
    expect(result).toMatchObject({ params: { r: 1, alpha: 1, a: 1, b: 1 }, converged: false, iterations: 0, standardErrors: null, boundary: null });
    expect(result.logLikelihood).toBeCloseTo(-5 * Math.log(11) - 3 * Math.log(21), 12);
    expect(result.message).toBe(
      'BG/NBD not fitted: no repeat purchases (every frequency is 0), so purchase rates and dropout cannot be separated; parameters are the starting values',
    );
    expect(Object.isFrozen(result)).toBe(true);
  });

  it('no pattern of positive weight: not fitted, log-likelihood 0', () => {
    const result = fitBgNbd(patterns([[1, 2, 3, 0]]));
    expect(result).toMatchObject({ logLikelihood: 0, converged: false, boundary: null });
    expect(result.message).toMatch(/^BG\/NBD not fitted: no patterns with positive weight;/);
  });
});

describe('BG/NBD predictions in closed form', () => {
  // r = 1, α = 2, a = 1, b = 2.
  const P: BgNbdParams = { r: 1, alpha: 2, a: 1, b: 2 };

  it('P(alive) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)); 1 without repeat purchases', () => {
    // x = 2, t_x = 4, T = 6: 1 / (1 + (1/3)(8/6)³) = 81/145.
    expect(conditionalProbabilityAlive(P, 2, 4, 6)).toBeCloseTo(81 / 145, 15);
    expect(conditionalProbabilityAlive(P, 0, 0, 6)).toBe(1);
    // Vectorised, with a repeated count (cached log-odds) and one past the cache (x ≥ 4096); t_x = T: (b+x−1)/(a+b+x−1).
    const alive = conditionalProbabilityAlive(P, Float64Array.of(3, 0, 3, 5000, 2), Float64Array.of(7, 0, 7, 9, 4), Float64Array.of(7, 3, 7, 9, 6));
    expect(alive[0]).toBeCloseTo(4 / 5, 15);
    expect(alive[1]).toBe(1);
    expect(alive[2]).toBeCloseTo(4 / 5, 15);
    expect(alive[3]).toBeCloseTo(5001 / 5002, 15);
    expect(alive[4]).toBeCloseTo(81 / 145, 15);
  });

  it('P(no purchase in (0, t]) = (α/(α+t))^r, 1 at t = 0', () => {
    expect(probabilityNoPurchase(P, 2)).toBeCloseTo(0.5, 15);
    expect(probabilityNoPurchase(P, 0)).toBe(1);
    expect([...probabilityNoPurchase({ ...P, r: 2 }, Float64Array.of(2, 6))].map((v) => +v.toFixed(15))).toEqual([0.25, 0.0625]);
  });

  it('P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive)((α+T)/(α+T+t))^(r+x)', () => {
    // 64/145 + (81/145)(8/10)³.
    const expected = (64 + 81 * 0.512) / 145;
    expect(conditionalProbabilityNoPurchase(P, 2, 2, 4, 6)).toBeCloseTo(expected, 15);
    const vector = conditionalProbabilityNoPurchase(P, 2, Float64Array.of(2, 0), Float64Array.of(4, 0), Float64Array.of(6, 2));
    expect(vector[0]).toBeCloseTo(expected, 15);
    // x = 0, T = 2: alive, (4/6)^1.
    expect(vector[1]).toBeCloseTo(2 / 3, 15);
  });

  it('E[X(t)] with r = b = 1, a = 2: ₂F₁(1, 1; 2; z) = −log(1−z)/z gives 2(1 − (α/t) log((α+t)/α))', () => {
    const Q = { r: 1, alpha: 2, a: 2, b: 1 };
    const closed = (t: number) => 2 * (1 - (2 / t) * Math.log((2 + t) / 2));
    expect(expectedPurchases(Q, 2)).toBeCloseTo(closed(2), 13);
    const vector = expectedPurchases(Q, Float64Array.of(2, 6, 50));
    [2, 6, 50].forEach((t, i) => expect(vector[i]).toBeCloseTo(closed(t), 13));
  });

  it('E[Y(t) | alive] is 0 for t ≤ 0 and, for t = ∞, (a+b+x−1)/(a−1), infinite when a ≤ 1', () => {
    const out = new Float64Array(3);
    expectedPurchasesIfAliveEvaluator({ r: 1, alpha: 2, a: 2, b: 2 }, [0, -1, Number.POSITIVE_INFINITY])(2, 6, out);
    expect([...out]).toEqual([0, 0, 5]);
    expectedPurchasesIfAliveEvaluator({ r: 1, alpha: 2, a: 1, b: 2 }, [Number.POSITIVE_INFINITY])(2, 6, out);
    expect(out[0]).toBe(Number.POSITIVE_INFINITY);
  });
});
