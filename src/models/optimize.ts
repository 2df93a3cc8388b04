/**
 * Unconstrained minimisation for the model fits: BFGS with a strong-Wolfe
 * line search (Nocedal & Wright, "Numerical Optimization", 2nd ed.,
 * Algorithms 6.1, 3.5 and 3.6), plus a central-difference Hessian of an
 * analytic gradient for standard errors.
 *
 * The dimension is tiny (3 or 4 log-parameters), so a dense inverse-Hessian
 * approximation is the right tool; each objective evaluation is a full pass
 * over the data, so the line search tries hard to accept the unit step and
 * to reuse every evaluation it makes.
 */

/**
 * Objective and gradient in one call: returns f(x) and writes ∇f(x) into
 * `gradient`. May return a non-finite value for x outside its domain; the
 * line search then backs off.
 */
export type ObjectiveWithGradient = (x: Float64Array, gradient: Float64Array) => number;

export interface MinimizeOptions {
  /** Maximum BFGS iterations (line searches). Default 200. */
  readonly maxIterations?: number;
  /** Stop when ‖∇f‖∞ ≤ gradientTolerance. Default 1e-10. */
  readonly gradientTolerance?: number;
  /** Sufficient-decrease constant c₁ of the Wolfe conditions. Default 1e-4. */
  readonly c1?: number;
  /** Curvature constant c₂ of the Wolfe conditions. Default 0.9 (quasi-Newton). */
  readonly c2?: number;
  /** Maximum objective evaluations within one line search. Default 20. */
  readonly maxLineSearchEvaluations?: number;
  /** Largest step length tried along the search direction. Default max(1, 1000 / ‖p‖∞). */
  readonly maxStep?: number;
  /**
   * Starting inverse-Hessian approximation (row-major n×n, symmetric positive
   * definite), e.g. from a fit on a subsample; the scaled identity otherwise.
   */
  readonly initialInverseHessian?: ArrayLike<number>;
}

export interface MinimizeResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly gradient: Float64Array;
  readonly iterations: number;
  readonly evaluations: number;
  readonly converged: boolean;
  readonly message: string;
  /** Final inverse-Hessian approximation (row-major), for warm starts. */
  readonly inverseHessian: Float64Array;
}

function normInf(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function allFinite(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i])) return false;
  return true;
}

/** Minimiser of the cubic through (a, fa, da) and (b, fb, db), or NaN if it has none. */
function cubicMinimizer(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  // A negative discriminant (no minimiser) gives NaN through the square root.
  const d2 = Math.sign(b - a) * Math.sqrt(d1 * d1 - da * db);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}

interface LineSearchState {
  step: number;
  value: number;
  evaluations: number;
  ok: boolean;
}

/**
 * Strong-Wolfe line search along p from x (value f0, slope df0 < 0).
 * On return `xNew`/`gNew` hold the accepted point (when ok).
 */
function lineSearch(
  fg: ObjectiveWithGradient,
  x: Float64Array,
  f0: number,
  df0: number,
  p: Float64Array,
  initialStep: number,
  maxStep: number,
  c1: number,
  c2: number,
  maxEvaluations: number,
  xNew: Float64Array,
  gNew: Float64Array,
): LineSearchState {
  const n = x.length;
  let evaluations = 0;
  const gTry = new Float64Array(n);
  let pNorm = 0;
  let xScale = 1;
  for (let i = 0; i < n; i++) {
    pNorm = Math.max(pNorm, Math.abs(p[i]));
    xScale = Math.max(xScale, Math.abs(x[i]));
  }

  const evaluate = (step: number): { f: number; df: number } => {
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < n; i++) xNew[i] = x[i] + step * p[i];
    evaluations++;
    const f = fg(xNew, gTry);
    if (!Number.isFinite(f) || !allFinite(gTry)) return { f: Number.POSITIVE_INFINITY, df: Number.NaN };
    return { f, df: dot(gTry, p) };
  };
  const accept = (step: number, f: number): LineSearchState => {
    // Only ever the trial just evaluated: xNew holds it already, gTry its gradient.
    gNew.set(gTry);
    return { step, value: f, evaluations, ok: true };
  };

  // Best sufficient-decrease point seen, as a fallback when the curvature
  // condition cannot be met at machine precision.
  let bestStep = 0;
  let bestF = f0;
  const bestG = new Float64Array(n);
  const remember = (step: number, f: number): void => {
    if (f < bestF && f <= f0 + c1 * step * df0) {
      bestStep = step;
      bestF = f;
      bestG.set(gTry);
    }
  };
  const fallback = (): LineSearchState => {
    if (bestStep > 0) {
      // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
      for (let i = 0; i < n; i++) xNew[i] = x[i] + bestStep * p[i];
      gNew.set(bestG);
      return { step: bestStep, value: bestF, evaluations, ok: true };
    }
    return { step: 0, value: f0, evaluations, ok: false };
  };

  const zoom = (
    lo: number,
    fLo: number,
    dLo: number,
    hi: number,
    fHi: number,
    dHi: number,
  ): LineSearchState => {
    while (evaluations < maxEvaluations) {
      // Stop once the bracket no longer moves x by more than rounding.
      if (Math.abs(hi - lo) * pNorm <= 1e-15 * xScale) break;
      // Cubic interpolation when both ends have finite slopes, else bisection;
      // keep the trial at least 10% inside the bracket so it shrinks.
      let step = Number.isFinite(fHi) && Number.isFinite(dHi) ? cubicMinimizer(lo, fLo, dLo, hi, fHi, dHi) : Number.NaN;
      const left = Math.min(lo, hi);
      const right = Math.max(lo, hi);
      const margin = 0.1 * (right - left);
      if (!(step >= left + margin && step <= right - margin)) step = 0.5 * (lo + hi);
      const { f, df } = evaluate(step);
      remember(step, f);
      if (!(f <= f0 + c1 * step * df0) || f >= fLo) {
        hi = step;
        fHi = f;
        dHi = df;
      } else {
        if (Math.abs(df) <= -c2 * df0) return accept(step, f);
        if (df * (hi - lo) >= 0) {
          hi = lo;
          fHi = fLo;
          dHi = dLo;
        }
        lo = step;
        fLo = f;
        dLo = df;
      }
    }
    return fallback();
  };

  let prevStep = 0;
  let prevF = f0;
  let prevDf = df0;
  let step = Math.min(initialStep, maxStep);
  for (let i = 0; evaluations < maxEvaluations; i++) {
    const { f, df } = evaluate(step);
    if (!Number.isFinite(f)) {
      // Outside the objective's domain: shrink towards the last good point.
      step = prevStep + 0.25 * (step - prevStep);
      if (step - prevStep <= 1e-14 * Math.max(1, prevStep)) return fallback();
      continue;
    }
    remember(step, f);
    if (f > f0 + c1 * step * df0 || (i > 0 && f >= prevF)) return zoom(prevStep, prevF, prevDf, step, f, df);
    if (Math.abs(df) <= -c2 * df0) return accept(step, f);
    if (df >= 0) return zoom(step, f, df, prevStep, prevF, prevDf);
    if (step >= maxStep) return accept(step, f);
    // Still descending: extrapolate (cubic, safeguarded to [1.1, 4]× the step).
    let next = cubicMinimizer(prevStep, prevF, prevDf, step, f, df);
    if (!(next >= 1.1 * step && next <= 4 * step)) next = 2 * step;
    prevStep = step;
    prevF = f;
    prevDf = df;
    step = Math.min(next, maxStep);
  }
  return fallback();
}

/**
 * Minimise f with BFGS. Never throws for a finite start: failures come back
 * as converged = false with a message.
 *
 * Near the optimum of a likelihood summed over many customers, f stops
 * resolving the remaining decrease long before the gradient is small (f has
 * ~16 significant digits, the decrease is quadratic in the distance). There
 * the line search is replaced by full quasi-Newton steps accepted while they
 * shrink the gradient, which is still accurate, so the tolerance on the
 * gradient can be met and the result does not depend on where the line
 * search happened to give up.
 */
export function minimizeBfgs(fg: ObjectiveWithGradient, x0: ArrayLike<number>, options: MinimizeOptions = {}): MinimizeResult {
  const n = x0.length;
  const maxIterations = options.maxIterations ?? 200;
  const gtol = options.gradientTolerance ?? 1e-10;
  const c1 = options.c1 ?? 1e-4;
  const c2 = options.c2 ?? 0.9;
  const maxLs = options.maxLineSearchEvaluations ?? 20;
  // Gradient below which "cannot make progress" still counts as converged.
  const precisionGradient = Math.max(gtol * 1e3, 1e-7);

  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let evaluations = 1;
  let f = fg(x, g);
  // Inverse Hessian approximation, row-major.
  const H = new Float64Array(n * n);
  const result = (iterations: number, converged: boolean, message: string): MinimizeResult =>
    Object.freeze({ x, value: f, gradient: g, iterations, evaluations, converged, message, inverseHessian: H });

  if (!Number.isFinite(f) || !allFinite(g)) {
    return result(0, false, `objective or gradient not finite at the starting point (f = ${f})`);
  }

  let hIsIdentity = true;
  const resetH = (scale: number): void => {
    H.fill(0);
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < n; i++) H[i * n + i] = scale;
  };
  resetH(1);
  if (options.initialInverseHessian && options.initialInverseHessian.length === n * n) {
    let ok = true;
    for (let i = 0; i < n * n; i++) ok &&= Number.isFinite(options.initialInverseHessian[i]);
    for (let i = 0; i < n; i++) ok &&= options.initialInverseHessian[i * n + i] > 0;
    if (ok) {
      H.set(options.initialInverseHessian);
      hIsIdentity = false;
    }
  }

  const p = new Float64Array(n);
  const xNew = new Float64Array(n);
  const gNew = new Float64Array(n);
  const s = new Float64Array(n);
  const y = new Float64Array(n);
  const Hy = new Float64Array(n);
  const steepestDescent = (): number => {
    resetH(1);
    hIsIdentity = true;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < n; i++) p[i] = -g[i];
    return dot(g, p);
  };
  const stopAtPrecisionLimit = (iter: number, gNorm: number, what: string): MinimizeResult => {
    const converged = gNorm <= precisionGradient;
    return result(
      iter,
      converged,
      converged
        ? `converged: ${what} at machine precision, max |gradient| ${gNorm.toExponential(2)}`
        : `stopped: ${what} with max |gradient| ${gNorm.toExponential(2)} (not a minimum to the requested tolerance)`,
    );
  };

  let stalled = 0;
  for (let iter = 0; iter < maxIterations; iter++) {
    const gNorm = normInf(g);
    if (gNorm <= gtol) return result(iter, true, `converged: max |gradient| ${gNorm.toExponential(2)} ≤ ${gtol}`);

    // Search direction p = −H g; steepest descent if that is not downhill.
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let j = 0; j < n; j++) acc -= H[i * n + j] * g[j];
      p[i] = acc;
    }
    let df0 = dot(g, p);
    if (!(df0 < 0) || !allFinite(p)) df0 = steepestDescent();

    // Full quasi-Newton step judged by the gradient alone (see above): taken
    // while f can no longer resolve the predicted decrease −½ gᵀp.
    const fResolution = 4 * Number.EPSILON * Math.max(1, Math.abs(f));
    const tryGradientOnlyStep = (): number => {
      // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
      for (let i = 0; i < n; i++) xNew[i] = x[i] + p[i];
      evaluations++;
      const value = fg(xNew, gNew);
      // f may move within its noise (summation of 10⁵+ terms) but not go uphill.
      const ok = Number.isFinite(value) && allFinite(gNew) && value <= f + 16 * fResolution && normInf(gNew) < gNorm;
      return ok ? value : Number.NaN;
    };

    let fNew: number;
    if (!hIsIdentity && -df0 <= fResolution) {
      fNew = tryGradientOnlyStep();
      if (Number.isNaN(fNew)) return stopAtPrecisionLimit(iter, gNorm, 'no further progress');
    } else {
      const pNorm = normInf(p);
      const initialStep = hIsIdentity ? Math.min(1, 1 / pNorm) : 1;
      const maxStep = options.maxStep ?? Math.max(1, 1e3 / pNorm);
      let ls = lineSearch(fg, x, f, df0, p, initialStep, maxStep, c1, c2, maxLs, xNew, gNew);
      evaluations += ls.evaluations;
      fNew = ls.value;
      if (!ls.ok && !hIsIdentity) {
        // Either f is too noisy to confirm a (tiny) decrease — then the
        // gradient still guides — or the curvature model is stale: retry downhill.
        fNew = tryGradientOnlyStep();
        if (Number.isNaN(fNew)) {
          df0 = steepestDescent();
          const pn = normInf(p);
          ls = lineSearch(fg, x, f, df0, p, Math.min(1, 1 / pn), Math.max(1, 1e3 / pn), c1, c2, maxLs, xNew, gNew);
          evaluations += ls.evaluations;
          if (!ls.ok) return stopAtPrecisionLimit(iter, gNorm, 'line search found no lower value');
          fNew = ls.value;
        }
      } else if (!ls.ok) {
        return stopAtPrecisionLimit(iter, gNorm, 'line search found no lower value');
      }
    }

    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const fPrev = f;
    x.set(xNew);
    g.set(gNew);
    f = fNew;

    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y)) && sy > 0) {
      if (hIsIdentity) {
        // Nocedal & Wright (6.20): scale the initial matrix to the observed curvature.
        resetH(sy / dot(y, y));
        hIsIdentity = false;
      }
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ, expanded:
      // H ← H − ρ (s (Hy)ᵀ + (Hy) sᵀ) + (ρ² yᵀHy + ρ) s sᵀ
      const rho = 1 / sy;
      // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += H[i * n + j] * y[j];
        Hy[i] = acc;
      }
      const coef = rho * rho * dot(y, Hy) + rho;
      // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) H[i * n + j] += -rho * (s[i] * Hy[j] + Hy[i] * s[j]) + coef * s[i] * s[j];
      }
    }

    // Neither f nor x changes any more at double precision.
    const fChange = Math.abs(fPrev - f) / Math.max(1, Math.abs(f));
    const xChange = normInf(s) / Math.max(1, normInf(x));
    stalled = fChange <= 1e-16 && xChange <= 1e-15 ? stalled + 1 : 0;
    if (stalled >= 3) return stopAtPrecisionLimit(iter + 1, normInf(g), 'no further progress');
  }
  const gn = normInf(g);
  if (gn <= gtol) return result(maxIterations, true, `converged: max |gradient| ${gn.toExponential(2)} ≤ ${gtol}`);
  return result(maxIterations, false, `did not converge in ${maxIterations} iterations (max |gradient| ${gn.toExponential(2)})`);
}

/**
 * Hessian by central differences of an analytic gradient:
 * H[:, j] ≈ (∇f(x + hⱼeⱼ) − ∇f(x − hⱼeⱼ)) / (2hⱼ), then symmetrised.
 * Step hⱼ = stepScale · max(1, |xⱼ|) (error O(h²), 6e-6 ≈ ε^(1/3)).
 * Returns a row-major n×n matrix; entries are NaN where the gradient was not finite.
 */
export function numericalHessian(
  gradient: (x: Float64Array, out: Float64Array) => void,
  x: ArrayLike<number>,
  stepScale = 6e-6,
): Float64Array {
  const n = x.length;
  const H = new Float64Array(n * n);
  const xp = Float64Array.from(x);
  const gPlus = new Float64Array(n);
  const gMinus = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const xj = xp[j];
    const h = stepScale * Math.max(1, Math.abs(xj));
    // Use the exactly representable step actually taken.
    const up = xj + h;
    const down = xj - h;
    xp[j] = up;
    gradient(xp, gPlus);
    xp[j] = down;
    gradient(xp, gMinus);
    xp[j] = xj;
    const width = up - down;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = 0; i < n; i++) H[i * n + j] = (gPlus[i] - gMinus[i]) / width;
  }
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const avg = 0.5 * (H[i * n + j] + H[j * n + i]);
      H[i * n + j] = avg;
      H[j * n + i] = avg;
    }
  }
  return H;
}

/**
 * The lower Cholesky factor L of a symmetric matrix (L·Lᵀ = matrix, both
 * row-major n×n), or null when a pivot is not above `minPivot` or is not
 * finite: the matrix is not (numerically) positive definite.
 */
export function choleskyLower(matrix: ArrayLike<number>, n: number, minPivot = 0): Float64Array | null {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = matrix[j * n + j];
    // Stryker disable next-line EqualityOperator: k <= j also subtracts L[j][j]², still 0 here (it is written just below)
    for (let k = 0; k < j; k++) d -= L[j * n + k] * L[j * n + k];
    if (!(d > minPivot) || !Number.isFinite(d)) return null;
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = j + 1; i < n; i++) {
      let v = matrix[i * n + j];
      // Stryker disable next-line EqualityOperator: k <= j also subtracts L[i][j]·L[j][j] with L[i][j] still 0 (it is written just below)
      for (let k = 0; k < j; k++) v -= L[i * n + k] * L[j * n + k];
      L[i * n + j] = v / ljj;
    }
  }
  return L;
}

/**
 * Inverse of a symmetric positive-definite matrix (row-major) by Cholesky
 * factorisation; null if the matrix is not (numerically) positive definite
 * or has non-finite entries.
 */
export function invertSymmetricPositiveDefinite(matrix: ArrayLike<number>, n: number): Float64Array | null {
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(matrix[i])) return null;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(matrix[i * n + i]));
  // A pivot at rounding level means a singular (flat) direction.
  const L = choleskyLower(matrix, n, 1e-14 * maxDiag);
  if (L === null) return null;
  // inv = L⁻ᵀ L⁻¹: invert L column by column, then multiply.
  const Linv = new Float64Array(n * n);
  // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
  for (let j = 0; j < n; j++) {
    Linv[j * n + j] = 1 / L[j * n + j];
    // Stryker disable next-line EqualityOperator: `<=` here only adds a pass one past the end of a typed array, whose write is ignored and whose read is not used
    for (let i = j + 1; i < n; i++) {
      let v = 0;
      // Stryker disable next-line EqualityOperator: k <= i also subtracts L[i][i]·Linv[i][j] with Linv[i][j] still 0 (it is written just below)
      for (let k = j; k < i; k++) v -= L[i * n + k] * Linv[k * n + j];
      Linv[i * n + j] = v / L[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let v = 0;
      for (let k = i; k < n; k++) v += Linv[k * n + i] * Linv[k * n + j];
      inv[i * n + j] = v;
      inv[j * n + i] = v;
    }
  }
  return inv;
}
