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
import { compilePurchasePatterns, fitLogSpace, subsamplePurchasePatterns, type CompiledPatterns } from './fitting.js';
import { digamma, expm1Ratio, hyp2f1A1WithDerivatives, log1mExp, logGamma } from './specialFunctions.js';
import type { FitOptions, FitResult, ParetoNbdParams, PurchasePatterns } from './types.js';

const NAMES = ['r', 'alpha', 's', 'beta'] as const;

function checkParams(params: ParetoNbdParams): void {
  for (const name of NAMES) {
    const v = params[name];
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`Pareto/NBD: parameter ${name} = ${v} must be a finite number > 0`);
  }
}

/** Scratch space for one pattern evaluation, reused to avoid allocation in loops. */
class Workspace {
  readonly hyp = new Float64Array(4);
  /** log I(t_x), log I(T) and their gradients w.r.t. (r, α, s, β). */
  readonly tailR = new Float64Array(5);
  readonly tailT = new Float64Array(5);
  /** log of the bracket [ … ] in L, i.e. log L − log(Γ(r+x)α^r β^s/Γ(r)). */
  logBracket = 0;
  /** Share of the "still alive at T" term in the bracket = P(alive | x, t_x, T). */
  pAlive = 1;
  /** Gradient of logBracket w.r.t. (r, α, s, β) (natural parameters). */
  readonly gradient = new Float64Array(4);
}

/**
 * log I(y) and its gradient w.r.t. (r, α, s, β), written to out[0..4].
 * logAlphaY = log(α+y), invAlphaY = 1/(α+y), likewise for β.
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
    out[0] = -(s + 1) * logBetaY + (1 - r - x) * logAlphaY - Math.log(rsx) + Math.log(F);
    out[1] = -logAlphaY - invRsx + Fc;
    out[2] = (1 - r - x) * invAlphaY - Fz * invBetaY;
    out[3] = -logBetaY - invRsx + Fb + Fc;
    out[4] = -(s + 1) * invBetaY + Fz * (1 - z) * invBetaY;
  } else {
    const z = (alpha - beta) * invAlphaY;
    hyp2f1A1WithDerivatives(r + x, rsx + 1, z, hyp);
    const F = hyp[0];
    const Fb = hyp[1] / F;
    const Fc = hyp[2] / F;
    const Fz = hyp[3] / F;
    out[0] = -(r + x) * logAlphaY - s * logBetaY - Math.log(rsx) + Math.log(F);
    out[1] = -logAlphaY - invRsx + Fb + Fc;
    out[2] = -(r + x) * invAlphaY + Fz * (1 - z) * invAlphaY;
    out[3] = -logBetaY - invRsx + Fc;
    out[4] = -s * invBetaY - Fz * invAlphaY;
  }
}

/**
 * The pattern-specific part of the log-likelihood, log[(α+T)^−(r+x)(β+T)^−s + s·J],
 * with P(alive) and (if `withGradient`) the gradient, into `ws`.
 */
function logBracket(
  r: number,
  alpha: number,
  s: number,
  beta: number,
  x: number,
  sameTime: boolean,
  logAlphaT: number,
  logBetaT: number,
  invAlphaT: number,
  invBetaT: number,
  logAlphaR: number,
  logBetaR: number,
  invAlphaR: number,
  invBetaR: number,
  withGradient: boolean,
  ws: Workspace,
): void {
  const g = ws.gradient;
  // First term: alive at T. l₁ = −(r+x) log(α+T) − s log(β+T).
  const l1 = -(r + x) * logAlphaT - s * logBetaT;
  if (sameTime) {
    // t_x = T: no room to have died after the last purchase, J = 0.
    ws.logBracket = l1;
    ws.pAlive = 1;
    if (withGradient) {
      g[0] = -logAlphaT;
      g[1] = -(r + x) * invAlphaT;
      g[2] = -logBetaT;
      g[3] = -s * invBetaT;
    }
    return;
  }
  const tR = ws.tailR;
  const tT = ws.tailT;
  logTail(r, alpha, s, beta, x, logAlphaR, logBetaR, invAlphaR, invBetaR, ws.hyp, tR);
  logTail(r, alpha, s, beta, x, logAlphaT, logBetaT, invAlphaT, invBetaT, ws.hyp, tT);
  const delta = tT[0] - tR[0];
  const logS = Math.log(s);
  // log(s·J); J underflows to 0 (−Infinity) when t_x and T round together.
  const logSJ = delta < 0 ? logS + tR[0] + log1mExp(delta) : Number.NEGATIVE_INFINITY;
  const M = logSJ > l1 ? logSJ : l1;
  const e1 = Math.exp(l1 - M);
  const e2 = Math.exp(logSJ - M);
  const W = e1 + e2;
  ws.logBracket = M + Math.log(W);
  ws.pAlive = e1 / W;
  if (!withGradient) return;
  const q1 = e1 / W;
  const q2 = e2 / W;
  // ∂ log(sJ) · q₂ = q₂/s ∂s + s I(t_x)/bracket · (∂log I(t_x) − e^Δ ∂log I(T)):
  // written with I(t_x) factored out so it stays finite as J → 0.
  const qI = delta < 0 ? Math.exp(logS + tR[0] - M) / W : 0;
  const eDelta = delta < 0 ? Math.exp(delta) : 1;
  g[0] = q1 * -logAlphaT + qI * (tR[1] - eDelta * tT[1]);
  g[1] = q1 * (-(r + x) * invAlphaT) + qI * (tR[2] - eDelta * tT[2]);
  g[2] = q1 * -logBetaT + qI * (tR[3] - eDelta * tT[3]) + q2 / s;
  g[3] = q1 * (-s * invBetaT) + qI * (tR[4] - eDelta * tT[4]);
}

function makeLogLikelihood(data: CompiledPatterns): (theta: Float64Array, gradient: Float64Array) => number {
  const nx = data.xValues.length;
  const nt = data.times.length;
  const lgK = new Float64Array(nx); // log Γ(r+x) − log Γ(r)
  const dK = new Float64Array(nx); // ψ(r+x) − ψ(r)
  const logAlphaT = new Float64Array(nt);
  const logBetaT = new Float64Array(nt);
  const invAlphaT = new Float64Array(nt);
  const invBetaT = new Float64Array(nt);
  const ws = new Workspace();
  const { xValues, xIndex, xWeight, times, TIndex, recencyIndex, weight, count } = data;

  return (theta, gradient) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const s = Math.exp(theta[2]);
    const beta = Math.exp(theta[3]);
    const lgR = logGamma(r);
    const psiR = digamma(r);
    for (let j = 0; j < nx; j++) {
      const x = xValues[j];
      lgK[j] = x === 0 ? 0 : logGamma(r + x) - lgR;
      dK[j] = x === 0 ? 0 : digamma(r + x) - psiR;
    }
    for (let k = 0; k < nt; k++) {
      const a = alpha + times[k];
      const b = beta + times[k];
      logAlphaT[k] = Math.log(a);
      logBetaT[k] = Math.log(b);
      invAlphaT[k] = 1 / a;
      invBetaT[k] = 1 / b;
    }
    let ll = 0;
    let llCompensation = 0; // Neumaier: see bgNbd.ts
    let g0 = 0;
    let g1 = 0;
    let g2 = 0;
    let g3 = 0;
    const pg = ws.gradient;
    for (let i = 0; i < count; i++) {
      const w = weight[i];
      const kT = TIndex[i];
      const kR = recencyIndex[i];
      logBracket(
        r, alpha, s, beta, xValues[xIndex[i]], kT === kR,
        logAlphaT[kT], logBetaT[kT], invAlphaT[kT], invBetaT[kT],
        logAlphaT[kR], logBetaT[kR], invAlphaT[kR], invBetaT[kR],
        true, ws,
      );
      const v = w * ws.logBracket;
      const t = ll + v;
      llCompensation += Math.abs(ll) >= Math.abs(v) ? ll - t + v : v - t + ll;
      ll = t;
      g0 += w * pg[0];
      g1 += w * pg[1];
      g2 += w * pg[2];
      g3 += w * pg[3];
    }
    ll += llCompensation;
    // Γ(r+x) α^r β^s / Γ(r): per frequency, not per pattern.
    const logAlpha = Math.log(alpha);
    const logBeta = Math.log(beta);
    let W = 0;
    for (let j = 0; j < nx; j++) {
      W += xWeight[j];
      ll += xWeight[j] * lgK[j];
      g0 += xWeight[j] * dK[j];
    }
    ll += W * (r * logAlpha + s * logBeta);
    g0 += W * logAlpha;
    g1 += (W * r) / alpha;
    g2 += W * logBeta;
    g3 += (W * s) / beta;
    gradient[0] = g0 * r;
    gradient[1] = g1 * alpha;
    gradient[2] = g2 * s;
    gradient[3] = g3 * beta;
    return ll;
  };
}

function toTheta(params: ParetoNbdParams): Float64Array {
  checkParams(params);
  return Float64Array.of(Math.log(params.r), Math.log(params.alpha), Math.log(params.s), Math.log(params.beta));
}

function toParams(v: ArrayLike<number>): ParetoNbdParams {
  return Object.freeze({ r: v[0], alpha: v[1], s: v[2], beta: v[3] });
}

/** Weighted sum of the per-pattern log-likelihoods. */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, data: PurchasePatterns): number {
  const ll = makeLogLikelihood(compilePurchasePatterns(data, 'Pareto/NBD'));
  return ll(toTheta(params), new Float64Array(4));
}

/** Gradient of {@link paretoNbdLogLikelihood} w.r.t. the log-parameters: ∂LL/∂log θ = θ ∂LL/∂θ. */
export function paretoNbdLogLikelihoodGradient(params: ParetoNbdParams, data: PurchasePatterns): ParetoNbdParams {
  const ll = makeLogLikelihood(compilePurchasePatterns(data, 'Pareto/NBD'));
  const g = new Float64Array(4);
  ll(toTheta(params), g);
  return toParams(g);
}

/** Scalar evaluation of the bracket for one history (allocates nothing but `ws`). */
function evaluatePattern(p: ParetoNbdParams, x: number, recency: number, T: number, ws: Workspace): void {
  const { r, alpha, s, beta } = p;
  const tx = x === 0 ? 0 : Math.min(recency, T);
  logBracket(
    r, alpha, s, beta, x, tx === T,
    Math.log(alpha + T), Math.log(beta + T), 1 / (alpha + T), 1 / (beta + T),
    Math.log(alpha + tx), Math.log(beta + tx), 1 / (alpha + tx), 1 / (beta + tx),
    false, ws,
  );
}

/** Log-likelihood of a single customer history (x, t_x, T). */
export function paretoNbdPatternLogLikelihood(params: ParetoNbdParams, frequency: number, recency: number, T: number): number {
  checkParams(params);
  const { r, alpha, s, beta } = params;
  const ws = new Workspace();
  evaluatePattern(params, frequency, recency, T, ws);
  return logGamma(r + frequency) - logGamma(r) + r * Math.log(alpha) + s * Math.log(beta) + ws.logBracket;
}

/**
 * Maximum-likelihood fit of the Pareto/NBD model in log-parameter space.
 * Starts from r = s = 1, α = β = ΣwT/Σwx unless `initialParams` is given
 * (α = β makes z = 0 in the hypergeometric terms, the cheapest place to start).
 */
export function fitParetoNbd(data: PurchasePatterns, options: FitOptions<ParetoNbdParams> = {}): FitResult<ParetoNbdParams> {
  const compiled = compilePurchasePatterns(data, 'Pareto/NBD');
  const logLikelihood = makeLogLikelihood(compiled);
  const scale = compiled.sumWeightedFrequency > 0 && compiled.sumWeightedT > 0 ? compiled.sumWeightedT / compiled.sumWeightedFrequency : 1;
  const initial = options.initialParams ?? { r: 1, alpha: scale, s: 1, beta: scale };
  const theta0 = toTheta(initial);
  const unidentified =
    compiled.count === 0
      ? 'no patterns with positive weight'
      : compiled.sumWeightedFrequency === 0
        ? 'no repeat purchases (every frequency is 0), so purchase rates and lifetimes cannot be separated'
        : compiled.maxT === 0
          ? 'every customer has T = 0: no observation time'
          : null;
  if (unidentified) {
    const ll = compiled.count === 0 ? 0 : logLikelihood(theta0, new Float64Array(4));
    return Object.freeze({
      params: toParams([initial.r, initial.alpha, initial.s, initial.beta]),
      standardErrors: null,
      logLikelihood: ll,
      iterations: 0,
      converged: false,
      message: `Pareto/NBD not fitted: ${unidentified}; parameters are the starting values`,
    });
  }
  const sample = options.initialParams ? null : subsamplePurchasePatterns(compiled);
  const fit = fitLogSpace({
    model: 'Pareto/NBD',
    names: NAMES,
    logLikelihood,
    totalWeight: compiled.totalWeight,
    warmStart: sample && { logLikelihood: makeLogLikelihood(sample), totalWeight: sample.totalWeight },
    initial: [initial.r, initial.alpha, initial.s, initial.beta],
    penalty: options.penalty,
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
  });
  return Object.freeze({
    params: toParams(fit.params),
    standardErrors: fit.standardErrors ? toParams(fit.standardErrors) : null,
    logLikelihood: fit.logLikelihood,
    iterations: fit.iterations,
    converged: fit.converged,
    message: fit.message,
  });
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
  const ws = new Workspace();
  if (typeof frequency === 'number') {
    evaluatePattern(params, frequency, recency as number, T as number, ws);
    return ws.pAlive;
  }
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  for (let i = 0; i < out.length; i++) {
    evaluatePattern(params, frequency[i], rec[i], age[i], ws);
    out[i] = ws.pAlive;
  }
  return out;
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
  const ws = new Workspace();
  if (typeof frequency === 'number') {
    const age = T as number;
    evaluatePattern(params, frequency, recency as number, age, ws);
    return ws.pAlive * expectedPurchasesIfAlive(params, frequency, age, t);
  }
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  for (let i = 0; i < out.length; i++) {
    evaluatePattern(params, frequency[i], rec[i], age[i], ws);
    out[i] = ws.pAlive * expectedPurchasesIfAlive(params, frequency[i], age[i], t);
  }
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
  const ws = new Workspace();
  const one = (x: number, tx: number, age: number): number => {
    evaluatePattern(params, x, tx, age, ws);
    const p = ws.pAlive;
    if (!(t > 0)) return 1;
    const posterior = { r: params.r + x, alpha: params.alpha + age, s: params.s, beta: params.beta + age };
    return 1 - p + p * Math.exp(paretoNbdPatternLogLikelihood(posterior, 0, 0, t));
  };
  if (typeof frequency === 'number') return one(frequency, recency as number, T as number);
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  for (let i = 0; i < out.length; i++) out[i] = one(frequency[i], rec[i], age[i]);
  return out;
}
