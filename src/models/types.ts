/**
 * Shared data and result types of the customer-base models (BG/NBD,
 * Pareto/NBD, Gamma-Gamma). Pure data: typed arrays in, frozen results out.
 */

/**
 * Distinct (frequency, recency, T) purchase patterns with the number of
 * customers sharing each one as `weight` (Fader & Hardie fit the compressed
 * RFM matrix rather than one row per customer).
 *
 * - `frequency` (x): repeat purchase occasions (distinct purchase days − 1).
 * - `recency` (t_x): time from the first to the last purchase (0 when x = 0).
 * - `T`: time from the first purchase to the as-of date.
 *
 * All three are in the same time unit (day, week or month); the fitted
 * scale parameters (α, β) come out in that unit.
 */
export interface PurchasePatterns {
  readonly frequency: Float64Array;
  readonly recency: Float64Array;
  readonly T: Float64Array;
  readonly weight: Float64Array;
}

/**
 * Repeat customers' spend for the Gamma-Gamma model: `monetaryValue` (m_x) is
 * the mean value of the `frequency` (x) repeat purchases, the first purchase
 * excluded. Rows with x ≤ 0 or m_x ≤ 0 carry no information for the model and
 * are ignored by the fit.
 */
export interface SpendPatterns {
  readonly frequency: Float64Array;
  readonly monetaryValue: Float64Array;
  readonly weight: Float64Array;
}

/** BG/NBD (Fader, Hardie & Lee 2005): λ ~ Gamma(r, α), p ~ Beta(a, b). */
export interface BgNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly a: number;
  readonly b: number;
}

/** Pareto/NBD (Schmittlein, Morrison & Colombo 1987): λ ~ Gamma(r, α), μ ~ Gamma(s, β). */
export interface ParetoNbdParams {
  readonly r: number;
  readonly alpha: number;
  readonly s: number;
  readonly beta: number;
}

/** Gamma-Gamma spend model (Fader, Hardie & Lee 2005 "RFM and CLV"): ν ~ Gamma(q, γ), z ~ Gamma(p, ν). */
export interface GammaGammaParams {
  readonly p: number;
  readonly q: number;
  readonly gamma: number;
}

export interface FitOptions<P> {
  /**
   * L2 penalty on the natural parameters, added to the mean negative
   * log-likelihood per customer: penalty · Σ θ² (lifetimes' `penalizer_coef`).
   * Default 0 (plain maximum likelihood).
   */
  readonly penalty?: number;
  /** BFGS iterations on the full data. Default 200. */
  readonly maxIterations?: number;
  /**
   * Convergence when the largest gradient component of the mean negative
   * log-likelihood, taken w.r.t. the log-parameters, falls below this.
   * Default 1e-10 (the optimum is flat; a tight tolerance makes the result
   * independent of the starting point and of the pattern order).
   */
  readonly tolerance?: number;
  /** Starting point (natural parameters); a data-driven default otherwise. */
  readonly initialParams?: P;
}

/** Immutable result of a maximum-likelihood fit. */
export interface FitResult<P> {
  readonly params: P;
  /** Delta-method standard errors of the natural parameters; null when the Hessian is not positive definite. */
  readonly standardErrors: P | null;
  /** Weighted log-likelihood at `params` (without the penalty). */
  readonly logLikelihood: number;
  /** BFGS iterations on the full data (a warm start on a subsample, for large data, is reported in `message`). */
  readonly iterations: number;
  readonly converged: boolean;
  readonly message: string;
}

/**
 * A BG/NBD fit whose likelihood keeps rising as a, b → ∞ with a/(a+b) fixed:
 * every customer has the same dropout probability. The fit then reports
 * converged = false, and params hold the fixed-dropout limit fitted instead,
 * with a + b = 1e15 standing for ∞ (every BG/NBD formula evaluates that as
 * the limit).
 */
export interface BgNbdBoundary {
  /** p = a/(a+b): everyone's probability of dropping out after a purchase. */
  readonly dropoutProbability: number;
  /** Delta-method standard errors of the limit's r, α and p; null when its Hessian is not positive definite. */
  readonly standardErrors: { readonly r: number; readonly alpha: number; readonly dropoutProbability: number } | null;
  /** Log-likelihood of the limit (≥ that of any finite a, b the fit tried). */
  readonly logLikelihood: number;
  readonly message: string;
}

export interface BgNbdFitResult extends FitResult<BgNbdParams> {
  /** Set when the fit ran to the a, b → ∞ boundary (its predictions then use the limit); null otherwise. */
  readonly boundary: BgNbdBoundary | null;
}

/** Time unit of the patterns; a month is 30 days throughout. */
export type TimeUnit = 'day' | 'week' | 'month';

/** Length of one 30-day month in the given time unit. */
export function monthLength(unit: TimeUnit): number {
  switch (unit) {
    case 'day':
      return 30;
    case 'week':
      return 30 / 7;
    case 'month':
      return 1;
  }
}
