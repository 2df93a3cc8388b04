/**
 * The CLV factors' input checks, each with the message a caller sees, and the
 * (frequency, T) grouping the pipeline loads back, worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { aliveFactors, clvFactors, frequencyTGroups } from '../../src/models/clv.js';

const BG = { r: 0.2426, alpha: 4.4136, a: 0.793, b: 2.4259 };
const one = (x: number, tx: number, T: number) => ({ frequency: Float64Array.of(x), recency: Float64Array.of(tx), T: Float64Array.of(T) });

describe('clvFactors and aliveFactors refuse what cannot be a purchase history', () => {
  it.each([
    ['frequency −1', one(-1, 0, 5), /clvFactors: frequency\[0\] = -1 must be an integer ≥ 0/],
    ['frequency 1.5', one(1.5, 1, 5), /clvFactors: frequency\[0\] = 1.5 must be an integer ≥ 0/],
    ['frequency NaN', one(Number.NaN, 1, 5), /clvFactors: frequency\[0\] = NaN must be an integer ≥ 0/],
    ['T −1', one(0, 0, -1), /clvFactors: T\[0\] = -1 must be a finite number ≥ 0/],
    ['T +Infinity', one(0, 0, Number.POSITIVE_INFINITY), /clvFactors: T\[0\] = Infinity must be a finite number ≥ 0/],
    ['recency −1', one(1, -1, 5), /clvFactors: recency\[0\] = -1 must lie in \[0, T\[0\] = 5\]/],
    ['recency after T', one(1, 5.001, 5), /clvFactors: recency\[0\] = 5.001 must lie in \[0, T\[0\] = 5\]/],
  ])('clvFactors: %s', (_name, patterns, message) => {
    expect(() => clvFactors('bgnbd', BG, patterns)).toThrow(RangeError);
    expect(() => clvFactors('bgnbd', BG, patterns)).toThrow(message);
  });

  it('clvFactors accepts recency = T (the last purchase on the as-of date)', () => {
    expect(clvFactors('bgnbd', BG, one(3, 5, 5)).pAlive[0]).toBeGreaterThan(0);
  });

  it.each([
    ['frequency 2.5', Float64Array.of(2.5), Float64Array.of(5), /aliveFactors: frequency\[0\] = 2.5 must be an integer ≥ 0/],
    ['frequency −2', Float64Array.of(0, -2), Float64Array.of(5, 5), /aliveFactors: frequency\[1\] = -2 must be an integer ≥ 0/],
    ['T −1', Float64Array.of(1), Float64Array.of(-1), /aliveFactors: T\[0\] = -1 must be a finite number ≥ 0/],
    ['T NaN', Float64Array.of(1), Float64Array.of(Number.NaN), /aliveFactors: T\[0\] = NaN must be a finite number ≥ 0/],
    ['T +Infinity', Float64Array.of(1), Float64Array.of(Number.POSITIVE_INFINITY), /aliveFactors: T\[0\] = Infinity must be a finite number ≥ 0/],
  ])('aliveFactors: %s', (_name, frequency, T, message) => {
    expect(() => aliveFactors('bgnbd', BG, { frequency, T })).toThrow(RangeError);
    expect(() => aliveFactors('bgnbd', BG, { frequency, T })).toThrow(message);
  });

  it('arrays of different lengths are a TypeError that gives the lengths', () => {
    expect(() => clvFactors('bgnbd', BG, { frequency: Float64Array.of(1), recency: Float64Array.of(1, 2), T: Float64Array.of(2) })).toThrow(
      'clvFactors: arrays must have equal lengths (frequency=1, recency=2, T=1)',
    );
    expect(() => clvFactors('bgnbd', BG, { frequency: Float64Array.of(1), recency: Float64Array.of(1), T: Float64Array.of(2, 3) })).toThrow(TypeError);
    expect(() => aliveFactors('bgnbd', BG, { frequency: Float64Array.of(1, 2), T: Float64Array.of(2) })).toThrow(
      'aliveFactors: arrays must have equal lengths (frequency=2, T=1)',
    );
    expect(() => frequencyTGroups(Float64Array.of(1), Float64Array.of(2, 3))).toThrow('frequencyTGroups: arrays must have equal lengths (frequency=1, T=2)');
  });

  it('the horizon must be a whole number of months ≥ 0, the discount rate finite and > −1', () => {
    expect(() => aliveFactors('bgnbd', BG, one(1, 1, 5), { horizonMonths: -1 })).toThrow('aliveFactors: horizonMonths must be an integer ≥ 0, got -1');
    expect(() => clvFactors('bgnbd', BG, one(1, 1, 5), { monthlyDiscountRate: Number.POSITIVE_INFINITY })).toThrow(
      'clvFactors: monthlyDiscountRate must be a finite number > −1, got Infinity',
    );
    expect(() => clvFactors('bgnbd', BG, one(1, 1, 5), { monthlyDiscountRate: Number.NaN })).toThrow(RangeError);
  });
});

describe('frequencyTGroups', () => {
  it('gives the distinct (x, T) pairs in order of first appearance and each input’s pair', () => {
    const groups = frequencyTGroups(Float64Array.of(2, 0, 2, 2, 0), Float64Array.of(10, 10, 10, 12, 10));
    expect([...groups.frequency]).toEqual([2, 0, 2]);
    expect([...groups.T]).toEqual([10, 10, 12]);
    expect([...groups.index]).toEqual([0, 1, 0, 2, 1]);
  });

  it('keeps apart pairs whose frequency and T could be confused, (2, 10) and (0, 12)', () => {
    const groups = frequencyTGroups(Float64Array.of(2, 0), Float64Array.of(10, 12));
    expect([...groups.frequency]).toEqual([2, 0]);
    expect([...groups.T]).toEqual([10, 12]);
    expect([...groups.index]).toEqual([0, 1]);
  });
});
