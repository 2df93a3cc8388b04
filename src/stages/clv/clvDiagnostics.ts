/**
 * The purchase model's diagnostics (issue 16 item 4): what the CLV stage
 * stores for the report (customers by calibration repeat purchases, actual vs
 * expected) and what the report recomputes from a run's fitted parameters
 * (the P(alive) and expected-purchases matrices over frequency × recency).
 * Pure: model functions on small grids, no engine.
 */
import * as bgNbd from '../../models/bgNbd.js';
import { clvFactors, frequencyTGroups } from '../../models/clv.js';
import * as mbgNbd from '../../models/mbgNbd.js';
import * as paretoNbd from '../../models/paretoNbd.js';
import { bgNbdPmf, mbgNbdPmf, paretoNbdPmf, periodTransactions, type PurchasePmf } from '../../models/purchasePmf.js';
import type { BgNbdParams, ParetoNbdParams, PurchasePatterns, TimeUnit } from '../../models/types.js';
import type { PurchaseFit } from './clvFits.js';

export type PurchaseModelName = PurchaseFit['model'];

/** One row of summary.json's clv.periodTransactions. */
export interface PeriodTransactionsRow {
  /** '0'..'6', '7+'. */
  repeatPurchases: string;
  actual: number;
  /** Null when the fit is not used (did not converge). */
  expected: number | null;
}

export function purchasePmf(model: PurchaseModelName, params: Record<string, number>): PurchasePmf {
  switch (model) {
    case 'bgnbd':
      return (t, maxX) => bgNbdPmf(params as unknown as BgNbdParams, t, maxX);
    case 'mbgnbd':
      return (t, maxX) => mbgNbdPmf(params as unknown as BgNbdParams, t, maxX);
    case 'paretonbd':
      return (t, maxX) => paretoNbdPmf(params as unknown as ParetoNbdParams, t, maxX);
  }
}

/** The CLV stage's calibration check: customers by repeat purchases, actual against the fitted model. */
export function periodTransactionsOf(fitted: PurchaseFit, available: boolean, patterns: PurchasePatterns): PeriodTransactionsRow[] {
  return periodTransactions(available ? purchasePmf(fitted.model, fitted.fit.params as unknown as Record<string, number>) : null, patterns);
}

export interface ModelMatrix {
  /** T of every cell: the largest T of the run, in the model time unit. */
  T: number;
  timeUnit: TimeUnit;
  /** Horizon of the expected purchases, in months (the CLV horizon). */
  horizonMonths: number;
  /** One cell per (frequency, recency) shown; recency in the model time unit. */
  cells: { frequency: number; recency: number; pAlive: number; expectedPurchases: number }[];
}

/**
 * P(alive) and expected purchases over the next `horizonMonths` for a
 * customer observed for T (the run's largest), by frequency and recency —
 * lifetimes' plot_probability_alive_matrix and plot_frequency_recency_matrix.
 * Frequencies 0..maxFrequency (at most 24 rows, evenly spaced past that),
 * recency in `steps` equal steps of (0, T]; a customer with repeat purchases
 * has recency > 0 and one without has recency 0, so frequency 0 has the one
 * cell at recency 0.
 */
export function modelMatrix(
  model: PurchaseModelName,
  params: Record<string, number>,
  options: { T: number; maxFrequency: number; timeUnit: TimeUnit; horizonMonths: number; steps?: number },
): ModelMatrix {
  const { T, timeUnit, horizonMonths } = options;
  const steps = options.steps ?? 20;
  const rows = Math.min(24, Math.max(1, Math.floor(options.maxFrequency)));
  const frequencies = [0];
  for (let i = 1; i <= rows; i++) frequencies.push(Math.round((i * Math.max(rows, options.maxFrequency)) / rows));
  const f: number[] = [];
  const rec: number[] = [];
  for (const x of [...new Set(frequencies)]) {
    if (x === 0) {
      f.push(0);
      rec.push(0);
      continue;
    }
    for (let k = 1; k <= steps; k++) {
      f.push(x);
      rec.push((T * k) / steps);
    }
  }
  const patterns = { frequency: Float64Array.from(f), recency: Float64Array.from(rec), T: new Float64Array(f.length).fill(T) };
  const horizon = { horizonMonths, timeUnit };
  const factors =
    model === 'paretonbd'
      ? clvFactors(model, params as unknown as ParetoNbdParams, patterns, horizon)
      : clvFactors(model, params as unknown as BgNbdParams, patterns, horizon);
  return {
    T,
    timeUnit,
    horizonMonths,
    cells: f.map((x, i) => ({ frequency: x, recency: rec[i], pAlive: factors.pAlive[i], expectedPurchases: factors.expectedPurchases[i] })),
  };
}

/**
 * Σ over the patterns of weight × E[purchases in the next t | x, t_x, T], for
 * every t of `times` at once (the backtest's tracking curve). Each model's
 * prediction is P(alive | x, t_x, T) · E[purchases | alive, x, T], and the
 * second factor depends on (x, T) only: the weighted P(alive) is summed per
 * (x, T) pair and each pair is evaluated once for all the times, instead of
 * every pattern once per time.
 */
export function expectedPurchaseTotals(fitted: PurchaseFit, patterns: PurchasePatterns, times: readonly number[]): number[] {
  const { frequency, recency, T, weight } = patterns;
  const pAlive =
    fitted.model === 'bgnbd'
      ? bgNbd.conditionalProbabilityAlive(fitted.fit.params, frequency, recency, T)
      : fitted.model === 'mbgnbd'
        ? mbgNbd.conditionalProbabilityAlive(fitted.fit.params, frequency, recency, T)
        : paretoNbd.conditionalProbabilityAlive(fitted.fit.params, frequency, recency, T);
  const groups = frequencyTGroups(frequency, T);
  const aliveWeight = new Float64Array(groups.frequency.length);
  for (let i = 0; i < frequency.length; i++) aliveWeight[groups.index[i]] += weight[i] * pAlive[i];
  const ifAlive: (x: number, age: number, out: Float64Array) => void =
    fitted.model === 'bgnbd'
      ? bgNbd.expectedPurchasesIfAliveEvaluator(fitted.fit.params, times)
      : fitted.model === 'mbgnbd'
        ? mbgNbd.expectedPurchasesIfAliveEvaluator(fitted.fit.params, times)
        : (x, age, out) => times.forEach((t, h) => (out[h] = paretoNbd.expectedPurchasesIfAlive(fitted.fit.params, x, age, t)));
  const totals = new Array<number>(times.length).fill(0);
  const out = new Float64Array(times.length);
  for (let g = 0; g < aliveWeight.length; g++) {
    ifAlive(groups.frequency[g], groups.T[g], out);
    for (let h = 0; h < times.length; h++) totals[h] += aliveWeight[g] * out[h];
  }
  return totals;
}

/** One point of the backtest's tracking curve (cumulative repeat purchases to the end of a holdout week). */
export interface TrackingPoint {
  week: number;
  /** Days after the calibration end. */
  day: number;
  actual: number;
  /** Null when the fit predicts nothing. */
  expected: number | null;
}

/** Cumulative weekly purchases, actual (from the weekly counts) and expected (`expectedBy(days)`, for all the weeks' ends at once), to the holdout end. */
export function trackingCurve(
  weekly: readonly { week: number; purchases: number }[],
  holdoutDays: number,
  expectedBy: ((days: number[]) => number[]) | null,
): TrackingPoint[] {
  const perWeek = new Map(weekly.map((w) => [Number(w.week), Number(w.purchases)]));
  const days: number[] = [];
  for (let week = 1; 7 * (week - 1) < holdoutDays; week++) days.push(Math.min(7 * week, holdoutDays));
  const expected = expectedBy ? expectedBy(days) : null;
  let actual = 0;
  return days.map((day, i) => {
    actual += perWeek.get(i + 1) ?? 0;
    return { week: i + 1, day, actual, expected: expected ? expected[i] : null };
  });
}
