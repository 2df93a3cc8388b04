/**
 * Discounted expected purchases for customer lifetime value (DESIGN §3 "CLV"):
 *
 *   clv = Σ_{k=1..H} g · E[spend] · (E[X(k)] − E[X(k−1)]) / (1 + d)^k
 *
 * with E[X(k)] the expected number of purchases in the first k months after
 * the as-of date (a month is 30 days). This module returns, per pattern, the
 * purchase part
 *
 *   discountFactor = Σ_{k=1..H} (E[X(k)] − E[X(k−1)]) / (1 + d)^k
 *
 * so that clv = margin × expected average value × discountFactor, plus
 * E[X(H)] and P(alive), in one call per model.
 *
 * All three models factor as E[X(t) | x, t_x, T] = P(alive | x, t_x, T) ·
 * E[X(t) | alive, x, T], and the second factor depends on the pattern only
 * through (x, T): it is computed once per distinct (x, T) pair, for all H
 * horizons at once, and shared by every recency.
 */
import * as bgNbd from './bgNbd.js';
import * as mbgNbd from './mbgNbd.js';
import { distinctIndex } from './fitting.js';
import * as paretoNbd from './paretoNbd.js';
import { monthLength, type BgNbdParams, type ParetoNbdParams, type TimeUnit } from './types.js';

export interface ClvOptions {
  /** Horizon H in months (30 days). Default 12. */
  readonly horizonMonths?: number;
  /** Monthly discount rate d. Default 0.01. */
  readonly monthlyDiscountRate?: number;
  /** Time unit of the patterns. Default 'week'. */
  readonly timeUnit?: TimeUnit;
}

/** Per-pattern inputs of the CLV computation; the patterns' `weight` is not needed. */
export interface ClvPatterns {
  readonly frequency: Float64Array;
  readonly recency: Float64Array;
  readonly T: Float64Array;
}

export interface ClvFactors {
  /** Σ_{k=1..H} (E[X(k)] − E[X(k−1)]) / (1+d)^k per pattern. */
  readonly discountFactor: Float64Array;
  /** E[X(H)]: expected purchases over the whole horizon, undiscounted. */
  readonly expectedPurchases: Float64Array;
  /** P(alive at the as-of date). */
  readonly pAlive: Float64Array;
}

export function clvFactors(model: 'bgnbd' | 'mbgnbd', params: BgNbdParams, patterns: ClvPatterns, options?: ClvOptions): ClvFactors;
export function clvFactors(model: 'paretonbd', params: ParetoNbdParams, patterns: ClvPatterns, options?: ClvOptions): ClvFactors;
export function clvFactors(
  model: 'bgnbd' | 'mbgnbd' | 'paretonbd',
  params: BgNbdParams | ParetoNbdParams,
  patterns: ClvPatterns,
  options: ClvOptions = {},
): ClvFactors {
  checkHorizon('clvFactors', options);
  const { frequency, recency, T } = patterns;
  const n = frequency.length;
  if (recency.length !== n || T.length !== n) {
    throw new TypeError(`clvFactors: arrays must have equal lengths (frequency=${n}, recency=${recency.length}, T=${T.length})`);
  }

  for (let i = 0; i < n; i++) {
    const x = frequency[i];
    if (!(x >= 0) || !Number.isInteger(x)) throw new RangeError(`clvFactors: frequency[${i}] = ${x} must be an integer ≥ 0`);
    if (!(T[i] >= 0) || !Number.isFinite(T[i])) throw new RangeError(`clvFactors: T[${i}] = ${T[i]} must be a finite number ≥ 0`);
    if (!(recency[i] >= 0) || !(recency[i] <= T[i] * (1 + 1e-9) + 1e-12)) {
      throw new RangeError(`clvFactors: recency[${i}] = ${recency[i]} must lie in [0, T[${i}] = ${T[i]}]`);
    }
  }

  const pAlive =
    model === 'bgnbd'
      ? bgNbd.conditionalProbabilityAlive(params as BgNbdParams, frequency, recency, T)
      : model === 'mbgnbd'
        ? mbgNbd.conditionalProbabilityAlive(params as BgNbdParams, frequency, recency, T)
        : paretoNbd.conditionalProbabilityAlive(params as ParetoNbdParams, frequency, recency, T);

  const groups = frequencyTGroups(frequency, T);
  const alive =
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: both branches make the same call; the test only picks the overload for the type checker
    model === 'paretonbd' ? aliveFactors(model, params as ParetoNbdParams, groups, options) : aliveFactors(model, params as BgNbdParams, groups, options);

  const discountFactor = new Float64Array(n);
  const expectedPurchases = new Float64Array(n);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < n; i++) {
    const j = groups.index[i];
    discountFactor[i] = pAlive[i] * alive.discountFactor[j];
    expectedPurchases[i] = pAlive[i] * alive.expectedPurchases[j];
  }
  return Object.freeze({ discountFactor, expectedPurchases, pAlive });
}

function checkHorizon(name: string, options: ClvOptions): void {
  const H = options.horizonMonths ?? 12;
  const d = options.monthlyDiscountRate ?? 0.01;
  if (!Number.isInteger(H) || H < 0) throw new RangeError(`${name}: horizonMonths must be an integer ≥ 0, got ${H}`);
  if (!(d > -1) || !Number.isFinite(d)) throw new RangeError(`${name}: monthlyDiscountRate must be a finite number > −1, got ${d}`);
}

/** Distinct (frequency, T) pairs, in order of first appearance, and each input's pair. */
export interface FrequencyTGroups {
  readonly frequency: Float64Array;
  readonly T: Float64Array;
  /** For each input element, the index of its (frequency, T) pair. */
  readonly index: Int32Array;
}

/** The distinct (x, T) pairs of `frequency` (integers ≥ 0) and `T` (finite): O(n) by hashing. */
export function frequencyTGroups(frequency: Float64Array, T: Float64Array): FrequencyTGroups {
  const n = frequency.length;
  if (T.length !== n) throw new TypeError(`frequencyTGroups: arrays must have equal lengths (frequency=${n}, T=${T.length})`);
  // Index T values, then combine with x into one exact integer key (x is an integer count).
  const tIds = distinctIndex(T);
  const nT = tIds.values.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = frequency[i] * nT + tIds.index[i];
  const groups = distinctIndex(keys);
  const nGroups = groups.values.length;
  const groupFrequency = new Float64Array(nGroups);
  const groupT = new Float64Array(nGroups);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < n; i++) {
    groupFrequency[groups.index[i]] = frequency[i];
    groupT[groups.index[i]] = T[i];
  }
  return Object.freeze({ frequency: groupFrequency, T: groupT, index: groups.index });
}

/** The P(alive)-free part of {@link ClvFactors}, per (x, T). */
export interface AliveFactors {
  /** Σ_{k=1..H} (g_k − g_{k−1}) / (1+d)^k with g_k = E[X(k months) | alive at T, x, T]. */
  readonly discountFactor: Float64Array;
  /** g_H: expected purchases over the whole horizon of a customer alive at T. */
  readonly expectedPurchases: Float64Array;
}

/**
 * The second factor of E[X(t) | x, t_x, T] = P(alive) · E[X(t) | alive, x, T],
 * discounted and summed over the horizon, for each (x, T) given (typically
 * the distinct pairs of {@link frequencyTGroups}). clvFactors = P(alive) ×
 * these; the pipeline multiplies by P(alive) in SQL instead, so only one row
 * per (x, T) pair has to be loaded back into the engine.
 */
export function aliveFactors(model: 'bgnbd' | 'mbgnbd', params: BgNbdParams, groups: { readonly frequency: Float64Array; readonly T: Float64Array }, options?: ClvOptions): AliveFactors;
export function aliveFactors(model: 'paretonbd', params: ParetoNbdParams, groups: { readonly frequency: Float64Array; readonly T: Float64Array }, options?: ClvOptions): AliveFactors;
export function aliveFactors(
  model: 'bgnbd' | 'mbgnbd' | 'paretonbd',
  params: BgNbdParams | ParetoNbdParams,
  groups: { readonly frequency: Float64Array; readonly T: Float64Array },
  options: ClvOptions = {},
): AliveFactors {
  checkHorizon('aliveFactors', options);
  const H = options.horizonMonths ?? 12;
  const d = options.monthlyDiscountRate ?? 0.01;
  const month = monthLength(options.timeUnit ?? 'week');
  const { frequency, T } = groups;
  const nGroups = frequency.length;
  if (T.length !== nGroups) throw new TypeError(`aliveFactors: arrays must have equal lengths (frequency=${nGroups}, T=${T.length})`);
  for (let j = 0; j < nGroups; j++) {
    const x = frequency[j];
    if (!(x >= 0) || !Number.isInteger(x)) throw new RangeError(`aliveFactors: frequency[${j}] = ${x} must be an integer ≥ 0`);
    if (!(T[j] >= 0) || !Number.isFinite(T[j])) throw new RangeError(`aliveFactors: T[${j}] = ${T[j]} must be a finite number ≥ 0`);
  }

  // Month-end times k·month, k = 1..H, and discount weights (1+d)^−k.
  const times = new Float64Array(H);
  const discount = new Float64Array(H);
  for (let k = 1; k <= H; k++) {
    times[k - 1] = k * month;
    discount[k - 1] = Math.pow(1 + d, -k);
  }

  // Per group: Σ_k (g_k − g_{k−1}) (1+d)^−k and g_H, with g_k = E[X(k months) | alive, x, T].
  const groupFactor = new Float64Array(nGroups);
  const groupTotal = new Float64Array(nGroups);
  // Stryker disable next-line ConditionalExpression: a shortcut; with H = 0 the loops below run no month and leave the same zeros
  if (H === 0) return Object.freeze({ discountFactor: groupFactor, expectedPurchases: groupTotal });
  const g = new Float64Array(H);
  const betaIfAlive =
    model === 'bgnbd'
      ? bgNbd.expectedPurchasesIfAliveEvaluator(params as BgNbdParams, times)
      : model === 'mbgnbd'
        ? mbgNbd.expectedPurchasesIfAliveEvaluator(params as BgNbdParams, times)
        : null;
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let j = 0; j < nGroups; j++) {
    if (betaIfAlive) {
      betaIfAlive(frequency[j], T[j], g);
    } else {
      // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
      for (let k = 0; k < H; k++) g[k] = paretoNbd.expectedPurchasesIfAlive(params as ParetoNbdParams, frequency[j], T[j], times[k]);
    }
    let factor = 0;
    let previous = 0;
    for (let k = 0; k < H; k++) {
      factor += (g[k] - previous) * discount[k];
      previous = g[k];
    }
    groupFactor[j] = factor;
    groupTotal[j] = previous;
  }
  return Object.freeze({ discountFactor: groupFactor, expectedPurchases: groupTotal });
}
