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
 * Both models factor as E[X(t) | x, t_x, T] = P(alive | x, t_x, T) ·
 * E[X(t) | alive, x, T], and the second factor depends on the pattern only
 * through (x, T): it is computed once per distinct (x, T) pair, for all H
 * horizons at once, and shared by every recency.
 */
import * as bgNbd from './bgNbd.js';
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

export function clvFactors(model: 'bgnbd', params: BgNbdParams, patterns: ClvPatterns, options?: ClvOptions): ClvFactors;
export function clvFactors(model: 'paretonbd', params: ParetoNbdParams, patterns: ClvPatterns, options?: ClvOptions): ClvFactors;
export function clvFactors(
  model: 'bgnbd' | 'paretonbd',
  params: BgNbdParams | ParetoNbdParams,
  patterns: ClvPatterns,
  options: ClvOptions = {},
): ClvFactors {
  const H = options.horizonMonths ?? 12;
  const d = options.monthlyDiscountRate ?? 0.01;
  const month = monthLength(options.timeUnit ?? 'week');
  if (!Number.isInteger(H) || H < 0) throw new RangeError(`clvFactors: horizonMonths must be an integer ≥ 0, got ${H}`);
  if (!(d > -1) || !Number.isFinite(d)) throw new RangeError(`clvFactors: monthlyDiscountRate must be a finite number > −1, got ${d}`);
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
      : paretoNbd.conditionalProbabilityAlive(params as ParetoNbdParams, frequency, recency, T);

  // Month-end times k·month, k = 1..H, and discount weights (1+d)^−k.
  const times = new Float64Array(H);
  const discount = new Float64Array(H);
  for (let k = 1; k <= H; k++) {
    times[k - 1] = k * month;
    discount[k - 1] = Math.pow(1 + d, -k);
  }

  // Distinct (x, T) pairs: index T values, then combine with x into one
  // exact integer key (x is an integer count).
  const tIds = distinctIndex(T);
  const nT = tIds.values.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = frequency[i] * nT + tIds.index[i];
  const groups = distinctIndex(keys);
  const nGroups = groups.values.length;
  const groupFrequency = new Float64Array(nGroups);
  const groupT = new Float64Array(nGroups);
  for (let i = 0; i < n; i++) {
    groupFrequency[groups.index[i]] = frequency[i];
    groupT[groups.index[i]] = T[i];
  }

  // Per group: Σ_k (g_k − g_{k−1}) (1+d)^−k and g_H, with g_k = E[X(k months) | alive, x, T].
  const groupFactor = new Float64Array(nGroups);
  const groupTotal = new Float64Array(nGroups);
  const g = new Float64Array(H);
  const bgNbdIfAlive = model === 'bgnbd' ? bgNbd.expectedPurchasesIfAliveEvaluator(params as BgNbdParams, times) : null;
  for (let j = 0; j < nGroups; j++) {
    if (H === 0) break;
    if (bgNbdIfAlive) {
      bgNbdIfAlive(groupFrequency[j], groupT[j], g);
    } else {
      for (let k = 0; k < H; k++) g[k] = paretoNbd.expectedPurchasesIfAlive(params as ParetoNbdParams, groupFrequency[j], groupT[j], times[k]);
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

  const discountFactor = new Float64Array(n);
  const expectedPurchases = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = groups.index[i];
    discountFactor[i] = pAlive[i] * groupFactor[j];
    expectedPurchases[i] = pAlive[i] * groupTotal[j];
  }
  return Object.freeze({ discountFactor, expectedPurchases, pAlive });
}
