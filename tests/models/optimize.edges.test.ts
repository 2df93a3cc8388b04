/**
 * minimizeBfgs's options and early exits, on objectives whose minimiser and
 * line-search steps follow from the definitions by hand.
 */
import { describe, expect, it } from 'vitest';
import { invertSymmetricPositiveDefinite, minimizeBfgs, type ObjectiveWithGradient } from '../../src/models/optimize.js';

/** f(x) = ½ Σ (xᵢ − cᵢ)², recording every point it is evaluated at. */
function bowl(c: number[]): { fg: ObjectiveWithGradient; points: number[][] } {
  const points: number[][] = [];
  const fg: ObjectiveWithGradient = (x, g) => {
    points.push([...x]);
    let f = 0;
    for (let i = 0; i < c.length; i++) {
      g[i] = x[i] - c[i];
      f += 0.5 * g[i] * g[i];
    }
    return f;
  };
  return { fg, points };
}

describe('minimizeBfgs options', () => {
  it('stops at once at a minimum: no iteration, one evaluation', () => {
    const { fg } = bowl([3, -4]);
    const result = minimizeBfgs(fg, [3, -4]);
    expect(result).toMatchObject({ converged: true, iterations: 0, evaluations: 1, value: 0 });
    expect(result.message).toBe('converged: max |gradient| 0.00e+0 ≤ 1e-10');
  });

  it('maxStep caps the step: from 0 towards 10 (p = 10), a step of at most 0.5 reaches x = 5 and no further', () => {
    // c2 = 0.1 refuses the first trial (x = 1, slope −90 against −100), so the search extrapolates up to the cap.
    const { fg, points } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { c2: 0.1, maxStep: 0.5, maxIterations: 1 });
    expect(Math.max(...points.map(([x]) => x!))).toBe(5);
    expect(result.x[0]).toBe(5);
  });

  it('without the cap, the extrapolation lands on the minimum of a quadratic (cubic interpolation is exact there)', () => {
    const { fg } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { c2: 0.1, maxIterations: 1 });
    expect(result.x[0]).toBeCloseTo(10, 12);
  });

  it('c2 = 0.9 accepts the first trial step min(1, 1/‖p‖∞) = 0.1 when its slope is within 0.9 of the start', () => {
    const { fg, points } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { maxIterations: 1 });
    expect(points).toEqual([[0], [1]]);
    expect(result.x[0]).toBe(1);
  });

  it('extrapolates by doubling while the cubic model points beyond 4× the step, then jumps to its minimiser', () => {
    // ½(x − 10)² from 0: p = 10, first trial 0.1 (x = 1). The cubic through two points of a
    // quadratic is the quadratic itself, minimum at step 1; it is outside [1.1, 4]× the
    // trial at 0.1 and 0.2 (so the step doubles), inside at 0.4.
    const { fg, points } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { c2: 0.1 });
    expect(points).toEqual([[0], [1], [2], [4], [10]]);
    expect(result).toMatchObject({ converged: true, iterations: 1, evaluations: 5 });
  });

  it('an overshooting first step is zoomed back by cubic interpolation to the minimum', () => {
    // Inverse Hessian 4 (true: 1): p = 40, the unit step lands at 40 (f = 450 > 50);
    // the cubic through (0, 50, −400) and (1, 450, 1200) has its minimum at 0.25: x = 10.
    const { fg, points } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { initialInverseHessian: [4] });
    expect(points).toEqual([[0], [40], [10]]);
    expect(result).toMatchObject({ converged: true, iterations: 1, evaluations: 3 });
  });

  it('scales the identity to the curvature seen on the first step (Nocedal & Wright 6.20), then steps to the minimum', () => {
    // ½|x − c|²: first trial 1/‖p‖∞ = 0.1 of the way (its slope, −112.5, is 0.9 of −125: accepted);
    // s = y there, so H becomes (sᵀy / yᵀy) I = I, the exact inverse Hessian, and the next step is exact.
    const { fg, points } = bowl([10, -5]);
    const result = minimizeBfgs(fg, [0, 0]);
    expect(points).toEqual([
      [0, 0],
      [1, -0.5],
      [10, -5],
    ]);
    expect(result).toMatchObject({ converged: true, iterations: 2, evaluations: 3 });
    [1, 0, 0, 1].forEach((v, i) => expect(Math.abs(result.inverseHessian[i] - v)).toBeLessThan(1e-15));
  });

  it('a loose gradientTolerance stops early, with the gradient within it', () => {
    const { fg } = bowl([10, -3, 0.5]);
    const result = minimizeBfgs(fg, [0, 0, 0], { gradientTolerance: 0.5 });
    expect(result.converged).toBe(true);
    expect(Math.max(...result.gradient.map(Math.abs))).toBeLessThanOrEqual(0.5);
    expect(result.message).toMatch(/≤ 0\.5$/);
  });

  it('ignores an initial inverse Hessian that is not usable (wrong size, non-finite, non-positive diagonal): same run as without', () => {
    const cold = minimizeBfgs(bowl([2, -1]).fg, [0, 0]);
    for (const initialInverseHessian of [[1, 0, 0], [1, 0, 0, Number.NaN], [1, 0, 0, 0], [-1, 0, 0, 1]]) {
      const warm = minimizeBfgs(bowl([2, -1]).fg, [0, 0], { initialInverseHessian });
      expect({ x: [...warm.x], iterations: warm.iterations, evaluations: warm.evaluations }).toEqual({
        x: [...cold.x],
        iterations: cold.iterations,
        evaluations: cold.evaluations,
      });
    }
  });

  it('returns a frozen result', () => {
    expect(Object.isFrozen(minimizeBfgs(bowl([1]).fg, [0]))).toBe(true);
  });
});

describe('invertSymmetricPositiveDefinite on dense matrices', () => {
  const expectMatrix = (actual: Float64Array | null, expected: number[]) => {
    expect(actual).not.toBeNull();
    expected.forEach((v, i) => expect(Math.abs(actual![i]! - v)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(v))));
  };

  it('3×3: the adjugate over the determinant (det 67)', () => {
    const inverse = invertSymmetricPositiveDefinite([4, 2, 1, 2, 5, 3, 1, 3, 6], 3);
    expectMatrix(inverse, [21, -9, 1, -9, 23, -10, 1, -10, 16].map((v) => v / 67));
  });

  it('4×4: (I + 11ᵀ)⁻¹ = I − 11ᵀ/5 (Sherman–Morrison)', () => {
    const inverse = invertSymmetricPositiveDefinite([2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 2], 4);
    expectMatrix(inverse, [4, -1, -1, -1, -1, 4, -1, -1, -1, -1, 4, -1, -1, -1, -1, 4].map((v) => v / 5));
  });

  it('null when a pivot is at rounding level against the largest diagonal entry (numerically singular)', () => {
    expect(invertSymmetricPositiveDefinite([1e6, 1e3, 1e3, 1 + 1e-9], 2)).toBeNull();
    expectMatrix(invertSymmetricPositiveDefinite([1e6, 0, 0, 1e-3], 2), [1e-6, 0, 0, 1e3]);
  });
});

/**
 * f(x) = x² with a gradient that lies (−k everywhere): every trial along the
 * "downhill" direction goes up, so no line search can succeed.
 */
function liar(k: number): { fg: ObjectiveWithGradient; points: number[][] } {
  const points: number[][] = [];
  const fg: ObjectiveWithGradient = (x, g) => {
    points.push([...x]);
    g[0] = -k;
    return x[0] * x[0];
  };
  return { fg, points };
}

/** A constant objective whose gradient stays k: a step never shrinks the gradient. */
function plateau(value: number, k: number): { fg: ObjectiveWithGradient; points: number[][] } {
  const points: number[][] = [];
  const fg: ObjectiveWithGradient = (x, g) => {
    points.push([...x]);
    g[0] = k;
    return value;
  };
  return { fg, points };
}

describe('minimizeBfgs at the limits of precision', () => {
  it('a line search that finds no lower value stops the fit, not converged when the gradient is large', () => {
    const { fg, points } = liar(1);
    const result = minimizeBfgs(fg, [0]);
    expect(result).toMatchObject({ converged: false, iterations: 0, value: 0 });
    expect(result.message).toBe('stopped: line search found no lower value with max |gradient| 1.00e+0 (not a minimum to the requested tolerance)');
    // The start, then the line search's 20 trials (its default cap), the first at step 1.
    expect(result.evaluations).toBe(21);
    expect(points.length).toBe(21);
    expect(points[1]).toEqual([1]);
    expect(result.x[0]).toBe(0);
  });

  it('maxLineSearchEvaluations caps the trials of one line search', () => {
    const { fg } = liar(1);
    expect(minimizeBfgs(fg, [0], { maxLineSearchEvaluations: 5 }).evaluations).toBe(6);
  });

  it('counts as converged when the gradient is below max(1e3 × tolerance, 1e-7) and the bracket shrank below rounding', () => {
    const { fg } = liar(1e-8);
    const result = minimizeBfgs(fg, [0]);
    expect(result.converged).toBe(true);
    expect(result.message).toBe('converged: line search found no lower value at machine precision, max |gradient| 1.00e-8');
    // The bracket [0, step] times ‖p‖ = 1e-8 falls below 1e-15 before the 20 trials are used up.
    expect(result.evaluations).toBeLessThan(21);
    // With a looser tolerance the same gradient is simply small enough.
    expect(minimizeBfgs(fg, [0], { gradientTolerance: 1e-7 })).toMatchObject({ converged: true, iterations: 0, evaluations: 1 });
  });

  it('with a curvature model, a failed line search is retried by a full step, then downhill from the identity', () => {
    const { fg, points } = liar(1);
    const result = minimizeBfgs(fg, [0], { initialInverseHessian: [1] });
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/^stopped: line search found no lower value/);
    // 1 (start) + 20 (line search) + 1 (full step x + p = 1) + 20 (steepest-descent line search).
    expect(result.evaluations).toBe(42);
    expect(points[21]).toEqual([1]);
  });

  it('takes the full quasi-Newton step when f cannot resolve the predicted decrease, judged by the gradient', () => {
    // f = 1e12 + ½(x − ¼)², noisy at its minimum by 1e-3 (8 units in the last place of 1e12),
    // from 0.26 with the exact inverse Hessian: the predicted decrease ½·10⁻⁴ is below f's
    // resolution (4ε·1e12 ≈ 9e-4), so the step to ¼ is taken because the gradient vanishes there.
    const points: number[][] = [];
    const fg: ObjectiveWithGradient = (x, g) => {
      points.push([...x]);
      g[0] = x[0] - 0.25;
      return 1e12 + 0.5 * (x[0] - 0.25) ** 2 + (x[0] === 0.25 ? 1e-3 : 0);
    };
    const result = minimizeBfgs(fg, [0.26], { initialInverseHessian: [1] });
    expect(points).toEqual([[0.26], [0.25]]);
    expect(result).toMatchObject({ converged: true, iterations: 1, evaluations: 2 });
  });

  it('stops with "no further progress" when that full step does not shrink the gradient', () => {
    const large = plateau(1e12, 0.01);
    const stuck = minimizeBfgs(large.fg, [0], { initialInverseHessian: [1] });
    expect(large.points).toEqual([[0], [-0.01]]);
    expect(stuck).toMatchObject({ converged: false, iterations: 0, evaluations: 2 });
    expect(stuck.message).toBe('stopped: no further progress with max |gradient| 1.00e-2 (not a minimum to the requested tolerance)');
    // The same with a gradient of 5e-8 ≤ 1e-7 is as close as doubles allow: converged.
    const small = minimizeBfgs(plateau(1e3, 5e-8).fg, [0], { initialInverseHessian: [1] });
    expect(small).toMatchObject({ converged: true, iterations: 0, evaluations: 2 });
    expect(small.message).toBe('converged: no further progress at machine precision, max |gradient| 5.00e-8');
  });

  it('a last iteration that reaches the tolerance counts as converged, not as out of iterations', () => {
    const { fg } = bowl([3]);
    const result = minimizeBfgs(fg, [0], { initialInverseHessian: [1], maxIterations: 1 });
    expect(result).toMatchObject({ converged: true, iterations: 1, evaluations: 2, message: 'converged: max |gradient| 0.00e+0 ≤ 1e-10' });
  });
});
