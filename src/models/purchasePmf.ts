/**
 * P(X(t) = x): the probability that a new customer makes exactly x repeat
 * purchases in (0, t], and the calibration-period check built on it
 * (lifetimes' `plot_period_transactions`, BTYD's `*.PlotFrequencyInCalibration`):
 * the number of customers expected at each repeat-purchase count, summed over
 * every customer's own T.
 *
 * With NBD(j; t) = Γ(r+j)/(Γ(r) j!) (α/(α+t))^r (t/(α+t))^j, the probability
 * of j Poisson purchases in (0, t] for a customer who never drops out:
 *
 * - BG/NBD (Fader, Hardie & Lee 2005, eq. 8):
 *   P(X(t)=x) = B(a, b+x)/B(a, b) NBD(x) + [x > 0] B(a+1, b+x−1)/B(a, b) (1 − Σ_{j<x} NBD(j))
 * - MBG/NBD (a dropout chance also right after the first purchase):
 *   P(X(t)=x) = B(a, b+x+1)/B(a, b) NBD(x) + B(a+1, b+x)/B(a, b) (1 − Σ_{j<x} NBD(j))
 *   (the same derivation: alive after the x-th repeat purchase with
 *   probability (1−p)^(x+1), dropped at it with p(1−p)^x).
 * - Pareto/NBD: the lifetime τ is Pareto II, P(τ > t) = (β/(β+t))^s, and
 *   independent of λ, so P(X(t)=x) = (β/(β+t))^s NBD(x; t) + ∫₀ᵗ f(τ) NBD(x; τ) dτ.
 *   The integral (smooth on [0, t]) is taken by Gauss–Legendre quadrature on
 *   panels graded towards 0; deterministic, and checked against the closed
 *   forms of P(X(t)=0) and E[X(t)] in the tests. (The ₂F₁ closed form of
 *   Fader & Hardie's note 012 loses precision for large t; the quadrature does not.)
 *
 * The Beta ratios go through log Γ ratios, so a BG/NBD fit at its a, b → ∞
 * boundary (a + b = 1e15 standing for ∞) evaluates as the fixed-dropout limit.
 */
import { logGammaRatio } from './specialFunctions.js';
import type { BgNbdParams, ParetoNbdParams } from './types.js';

/** NBD(0..maxX; t) by the recursion NBD(j+1) = NBD(j) (r+j)/(j+1) · t/(α+t). */
function nbdPmf(r: number, alpha: number, t: number, maxX: number, out: Float64Array): void {
  let p = Math.exp(-r * Math.log1p(t / alpha));
  const ratio = t / (alpha + t);
  for (let j = 0; j <= maxX; j++) {
    out[j] = p;
    p *= ((r + j) / (j + 1)) * ratio;
  }
}

/** P(X(t) = x) for x = 0..maxX under BG/NBD (`modified` = false) or MBG/NBD (true). */
function betaGeometricPmf(params: BgNbdParams, t: number, maxX: number, modified: boolean): Float64Array {
  const { r, alpha, a, b } = params;
  const out = new Float64Array(maxX + 1);
  // Stryker disable next-line EqualityOperator: at t = 0 the formula below gives the same [1, 0, …] (NBD(0; 0) = 1, NBD(j > 0; 0) = 0; MBG/NBD's P(X = 0) as b/(a+b) + a/(a+b), to an ulp)
  if (!(t > 0)) {
    // Nothing can happen in an empty period.
    out[0] = 1;
    return out;
  }
  const nbd = new Float64Array(maxX + 1);
  nbdPmf(r, alpha, t, maxX, nbd);
  const shift = modified ? 1 : 0;
  const logA = Math.log(a);
  let below = 0; // Σ_{j<x} NBD(j)
  for (let x = 0; x <= maxX; x++) {
    // B(a, b+x+shift)/B(a, b) = Γ(b+x+shift)/Γ(b) · Γ(a+b)/Γ(a+b+x+shift)
    const alive = Math.exp(logGammaRatio(b, x + shift) - logGammaRatio(a + b, x + shift)) * nbd[x];
    let dropped = 0;
    if (x + shift > 0) {
      // B(a+1, b+x+shift−1)/B(a, b) = a · Γ(b+x+shift−1)/Γ(b) · Γ(a+b)/Γ(a+b+x+shift)
      const weight = Math.exp(logA + logGammaRatio(b, x + shift - 1) - logGammaRatio(a + b, x + shift));
      dropped = weight * Math.max(0, 1 - below);
    }
    out[x] = alive + dropped;
    below += nbd[x];
  }
  return out;
}

/** BG/NBD P(X(t) = x), x = 0..maxX (BTYD `bgnbd.pmf`, lifetimes `probability_of_n_purchases_up_to_time`). */
export function bgNbdPmf(params: BgNbdParams, t: number, maxX: number): Float64Array {
  return betaGeometricPmf(params, t, maxX, false);
}

/** MBG/NBD P(X(t) = x), x = 0..maxX. */
export function mbgNbdPmf(params: BgNbdParams, t: number, maxX: number): Float64Array {
  return betaGeometricPmf(params, t, maxX, true);
}

// 16-point Gauss–Legendre nodes and weights on [−1, 1] (positive half; symmetric).
const GL_X = [
  0.0950125098376374, 0.2816035507792589, 0.4580167776572274, 0.6178762444026438, 0.755404408355003, 0.8656312023878318,
  0.9445750230732326, 0.9894009349916499,
];
const GL_W = [
  0.1894506104550685, 0.1826034150449236, 0.1691565193950025, 0.1495959888165767, 0.1246289712555339, 0.0951585116824928,
  0.0622535239386479, 0.0271524594117541,
];
/** Panels of the quadrature; edges t·(k/PANELS)³ crowd towards 0, where NBD(x; τ) changes fastest. */
const PANELS = 48;

/** Pareto/NBD P(X(t) = x), x = 0..maxX (BTYD `pnbd.pmf`), by quadrature over the lifetime (see the file comment). */
export function paretoNbdPmf(params: ParetoNbdParams, t: number, maxX: number): Float64Array {
  const { r, alpha, s, beta } = params;
  const out = new Float64Array(maxX + 1);
  // Stryker disable next-line EqualityOperator: at t = 0 the code below gives the same [1, 0, …] (NBD(0; 0) = 1, NBD(j > 0; 0) = 0, and every quadrature panel has width 0)
  if (!(t > 0)) {
    out[0] = 1;
    return out;
  }
  const nbd = new Float64Array(maxX + 1);
  // Alive through the whole period: (β/(β+t))^s NBD(x; t).
  nbdPmf(r, alpha, t, maxX, nbd);
  const survive = Math.exp(-s * Math.log1p(t / beta));
  for (let x = 0; x <= maxX; x++) out[x] = survive * nbd[x];
  // Died at τ ∈ (0, t]: density s/β (β/(β+τ))^(s+1).
  const logDensity0 = Math.log(s / beta);
  const add = (tau: number, w: number) => {
    nbdPmf(r, alpha, tau, maxX, nbd);
    const density = Math.exp(logDensity0 - (s + 1) * Math.log1p(tau / beta));
    for (let x = 0; x <= maxX; x++) out[x] += w * density * nbd[x];
  };
  for (let k = 0; k < PANELS; k++) {
    const lo = t * (k / PANELS) ** 3;
    const hi = t * ((k + 1) / PANELS) ** 3;
    const half = (hi - lo) / 2;
    const mid = (hi + lo) / 2;
    for (let i = 0; i < GL_X.length; i++) {
      add(mid - half * GL_X[i], half * GL_W[i]);
      add(mid + half * GL_X[i], half * GL_W[i]);
    }
  }
  return out;
}

/** A purchase model's P(X(t) = 0..maxX). */
export type PurchasePmf = (t: number, maxX: number) => Float64Array;

/**
 * Customers by repeat purchases in the calibration period, actual against
 * expected: each customer's count under the model is X(T) for their own T,
 * so expected[x] = Σ_customers P(X(T_i) = x) for x < top, and the last bucket
 * (x ≥ top, "7+") holds the rest of every customer's probability. Patterns
 * with the same T share one pmf evaluation.
 */
export function periodTransactions(
  pmf: PurchasePmf | null,
  patterns: { readonly frequency: ArrayLike<number>; readonly T: ArrayLike<number>; readonly weight: ArrayLike<number> },
  top = 7,
): { repeatPurchases: string; actual: number; expected: number | null }[] {
  const actual = new Array<number>(top + 1).fill(0);
  const byT = new Map<number, number>();
  for (let i = 0; i < patterns.frequency.length; i++) {
    const w = patterns.weight[i];
    actual[Math.min(patterns.frequency[i], top)] += w;
    byT.set(patterns.T[i], (byT.get(patterns.T[i]) ?? 0) + w);
  }
  let expected: number[] | null = null;
  if (pmf) {
    expected = new Array<number>(top + 1).fill(0);
    // In increasing T, so that the sums are added in one order whatever the pattern order.
    for (const T of [...byT.keys()].sort((u, v) => u - v)) {
      const w = byT.get(T)!;
      // Stryker disable next-line ArithmeticOperator: `top + 1` only tabulates two more x, never read; P(X = x) does not depend on maxX
      const p = pmf(T, top - 1);
      let rest = 1;
      for (let x = 0; x < top; x++) {
        expected[x] += w * p[x];
        rest -= p[x];
      }
      expected[top] += w * Math.max(0, rest);
    }
  }
  return actual.map((n, x) => ({ repeatPurchases: x === top ? `${top}+` : String(x), actual: n, expected: expected ? expected[x] : null }));
}
