/**
 * The standard CDNOW calibration data set (fixtures/cdnow/README.md), built
 * straight from the raw sample so the model tests do not depend on the
 * DuckDB pipeline: purchases on or before 1997-09-30, same-day purchases
 * merged into one occasion, time in weeks.
 */
import { mulberry32 } from '../../src/models/kmeans.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { logGamma } from '../../src/models/specialFunctions.js';
import type { BgNbdParams, GammaGammaParams, PurchasePatterns, SpendPatterns } from '../../src/models/types.js';

const SAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/cdnow/CDNOW_sample.txt');
const DAY_MS = 86_400_000;
const CALIBRATION_END = Date.UTC(1997, 8, 30);

export interface CdnowCustomer {
  readonly id: string;
  /** x: repeat purchase days. */
  readonly frequency: number;
  /** t_x in weeks. */
  readonly recency: number;
  /** T in weeks. */
  readonly T: number;
  /** Mean value of the repeat purchase days (0 when x = 0). */
  readonly monetaryValue: number;
}

export interface CdnowCalibration {
  readonly customers: readonly CdnowCustomer[];
  /** Distinct (x, t_x, T) with customer counts as weights. */
  readonly patterns: PurchasePatterns;
  /** One row per repeat customer with a positive mean spend. */
  readonly spend: SpendPatterns;
}

function parseDate(yyyymmdd: string): number {
  return Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8)));
}

export function loadCdnowCalibration(): CdnowCalibration {
  // customer → day (ms) → amount, calibration period only.
  const byCustomer = new Map<string, Map<number, number>>();
  for (const line of readFileSync(SAMPLE, 'utf8').split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 5) continue;
    const [id, , date, , amount] = fields;
    const day = parseDate(date);
    if (day > CALIBRATION_END) continue;
    let days = byCustomer.get(id);
    if (!days) byCustomer.set(id, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + Number(amount));
  }

  const customers: CdnowCustomer[] = [];
  for (const [id, days] of byCustomer) {
    const sorted = [...days.keys()].sort((a, b) => a - b);
    const first = sorted[0];
    const last = sorted[sorted.length - 1];
    const repeats = sorted.slice(1).map((d) => days.get(d) as number);
    customers.push({
      id,
      frequency: sorted.length - 1,
      recency: (last - first) / DAY_MS / 7,
      T: (CALIBRATION_END - first) / DAY_MS / 7,
      monetaryValue: repeats.length > 0 ? repeats.reduce((s, v) => s + v, 0) / repeats.length : 0,
    });
  }

  const counts = new Map<string, { x: number; tx: number; T: number; w: number }>();
  for (const c of customers) {
    const key = `${c.frequency}|${c.recency}|${c.T}`;
    const entry = counts.get(key);
    if (entry) entry.w++;
    else counts.set(key, { x: c.frequency, tx: c.recency, T: c.T, w: 1 });
  }
  const rows = [...counts.values()];
  const repeat = customers.filter((c) => c.frequency > 0 && c.monetaryValue > 0);
  return {
    customers,
    patterns: {
      frequency: Float64Array.from(rows, (r) => r.x),
      recency: Float64Array.from(rows, (r) => r.tx),
      T: Float64Array.from(rows, (r) => r.T),
      weight: Float64Array.from(rows, (r) => r.w),
    },
    spend: {
      frequency: Float64Array.from(repeat, (c) => c.frequency),
      monetaryValue: Float64Array.from(repeat, (c) => c.monetaryValue),
      weight: new Float64Array(repeat.length).fill(1),
    },
  };
}

/** Patterns from (x, t_x, T, weight) rows. */
export function patterns(rows: [x: number, tx: number, T: number, w: number][]): PurchasePatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    recency: Float64Array.from(rows, (r) => r[1]),
    T: Float64Array.from(rows, (r) => r[2]),
    weight: Float64Array.from(rows, (r) => r[3]),
  };
}

/** `base` with the rows appended. */
export function withPatterns(base: PurchasePatterns, rows: [number, number, number, number][]): PurchasePatterns {
  const extra = patterns(rows);
  const cat = (a: Float64Array, b: Float64Array) => Float64Array.from([...a, ...b]);
  return {
    frequency: cat(base.frequency, extra.frequency),
    recency: cat(base.recency, extra.recency),
    T: cat(base.T, extra.T),
    weight: cat(base.weight, extra.weight),
  };
}

/** Spend patterns from (x, m_x, weight) rows. */
export function spend(rows: [x: number, m: number, w: number][]): SpendPatterns {
  return {
    frequency: Float64Array.from(rows, (r) => r[0]),
    monetaryValue: Float64Array.from(rows, (r) => r[1]),
    weight: Float64Array.from(rows, (r) => r[2]),
  };
}

/** BTYD `spend.LL` / lifetimes `GammaGammaFitter` term for one customer, as written there. */
export function textbookSpendTerm({ p, q, gamma }: GammaGammaParams, x: number, m: number): number {
  return (
    logGamma(p * x + q) -
    logGamma(p * x) -
    logGamma(q) +
    q * Math.log(gamma) +
    (p * x - 1) * Math.log(m) +
    p * x * Math.log(x) -
    (p * x + q) * Math.log(gamma + m * x)
  );
}

/** Every n-th pattern, from the first. */
export function everyNth(p: PurchasePatterns, n: number): PurchasePatterns {
  const pick = (v: Float64Array): Float64Array => v.filter((_, i) => i % n === 0);
  return { frequency: pick(p.frequency), recency: pick(p.recency), T: pick(p.T), weight: pick(p.weight) };
}

/** The same patterns in a seeded random order (Fisher–Yates with mulberry32). */
export function shuffled(p: PurchasePatterns, seed: number): PurchasePatterns {
  let state = seed >>> 0;
  const random = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: p.frequency.length }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const pick = (v: Float64Array): Float64Array => Float64Array.from(order, (i) => v[i]);
  return { frequency: pick(p.frequency), recency: pick(p.recency), T: pick(p.T), weight: pick(p.weight) };
}

/** Relative difference |a − b| / |b|. */
export function relativeError(a: number, b: number): number {
  return Math.abs(a - b) / Math.abs(b);
}

/**
 * ∂LL/∂log θ for each named parameter by central differences in log θ (step
 * h): what an analytic gradient w.r.t. the log-parameters is checked against.
 */
export function centralDifferenceGradient<P extends Record<string, number>, K extends keyof P & string>(
  logLikelihood: (params: P) => number,
  params: P,
  names: readonly K[],
  h = 1e-5,
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const name of names) {
    const up = { ...params, [name]: params[name] * Math.exp(h) };
    const down = { ...params, [name]: params[name] * Math.exp(-h) };
    out[name] = (logLikelihood(up) - logLikelihood(down)) / (2 * h);
  }
  return out;
}

/** Every element finite. */
export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Seeded uniform [0, 1) generator: crm's mulberry32 (checked against its published C code in kmeans.basics.test.ts). */
export { mulberry32 };

/**
 * Fader, Hardie & Lee (2005) eq. (6) for one customer, logged and written out:
 * L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
 *   + [x > 0] B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)).
 */
export function textbookBgNbdLogLikelihood({ r, alpha, a, b }: BgNbdParams, x: number, tx: number, T: number): number {
  const logB = (p: number, q: number) => logGamma(p) + logGamma(q) - logGamma(p + q);
  const common = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) - logB(a, b);
  const alive = logB(a, b + x) - (r + x) * Math.log(alpha + T);
  if (x === 0) return common + alive;
  const dropped = logB(a + 1, b + x - 1) - (r + x) * Math.log(alpha + tx);
  const top = Math.max(alive, dropped);
  return common + top + Math.log(Math.exp(alive - top) + Math.exp(dropped - top));
}

/** Gamma(shape, 1) variate (Marsaglia & Tsang 2000). */
export function gammaVariate(shape: number, random: () => number): number {
  if (shape < 1) return gammaVariate(shape + 1, random) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random();
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export interface SimulatedBase {
  readonly patterns: PurchasePatterns;
  readonly spend: SpendPatterns;
}

/**
 * Customers drawn from the BG/NBD process (λ ~ Gamma(r, α) per week,
 * p ~ Beta(a, b), or one fixed p for everyone: the degenerate Beta of the
 * a, b → ∞ limit) with Gamma-Gamma spend (ν ~ Gamma(q, γ), values ~ Gamma(p, ν)),
 * first purchases spread over `days` days before the as-of date, purchase
 * times rounded to days, time unit weeks; compressed to (x, t_x, T) patterns.
 */
export function simulateCustomerBase(
  customers: number,
  seed: number,
  purchase: { r: number; alpha: number } & ({ a: number; b: number } | { p: number }) = { r: 0.25, alpha: 4, a: 0.8, b: 2.5 },
  spendParams = { p: 6, q: 4, gamma: 15 },
  days = 730,
): SimulatedBase {
  const random = mulberry32(seed);
  const counts = new Map<string, number>();
  const sx: number[] = [];
  const sm: number[] = [];
  for (let c = 0; c < customers; c++) {
    const ageDays = 1 + Math.floor(random() * days);
    const T = ageDays / 7;
    const lambda = gammaVariate(purchase.r, random) / purchase.alpha;
    let dropout: number;
    if ('p' in purchase) {
      dropout = purchase.p;
    } else {
      const g1 = gammaVariate(purchase.a, random);
      dropout = g1 / (g1 + gammaVariate(purchase.b, random));
    }
    const nu = gammaVariate(spendParams.q, random) / spendParams.gamma;
    let t = 0;
    let lastDay = 0;
    let x = 0;
    let total = 0;
    while (lambda > 0) {
      t += -Math.log(1 - random()) / lambda;
      if (t > T) break;
      const day = Math.floor(t * 7);
      if (day > lastDay) {
        x++;
        lastDay = day;
        total += gammaVariate(spendParams.p, random) / nu;
      }
      if (random() < dropout) break;
    }
    const key = `${x}|${lastDay}|${ageDays}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (x > 0) {
      sx.push(x);
      sm.push(total / x);
    }
  }
  const rows = [...counts].map(([key, w]) => [...key.split('|').map(Number), w]);
  return {
    patterns: {
      frequency: Float64Array.from(rows, (r) => r[0]),
      recency: Float64Array.from(rows, (r) => r[1] / 7),
      T: Float64Array.from(rows, (r) => r[2] / 7),
      weight: Float64Array.from(rows, (r) => r[3]),
    },
    spend: { frequency: Float64Array.from(sx), monetaryValue: Float64Array.from(sm), weight: new Float64Array(sx.length).fill(1) },
  };
}

/**
 * The published CDNOW maximum-likelihood fits (fixtures/cdnow/README.md): to
 * 1e-3 relative on the parameters and 0.01 on the log-likelihood.
 */
export const PUBLISHED_CDNOW = {
  bgnbd: { params: { r: 0.2426, alpha: 4.4137, a: 0.793, b: 2.4259 }, logLikelihood: -9582.43 },
  paretonbd: { params: { r: 0.5533, alpha: 10.5777, s: 0.6062, beta: 11.6685 }, logLikelihood: -9594.98 },
  gammagamma: { params: { p: 6.2493, q: 3.7443, gamma: 15.4443 }, logLikelihood: -4055.92 },
} as const;

export function expectPublishedFit(model: keyof typeof PUBLISHED_CDNOW, fit: { params: object; logLikelihood: number; converged: boolean }): void {
  const reference = PUBLISHED_CDNOW[model];
  const params = fit.params as Record<string, number>;
  expect(fit.converged, `${model} converged`).toBe(true);
  for (const [name, value] of Object.entries(reference.params)) {
    expect(relativeError(params[name]!, value), `${model}.${name} = ${params[name]}`).toBeLessThan(1e-3);
  }
  expect(Math.abs(fit.logLikelihood - reference.logLikelihood), `${model} log-likelihood ${fit.logLikelihood}`).toBeLessThan(0.01);
}
