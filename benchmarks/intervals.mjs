#!/usr/bin/env node
// Coverage of the CLV intervals (issue 16): seeded simulations of a customer
// base from known BG/NBD and Gamma-Gamma parameters; each is fitted as crm
// fits it, and the 90% interval of the population total of expected purchases
// over the horizon (models/clvIntervals.ts, the figure summary.json's
// clv.intervals.totals.expectedPurchases holds) is checked against the same
// total computed with the TRUE parameters on the same histories. Prints the
// coverage and the time. Not a test: it takes minutes.
//
//   npm run build && nice -n 10 node benchmarks/intervals.mjs [--simulations 100] [--customers 20000] [--draws 200]
//
// The base is CDNOW-like: first purchases on whole days spread over the first 12
// weeks, as of week 39 (so T is a whole number of days, and the (x, T) groups
// few, as in crm), repeat purchases in continuous time as the model has them
// (rounding them to days biases the fit by about a standard error at this
// size: 81% coverage in a first run); model time unit week.
import { parseArgs } from 'node:util';
import { fitBgNbd, conditionalExpectedPurchases } from '../dist/models/bgNbd.js';
import { fitGammaGamma } from '../dist/models/gammaGamma.js';
import { clvIntervals } from '../dist/models/clvIntervals.js';
import { frequencyTGroups } from '../dist/models/clv.js';
import { seededUniform } from '../dist/models/parameterDraws.js';

const { values } = parseArgs({
  options: {
    simulations: { type: 'string', default: '100' },
    customers: { type: 'string', default: '20000' },
    draws: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
  },
});
const SIMULATIONS = Number(values.simulations);
const CUSTOMERS = Number(values.customers);
const DRAWS = Number(values.draws);

// CDNOW's fits (Fader, Hardie & Lee 2005), in weeks.
const TRUE = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const SPEND = { p: 6.25, q: 3.74, gamma: 15.44 };
const HORIZON = { horizonMonths: 12, monthlyDiscountRate: 0.01, timeUnit: 'week' };
const OBSERVED_DAYS = 273;
const HORIZON_WEEKS = (12 * 30) / 7;

/** Gamma(shape, rate) by Marsaglia & Tsang, from uniform `u`. */
function gamma(u, shape, rate) {
  if (shape < 1) return gamma(u, shape + 1, rate) * u() ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x;
    let v;
    do {
      x = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const w = u();
    if (Math.log(w) < 0.5 * x * x + d - d * v + d * Math.log(v)) return (d * v) / rate;
  }
}
const beta = (u, a, b) => {
  const x = gamma(u, a, 1);
  return x / (x + gamma(u, b, 1));
};

/** One base: per customer (x, t_x, T) in days, and the mean repeat spend. */
function simulate(seed) {
  const u = seededUniform(seed);
  const rows = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const lambda = gamma(u, TRUE.r, TRUE.alpha) / 7; // per day
    const p = beta(u, TRUE.a, TRUE.b);
    const first = Math.floor(u() * 84);
    const T = OBSERVED_DAYS - first;
    const nu = gamma(u, SPEND.q, SPEND.gamma);
    // Repeat purchases in continuous time (Poisson at rate λ; after each, dropout with probability p), as the model has them.
    let x = 0;
    let recency = 0;
    let t = 0;
    for (;;) {
      t += -Math.log(u()) / lambda;
      if (!(t <= T)) break;
      x++;
      recency = t;
      if (u() < p) break;
    }
    let spend = 0;
    for (let k = 0; k < x; k++) spend += gamma(u, SPEND.p, nu);
    rows.push({ x, recency, T, m: x > 0 ? spend / x : 0 });
  }
  return rows;
}

/** Patterns as crm pulls them: distinct (x, t_x, T), weeks for the model, with each pattern's spend sums. */
function patternsOf(rows) {
  const byKey = new Map();
  for (const r of rows) {
    const key = `${r.x},${r.recency},${r.T}`;
    let e = byKey.get(key);
    if (!e) byKey.set(key, (e = { ...r, weight: 0, spendCustomers: 0, spendTotal: 0 }));
    e.weight++;
    if (r.x > 0 && r.m > 0) {
      e.spendCustomers++;
      e.spendTotal += r.m;
    }
  }
  const list = [...byKey.values()];
  const col = (f) => Float64Array.from(list, f);
  return {
    patterns: { frequency: col((e) => e.x), recency: col((e) => e.recency / 7), T: col((e) => e.T / 7), weight: col((e) => e.weight) },
    tDays: col((e) => e.T),
    spendCustomers: col((e) => e.spendCustomers),
    spendTotal: col((e) => e.spendTotal),
  };
}

function spendPatterns(rows) {
  const repeat = rows.filter((r) => r.x > 0 && r.m > 0);
  return { frequency: Float64Array.from(repeat, (r) => r.x), monetaryValue: Float64Array.from(repeat, (r) => r.m), weight: new Float64Array(repeat.length).fill(1) };
}

const started = performance.now();
let covered = 0;
let fitted = 0;
const widths = [];
for (let s = 0; s < SIMULATIONS; s++) {
  const seed = Number(values.seed) * 1_000_003 + s;
  const rows = simulate(seed);
  const { patterns, tDays, spendCustomers, spendTotal } = patternsOf(rows);
  const fit = fitBgNbd(patterns);
  const gg = fitGammaGamma(spendPatterns(rows));
  if (!(fit.converged || fit.boundary) || !gg.converged) {
    process.stdout.write(`simulation ${s + 1}: fit did not converge (${fit.message}; ${gg.message}), skipped\n`);
    continue;
  }
  const groups = frequencyTGroups(patterns.frequency, tDays);
  const intervals = clvIntervals({
    purchase: { model: 'bgnbd', params: fit.params, penalty: 0, ...(fit.boundary ? { boundaryOdds: fit.boundary.dropoutProbability / (1 - fit.boundary.dropoutProbability) } : {}) },
    patterns,
    groupIndex: groups.index,
    groups: { frequency: groups.frequency, T: Float64Array.from(groups.T, (d) => d / 7) },
    horizon: HORIZON,
    spend: { params: gg.params, data: spendPatterns(rows), penalty: 0 },
    spendCustomers,
    spendTotal,
    margin: 1,
    draws: DRAWS,
    seed: seed + 7919, // not the stream the base was simulated from
    level: 0.9,
  });
  if ('unavailable' in intervals) {
    process.stdout.write(`simulation ${s + 1}: no intervals (${intervals.unavailable}), skipped\n`);
    continue;
  }
  fitted++;
  const expected = conditionalExpectedPurchases(TRUE, HORIZON_WEEKS, patterns.frequency, patterns.recency, patterns.T);
  let truth = 0;
  for (let i = 0; i < expected.length; i++) truth += patterns.weight[i] * expected[i];
  const { estimate, low, high } = intervals.totals.expectedPurchases;
  const hit = low <= truth && truth <= high;
  if (hit) covered++;
  widths.push((high - low) / estimate);
  process.stdout.write(
    `simulation ${String(s + 1).padStart(3)}: true ${truth.toFixed(1)}, estimate ${estimate.toFixed(1)}, 90% interval ${low.toFixed(1)}–${high.toFixed(1)} ${hit ? 'covers' : 'MISSES'} (${patterns.frequency.length} patterns)\n`,
  );
}
const seconds = (performance.now() - started) / 1000;
widths.sort((a, b) => a - b);
process.stdout.write(
  `\ncoverage: ${covered} of ${fitted} simulations (${SIMULATIONS} run, ${CUSTOMERS} customers each, ${DRAWS} draws); median relative width ${(widths[widths.length >> 1] ?? NaN).toFixed(3)}; ${seconds.toFixed(1)} s (${(seconds / SIMULATIONS).toFixed(2)} s a simulation)\n`,
);
