import { describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood, conditionalExpectedPurchases, conditionalProbabilityAlive, expectedPurchases, fitBgNbd } from '../../src/models/bgNbd.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { loadCdnowCalibration, relativeError, simulateCustomerBase } from './cdnowPatterns.js';

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
function betaIntegral(s: number, t: number, g: (p: number) => number, c: number, intervals = 200_000): number {
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
function integrated({ r, alpha, a, b }: BgNbdParams, t: number, x: number, tx: number, T: number): number {
  const m = r + x;
  const c = peak(a, b + x);
  const alive = betaIntegral(a, b + x, () => 1, c) * Math.pow(alpha + T, -m);
  const dropped = x > 0 ? betaIntegral(a + 1, b + x - 1, () => 1, c) * Math.pow(alpha + tx, -m) : 0;
  const expected = betaIntegral(a, b + x, (p) => ifAlive(p, m, t / (alpha + T)), c) / betaIntegral(a, b + x, () => 1, c);
  return (alive / (alive + dropped)) * expected;
}

/** P(alive | x, t_x, T) with one fixed p. */
const aliveFixed = (r: number, alpha: number, p: number, x: number, tx: number, T: number) =>
  x === 0 ? 1 : 1 / (1 + (p / (1 - p)) * Math.pow((alpha + T) / (alpha + tx), r + x));

/** E[Y(t) | x, t_x, T] with one fixed p. */
const fixedDropout = (r: number, alpha: number, p: number, t: number, x: number, tx: number, T: number) =>
  aliveFixed(r, alpha, p, x, tx, T) * ifAlive(p, r + x, t / (alpha + T));

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

describe('fitBgNbd when everyone has the same dropout probability', () => {
  // Purchases rare enough that few fall on the same day (the simulation counts days, as crm does).
  const truth = { r: 0.8, alpha: 10, p: 0.12 };
  const data = simulateCustomerBase(20_000, 13, truth).patterns;
  const fit = fitBgNbd(data);

  it('reports the a, b → ∞ boundary, not convergence, and fits the fixed-dropout limit', () => {
    expect(fit.converged).toBe(false);
    expect(fit.boundary).not.toBeNull();
    const boundary = fit.boundary!;
    expect(boundary.message).toMatch(/^BG\/NBD: a and b ran to infinity with a\/\(a\+b\) = 0\.1\d\d: no dropout heterogeneity; predictions use the fixed-dropout limit$/);
    expect(fit.message).toContain(boundary.message);
    // The simulated p, r, α, within 4 standard errors.
    const se = boundary.standardErrors!;
    expect(Math.abs(boundary.dropoutProbability - truth.p)).toBeLessThan(4 * se.dropoutProbability);
    expect(Math.abs(fit.params.r - truth.r)).toBeLessThan(4 * se.r);
    expect(Math.abs(fit.params.alpha - truth.alpha)).toBeLessThan(4 * se.alpha);
    expect(fit.params.a / (fit.params.a + fit.params.b)).toBeCloseTo(boundary.dropoutProbability, 12);
    expect(fit.standardErrors).toBeNull();
  });

  it('the likelihood rises along a/(a+b) = p towards the limit, which is the reported one', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    const along = [1e2, 1e4, 1e6, 1e9].map((n) => bgNbdLogLikelihood({ r, alpha, a: n * p, b: n * (1 - p) }, data));
    for (let i = 1; i < along.length; i++) expect(along[i]).toBeGreaterThan(along[i - 1]);
    expect(fit.logLikelihood).toBeGreaterThanOrEqual(along[along.length - 1]);
    expect(fit.logLikelihood - along[along.length - 1]).toBeLessThan(1e-3);
  });

  it('the limit it reports is a maximum: nudging r, α or p lowers the likelihood', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    // a + b = 1e12 is the limit to ~1e-12 (see above): the BG/NBD likelihood of (r, α, p).
    const at = (q: { r: number; alpha: number; p: number }) => bgNbdLogLikelihood({ r: q.r, alpha: q.alpha, a: 1e12 * q.p, b: 1e12 * (1 - q.p) }, data);
    const best = at({ r, alpha, p });
    expect(Math.abs(best - fit.logLikelihood)).toBeLessThan(1e-6);
    for (const step of [1 + 1e-3, 1 - 1e-3]) {
      expect(at({ r: r * step, alpha, p })).toBeLessThan(best);
      expect(at({ r, alpha: alpha * step, p })).toBeLessThan(best);
      expect(at({ r, alpha, p: p * step })).toBeLessThan(best);
    }
  });

  it('predicts with the fixed-dropout limit for every pattern', () => {
    const { r, alpha } = fit.params;
    const p = fit.boundary!.dropoutProbability;
    const predicted = conditionalExpectedPurchases(fit.params, 52, data.frequency, data.recency, data.T);
    for (let i = 0; i < predicted.length; i++) {
      expect(relativeError(predicted[i], fixedDropout(r, alpha, p, 52, data.frequency[i], data.recency[i], data.T[i]))).toBeLessThan(1e-9);
    }
  });

  it('an interior optimum (CDNOW) has no boundary', () => {
    const cdnow = fitBgNbd(loadCdnowCalibration().patterns);
    expect(cdnow.converged).toBe(true);
    expect(cdnow.boundary).toBeNull();
  });
});
