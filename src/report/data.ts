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
  /** Null when the run has no CLV. */
  clvHistogram: { binStart: number; binEnd: number; customers: number }[] | null;
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
