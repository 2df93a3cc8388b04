/**
 * Pareto/NBD's "no purchase" and population predictions against formulas
 * derived here from the model's definition, not from its likelihood code:
 * purchases at rate λ ~ Gamma(r, α) while alive, lifetime τ ~ Exp(μ),
 * μ ~ Gamma(s, β) (Schmittlein, Morrison & Colombo 1987).
 */
import { describe, expect, it } from 'vitest';
import { conditionalProbabilityNoPurchase, expectedPurchases } from '../../src/models/paretoNbd.js';

/** Composite Simpson's rule on [0, t] with `n` (even) intervals. */
function simpson(f: (u: number) => number, t: number, n = 2000): number {
  const h = t / n;
  let sum = f(0) + f(t);
  for (let i = 1; i < n; i++) sum += (i % 2 === 1 ? 4 : 2) * f(i * h);
  return (sum * h) / 3;
}

/**
 * P(no purchase in (0, t]) for a customer with λ ~ Gamma(r, α), μ ~ Gamma(s, β):
 * with the lifetime τ, none happens with probability e^−λ·min(τ, t), so
 * P₀ = E[e^−(λ+μ)t] + ∫₀ᵗ E[μ e^−(λ+μ)τ] dτ
 *    = (α/(α+t))^r (β/(β+t))^s + ∫₀ᵗ (α/(α+τ))^r · s β^s/(β+τ)^(s+1) dτ.
 */
function noPurchase(r: number, alpha: number, s: number, beta: number, t: number): number {
  const survives = (alpha / (alpha + t)) ** r * (beta / (beta + t)) ** s;
  return survives + simpson((u) => (alpha / (alpha + u)) ** r * ((s * beta ** s) / (beta + u) ** (s + 1)), t);
}

/** P(alive | x, t_x, T) when α = β (Fader & Hardie's note on the Pareto/NBD, eq. 18 with α = β). */
function pAliveEqualScales(r: number, s: number, alpha: number, x: number, tx: number, T: number): number {
  return 1 / (1 + (s / (r + s + x)) * (((alpha + T) / (alpha + tx)) ** (r + s + x) - 1));
}

describe('Pareto/NBD conditional probability of no purchase in (T, T+t]', () => {
  // α = β so that P(alive) has the closed form above.
  const params = { r: 0.8, alpha: 6, s: 1.3, beta: 6 };

  it.each([
    { x: 2, tx: 10, T: 30, t: 12 },
    { x: 0, tx: 0, T: 20, t: 5 },
    { x: 7, tx: 39, T: 40, t: 26 },
  ])('is 1 − P(alive) + P(alive)·P₀(t) under the posterior (r+x, α+T, s, β+T) at %o', ({ x, tx, T, t }) => {
    const p = pAliveEqualScales(params.r, params.s, params.alpha, x, tx, T);
    const want = 1 - p + p * noPurchase(params.r + x, params.alpha + T, params.s, params.beta + T, t);
    expect(conditionalProbabilityNoPurchase(params, t, x, tx, T)).toBeCloseTo(want, 10);
  });

  it('is 1 over an empty window, whatever the history', () => {
    expect(conditionalProbabilityNoPurchase(params, 0, 3, 5, 30)).toBe(1);
  });
});

describe('Pareto/NBD expected purchases of a new customer, for several horizons at once', () => {
  it('is rβ/(α(s−1)) · (1 − (β/(β+t))^(s−1)) at each horizon', () => {
    const params = { r: 0.55, alpha: 10.6, s: 0.61, beta: 11.7 };
    const { r, alpha, s, beta } = params;
    const horizons = Float64Array.of(13, 39, 78);
    const got = expectedPurchases(params, horizons);
    expect(got).toBeInstanceOf(Float64Array);
    horizons.forEach((t, i) => expect(got[i]).toBeCloseTo(((r * beta) / (alpha * (s - 1))) * (1 - (beta / (beta + t)) ** (s - 1)), 12));
  });
});
