/**
 * Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): while alive a
 * customer buys at Poisson rate λ ~ Gamma(r, α) and dies after an
 * exponential lifetime with rate μ ~ Gamma(s, β).
 *
 * Likelihood of a pattern (x, t_x, T) (Fader & Hardie 2005, note 009 eq. 18):
 *
 *   L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s·J ]
 *   J = ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ = I(t_x) − I(T)
 *
 * (the second term integrates over the death time τ ∈ (t_x, T]). lifetimes
 * writes s·J with Gauss's ₂F₁(r+s+x, ·; r+s+x+1; z), whose series overflows
 * for large x. We apply Euler's transformation instead:
 *
 *   I(y) = (big+y)^−e_big (small+y)^(1−e_small) / (r+s+x) · F(e_big, r+s+x+1, z),
 *   z = |α−β| / (max(α,β) + y),   F(b, c, z) = ₂F₁(1, b; c; z) ∈ [1, 1/(1−z)]
 *
 * where (big, e_big, small, e_small) = (β, s+1, α, r+x) if α ≤ β and
 * (α, r+x, β, s+1) otherwise. Both choices are exact, so the switch at α = β
 * leaves no kink in the likelihood or its gradient. Everything is combined
 * in log space; J = I(t_x)(1 − e^(log I(T) − log I(t_x))) via log1mExp.
 */
import {
  compilePurchasePatterns,
  perHistory,
  positiveParameters,
  type CompiledPatterns,
  fitPurchaseModel,
  type PurchaseModel,
} from './fitting.js';
import { digamma, expm1Ratio, hyp2f1A1WithDerivatives, logGamma } from './specialFunctions.js';
import type { FitOptions, FitResult, ParetoNbdParams, PurchasePatterns } from './types.js';

const PARAMETERS = positiveParameters('Pareto/NBD', ['r', 'alpha', 's', 'beta']);
const checkParams = PARAMETERS.check;

/** Entries per cached tail: log I(y) and its gradient w.r.t. (r, α, s, β). */
const TAIL = 5;

/**
 * log I(y) and its gradient w.r.t. (r, α, s, β), written to out[offset .. offset+4].
 * logAlphaY = log(α+y), invAlphaY = 1/(α+y), likewise for β; `hyp` is scratch.
 */
function logTail(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  logAlphaY: number,
  logBetaY: number,
  invAlphaY: number,
  invBetaY: number,
  hyp: Float64Array,
  out: Float64Array,
  offset: number,
): void {
  const rsx = r + s + x;
  const invRsx = 1 / rsx;
  if (alpha <= beta) {
    const z = (beta - alpha) * invBetaY;
    hyp2f1A1WithDerivatives(s + 1, rsx + 1, z, hyp);
    const F = hyp[0];
    const Fb = hyp[1] / F;
    const Fc = hyp[2] / F;
    const Fz = hyp[3] / F;
    out[offset] = -(s + 1) * logBetaY + (1 - r - x) * logAlphaY - Math.log(rsx) + Math.log(F);
    out[offset + 1] = -logAlphaY - invRsx + Fc;
    out[offset + 2] = (1 - r - x) * invAlphaY - Fz * invBetaY;
    out[offset + 3] = -logBetaY - invRsx + Fb + Fc;
    out[offset + 4] = -(s + 1) * invBetaY + Fz * (1 - z) * invBetaY;
  } else {
    const z = (alpha - beta) * invAlphaY;
    hyp2f1A1WithDerivatives(r + x, rsx + 1, z, hyp);
    const F = hyp[0];
    const Fb = hyp[1] / F;
    const Fc = hyp[2] / F;
    const Fz = hyp[3] / F;
    out[offset] = -(r + x) * logAlphaY - s * logBetaY - Math.log(rsx) + Math.log(F);
    out[offset + 1] = -logAlphaY - invRsx + Fb + Fc;
    out[offset + 2] = -(r + x) * invAlphaY + Fz * (1 - z) * invAlphaY;
    out[offset + 3] = -logBetaY - invRsx + Fc;
    out[offset + 4] = -s * invBetaY - Fz * invAlphaY;
  }
}

/**
 * Sweeps compiled patterns: evaluates every bracket, caching log I(y) per
 * (frequency, distinct time) — patterns are sorted by frequency, and within
 * one frequency most times recur across patterns, so the hypergeometric
 * functions are evaluated once per pair instead of twice per pattern.
 */
class Sweeper {
  private readonly logAlphaT: Float64Array;
  private readonly logBetaT: Float64Array;
  private readonly invAlphaT: Float64Array;
  private readonly invBetaT: Float64Array;
  private readonly tails: Float64Array;
  private readonly mark: Int32Array;
  private readonly hyp = new Float64Array(4);
  private stamp = 0;

  constructor(private readonly data: CompiledPatterns) {
    const nt = data.times.length;
    this.logAlphaT = new Float64Array(nt);
    this.logBetaT = new Float64Array(nt);
    this.invAlphaT = new Float64Array(nt);
    this.invBetaT = new Float64Array(nt);
    this.tails = new Float64Array(nt * TAIL);
    this.mark = new Int32Array(nt);
  }

  /**
   * The bracket of pattern i is log[(α+T)^−(r+x) (β+T)^−s + s·J] = log L − log(Γ(r+x) α^r β^s / Γ(r)).
   * Returns Σ w · bracket; adds Σ w · ∂bracket/∂(r, α, s, β) into `gradient` when given,
   * and writes P(alive) (the share of the alive-at-T term) per compiled pattern into `pAlive` when given.
   *
   * The per-pattern combination is written inline: a helper taking a dozen
   * doubles would box each of them on the heap on every call.
   */
  run(r: number, alpha: number, s: number, beta: number, gradient: Float64Array | null, pAlive: Float64Array | null): number {
    const { times, xValues, blockStart, TIndex, recencyIndex, weight } = this.data;
    const { logAlphaT, logBetaT, invAlphaT, invBetaT, tails, mark, hyp } = this;
    const nt = times.length;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < nt; k++) {
      const a = alpha + times[k];
      const b = beta + times[k];
      logAlphaT[k] = Math.log(a);
      logBetaT[k] = Math.log(b);
      invAlphaT[k] = 1 / a;
      invBetaT[k] = 1 / b;
    }
    const withGradient = gradient !== null;
    const logS = Math.log(s);
    let sum = 0;
    let compensation = 0; // Neumaier: see bgNbd.ts
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let g3 = 0;
    for (let j = 0; j < xValues.length; j++) {
      const x = xValues[j];
      const m = r + x;
      // A fresh stamp per (sweep, frequency) invalidates the cached tails.
      this.stamp = this.stamp === 0x7fffffff ? 1 : this.stamp + 1;
      const stamp = this.stamp;
      for (let i = blockStart[j], end = blockStart[j + 1]; i < end; i++) {
        const w = weight[i];
        const kT = TIndex[i];
        const kR = recencyIndex[i];
        const lAT = logAlphaT[kT];
        const lBT = logBetaT[kT];
        // Alive at T: l₁ = −(r+x) log(α+T) − s log(β+T).
        const l1 = -m * lAT - s * lBT;
        let delta = 0; // log I(T) − log I(t_x) < 0
        if (kT !== kR) {
          if (mark[kR] !== stamp) {
            logTail(r, alpha, s, beta, x, logAlphaT[kR], logBetaT[kR], invAlphaT[kR], invBetaT[kR], hyp, tails, kR * TAIL);
            mark[kR] = stamp;
          }
          if (mark[kT] !== stamp) {
            logTail(r, alpha, s, beta, x, lAT, lBT, invAlphaT[kT], invBetaT[kT], hyp, tails, kT * TAIL);
            mark[kT] = stamp;
          }
          delta = tails[kT * TAIL] - tails[kR * TAIL];
        }
        let bracket: number;
        let q1 = 1; // share of the alive term = P(alive)
        let q2 = 0; // share of the died-in-(t_x, T] term
        let qI = 0; // q₂ / (1 − e^Δ)
        let eDelta = 0;
        if (!(delta < 0)) {
          // t_x = T (or so close that J underflows): no room to die after the last purchase.
          bracket = l1;
        } else {
          // J = I(t_x)(1 − e^Δ), with 1 − e^Δ from expm1 when Δ is near 0.
          eDelta = Math.exp(delta);
          const oneMinusEDelta = delta > -Math.LN2 ? -Math.expm1(delta) : 1 - eDelta;
          const logSJ = logS + tails[kR * TAIL] + Math.log(oneMinusEDelta); // log(s J)
          // log(e^l₁ + e^logSJ) with one exp: the larger term is 1 after scaling.
          let e1 = 1;
          let e2 = 1;
          if (logSJ > l1) e1 = Math.exp(l1 - logSJ);
          else e2 = Math.exp(logSJ - l1);
          const W = e1 + e2;
          bracket = (logSJ > l1 ? logSJ : l1) + Math.log(W);
          q1 = e1 / W;
          q2 = e2 / W;
          // q₂ ∂log(sJ) = q₂/s ∂s + q₂/(1 − e^Δ) (∂log I(t_x) − e^Δ ∂log I(T)):
          // the ratio stays finite as J → 0 (both factors vanish together).
          qI = q2 / oneMinusEDelta;
        }
        const v = w * bracket;
        const t = sum + v;
        compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
        sum = t;
        if (pAlive) pAlive[i] = q1;
        if (withGradient) {
          const oR = kR * TAIL;
          const oT = kT * TAIL;
          const wq1 = w * q1;
          g0 -= wq1 * lAT;
          g1 -= wq1 * m * invAlphaT[kT];
          g2 -= wq1 * lBT;
          g3 -= wq1 * s * invBetaT[kT];
          if (qI !== 0) {
            const wqI = w * qI;
            g0 += wqI * (tails[oR + 1] - eDelta * tails[oT + 1]);
            g1 += wqI * (tails[oR + 2] - eDelta * tails[oT + 2]);
            g2 += wqI * (tails[oR + 3] - eDelta * tails[oT + 3]) + (w * q2) / s;
            g3 += wqI * (tails[oR + 4] - eDelta * tails[oT + 4]);
          }
        }
      }
    }
    if (gradient) {
      gradient[0] += g0;
      gradient[1] += g1;
      gradient[2] += g2;
      gradient[3] += g3;
    }
    return sum + compensation;
  }
}

function makeLogLikelihood(data: CompiledPatterns): (theta: Float64Array, gradient: Float64Array) => number {
  const { xValues, xWeight } = data;
  const sweeper = new Sweeper(data);
  const natural = new Float64Array(4);
  return (theta, gradient) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const s = Math.exp(theta[2]);
    const beta = Math.exp(theta[3]);
    natural.fill(0);
    let ll = sweeper.run(r, alpha, s, beta, natural, null);
    // Γ(r+x) α^r β^s / Γ(r): per frequency, not per pattern.
    const lgR = logGamma(r);
    const psiR = digamma(r);
    const logAlpha = Math.log(alpha);
    const logBeta = Math.log(beta);
    let W = 0;
    for (let j = 0; j < xValues.length; j++) {
      const x = xValues[j];
      W += xWeight[j];
      if (x === 0) continue;
      ll += xWeight[j] * (logGamma(r + x) - lgR);
      natural[0] += xWeight[j] * (digamma(r + x) - psiR);
    }
    ll += W * (r * logAlpha + s * logBeta);
    gradient[0] = (natural[0] + W * logAlpha) * r;
    gradient[1] = (natural[1] + (W * r) / alpha) * alpha;
    gradient[2] = (natural[2] + W * logBeta) * s;
    gradient[3] = (natural[3] + (W * s) / beta) * beta;
    return ll;
  };
}

/** Weighted sum of the per-pattern log-likelihoods. */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, data: PurchasePatterns): number {
  return PARAMETERS.valueAt(makeLogLikelihood(compilePurchasePatterns(data, 'Pareto/NBD')), params);
}

/** Gradient of {@link paretoNbdLogLikelihood} w.r.t. the log-parameters: ∂LL/∂log θ = θ ∂LL/∂θ. */
export function paretoNbdLogLikelihoodGradient(params: ParetoNbdParams, data: PurchasePatterns): ParetoNbdParams {
  return PARAMETERS.gradientAt(makeLogLikelihood(compilePurchasePatterns(data, 'Pareto/NBD')), params);
}

/** Bracket and P(alive) of one history (x, t_x, T): a sweep over a single pattern. */
function evaluatePattern(p: ParetoNbdParams, x: number, recency: number, T: number): { logValue: number; pAlive: number } {
  const one = (v: number) => Float64Array.of(v);
  const compiled = compilePurchasePatterns({ frequency: one(x), recency: one(recency), T: one(T), weight: one(1) }, 'Pareto/NBD');
  const pAlive = new Float64Array(1);
  const logValue = new Sweeper(compiled).run(p.r, p.alpha, p.s, p.beta, null, pAlive);
  return { logValue, pAlive: pAlive[0] };
}

/** P(alive) of many histories at once, through a cached sweep (input order preserved). */
function pAliveMany(params: ParetoNbdParams, frequency: Float64Array, recency: Float64Array, T: Float64Array): Float64Array {
  const compiled = compilePurchasePatterns({ frequency, recency, T, weight: new Float64Array(frequency.length).fill(1) }, 'Pareto/NBD');
  const sorted = new Float64Array(compiled.count);
  new Sweeper(compiled).run(params.r, params.alpha, params.s, params.beta, null, sorted);
  const out = new Float64Array(frequency.length);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < compiled.count; i++) out[compiled.source[i]] = sorted[i];
  return out;
}

/** Log-likelihood of a single customer history (x, t_x, T). */
export function paretoNbdPatternLogLikelihood(params: ParetoNbdParams, frequency: number, recency: number, T: number): number {
  checkParams(params);
  const { r, alpha, s, beta } = params;
  return logGamma(r + frequency) - logGamma(r) + r * Math.log(alpha) + s * Math.log(beta) + evaluatePattern(params, frequency, recency, T).logValue;
}

/** Pareto/NBD for the shared fit: starts at r = s = 1 and α = β = ΣwT/Σwx. */
export const PARETO_NBD: PurchaseModel<ParetoNbdParams> = {
  model: 'Pareto/NBD',
  parameters: PARAMETERS,
  logLikelihood: (data) => makeLogLikelihood(data),
  start: (compiled) => {
    const scale = compiled.sumWeightedFrequency > 0 && compiled.sumWeightedT > 0 ? compiled.sumWeightedT / compiled.sumWeightedFrequency : 1;
    return { r: 1, alpha: scale, s: 1, beta: scale };
  },
  hidden: 'lifetimes',
};

/**
 * Maximum-likelihood fit of the Pareto/NBD model in log-parameter space.
 * Starts from r = s = 1, α = β = ΣwT/Σwx unless `initialParams` is given
 * (α = β makes z = 0 in the hypergeometric terms, the cheapest place to start).
 */
export function fitParetoNbd(data: PurchasePatterns, options: FitOptions<ParetoNbdParams> = {}): FitResult<ParetoNbdParams> {
  return fitPurchaseModel(PARETO_NBD, data, options).result;
}

// ---------------------------------------------------------------------------
// Predictions (note 009 §5).

/**
 * E[Y(t) | alive at T, x, T] = E[λ] · E[(1 − e^(−μt))/μ] under the posterior
 * λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T):
 * (r+x)/(α+T) · (β+T) · (1 − ((β+T)/(β+T+t))^(s−1)) / (s−1), continuous at s = 1.
 */
export function expectedPurchasesIfAlive(params: ParetoNbdParams, frequency: number, T: number, t: number): number {
  const { r, alpha, s, beta } = params;
  if (!(t > 0)) return 0;
  // Stryker disable next-line EqualityOperator: at s = 1 the formula divides a positive number by 0: +∞ as well
  if (t === Number.POSITIVE_INFINITY) return s > 1 ? ((r + frequency) * (beta + T)) / ((alpha + T) * (s - 1)) : Number.POSITIVE_INFINITY;
  return (((r + frequency) * (beta + T)) / (alpha + T)) * -expm1Ratio(s - 1, -Math.log1p(t / (beta + T)));
}

/** P(alive at T | x, t_x, T) (note 009 eq. 36–37). */
export function conditionalProbabilityAlive(params: ParetoNbdParams, frequency: number, recency: number, T: number): number;
export function conditionalProbabilityAlive(
  params: ParetoNbdParams,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalProbabilityAlive(
  params: ParetoNbdParams,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  if (typeof frequency === 'number') return evaluatePattern(params, frequency, recency as number, T as number).pAlive;
  return pAliveMany(params, frequency, recency as Float64Array, T as Float64Array);
}

/** E[Y(t) | x, t_x, T]: expected repeat purchases in the next t time units (note 009 eq. 41). */
export function conditionalExpectedPurchases(params: ParetoNbdParams, t: number, frequency: number, recency: number, T: number): number;
export function conditionalExpectedPurchases(
  params: ParetoNbdParams,
  t: number,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalExpectedPurchases(
  params: ParetoNbdParams,
  t: number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  if (typeof frequency === 'number') {
    const age = T as number;
    return evaluatePattern(params, frequency, recency as number, age).pAlive * expectedPurchasesIfAlive(params, frequency, age, t);
  }
  const age = T as Float64Array;
  const out = pAliveMany(params, frequency, recency as Float64Array, age);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < out.length; i++) out[i] *= expectedPurchasesIfAlive(params, frequency[i], age[i], t);
  return out;
}

/** E[X(t)] = rβ/α · (1 − (β/(β+t))^(s−1))/(s−1): expected repeat purchases of a new customer in (0, t]. */
export function expectedPurchases(params: ParetoNbdParams, t: number): number;
export function expectedPurchases(params: ParetoNbdParams, t: Float64Array): Float64Array;
export function expectedPurchases(params: ParetoNbdParams, t: number | Float64Array): number | Float64Array {
  checkParams(params);
  if (typeof t === 'number') return expectedPurchasesIfAlive(params, 0, 0, t);
  return t.map((u) => expectedPurchasesIfAlive(params, 0, 0, u));
}

/**
 * P(X(t) = 0) for a new customer: the likelihood of the history (0, 0, t),
 * since "no repeat purchase in (0, t]" is exactly what that history says.
 */
export function probabilityNoPurchase(params: ParetoNbdParams, t: number): number;
export function probabilityNoPurchase(params: ParetoNbdParams, t: Float64Array): Float64Array;
export function probabilityNoPurchase(params: ParetoNbdParams, t: number | Float64Array): number | Float64Array {
  checkParams(params);
  const one = (u: number): number => (u > 0 ? Math.exp(paretoNbdPatternLogLikelihood(params, 0, 0, u)) : 1);
  if (typeof t === 'number') return one(t);
  return t.map(one);
}

/**
 * P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive) · P₀(t), with
 * P₀ the new-customer probability under the posterior (r+x, α+T, s, β+T):
 * both the Poisson and the exponential lifetime are memoryless.
 */
export function conditionalProbabilityNoPurchase(params: ParetoNbdParams, t: number, frequency: number, recency: number, T: number): number;
export function conditionalProbabilityNoPurchase(
  params: ParetoNbdParams,
  t: number,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalProbabilityNoPurchase(
  params: ParetoNbdParams,
  t: number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const one = (x: number, tx: number, age: number): number => {
    const p = evaluatePattern(params, x, tx, age).pAlive;
    if (!(t > 0)) return 1;
    const posterior = { r: params.r + x, alpha: params.alpha + age, s: params.s, beta: params.beta + age };
    return 1 - p + p * Math.exp(paretoNbdPatternLogLikelihood(posterior, 0, 0, t));
  };
  return perHistory(one, frequency, recency, T);
}
