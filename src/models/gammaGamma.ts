/**
 * Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005,
 * "RFM and CLV: using iso-value curves"; Colombo & Jiang 1999): a customer's
 * transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers,
 * independent of the purchase process.
 *
 * Log-likelihood of a repeat customer with x repeat transactions of mean
 * value m_x (the convention of BTYD `spend.LL` and lifetimes'
 * `GammaGammaFitter`, which reproduces −4055.92 on CDNOW):
 *
 *   log Γ(px+q) − log Γ(px) − log Γ(q) + q log γ + (px−1) log m_x + px log x − (px+q) log(γ + x m_x)
 *
 * Everything but the last term is a function of x alone (given Σ w log m_x
 * per frequency, computed once), so an evaluation costs one log and one
 * division per customer.
 */
import { distinctIndex, fitLogSpace, notFitted, positiveParameters, selectByHash, toFitResult, WARM_START_MIN_ROWS, WARM_START_ROWS } from './fitting.js';
import { digamma, logGamma, logGammaRatio } from './specialFunctions.js';
import type { FitOptions, FitResult, GammaGammaParams, SpendPatterns } from './types.js';

const PARAMETERS = positiveParameters('Gamma-Gamma', ['p', 'q', 'gamma']);
const checkParams = PARAMETERS.check;

/** Repeat customers' spend, validated and sorted by frequency for block-wise evaluation. */
interface CompiledSpend {
  readonly count: number;
  readonly ignored: number;
  readonly totalWeight: number;
  readonly weight: Float64Array;
  readonly frequency: Float64Array;
  readonly monetaryValue: Float64Array;
  /** x · m_x, the customer's total repeat spend. */
  readonly totalSpend: Float64Array;
  /** Distinct frequencies; rows of frequency xValues[j] are blockStart[j] .. blockStart[j+1]−1. */
  readonly xValues: Float64Array;
  readonly blockStart: Int32Array;
  readonly xWeight: Float64Array;
  /** Σ w log(x m_x) per frequency block. */
  readonly xSumLogTotalSpend: Float64Array;
  /** Σ w log m_x: a constant of the log-likelihood. */
  readonly sumLogM: number;
  readonly meanMonetary: number;
}

/** An order-independent subsample of about WARM_START_ROWS rows for a warm start, or null for small data. */
function subsampleSpend(data: CompiledSpend): CompiledSpend | null {
  if (data.count < WARM_START_MIN_ROWS) return null;
  const keep = selectByHash([data.frequency, data.monetaryValue], data.count, WARM_START_ROWS / data.count);
  const pick = (v: Float64Array): Float64Array => {
    const out = new Float64Array(keep.length);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < keep.length; k++) out[k] = v[keep[k]];
    return out;
  };
  const sub = compileSpend({ frequency: pick(data.frequency), monetaryValue: pick(data.monetaryValue), weight: pick(data.weight) });
  return sub.count > 0 ? sub : null;
}

function usable(w: number, x: number, m: number): boolean {
  return w > 0 && x > 0 && m > 0 && Number.isFinite(x) && Number.isFinite(m);
}

/** Keep rows with x > 0, m_x > 0 and weight > 0 (the others carry no spend information). */
function compileSpend(data: SpendPatterns): CompiledSpend {
  const n = data.frequency.length;
  if (data.monetaryValue.length !== n || data.weight.length !== n) {
    throw new TypeError(
      `Gamma-Gamma: arrays must have equal lengths (frequency=${n}, monetaryValue=${data.monetaryValue.length}, weight=${data.weight.length})`,
    );
  }
  let count = 0;
  let ignored = 0;
  const xFirst = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`Gamma-Gamma: weight[${i}] = ${w} must be a finite number ≥ 0`);
    if (usable(w, data.frequency[i], data.monetaryValue[i])) xFirst[count++] = data.frequency[i];
    else if (w > 0) ignored++;
  }
  // Stable counting sort of the usable rows by frequency.
  const xs = distinctIndex(xFirst, count);
  const nx = xs.values.length;
  const order = Array.from({ length: nx }, (_, j) => j).sort((a, b) => xs.values[a] - xs.values[b]);
  const rank = new Int32Array(nx);
  order.forEach((j, position) => (rank[j] = position));
  const xValues = Float64Array.from(order, (j) => xs.values[j]);
  const blockStart = new Int32Array(nx + 1);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < count; i++) blockStart[rank[xs.index[i]] + 1]++;
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let j = 0; j < nx; j++) blockStart[j + 1] += blockStart[j];
  const next = blockStart.slice(0, nx);

  const weight = new Float64Array(count);
  const frequency = new Float64Array(count);
  const monetaryValue = new Float64Array(count);
  const totalSpend = new Float64Array(count);
  const xWeight = new Float64Array(nx);
  const xSumLogTotalSpend = new Float64Array(nx);
  let sumLogM = 0;
  let totalWeight = 0;
  let sumWM = 0;
  let k = 0;
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    const x = data.frequency[i];
    const m = data.monetaryValue[i];
    if (!usable(w, x, m)) continue;
    const j = rank[xs.index[k++]];
    const dest = next[j]++;
    weight[dest] = w;
    frequency[dest] = x;
    monetaryValue[dest] = m;
    totalSpend[dest] = x * m;
    xWeight[j] += w;
    xSumLogTotalSpend[j] += w * (Math.log(x) + Math.log(m));
    sumLogM += w * Math.log(m);
    totalWeight += w;
    sumWM += w * m;
  }
  return {
    count,
    ignored,
    totalWeight,
    weight,
    frequency,
    monetaryValue,
    totalSpend,
    xValues,
    blockStart,
    xWeight,
    xSumLogTotalSpend,
    sumLogM,
    meanMonetary: totalWeight > 0 ? sumWM / totalWeight : 1,
  };
}

/** Flush a running product into a log-sum before it can leave the normal range. */
const PRODUCT_LIMIT = 1e250;
/** Factors outside [1e−40, 1e40] are logged directly rather than multiplied in. */
const FACTOR_LIMIT = 1e40;

function makeLogLikelihood(data: CompiledSpend): (theta: Float64Array, gradient: Float64Array) => number {
  const { xValues, blockStart, xWeight, xSumLogTotalSpend, weight, totalSpend, sumLogM } = data;
  const nx = xValues.length;
  return (theta, gradient) => {
    const p = Math.exp(theta[0]);
    const q = Math.exp(theta[1]);
    const gamma = Math.exp(theta[2]);
    const logGammaParam = theta[2];
    const lgQ = logGamma(q);
    const psiQ = digamma(q);
    // Per customer, with u = log(γ + x m):
    //   q log γ + (px−1) log m + px log x − (px+q) u = −q (u − log γ) + px (log(x m) − u) − log m.
    // Per frequency block we need U = Σ w u; it is the log of a running
    // product of the (γ + x m), flushed before overflow: one multiplication
    // per customer instead of one log. The block sums are then combined as
    // the small differences U − W log γ and Σ w log(x m) − U, so that the
    // total does not cancel large terms (which would leave f noisy at 1e-13).
    let ll = -sumLogM;
    let gp = 0;
    let gq = 0;
    let gg = 0;
    for (let j = 0; j < nx; j++) {
      const x = xValues[j];
      const W = xWeight[j];
      let U = 0; // Σ w log(γ + x m)
      let product = 1;
      let sumInv = 0; // Σ w / (γ + x m)
      let sumShare = 0; // Σ w x m / (γ + x m)
      for (let i = blockStart[j], end = blockStart[j + 1]; i < end; i++) {
        const xm = totalSpend[i];
        const v = gamma + xm;
        const w = weight[i];
        const wInv = w / v;
        sumInv += wInv;
        sumShare += wInv * xm;
        if (w === 1 && v < FACTOR_LIMIT && v > 1 / FACTOR_LIMIT) {
          product *= v;
          if (product > PRODUCT_LIMIT || product < 1 / PRODUCT_LIMIT) {
            U += Math.log(product);
            product = 1;
          }
        } else {
          U += w * Math.log(v);
        }
      }
      U += Math.log(product);
      const px = p * x;
      const psiPXQ = digamma(px + q);
      const excessOverGamma = U - W * logGammaParam; // Σ w (u − log γ) ≥ 0
      const spendShareLog = xSumLogTotalSpend[j] - U; // Σ w (log(x m) − u) ≤ 0
      ll += W * (logGammaRatio(px, q) - lgQ) - q * excessOverGamma + px * spendShareLog;
      gp += W * x * (psiPXQ - digamma(px)) + x * spendShareLog;
      gq += W * (psiPXQ - psiQ) - excessOverGamma;
      gg += (q / gamma) * sumShare - p * x * sumInv;
    }
    gradient[0] = gp * p;
    gradient[1] = gq * q;
    gradient[2] = gg * gamma;
    return ll;
  };
}

/** The log-likelihood over (log p, log q, log γ) of `data` as the fit maximises it, and the weight of the rows it uses. */
export function gammaGammaLogSpace(data: SpendPatterns): { logLikelihood: (theta: Float64Array, gradient: Float64Array) => number; totalWeight: number } {
  const compiled = compileSpend(data);
  return { logLikelihood: makeLogLikelihood(compiled), totalWeight: compiled.totalWeight };
}

/** Weighted log-likelihood of the repeat customers' mean spends (rows with x ≤ 0 or m_x ≤ 0 ignored). */
export function gammaGammaLogLikelihood(params: GammaGammaParams, data: SpendPatterns): number {
  return PARAMETERS.valueAt(makeLogLikelihood(compileSpend(data)), params);
}

/** Gradient of {@link gammaGammaLogLikelihood} w.r.t. the log-parameters: ∂LL/∂log θ = θ ∂LL/∂θ. */
export function gammaGammaLogLikelihoodGradient(params: GammaGammaParams, data: SpendPatterns): GammaGammaParams {
  return PARAMETERS.gradientAt(makeLogLikelihood(compileSpend(data)), params);
}

/**
 * Maximum-likelihood fit of the Gamma-Gamma model in log-parameter space.
 * Starts from p = 1, q = 2, γ = mean m_x (population mean spend pγ/(q−1) = mean m_x).
 */
export function fitGammaGamma(data: SpendPatterns, options: FitOptions<GammaGammaParams> = {}): FitResult<GammaGammaParams> {
  const compiled = compileSpend(data);
  const logLikelihood = makeLogLikelihood(compiled);
  const initial = options.initialParams ?? { p: 1, q: 2, gamma: compiled.meanMonetary };
  checkParams(initial);
  const note = compiled.ignored > 0 ? ` (${compiled.ignored} rows with frequency ≤ 0 or monetary value ≤ 0 ignored)` : '';
  if (compiled.count === 0) {
    return notFitted('Gamma-Gamma', PARAMETERS.fromVector(PARAMETERS.values(initial)), 0, `no repeat customers with a positive monetary value${note}`);
  }
  const sample = options.initialParams ? null : subsampleSpend(compiled);
  const fit = fitLogSpace({
    model: 'Gamma-Gamma',
    names: PARAMETERS.names,
    logLikelihood,
    totalWeight: compiled.totalWeight,
    warmStart: sample && { logLikelihood: makeLogLikelihood(sample), totalWeight: sample.totalWeight },
    initial: PARAMETERS.values(initial),
    penalty: options.penalty,
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
  });
  let converged = fit.converged;
  let message = fit.message + note;
  if (converged && !(fit.params[1] > 1)) {
    // The population mean spend pγ/(q−1) only exists for q > 1.
    converged = false;
    message += `; q = ${fit.params[1]} ≤ 1, so the population mean spend is undefined`;
  }
  return toFitResult(fit, PARAMETERS.fromVector, { converged, message });
}

/** Population mean spend per transaction, E[Z] = pγ/(q−1); +Infinity when q ≤ 1. */
export function populationMeanSpend(params: GammaGammaParams): number {
  checkParams(params);
  const { p, q, gamma } = params;
  // Stryker disable next-line EqualityOperator: at q = 1 the formula divides p·γ > 0 by 0: +∞ as well
  return q > 1 ? (p * gamma) / (q - 1) : Number.POSITIVE_INFINITY;
}

/**
 * E[Z | x, m_x] = (p(γ + x m_x)) / (px + q − 1): a credibility-weighted mix of
 * the population mean and the customer's own mean (paper eq. 5). Customers
 * without usable spend history (x ≤ 0, or m_x ≤ 0 or not finite) get the
 * population mean, as the model was fitted without them.
 */
export function conditionalExpectedAverageValue(params: GammaGammaParams, frequency: number, monetaryValue: number): number;
export function conditionalExpectedAverageValue(
  params: GammaGammaParams,
  frequency: Float64Array,
  monetaryValue: Float64Array,
): Float64Array;
export function conditionalExpectedAverageValue(
  params: GammaGammaParams,
  frequency: number | Float64Array,
  monetaryValue: number | Float64Array,
): number | Float64Array {
  const population = populationMeanSpend(params);
  const { p, q, gamma } = params;
  const one = (x: number, m: number): number => {
    if (!(x > 0 && m > 0 && Number.isFinite(m) && Number.isFinite(x))) return population;
    return (p * (gamma + x * m)) / (p * x + q - 1);
  };
  if (typeof frequency === 'number') return one(frequency, monetaryValue as number);
  const m = monetaryValue as Float64Array;
  if (m.length !== frequency.length) throw new TypeError('Gamma-Gamma: frequency and monetaryValue must have equal lengths');
  const out = new Float64Array(frequency.length);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < out.length; i++) out[i] = one(frequency[i], m[i]);
  return out;
}
