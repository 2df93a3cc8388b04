/**
 * MBG/NBD (Batislam, Denizel & Filiztekin 2007, "Empirical validation and
 * comparison of models for customer base analysis"), as lifetimes'
 * `ModifiedBetaGeoFitter`: BG/NBD where a customer may also drop out right
 * after the first purchase. BG/NBD lets only a repeat purchase end a life, so
 * every one-time buyer has P(alive) = 1 however long ago they bought; here
 * they do not.
 *
 * Likelihood of one pattern (x, t_x, T), logged as in lifetimes
 * `ModifiedBetaGeoFitter._negative_log_likelihood`:
 *
 *   log L = A₁ + A₂ + log(e^A₃ + e^A₄)      (the dropout branch for x = 0 too)
 *   A₁ = log Γ(r+x) − log Γ(r) + r log α
 *   A₂ = log Γ(a+b) + log Γ(b+x+1) − log Γ(b) − log Γ(a+b+x+1)
 *   A₃ = −(r+x) log(α+T)
 *   A₄ = log a − log(b+x) − (r+x) log(α+t_x)
 *
 * The conditional expectation is BG/NBD's with b + 1 in place of b (both the
 * ₂F₁ and its prefactor (a+b+x)/(a−1)), so BG/NBD's stable series evaluator
 * is reused rather than copied.
 */
import {
  compilePurchasePatterns,
  perHistory,
  positiveParameters,
  type CompiledPatterns,
  fitPurchaseModel,
  type PurchaseModel,
} from './fitting.js';
import { BG_NBD, expectedPurchasesIfAliveEvaluator as bgNbdIfAliveEvaluator } from './bgNbd.js';
import { digamma, logGamma, logGammaRatio } from './specialFunctions.js';
import type { BgNbdParams, FitOptions, FitResult, PurchasePatterns } from './types.js';

/** Same four parameters as BG/NBD: λ ~ Gamma(r, α), p ~ Beta(a, b). */
export type MbgNbdParams = BgNbdParams;

const PARAMETERS = positiveParameters('MBG/NBD', ['r', 'alpha', 'a', 'b']);
const checkParams = PARAMETERS.check;

/** MBG/NBD for the shared fit: BG/NBD's start and identifiability, its own likelihood. */
export const MBG_NBD: PurchaseModel<MbgNbdParams> = { ...BG_NBD, model: 'MBG/NBD', parameters: PARAMETERS, logLikelihood: (data) => makeLogLikelihood(data) };

/**
 * Weighted log-likelihood of compiled patterns and its gradient w.r.t.
 * (log r, log α, log a, log b). Patterns come sorted by frequency, so the
 * terms in x alone (A₁ + A₂ and their derivatives) are computed once per
 * distinct frequency; per pattern only the two-branch mixture remains, with
 * P₄ = e^A₄ / (e^A₃ + e^A₄) the weight of the dropout branch in the gradient.
 */
function makeLogLikelihood(data: CompiledPatterns): (theta: Float64Array, gradient: Float64Array) => number {
  const { xValues, xWeight, blockStart, times, TIndex, recencyIndex, weight } = data;
  const nt = times.length;
  const logAlphaT = new Float64Array(nt);
  const invAlphaT = new Float64Array(nt);
  return (theta, gradient) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const a = Math.exp(theta[2]);
    const b = Math.exp(theta[3]);
    const psiR = digamma(r);
    const psiB = digamma(b);
    const psiAB = digamma(a + b);
    const lgR = logGamma(r);
    const logA = Math.log(a);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < nt; k++) {
      logAlphaT[k] = Math.log(alpha + times[k]);
      invAlphaT[k] = 1 / (alpha + times[k]);
    }
    let ll = 0;
    let gr = 0;
    let galpha = 0;
    let ga = 0;
    let gb = 0;
    let W = 0;
    for (let j = 0; j < xValues.length; j++) {
      const x = xValues[j];
      const m = r + x;
      const Wj = xWeight[j];
      W += Wj;
      const psiABX1 = digamma(a + b + x + 1);
      // A₂ as ratios (log Γ(b+1+x) − log Γ(b)) − (log Γ(a+b+1+x) − log Γ(a+b)): each
      // log Γ alone is large for large x, a or b.
      ll += Wj * (logGamma(r + x) - lgR + logGammaRatio(b, x + 1) - logGammaRatio(a + b, x + 1));
      gr += Wj * (digamma(r + x) - psiR);
      ga += Wj * (psiAB - psiABX1);
      gb += Wj * (psiAB + digamma(b + x + 1) - psiB - psiABX1);
      const logOdds = logA - Math.log(b + x); // log a/(b+x)
      let dropWeight = 0; // Σ w P₄
      for (let i = blockStart[j]; i < blockStart[j + 1]; i++) {
        const w = weight[i];
        const kT = TIndex[i];
        const kR = recencyIndex[i];
        const A3 = -m * logAlphaT[kT];
        const A4 = logOdds - m * logAlphaT[kR];
        // log(e^A₃ + e^A₄) around the larger term, so neither underflows.
        const top = Math.max(A3, A4);
        const e = Math.exp(Math.min(A3, A4) - top);
        ll += w * (top + Math.log1p(e));
        const p4 = A4 >= A3 ? 1 / (1 + e) : e / (1 + e);
        const p3 = 1 - p4;
        gr -= w * (p3 * logAlphaT[kT] + p4 * logAlphaT[kR]);
        galpha -= w * m * (p3 * invAlphaT[kT] + p4 * invAlphaT[kR]);
        dropWeight += w * p4;
      }
      ga += dropWeight / a;
      gb -= dropWeight / (b + x);
    }
    ll += W * r * Math.log(alpha);
    gr += W * Math.log(alpha);
    galpha += (W * r) / alpha;
    // Chain rule to log-parameters: ∂/∂log θ = θ ∂/∂θ.
    gradient[0] = gr * r;
    gradient[1] = galpha * alpha;
    gradient[2] = ga * a;
    gradient[3] = gb * b;
    return ll;
  };
}

/** Weighted sum of the per-pattern log-likelihoods. */
export function mbgNbdLogLikelihood(params: MbgNbdParams, data: PurchasePatterns): number {
  return PARAMETERS.valueAt(makeLogLikelihood(compilePurchasePatterns(data, 'MBG/NBD')), params);
}

/** Gradient of {@link mbgNbdLogLikelihood} w.r.t. the log-parameters: ∂LL/∂log θ = θ ∂LL/∂θ. */
export function mbgNbdLogLikelihoodGradient(params: MbgNbdParams, data: PurchasePatterns): MbgNbdParams {
  return PARAMETERS.gradientAt(makeLogLikelihood(compilePurchasePatterns(data, 'MBG/NBD')), params);
}

/** Log-likelihood of a single customer history (x, t_x, T); the textbook formula, unvectorised. */
export function mbgNbdPatternLogLikelihood(params: MbgNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, a, b } = params;
  const x = frequency;
  const A1 = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const A2 = logGamma(a + b) + logGamma(b + x + 1) - logGamma(b) - logGamma(a + b + x + 1);
  const A3 = -(r + x) * Math.log(alpha + T);
  const A4 = Math.log(a) - Math.log(b + x) - (r + x) * Math.log(alpha + recency);
  const m = Math.max(A3, A4);
  return A1 + A2 + m + Math.log(Math.exp(A3 - m) + Math.exp(A4 - m));
}

/**
 * Maximum-likelihood fit of the MBG/NBD model to weighted purchase patterns,
 * in log-parameter space. Starts like BG/NBD: r = 1, α = ΣwT/Σwx, a = b = 1.
 */
export function fitMbgNbd(data: PurchasePatterns, options: FitOptions<MbgNbdParams> = {}): FitResult<MbgNbdParams> {
  return fitPurchaseModel(MBG_NBD, data, options).result;
}

// ---------------------------------------------------------------------------
// Predictions (lifetimes ModifiedBetaGeoFitter).

/**
 * P(alive at T | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)), for
 * x = 0 too: a one-time buyer gets 1 / (1 + a/b · ((α+T)/α)^r) < 1. The ratio
 * as log1p keeps (α+T)/(α+t_x) ≈ 1 accurate; exp overflow just gives 0.
 */
function pAlive(r: number, alpha: number, a: number, b: number, x: number, recency: number, T: number): number {
  const logOdds = Math.log(a / (b + x)) + (r + x) * Math.log1p((T - recency) / (alpha + recency));
  return 1 / (1 + Math.exp(logOdds));
}

/** BG/NBD's parameters whose conditional expectation is MBG/NBD's: b + 1 for b. */
function shiftedParams(params: MbgNbdParams): BgNbdParams {
  return { r: params.r, alpha: params.alpha, a: params.a, b: params.b + 1 };
}

/**
 * E[Y(t) | alive at T, x, T] for each t in `times`, for fixed parameters:
 *
 *   (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x+1; a+b+x; t/(α+T+t))]
 *
 * which is BG/NBD's expression at b + 1 (see bgNbd.expectedPurchasesIfAliveEvaluator).
 */
export function expectedPurchasesIfAliveEvaluator(
  params: MbgNbdParams,
  times: ArrayLike<number>,
): (frequency: number, T: number, out: Float64Array) => void {
  checkParams(params);
  return bgNbdIfAliveEvaluator(shiftedParams(params), times);
}

/** P(alive at T | x, t_x, T). */
export function conditionalProbabilityAlive(params: MbgNbdParams, frequency: number, recency: number, T: number): number;
export function conditionalProbabilityAlive(params: MbgNbdParams, frequency: Float64Array, recency: Float64Array, T: Float64Array): Float64Array;
export function conditionalProbabilityAlive(
  params: MbgNbdParams,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const { r, alpha, a, b } = params;
  return perHistory((x, tx, age) => pAlive(r, alpha, a, b, x, tx, age), frequency, recency, T);
}

/**
 * E[Y(t) | x, t_x, T]: expected repeat purchases in the next t time units
 * (lifetimes `ModifiedBetaGeoFitter.conditional_expected_number_of_purchases_up_to_time`),
 * P(alive) times the expectation of a customer alive at T.
 */
export function conditionalExpectedPurchases(params: MbgNbdParams, t: number, frequency: number, recency: number, T: number): number;
export function conditionalExpectedPurchases(
  params: MbgNbdParams,
  t: number,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalExpectedPurchases(
  params: MbgNbdParams,
  t: number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const { r, alpha, a, b } = params;
  const one = new Float64Array(1);
  const ifAlive = expectedPurchasesIfAliveEvaluator(params, [t]);
  return perHistory(
    (x, tx, age) => {
      ifAlive(x, age, one);
      return pAlive(r, alpha, a, b, x, tx, age) * one[0];
    },
    frequency,
    recency,
    T,
  );
}

/**
 * E[X(t)]: expected repeat purchases of a new customer in (0, t]
 * (lifetimes `expected_number_of_purchases_up_to_time`):
 * b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))], which is
 * P(alive at 0) = b/(a+b) times the conditional expectation at x = T = 0.
 */
export function expectedPurchases(params: MbgNbdParams, t: number): number {
  checkParams(params);
  const out = new Float64Array(1);
  expectedPurchasesIfAliveEvaluator(params, [t])(0, 0, out);
  return (params.b / (params.a + params.b)) * out[0];
}
