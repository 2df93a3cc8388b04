import { describe, expect, it } from 'vitest';
import { invertSymmetricPositiveDefinite, minimizeBfgs, numericalHessian, type ObjectiveWithGradient } from '../../src/models/optimize.js';

const rosenbrock: ObjectiveWithGradient = (x, g) => {
  const [a, b] = x;
  g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  g[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

/** f(x) = ½ (x − c)ᵀ A (x − c) with a badly scaled diagonal-plus-coupling A. */
function quadratic(A: number[][], c: number[]): ObjectiveWithGradient {
  return (x, g) => {
    let f = 0;
    for (let i = 0; i < c.length; i++) {
      let row = 0;
      for (let j = 0; j < c.length; j++) row += A[i][j] * (x[j] - c[j]);
      g[i] = row;
      f += 0.5 * (x[i] - c[i]) * row;
    }
    return f;
  };
}

const A4 = [
  [1000, 10, 0, 0],
  [10, 1, 0.05, 0],
  [0, 0.05, 0.01, 0.0005],
  [0, 0, 0.0005, 0.0001],
];

describe('minimizeBfgs', () => {
  it('solves the Rosenbrock valley from the classic start', () => {
    const result = minimizeBfgs(rosenbrock, [-1.2, 1]);
    expect(result.converged).toBe(true);
    expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-8);
    expect(Math.abs(result.x[1] - 1)).toBeLessThan(1e-8);
    expect(result.iterations).toBeLessThan(100);
    expect(result.message).toMatch(/converged/);
  });

  it('minimises an ill-conditioned quadratic (condition number 1.5e7)', () => {
    const c = [1, -2, 3, 40];
    const result = minimizeBfgs(quadratic(A4, c), [0, 0, 0, 0], { gradientTolerance: 1e-12 });
    expect(result.converged).toBe(true);
    for (let i = 0; i < 4; i++) expect(Math.abs(result.x[i] - c[i])).toBeLessThan(1e-5 * Math.max(1, Math.abs(c[i])));
  });

  it('takes the Newton step at once when given the exact inverse Hessian', () => {
    const A = [
      [4, 1],
      [1, 3],
    ];
    const inverse = invertSymmetricPositiveDefinite(A.flat(), 2) as Float64Array;
    const result = minimizeBfgs(quadratic(A, [2, -1]), [0, 0], { initialInverseHessian: inverse, gradientTolerance: 1e-12 });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBe(1);
    expect(result.evaluations).toBe(2);
  });

  it('backs off from points outside the domain (objective = +Infinity)', () => {
    // f(x) = x − log x on x > 0, minimum at 1; a steepest-descent step from 0.01 overshoots into x < 0.
    const f: ObjectiveWithGradient = (x, g) => {
      if (!(x[0] > 0)) return Number.POSITIVE_INFINITY;
      g[0] = 1 - 1 / x[0];
      return x[0] - Math.log(x[0]);
    };
    const result = minimizeBfgs(f, [0.01]);
    expect(result.converged).toBe(true);
    expect(Math.abs(result.x[0] - 1)).toBeLessThan(1e-8);
  });

  it('reports, never throws, when it cannot start or finish', () => {
    const nanStart = minimizeBfgs(() => Number.NaN, [1, 2]);
    expect(nanStart.converged).toBe(false);
    expect(nanStart.message).toMatch(/not finite/);

    const capped = minimizeBfgs(rosenbrock, [-1.2, 1], { maxIterations: 3 });
    expect(capped.converged).toBe(false);
    expect(capped.message).toMatch(/did not converge in 3 iterations/);
    expect(Number.isFinite(capped.value)).toBe(true);

    // Unbounded below: the line search keeps extrapolating until the iteration cap.
    const unbounded = minimizeBfgs((x, g) => {
      g[0] = -1;
      return -x[0];
    }, [0], { maxIterations: 5 });
    expect(unbounded.converged).toBe(false);
  });
});

describe('numericalHessian', () => {
  it('is exact (to rounding) for a quadratic', () => {
    const H = numericalHessian((x, out) => void quadratic(A4, [0, 0, 0, 0])(x, out), [0.3, -0.2, 5, 1]);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) expect(Math.abs(H[i * 4 + j] - A4[i][j])).toBeLessThan(1e-7 * Math.max(1, Math.abs(A4[i][j])));
    }
  });

  it('matches the analytic Hessian of Rosenbrock at the minimum', () => {
    const H = numericalHessian((x, out) => void rosenbrock(x, out), [1, 1]);
    const expected = [802, -400, -400, 200];
    for (let i = 0; i < 4; i++) expect(Math.abs(H[i] - expected[i]) / Math.abs(expected[i])).toBeLessThan(1e-8);
    expect(H[1]).toBe(H[2]); // symmetrised
  });
});

describe('invertSymmetricPositiveDefinite', () => {
  it('inverts a positive-definite matrix', () => {
    const inverse = invertSymmetricPositiveDefinite(A4.flat(), 4) as Float64Array;
    expect(inverse).not.toBeNull();
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += A4[i][k] * inverse[k * 4 + j];
        expect(Math.abs(v - (i === j ? 1 : 0))).toBeLessThan(1e-8);
      }
    }
  });

  it('returns null for indefinite, singular or non-finite matrices', () => {
    expect(invertSymmetricPositiveDefinite([1, 2, 2, 1], 2)).toBeNull();
    expect(invertSymmetricPositiveDefinite([1, 1, 1, 1], 2)).toBeNull();
    expect(invertSymmetricPositiveDefinite([1, 0, 0, Number.NaN], 2)).toBeNull();
  });
});
