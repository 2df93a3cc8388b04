/**
 * Input of the HTML report. The CLI fills it from the run history recorded in
 * the database; everything here is plain data (no Dates, no Maps) so that it
 * can be serialised, snapshotted and rendered deterministically.
 */
export interface ReportData {
  /** Page title, e.g. "crm report — run 3". */
  title: string;
  run: { id: number; asOf: string; startedAt: string; finishedAt: string; inputs: string[] };
  totals: { customers: number; revenue: number; rowsRead: number; rowsRejected: number; rowsExcluded: number };
  fit: null | {
    model: string;
    timeUnit: string;
    /** At the BG/NBD boundary, the fixed-dropout limit's (r, alpha): a and b are infinite there. */
    params: Record<string, number>;
    logLikelihood: number | null;
    /** False at the boundary too, where the limit stands in and the CLV columns come from it. */
    converged: boolean;
    /** Set when BG/NBD ran to a, b → ∞: the fixed-dropout limit, p = a/(a+b), was fitted instead. */
    boundary: null | { dropoutProbability: number };
    gammaGamma: null | { params: Record<string, number>; logLikelihood: number | null; converged: boolean };
  };
  /** R×F grid, scores 1..5 each; cells without customers may be missing. */
  rfmHeatmap: { r: number; f: number; customers: number; meanRevenue: number }[];
  segments: { segment: string; customers: number; revenue: number; customerShare: number; revenueShare: number }[];
  /** Value deciles, 1 = top; shares are fractions (0..1). */
  deciles: { decile: number; customers: number; revenue: number; share: number; cumulativeShare: number }[];
  /**
   * Predicted CLV on a log axis: bins a quarter of a decade wide (edges 10^(k/4)),
   * each with the lowest and highest CLV it holds; customers below the lowest
   * bin shown (CLV 0 included) are counted in `below`, never folded into a bin.
   * Null when the run has no CLV.
   */
  clvDistribution: null | {
    bins: { binStart: number; binEnd: number; customers: number; minClv: number; maxClv: number }[];
    below: null | { edge: number; customers: number };
  };
  /** P(alive) in 20 bins of 0.05 (the last one closed at 1). Null when the run has no P(alive). */
  pAliveHistogram: { binStart: number; binEnd: number; customers: number }[] | null;
  /** Customers by calibration repeat purchases ('0'..'6', '7+'), actual vs the fitted model (summary.json clv.periodTransactions). */
  periodTransactions: { repeatPurchases: string; actual: number; expected: number | null }[] | null;
  /** P(alive) and expected purchases over frequency × recency at the run's largest T, from the fitted parameters. */
  modelMatrix: null | {
    model: string;
    T: number;
    timeUnit: string;
    horizonMonths: number;
    /** The largest frequency shown (the 99th percentile of the run's). */
    maxFrequency: number;
    cells: { frequency: number; recency: number; pAlive: number; expectedPurchases: number }[];
  };
  /** A calibration/holdout check of the purchase model (summary.json clv.holdout, or crm backtest). */
  holdout: null | Holdout;
  /** KPIs of the runs in the history up to this one (at most the last 12), oldest first. */
  history: null | {
    runs: {
      runId: number;
      asOf: string;
      model: string | null;
      customers: number;
      /** Null when the run's scores were not kept. */
      revenue: number | null;
      meanPAlive: number | null;
      totalClv: number | null;
      /** The 90% interval of the total CLV, when the run has one (summary.json clv.intervals.totals.clv). */
      clvInterval: null | { low: number; high: number };
    }[];
    segments: { runId: number; segment: string; customers: number; share: number }[];
    stages: { runId: number; stage: string; customers: number; share: number }[];
  };
  /** Lifecycle funnel; order: new, active, loyal, reactivated, at_risk, lapsed, lost. */
  stages: { stage: string; customers: number; revenue: number; share: number }[] | null;
  clusters:
    | {
        cluster: number;
        label: string;
        customers: number;
        share: number;
        meanRecencyDays: number;
        meanOrders: number;
        meanRevenue: number;
        meanClv: number | null;
        /** The cluster's median customer, whose facts the label states. */
        medianRecencyDays: number;
        medianOrders: number;
        medianRevenue: number;
        medianClv: number | null;
      }[]
    | null;
  migration: null | {
    fromRun: number;
    toRun: number;
    /** What moved: "segment", "stage", "cluster", … */
    by: string;
    cells: { from: string; to: string; customers: number; revenue: number }[];
  };
}

/** A calibration/holdout comparison (BacktestResult's figures the charts use). */
export interface Holdout {
  calibrationEnd: string;
  holdoutEnd: string;
  model: string;
  timeUnit: string;
  customers: number;
  actualTotal: number;
  predictedTotal: number | null;
  mae: number | null;
  byFrequency: { frequency: string; customers: number; actual: number; predicted: number | null; actualMean: number; predictedMean: number | null }[];
  /** Cumulative repeat purchases to the end of each holdout week. */
  tracking: { week: number; day: number; actual: number; expected: number | null }[];
}
