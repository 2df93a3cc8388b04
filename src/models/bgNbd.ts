/**
 * BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting
 * your customers the easy way"): while alive a customer buys at Poisson rate
 * λ ~ Gamma(r, α); after each purchase they drop out with probability
 * p ~ Beta(a, b).
 *
 * Likelihood of one pattern (x, t_x, T) (paper eq. 6, logged as in lifetimes
 * `BetaGeoFitter._negative_log_likelihood`):
 *
 *   log L = A₁ + A₂ + log(e^A₃ + δ(x>0) e^A₄)
 *   A₁ = log Γ(r+x) − log Γ(r) + r log α
 *   A₂ = log Γ(a+b) + log Γ(b+x) − log Γ(b) − log Γ(a+b+x)
 *   A₃ = −(r+x) log(α+T)
 *   A₄ = log a − log(b+x−1) − (r+x) log(α+t_x)
 *
 * A₁ and A₂ depend on the pattern only through x, and A₃, A₄ only through
 * x and one time value: the fit precomputes them per distinct frequency and
 * per distinct time (see makeLogLikelihood for how little is left per pattern).
 */
import {
  compilePurchasePatterns,
  perHistory,
  positiveParameters,
  type CompiledPatterns,
  fitPurchaseModel,
  type PurchaseModel,
} from './fitting.js';
import { expectedPurchasesIfAliveByDropout, withDropoutBoundary } from './bgNbdLimit.js';
import { digamma, expm1Ratio, logGamma, logGammaRatio } from './specialFunctions.js';
import type { BgNbdFitResult, BgNbdParams, FitOptions, PurchasePatterns } from './types.js';

const PARAMETERS = positiveParameters('BG/NBD', ['r', 'alpha', 'a', 'b']);
const checkParams = PARAMETERS.check;

/** Patterns per block: the running product of ≤ 512 factors in [1, 2] stays below 2^512 ≪ 1e308. */
const BLOCK = 512;
/** Largest |exponent| stored in the power tables (e^±650 stays normal). */
const POWER_RANGE = 650;

/** Tabulate the powers when the (frequency × time) table is smaller than the data. */
function tableWorthIt(data: CompiledPatterns): boolean {
  const repeatFrequencies = data.xValues[0] === 0 ? data.xValues.length - 1 : data.xValues.length;
  return repeatFrequencies * data.times.length <= data.count / 2;
}

/**
 * Weighted log-likelihood of compiled patterns and its gradient w.r.t.
 * (log r, log α, log a, log b). Scratch tables are allocated once per
 * compiled data set and reused across evaluations.
 *
 * Patterns come sorted by frequency, so everything that depends on x alone
 * (A₁ + A₂, r + x, a/(b+x−1), their derivatives) is hoisted out of the
 * inner loop. Per repeat-buyer pattern what remains is
 * log(e^A₃ + e^A₄) = A₃ + log1p(e) with e = e^(A₄−A₃) = a/(b+x−1) ·
 * ((α+t_x)/(α+T))^−(r+x), and P₄ = e/(1+e) for the gradient. For 10⁵–10⁶
 * patterns two further things keep that cheap:
 * - the powers (α+τ)^−(r+x) are tabulated per (frequency, distinct time)
 *   when that table is smaller than the data, so e costs two
 *   multiplications instead of an exp;
 * - Σ log1p(min(e, 1/e)) over unit-weight patterns is the log of a running
 *   product of factors in [1, 2], one log per block of 512 patterns.
 * Sums are accumulated per block and the blocks added with Neumaier
 * compensation: plain summation over 10⁵+ terms leaves the mean
 * log-likelihood noisy at ~1e-13, which would limit how closely the
 * optimiser can resolve the (flat) optimum.
 *
 * `useTable` defaults to whether the table pays off on `data`; the warm-start
 * subsample is given the full data's choice, so that the JIT-compiled loop has
 * seen the same branches before the expensive full-data passes (a branch first
 * taken there costs a deoptimisation in the middle of a 10⁵-pattern loop).
 */
function makeLogLikelihood(data: CompiledPatterns, useTable = tableWorthIt(data)): (theta: Float64Array, gradient: Float64Array) => number {
  const { xValues, xWeight, blockStart, times, TIndex, recencyIndex, weight } = data;
  const nx = xValues.length;
  const nt = times.length;
  const logAlphaT = new Float64Array(nt);
  const invAlphaT = new Float64Array(nt);
  // power[k] = (α+τ_k)^−(r+x) · (α+τ_mid)^(r+x) for the current frequency, and its reciprocal.
  const power = useTable ? new Float64Array(nt) : new Float64Array(0);
  const powerInv = useTable ? new Float64Array(nt) : new Float64Array(0);

  return (theta, gradient) => {
    const r = Math.exp(theta[0]);
    const alpha = Math.exp(theta[1]);
    const a = Math.exp(theta[2]);
    const b = Math.exp(theta[3]);
    const psiR = digamma(r);
    const psiB = digamma(b);
    const psiAB = digamma(a + b);
    const lgR = logGamma(r);
    const logAlpha = Math.log(alpha);
    const logA = Math.log(a);
    let logTimeMin = Number.POSITIVE_INFINITY;
    let logTimeMax = Number.NEGATIVE_INFINITY;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < nt; k++) {
      const v = alpha + times[k];
      const l = Math.log(v);
      logAlphaT[k] = l;
      invAlphaT[k] = 1 / v;
      if (l < logTimeMin) logTimeMin = l;
      if (l > logTimeMax) logTimeMax = l;
    }
    const logTimeMid = 0.5 * (logTimeMin + logTimeMax);

    // No inner closures in here: variables captured by one live in a heap
    // context instead of registers, which halves the speed of the loops.
    let total = 0; // Σ w (A₃ or A₄), Neumaier-compensated over blocks
    let compensation = 0;
    let block = 0; // the current block's partial sum
    let sumLog1p = 0; // Σ w log1p(min(e, 1/e))
    let product = 1; // Π (1 + min(e, 1/e)) over the current block's unit weights
    let sumLogTime = 0; // Σ w (P₃ log(α+T) + P₄ log(α+t_x))
    let sumRateTime = 0; // Σ w (r+x)(P₃/(α+T) + P₄/(α+t_x))
    let ll = 0;
    let gr = 0;
    let ga = 0;
    let gb = 0;
    let W = 0;

    for (let j = 0; j < nx; j++) {
      const x = xValues[j];
      const m = r + x;
      const Wj = xWeight[j];
      W += Wj;
      const first = blockStart[j];
      const end = blockStart[j + 1];
      if (x === 0) {
        // One-time buyers: log L = r log α − r log(α+T); no dropout branch.
        for (let i = first; i < end; i++) {
          const w = weight[i];
          const kT = TIndex[i];
          const lT = logAlphaT[kT];
          block -= w * m * lT;
          sumLogTime += w * lT;
          sumRateTime += w * m * invAlphaT[kT];
          if ((i & (BLOCK - 1)) === BLOCK - 1) {
            // End of a block: add it to the total (Neumaier). The product is still 1:
            // one-time buyers come first (sorted by frequency) and add no factor.
            const t = total + block;
            compensation += Math.abs(total) >= Math.abs(block) ? total - t + block : block - t + total;
            total = t;
            block = 0;
          }
        }
        continue;
      }
      // A₁ + A₂ (without r log α), and their derivatives: per frequency.
      const psiABX = digamma(a + b + x);
      // A₂ as two ratios, [log Γ(b+x) − log Γ(b)] − [log Γ(a+b+x) − log Γ(a+b)]: each
      // log Γ is large for large x or (near the a, b → ∞ boundary) large a, b.
      ll += Wj * (logGamma(r + x) - lgR + logGammaRatio(b, x) - logGammaRatio(a + b, x));
      gr += Wj * (digamma(r + x) - psiR);
      ga += Wj * (psiAB - psiABX);
      gb += Wj * (psiAB + digamma(b + x) - psiB - psiABX);
      const logOdds = logA - Math.log(b + x - 1); // log a/(b+x−1)
      const odds = a / (b + x - 1);
      const tabulated = useTable && m * (logTimeMax - logTimeMid) <= POWER_RANGE;
      if (tabulated) {
        // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
        for (let k = 0; k < nt; k++) {
          const pw = Math.exp(-m * (logAlphaT[k] - logTimeMid));
          power[k] = pw;
          powerInv[k] = 1 / pw;
        }
      }
      let dropWeight = 0; // Σ w P₄
      for (let i = first; i < end; i++) {
        const w = weight[i];
        const kT = TIndex[i];
        const kR = recencyIndex[i];
        const lT = logAlphaT[kT];
        const lR = logAlphaT[kR];
        const e = tabulated ? odds * power[kR] * powerInv[kT] : Math.exp(logOdds - m * (lR - lT)); // e^(A₄ − A₃)
        let p4: number;
        if (e <= 1) {
          block -= w * m * lT; // A₃
          p4 = e / (1 + e);
          if (w === 1) product *= 1 + e;
          else sumLog1p += w * Math.log1p(e);
        } else {
          const y = 1 / e;
          block += w * (logOdds - m * lR); // A₄
          p4 = 1 / (1 + y);
          if (w === 1) product *= 1 + y;
          else sumLog1p += w * Math.log1p(y);
        }
        const p3 = 1 - p4;
        sumLogTime += w * (p3 * lT + p4 * lR);
        sumRateTime += w * m * (p3 * invAlphaT[kT] + p4 * invAlphaT[kR]);
        dropWeight += w * p4;
        if ((i & (BLOCK - 1)) === BLOCK - 1) {
          // End of a block: add it to the total (Neumaier) and log the product.
          const t = total + block;
          compensation += Math.abs(total) >= Math.abs(block) ? total - t + block : block - t + total;
          total = t;
          block = 0;
          sumLog1p += Math.log(product);
          product = 1;
        }
      }
      ga += dropWeight / a;
      gb -= dropWeight / (b + x - 1);
    }
    sumLog1p += Math.log(product);
    const t = total + block;
    compensation += Math.abs(total) >= Math.abs(block) ? total - t + block : block - t + total;

    ll += t + compensation + sumLog1p + W * r * logAlpha;
    gr += W * logAlpha - sumLogTime;
    const galpha = (W * r) / alpha - sumRateTime;
    // Chain rule to log-parameters: ∂/∂log θ = θ ∂/∂θ.
    gradient[0] = gr * r;
    gradient[1] = galpha * alpha;
    gradient[2] = ga * a;
    gradient[3] = gb * b;
    return ll;
  };
}

/** Weighted sum of the per-pattern log-likelihoods. */
export function bgNbdLogLikelihood(params: BgNbdParams, data: PurchasePatterns): number {
  return PARAMETERS.valueAt(makeLogLikelihood(compilePurchasePatterns(data, 'BG/NBD')), params);
}

/** Gradient of {@link bgNbdLogLikelihood} w.r.t. the log-parameters: ∂LL/∂log θ = θ ∂LL/∂θ. */
export function bgNbdLogLikelihoodGradient(params: BgNbdParams, data: PurchasePatterns): BgNbdParams {
  return PARAMETERS.gradientAt(makeLogLikelihood(compilePurchasePatterns(data, 'BG/NBD')), params);
}

/** Log-likelihood of a single customer history (x, t_x, T); the textbook formula, unvectorised. */
export function bgNbdPatternLogLikelihood(params: BgNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, a, b } = params;
  const x = frequency;
  const A1 = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const A2 = logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x);
  const A3 = -(r + x) * Math.log(alpha + T);
  if (x === 0) return A1 + A2 + A3;
  const A4 = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + recency);
  const m = Math.max(A3, A4);
  return A1 + A2 + m + Math.log(Math.exp(A3 - m) + Math.exp(A4 - m));
}

/** BG/NBD for the shared fit; the warm start's subsample takes the power table when the whole data would. */
export const BG_NBD: PurchaseModel<BgNbdParams> = {
  model: 'BG/NBD',
  parameters: PARAMETERS,
  logLikelihood: (data, whole) => makeLogLikelihood(data, tableWorthIt(whole)),
  start: (compiled) => ({
    r: 1,
    alpha: compiled.sumWeightedFrequency > 0 && compiled.sumWeightedT > 0 ? compiled.sumWeightedT / compiled.sumWeightedFrequency : 1,
    a: 1,
    b: 1,
  }),
  hidden: 'dropout',
};

/**
 * Maximum-likelihood fit of the BG/NBD model to weighted purchase patterns,
 * in log-parameter space (so no bounds are needed). Starts from r = 1,
 * α = ΣwT/Σwx (the mean purchase rate), a = b = 1 unless `initialParams` is given.
 * A fit that runs to the a, b → ∞ boundary comes back with `boundary` set.
 */
export function fitBgNbd(data: PurchasePatterns, options: FitOptions<BgNbdParams> = {}): BgNbdFitResult {
  const { compiled, result, fitted } = fitPurchaseModel(BG_NBD, data, options);
  return fitted ? withDropoutBoundary(compiled, result) : Object.freeze({ ...result, boundary: null });
}

// ---------------------------------------------------------------------------
// Predictions (paper §3 and Fader, Hardie & Lee's note 021 for P(alive)).

function pAlive(r: number, alpha: number, a: number, b: number, x: number, recency: number, T: number): number {
  if (x === 0) return 1;
  // P(alive) = 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)); the ratio as log1p keeps
  // (α+T)/(α+t_x) ≈ 1 accurate, and exp overflow just gives 0.
  const logOdds = Math.log(a / (b + x - 1)) + (r + x) * Math.log1p((T - recency) / (alpha + recency));
  return 1 / (1 + Math.exp(logOdds));
}

/**
 * E[Y(t) | alive at T, x, T]: expected purchases in (T, T+t] of a customer
 * known to be alive, for each t in `times`, written to `out`. This is paper
 * eq. (10) without its P(alive) factor:
 *
 *   (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)],  z = t/(α+T+t)
 *
 * evaluated in a form that is stable for any frequency and for a → 1.
 * Euler's transformation turns (1−z)^(r+x) ₂F₁(r+x, b+x; C; z) into
 * (1−z)^(a−1) ₂F₁(A, a−1; C; z) with C = a+b+x−1, A = a+b−1−r, whose terms
 * shrink with x instead of growing like (1−z)^(−x). Splitting off the k = 0
 * term and the factor (a−1) gives
 *
 *   C · (1 − (1−z)^(a−1))/(a−1) − (1−z)^(a−1) · Σ_{k≥1} (A)_k (a)_{k−1} / ((C+1)_{k−1} k!) zᵏ
 *
 * which has no singularity at a = 1 and stays valid (by analytic
 * continuation) when a + b + x − 1 ≤ 0, where the textbook ₂F₁ is undefined.
 * The series coefficients depend only on x, so all horizons share one pass.
 * For large a or a + b (little spread in the dropout probability, up to the
 * a, b → ∞ limit) the series would overflow: bgNbdLimit.ts integrates over
 * the dropout probability instead.
 */
export function expectedPurchasesIfAlive(
  params: BgNbdParams,
  frequency: number,
  T: number,
  times: ArrayLike<number>,
  out: Float64Array,
): void {
  expectedPurchasesIfAliveEvaluator(params, times)(frequency, T, out);
}

/** log of the largest series term allowed (e^100 is far from overflow), and the largest a + b + x − 1 (its cancellation costs ~C·1e-16). */
const SERIES_MAX_GROWTH = 100;
const SERIES_MAX_SIZE = 1e6;

/** Series terms kept per frequency (see the evaluator): a longer series runs on without the cache. */
const CACHED_TERMS = 4096;

/** What the evaluator's terms share across (x, T) pairs with the same T: z per horizon, and the two factors of the closing step. */
interface AgeTerms {
  z: Float64Array;
  zMax: number;
  hMax: number;
  /** Whether the series would overflow at this T (the dropout integral is used instead). */
  grows: boolean;
  /** Per horizon: expm1Ratio(a − 1, L) and e^((a−1)·L), L = log(1 − z). */
  expm1Part: Float64Array;
  powerPart: Float64Array;
}

/** The series coefficients of one x, c_k at index k − 1, and the ratio c_{k+1}/c_k beside it, as far as a pair has needed them. */
interface SeriesCoefficients {
  c: Float64Array;
  ratio: Float64Array;
  length: number;
}

/**
 * {@link expectedPurchasesIfAlive} for fixed parameters and horizons, for
 * evaluating many (x, T) pairs. The series coefficients depend on x alone
 * and z, log(1 − z) and its exp/expm1 on T alone, so each is computed once
 * per distinct x or T and kept: the same operations in the same order as
 * evaluating every pair afresh, hence the same bits, at a fraction of the
 * cost when a base's pairs share frequencies and ages (42,736 pairs of 441
 * frequencies and 731 ages in the 10M-row benchmark).
 */
export function expectedPurchasesIfAliveEvaluator(
  params: BgNbdParams,
  times: ArrayLike<number>,
): (frequency: number, T: number, out: Float64Array) => void {
  checkParams(params);
  const { r, alpha, a, b } = params;
  const H = times.length;
  const A = a + b - 1 - r;
  const am1 = a - 1;
  const power = new Float64Array(H);
  const sum = new Float64Array(H);
  const ages = new Map<number, AgeTerms>();
  const frequencies = new Map<number, SeriesCoefficients>();

  const ageTerms = (T: number): AgeTerms => {
    const z = new Float64Array(H);
    const expm1Part = new Float64Array(H);
    const powerPart = new Float64Array(H);
    let zMax = 0;
    let hMax = 0;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let h = 0; h < H; h++) {
      const t = times[h];
      z[h] = t > 0 && t < Number.POSITIVE_INFINITY ? t / (alpha + T + t) : 0;
      if (z[h] > zMax) {
        zMax = z[h];
        hMax = h;
      }
      if (t > 0 && t < Number.POSITIVE_INFINITY) {
        const L = -Math.log1p(t / (alpha + T)); // log(1 − z)
        expm1Part[h] = expm1Ratio(am1, L);
        powerPart[h] = Math.exp(am1 * L);
      }
    }
    // The series' terms grow to ~(1−z)^−a (overflowing for large a) and it
    // takes ~a·z terms: there the dropout probability is concentrated.
    return { z, zMax, hMax, grows: -a * Math.log1p(-zMax) > SERIES_MAX_GROWTH, expm1Part, powerPart };
  };

  /** c_k for k ≤ `terms` (and the ratio after each), computed as the series runs: c₁ = A, c_{k+1} = c_k · ratio_k. */
  const coefficients = (x: number, C: number, terms: number): SeriesCoefficients => {
    let s = frequencies.get(x);
    if (!s) {
      s = { c: new Float64Array(64), ratio: new Float64Array(64), length: 1 };
      s.c[0] = A;
      frequencies.set(x, s);
    }
    if (s.length < terms) {
      if (s.c.length < terms) {
        const size = Math.min(CACHED_TERMS + 1, Math.max(terms, 2 * s.c.length));
        const c = new Float64Array(size);
        const ratio = new Float64Array(size);
        c.set(s.c.subarray(0, s.length));
        ratio.set(s.ratio.subarray(0, s.length));
        s.c = c;
        s.ratio = ratio;
      }
      for (let k = s.length; k < terms; k++) {
        s.ratio[k - 1] = ((A + k) * (a + k - 1)) / ((C + k) * (k + 1));
        s.c[k] = s.c[k - 1] * s.ratio[k - 1];
      }
      s.length = terms;
    }
    return s;
  };

  return (x, T, out) => {
    const C = a + b + x - 1;
    let age = ages.get(T);
    if (!age) ages.set(T, (age = ageTerms(T)));
    const { z, zMax, hMax } = age;
    // A huge C also cancels the series' two parts.
    if (age.grows || C > SERIES_MAX_SIZE) {
      expectedPurchasesIfAliveByDropout(params, x, T, times, out);
      return;
    }
    sum.fill(0);
    // Σ_{k≥1} c_k zᵏ with c_k = (A)_k (a)_{k−1} / ((C+1)_{k−1} k!), c₁ = A, for
    // all horizons. The largest z converges last; its terms set the stopping
    // point, against the scale C·z of the whole expression. That test needs
    // the largest z's series alone: it is summed first, and then each other
    // horizon's to the same term, one horizon at a time (each sum adds the
    // same terms in the same order as when all horizons ran together).
    if (zMax > 0 && A !== 0) {
      const scale = Math.abs(C) * zMax;
      let s = coefficients(x, C, 64);
      let terms = 0;
      let p = zMax;
      let total = 0;
      for (let k = 1; k <= CACHED_TERMS; k++) {
        if (k >= s.length) s = coefficients(x, C, Math.min(CACHED_TERMS + 1, 2 * k));
        total += s.c[k - 1] * p;
        p *= zMax;
        const next = Math.abs(s.c[k] * p);
        if (next === 0 || (next <= 1e-17 * (Math.abs(total) + scale) && Math.abs(s.ratio[k - 1]) * zMax < 1)) {
          terms = k;
          break;
        }
      }
      if (terms > 0) {
        // Four horizons per pass, four independent chains of multiply-adds (the
        // largest z's sum comes out again as `total`, bit for bit).
        const c = s.c;
        for (let h = 0; h < H; h += 4) {
          const z1 = z[h];
          const z2 = h + 1 < H ? z[h + 1] : 0;
          const z3 = h + 2 < H ? z[h + 2] : 0;
          const z4 = h + 3 < H ? z[h + 3] : 0;
          let q1 = z1;
          let q2 = z2;
          let q3 = z3;
          let q4 = z4;
          let acc1 = 0;
          let acc2 = 0;
          let acc3 = 0;
          let acc4 = 0;
          for (let j = 0; j < terms; j++) {
            const cj = c[j];
            acc1 += cj * q1;
            q1 *= z1;
            acc2 += cj * q2;
            q2 *= z2;
            acc3 += cj * q3;
            q3 *= z3;
            acc4 += cj * q4;
            q4 *= z4;
          }
          sum[h] = acc1;
          if (h + 1 < H) sum[h + 1] = acc2;
          if (h + 2 < H) sum[h + 2] = acc3;
          if (h + 3 < H) sum[h + 3] = acc4;
        }
      } else {
        // Longer than the kept coefficients (z near 1 with a slowly shrinking ratio): every horizon at once, one coefficient at a time.
        for (let h = 0; h < H; h++) power[h] = z[h];
        let c = A;
        for (let k = 1; k < 10_000_000; k++) {
          for (let h = 0; h < H; h++) {
            sum[h] += c * power[h];
            power[h] *= z[h];
          }
          const ratio = ((A + k) * (a + k - 1)) / ((C + k) * (k + 1));
          c *= ratio;
          const next = Math.abs(c * power[hMax]);
          if (next === 0 || (next <= 1e-17 * (Math.abs(sum[hMax]) + scale) && Math.abs(ratio) * zMax < 1)) break;
        }
      }
    }
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let h = 0; h < H; h++) {
      const t = times[h];
      if (!(t > 0)) {
        out[h] = 0;
      } else if (t === Number.POSITIVE_INFINITY) {
        // Every purchase until dropout: E[1/p] = C/(a−1), infinite when a ≤ 1.
        // Stryker disable next-line EqualityOperator: at a = 1 the formula divides C > 0 by 0: +∞ as well
        out[h] = am1 > 0 ? C / am1 : Number.POSITIVE_INFINITY;
      } else {
        out[h] = -C * age.expm1Part[h] - age.powerPart[h] * sum[h];
      }
    }
  };
}

function expectedIfAliveOne(params: BgNbdParams, x: number, T: number, t: number): number {
  const out = new Float64Array(1);
  expectedPurchasesIfAlive(params, x, T, [t], out);
  return out[0];
}

/** P(alive at T | x, t_x, T) (Fader, Hardie & Lee, note 021). */
export function conditionalProbabilityAlive(params: BgNbdParams, frequency: number, recency: number, T: number): number;
export function conditionalProbabilityAlive(
  params: BgNbdParams,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalProbabilityAlive(
  params: BgNbdParams,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const { r, alpha, a, b } = params;
  if (typeof frequency === 'number') return pAlive(r, alpha, a, b, frequency, recency as number, T as number);
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  // log(a/(b+x−1)) depends on x only: cache it for the usual small counts.
  const logOdds = new Float64Array(4096).fill(Number.NaN);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < out.length; i++) {
    const x = frequency[i];
    if (x === 0) {
      out[i] = 1;
      continue;
    }
    // Stryker disable next-line ConditionalExpression: without the cache lo is computed below, the same
    let lo = x < 4096 ? logOdds[x] : Number.NaN;
    // Stryker disable next-line ConditionalExpression: computing lo again gives the same value
    if (Number.isNaN(lo)) {
      lo = Math.log(a / (b + x - 1));
      // Stryker disable next-line ConditionalExpression,EqualityOperator: cached or not (a write past the table's end is ignored), lo is the same
      if (x < 4096) logOdds[x] = lo;
    }
    out[i] = 1 / (1 + Math.exp(lo + (r + x) * Math.log1p((age[i] - rec[i]) / (alpha + rec[i]))));
  }
  return out;
}

/**
 * E[Y(t) | x, t_x, T]: expected repeat purchases in the next t time units
 * (paper eq. 10; lifetimes `conditional_expected_number_of_purchases_up_to_time`).
 */
export function conditionalExpectedPurchases(params: BgNbdParams, t: number, frequency: number, recency: number, T: number): number;
export function conditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalExpectedPurchases(
  params: BgNbdParams,
  t: number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const { r, alpha, a, b } = params;
  if (typeof frequency === 'number') {
    const age = T as number;
    return pAlive(r, alpha, a, b, frequency, recency as number, age) * expectedIfAliveOne(params, frequency, age, t);
  }
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  const one = new Float64Array(1);
  const ifAlive = expectedPurchasesIfAliveEvaluator(params, [t]);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < out.length; i++) {
    ifAlive(frequency[i], age[i], one);
    out[i] = pAlive(r, alpha, a, b, frequency[i], rec[i], age[i]) * one[0];
  }
  return out;
}

/** E[X(t)]: expected repeat purchases of a new customer in (0, t] (paper eq. 9). */
export function expectedPurchases(params: BgNbdParams, t: number): number;
export function expectedPurchases(params: BgNbdParams, t: Float64Array): Float64Array;
export function expectedPurchases(params: BgNbdParams, t: number | Float64Array): number | Float64Array {
  checkParams(params);
  if (typeof t === 'number') return expectedIfAliveOne(params, 0, 0, t);
  const out = new Float64Array(t.length);
  expectedPurchasesIfAlive(params, 0, 0, t, out);
  return out;
}

/** P(X(t) = 0): probability that a new customer makes no repeat purchase in (0, t], (α/(α+t))^r. */
export function probabilityNoPurchase(params: BgNbdParams, t: number): number;
export function probabilityNoPurchase(params: BgNbdParams, t: Float64Array): Float64Array;
export function probabilityNoPurchase(params: BgNbdParams, t: number | Float64Array): number | Float64Array {
  checkParams(params);
  const { r, alpha } = params;
  const one = (u: number): number => Math.exp(-r * Math.log1p(u / alpha));
  if (typeof t === 'number') return one(t);
  return t.map(one);
}

/**
 * P(no purchase in (T, T+t] | x, t_x, T) = 1 − P(alive) + P(alive) ((α+T)/(α+T+t))^(r+x):
 * a dead customer never buys; a live one waits Exp(λ) with λ | data ~ Gamma(r+x, α+T).
 */
export function conditionalProbabilityNoPurchase(params: BgNbdParams, t: number, frequency: number, recency: number, T: number): number;
export function conditionalProbabilityNoPurchase(
  params: BgNbdParams,
  t: number,
  frequency: Float64Array,
  recency: Float64Array,
  T: Float64Array,
): Float64Array;
export function conditionalProbabilityNoPurchase(
  params: BgNbdParams,
  t: number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  checkParams(params);
  const { r, alpha, a, b } = params;
  const one = (x: number, tx: number, age: number): number => {
    const p = pAlive(r, alpha, a, b, x, tx, age);
    return 1 - p + p * Math.exp(-(r + x) * Math.log1p(t / (alpha + age)));
  };
  return perHistory(one, frequency, recency, T);
}
