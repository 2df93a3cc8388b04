import { describe, expect, it } from 'vitest';
import { BG_NBD } from '../../src/models/bgNbd.js';
import { compilePurchasePatterns, type LogLikelihoodWithGradient } from '../../src/models/fitting.js';
import {
  centralInterval,
  drawParameters,
  logSpaceCovariance,
  negativeLogLikelihoodHessian,
  quantileInPlace,
  quantileOfSorted,
  selectInPlace,
  seededNormal,
  seededUniform,
} from '../../src/models/parameterDraws.js';
import { choleskyLower } from '../../src/models/optimize.js';
import { mulberry32, patterns } from './cdnowPatterns.js';

/** LL(θ) = −½ (θ − μ)ᵀ A (θ − μ): its negative Hessian is A, everywhere. */
function quadratic(A: number[][], mu: number[]): LogLikelihoodWithGradient {
  return (theta, gradient) => {
    let value = 0;
    for (let i = 0; i < mu.length; i++) {
      let row = 0;
      for (let j = 0; j < mu.length; j++) row += A[i][j] * (theta[j] - mu[j]);
      gradient[i] = -row;
      value -= 0.5 * (theta[i] - mu[i]) * row;
    }
    return value;
  };
}

/** Second differences of the log-likelihood's values alone (no gradient): an independent Hessian of −LL. */
function valueHessian(ll: LogLikelihoodWithGradient, theta: number[], h = 1e-4): number[][] {
  const scratch = new Float64Array(theta.length);
  const f = (t: number[]) => -ll(Float64Array.from(t), scratch);
  const n = theta.length;
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const at = (di: number, dj: number) => {
        const t = [...theta];
        t[i] += di;
        t[j] += dj;
        return f(t);
      };
      H[i][j] = (at(h, h) - at(h, -h) - at(-h, h) + at(-h, -h)) / (4 * h * h);
    }
  }
  return H;
}

const SMALL = patterns([
  [0, 0, 38, 140],
  [0, 0, 30, 90],
  [1, 10, 38, 60],
  [1, 25, 32, 40],
  [2, 20, 36, 30],
  [3, 30, 38, 20],
  [5, 35, 38, 10],
  [8, 37, 39, 6],
  [2, 5, 39, 25],
  [4, 12, 37, 14],
]);

describe('seeded random numbers', () => {
  it('a seed gives one sequence: the same numbers for the same seed, others for another', () => {
    const take = (next: () => number, n: number) => Array.from({ length: n }, next);
    expect(take(seededUniform(7), 50)).toEqual(take(seededUniform(7), 50));
    expect(take(seededUniform(7), 50)).not.toEqual(take(seededUniform(8), 50));
    expect(take(seededNormal(7), 51)).toEqual(take(seededNormal(7), 51));
    expect(take(seededNormal(7), 4)).not.toEqual(take(seededNormal(8), 4));
  });

  it('uniform numbers lie strictly inside (0, 1) and spread evenly over it', () => {
    const next = seededUniform(3);
    const bins = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = next();
      min = Math.min(min, u);
      max = Math.max(max, u);
      bins[Math.floor(u * 10)]++;
    }
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    // 10,000 expected per bin, sd 95: 5 sd either way.
    for (const count of bins) expect(Math.abs(count - 10_000)).toBeLessThan(480);
  });

  it('is mulberry32 shifted by half a step: (the 32-bit output + ½) / 2³²', () => {
    for (const seed of [0, 1, 42, 2 ** 31 + 5]) {
      const ours = seededUniform(seed);
      const reference = mulberry32(seed);
      for (let i = 0; i < 20; i++) expect(ours()).toBe((reference() * 4294967296 + 0.5) / 4294967296);
    }
  });

  it('the seed is taken as 32 bits: 0 and 2³² are one seed, and a seed shifts the first number', () => {
    expect(seededUniform(0)()).toBe(seededUniform(2 ** 32)());
    // A 32-bit integer shifted by half a step, over 2³²: never 0.
    const first = seededUniform(0)();
    expect(first * 4294967296 - 0.5).toBe(Math.round(first * 4294967296 - 0.5));
  });

  it('normal numbers have mean 0, variance 1, no skew, and use both values of each Box–Muller pair', () => {
    const next = seededNormal(11);
    const n = 200_000;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let within = 0;
    for (let i = 0; i < n; i++) {
      const z = next();
      s1 += z;
      s2 += z * z;
      s3 += z * z * z;
      if (Math.abs(z) < 1.6448536269514722) within++;
    }
    expect(Math.abs(s1 / n)).toBeLessThan(0.012);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.015);
    expect(Math.abs(s3 / n)).toBeLessThan(0.04);
    // P(|Z| < 1.645) = 0.9.
    expect(Math.abs(within / n - 0.9)).toBeLessThan(0.004);
    // Pairs: z₁² + z₂² = −2 log u₁ for the uniform u₁ the pair was made from.
    const u = seededUniform(5);
    const z = seededNormal(5);
    const [a, b] = [z(), z()];
    expect(a * a + b * b).toBeCloseTo(-2 * Math.log(u()), 10);
  });
});

describe('covariance from the Hessian', () => {
  it('of a quadratic log-likelihood is the inverse of its matrix, the full matrix and not its diagonal', () => {
    const A = [
      [4, 1.2, 0.4],
      [1.2, 3, -0.8],
      [0.4, -0.8, 2],
    ];
    const mu = [0.3, -1, 2];
    const H = negativeLogLikelihoodHessian(quadratic(A, mu), [0.5, 0.5, 0.5], 100);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) expect(H[i * 3 + j]).toBeCloseTo(A[i][j], 6);
    const cov = logSpaceCovariance(quadratic(A, mu), mu, 100)!;
    // A·cov = I.
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let v = 0;
        for (let k = 0; k < 3; k++) v += A[i][k] * cov[k * 3 + j];
        expect(v).toBeCloseTo(i === j ? 1 : 0, 6);
      }
    }
    expect(cov[1]).not.toBeCloseTo(0, 3);
  });

  it('adds the fit\'s penalty W·λ·Σe^(2θ), whose second derivative is 4·W·λ·e^(2θ) on the diagonal', () => {
    const A = [
      [2, 0],
      [0, 5],
    ];
    const theta = [0.2, -0.4];
    const H = negativeLogLikelihoodHessian(quadratic(A, [0, 0]), theta, 50, 0.01);
    expect(H[0]).toBeCloseTo(2 + 4 * 50 * 0.01 * Math.exp(0.4), 5);
    expect(H[3]).toBeCloseTo(5 + 4 * 50 * 0.01 * Math.exp(-0.8), 5);
    expect(H[1]).toBeCloseTo(0, 6);
  });

  it('of BG/NBD matches a Hessian from second differences of the log-likelihood\'s values', () => {
    const compiled = compilePurchasePatterns(SMALL);
    const ll = BG_NBD.logLikelihood(compiled, compiled);
    const theta = [Math.log(0.6), Math.log(5), Math.log(0.9), Math.log(2.5)];
    const H = negativeLogLikelihoodHessian(ll, theta, compiled.totalWeight);
    const reference = valueHessian(ll, theta);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const scale = Math.max(1, Math.abs(reference[i][j]));
        expect(Math.abs(H[i * 4 + j] - reference[i][j]) / scale).toBeLessThan(2e-4);
      }
    }
  });

  it('is null where the Hessian is not positive definite (a saddle, or a non-finite log-likelihood)', () => {
    const saddle = quadratic(
      [
        [1, 0],
        [0, -1],
      ],
      [0, 0],
    );
    expect(logSpaceCovariance(saddle, [0, 0], 1)).toBeNull();
    const nowhere: LogLikelihoodWithGradient = (_, g) => {
      g.fill(0);
      return Number.NEGATIVE_INFINITY;
    };
    expect(logSpaceCovariance(nowhere, [0, 0], 1)).toBeNull();
  });
});

describe('Cholesky factor', () => {
  it('L·Lᵀ gives back the matrix, L lower triangular with a positive diagonal', () => {
    const M = [4, 2, 0.6, 2, 5, 1.5, 0.6, 1.5, 3];
    const L = choleskyLower(M, 3)!;
    for (let i = 0; i < 3; i++) {
      expect(L[i * 3 + i]).toBeGreaterThan(0);
      for (let j = i + 1; j < 3; j++) expect(L[i * 3 + j]).toBe(0);
      for (let j = 0; j < 3; j++) {
        let v = 0;
        for (let k = 0; k < 3; k++) v += L[i * 3 + k] * L[j * 3 + k];
        expect(v).toBeCloseTo(M[i * 3 + j], 12);
      }
    }
    expect(L[0]).toBe(2);
    expect(L[3]).toBe(1);
    expect(L[4]).toBe(2);
  });

  it('of a 4 × 4 matrix with distinct entries: every element of L·Lᵀ is the matrix\'s', () => {
    // M = B·Bᵀ for a lower-triangular B with a positive diagonal: L is B.
    const B = [2, 0, 0, 0, 0.5, 1.5, 0, 0, -0.3, 0.7, 1.2, 0, 0.9, -0.4, 0.25, 0.8];
    const M = new Array<number>(16).fill(0);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) M[i * 4 + j] += B[i * 4 + k] * B[j * 4 + k];
    const L = choleskyLower(M, 4)!;
    for (let i = 0; i < 16; i++) expect(L[i]).toBeCloseTo(B[i], 12);
  });

  it('is null for a matrix that is not positive definite, or that holds NaN', () => {
    expect(choleskyLower([0], 1)).toBeNull();
    expect(choleskyLower([-1], 1)).toBeNull();
    expect(choleskyLower([4], 1)).toEqual(Float64Array.from([2]));
    expect(choleskyLower([1, 2, 2, 1], 2)).toBeNull();
    expect(choleskyLower([0, 0, 0, 1], 2)).toBeNull();
    expect(choleskyLower([Number.NaN, 0, 0, 1], 2)).toBeNull();
    expect(choleskyLower([1, 0, 0, Number.POSITIVE_INFINITY], 2)).toBeNull();
  });
});

describe('parameter draws', () => {
  const theta = [Math.log(2), Math.log(0.5)];
  const cov = [0.04, 0.018, 0.018, 0.09];

  it('are exp(θ̂ + L·z): their logs have the estimate as mean and the covariance as covariance', () => {
    const draws = drawParameters(theta, cov, 40_000, seededNormal(1))!;
    expect(draws).toHaveLength(40_000);
    const logs = draws.map((d) => [Math.log(d[0]), Math.log(d[1])]);
    const mean = [0, 1].map((k) => logs.reduce((s, l) => s + l[k], 0) / logs.length);
    expect(mean[0]).toBeCloseTo(theta[0], 2);
    expect(mean[1]).toBeCloseTo(theta[1], 2);
    const c = (a: number, b: number) => logs.reduce((s, l) => s + (l[a] - mean[a]) * (l[b] - mean[b]), 0) / (logs.length - 1);
    expect(c(0, 0)).toBeCloseTo(0.04, 2);
    expect(c(1, 1)).toBeCloseTo(0.09, 2);
    expect(c(0, 1) / Math.sqrt(c(0, 0) * c(1, 1))).toBeCloseTo(0.3, 1);
  });

  it('take the normals in order, one vector per draw: the first draw is θ̂ + L·(z₁, z₂)', () => {
    const [first] = drawParameters(theta, cov, 1, seededNormal(9))!;
    const z = seededNormal(9);
    const [z1, z2] = [z(), z()];
    const L = choleskyLower(cov, 2)!;
    expect(Math.log(first[0])).toBeCloseTo(theta[0] + L[0] * z1, 12);
    expect(Math.log(first[1])).toBeCloseTo(theta[1] + L[2] * z1 + L[3] * z2, 12);
  });

  it('draw again what `accept` refuses, and give up (null) after 100 refusals in a row', () => {
    const accepted = drawParameters(theta, cov, 500, seededNormal(2), (p) => p[0] > 2)!;
    expect(accepted).toHaveLength(500);
    expect(accepted.every((p) => p[0] > 2)).toBe(true);
    expect(drawParameters(theta, cov, 5, seededNormal(2), () => false)).toBeNull();
    // The 100th refusal in a row is the last: the 101st draw is never made.
    let tries = 0;
    expect(drawParameters(theta, cov, 1, seededNormal(2), () => ++tries > 100)).toBeNull();
    expect(tries).toBe(100);
    // One acceptance in a while is enough: the count of refusals starts again.
    let calls = 0;
    expect(drawParameters(theta, cov, 3, seededNormal(2), () => ++calls % 99 === 0)).toHaveLength(3);
  });

  it('draw again a draw with a log-parameter beyond ±30 (a parameter of 0 or ∞ to a model); null when that is all they give', () => {
    // sd 20: about one draw in eight lands beyond ±30.
    const draws = drawParameters([0], [400], 2000, seededNormal(3))!;
    expect(draws).toHaveLength(2000);
    expect(draws.every((d) => Math.abs(Math.log(d[0])) <= 30)).toBe(true);
    expect(Math.max(...draws.map((d) => Math.abs(Math.log(d[0]))))).toBeGreaterThan(25);
    // The bound is on each parameter: a second one far off refuses the draw too.
    expect(drawParameters([0, 29.5], [1e-6, 0, 0, 1], 500, seededNormal(3))!.every((d) => Math.log(d[1]) <= 30)).toBe(true);
    // sd 10,000: a draw within ±30 is one in 400; 100 refusals in a row come first.
    expect(drawParameters([0], [1e8], 10, seededNormal(3))).toBeNull();
  });

  it('are null for a covariance that is not positive definite', () => {
    expect(drawParameters(theta, [1, 2, 2, 1], 10, seededNormal(1))).toBeNull();
  });

  it('are none for a count of 0', () => {
    expect(drawParameters(theta, cov, 0, seededNormal(1))).toEqual([]);
  });
});

describe('quantiles', () => {
  it('interpolate between order statistics as R\'s quantile type 7', () => {
    const x = Float64Array.from({ length: 10 }, (_, i) => i + 1);
    // R: quantile(1:10, c(0, 0.05, 0.5, 0.95, 1)) = 1, 1.45, 5.5, 9.55, 10.
    expect(quantileOfSorted(x, 0)).toBe(1);
    expect(quantileOfSorted(x, 0.05)).toBeCloseTo(1.45, 12);
    expect(quantileOfSorted(x, 0.5)).toBe(5.5);
    expect(quantileOfSorted(x, 0.95)).toBeCloseTo(9.55, 12);
    expect(quantileOfSorted(x, 1)).toBe(10);
    expect(quantileOfSorted([3], 0.95)).toBe(3);
    expect(quantileOfSorted([1, 11], 0.25)).toBe(3.5);
  });

  it('a central interval takes the (1 ∓ level)/2 quantiles, whatever the order of the values', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const expected = { low: quantileOfSorted(sorted, 0.05), high: quantileOfSorted(sorted, 0.95) };
    expect(centralInterval(Float64Array.from([9, 2, 7, 1, 10, 4, 3, 8, 6, 5]), 0.9)).toEqual(expected);
    expect(centralInterval(Float64Array.from([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), 0.9)).toEqual(expected);
    expect(centralInterval(Float64Array.from([4, 2, 6, 8, 0]), 0.5)).toEqual({ low: 2, high: 6 });
    expect(centralInterval(Float64Array.from([4, Number.NaN, 6]), 0.5)).toEqual({ low: Number.NaN, high: Number.NaN });
    expect(centralInterval(Float64Array.from([3]), 0.9)).toEqual({ low: 3, high: 3 });
  });

  it('selection gives the sort\'s order statistics and quantiles on shuffled values with ties, at every rank', () => {
    const random = seededUniform(4);
    for (const n of [1, 2, 3, 7, 200, 201]) {
      const values = Float64Array.from({ length: n }, () => Math.floor(random() * n * 0.7));
      const sorted = Float64Array.from(values).sort();
      for (let k = 0; k < n; k++) {
        const copy = Float64Array.from(values);
        expect(selectInPlace(copy, k)).toBe(sorted[k]);
        for (let i = 0; i < k; i++) expect(copy[i]).toBeLessThanOrEqual(sorted[k]);
        for (let i = k + 1; i < n; i++) expect(copy[i]).toBeGreaterThanOrEqual(sorted[k]);
      }
      for (const p of [0, 0.05, 0.37, 0.5, 0.95, 1]) expect(quantileInPlace(Float64Array.from(values), p)).toBe(quantileOfSorted(sorted, p));
    }
  });
});
