/**
 * A fixed, realistic ReportData (CDNOW-sized base: 23,570 customers, about
 * half of them one-time buyers). Numbers are literal so the report is stable;
 * totals are derived from the tables so that sections agree with each other.
 */
import { modelMatrix } from '../../src/stages/clv/clvDiagnostics.js';
import type { ReportData } from '../../src/report/data.js';

// R×F customers; F = 2 is empty because one-time buyers (51%) all tie at F = 1
// and the two-order buyers' lowest rank lands in the third quintile.
const RF_CUSTOMERS: Record<number, Record<number, number>> = {
  5: { 1: 944, 3: 1230, 4: 1374, 5: 1166 },
  4: { 1: 1720, 3: 1180, 4: 1010, 5: 804 },
  3: { 1: 2580, 3: 1020, 4: 690, 5: 424 },
  2: { 1: 3120, 3: 860, 4: 470, 5: 264 },
  1: { 1: 3650, 3: 640, 4: 280, 5: 144 },
};
const F_MEAN_REVENUE: Record<number, number> = { 1: 38.4, 3: 84.9, 4: 151.2, 5: 418.7 };
const R_LIFT: Record<number, number> = { 5: 1.18, 4: 1.07, 3: 1.0, 2: 0.93, 1: 0.86 };

const rfmHeatmap: ReportData['rfmHeatmap'] = [];
for (const r of [5, 4, 3, 2, 1]) {
  for (const [f, customers] of Object.entries(RF_CUSTOMERS[r])) {
    const meanRevenue = Math.round(F_MEAN_REVENUE[+f] * R_LIFT[r] * 100) / 100;
    rfmHeatmap.push({ r, f: +f, customers, meanRevenue });
  }
}

const customers = rfmHeatmap.reduce((s, c) => s + c.customers, 0); // 23,570
const revenue = Math.round(rfmHeatmap.reduce((s, c) => s + c.customers * c.meanRevenue, 0) * 100) / 100;

const SEGMENTS: [string, number, number][] = [
  ['Champions', 2360, 1_021_400],
  ['Loyal', 2890, 512_300],
  ['Potential Loyalist', 2210, 168_900],
  ['New Customers', 944, 40_100],
  ['Promising', 1720, 62_800],
  ['Need Attention', 1840, 121_500],
  ['About To Sleep', 2580, 84_600],
  ['At Risk', 1864, 287_200],
  ["Can't Lose Them", 408, 131_700],
  ['Hibernating', 3104, 99_800],
  ['Lost', 3650, 121_129],
];
const segRevenue = SEGMENTS.reduce((s, x) => s + x[2], 0);
const segments: ReportData['segments'] = SEGMENTS.map(([segment, n, rev]) => ({
  segment,
  customers: n,
  revenue: rev,
  customerShare: n / customers,
  revenueShare: rev / segRevenue,
}));
// The segment counts must add up to the base.
const rest = customers - segments.reduce((s, x) => s + x.customers, 0);
segments[segments.length - 1].customers += rest;
segments[segments.length - 1].customerShare = segments[segments.length - 1].customers / customers;

const DECILE_SHARES = [0.462, 0.158, 0.102, 0.075, 0.058, 0.046, 0.036, 0.029, 0.02, 0.014];
let cumulative = 0;
const deciles: ReportData['deciles'] = DECILE_SHARES.map((share, i) => {
  cumulative += share;
  return {
    decile: i + 1,
    customers: i === 9 ? customers - 9 * Math.floor(customers / 10) : Math.floor(customers / 10),
    revenue: Math.round(share * revenue * 100) / 100,
    share,
    cumulativeShare: Math.round(cumulative * 1000) / 1000,
  };
});

// Right-skewed CLV (12 months, 1% monthly discount) on quarter-decade bins from 0.01 to 1,778: k = -8..12.
const CLV_COUNTS = [310, 420, 610, 880, 1240, 1690, 2150, 2530, 2710, 2620, 2310, 1880, 1390, 940, 590, 340, 170, 80, 34, 12, 3];
const clvDistribution: NonNullable<ReportData['clvDistribution']> = {
  bins: CLV_COUNTS.map((n, i) => {
    const k = i - 8;
    const binStart = 10 ** (k / 4);
    const binEnd = 10 ** ((k + 1) / 4);
    return { binStart, binEnd, customers: n, minClv: binStart * 1.01, maxClv: binEnd * 0.99 };
  }),
  below: { edge: 0.01, customers: customers - CLV_COUNTS.reduce((s, n) => s + n, 0) },
};

// P(alive): one-time buyers pile up at 1 under BG/NBD, lapsed repeat buyers near 0.
const P_ALIVE_COUNTS = [2410, 1130, 780, 610, 520, 470, 430, 410, 390, 380, 390, 410, 440, 480, 540, 620, 760, 980, 1390, 0];
P_ALIVE_COUNTS[19] = customers - P_ALIVE_COUNTS.reduce((s, n) => s + n, 0);
const pAliveHistogram = P_ALIVE_COUNTS.map((n, i) => ({ binStart: i / 20, binEnd: (i + 1) / 20, customers: n }));

// CDNOW-like calibration histogram (×10) and a model that fits it closely.
const PERIOD_ACTUAL = [14110, 4390, 2140, 1000, 620, 380, 290, 640];
const PERIOD_EXPECTED = [14336.2, 4153.8, 2104.6, 1149.1, 661.9, 395.8, 243.6, 524.99];
const periodTransactions = PERIOD_ACTUAL.map((actual, x) => ({ repeatPurchases: x === 7 ? '7+' : String(x), actual, expected: PERIOD_EXPECTED[x] }));

const FIT = { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 };
const matrix = modelMatrix('bgnbd', FIT, { T: 77.9, maxFrequency: 14, timeUnit: 'week', horizonMonths: 12 });

// 39 holdout weeks: about 46 repeat purchases a week, the model a little low at the end.
const tracking = Array.from({ length: 39 }, (_, i) => ({ week: i + 1, day: 7 * (i + 1), actual: Math.round(46.2 * (i + 1) + 8 * Math.sin(i)), expected: 45.1 * (i + 1) }));
const HOLDOUT = [
  ['0', 14110, 0.236, 0.22],
  ['1', 4390, 0.698, 0.655],
  ['2', 2140, 1.199, 1.12],
  ['3', 1000, 1.59, 1.61],
  ['4', 620, 2.18, 2.27],
  ['5', 380, 2.66, 2.78],
  ['6', 290, 3.3, 3.2],
  ['7+', 640, 6.7, 6.1],
] as const;
const holdout: NonNullable<ReportData['holdout']> = {
  calibrationEnd: '1997-09-30',
  holdoutEnd: '1998-06-30',
  model: 'BG/NBD',
  timeUnit: 'week',
  customers,
  actualTotal: HOLDOUT.reduce((s, h) => s + Math.round(h[1] * h[2]), 0),
  predictedTotal: HOLDOUT.reduce((s, h) => s + h[1] * h[3], 0),
  mae: 0.612,
  byFrequency: HOLDOUT.map(([frequency, n, actualMean, predictedMean]) => ({ frequency, customers: n, actual: Math.round(n * actualMean), predicted: n * predictedMean, actualMean, predictedMean })),
  tracking,
};

const STAGES: [string, number, number][] = [
  ['new', 944, 40_100],
  ['active', 4210, 398_600],
  ['loyal', 2310, 1_102_500],
  ['reactivated', 1020, 96_400],
  ['at_risk', 2480, 318_900],
  ['lapsed', 4946, 286_700],
  ['lost', 7660, 408_229],
];
const stages: NonNullable<ReportData['stages']> = STAGES.map(([stage, n, rev]) => ({ stage, customers: n, revenue: rev, share: n / customers }));

const clusters: NonNullable<ReportData['clusters']> = [
  { cluster: 1, label: 'bought in the last 30 days · 10+ orders · top 10% revenue', customers: 2870, share: 2870 / customers, meanRecencyDays: 41, meanOrders: 11.8, meanRevenue: 612.4, meanClv: 288.6, medianRecencyDays: 28, medianOrders: 10, medianRevenue: 480.5, medianClv: 230.1 },
  { cluster: 2, label: 'no order in 180+ days · 3+ orders · top 50% revenue', customers: 5140, share: 5140 / customers, meanRecencyDays: 198, meanOrders: 3.9, meanRevenue: 148.7, meanClv: 41.2, medianRecencyDays: 181, medianOrders: 3, medianRevenue: 121, medianClv: 35.8 },
  { cluster: 3, label: 'bought in the last 90 days · one order · bottom 50% revenue', customers: 4410, share: 4410 / customers, meanRecencyDays: 96, meanOrders: 1.0, meanRevenue: 42.3, meanClv: 12.8, medianRecencyDays: 88, medianOrders: 1, medianRevenue: 36.2, medianClv: 11.5 },
  { cluster: 4, label: 'no order in 1+ year · one order · bottom 20% revenue', customers: 11150, share: 11150 / customers, meanRecencyDays: 472, meanOrders: 1.1, meanRevenue: 31.9, meanClv: 2.1, medianRecencyDays: 455, medianOrders: 1, medianRevenue: 24.9, medianClv: 1.4 },
];

// Segment migration run 2 → run 3: mostly stay, some drift one step worse.
const migrationCells: NonNullable<ReportData['migration']>['cells'] = [];
const names = SEGMENTS.map((s) => s[0]);
names.forEach((from, i) => {
  const base = SEGMENTS[i][1];
  const stay = Math.round(base * 0.72);
  const worse = Math.round(base * 0.17);
  const better = base - stay - worse;
  const add = (to: string, n: number) => {
    if (n > 0) migrationCells.push({ from, to, customers: n, revenue: Math.round((SEGMENTS[i][2] / base) * n * 100) / 100 });
  };
  add(from, stay);
  if (i + 1 < names.length) add(names[i + 1], worse);
  else add(from, 0);
  if (i > 0) add(names[i - 1], better);
  if (i + 3 < names.length) add(names[i + 3], Math.round(base * 0.02));
});

export function sampleReportData(): ReportData {
  return structuredClone({
    title: 'crm report — run 3',
    run: {
      id: 3,
      asOf: '1998-06-30',
      startedAt: '2024-05-02T02:00:04.118Z',
      finishedAt: '2024-05-02T02:00:09.902Z',
      inputs: ['fixtures/cdnow/CDNOW_master.csv', 'data/2024-05/*.parquet'],
    },
    totals: { customers, revenue, rowsRead: 69_659, rowsRejected: 12, rowsExcluded: 0 },
    fit: {
      model: 'BG/NBD',
      timeUnit: 'week',
      params: { r: 0.2426, alpha: 4.4136, a: 0.7929, b: 2.4259 },
      logLikelihood: -9582.43,
      converged: true,
      boundary: null,
      gammaGamma: { params: { p: 6.2488, q: 3.7443, gamma: 15.4438 }, logLikelihood: -4053.11, converged: true },
    },
    rfmHeatmap,
    segments,
    deciles,
    clvDistribution,
    pAliveHistogram,
    periodTransactions,
    modelMatrix: { model: 'BG/NBD', T: matrix.T, timeUnit: matrix.timeUnit, horizonMonths: matrix.horizonMonths, maxFrequency: 14, cells: matrix.cells },
    holdout,
    history: {
      runs: [
        { runId: 1, asOf: '1997-12-31', model: 'BG/NBD', customers, revenue: revenue * 0.71, meanPAlive: 0.61, totalClv: 512_300, clvInterval: null },
        { runId: 2, asOf: '1998-03-31', model: 'BG/NBD', customers, revenue: revenue * 0.86, meanPAlive: 0.55, totalClv: 468_900, clvInterval: { low: 431_200, high: 509_700 } },
        { runId: 3, asOf: '1998-06-30', model: 'BG/NBD', customers, revenue, meanPAlive: 0.52, totalClv: 441_700, clvInterval: { low: 402_900, high: 483_100 } },
      ],
      segments: [1, 2, 3].flatMap((runId) => {
        // Earlier runs had more of the best segments.
        const counts = segments.map((s, i) => Math.max(1, Math.round(s.customers * (1 + (3 - runId) * (i < 5 ? 0.08 : -0.06)))));
        const total = counts.reduce((a, n) => a + n, 0);
        return segments.map((s, i) => ({ runId, segment: s.segment, customers: counts[i], share: counts[i] / total }));
      }),
      stages: [1, 2, 3].flatMap((runId) => stages.map((s) => ({ runId, stage: s.stage, customers: s.customers, share: s.share }))),
    },
    stages,
    clusters,
    migration: { fromRun: 2, toRun: 3, by: 'segment', cells: migrationCells },
  } satisfies ReportData);
}
