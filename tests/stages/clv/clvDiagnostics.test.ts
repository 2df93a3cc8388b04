/**
 * The diagnostics' model sums: the tracking curve's expected totals (summed
 * per (x, T) pair for all weeks at once) against every pattern's own
 * prediction summed one week at a time, for the three models and for BG/NBD at
 * its a, b → ∞ boundary; and the shape of the report's matrices.
 */
import { describe, expect, it } from 'vitest';
import { predictPurchases, type PurchaseFit } from '../../../src/stages/clv/clvFits.js';
import { expectedPurchaseTotals, modelMatrix, trackingCurve } from '../../../src/stages/clv/clvDiagnostics.js';
import { clvLogBins } from '../../../src/report/reportData.js';
import * as mbgNbd from '../../../src/models/mbgNbd.js';
import type { FitResult } from '../../../src/models/types.js';
import { loadCdnowCalibration } from '../../models/cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
const fitOf = <P,>(params: P) => ({ params, converged: true }) as unknown as FitResult<P>;
const FITS: [string, PurchaseFit][] = [
  ['bgnbd', { model: 'bgnbd', fit: { ...fitOf({ r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 }), boundary: null } }],
  ['bgnbd at the boundary', { model: 'bgnbd', fit: { ...fitOf({ r: 0.8, alpha: 10, a: 0.12e15, b: 0.88e15 }), boundary: null } }],
  ['mbgnbd', { model: 'mbgnbd', fit: fitOf({ r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 }) }],
  ['paretonbd', { model: 'paretonbd', fit: fitOf({ r: 0.5534, alpha: 10.5802, s: 0.6061, beta: 11.6562 }) }],
];

describe('expectedPurchaseTotals', () => {
  for (const [name, fitted] of FITS) {
    it(`${name}: equals the per-pattern predictions summed, week by week`, () => {
      const weeks = [1, 2, 5, 13, 26, 39];
      const totals = expectedPurchaseTotals(fitted, cdnow.patterns, weeks);
      weeks.forEach((t, h) => {
        const each = predictPurchases(fitted, t, cdnow.patterns);
        const sum = each.reduce((s, v, i) => s + v * cdnow.patterns.weight[i], 0);
        expect(Math.abs(totals[h] - sum) / sum, `t = ${t}`).toBeLessThan(1e-12);
      });
      for (let h = 1; h < weeks.length; h++) expect(totals[h]).toBeGreaterThan(totals[h - 1]);
    });
  }
});

describe('modelMatrix', () => {
  it('covers frequency 0..max (at most 25 rows) × 20 recency steps of (0, T], with the model’s own P(alive)', () => {
    const params = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
    const m = modelMatrix('mbgnbd', params, { T: 78, maxFrequency: 60, timeUnit: 'week', horizonMonths: 12 });
    const frequencies = [...new Set(m.cells.map((c) => c.frequency))];
    expect(frequencies[0]).toBe(0);
    expect(frequencies.at(-1)).toBe(60);
    expect(frequencies).toHaveLength(25);
    expect(m.cells.filter((c) => c.frequency === 0)).toEqual([expect.objectContaining({ recency: 0 })]);
    expect(m.cells.filter((c) => c.frequency === 60).map((c) => c.recency)).toEqual(Array.from({ length: 20 }, (_, k) => (78 * (k + 1)) / 20));
    for (const c of m.cells) {
      expect(c.pAlive).toBeCloseTo(mbgNbd.conditionalProbabilityAlive(params, c.frequency, c.recency, 78), 12);
      expect(c.expectedPurchases).toBeGreaterThanOrEqual(0);
    }
    // Small bases: one row per frequency.
    expect([...new Set(modelMatrix('mbgnbd', params, { T: 10, maxFrequency: 3, timeUnit: 'week', horizonMonths: 12 }).cells.map((c) => c.frequency))]).toEqual([0, 1, 2, 3]);
  });
});

describe('clvLogBins (the report’s CLV bins from CLV_LOG_BINS_SQL rows)', () => {
  it('keeps the 20 quarter-decade bins below the top one, counts the rest (CLV ≤ 0 included) as under the lowest edge, and never labels a bin narrower than what it holds', () => {
    const rows = [
      { k: null, customers: 7, minClv: 0, maxClv: 0 },
      { k: -30, customers: 2, minClv: 1e-8, maxClv: 1.1e-8 },
      ...Array.from({ length: 20 }, (_, i) => ({ k: i - 9, customers: i + 1, minClv: 10 ** ((i - 9) / 4) * 1.01, maxClv: 10 ** ((i - 8) / 4) * 0.99 })),
    ];
    // ln rounds: a CLV of exactly 1,000 (k = 12) can come back in bin 11 = [562.34, 1000).
    rows[rows.length - 1] = { k: 10, customers: 20, minClv: 316.3, maxClv: 562.35 };
    const d = clvLogBins(rows)!;
    expect(d.bins.map((b) => b.binStart)).toEqual(Array.from({ length: 20 }, (_, i) => 10 ** ((i - 9) / 4)));
    expect(d.below).toEqual({ edge: 10 ** (-9 / 4), customers: 9 });
    expect(d.bins.at(-1)).toEqual({ binStart: 10 ** (10 / 4), binEnd: 562.35, customers: 20, minClv: 316.3, maxClv: 562.35 });
    expect(d.bins.reduce((s, b) => s + b.customers, 0) + d.below!.customers).toBe(7 + 2 + 210);
    // Everyone at 0: one "under a cent" bar.
    expect(clvLogBins([{ k: null, customers: 3, minClv: 0, maxClv: 0 }])).toEqual({ bins: [], below: { edge: 0.01, customers: 3 } });
    expect(clvLogBins([])).toBeNull();
  });
});

describe('trackingCurve', () => {
  it('adds the weeks up (a week without purchases included) and ends the last, shorter week at the holdout end', () => {
    // 17 holdout days: weeks end on days 7, 14 and 17; nobody bought in week 2.
    const asked: number[][] = [];
    const curve = trackingCurve([{ week: 1, purchases: 4 }, { week: 3, purchases: 2 }], 17, (days) => (asked.push(days), days.map((d) => d / 2)));
    expect(asked).toEqual([[7, 14, 17]]);
    expect(curve).toEqual([
      { week: 1, day: 7, actual: 4, expected: 3.5 },
      { week: 2, day: 14, actual: 4, expected: 7 },
      { week: 3, day: 17, actual: 6, expected: 8.5 },
    ]);
    expect(trackingCurve([], 14, null)).toEqual([
      { week: 1, day: 7, actual: 0, expected: null },
      { week: 2, day: 14, actual: 0, expected: null },
    ]);
  });
});
