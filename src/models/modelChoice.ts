/**
 * `--clv-model auto`: of the purchase models fitted to the same patterns,
 * keep the one with the lowest AIC = 2k − 2·LL, or, when a holdout was
 * scored, the lowest holdout error. A model whose fit is not usable (did not
 * converge) is never chosen.
 */

export interface Candidate {
  model: string;
  logLikelihood: number;
  /** k: the number of fitted parameters. */
  parameters: number;
  aic: number;
  /** Whether the fit is usable: converged, or BG/NBD's fitted fixed-dropout limit. */
  converged: boolean;
  /** The holdout error of the model fitted on the calibration period, when there was a holdout; null where it predicted nothing. */
  holdoutError?: number | null;
}

export interface Selection {
  method: 'aic' | 'holdout';
  /** The chosen model, or null when none is usable. */
  chosen: string | null;
  /** One sentence for a person. */
  reason: string;
  candidates: Candidate[];
}

/** Akaike's information criterion: 2k − 2·LL (lower is better). */
export const aic = (logLikelihood: number, parameters: number): number => 2 * parameters - 2 * logLikelihood;

const list = (names: readonly string[]) => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`);

/**
 * The choice among `candidates` (in a fixed order: the first wins a tie) by
 * `method`; `errorName` names the holdout error in the reason.
 */
export function chooseModel(candidates: readonly Candidate[], method: 'aic' | 'holdout', errorName = 'holdout error'): Selection {
  const score = (c: Candidate) => (method === 'aic' ? c.aic : (c.holdoutError ?? Number.NaN));
  const unusable = candidates.filter((c) => !c.converged).map((c) => c.model);
  const scored = candidates.filter((c) => c.converged && Number.isFinite(score(c)));
  const unscored = candidates.filter((c) => c.converged && !Number.isFinite(score(c))).map((c) => c.model);
  const notes = [
    unusable.length ? `${list(unusable)} did not converge and ${unusable.length === 1 ? 'was' : 'were'} not considered` : '',
    unscored.length ? `${list(unscored)} gave no ${method === 'aic' ? 'AIC' : errorName}` : '',
  ].filter(Boolean);
  const tail = notes.length ? `; ${notes.join('; ')}` : '';
  if (scored.length === 0) {
    return { method, chosen: null, reason: `No model could be chosen: none has a usable fit with a finite ${method === 'aic' ? 'AIC' : errorName}${tail}.`, candidates: [...candidates] };
  }
  let best = scored[0];
  for (const c of scored) if (score(c) < score(best)) best = c;
  const others = scored.filter((c) => c !== best);
  const measure = method === 'aic' ? 'AIC' : errorName;
  const comparison = others.length ? ` against ${others.map((c) => `${c.model} ${format(score(c))}`).join(', ')}` : ' (the only usable fit)';
  return {
    method,
    chosen: best.model,
    reason: `${best.model} has the lowest ${measure}, ${format(score(best))}${comparison}${tail}.`,
    candidates: [...candidates],
  };
}

/** Enough digits to tell close scores apart in the sentence. */
// Stryker disable next-line EqualityOperator: at |value| = 100 both forms print 100.0
const format = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4));
