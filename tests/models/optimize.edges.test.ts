/**
 * minimizeBfgs's options and early exits, on objectives whose minimiser and
 * line-search steps follow from the definitions by hand.
 */
import { describe, expect, it } from 'vitest';
import { invertSymmetricPositiveDefinite, minimizeBfgs, numericalHessian, type ObjectiveWithGradient } from '../../src/models/optimize.js';

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
    // Trials at steps 0.1, 0.2, 0.4 (doubling: the cubic's minimum, step 1, is beyond 4× the first two), then the cap.
    expect(points).toEqual([[0], [1], [2], [4], [5]]);
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

  it('ignores an initial inverse Hessian that is not usable (wrong size, non-finite anywhere, non-positive diagonal): same run as without', () => {
    const cold = minimizeBfgs(bowl([2, -1]).fg, [0, 0]);
    for (const initialInverseHessian of [[1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, Number.NaN], [1, Number.NaN, Number.NaN, 1], [1, Number.POSITIVE_INFINITY, 0, 1], [1, 0, 0, 0], [-1, 0, 0, 1]]) {
      const warm = minimizeBfgs(bowl([2, -1]).fg, [0, 0], { initialInverseHessian });
      expect({ x: [...warm.x], iterations: warm.iterations, evaluations: warm.evaluations }).toEqual({
        x: [...cold.x],
        iterations: cold.iterations,
        evaluations: cold.evaluations,
      });
    }
  });

  it('uses a usable initial inverse Hessian, and refuses one with a diagonal entry ≤ 0 even where it would point downhill', () => {
    // ½|x − (0, −5)|² from 0, gradient (0, 5): any diagonal with H₁₁ = 1 gives p = (0, −5), the whole way.
    const used = bowl([0, -5]);
    minimizeBfgs(used.fg, [0, 0], { initialInverseHessian: [2, 0, 0, 1] });
    expect(used.points).toEqual([
      [0, 0],
      [0, -5],
    ]);
    const cold = bowl([0, -5]);
    minimizeBfgs(cold.fg, [0, 0]);
    // Without it: the first trial is 1/‖p‖∞ = 0.2 of the way.
    expect(cold.points[1]).toEqual([0, -1]);
    for (const initialInverseHessian of [[0, 0, 0, 1], [-1, 0, 0, 1]]) {
      const refused = bowl([0, -5]);
      minimizeBfgs(refused.fg, [0, 0], { initialInverseHessian });
      expect(refused.points).toEqual(cold.points);
    }
  });

  it('falls back to steepest descent from the identity when −H g is not downhill', () => {
    // ½|x|² from (2, −2) with H = [[1, 2], [2, 1]] (not positive definite): −Hg = (2, −2) points uphill.
    // Downhill instead: p = −g = (−2, 2), first trial 1/‖p‖∞ = 0.5 → (1, −1); then H = (sᵀy/yᵀy) I = I, step to 0.
    const { fg, points } = bowl([0, 0]);
    const result = minimizeBfgs(fg, [2, -2], { initialInverseHessian: [1, 2, 2, 1] });
    expect(points).toEqual([
      [2, -2],
      [1, -1],
      [0, 0],
    ]);
    expect(result).toMatchObject({ converged: true, iterations: 2 });
  });

  it('a step past the minimum with the slope turned positive is zoomed back between the two points', () => {
    // Inverse Hessian 1.95: p = 19.5 and x = 19.5 (f = 45.1 < 50, slope +185 steeper than 0.9 × 195):
    // the minimum is bracketed by steps 1 and 0, and the cubic (exact on a quadratic) finds x = 10.
    const { fg, points } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { initialInverseHessian: [1.95], maxIterations: 1 });
    expect(points.slice(0, 2)).toEqual([[0], [19.5]]);
    expect(points.length).toBe(3);
    expect(points[2][0]).toBeCloseTo(10, 12);
    expect(result.x[0]).toBeCloseTo(10, 12);
  });

  it('extrapolates an unbounded descent up to max(1, 1000/‖p‖∞)', () => {
    // f = −2x: p = 2, trials 0.5, 1, 2, …, 256, then the cap 500: x = 1000, 12 evaluations in all.
    const points: number[][] = [];
    const result = minimizeBfgs(
      (x, g) => {
        points.push([...x]);
        g[0] = -2;
        return -2 * x[0];
      },
      [0],
      { maxIterations: 1 },
    );
    expect(result.x[0]).toBe(1000);
    expect(result.evaluations).toBe(12);
    expect(points[1]).toEqual([1]);
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

  it('null for a non-finite entry even in the upper triangle, which the factorisation never reads', () => {
    expect(invertSymmetricPositiveDefinite([1, Number.NaN, 0, 1], 2)).toBeNull();
    expect(invertSymmetricPositiveDefinite([1, Number.POSITIVE_INFINITY, 0, 1], 2)).toBeNull();
  });

  it('judges a pivot against the largest diagonal entry wherever it is', () => {
    // 1e-9 is at rounding level against 1e6 (ratio 1e-15 < 1e-14), even as the first pivot.
    expect(invertSymmetricPositiveDefinite([1e-9, 0, 0, 1e6], 2)).toBeNull();
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
    const { fg, points } = liar(4);
    const result = minimizeBfgs(fg, [0], { initialInverseHessian: [1] });
    expect(result.converged).toBe(false);
    expect(result.message).toMatch(/^stopped: line search found no lower value/);
    // 1 (start) + 20 (line search from step 1: x = 4) + 1 (full step x + p = 4) + 20 (steepest descent,
    // first trial 1/‖p‖∞ = 0.25: x = 1).
    expect(result.evaluations).toBe(42);
    expect(points[1]).toEqual([4]);
    expect(points[21]).toEqual([4]);
    expect(points[22]).toEqual([1]);
  });

  it('goes on after the steepest-descent retry succeeds', () => {
    // ½x² from 1 with a wrong inverse Hessian (1000): the one allowed trial, x = −999, fails; so does the full step;
    // downhill from the identity, step 1 reaches 0.
    const { fg, points } = bowl([0]);
    const result = minimizeBfgs(fg, [1], { initialInverseHessian: [1000], maxLineSearchEvaluations: 1 });
    expect(points).toEqual([[1], [-999], [-999], [0]]);
    expect(result).toMatchObject({ converged: true, iterations: 1 });
  });

  it('remembers a trial with sufficient decrease as the answer when the curvature condition is never met', () => {
    // One trial allowed, at step 0.1 (x = 1): f drops from 50 to 40.5 (sufficient for c1 = 1e-4) but the
    // slope −90 is not within c2 = 0.1 of −100; the search keeps x = 1 and its gradient −9.
    const { fg } = bowl([10]);
    const result = minimizeBfgs(fg, [0], { c2: 0.1, maxLineSearchEvaluations: 1, maxIterations: 1 });
    expect(result.x[0]).toBe(1);
    expect(result.value).toBe(40.5);
    expect(result.gradient[0]).toBe(-9);
    // With c1 = 0.99 the same trial is not a sufficient decrease (40.5 > 50 − 0.99 · 0.1 · 100): nothing to keep.
    const strict = minimizeBfgs(bowl([10]).fg, [0], { c1: 0.99, maxLineSearchEvaluations: 1, maxIterations: 1 });
    expect(strict.x[0]).toBe(0);
    expect(strict.message).toMatch(/^stopped: line search found no lower value/);
  });

  it('keeps the remembered trial, not the last one, when the line search runs out of trials', () => {
    // ½(x − 10)² plus a cliff of `jump` past x = 1.5, c2 = 0.1: the trial at x = 1 (f = 40.5) is a sufficient
    // decrease but too steep; doubling tries x = 2. A cliff of 1000 puts f(2) above f(0) = 50; one of 10 leaves
    // f(2) = 42 below it but above f(1): either way the minimum is bracketed by x = 1 and x = 2.
    const cliff = (jump: number) => {
      const points: number[][] = [];
      const fg: ObjectiveWithGradient = (x, g) => {
        points.push([...x]);
        g[0] = x[0] - 10;
        return 0.5 * (x[0] - 10) ** 2 + (x[0] > 1.5 ? jump : 0);
      };
      return { fg, points };
    };
    // Two trials allowed: no room to zoom; the answer is x = 1 with its own value and gradient.
    const short = cliff(1000);
    const result = minimizeBfgs(short.fg, [0], { c2: 0.1, maxLineSearchEvaluations: 2, maxIterations: 1 });
    expect(short.points).toEqual([[0], [1], [2]]);
    expect(result.x[0]).toBe(1);
    expect(result.value).toBe(40.5);
    expect(result.gradient[0]).toBe(-9);
    // Three allowed, cliff 10: the third trial is inside the bracket (1, 2), not beyond it.
    const rising = cliff(10);
    minimizeBfgs(rising.fg, [0], { c2: 0.1, maxLineSearchEvaluations: 3, maxIterations: 1 });
    expect(rising.points.slice(0, 3)).toEqual([[0], [1], [2]]);
    expect(rising.points[3][0]).toBeGreaterThan(1);
    expect(rising.points[3][0]).toBeLessThan(2);
  });

  it('shrinks a trial outside the domain to a quarter of the way, also when only the gradient is not finite', () => {
    // f = x − log x on x > 0 from 2 with inverse Hessian 10: p = −5, x = −3 is outside; a quarter of the
    // step, x = 0.75, has slope 1.67 ≤ 0.9 × 2.5: accepted.
    for (const outside of [Number.POSITIVE_INFINITY, 100]) {
      const points: number[][] = [];
      minimizeBfgs(
        (x, g) => {
          points.push([...x]);
          if (!(x[0] > 0)) {
            g[0] = Number.NaN;
            return outside;
          }
          g[0] = 1 - 1 / x[0];
          return x[0] - Math.log(x[0]);
        },
        [2],
        { initialInverseHessian: [10], maxIterations: 1 },
      );
      expect(points).toEqual([[2], [-3], [0.75]]);
    }
  });

  it('gives up when every trial, down to 1e-14 of the step, is outside the domain', () => {
    // Finite only at 0: the step shrinks by 4 from 1 until 4⁻²⁴ ≤ 1e-14, 24 trials.
    const result = minimizeBfgs(
      (x, g) => {
        g[0] = -1;
        return x[0] === 0 ? 0 : Number.POSITIVE_INFINITY;
      },
      [0],
      { maxLineSearchEvaluations: 100 },
    );
    expect(result.evaluations).toBe(25);
    expect(result.message).toMatch(/^stopped: line search found no lower value/);
  });

  it('refuses a start whose gradient is not finite', () => {
    const result = minimizeBfgs((_x, g) => ((g[0] = Number.NaN), 1), [0]);
    expect(result).toMatchObject({ converged: false, iterations: 0 });
    expect(result.message).toBe('objective or gradient not finite at the starting point (f = 1)');
  });

  it('the precision limit scales with the tolerance: max(1e3 × tolerance, 1e-7)', () => {
    // gradient 1e-4 with tolerance 1e-6: 1e-4 ≤ 1e-3, as close as the tolerance allows at this precision.
    const result = minimizeBfgs(liar(1e-4).fg, [0], { gradientTolerance: 1e-6 });
    expect(result.converged).toBe(true);
    expect(result.message).toBe('converged: line search found no lower value at machine precision, max |gradient| 1.00e-4');
  });

  it('a full step that moves f out of its noise band is refused even if the gradient vanishes there', () => {
    // f jumps by 1 (far beyond 16 × 4ε × 1e12 ≈ 0.014) just left of 0, where the gradient is 0.
    const points: number[][] = [];
    const result = minimizeBfgs(
      (x, g) => {
        points.push([...x]);
        g[0] = x[0] < 0 ? 0 : 0.01;
        return x[0] < 0 ? 1e12 + 1 : 1e12;
      },
      [0],
      { initialInverseHessian: [1] },
    );
    expect(points).toEqual([[0], [-0.01]]);
    expect(result.converged).toBe(false);
    expect(result.message).toBe('stopped: no further progress with max |gradient| 1.00e-2 (not a minimum to the requested tolerance)');
  });

  it('stops after three iterations in which neither f nor x changes', () => {
    // Steps far below the resolution of x = 1, each accepted because the gradient (noise) halves.
    let calls = 0;
    const points: number[][] = [];
    const result = minimizeBfgs(
      (x, g) => {
        points.push([...x]);
        g[0] = 1e-3 * 0.5 ** calls++;
        return 1e12;
      },
      [1],
      { initialInverseHessian: [1e-20] },
    );
    expect(points).toEqual([[1], [1], [1], [1]]);
    expect(result).toMatchObject({ converged: false, iterations: 3, evaluations: 4 });
    expect(result.message).toBe('stopped: no further progress with max |gradient| 1.25e-4 (not a minimum to the requested tolerance)');
  });

  it('judges "unchanged" relative to x and f: a few units in the last place of x = 1000, or one of f = ¼', () => {
    // x moves by a few ulps of 1000 (~1e-13, relative ~1e-16 ≤ 1e-15); f flips by one ulp of ¼ (5.6e-17 ≤ 1e-16).
    const stalls = (x0: number, h: number, f: (call: number) => number) => {
      let calls = 0;
      return minimizeBfgs(
        (_x, g) => {
          const call = calls++;
          g[0] = 1e-3 * 0.5 ** call;
          return f(call);
        },
        [x0],
        { initialInverseHessian: [h] },
      );
    };
    const movingX = stalls(1000, 5e-10, () => 1e12);
    expect(movingX).toMatchObject({ converged: false, iterations: 3 });
    expect(movingX.x[0]).not.toBe(1000);
    expect(Math.abs(movingX.x[0] - 1000)).toBeLessThan(1e-11);
    const flippingF = stalls(1, 1e-20, (call) => 0.25 + (call % 2) * 2 ** -54);
    expect(flippingF).toMatchObject({ converged: false, iterations: 3 });
    expect(flippingF.value).not.toBe(0.25);
    // Either one still changing is progress: the halving gradient reaches 1e-10 at the 24th iteration (1e-3 · 2⁻²⁴).
    expect(stalls(1, 1e-20, (call) => 1e12 - 1e3 * call)).toMatchObject({ converged: true, iterations: 24 });
    expect(stalls(1000, 1e-6, () => 1e12)).toMatchObject({ converged: true, iterations: 24 });
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

describe('numericalHessian steps', () => {
  it('scales the step with |x| (h = 6e-6·max(1, |x|)): f = x⁴ at x = 100 gives 12x² to 3e-11', () => {
    // Central difference of 4x³: 12x² + 4h², h = 6e-4, so 1.44e-6 (1.2e-11 relative) off 120000, plus
    // rounding in the gradient (4e6 · 1e-16 / 1.2e-3 ≈ 3e-10). A step of 6e-6, not scaled by |x|,
    // loses 100× more to rounding (~1e-10 relative).
    const H = numericalHessian((x, out) => void (out[0] = 4 * x[0] ** 3), [100]);
    expect(Math.abs(H[0] - 120_000) / 120_000).toBeLessThan(3e-11);
  });

  it('is exactly symmetric in every pair of a 3-D Hessian', () => {
    // f = x₀x₁x₂ + x₁³x₂ + e^(x₀x₂): the two one-sided columns differ by rounding; the average is taken.
    const gradient = (x: Float64Array, out: Float64Array) => {
      const e = Math.exp(x[0] * x[2]);
      out[0] = x[1] * x[2] + x[2] * e;
      out[1] = x[0] * x[2] + 3 * x[1] ** 2 * x[2];
      out[2] = x[0] * x[1] + x[1] ** 3 + x[0] * e;
    };
    const x = [0.7, -1.3, 0.4];
    const H = numericalHessian(gradient, x);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(H[i * 3 + j]).toBe(H[j * 3 + i]);
    // ∂²f/∂x₁∂x₂ = x₀ + 3x₁².
    expect(H[1 * 3 + 2]).toBeCloseTo(0.7 + 3 * 1.69, 8);
  });
});
