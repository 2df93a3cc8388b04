/**
 * expectedPurchasesIfAliveEvaluator keeps what (x, T) pairs share (the
 * series coefficients of an x, the z and closing factors of a T) across the
 * pairs it evaluates: each pair's answer must not depend on which pairs came
 * before it, and must match the textbook formula, also for a series longer
 * than the coefficients it keeps.
 */
import { describe, expect, it } from 'vitest';
import { expectedPurchasesIfAlive, expectedPurchasesIfAliveEvaluator } from '../../src/models/bgNbd.js';
import { expm1Ratio, hyp2f1 } from '../../src/models/specialFunctions.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { relativeError } from './cdnowPatterns.js';

// The fit of the 10M-row benchmark base (1M customers, weeks): a ≈ 1.09 and α ≈ 0.28, so that at T = 0 over a
// year z ≈ 0.9945 and the series of x = 0 takes ~5,000 terms.
const BENCHMARK: BgNbdParams = { r: 0.10934120344078374, alpha: 0.28269848349938304, a: 1.0942870905503723, b: 12.955189907814207 };
const MONTHS = Array.from({ length: 12 }, (_, k) => ((k + 1) * 30) / 7);

/** Paper eq. (10) without P(alive), with the reference ₂F₁ series: independent of the evaluator's Euler-transformed series. */
function textbook({ r, alpha, a, b }: BgNbdParams, x: number, T: number, t: number): number {
  const z = t / (alpha + T + t);
  return ((a + b + x - 1) / (a - 1)) * (1 - Math.pow((alpha + T) / (alpha + T + t), r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z));
}

/**
 * The evaluator's series as it ran before it kept anything (one pair, every
 * coefficient and z computed in place; no pair here leaves the series for the
 * dropout integral): the kept terms must reproduce it bit for bit.
 */
function streamingSeries({ r, alpha, a, b }: BgNbdParams, x: number, T: number, times: readonly number[]): number[] {
  const H = times.length;
  const A = a + b - 1 - r;
  const C = a + b + x - 1;
  const z = times.map((t) => t / (alpha + T + t));
  const power = [...z];
  const sum = new Array<number>(H).fill(0);
  // The first of the largest z sets the stopping point.
  const hMax = z.indexOf(Math.max(...z));
  const zMax = z[hMax];
  const scale = Math.abs(C) * zMax;
  let c = A;
  for (let k = 1; k < 10_000_000; k++) {
    for (let h = 0; h < H; h++) {
      sum[h] += c * power[h];
      power[h] *= z[h];
    }
    const ratio = ((A + k) * (a + k - 1)) / ((C + k) * (k + 1));
    c *= ratio;
    const next = Math.abs(c * power[hMax]);
    if (next === 0 || (next <= 1e-17 * (Math.abs(sum[hMax]) + scale) && Math.abs(ratio) * zMax < 1)) break;
  }
  return times.map((t, h) => {
    const L = -Math.log1p(t / (alpha + T));
    return -C * expm1Ratio(a - 1, L) - Math.exp((a - 1) * L) * sum[h];
  });
}

describe('expectedPurchasesIfAliveEvaluator over many (x, T) pairs', () => {
  const pairs: [number, number][] = [];
  for (const x of [0, 1, 2, 3, 7, 40, 300]) for (const T of [0, 1 / 7, 1, 12.5, 52, 104]) pairs.push([x, T]);

  it('gives each pair the same bits whatever pairs it evaluated before', () => {
    const fresh = pairs.map(([x, T]) => {
      const out = new Float64Array(MONTHS.length);
      expectedPurchasesIfAlive(BENCHMARK, x, T, MONTHS, out);
      return out;
    });
    // One evaluator, the pairs in two different orders and each twice: its kept terms are shared, extended and reused.
    const shared = expectedPurchasesIfAliveEvaluator(BENCHMARK, MONTHS);
    const order = pairs.map((_, i) => i);
    const reversed = [...order].reverse();
    const interleaved = order.map((i) => (i * 17) % pairs.length);
    expect(new Set(interleaved).size).toBe(pairs.length);
    for (const sequence of [reversed, interleaved, order]) {
      for (const i of sequence) {
        const out = new Float64Array(MONTHS.length);
        shared(pairs[i][0], pairs[i][1], out);
        expect(Array.from(out), `x = ${pairs[i][0]}, T = ${pairs[i][1]}`).toEqual(Array.from(fresh[i]));
      }
    }
  });

  it('gives the bits of the series computed pair by pair, also where it outruns the kept coefficients (x = 0, T = 0)', () => {
    const evaluate = expectedPurchasesIfAliveEvaluator(BENCHMARK, MONTHS);
    for (const [x, T] of [[0, 0], ...pairs]) {
      const out = new Float64Array(MONTHS.length);
      evaluate(x, T, out);
      expect(Array.from(out), `x = ${x}, T = ${T}`).toEqual(streamingSeries(BENCHMARK, x, T, MONTHS));
    }
  });

  it.each([
    ['the longest horizon first', [MONTHS[11], ...MONTHS.slice(0, 11)]],
    ['the longest horizon in the middle, an odd number of horizons', [MONTHS[0], MONTHS[2], MONTHS[8], MONTHS[4], MONTHS[6]]],
    ['two horizons', [MONTHS[5], MONTHS[1]]],
    ['one horizon', [MONTHS[3]]],
  ])('gives those bits for horizons in any order: %s', (_name, times) => {
    const evaluate = expectedPurchasesIfAliveEvaluator(BENCHMARK, times);
    for (const [x, T] of pairs) {
      const out = new Float64Array(times.length);
      evaluate(x, T, out);
      expect(Array.from(out), `x = ${x}, T = ${T}`).toEqual(streamingSeries(BENCHMARK, x, T, times));
    }
  });

  it('matches the textbook formula, also where the series outruns the kept coefficients (x = 0, T = 0: ~5,000 terms)', () => {
    const evaluate = expectedPurchasesIfAliveEvaluator(BENCHMARK, MONTHS);
    for (const [x, T] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [5, 12.5],
      [40, 52],
    ]) {
      const out = new Float64Array(MONTHS.length);
      evaluate(x, T, out);
      MONTHS.forEach((t, h) => expect(relativeError(out[h], textbook(BENCHMARK, x, T, t)), `x = ${x}, T = ${T}, t = ${t}`).toBeLessThan(1e-9));
    }
  });
});
