/**
 * P(X(t) = x) of the purchase models and the calibration-period check built
 * on it: BG/NBD against BTYD's published `bgnbd.pmf` values, every model
 * against its own closed forms for P(X(t)=0) and E[X(t)] (computed by other
 * code), against a seeded simulation of its story, and the CDNOW
 * repeat-purchase counts against the published histogram.
 */
import { describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import * as mbgNbd from '../../src/models/mbgNbd.js';
import * as paretoNbd from '../../src/models/paretoNbd.js';
import { bgNbdPmf, mbgNbdPmf, paretoNbdPmf, periodTransactions } from '../../src/models/purchasePmf.js';
import type { BgNbdParams, ParetoNbdParams } from '../../src/models/types.js';
import { gammaVariate, loadCdnowCalibration, mulberry32 } from './cdnowPatterns.js';

// BTYD's documentation example (the CDNOW BG/NBD fit, rounded).
const BTYD_BG: BgNbdParams = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const MBG: BgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
// BTYD's pnbd.pmf example (the CDNOW Pareto/NBD fit, rounded).
const PNBD: ParetoNbdParams = { r: 0.55, alpha: 10.56, s: 0.61, beta: 11.64 };

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, v) => s + v, 0);
const mean = (p: ArrayLike<number>) => Array.from(p).reduce((s, v, x) => s + x * v, 0);

describe('bgNbdPmf', () => {
  it("reproduces BTYD's bgnbd.pmf examples", () => {
    // BTYD: bgnbd.pmf(c(0.243, 4.414, 0.793, 2.426), t = 2, x = 10); t = 39, x = 0; t = 30, x = 11:20.
    expect(bgNbdPmf(BTYD_BG, 2, 10)[10]).toBeCloseTo(1.07869e-7, 11);
    expect(bgNbdPmf(BTYD_BG, 39, 0)[0]).toBeCloseTo(0.5737864, 7);
    const published = [
      0.0019995214, 0.0015170236, 0.001163315, 0.0009003148, 0.0007023638, 0.0005517902, 0.0004361913, 0.0003467171, 0.0002769613,
      0.000222226,
    ];
    const p = bgNbdPmf(BTYD_BG, 30, 20);
    published.forEach((v, i) => expect(Math.abs(p[11 + i] - v) / v, `x = ${11 + i}`).toBeLessThan(1e-6));
  });

  it('sums to 1 and has the mean and P(X = 0) of the closed forms', () => {
    for (const t of [0.5, 5, 39, 78, 400]) {
      const p = bgNbdPmf(BTYD_BG, t, 4000);
      expect(sum(p)).toBeCloseTo(1, 9);
      expect(p[0]).toBeCloseTo(bgNbd.probabilityNoPurchase(BTYD_BG, t), 14);
      expect(Math.abs(mean(p) - bgNbd.expectedPurchases(BTYD_BG, t)) / bgNbd.expectedPurchases(BTYD_BG, t)).toBeLessThan(1e-8);
    }
  });

  it('evaluates the a, b → ∞ boundary (a + b = 1e15) as the fixed-dropout limit', () => {
    const p = 0.12;
    const limit = bgNbdPmf({ r: 0.8, alpha: 10, a: p * 1e15, b: (1 - p) * 1e15 }, 52, 3);
    // Fixed p: P(X=1) = (1−p) NBD(1) + p (1 − NBD(0)), NBD from the Gamma–Poisson mixture.
    const nbd0 = (10 / 62) ** 0.8;
    const nbd1 = nbd0 * 0.8 * (52 / 62);
    expect(limit[0]).toBeCloseTo(nbd0, 10);
    expect(limit[1]).toBeCloseTo((1 - p) * nbd1 + p * (1 - nbd0), 10);
    expect(Array.from(limit).every(Number.isFinite)).toBe(true);
  });
});

describe('mbgNbdPmf', () => {
  it('sums to 1, has the closed-form mean, and a one-time buyer may drop out at once', () => {
    for (const t of [1, 39, 78]) {
      const p = mbgNbdPmf(MBG, t, 4000);
      expect(sum(p)).toBeCloseTo(1, 9);
      expect(Math.abs(mean(p) - mbgNbd.expectedPurchases(MBG, t)) / mbgNbd.expectedPurchases(MBG, t)).toBeLessThan(1e-8);
      // X = 0: dropped at the first purchase (a/(a+b)) or alive with no Poisson purchase.
      const a = MBG.a / (MBG.a + MBG.b);
      expect(p[0]).toBeCloseTo(a + (1 - a) * (MBG.alpha / (MBG.alpha + t)) ** MBG.r, 12);
    }
  });
});

describe('paretoNbdPmf', () => {
  it('sums to 1 and matches the closed forms of P(X = 0) and E[X(t)]', () => {
    for (const t of [0.3, 2, 39, 78, 700]) {
      const p = paretoNbdPmf(PNBD, t, 6000);
      expect(sum(p)).toBeCloseTo(1, 8);
      expect(Math.abs(p[0] - paretoNbd.probabilityNoPurchase(PNBD, t))).toBeLessThan(1e-9);
      const expected = paretoNbd.expectedPurchases(PNBD, t);
      expect(Math.abs(mean(p) - expected) / expected, `t = ${t}`).toBeLessThan(1e-6);
    }
  });
});

/** Seeded draws of X(t) from each model's story (not from its formulas). */
function simulate(model: 'bgnbd' | 'mbgnbd' | 'paretonbd', t: number, n: number, seed: number): number[] {
  const random = mulberry32(seed);
  const counts = new Array<number>(8).fill(0);
  for (let c = 0; c < n; c++) {
    let x = 0;
    if (model === 'paretonbd') {
      const lambda = gammaVariate(PNBD.r, random) / PNBD.alpha;
      const mu = gammaVariate(PNBD.s, random) / PNBD.beta;
      const death = -Math.log(1 - random()) / mu;
      let time = -Math.log(1 - random()) / lambda;
      while (time <= Math.min(t, death)) {
        x++;
        time += -Math.log(1 - random()) / lambda;
      }
    } else {
      const params = model === 'bgnbd' ? BTYD_BG : MBG;
      const lambda = gammaVariate(params.r, random) / params.alpha;
      const g = gammaVariate(params.a, random);
      const p = g / (g + gammaVariate(params.b, random));
      let alive = model === 'bgnbd' || random() >= p;
      let time = -Math.log(1 - random()) / lambda;
      while (alive && time <= t) {
        x++;
        if (random() < p) alive = false;
        time += -Math.log(1 - random()) / lambda;
      }
    }
    counts[Math.min(x, 7)]++;
  }
  return counts.map((k) => k / n);
}

describe('every pmf against a seeded simulation of its model', () => {
  const n = 200_000;
  const pmfs = {
    bgnbd: (t: number) => bgNbdPmf(BTYD_BG, t, 6),
    mbgnbd: (t: number) => mbgNbdPmf(MBG, t, 6),
    paretonbd: (t: number) => paretoNbdPmf(PNBD, t, 6),
  };
  for (const model of ['bgnbd', 'mbgnbd', 'paretonbd'] as const) {
    it(`${model}: simulated shares within 4 standard errors`, () => {
      const t = 39;
      const p = Array.from(pmfs[model](t));
      p.push(1 - sum(p));
      const simulated = simulate(model, t, n, 2024);
      p.forEach((v, x) => {
        const se = Math.sqrt((v * (1 - v)) / n);
        expect(Math.abs(simulated[x] - v), `x = ${x}`).toBeLessThan(4 * se + 1e-12);
      });
    });
  }
});

describe('periodTransactions', () => {
  const cdnow = loadCdnowCalibration();
  const FIT: BgNbdParams = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };

  it('counts CDNOW customers by calibration repeat purchases as published, and sums the model over every T', () => {
    const rows = periodTransactions((t, maxX) => bgNbdPmf(FIT, t, maxX), cdnow.patterns);
    // Fader, Hardie & Lee (2005), Figure 2: the calibration-period histogram of the CDNOW sample.
    expect(rows.map((r) => [r.repeatPurchases, r.actual])).toEqual([
      ['0', 1411],
      ['1', 439],
      ['2', 214],
      ['3', 100],
      ['4', 62],
      ['5', 38],
      ['6', 29],
      ['7+', 64],
    ]);
    // Expected zeros: Σ over customers of (α/(α+T))^r, the closed form, customer by customer.
    const zeros = cdnow.customers.reduce((s, c) => s + (FIT.alpha / (FIT.alpha + c.T)) ** FIT.r, 0);
    expect(rows[0].expected!).toBeCloseTo(zeros, 8);
    expect(sum(rows.map((r) => r.expected!))).toBeCloseTo(2357, 8);
    // The model fits the calibration data: every bucket within 15% (or 10 customers) of the count.
    for (const r of rows) expect(Math.abs(r.expected! - r.actual), r.repeatPurchases).toBeLessThan(Math.max(10, 0.15 * r.actual));
  });

  it('leaves expected null without a model, and the order of the patterns does not matter', () => {
    expect(periodTransactions(null, cdnow.patterns).every((r) => r.expected === null)).toBe(true);
    const reversed = {
      frequency: cdnow.patterns.frequency.slice().reverse(),
      T: cdnow.patterns.T.slice().reverse(),
      weight: cdnow.patterns.weight.slice().reverse(),
    };
    const pmf = (t: number, maxX: number) => paretoNbdPmf(PNBD, t, maxX);
    expect(periodTransactions(pmf, reversed)).toEqual(periodTransactions(pmf, cdnow.patterns));
  });
});
