/**
 * Parameter uncertainty as draws: the covariance of a fit's log-parameters
 * from the Hessian of its negative log-likelihood (the same matrix its
 * standard errors come from), parameter sets drawn from the normal
 * approximation around the estimate in log space, and the quantiles that turn
 * predictions recomputed per draw into intervals. Seeded: the same seed gives
 * the same draws, bit for bit.
 */
import type { LogLikelihoodWithGradient } from './fitting.js';
import { mulberry32 } from './kmeans.js';
import { choleskyLower, invertSymmetricPositiveDefinite, numericalHessian } from './optimize.js';

const HALF_STEP = 0.5 / 4294967296;

/**
 * Uniform numbers in (0, 1) from a 32-bit seed (mulberry32): small, fast and
 * the same on every platform, which Math.random is not asked to be.
 */
export function seededUniform(seed: number): () => number {
  const next = mulberry32(seed);
  // Shifted by half a step (exactly: k/2^32 + 2^-33): never 0, so log(u) stays finite.
  return () => next() + HALF_STEP;
}

/** Standard normal numbers from a uniform source (Box–Muller, both values of each pair used). */
export function seededNormal(seed: number): () => number {
  const uniform = seededUniform(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const z = spare;
      spare = null;
      return z;
    }
    const radius = Math.sqrt(-2 * Math.log(uniform()));
    const angle = 2 * Math.PI * uniform();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

/**
 * Hessian of the total penalised negative log-likelihood in log space,
 * −LL(θ) + W·penalty·Σ e^(2θ), as the fit minimises it (fitting.ts
 * fitLogSpace), by central differences of the analytic gradient. Row-major.
 */
export function negativeLogLikelihoodHessian(logLikelihood: LogLikelihoodWithGradient, theta: ArrayLike<number>, totalWeight: number, penalty = 0): Float64Array {
  const n = theta.length;
  const gradient = new Float64Array(n);
  return numericalHessian((x, out) => {
    const value = logLikelihood(x, gradient);
    for (let i = 0; i < n; i++) out[i] = Number.isFinite(value) ? -gradient[i] + 2 * totalWeight * penalty * Math.exp(2 * x[i]) : Number.NaN;
  }, theta);
}

/** The covariance of the log-parameters, H⁻¹ (full, not only its diagonal); null when H is not positive definite. */
export function logSpaceCovariance(logLikelihood: LogLikelihoodWithGradient, theta: ArrayLike<number>, totalWeight: number, penalty = 0): Float64Array | null {
  return invertSymmetricPositiveDefinite(negativeLogLikelihoodHessian(logLikelihood, theta, totalWeight, penalty), theta.length);
}

/** A drawn log-parameter beyond ±LOG_BOUND (e^30 ≈ 1e13) is outside any sensible model, as for the fits (fitting.ts). */
const LOG_BOUND = 30;

/**
 * `count` draws θ̂ + L·z (z standard normal from `normal`, L the Cholesky
 * factor of `covariance`), as natural parameters exp(θ), draw by draw; a
 * draw `accept` refuses is drawn again (e.g. a Gamma-Gamma q ≤ 1, whose mean
 * spend does not exist), as is one with a log-parameter beyond ±30 (where a
 * very uncertain fit's draws would give a parameter of 0 or ∞). Null when the
 * covariance is not positive definite, or when 100 draws in a row are refused.
 */
export function drawParameters(
  theta: ArrayLike<number>,
  covariance: ArrayLike<number>,
  count: number,
  normal: () => number,
  accept: (params: Float64Array) => boolean = () => true,
): Float64Array[] | null {
  const n = theta.length;
  const L = choleskyLower(covariance, n);
  if (!L) return null;
  const draws: Float64Array[] = [];
  const z = new Float64Array(n);
  let refused = 0;
  while (draws.length < count) {
    for (let i = 0; i < n; i++) z[i] = normal();
    const params = new Float64Array(n);
    let inside = true;
    for (let i = 0; i < n; i++) {
      let v = theta[i];
      for (let k = 0; k <= i; k++) v += L[i * n + k] * z[k];
      inside &&= Math.abs(v) <= LOG_BOUND;
      params[i] = Math.exp(v);
    }
    if (inside && accept(params)) {
      draws.push(params);
      refused = 0;
    } else if (++refused >= 100) return null;
  }
  return draws;
}

/** The p-quantile of ascending `sorted` values, interpolated between order statistics (Hyndman & Fan type 7, R's default). */
export function quantileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const h = (sorted.length - 1) * p;
  const below = Math.floor(h);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (h - below) * (sorted[above] - sorted[below]);
}

/**
 * The k-th smallest of `values` (0-based), moved to position k with the
 * smaller ones before it and the larger after (Hoare's quickselect, middle
 * pivot): O(n), where a sort costs O(n log n) and, for a typed array of 200,
 * some 200 µs in V8, which on half a million patterns was most of the
 * intervals' time.
 */
export function selectInPlace(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (left < right) {
    const pivot = values[(left + right) >>> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k];
}

/** The p-quantile (type 7, as quantileOfSorted) of `values`, reordered in place: the two order statistics it needs, selected. */
export function quantileInPlace(values: Float64Array, p: number): number {
  const h = (values.length - 1) * p;
  const below = Math.floor(h);
  const low = selectInPlace(values, below);
  if (below + 1 >= values.length) return low;
  // After the selection the next order statistic is the smallest of those after position `below`.
  let next = values[below + 1];
  for (let i = below + 2; i < values.length; i++) if (values[i] < next) next = values[i];
  return low + (h - below) * (next - low);
}

/** The central `level` interval of `values` (reordered in place): the (1−level)/2 and (1+level)/2 quantiles; NaN for both when a value is NaN. */
export function centralInterval(values: Float64Array, level: number): { low: number; high: number } {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return { low: Number.NaN, high: Number.NaN };
  return { low: quantileInPlace(values, (1 - level) / 2), high: quantileInPlace(values, (1 + level) / 2) };
}

/**
 * {@link centralInterval} for many arrays of `count` values at one `level`,
 * as a function that writes [low, high] to `out` and leaves `values` as they
 * are. The two quantiles need only the few smallest and the few largest
 * values (the 2nd–3rd and 42nd–43rd of 46 draws): one pass keeps those, in
 * order, where two selections would each run over the whole array. The same
 * order statistics and the same interpolation: the same numbers. When the
 * kept values would be many (a level near 0), it selects as centralInterval does.
 */
export function centralIntervalOf(count: number, level: number): (values: Float64Array, out: Float64Array) => void {
  const pLow = (1 - level) / 2;
  const pHigh = (1 + level) / 2;
  const hLow = (count - 1) * pLow;
  const hHigh = (count - 1) * pHigh;
  const belowLow = Math.floor(hLow);
  const belowHigh = Math.floor(hHigh);
  // The order statistics below and below + 1 (when there is one) of each side.
  const smallest = Math.min(belowLow + 2, count);
  const largest = count - belowHigh;
  if (!(count > 0) || smallest + largest > count / 2) {
    const scratch = new Float64Array(count);
    return (values, out) => {
      scratch.set(values);
      const { low, high } = centralInterval(scratch, level);
      out[0] = low;
      out[1] = high;
    };
  }
  // low: the smallest values so far, ascending; high: the largest so far, descending.
  const low = new Float64Array(smallest);
  const high = new Float64Array(largest);
  return (values, out) => {
    let lows = 0;
    let highs = 0;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (Number.isNaN(v)) {
        out[0] = Number.NaN;
        out[1] = Number.NaN;
        return;
      }
      if (lows < smallest || v < low[smallest - 1]) {
        let j = lows < smallest ? lows++ : smallest - 1;
        for (; j > 0 && low[j - 1] > v; j--) low[j] = low[j - 1];
        low[j] = v;
      }
      if (highs < largest || v > high[largest - 1]) {
        let j = highs < largest ? highs++ : largest - 1;
        for (; j > 0 && high[j - 1] < v; j--) high[j] = high[j - 1];
        high[j] = v;
      }
    }
    // As quantileInPlace: order statistic `below`, interpolated towards the next one when there is one.
    out[0] = belowLow + 1 >= count ? low[belowLow] : low[belowLow] + (hLow - belowLow) * (low[belowLow + 1] - low[belowLow]);
    const at = high[largest - 1];
    out[1] = belowHigh + 1 >= count ? at : at + (hHigh - belowHigh) * (high[largest - 2] - at);
  };
}
