/**
 * Gamma-Gamma's expected average spend for customers without a usable spend
 * history: the population mean E[Z] = pγ/(q−1) (Fader, Hardie & Lee 2005,
 * "RFM and CLV", eq. 4), and for the others (p(γ + x m_x))/(px + q − 1) (eq. 5).
 */
import { describe, expect, it } from 'vitest';
import { conditionalExpectedAverageValue } from '../../src/models/gammaGamma.js';

// The CDNOW estimates of the paper: p = 6.25, q = 3.74, γ = 15.44.
const P = { p: 6.25, q: 3.74, gamma: 15.44 };
const population = (6.25 * 15.44) / 2.74;

describe('Gamma-Gamma expected average spend without a usable history', () => {
  it.each([
    ['a spend that is not a number', 2, Number.NaN],
    ['an infinite spend', 2, Number.POSITIVE_INFINITY],
    ['a zero spend', 3, 0],
    ['no repeat purchase', 0, 35],
    ['an infinite frequency', Number.POSITIVE_INFINITY, 35],
  ])('is the population mean pγ/(q−1) for %s', (_, x, m) => {
    expect(conditionalExpectedAverageValue(P, x, m)).toBeCloseTo(population, 12);
    expect(conditionalExpectedAverageValue(P, Float64Array.of(x, 1), Float64Array.of(m, 20))[0]).toBeCloseTo(population, 12);
  });

  it('is the credibility-weighted mix for a usable history, in the array form too', () => {
    const got = conditionalExpectedAverageValue(P, Float64Array.of(1, 10), Float64Array.of(20, 50));
    expect(got[0]).toBeCloseTo((6.25 * (15.44 + 20)) / (6.25 + 2.74), 12);
    expect(got[1]).toBeCloseTo((6.25 * (15.44 + 500)) / (62.5 + 2.74), 12);
  });
});
