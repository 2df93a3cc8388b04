/**
 * Shared machinery of the model fits: input validation and compression of
 * purchase patterns into lookup tables, and the log-parameter maximum
 * likelihood driver (BFGS, penalty, delta-method standard errors).
 */
import { invertSymmetricPositiveDefinite, minimizeBfgs, numericalHessian, type MinimizeResult } from './optimize.js';
import type { FitOptions, FitResult, PurchasePatterns } from './types.js';

/** The IEEE-754 bits of a Float64Array as (low, high) 32-bit word pairs, without copying. */
function bitsOf(values: Float64Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, 2 * values.length);
}

/** Folds −0 (high word 0x80000000, low word 0) into +0 so the two hash alike. */
function highWord(bits: Uint32Array, i: number): number {
  const high = bits[2 * i + 1];
  return high === 0x80000000 && bits[2 * i] === 0 ? 0 : high;
}

/**
 * Distinct values of `values[0..n)` (in order of first appearance) and, for
 * each element, the index of its value. Open-addressing hash table on the
 * IEEE-754 bits, grown as distinct values appear: O(n), and for the usual
 * few hundred or thousand distinct times the table stays in cache. NaN is
 * not supported (callers validate first).
 */
export function distinctIndex(values: Float64Array, n = values.length): { values: Float64Array; index: Int32Array } {
  const bits = bitsOf(values);
  const index = new Int32Array(n);
  let capacity = 1024;
  let slots = new Int32Array(capacity).fill(-1); // → position in `distinct`
  let hashes = new Int32Array(capacity / 2); // hash of each distinct value, for rehashing
  let distinct = new Float64Array(capacity / 2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    const high = highWord(bits, i);
    const hash = Math.imul(bits[2 * i], 0x9e3779b1) ^ Math.imul(high ^ (high >>> 16), 0x85ebca6b);
    let h = (hash ^ (hash >>> 15)) & (capacity - 1);
    for (;;) {
      const slot = slots[h];
      if (slot === -1) {
        if (2 * (m + 1) > capacity) {
          // Keep the load below ½: double, rehash, and probe again.
          capacity *= 2;
          slots = new Int32Array(capacity).fill(-1);
          for (let k = 0; k < m; k++) {
            let g = (hashes[k] ^ (hashes[k] >>> 15)) & (capacity - 1);
            while (slots[g] !== -1) g = (g + 1) & (capacity - 1);
            slots[g] = k;
          }
          const grownHashes = new Int32Array(capacity / 2);
          grownHashes.set(hashes);
          hashes = grownHashes;
          const grownDistinct = new Float64Array(capacity / 2);
          grownDistinct.set(distinct);
          distinct = grownDistinct;
          h = (hash ^ (hash >>> 15)) & (capacity - 1);
          continue;
        }
        slots[h] = m;
        hashes[m] = hash;
        distinct[m] = v === 0 ? 0 : v;
        index[i] = m++;
        break;
      }
      if (distinct[slot] === v) {
        index[i] = slot;
        break;
      }
      h = (h + 1) & (capacity - 1);
    }
  }
  return { values: distinct.slice(0, m), index };
}

/**
 * Rows i < n whose values (columns[0][i], columns[1][i], …) hash below
 * `fraction`: a pseudo-random subsample determined by the values alone, not
 * by their order, so shuffled input gives the same warm start.
 */
export function selectByHash(columns: readonly Float64Array[], n: number, fraction: number): Int32Array {
  const bits = columns.map(bitsOf);
  const keep = new Int32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    let h = 0x811c9dc5;
    for (let c = 0; c < bits.length; c++) {
      h = Math.imul(h ^ bits[c][2 * i], 0x01000193);
      h = Math.imul(h ^ highWord(bits[c], i), 0x01000193);
      h ^= h >>> 13;
      h = Math.imul(h, 0x5bd1e995);
      h ^= h >>> 15;
    }
    if ((h >>> 0) / 4294967296 < fraction) keep[count++] = i;
  }
  return keep.slice(0, count);
}

/**
 * Purchase patterns prepared for fast likelihood evaluation: zero-weight
 * patterns dropped, and frequency and time values replaced by indices into
 * tables of distinct values, so that every log(α + t), lgamma(r + x), … is
 * computed once per distinct value rather than once per pattern.
 */
export interface CompiledPatterns {
  /** Number of patterns kept (weight > 0). */
  readonly count: number;
  readonly totalWeight: number;
  readonly weight: Float64Array;
  readonly frequency: Float64Array;
  readonly recency: Float64Array;
  readonly T: Float64Array;
  /**
   * Distinct frequencies (ascending), their per-pattern index and total
   * weight. Patterns are sorted by frequency: those with frequency
   * xValues[j] are blockStart[j] .. blockStart[j+1] − 1.
   */
  readonly xValues: Float64Array;
  readonly xIndex: Int32Array;
  readonly xWeight: Float64Array;
  readonly blockStart: Int32Array;
  /** For each compiled pattern, its row in the input arrays. */
  readonly source: Int32Array;
  /** Distinct time values (recency ∪ T) and the per-pattern indices of recency and T. */
  readonly times: Float64Array;
  readonly recencyIndex: Int32Array;
  readonly TIndex: Int32Array;
  /** Weighted sums used for starting values. */
  readonly sumWeightedFrequency: number;
  readonly sumWeightedT: number;
  readonly maxT: number;
}

function checkLengths(name: string, lengths: Record<string, number>): number {
  const entries = Object.entries(lengths);
  const n = entries[0][1];
  for (const [key, len] of entries) {
    if (len !== n) {
      throw new TypeError(`${name}: arrays must have equal lengths (${entries.map(([k, l]) => `${k}=${l}`).join(', ')}; ${key} differs)`);
    }
  }
  return n;
}

/**
 * Validate and compress purchase patterns. Throws RangeError for values that
 * cannot be a purchase history (negative or non-finite numbers, recency > T);
 * recency is forced to 0 when frequency is 0, and a recency exceeding T by
 * rounding only (relative 1e-9) is clamped to T.
 */
export function compilePurchasePatterns(data: PurchasePatterns, name = 'patterns'): CompiledPatterns {
  const n = checkLengths(name, {
    frequency: data.frequency.length,
    recency: data.recency.length,
    T: data.T.length,
    weight: data.weight.length,
  });
  let count = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`${name}: weight[${i}] = ${w} must be a finite number ≥ 0`);
    if (w > 0) count++;
  }
  // Kept patterns, validated, in input order.
  const w0 = new Float64Array(count);
  const x0 = new Float64Array(count);
  const r0 = new Float64Array(count);
  const t0 = new Float64Array(count);
  const row0 = new Int32Array(count);
  let totalWeight = 0;
  let sumWeightedFrequency = 0;
  let sumWeightedT = 0;
  let maxT = 0;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const w = data.weight[i];
    if (w === 0) continue;
    const x = data.frequency[i];
    let tx = data.recency[i];
    const t = data.T[i];
    if (!(x >= 0) || !Number.isInteger(x)) throw new RangeError(`${name}: frequency[${i}] = ${x} must be an integer ≥ 0 (a count of repeat purchases)`);
    if (!(t >= 0) || !Number.isFinite(t)) throw new RangeError(`${name}: T[${i}] = ${t} must be a finite number ≥ 0`);
    if (!(tx >= 0) || !Number.isFinite(tx)) throw new RangeError(`${name}: recency[${i}] = ${tx} must be a finite number ≥ 0`);
    if (tx > t) {
      if (tx - t > 1e-9 * Math.max(1, t)) throw new RangeError(`${name}: recency[${i}] = ${tx} exceeds T[${i}] = ${t}`);
      tx = t;
    }
    if (x === 0) tx = 0;
    w0[k] = w;
    x0[k] = x;
    r0[k] = tx;
    t0[k] = t;
    row0[k] = i;
    totalWeight += w;
    sumWeightedFrequency += w * x;
    sumWeightedT += w * t;
    if (t > maxT) maxT = t;
    k++;
  }

  // Stable counting sort by frequency (ascending): the likelihood loops then
  // walk each frequency's per-time tables in one block, which keeps them in cache.
  const xs = distinctIndex(x0);
  const nx = xs.values.length;
  const order = Array.from({ length: nx }, (_, j) => j).sort((a, b) => xs.values[a] - xs.values[b]);
  const rank = new Int32Array(nx);
  order.forEach((j, position) => (rank[j] = position));
  const xValues = Float64Array.from(order, (j) => xs.values[j]);
  const start = new Int32Array(nx + 1);
  for (let i = 0; i < count; i++) start[rank[xs.index[i]] + 1]++;
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let j = 0; j < nx; j++) start[j + 1] += start[j];
  const blockStart = start.slice();
  const weight = new Float64Array(count);
  const frequency = new Float64Array(count);
  const recency = new Float64Array(count);
  const T = new Float64Array(count);
  const xIndex = new Int32Array(count);
  const source = new Int32Array(count);
  const xWeight = new Float64Array(nx);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < count; i++) {
    const j = rank[xs.index[i]];
    const dest = start[j]++;
    weight[dest] = w0[i];
    frequency[dest] = x0[i];
    recency[dest] = r0[i];
    T[dest] = t0[i];
    xIndex[dest] = j;
    source[dest] = row0[i];
    xWeight[j] += w0[i];
  }
  // One table for both time columns: recency values are mostly also T values.
  const both = new Float64Array(2 * count);
  both.set(recency, 0);
  both.set(T, count);
  const ts = distinctIndex(both);
  return {
    count,
    totalWeight,
    weight,
    frequency,
    recency,
    T,
    xValues,
    xIndex,
    xWeight,
    blockStart,
    source,
    times: ts.values,
    recencyIndex: ts.index.subarray(0, count),
    TIndex: ts.index.subarray(count),
    sumWeightedFrequency,
    sumWeightedT,
    maxT,
  };
}

/** Above this many patterns the fit first runs on a subsample to get a warm start. */
export const WARM_START_MIN_ROWS = 50_000;
/** Target size of that subsample. */
export const WARM_START_ROWS = 20_000;

/**
 * An order-independent pseudo-random subsample of about `target` patterns
 * (selected by a hash of their values), or null when the data are small
 * enough to fit directly.
 */
export function subsamplePurchasePatterns(data: CompiledPatterns, target = WARM_START_ROWS): CompiledPatterns | null {
  if (data.count < WARM_START_MIN_ROWS) return null;
  const keep = selectByHash([data.frequency, data.recency, data.T], data.count, target / data.count);
  const pick = (v: Float64Array): Float64Array => {
    const out = new Float64Array(keep.length);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let k = 0; k < keep.length; k++) out[k] = v[keep[k]];
    return out;
  };
  const sub = compilePurchasePatterns({
    frequency: pick(data.frequency),
    recency: pick(data.recency),
    T: pick(data.T),
    weight: pick(data.weight),
  });
  return sub.sumWeightedFrequency > 0 ? sub : null;
}

/** A model's weighted log-likelihood and its gradient w.r.t. the log-parameters. */
export type LogLikelihoodWithGradient = (logParams: Float64Array, gradient: Float64Array) => number;

export interface LogSpaceFitSpec {
  /** Model name for messages, e.g. "BG/NBD". */
  readonly model: string;
  readonly names: readonly string[];
  readonly logLikelihood: LogLikelihoodWithGradient;
  /** Σ weights: the objective is the mean per customer, so tolerances do not scale with the data size. */
  readonly totalWeight: number;
  /** Natural-parameter starting point. */
  readonly initial: ArrayLike<number>;
  readonly penalty?: number;
  readonly maxIterations?: number;
  readonly tolerance?: number;
  /**
   * The same model on a subsample of the data: fitted first, loosely, and
   * its optimum and curvature used to start the full fit, so the expensive
   * full-data passes are only the last few superlinear BFGS steps.
   */
  readonly warmStart?: { readonly logLikelihood: LogLikelihoodWithGradient; readonly totalWeight: number } | null;
}

export interface LogSpaceFit {
  readonly params: Float64Array;
  readonly standardErrors: Float64Array | null;
  readonly logLikelihood: number;
  readonly iterations: number;
  readonly converged: boolean;
  readonly message: string;
}

/** `one` of a customer history (x, t_x, T): for one customer given as numbers, else element by element over the arrays. */
export function perHistory(
  one: (frequency: number, recency: number, T: number) => number,
  frequency: number | Float64Array,
  recency: number | Float64Array,
  T: number | Float64Array,
): number | Float64Array {
  if (typeof frequency === 'number') return one(frequency, recency as number, T as number);
  const rec = recency as Float64Array;
  const age = T as Float64Array;
  const out = new Float64Array(frequency.length);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < out.length; i++) out[i] = one(frequency[i], rec[i], age[i]);
  return out;
}

/**
 * A model's parameters: positive numbers with names in a fixed order. The
 * fits work on their logarithms, a vector in that order; results come back as
 * frozen objects with the names in that order (as summary.json shows them).
 */
export interface ModelParameters<P> {
  readonly names: readonly string[];
  /** Throws a RangeError naming the model and the parameter unless every value is finite and > 0. */
  check(params: P): void;
  /** The values in name order. */
  values(params: P): number[];
  /** Checked, then the log of each value, in name order. */
  toTheta(params: P): Float64Array;
  fromVector(v: ArrayLike<number>): P;
  /** A log-likelihood over log-parameters, at `params`. */
  valueAt(logLikelihood: LogLikelihoodWithGradient, params: P): number;
  /** Its gradient w.r.t. the log-parameters (∂LL/∂log θ = θ ∂LL/∂θ), named like the parameters. */
  gradientAt(logLikelihood: LogLikelihoodWithGradient, params: P): P;
}

export function positiveParameters<N extends string>(model: string, names: readonly N[]): ModelParameters<Readonly<Record<N, number>>> {
  type P = Readonly<Record<N, number>>;
  const values = (params: P) => names.map((name) => params[name]);
  const check = (params: P) => {
    for (const name of names) {
      const v = params[name];
      if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${model}: parameter ${name} = ${v} must be a finite number > 0`);
    }
  };
  const toTheta = (params: P) => {
    check(params);
    return Float64Array.from(values(params), Math.log);
  };
  const fromVector = (v: ArrayLike<number>) => Object.freeze(Object.fromEntries(names.map((name, i) => [name, v[i]]))) as P;
  return {
    names,
    check,
    values,
    toTheta,
    fromVector,
    valueAt: (logLikelihood, params) => logLikelihood(toTheta(params), new Float64Array(names.length)),
    gradientAt: (logLikelihood, params) => {
      const gradient = new Float64Array(names.length);
      logLikelihood(toTheta(params), gradient);
      return fromVector(gradient);
    },
  };
}

/** A fit's natural-parameter result as the model's immutable FitResult. */
export function toFitResult<P>(fit: LogSpaceFit, toParams: (v: ArrayLike<number>) => P, overrides: { converged?: boolean; message?: string } = {}): FitResult<P> {
  return Object.freeze({
    params: toParams(fit.params),
    standardErrors: fit.standardErrors ? toParams(fit.standardErrors) : null,
    logLikelihood: fit.logLikelihood,
    iterations: fit.iterations,
    converged: overrides.converged ?? fit.converged,
    message: overrides.message ?? fit.message,
  });
}

/** The result when the data cannot identify the model: the starting values, flagged as not converged. */
export function notFitted<P>(model: string, params: P, logLikelihood: number, reason: string): FitResult<P> {
  return Object.freeze({
    params,
    standardErrors: null,
    logLikelihood,
    iterations: 0,
    converged: false,
    message: `${model} not fitted: ${reason}; parameters are the starting values`,
  });
}

/**
 * Why purchase patterns cannot identify a purchase model (null when they can).
 * `hidden` names what repeat purchases are needed to tell apart from the
 * purchase rates (dropout for BG/NBD, lifetimes for Pareto/NBD).
 */
export function unidentifiedPurchases(compiled: CompiledPatterns, hidden: string): string | null {
  if (compiled.count === 0) return 'no patterns with positive weight';
  if (compiled.sumWeightedFrequency === 0) return `no repeat purchases (every frequency is 0), so purchase rates and ${hidden} cannot be separated`;
  if (compiled.maxT === 0) return 'every customer has T = 0: no observation time';
  return null;
}

/** Log-parameters beyond ±LOG_BOUND (e^30 ≈ 1e13) are outside any sensible model: reject them. */
const LOG_BOUND = 30;
/**
 * A fit ending beyond ±DIVERGED (e^16 ≈ 9e6, e^−16 ≈ 1e−7) has run off to a
 * boundary of the parameter space (e.g. s → 0: nobody ever churns), where
 * the likelihood is flat and the numbers mean nothing.
 */
const DIVERGED = 16;

/**
 * Maximum (penalised) likelihood in log-parameter space:
 * minimise −LL(θ)/W + penalty · Σ exp(2θ) with BFGS, then standard errors of
 * the natural parameters by the delta method, SE(φ) = φ · sqrt([H⁻¹]ᵢᵢ) with
 * H the Hessian of the total penalised negative log-likelihood in log space.
 */
export function fitLogSpace(spec: LogSpaceFitSpec): LogSpaceFit {
  const dim = spec.names.length;
  const penalty = spec.penalty ?? 0;
  if (!(penalty >= 0) || !Number.isFinite(penalty)) throw new RangeError(`${spec.model}: penalty must be a finite number ≥ 0, got ${penalty}`);
  const W = spec.totalWeight;
  const llGradient = new Float64Array(dim);

  const makeObjective =
    (ll: LogLikelihoodWithGradient, weight: number) =>
    (theta: Float64Array, gradient: Float64Array): number => {
      for (let i = 0; i < dim; i++) if (!(Math.abs(theta[i]) <= LOG_BOUND)) return Number.POSITIVE_INFINITY;
      const value = ll(theta, llGradient);
      let f = -value / weight;
      for (let i = 0; i < dim; i++) {
        const e2 = Math.exp(2 * theta[i]);
        f += penalty * e2;
        gradient[i] = -llGradient[i] / weight + 2 * penalty * e2;
      }
      return f;
    };
  const objective = makeObjective(spec.logLikelihood, W);

  const start = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    const v = spec.initial[i];
    if (!(v > 0) || !Number.isFinite(v)) throw new RangeError(`${spec.model}: initial ${spec.names[i]} = ${v} must be a finite number > 0`);
    start[i] = Math.log(v);
  }
  const maxIterations = spec.maxIterations ?? 200;
  const gradientTolerance = spec.tolerance ?? 1e-10;

  let warmNote = '';
  let opt: MinimizeResult | null = null;
  if (spec.warmStart) {
    const warm = minimizeBfgs(makeObjective(spec.warmStart.logLikelihood, spec.warmStart.totalWeight), start, {
      maxIterations,
      gradientTolerance: 1e-7,
    });
    let usable = Number.isFinite(warm.value);
    for (let i = 0; i < dim; i++) usable &&= Math.abs(warm.x[i]) <= DIVERGED;
    if (usable) {
      const full = minimizeBfgs(objective, warm.x, { maxIterations, gradientTolerance, initialInverseHessian: warm.inverseHessian });
      if (full.converged) {
        opt = full;
        warmNote = ` (warm start: ${warm.iterations} iterations on a subsample of weight ${spec.warmStart.totalWeight})`;
      }
    }
  }
  // No warm start, or it led nowhere: fit from the plain starting point.
  opt ??= minimizeBfgs(objective, start, { maxIterations, gradientTolerance });
  const theta = opt.x;
  const params = new Float64Array(dim);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < dim; i++) params[i] = Math.exp(theta[i]);
  // The objective is −LL/W + penalty: recover LL without another pass over the data.
  let penaltyTerm = 0;
  for (let i = 0; i < dim; i++) penaltyTerm += penalty * Math.exp(2 * theta[i]);
  let logLikelihood = Number.isFinite(opt.value) ? -W * (opt.value - penaltyTerm) : spec.logLikelihood(theta, llGradient);

  let converged = opt.converged;
  let message = `${spec.model}: ${opt.message} after ${opt.iterations} iterations (${opt.evaluations} evaluations)${warmNote}`;
  const diverged: string[] = [];
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < dim; i++) {
    if (Math.abs(theta[i]) > DIVERGED) diverged.push(`${spec.names[i]} → ${theta[i] > 0 ? '∞' : '0'}`);
  }
  if (diverged.length > 0) {
    converged = false;
    message = `${spec.model}: parameters ran off to the boundary (${diverged.join(', ')}); the data do not identify the model`;
  }
  let finite = Number.isFinite(logLikelihood);
  for (let i = 0; i < dim; i++) finite &&= Number.isFinite(params[i]);
  if (!finite) {
    // Never hand back NaN: report the starting point, flagged as not converged.
    converged = false;
    message = `${spec.model}: non-finite result (log-likelihood ${logLikelihood}); ${opt.message}; parameters are the starting values`;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < dim; i++) params[i] = Math.exp(start[i]);
    const startLL = spec.logLikelihood(start, llGradient);
    logLikelihood = Number.isFinite(startLL) ? startLL : Number.NEGATIVE_INFINITY;
  }

  let standardErrors: Float64Array | null = null;
  // Standard errors only describe an interior optimum.
  if (finite && diverged.length === 0) {
    const hessian = numericalHessian((x, out) => {
      if (!Number.isFinite(objective(x, out))) out.fill(Number.NaN);
    }, theta);
    // The objective is the mean per customer: the information matrix is W times its Hessian.
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < hessian.length; i++) hessian[i] *= W;
    const covariance = invertSymmetricPositiveDefinite(hessian, dim);
    if (covariance) {
      const se = new Float64Array(dim);
      let ok = true;
      for (let i = 0; i < dim; i++) {
        se[i] = params[i] * Math.sqrt(covariance[i * dim + i]);
        ok &&= Number.isFinite(se[i]);
      }
      if (ok) standardErrors = se;
    }
  }
  return { params, standardErrors, logLikelihood, iterations: opt.iterations, converged, message };
}

/** What a purchase model (BG/NBD, MBG/NBD, Pareto/NBD) gives {@link fitPurchaseModel}. */
export interface PurchaseModel<P> {
  model: string;
  parameters: ModelParameters<P>;
  /** The weighted log-likelihood of `data`; for the warm start, `data` is a subsample of `whole`. */
  logLikelihood: (data: CompiledPatterns, whole: CompiledPatterns) => LogLikelihoodWithGradient;
  /** Where the fit starts when the caller names no initialParams. */
  start: (compiled: CompiledPatterns) => P;
  /** What cannot be told from purchase rates without repeat purchases ('dropout', 'lifetimes'), for the not-fitted message. */
  hidden: string;
}

/**
 * Maximum-likelihood fit of a purchase model in log-parameter space: the
 * patterns compiled once, a data set that cannot identify the model reported
 * as not fitted (at the start, with its log-likelihood), and a large one
 * warm-started on a hash subsample. Returns the compiled patterns too, for a
 * model's own last step (BG/NBD's dropout boundary).
 */
export function fitPurchaseModel<P>(
  spec: PurchaseModel<P>,
  data: PurchasePatterns,
  options: FitOptions<P>,
): { compiled: CompiledPatterns; result: FitResult<P>; fitted: boolean } {
  const { model, parameters } = spec;
  const compiled = compilePurchasePatterns(data, model);
  const logLikelihood = spec.logLikelihood(compiled, compiled);
  const initial = options.initialParams ?? spec.start(compiled);
  parameters.check(initial);

  const unidentified = unidentifiedPurchases(compiled, spec.hidden);
  if (unidentified) {
    const ll = compiled.count === 0 ? 0 : parameters.valueAt(logLikelihood, initial);
    return { compiled, result: notFitted(model, parameters.fromVector(parameters.values(initial)), ll, unidentified), fitted: false };
  }

  const sample = options.initialParams ? null : subsamplePurchasePatterns(compiled);
  const fit = fitLogSpace({
    model,
    names: parameters.names,
    logLikelihood,
    totalWeight: compiled.totalWeight,
    warmStart: sample && { logLikelihood: spec.logLikelihood(sample, compiled), totalWeight: sample.totalWeight },
    initial: parameters.values(initial),
    penalty: options.penalty,
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
  });
  return { compiled, result: toFitResult(fit, parameters.fromVector), fitted: true };
}
