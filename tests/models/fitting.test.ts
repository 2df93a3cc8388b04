/**
 * The shared fit machinery on inputs small enough to work out by hand:
 * pattern compression, the hashed subsample, the parameter helpers and the
 * log-space maximum-likelihood driver on Poisson likelihoods, whose maximum
 * (the sample mean) and standard error (√(λ/n)) are textbook closed forms.
 */
import { describe, expect, it } from 'vitest';
import {
  compilePurchasePatterns,
  distinctIndex,
  fitLogSpace,
  notFitted,
  perHistory,
  positiveParameters,
  selectByHash,
  subsamplePurchasePatterns,
  toFitResult,
  unidentifiedPurchases,
  WARM_START_MIN_ROWS,
  type LogLikelihoodWithGradient,
} from '../../src/models/fitting.js';
import type { PurchasePatterns } from '../../src/models/types.js';

const f64 = (values: number[]) => Float64Array.from(values);
const patterns = (frequency: number[], recency: number[], T: number[], weight: number[]): PurchasePatterns => ({
  frequency: f64(frequency),
  recency: f64(recency),
  T: f64(T),
  weight: f64(weight),
});

describe('distinctIndex', () => {
  it('lists distinct values in order of first appearance, with −0 and 0 as one value (+0)', () => {
    const { values, index } = distinctIndex(f64([3, 1, 3, -0, 0, 2.5, 1]));
    expect([...values]).toEqual([3, 1, 0, 2.5]);
    expect(Object.is(values[2], 0)).toBe(true);
    expect([...index]).toEqual([0, 1, 0, 2, 2, 3, 1]);
  });

  it('reads only the first n values', () => {
    const { values, index } = distinctIndex(f64([5, 5, 7, 9]), 3);
    expect([...values]).toEqual([5, 7]);
    expect([...index]).toEqual([0, 0, 1]);
  });

  it('grows its table past the first 512 distinct values and still finds every repeat', () => {
    // 1500 distinct values (three growths of the 1024-slot table), each seen three times.
    const n = 4500;
    const input = new Float64Array(n);
    for (let i = 0; i < n; i++) input[i] = (i % 1500) * 0.25 - 100;
    const { values, index } = distinctIndex(input);
    expect(values.length).toBe(1500);
    for (let k = 0; k < 1500; k++) expect(values[k]).toBe(k * 0.25 - 100);
    for (let i = 0; i < n; i++) expect(index[i]).toBe(i % 1500);
  });

  it('tells apart values whose bits differ only in the low or only in the high word', () => {
    const a = 1;
    const b = 1 + Number.EPSILON; // same high word, low word + 1
    const c = 2; // same low word (0), other high word
    const { values, index } = distinctIndex(f64([a, b, c, b, a, c]));
    expect([...values]).toEqual([a, b, c]);
    expect([...index]).toEqual([0, 1, 2, 1, 0, 2]);
  });
});

describe('selectByHash', () => {
  /** n rows of three columns with distinct values. */
  const columns = (n: number) => {
    const x = new Float64Array(n);
    const r = new Float64Array(n);
    const t = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = i % 17;
      r[i] = (i % 101) / 7;
      t[i] = i / 3;
    }
    return [x, r, t];
  };

  it('keeps none at fraction 0 and all at fraction 1', () => {
    expect(selectByHash(columns(200), 200, 0).length).toBe(0);
    expect([...selectByHash(columns(200), 200, 1)]).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('keeps about the fraction asked for, in row order', () => {
    const n = 20_000;
    const keep = selectByHash(columns(n), n, 0.3);
    // Binomial(20000, 0.3): sd ≈ 65, so ±400 is > 6 sd.
    expect(Math.abs(keep.length - 0.3 * n)).toBeLessThan(400);
    for (let k = 1; k < keep.length; k++) expect(keep[k]).toBeGreaterThan(keep[k - 1]);
  });

  it('picks rows by their values alone: reversed rows give the same rows back, and −0 hashes as 0', () => {
    const n = 3000;
    const cols = columns(n);
    const reversed = cols.map((c) => Float64Array.from(c).reverse());
    const keep = new Set(selectByHash(cols, n, 0.5));
    const keepReversed = new Set([...selectByHash(reversed, n, 0.5)].map((i) => n - 1 - i));
    expect(keepReversed).toEqual(keep);
    const negativeZero = cols.map((c) => Float64Array.from(c, (v) => (v === 0 ? -0 : v)));
    expect([...selectByHash(negativeZero, n, 0.5)]).toEqual([...selectByHash(cols, n, 0.5)]);
  });

  it('depends on every column and on both words of each value', () => {
    const n = 2000;
    const base = columns(n);
    const keep = [...selectByHash(base, n, 0.5)];
    // Change only the low word of the last column (x + one ulp of x), or only its sign bit.
    const lowWord = [base[0], base[1], Float64Array.from(base[2], (v) => (v === 0 ? v : v * (1 + Number.EPSILON)))];
    const highWord = [base[0], base[1], Float64Array.from(base[2], (v) => -v)];
    const firstColumn = [Float64Array.from(base[0], (v) => v + 1), base[1], base[2]];
    for (const other of [lowWord, highWord, firstColumn]) expect([...selectByHash(other, n, 0.5)]).not.toEqual(keep);
  });
});

describe('compilePurchasePatterns', () => {
  it('drops zero weights, forces recency 0 when frequency is 0, and sorts by frequency (stable)', () => {
    const data = patterns([2, 0, 1, 2, 0, 1], [3, 9, 4, 5, 0, 1], [10, 12, 10, 8, 10, 6], [1, 2, 0, 4, 5, 1.5]);
    const c = compilePurchasePatterns(data);
    // Rows kept: 0 (x=2), 1 (x=0, recency 9 → 0), 3 (x=2), 4 (x=0), 5 (x=1); row 2 has weight 0.
    expect(c.count).toBe(5);
    expect([...c.source]).toEqual([1, 4, 5, 0, 3]);
    expect([...c.frequency]).toEqual([0, 0, 1, 2, 2]);
    expect([...c.recency]).toEqual([0, 0, 1, 3, 5]);
    expect([...c.T]).toEqual([12, 10, 6, 10, 8]);
    expect([...c.weight]).toEqual([2, 5, 1.5, 1, 4]);
    expect([...c.xValues]).toEqual([0, 1, 2]);
    expect([...c.xIndex]).toEqual([0, 0, 1, 2, 2]);
    expect([...c.xWeight]).toEqual([7, 1.5, 5]);
    expect([...c.blockStart]).toEqual([0, 2, 3, 5]);
    expect(c.totalWeight).toBe(13.5);
    expect(c.sumWeightedFrequency).toBe(1.5 * 1 + 1 * 2 + 4 * 2);
    expect(c.sumWeightedT).toBe(2 * 12 + 5 * 10 + 1.5 * 6 + 1 * 10 + 4 * 8);
    expect(c.maxT).toBe(12);
    // Times: recency column then T column, distinct in order of first appearance.
    expect([...c.times]).toEqual([0, 1, 3, 5, 12, 10, 6, 8]);
    expect([...c.recencyIndex].map((j) => c.times[j])).toEqual([...c.recency]);
    expect([...c.TIndex].map((j) => c.times[j])).toEqual([...c.T]);
  });

  it('keeps frequencies that first appear out of order in ascending blocks', () => {
    const c = compilePurchasePatterns(patterns([5, 3, 10, 3, 5], [1, 1, 1, 2, 2], [4, 4, 4, 4, 4], [1, 1, 1, 1, 1]));
    expect([...c.xValues]).toEqual([3, 5, 10]);
    expect([...c.frequency]).toEqual([3, 3, 5, 5, 10]);
    expect([...c.source]).toEqual([1, 3, 0, 4, 2]);
    expect([...c.blockStart]).toEqual([0, 2, 4, 5]);
  });

  it('clamps a recency over T by rounding only, and refuses one over T by more', () => {
    const T = 52;
    const c = compilePurchasePatterns(patterns([1], [T * (1 + 1e-12)], [T], [1]));
    expect(c.recency[0]).toBe(T);
    expect(() => compilePurchasePatterns(patterns([1], [T * (1 + 1e-8)], [T], [1]))).toThrow(/recency\[0\] = .* exceeds T\[0\] = 52/);
    // Below T = 1 the tolerance is absolute (1e-9), not relative.
    expect(compilePurchasePatterns(patterns([1], [0.5 + 5e-10], [0.5], [1])).recency[0]).toBe(0.5);
    expect(() => compilePurchasePatterns(patterns([1], [0.5 + 2e-9], [0.5], [1]))).toThrow(/exceeds T/);
    // Exactly at the tolerance (T = 0, recency 1e-9) is still rounding.
    expect(compilePurchasePatterns(patterns([1], [1e-9], [0], [1])).recency[0]).toBe(0);
  });

  it('refuses values that cannot be a purchase history, naming the row', () => {
    const one = (x: number, tx: number, t: number, w: number) => () => compilePurchasePatterns(patterns([0, x], [0, tx], [1, t], [1, w]), 'BG/NBD');
    expect(one(1, 1, 2, -1)).toThrow(new RangeError('BG/NBD: weight[1] = -1 must be a finite number ≥ 0'));
    expect(one(1, 1, 2, Number.NaN)).toThrow(/weight\[1\] = NaN/);
    expect(one(1, 1, 2, Number.POSITIVE_INFINITY)).toThrow(/weight\[1\] = Infinity/);
    expect(one(1.5, 1, 2, 1)).toThrow(new RangeError('BG/NBD: frequency[1] = 1.5 must be an integer ≥ 0 (a count of repeat purchases)'));
    expect(one(-1, 1, 2, 1)).toThrow(/frequency\[1\] = -1/);
    expect(one(1, 1, -2, 1)).toThrow(new RangeError('BG/NBD: T[1] = -2 must be a finite number ≥ 0'));
    expect(one(1, 1, Number.POSITIVE_INFINITY, 1)).toThrow(/T\[1\] = Infinity/);
    expect(one(1, -1, 2, 1)).toThrow(new RangeError('BG/NBD: recency[1] = -1 must be a finite number ≥ 0'));
    expect(one(1, Number.NaN, 2, 1)).toThrow(/recency\[1\] = NaN/);
  });

  it('does not look at rows of weight 0', () => {
    const c = compilePurchasePatterns(patterns([1, -3], [1, 99], [2, -1], [1, 0]));
    expect(c.count).toBe(1);
    expect(c.totalWeight).toBe(1);
  });

  it('refuses arrays of unequal lengths, saying which', () => {
    const data = { ...patterns([1, 2], [1, 1], [2, 2], [1, 1]), T: f64([2]) };
    expect(() => compilePurchasePatterns(data, 'Pareto/NBD')).toThrow(
      new TypeError('Pareto/NBD: arrays must have equal lengths (frequency=2, recency=2, T=1, weight=2; T differs)'),
    );
  });

  it('names itself "patterns" by default', () => {
    expect(() => compilePurchasePatterns(patterns([1], [1], [1], [-1]))).toThrow(/^patterns: weight\[0\]/);
  });
});

describe('subsamplePurchasePatterns', () => {
  const many = (n: number, frequency: (i: number) => number) =>
    compilePurchasePatterns(
      patterns(
        Array.from({ length: n }, (_, i) => frequency(i)),
        Array.from({ length: n }, (_, i) => (frequency(i) === 0 ? 0 : (i % 97) + 1)),
        Array.from({ length: n }, (_, i) => 100 + (i % 1009)),
        Array.from({ length: n }, () => 1),
      ),
    );

  it('is null below the warm-start size and about `target` patterns above it', () => {
    expect(subsamplePurchasePatterns(many(WARM_START_MIN_ROWS - 1, (i) => i % 5))).toBeNull();
    const sub = subsamplePurchasePatterns(many(WARM_START_MIN_ROWS, (i) => i % 5), 10_000);
    expect(sub).not.toBeNull();
    // Binomial(50000, 0.2): sd ≈ 90.
    expect(Math.abs(sub!.count - 10_000)).toBeLessThan(600);
    expect(sub!.totalWeight).toBe(sub!.count);
  });

  it('is null when the subsample has no repeat purchase', () => {
    expect(subsamplePurchasePatterns(many(WARM_START_MIN_ROWS, () => 0))).toBeNull();
  });
});

describe('perHistory', () => {
  const one = (x: number, tx: number, T: number) => 100 * x + 10 * tx + T;
  it('applies a one-customer formula to numbers or element by element to arrays', () => {
    expect(perHistory(one, 1, 2, 3)).toBe(123);
    expect([...(perHistory(one, f64([1, 4]), f64([2, 5]), f64([3, 6])) as Float64Array)]).toEqual([123, 456]);
  });
});

describe('positiveParameters', () => {
  const model = positiveParameters('Test', ['r', 'alpha'] as const);
  it('checks each value is finite and positive, naming model and parameter', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => model.check({ r: 1, alpha: bad })).toThrow(new RangeError(`Test: parameter alpha = ${bad} must be a finite number > 0`));
    }
    expect(() => model.toTheta({ r: 0, alpha: 1 })).toThrow(/parameter r = 0/);
  });

  it('converts between named values and log-vectors in name order', () => {
    expect(model.values({ alpha: 2, r: 3 })).toEqual([3, 2]);
    expect([...model.toTheta({ alpha: Math.E, r: 1 })]).toEqual([0, 1]);
    const p = model.fromVector([4, 5]);
    expect(p).toEqual({ r: 4, alpha: 5 });
    expect(Object.keys(p)).toEqual(['r', 'alpha']);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('evaluates a log-likelihood and its log-space gradient at natural parameters', () => {
    // LL(θ) = 3θ₀ − e^θ₀ + θ₁: value and gradient at r = 2, α = 5.
    const ll: LogLikelihoodWithGradient = (theta, gradient) => {
      gradient[0] = 3 - Math.exp(theta[0]);
      gradient[1] = 1;
      return 3 * theta[0] - Math.exp(theta[0]) + theta[1];
    };
    expect(model.valueAt(ll, { r: 2, alpha: 5 })).toBeCloseTo(3 * Math.log(2) - 2 + Math.log(5), 14);
    expect(model.gradientAt(ll, { r: 2, alpha: 5 })).toEqual({ r: 1, alpha: 1 });
  });
});

describe('toFitResult and notFitted', () => {
  const fit = { params: f64([1, 2]), standardErrors: f64([0.1, 0.2]), logLikelihood: -5, iterations: 7, converged: true, message: 'ok' };
  const named = (v: ArrayLike<number>) => ({ a: v[0], b: v[1] });

  it('names the parameters and standard errors, and lets the caller override convergence and message', () => {
    const result = toFitResult(fit, named);
    expect(result).toEqual({ params: { a: 1, b: 2 }, standardErrors: { a: 0.1, b: 0.2 }, logLikelihood: -5, iterations: 7, converged: true, message: 'ok' });
    expect(Object.isFrozen(result)).toBe(true);
    expect(toFitResult({ ...fit, standardErrors: null }, named, { converged: false, message: 'limit' })).toMatchObject({
      standardErrors: null,
      converged: false,
      message: 'limit',
    });
  });

  it('flags a fit that was not run as not converged, with the reason', () => {
    const result = notFitted('BG/NBD', { a: 1 }, -3, 'no repeat purchases');
    expect(result).toEqual({
      params: { a: 1 },
      standardErrors: null,
      logLikelihood: -3,
      iterations: 0,
      converged: false,
      message: 'BG/NBD not fitted: no repeat purchases; parameters are the starting values',
    });
    expect(Object.isFrozen(result)).toBe(true);
  });
});

describe('unidentifiedPurchases', () => {
  it('says why patterns cannot identify a purchase model, or null', () => {
    const compiled = (x: number[], T: number[], w: number[]) => compilePurchasePatterns(patterns(x, x.map(() => 0).map((_, i) => (x[i] > 0 ? T[i] : 0)), T, w));
    expect(unidentifiedPurchases(compiled([1], [5], [0]), 'dropout')).toBe('no patterns with positive weight');
    expect(unidentifiedPurchases(compiled([0, 0], [5, 6], [1, 2]), 'dropout')).toBe(
      'no repeat purchases (every frequency is 0), so purchase rates and dropout cannot be separated',
    );
    expect(unidentifiedPurchases(compiled([1, 0], [0, 0], [1, 1]), 'lifetimes')).toBe('every customer has T = 0: no observation time');
    expect(unidentifiedPurchases(compiled([1, 0], [3, 0], [1, 1]), 'lifetimes')).toBeNull();
  });
});

/**
 * Independent Poisson counts: n customers with total counts S₀ and S₁, rates
 * λᵢ = e^θᵢ. LL = Σ Sᵢ θᵢ − n e^θᵢ; the MLE is λᵢ = Sᵢ/n with standard error √(λᵢ/n).
 */
function poisson(S: number[], n: number): LogLikelihoodWithGradient {
  return (theta, gradient) => {
    let ll = 0;
    for (let i = 0; i < S.length; i++) {
      const lambda = Math.exp(theta[i]);
      ll += S[i] * theta[i] - n * lambda;
      gradient[i] = S[i] - n * lambda;
    }
    return ll;
  };
}

describe('fitLogSpace', () => {
  const spec = { model: 'Poisson', names: ['mu', 'nu'], logLikelihood: poisson([300, 50], 100), totalWeight: 100, initial: [1, 1] };
  const llAt = (lambda: number[]) => lambda.reduce((s, l, i) => s + [300, 50][i] * Math.log(l) - 100 * l, 0);

  it('finds the sample means with their textbook standard errors', () => {
    const fit = fitLogSpace(spec);
    expect(fit.converged).toBe(true);
    expect(fit.params[0]).toBeCloseTo(3, 9);
    expect(fit.params[1]).toBeCloseTo(0.5, 9);
    expect(fit.logLikelihood).toBeCloseTo(llAt([3, 0.5]), 8);
    expect(fit.standardErrors![0]).toBeCloseTo(Math.sqrt(3 / 100), 6);
    expect(fit.standardErrors![1]).toBeCloseTo(Math.sqrt(0.5 / 100), 6);
    expect(fit.message).toMatch(/^Poisson: converged: .* after \d+ iterations \(\d+ evaluations\)$/);
    expect(fit.iterations).toBeGreaterThan(0);
  });

  it('with a penalty, solves −S/n + λ + 2cλ² = 0 and reports the unpenalised log-likelihood', () => {
    const c = 0.1;
    const fit = fitLogSpace({ ...spec, penalty: c });
    const root = (S: number) => (-1 + Math.sqrt(1 + (8 * c * S) / 100)) / (4 * c);
    const expected = [root(300), root(50)];
    expect(fit.params[0]).toBeCloseTo(expected[0], 9);
    expect(fit.params[1]).toBeCloseTo(expected[1], 9);
    expect(fit.logLikelihood).toBeCloseTo(llAt(expected), 8);
    // Information of the penalised objective in θ: n(λ + 4cλ²) per parameter.
    expect(fit.standardErrors![0]).toBeCloseTo(expected[0] / Math.sqrt(100 * (expected[0] + 4 * c * expected[0] ** 2)), 6);
  });

  it('refuses a negative or non-finite penalty and a starting value that is not positive', () => {
    expect(() => fitLogSpace({ ...spec, penalty: -1 })).toThrow(new RangeError('Poisson: penalty must be a finite number ≥ 0, got -1'));
    expect(() => fitLogSpace({ ...spec, penalty: Number.NaN })).toThrow(/penalty must be/);
    expect(() => fitLogSpace({ ...spec, penalty: Number.POSITIVE_INFINITY })).toThrow(/penalty must be/);
    expect(() => fitLogSpace({ ...spec, initial: [1, 0] })).toThrow(new RangeError('Poisson: initial nu = 0 must be a finite number > 0'));
    expect(() => fitLogSpace({ ...spec, initial: [Number.POSITIVE_INFINITY, 1] })).toThrow(/initial mu = Infinity/);
  });

  it('stops at maxIterations, and tolerance sets how close it must get', () => {
    const capped = fitLogSpace({ ...spec, initial: [1e-3, 1e3], maxIterations: 2 });
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(2);
    expect(capped.message).toMatch(/did not converge in 2 iterations/);
    const loose = fitLogSpace({ ...spec, tolerance: 0.1 });
    expect(loose.converged).toBe(true);
    expect(loose.message).toMatch(/≤ 0\.1 after/);
  });

  it('starts from a fit on the warm-start subsample and says so', () => {
    // The subsample: 20 customers with the same means.
    const fit = fitLogSpace({ ...spec, warmStart: { logLikelihood: poisson([60, 10], 20), totalWeight: 20 } });
    expect(fit.converged).toBe(true);
    expect(fit.params[0]).toBeCloseTo(3, 9);
    expect(fit.message).toMatch(/ \(warm start: \d+ iterations on a subsample of weight 20\)$/);
    // From the subsample's optimum (to 1e-7) only the last few steps are left.
    expect(fit.iterations).toBeLessThan(fitLogSpace(spec).iterations);
  });

  it('ignores a warm start that runs off to the boundary, and fits from the starting point', () => {
    // A subsample with no events for nu: its rate runs off to 0.
    const fit = fitLogSpace({ ...spec, warmStart: { logLikelihood: poisson([60, 0], 20), totalWeight: 20 } });
    expect(fit.converged).toBe(true);
    expect(fit.params[1]).toBeCloseTo(0.5, 9);
    expect(fit.message).not.toMatch(/warm start/);
  });

  it('fits the subsample loosely (to 1e-7): with the full data as its own subsample, the full fit still takes steps', () => {
    const fit = fitLogSpace({ ...spec, warmStart: { logLikelihood: poisson([300, 50], 100), totalWeight: 100 } });
    expect(fit.message).toMatch(/warm start/);
    expect(fit.iterations).toBeGreaterThan(0);
  });

  it('gives the full fit after a warm start the caller\'s tolerance', () => {
    const fit = fitLogSpace({ ...spec, tolerance: 0.1, warmStart: { logLikelihood: poisson([60, 10], 20), totalWeight: 20 } });
    expect(fit.message).toMatch(/^Poisson: converged: max \|gradient\| \S+ ≤ 0\.1 after 0 iterations .*\(warm start: \d+ iterations/);
  });

  it('falls back to the plain start when the fit from the warm start does not converge', () => {
    // The full log-likelihood is undefined past μ = e⁵, where the subsample's optimum (μ = 3000) lies.
    const inner = poisson([300, 50], 100);
    const domain: LogLikelihoodWithGradient = (theta, gradient) => (theta[0] > 5 ? Number.NEGATIVE_INFINITY : inner(theta, gradient));
    const fit = fitLogSpace({ ...spec, logLikelihood: domain, warmStart: { logLikelihood: poisson([60_000, 10], 20), totalWeight: 20 } });
    expect(fit.converged).toBe(true);
    expect(fit.params[0]).toBeCloseTo(3, 9);
    expect(fit.message).not.toMatch(/warm start/);
  });

  it('keeps log-parameters within ±30: a maximum at μ = e⁴⁰ is reported as run off to ∞, not reached', () => {
    const fit = fitLogSpace({ ...spec, names: ['mu'], initial: [1], logLikelihood: poisson([100 * Math.exp(40)], 100) });
    expect(Math.log(fit.params[0])).toBeLessThanOrEqual(30);
    expect(Math.log(fit.params[0])).toBeGreaterThan(16);
    expect(fit.converged).toBe(false);
    expect(fit.message).toBe('Poisson: parameters ran off to the boundary (mu → ∞); the data do not identify the model');
  });

  it('names every parameter that ran off', () => {
    const fit = fitLogSpace({ ...spec, logLikelihood: poisson([0, 0], 100) });
    expect(fit.message).toBe('Poisson: parameters ran off to the boundary (mu → 0, nu → 0); the data do not identify the model');
  });

  it('reports parameters run off to the boundary as not converged, without standard errors', () => {
    const fit = fitLogSpace({ ...spec, logLikelihood: poisson([300, 0], 100) });
    expect(fit.converged).toBe(false);
    expect(fit.params[0]).toBeCloseTo(3, 6);
    expect(fit.params[1]).toBeLessThan(Math.exp(-16));
    expect(fit.standardErrors).toBeNull();
    expect(fit.message).toBe('Poisson: parameters ran off to the boundary (nu → 0); the data do not identify the model');
    // Upwards: an LL that keeps rising with θ₀ (gradient 1) until the fit is cut off.
    const up = fitLogSpace({ ...spec, logLikelihood: (theta, gradient) => ((gradient[0] = 100), (gradient[1] = 0), 100 * theta[0]), maxIterations: 50 });
    expect(up.converged).toBe(false);
    expect(up.message).toMatch(/\(mu → ∞\)/);
  });

  it('never hands back NaN: a log-likelihood that is not finite gives the starting values, flagged', () => {
    const fit = fitLogSpace({ ...spec, initial: [2, 3], logLikelihood: () => Number.NaN });
    expect(fit.converged).toBe(false);
    expect([...fit.params]).toEqual([2, 3].map((v) => Math.exp(Math.log(v))));
    expect(fit.logLikelihood).toBe(Number.NEGATIVE_INFINITY);
    expect(fit.standardErrors).toBeNull();
    expect(fit.message).toMatch(/^Poisson: non-finite result \(log-likelihood NaN\); objective or gradient not finite at the starting point .*; parameters are the starting values$/);
  });

  it('gives no standard errors when the log-likelihood is flat in a parameter (singular information)', () => {
    const flat: LogLikelihoodWithGradient = (theta, gradient) => {
      const lambda = Math.exp(theta[0]);
      gradient[0] = 300 - 100 * lambda;
      gradient[1] = 0;
      return 300 * theta[0] - 100 * lambda;
    };
    const fit = fitLogSpace({ ...spec, logLikelihood: flat });
    expect(fit.converged).toBe(true);
    expect(fit.params[0]).toBeCloseTo(3, 9);
    expect(fit.params[1]).toBe(1);
    expect(fit.standardErrors).toBeNull();
  });
});
