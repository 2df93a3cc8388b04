/**
 * fitGammaGamma's warm start, from 50,000 usable rows (WARM_START_MIN_ROWS):
 * a first fit on a hash subsample of about 20,000 rows (WARM_START_ROWS), whose
 * end is where the full fit starts. Spends drawn from the model with known
 * parameters; a few seconds, unlike the 150,000-customer gammaGamma.fit.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { fitGammaGamma } from '../../src/models/gammaGamma.js';
import type { GammaGammaParams, SpendPatterns } from '../../src/models/types.js';
import { gammaVariate, mulberry32, relativeError } from './cdnowPatterns.js';

const TRUTH: GammaGammaParams = { p: 6, q: 4, gamma: 15 };

/** `rows` customers, x = 1..6 repeat purchases, m_x the mean of x values ~ Gamma(p, ν), ν ~ Gamma(q, γ) (rates). */
function simulatedSpend(rows: number): SpendPatterns {
  const random = mulberry32(2026);
  const frequency = new Float64Array(rows);
  const monetaryValue = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x = 1 + (i % 6);
    const nu = gammaVariate(TRUTH.q, random) / TRUTH.gamma;
    // The sum of x Gamma(p, ν) values is Gamma(px, ν).
    frequency[i] = x;
    monetaryValue[i] = gammaVariate(TRUTH.p * x, random) / nu / x;
  }
  return { frequency, monetaryValue, weight: new Float64Array(rows).fill(1) };
}

const NAMES = ['p', 'q', 'gamma'] as const;
const WARM = /\(warm start: \d+ iterations on a subsample of weight (\d+)\)/;

describe('fitGammaGamma warm start', () => {
  const data = simulatedSpend(50_000);

  it('from 50,000 rows: first on a subsample of about 20,000, then the same maximum as a cold fit', () => {
    const warm = fitGammaGamma(data);
    expect(warm.converged).toBe(true);
    const subsample = Number(WARM.exec(warm.message)?.[1]);
    // Each row kept with probability 20,000/50,000: 20,000 ± 110 (one standard deviation).
    expect(subsample).toBeGreaterThan(19_000);
    expect(subsample).toBeLessThan(21_000);
    // initialParams turns the warm start off.
    const cold = fitGammaGamma(data, { initialParams: { p: 1, q: 2, gamma: 30 } });
    expect(cold.message).not.toMatch(/warm start/);
    for (const name of NAMES) expect(relativeError(warm.params[name], cold.params[name])).toBeLessThan(1e-8);
  });

  it('not below 50,000 usable rows', () => {
    const fewer: SpendPatterns = {
      frequency: data.frequency.subarray(0, 49_999),
      monetaryValue: data.monetaryValue.subarray(0, 49_999),
      weight: data.weight.subarray(0, 49_999),
    };
    const fit = fitGammaGamma(fewer);
    expect(fit.converged).toBe(true);
    // No warm start, and no note of ignored rows: every row has x > 0 and m > 0.
    expect(fit.message).toMatch(/^Gamma-Gamma: converged: .* after \d+ iterations \(\d+ evaluations\)$/);
  });
});
