/**
 * withDropoutBoundary on a few hand-made histories, without a large fit: the
 * BG/NBD result it is handed is made up here (a + b and a log-likelihood of
 * our choosing), so each of its choices can be forced; the fixed-dropout limit
 * it fits itself is checked against the model's definition written out below.
 */
import { describe, expect, it } from 'vitest';
import { expectedPurchasesIfAliveByDropout, withDropoutBoundary } from '../../src/models/bgNbdLimit.js';
import { compilePurchasePatterns } from '../../src/models/fitting.js';
import { logGamma } from '../../src/models/specialFunctions.js';
import type { BgNbdParams, FitResult } from '../../src/models/types.js';
import { patterns, relativeError } from './cdnowPatterns.js';

/** (x, t_x, T, weight): one-time buyers, recent and long-lapsed repeat buyers. */
const ROWS: [number, number, number, number][] = [
  [0, 0, 30, 12],
  [0, 0, 18, 7],
  [0, 0, 4, 3],
  [1, 2, 30, 4],
  [1, 25, 28, 3],
  [2, 6, 36, 2],
  [2, 20, 22, 5],
  [3, 9, 40, 1],
  [3, 30, 33, 2],
  [4, 12, 12, 1],
  [5, 5, 38, 1],
  [6, 29, 30, 2],
];
const DATA = patterns(ROWS);

/**
 * The fixed-dropout BG/NBD likelihood (every customer drops out with the same
 * p after a purchase), from the model: with rate λ ~ Gamma(r, α) integrated out,
 * L = Γ(r+x) α^r / Γ(r) · [(1−p)^x (α+T)^−(r+x) + [x > 0] p (1−p)^(x−1) (α+t_x)^−(r+x)].
 */
function fixedDropoutLL(r: number, alpha: number, p: number): number {
  let sum = 0;
  for (const [x, tx, T, w] of ROWS) {
    const common = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
    const alive = Math.pow(1 - p, x) * Math.pow(alpha + T, -(r + x));
    const dropped = x > 0 ? p * Math.pow(1 - p, x - 1) * Math.pow(alpha + tx, -(r + x)) : 0;
    sum += w * (common + Math.log(alive + dropped));
  }
  return sum;
}

/** A BG/NBD result as a fit would hand it over, at a + b and log-likelihood of our choosing. */
function bgNbdFit(a: number, b: number, logLikelihood: number): FitResult<BgNbdParams> {
  return Object.freeze({
    params: Object.freeze({ r: 0.7, alpha: 6, a, b }),
    standardErrors: Object.freeze({ r: 0.1, alpha: 1, a: 10, b: 30 }),
    logLikelihood,
    iterations: 17,
    converged: true,
    message: 'BG/NBD: as handed over',
  });
}

/** The 3×3 inverse by cofactors. */
function inverse3(m: number[][]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

describe('withDropoutBoundary', () => {
  const compiled = compilePurchasePatterns(DATA);
  // Called in each test, not once for the file: a mutant (Stryker) is active only while a test runs.
  const boundaryOf = () => withDropoutBoundary(compiled, bgNbdFit(2000, 8000, -1e9));

  it('takes the fixed-dropout limit when it fits better than where the optimiser stopped (a + b > 1000)', () => {
    const atBoundary = boundaryOf();
    expect(atBoundary.converged).toBe(false);
    expect(atBoundary.standardErrors).toBeNull();
    expect(atBoundary.iterations).toBe(17);
    const boundary = atBoundary.boundary!;
    expect(boundary).not.toBeNull();
    const { r, alpha, a, b } = atBoundary.params;
    const p = boundary.dropoutProbability;
    // a + b = 1e15 stands for ∞, split so that a/(a+b) = p.
    expect(relativeError(a + b, 1e15)).toBeLessThan(1e-12);
    expect(relativeError(a / (a + b), p)).toBeLessThan(1e-12);
    // The log-likelihood reported is the limit's, at the parameters reported.
    expect(relativeError(atBoundary.logLikelihood, fixedDropoutLL(r, alpha, p))).toBeLessThan(1e-12);
    expect(boundary.logLikelihood).toBe(atBoundary.logLikelihood);
    expect(boundary.message).toBe(
      `BG/NBD: a and b ran to infinity with a/(a+b) = ${p.toPrecision(3)}: no dropout heterogeneity; predictions use the fixed-dropout limit`,
    );
    expect(atBoundary.message.startsWith(`${boundary.message} (BG/NBD: as handed over; BG/NBD fixed-dropout limit: converged`)).toBe(true);
    expect(Object.isFrozen(atBoundary) && Object.isFrozen(atBoundary.params) && Object.isFrozen(boundary)).toBe(true);
  });

  it('the limit is the maximum of the fixed-dropout likelihood: its gradient in (r, α, p) vanishes there', () => {
    const atBoundary = boundaryOf();
    const { r, alpha } = atBoundary.params;
    const p = atBoundary.boundary!.dropoutProbability;
    const h = 1e-6;
    const slope = [
      (fixedDropoutLL(r * (1 + h), alpha, p) - fixedDropoutLL(r * (1 - h), alpha, p)) / (2 * h),
      (fixedDropoutLL(r, alpha * (1 + h), p) - fixedDropoutLL(r, alpha * (1 - h), p)) / (2 * h),
      (fixedDropoutLL(r, alpha, p * (1 + h)) - fixedDropoutLL(r, alpha, p * (1 - h))) / (2 * h),
    ];
    // θ ∂LL/∂θ against a total weight of 43 customers.
    for (const s of slope) expect(Math.abs(s)).toBeLessThan(1e-5);
    // And a maximum, not any stationary point: 1% either way is lower.
    const best = fixedDropoutLL(r, alpha, p);
    for (const f of [0.99, 1.01]) {
      expect(fixedDropoutLL(r * f, alpha, p)).toBeLessThan(best);
      expect(fixedDropoutLL(r, alpha * f, p)).toBeLessThan(best);
      expect(fixedDropoutLL(r, alpha, p * f)).toBeLessThan(best);
    }
  });

  it("its standard errors are the inverse observed information of (r, α, p) (the delta method's, exact at the maximum)", () => {
    const atBoundary = boundaryOf();
    const { r, alpha } = atBoundary.params;
    const p = atBoundary.boundary!.dropoutProbability;
    const theta = [r, alpha, p];
    const ll = (v: number[]) => fixedDropoutLL(v[0], v[1], v[2]);
    // Second differences, step 1e-4 of each parameter.
    const step = theta.map((v) => 1e-4 * v);
    const at = (i: number, di: number, j: number, dj: number) => {
      const v = [...theta];
      v[i] += di * step[i];
      v[j] += dj * step[j];
      return ll(v);
    };
    const information = theta.map((_, i) =>
      theta.map((__, j) => -(at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * step[i] * step[j])),
    );
    const covariance = inverse3(information);
    const se = atBoundary.boundary!.standardErrors!;
    expect(relativeError(se.r, Math.sqrt(covariance[0][0]))).toBeLessThan(1e-3);
    expect(relativeError(se.alpha, Math.sqrt(covariance[1][1]))).toBeLessThan(1e-3);
    expect(relativeError(se.dropoutProbability, Math.sqrt(covariance[2][2]))).toBeLessThan(1e-3);
  });

  it('keeps the fit when it is at least as good as the limit, allowing 1e-9 of the log-likelihood for rounding', () => {
    const atBoundary = boundaryOf();
    const limit = atBoundary.logLikelihood;
    // Better than the limit by less than the allowance: still the limit.
    const withinRounding = withDropoutBoundary(compiled, bgNbdFit(2000, 8000, limit + 0.5e-9 * Math.abs(limit)));
    expect(withinRounding.boundary?.logLikelihood).toBe(limit);
    // Better by more: the fit, untouched.
    const better = bgNbdFit(2000, 8000, limit + 2e-9 * Math.abs(limit));
    expect(withDropoutBoundary(compiled, better)).toEqual({ ...better, boundary: null });
  });

  it('checks the limit only past a + b = 1000 (a + b, not a − b)', () => {
    const atBoundary = boundaryOf();
    const small = bgNbdFit(400, 600, -1e9);
    const kept = withDropoutBoundary(compiled, small);
    expect(kept).toEqual({ ...small, boundary: null });
    expect(Object.isFrozen(kept)).toBe(true);
    // a = b: a − b = 0, a + b = 1200. The limit's fit starts from odds a/b = 1 here, 1/4 above: the same maximum.
    const equal = withDropoutBoundary(compiled, bgNbdFit(600, 600, -1e9));
    expect(relativeError(equal.boundary!.logLikelihood, atBoundary.logLikelihood)).toBeLessThan(1e-12);
  });
});

describe('expectedPurchasesIfAliveByDropout as a → 0', () => {
  it('tends to (r+x)·t/(α+T), what a customer who never drops out buys, even where the logistic underflows to p = 0', () => {
    // Beta(a, b+x) with a = 1e-300 puts its mass at p → 0: f(0) = (r+x) u, here 2 · 4/4 = 2.
    // Its density in logit p is flat to the left, so the quadrature runs out to p = e^−5000 = 0.
    const out = new Float64Array(1);
    expectedPurchasesIfAliveByDropout({ r: 1, alpha: 2, a: 1e-300, b: 1 }, 1, 2, [4], out);
    expect(Math.abs(out[0] - 2)).toBeLessThan(0.02);
  });
});
