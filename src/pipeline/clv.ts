import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import * as bgNbd from '../models/bgNbd.js';
import { clvFactors } from '../models/clv.js';
import * as gammaGamma from '../models/gammaGamma.js';
import * as paretoNbd from '../models/paretoNbd.js';
import type { BgNbdParams, FitResult, GammaGammaParams, ParetoNbdParams, PurchasePatterns, SpendPatterns } from '../models/types.js';
import { CLV_INPUTS_SQL, CUSTOMER_CLV_SQL, HOLDOUT_PURCHASES_SQL, PURCHASE_PATTERNS_SQL, SPEND_PATTERNS_SQL } from '../sql/clv.js';
import type { Logger } from './effects.js';

export type TimeUnit = ScoreConfig['clv']['timeUnit'];
export const DAYS_PER_UNIT: Record<TimeUnit, number> = { day: 1, week: 7, month: 30 };

type ClvOptions = ScoreConfig['clv'];

interface FitFacts<P> {
  params: P;
  standardErrors: P | null;
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  message: string;
}

export interface ClvResult {
  timeUnit: TimeUnit;
  model: ClvOptions['model'];
  horizonMonths: number;
  discountRate: number;
  margin: number;
  patterns: number;
  /** False when the purchase model did not converge: the CLV columns are then null. */
  available: boolean;
  bgnbd?: FitFacts<BgNbdParams>;
  paretonbd?: FitFacts<ParetoNbdParams>;
  gammagamma: FitFacts<GammaGammaParams> | null;
  populationMeanSpend: number | null;
  warnings: string[];
}

const facts = <P>(fit: FitResult<P>): FitFacts<P> => ({
  params: fit.params,
  standardErrors: fit.standardErrors,
  logLikelihood: fit.logLikelihood,
  iterations: fit.iterations,
  converged: fit.converged,
  message: fit.message,
});

export async function purchasePatterns(engine: Engine, timeUnit: TimeUnit): Promise<{ patterns: PurchasePatterns; days: { recency: Float64Array; T: Float64Array } }> {
  const rows = await engine.numericColumns(PURCHASE_PATTERNS_SQL, ['frequency', 'recency_days', 't_days', 'weight']);
  const unit = DAYS_PER_UNIT[timeUnit];
  return {
    patterns: {
      frequency: rows.frequency,
      recency: rows.recency_days.map((d) => d / unit),
      T: rows.t_days.map((d) => d / unit),
      weight: rows.weight,
    },
    days: { recency: rows.recency_days, T: rows.t_days },
  };
}

type PurchaseFit = { model: 'bgnbd'; fit: FitResult<BgNbdParams> } | { model: 'paretonbd'; fit: FitResult<ParetoNbdParams> };

export function fitPurchaseModel(model: ClvOptions['model'], patterns: PurchasePatterns, penalty: number): PurchaseFit {
  return model === 'bgnbd'
    ? { model, fit: bgNbd.fitBgNbd(patterns, { penalty }) }
    : { model, fit: paretoNbd.fitParetoNbd(patterns, { penalty }) };
}

/** Conditional expected purchases in the next t time units, per pattern. */
export function predictPurchases(fitted: PurchaseFit, t: number, p: PurchasePatterns): Float64Array {
  return fitted.model === 'bgnbd'
    ? bgNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T)
    : paretoNbd.conditionalExpectedPurchases(fitted.fit.params, t, p.frequency, p.recency, p.T);
}

/** CLV stage: model inputs in SQL, fits on patterns in JS, predictions joined back in SQL. */
export async function scoreClv(engine: Engine, options: ClvOptions, asOf: string, log: Logger): Promise<ClvResult> {
  await engine.run(CLV_INPUTS_SQL, { asOf });
  const { patterns, days } = await purchasePatterns(engine, options.timeUnit);
  const warnings: string[] = [];

  const fitted = fitPurchaseModel(options.model, patterns, options.penalty);
  if (!fitted.fit.converged) warnings.push(`${options.model} fit did not converge (${fitted.fit.message}); p_alive, expected_purchases and clv are null`);

  const spendRows = await engine.numericColumns(SPEND_PATTERNS_SQL, ['frequency', 'monetary_value', 'weight']);
  const spend: SpendPatterns = { frequency: spendRows.frequency, monetaryValue: spendRows.monetary_value, weight: spendRows.weight };
  let gg: FitResult<GammaGammaParams> | null = null;
  let populationMeanSpend: number | null = null;
  if (spend.frequency.length === 0) {
    warnings.push('no repeat customers with a positive spend: Gamma-Gamma not fitted; expected_avg_value and clv are null');
  } else {
    gg = gammaGamma.fitGammaGamma(spend, { penalty: options.penalty });
    if (!gg.converged) warnings.push(`Gamma-Gamma fit did not converge (${gg.message}); expected_avg_value and clv are null`);
    else if (!(gg.params.q > 1)) warnings.push(`Gamma-Gamma q = ${gg.params.q} ≤ 1: the mean spend is undefined; expected_avg_value and clv are null`);
    else populationMeanSpend = gammaGamma.populationMeanSpend(gg.params);
  }
  const spendAvailable = populationMeanSpend !== null;

  const horizon = { horizonMonths: options.horizonMonths, monthlyDiscountRate: options.discountRate, timeUnit: options.timeUnit };
  const predictions =
    fitted.model === 'bgnbd' ? clvFactors('bgnbd', fitted.fit.params, patterns, horizon) : clvFactors('paretonbd', fitted.fit.params, patterns, horizon);
  const nullUnless = (ok: boolean, values: Float64Array) => (ok ? values : values.map(() => Number.NaN));
  await engine.loadColumns('clv_patterns', {
    frequency: patterns.frequency,
    recency_days: days.recency,
    t_days: days.T,
    p_alive: nullUnless(fitted.fit.converged, predictions.pAlive),
    expected_purchases: nullUnless(fitted.fit.converged, predictions.expectedPurchases),
    clv_factor: nullUnless(fitted.fit.converged, predictions.discountFactor),
  });
  const ggParams = gg?.params ?? { p: 0, q: 0, gamma: 0 };
  await engine.run(CUSTOMER_CLV_SQL, {
    spendAvailable,
    p: ggParams.p,
    q: ggParams.q,
    gamma: ggParams.gamma,
    populationMeanSpend: populationMeanSpend ?? 0,
    daysPerUnit: DAYS_PER_UNIT[options.timeUnit],
    margin: options.margin,
  });
  for (const warning of warnings) log.warn(warning);

  return {
    timeUnit: options.timeUnit,
    model: options.model,
    horizonMonths: options.horizonMonths,
    discountRate: options.discountRate,
    margin: options.margin,
    patterns: patterns.frequency.length,
    available: fitted.fit.converged,
    ...(fitted.model === 'bgnbd' ? { bgnbd: facts(fitted.fit) } : { paretonbd: facts(fitted.fit) }),
    gammagamma: gg ? facts(gg) : null,
    populationMeanSpend,
    warnings,
  };
}

export interface BacktestResult {
  customers: number;
  actualTotal: number;
  predictedTotal: number;
  mae: number;
  holdoutLength: number;
  timeUnit: TimeUnit;
  model: ClvOptions['model'];
  fit: FitFacts<unknown>;
  byFrequency: { frequency: string; customers: number; actual: number; predicted: number; actualMean: number; predictedMean: number }[];
}

/**
 * Calibration/holdout check: fit on transactions up to the calibration end,
 * predict each customer's purchase days in the holdout, compare.
 */
export async function runBacktest(
  engine: Engine,
  options: ClvOptions,
  calibrationEnd: string,
  holdoutEnd: string,
): Promise<BacktestResult> {
  await engine.run(CLV_INPUTS_SQL, { asOf: calibrationEnd });
  const { patterns, days } = await purchasePatterns(engine, options.timeUnit);
  const fitted = fitPurchaseModel(options.model, patterns, options.penalty);
  const holdoutDays = (Date.parse(holdoutEnd) - Date.parse(calibrationEnd)) / 86_400_000;
  const t = holdoutDays / DAYS_PER_UNIT[options.timeUnit];
  const predicted = predictPurchases(fitted, t, patterns);
  await engine.loadColumns('clv_patterns', { frequency: patterns.frequency, recency_days: days.recency, t_days: days.T, predicted });
  const rows = await engine.all<{ bucket: number; customers: number; actual: number; predicted: number; abs_error: number }>(
    `WITH per_customer AS (
       SELECT h.frequency, h.actual, p.predicted
       FROM (${HOLDOUT_PURCHASES_SQL}) h
       JOIN clv_inputs c USING (customer_id)
       JOIN clv_patterns p ON p.frequency = c.frequency AND p.recency_days = c.recency_days_model AND p.t_days = c.t_days
     )
     SELECT least(frequency, 7)::INTEGER AS bucket, count(*)::BIGINT AS customers, sum(actual)::DOUBLE AS actual,
            sum(predicted) AS predicted, sum(abs(actual - predicted)) AS abs_error
     FROM per_customer GROUP BY bucket ORDER BY bucket`,
    { calibrationEnd, holdoutEnd },
  );
  const customers = rows.reduce((s, r) => s + r.customers, 0);
  return {
    customers,
    actualTotal: rows.reduce((s, r) => s + r.actual, 0),
    predictedTotal: rows.reduce((s, r) => s + r.predicted, 0),
    mae: rows.reduce((s, r) => s + r.abs_error, 0) / customers,
    holdoutLength: t,
    timeUnit: options.timeUnit,
    model: options.model,
    fit: facts(fitted.fit as FitResult<unknown>),
    byFrequency: rows.map((r) => ({
      frequency: r.bucket === 7 ? '7+' : String(r.bucket),
      customers: r.customers,
      actual: r.actual,
      predicted: r.predicted,
      actualMean: r.actual / r.customers,
      predictedMean: r.predicted / r.customers,
    })),
  };
}
