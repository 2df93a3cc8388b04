/**
 * BG/NBD when (nearly) every customer has the same dropout probability.
 *
 * Given alive at T after x repeat purchases, λ ~ Gamma(r+x, α+T) and
 * p ~ Beta(a, b+x), independently. A customer with rate λ and dropout
 * probability p is still alive at time s after T with probability
 * E[(1−p)^N(s)] = e^(−λps), so they buy ∫₀ᵗ λ e^(−λps) ds = (1 − e^(−λpt))/p
 * times in (T, T+t], and averaging over λ:
 *
 *   E[Y(t) | alive, x, T] = E_p[ f(p) ],  f(p) = (1 − (1 + p·u)^−(r+x)) / p,  u = t/(α+T).
 *
 * With a, b → ∞ and a/(a+b) → p the Beta collapses onto p and this is f(p):
 * the fixed-dropout limit. It is also the limit of paper eq. (10): there
 * (a+b+x−1)/(a−1) → 1/p and ₂F₁(r+x, b+x; a+b+x−1; z) → Σ_k (r+x)_k ((1−p)z)ᵏ/k!
 * = (1 − (1−p)z)^−(r+x) with z = t/(α+T+t), so ((α+T)/(α+T+t))^(r+x) ₂F₁ →
 * ((1−z)/(1−z+pz))^(r+x) = (1 + pu)^−(r+x).
 *
 * For large a (where paper eq. (10)'s series needs ~a terms and overflows)
 * E_p[f(p)] is integrated over η = logit p, where the Beta(a, b+x) density
 * ∝ e^(aη)/(1+e^η)^(a+b+x) is smooth, log-concave and fast-decaying: the
 * trapezoid rule converges geometrically.
 *
 * The fit side: the likelihood of the same limit (A₂ → x log(1−p), a/(b+x−1)
 * → p/(1−p)) fitted in (r, α, p/(1−p)), to tell a fit that ran to that
 * boundary from an interior optimum.
 */
import { fitLogSpace, subsamplePurchasePatterns, type CompiledPatterns, type LogSpaceFit } from './fitting.js';
import { digamma, logGamma } from './specialFunctions.js';
import type { BgNbdFitResult, BgNbdParams, FitResult } from './types.js';

/** Past this a + b the Beta spread changes predictions by < ~1e-12 relatively: the closed-form limit is exact in doubles. */
const LIMIT_SIZE = 1e13;
/** a + b reported for a fit at the boundary: a stand-in for ∞ that every BG/NBD formula evaluates as the limit. */
const BOUNDARY_SIZE = 1e15;
/** Quadrature nodes beyond e^−40 of the density's peak add nothing. */
const TAIL = 40;
/** Upper bound of quadrature nodes per side: only a Beta(a, b+x) with b + x ≪ 1 comes near it. */
const MAX_NODES = 20_000;

/** f(p) = (1 − (1+pu)^−m)/p for each u, written to out; m·u at p = 0. */
function fixedDropoutIfAlive(p: number, m: number, u: ArrayLike<number>, out: Float64Array): void {
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let h = 0; h < u.length; h++) {
    const v = u[h];
    // Stryker disable next-line EqualityOperator: at v = 0 the formula below gives 0 too (m·0, or −expm1(0)/p)
    if (!(v > 0)) out[h] = 0;
    // Stryker disable next-line ConditionalExpression: at v = ∞ the formula below gives 1/p too (−expm1(−∞)/p; m·∞ = 1/0 at p = 0)
    else if (v === Number.POSITIVE_INFINITY) out[h] = 1 / p;
    else out[h] = p === 0 ? m * v : -Math.expm1(-m * Math.log1p(p * v)) / p;
  }
}

/**
 * E[Y(t) | alive at T, x, T] for each t in `times`, by integrating over the
 * dropout probability (see above); for a + b beyond LIMIT_SIZE, the
 * closed-form fixed-dropout limit at p = a/(a+b+x). Stable for any a, b.
 */
export function expectedPurchasesIfAliveByDropout(params: BgNbdParams, x: number, T: number, times: ArrayLike<number>, out: Float64Array): void {
  const { r, alpha, a, b } = params;
  const H = times.length;
  const m = r + x;
  const bx = b + x;
  const n = a + bx;
  const u = new Float64Array(H);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let h = 0; h < H; h++) u[h] = times[h] / (alpha + T);
  // Stryker disable next-line EqualityOperator: at n = LIMIT_SIZE the closed form and the quadrature agree (the switch point)
  if (n >= LIMIT_SIZE) {
    fixedDropoutIfAlive(a / n, m, u, out);
    return;
  }
  // log density relative to its mode η̂ = log(a/(b+x)): aδ − n log1p(p̂ (e^δ − 1)), p̂ = a/n.
  const pMode = a / n;
  const etaMode = Math.log(a) - Math.log(bx);
  const logWeight = (delta: number) => a * delta - n * Math.log1p(pMode * Math.expm1(delta));
  const step = Math.min(0.25, Math.sqrt(1 / a + 1 / bx) / 4);
  const f = new Float64Array(H);
  const sum = new Float64Array(H);
  let total = 0;
  const add = (delta: number): number => {
    const lw = logWeight(delta);
    const w = Math.exp(lw);
    const eta = etaMode + delta;
    fixedDropoutIfAlive(eta >= 0 ? 1 / (1 + Math.exp(-eta)) : Math.exp(eta) / (1 + Math.exp(eta)), m, u, f);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let h = 0; h < H; h++) sum[h] += w * f[h];
    total += w;
    return lw;
  };
  add(0);
  for (const side of [1, -1]) {
    for (let k = 1; k <= MAX_NODES; k++) if (add(side * k * step) < -TAIL) break;
  }
  // The same rule integrates the density itself: no normalising constant needed.
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let h = 0; h < H; h++) out[h] = times[h] === Number.POSITIVE_INFINITY ? (a > 1 ? (n - 1) / (a - 1) : Number.POSITIVE_INFINITY) : sum[h] / total;
}

/**
 * Weighted log-likelihood of the fixed-dropout limit and its gradient w.r.t.
 * (log r, log α, log ρ), ρ = p/(1−p): the BG/NBD one (bgNbd.ts) with
 * A₂ = −x log1p(ρ) and A₄ = log ρ − (r+x) log(α+t_x).
 */
export function fixedDropoutLogLikelihood(data: CompiledPatterns): (theta: Float64Array, gradient: Float64Array) => number {
  const { xValues, blockStart, weight, times, TIndex, recencyIndex } = data;
  // log(α+τ) and 1/(α+τ) once per distinct time, not per pattern.
  const logTime = new Float64Array(times.length);
  const invTime = new Float64Array(times.length);
  return (theta, gradient) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const rho = Math.exp(theta[2]);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < times.length; k++) {
      logTime[k] = Math.log(alpha + times[k]);
      invTime[k] = 1 / (alpha + times[k]);
    }
    const logAlpha = Math.log(alpha);
    const logRho = Math.log(rho);
    const log1pRho = Math.log1p(rho);
    const lgR = logGamma(r);
    const psiR = digamma(r);
    let ll = 0;
    let gr = 0;
    let galpha = 0;
    let grho = 0;
    // Stryker disable next-line EqualityOperator: `<=` adds a pass whose block is empty (blockStart[j + 1] is undefined, so i < undefined is false)
    for (let j = 0; j < xValues.length; j++) {
      const x = xValues[j];
      const m = r + x;
      const lgM = logGamma(m) - lgR;
      const psiM = digamma(m) - psiR;
      for (let i = blockStart[j]; i < blockStart[j + 1]; i++) {
        const w = weight[i];
        const kT = TIndex[i];
        const kR = recencyIndex[i];
        const lT = logTime[kT];
        const lR = logTime[kR];
        // log(e^A₃ + e^A₄) = A₃ + log1p(e), e = e^(A₄−A₃); P₄ = e/(1+e).
        const d = x > 0 ? logRho - m * (lR - lT) : Number.NEGATIVE_INFINITY;
        const p4 = d > 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d));
        const p3 = 1 - p4;
        const mix = d > 0 ? d + Math.log1p(Math.exp(-d)) : Math.log1p(Math.exp(d));
        ll += w * (lgM + r * logAlpha - x * log1pRho - m * lT + mix);
        gr += w * (psiM + logAlpha - p3 * lT - p4 * lR);
        galpha += w * (r / alpha - m * (p3 * invTime[kT] + p4 * invTime[kR]));
        grho += w * (p4 / rho - x / (1 + rho));
      }
    }
    gradient[0] = gr * r;
    gradient[1] = galpha * alpha;
    gradient[2] = grho * rho;
    return ll;
  };
}

/** The fixed-dropout limit fitted from (r, α, ρ) = `start`, warm-started on a subsample for large data as the BG/NBD fit is. */
function fitFixedDropout(data: CompiledPatterns, start: { r: number; alpha: number; odds: number }): LogSpaceFit {
  const sample = subsamplePurchasePatterns(data);
  return fitLogSpace({
    model: 'BG/NBD fixed-dropout limit',
    names: ['r', 'alpha', 'odds'],
    logLikelihood: fixedDropoutLogLikelihood(data),
    totalWeight: data.totalWeight,
    warmStart: sample && { logLikelihood: fixedDropoutLogLikelihood(sample), totalWeight: sample.totalWeight },
    initial: [start.r, start.alpha, start.odds],
  });
}

/** The fixed-dropout limit's (r, α, ρ = p/(1−p)) as BG/NBD parameters: a/b = ρ, a + b = BOUNDARY_SIZE standing for ∞. */
export function boundaryParams(r: number, alpha: number, odds: number): BgNbdParams {
  return Object.freeze({ r, alpha, a: (odds / (1 + odds)) * BOUNDARY_SIZE, b: BOUNDARY_SIZE / (1 + odds) });
}

/** Past this a + b a fit may be heading to the a, b → ∞ boundary: check against the fixed-dropout limit. */
const BOUNDARY_CHECK_SIZE = 1e3;

/**
 * The fit, or, when the fixed-dropout limit (a, b → ∞, a/(a+b) = p) fits at
 * least as well as where the optimiser stopped, that limit: the likelihood
 * rises towards it, so no finite a, b is the maximum. Reported as not
 * converged, with the boundary named; the limit's parameters stand in (a + b
 * = BOUNDARY_SIZE), so every prediction evaluates the limit.
 */
export function withDropoutBoundary(compiled: CompiledPatterns, fit: FitResult<BgNbdParams>): BgNbdFitResult {
  const { r, alpha, a, b } = fit.params;
  if (!(a + b > BOUNDARY_CHECK_SIZE)) return Object.freeze({ ...fit, boundary: null });
  const limit = fitFixedDropout(compiled, { r, alpha, odds: a / b });
  // An interior optimum beats its own limit; allow for rounding in the two sums.
  if (!limit.converged || !(limit.logLikelihood >= fit.logLikelihood - 1e-9 * Math.abs(fit.logLikelihood))) return Object.freeze({ ...fit, boundary: null });
  const [limitR, limitAlpha, odds] = limit.params;
  const p = odds / (1 + odds);
  const se = limit.standardErrors;
  const message = `BG/NBD: a and b ran to infinity with a/(a+b) = ${p.toPrecision(3)}: no dropout heterogeneity; predictions use the fixed-dropout limit`;
  return Object.freeze({
    params: boundaryParams(limitR, limitAlpha, odds),
    standardErrors: null,
    logLikelihood: limit.logLikelihood,
    iterations: fit.iterations,
    converged: false,
    message: `${message} (${fit.message}; ${limit.message})`,
    boundary: Object.freeze({
      dropoutProbability: p,
      standardErrors: se && Object.freeze({ r: se[0], alpha: se[1], dropoutProbability: se[2] / (1 + odds) ** 2 }),
      logLikelihood: limit.logLikelihood,
      message,
    }),
  });
}
