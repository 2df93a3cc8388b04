import type { BgNbdParams } from '../../src/models/types.js';

/**
 * BG/NBD where every customer has about the same dropout probability p: the
 * likelihood rises as a, b → ∞ with a/(a+b) → p (DESIGN §3 "CLV").
 *
 * The expected values here come from the model's definition, not from paper
 * eq. (10) that crm evaluates: given alive at T after x repeat purchases,
 * λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x); with rate λ and dropout
 * probability p a customer is still alive s later with probability e^(−λps),
 * so buys ∫₀ᵗ λe^(−λps) ds = (1 − e^(−λpt))/p in t, and over λ
 *
 *   E[Y(t) | alive] = E_p[(1 − (1 + pt/(α+T))^−(r+x)) / p].
 *
 * P(alive) weighs "alive at T", (1−p)^x (α+T)^−(r+x), against "dropped at the
 * last purchase", p(1−p)^(x−1) (α+t_x)^−(r+x) (λ integrated out), averaged
 * over p ~ Beta(a, b). For one fixed p (a, b → ∞) the averages are just the
 * values at p: the closed-form limit.
 */

/** ∫₀¹ p^(s−1) (1−p)^(t−1) g(p) dp up to a factor e^c shared by every call with the same `c`, by Simpson's rule. */
function betaIntegral(s: number, t: number, g: (p: number) => number, c: number, intervals = 20_000): number {
  const h = 1 / intervals;
  let sum = 0;
  for (let i = 1; i < intervals; i++) {
    const p = i * h;
    sum += (i % 2 === 1 ? 4 : 2) * Math.exp((s - 1) * Math.log(p) + (t - 1) * Math.log(1 - p) - c) * g(p);
  }
  return (sum * h) / 3; // the density vanishes at both ends for s, t > 1
}

/** log of the Beta(s, t) density's peak, p^(s−1)(1−p)^(t−1) at its mode: the shared scale of betaIntegral. */
const peak = (s: number, t: number) => {
  const mode = (s - 1) / (s + t - 2);
  return (s - 1) * Math.log(mode) + (t - 1) * Math.log(1 - mode);
};

const ifAlive = (p: number, m: number, u: number) => (1 - Math.pow(1 + p * u, -m)) / p;

/** E[Y(t) | x, t_x, T] by integrating over p numerically. */
export function integrated({ r, alpha, a, b }: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const m = r + x;
  const c = peak(a, b + x);
  const alive = betaIntegral(a, b + x, () => 1, c) * Math.pow(alpha + T, -m);
  const dropped = x > 0 ? betaIntegral(a + 1, b + x - 1, () => 1, c) * Math.pow(alpha + tx, -m) : 0;
  const expected = betaIntegral(a, b + x, (p) => ifAlive(p, m, t / (alpha + T)), c) / betaIntegral(a, b + x, () => 1, c);
  return (alive / (alive + dropped)) * expected;
}

/** P(alive | x, t_x, T) with one fixed p. */
export const aliveFixed = (r: number, alpha: number, p: number, x: number, tx: number, T: number) =>
  x === 0 ? 1 : 1 / (1 + (p / (1 - p)) * Math.pow((alpha + T) / (alpha + tx), r + x));

/** E[Y(t) | x, t_x, T] with one fixed p. */
export const fixedDropout = (r: number, alpha: number, p: number, t: number, x: number, tx: number, T: number) =>
  aliveFixed(r, alpha, p, x, tx, T) * ifAlive(p, r + x, t / (alpha + T));
