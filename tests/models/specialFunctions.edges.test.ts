/**
 * Edges of the special functions that the model fits rarely reach: the
 * reflection branches, the switches between methods, and overflow. Reference
 * values are exact (closed forms) or mpmath at 40 digits.
 */
import { describe, expect, it } from 'vitest';
import { digamma, hyp2f1, hyp2f1A1WithDerivatives, log1mExp, logAddExp, logGamma, logGammaRatio, logSumExp } from '../../src/models/specialFunctions.js';

const close = (actual: number, expected: number, tolerance: number): void => {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
};

const EULER_GAMMA = 0.5772156649015329;

describe('logGamma and digamma beyond the positive reals', () => {
  it('are +Infinity at +Infinity', () => {
    expect(logGamma(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(digamma(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
  });

  it('reflect negative non-integers: log |Γ(x)| and ψ(x) (mpmath)', () => {
    close(logGamma(-2.3), 0.36956666345500744818, 1e-14);
    close(logGamma(-1.5), 0.86004701537648101451, 1e-14); // |Γ(−3/2)| = 4√π/3
    close(digamma(-2.3), 3.3173231575618201233, 1e-13);
    close(digamma(-1.5), 0.70315664064524318723, 1e-13);
    close(digamma(-0.5), 2 - EULER_GAMMA - 2 * Math.LN2, 1e-14); // ψ(−½) = ψ(½) + 2
  });

  it('digamma has poles at 0 and the negative integers (NaN)', () => {
    expect(digamma(0)).toBeNaN();
    expect(digamma(-2)).toBeNaN();
  });
});

describe('logGammaRatio on either side of the switch to the Stirling difference (at 10)', () => {
  it('small y, large y + d: log Γ(11) − log Γ(2) = log 10!', () => {
    close(logGammaRatio(2, 9), Math.log(3_628_800), 1e-15);
  });

  it('large y, small y + d: log Γ(3/2) − log Γ(11) = log(√π/2) − log 10!', () => {
    close(logGammaRatio(11, -9.5), Math.log(Math.sqrt(Math.PI) / 2) - Math.log(3_628_800), 1e-15);
  });
});

describe('log-space sums', () => {
  it('logAddExp is log(eᵃ + eᵇ) whichever argument is larger, and never overflows', () => {
    close(logAddExp(1, 0), Math.log(Math.E + 1), 1e-15);
    close(logAddExp(0, 1), Math.log(Math.E + 1), 1e-15);
    expect(logAddExp(1000, 0)).toBe(1000);
    expect(logAddExp(0, 1000)).toBe(1000);
    // e^−∞ = 0 is neutral, also against itself (−∞ − (−∞) would be NaN).
    expect(logAddExp(Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY)).toBe(Number.NEGATIVE_INFINITY);
    expect(logAddExp(Number.NEGATIVE_INFINITY, 2)).toBe(2);
  });

  it('logSumExp scales by the largest value wherever it stands, and keeps +Infinity', () => {
    expect(logSumExp([1000, 0])).toBe(1000);
    expect(logSumExp([0, 1000, 0])).toBe(1000);
    close(logSumExp([1, 0]), Math.log(Math.E + 1), 1e-15);
    expect(logSumExp([Number.POSITIVE_INFINITY, 0])).toBe(Number.POSITIVE_INFINITY);
    // Every term e^−∞ = 0: log 0.
    expect(logSumExp([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY])).toBe(Number.NEGATIVE_INFINITY);
  });

  it('log1mExp keeps its relative accuracy far from 0: log(1 − e⁻⁵⁰) = −e⁻⁵⁰ (1 + e⁻⁵⁰/2 + …)', () => {
    expect(log1mExp(-50) / -Math.exp(-50)).toBeCloseTo(1, 14);
  });
});

describe('₂F₁ edges', () => {
  it('the reference series refuses |z| ≥ 1 (NaN), where it diverges', () => {
    expect(hyp2f1(1, 1, 2, 1)).toBeNaN();
    expect(hyp2f1(1, 1, 2, -1.5)).toBeNaN();
  });

  it('F(b, c = 1, z) = (1 − z)^(−b) and its derivatives, through the continued fraction (mpmath for ∂F/∂c)', () => {
    const out = new Float64Array(4);
    hyp2f1A1WithDerivatives(0.5, 1, 0.9, out);
    close(out[0], 0.1 ** -0.5, 1e-13);
    close(out[1], -Math.log(0.1) * 0.1 ** -0.5, 1e-12); // ∂/∂b: −log(1 − z)(1 − z)^(−b)
    close(out[2], -4.6353630965245338906, 1e-12);
    close(out[3], 0.5 * 0.1 ** -1.5, 1e-12); // ∂/∂z: b (1 − z)^(−b−1)
  });
});
