/**
 * The BG/NBD likelihood's path for large data, without a large fit: powers
 * tabulated per (frequency, distinct time) once the table is smaller than
 * half the patterns, and sums compensated over blocks of 512 patterns. A few
 * thousand rows over a handful of distinct times take that path in
 * milliseconds (bgNbd.fit.test.ts meets it on 150,000 simulated customers).
 */
import { describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood, bgNbdLogLikelihoodGradient } from '../../src/models/bgNbd.js';
import type { PurchasePatterns } from '../../src/models/types.js';
import { centralDifferenceGradient, patterns, relativeError, textbookBgNbdLogLikelihood } from './cdnowPatterns.js';

const NAMES = ['r', 'alpha', 'a', 'b'] as const;


/** 700 one-time buyers and 600 rows each of x = 1, 2, 3 over 12 values of T and 10 of t_x: 3 × 22 table cells ≤ half of 2,500 rows. */
function manyRowsFewTimes(): PurchasePatterns {
  const rows: [number, number, number, number][] = [];
  const Ts = [5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 38];
  for (let i = 0; i < 700; i++) rows.push([0, 0, Ts[i % 12], 1 + (i % 3 === 0 ? 1 : 0)]);
  for (const x of [1, 2, 3]) {
    for (let i = 0; i < 600; i++) {
      const T = Ts[(i * 7) % 12];
      const tx = (T * ((i % 10) + 0.5)) / 10.5; // 10 fractions of T: recent and long-lapsed buyers
      rows.push([x, tx, T, i % 5 === 0 ? 3 : 1]);
    }
  }
  return patterns(rows);
}

describe('BG/NBD log-likelihood on many rows over few distinct times (tabulated powers, blocked sums)', () => {
  const data = manyRowsFewTimes();

  it.each([
    { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 },
    { r: 2, alpha: 0.5, a: 3, b: 0.6 },
  ])('equals the weighted sum of the textbook per-customer terms at %o', (params) => {
    let sum = 0;
    for (let i = 0; i < data.frequency.length; i++) sum += data.weight[i] * textbookBgNbdLogLikelihood(params, data.frequency[i], data.recency[i], data.T[i]);
    expect(relativeError(bgNbdLogLikelihood(params, data), sum)).toBeLessThan(1e-12);
  });

  it('has an analytic gradient matching central differences', () => {
    const params = { r: 0.6, alpha: 9, a: 1.4, b: 0.9 };
    const gradient = bgNbdLogLikelihoodGradient(params, data);
    const numeric = centralDifferenceGradient((q) => bgNbdLogLikelihood(q, data), params, NAMES);
    for (const name of NAMES) expect(relativeError(gradient[name], numeric[name])).toBeLessThan(1e-6);
  });
});

describe('BG/NBD tabulated powers for frequent buyers', () => {
  // The table holds (α+τ)^−(r+x) scaled by (α+τ_mid)^(r+x), τ_mid the middle of the
  // log-times: for x = 200 that stays within e^±650 and is tabulated; for x = 1000 it
  // would not, and e is taken directly. Scaled about any other point the x = 200 powers
  // would overflow or underflow; tabulated at x = 1000 they would too.
  const base = manyRowsFewTimes();
  const rows: [number, number, number, number][] = [];
  for (const x of [200, 1000]) for (let i = 0; i < 300; i++) rows.push([x, 38 * ((i % 10) + 0.5) / 10.5, 38, 1]);
  const data = patterns([
    ...Array.from(base.frequency, (x, i): [number, number, number, number] => [x, base.recency[i], base.T[i], base.weight[i]]),
    ...rows,
  ]);

  it('equals the weighted sum of the textbook per-customer terms with x = 200 and x = 1000', () => {
    const params = { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 };
    let sum = 0;
    for (let i = 0; i < data.frequency.length; i++) sum += data.weight[i] * textbookBgNbdLogLikelihood(params, data.frequency[i], data.recency[i], data.T[i]);
    expect(relativeError(bgNbdLogLikelihood(params, data), sum)).toBeLessThan(1e-12);
  });
});

describe('BG/NBD sums over blocks of 512 patterns', () => {
  // Every (x, t_x, T) with x = 1..5 and t_x ≤ T on 30 whole weeks, once each (weight 1:
  // the running-product path), 2,325 repeat-buyer patterns and 30 one-time buyers: the
  // sums close a block at every 512th pattern, and 5 × 30 table cells ≤ half the rows.
  const rows: [number, number, number, number][] = [];
  for (let T = 1; T <= 30; T++) rows.push([0, 0, T, 1]);
  for (let x = 1; x <= 5; x++) for (let T = 1; T <= 30; T++) for (let tx = 1; tx <= T; tx++) rows.push([x, tx, T, 1]);
  const data = patterns(rows);

  it.each([
    { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 },
    { r: 3, alpha: 0.7, a: 0.2, b: 6 },
  ])('equals the sum of the textbook per-customer terms at %o', (params) => {
    let sum = 0;
    for (const [x, tx, T] of rows) sum += textbookBgNbdLogLikelihood(params, x, tx, T);
    expect(relativeError(bgNbdLogLikelihood(params, data), sum)).toBeLessThan(1e-12);
  });
});
