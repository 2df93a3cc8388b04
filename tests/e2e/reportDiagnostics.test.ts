/**
 * The model diagnostics of the HTML report through the real CLI on the CDNOW
 * sample (issue 16 item 4): two runs (as of 1997-09-30 and 1998-06-30) in
 * one history, then `crm report`; and `crm backtest --report` with the
 * standard calibration/holdout split. Every chart is checked by its data (the
 * tooltips of its marks) against figures counted here in plain JS from the
 * fixture or the run's own customers.csv, and the pages are opened in
 * headless Chromium (screenshots in a temporary folder): no console errors,
 * no request besides the page itself.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CDNOW_CSV, parseCsv, readJson, runCli, tempDir } from '../helpers.js';
import { browserSkipReason, checkReportInBrowser } from '../report/browser.js';

const DAY = 86_400_000;
const AS_OF = ['1997-09-30', '1998-06-30'];

/** Per customer, the net amount of each purchase day, from the fixture. */
async function purchaseDays(): Promise<Map<string, Map<number, number>>> {
  const byCustomer = new Map<string, Map<number, number>>();
  const lines = (await readFile(CDNOW_CSV, 'utf8')).trim().split('\n').slice(1);
  for (const line of lines) {
    const [id, date, amount] = line.split(',');
    const day = Date.parse(date);
    if (!byCustomer.has(id)) byCustomer.set(id, new Map());
    const days = byCustomer.get(id)!;
    days.set(day, (days.get(day) ?? 0) + Number(amount));
  }
  return byCustomer;
}

/** Customers by repeat purchase days up to `asOf` (0..6, 7+). */
function repeatHistogram(days: Map<string, Map<number, number>>, asOf: string): number[] {
  const end = Date.parse(asOf);
  const counts = new Array<number>(8).fill(0);
  for (const d of days.values()) {
    const n = [...d].filter(([day, amount]) => day <= end && amount >= 0).length;
    if (n > 0) counts[Math.min(n - 1, 7)]++;
  }
  return counts;
}

/** The <title> tooltips of one figure's marks. */
function tooltips(html: string, chart: string): string[] {
  const figure = new RegExp(`<figure class="chart[^"]*" data-chart="${chart}"[^>]*>([\\s\\S]*?)</figure>`).exec(html);
  expect(figure, chart).not.toBeNull();
  return [...figure![1].matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1].replace(/&amp;/g, '&').replace(/&#39;/g, "'"));
}

const int = (s: string) => Number(s.replace(/,/g, ''));
const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const skipBrowser = browserSkipReason();

describe('crm report on two CDNOW runs: the model diagnostics', () => {
  let dir: string;
  let html: string;
  let days: Map<string, Map<number, number>>;
  const customers: Record<string, string>[][] = [];
  const summaries: any[] = [];

  beforeAll(async () => {
    dir = await tempDir('crm-report-diagnostics-');
    const db = path.join(dir, 'crm.duckdb');
    for (const [i, asOf] of AS_OF.entries()) {
      const out = path.join(dir, `run${i + 1}`);
      const score = await runCli(['score', CDNOW_CSV, '--as-of', asOf, '--out', out, '--db', db, '--format', 'csv', '--quiet']);
      expect(score.code, score.stderr).toBe(0);
      customers.push(parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8')));
      summaries.push(await readJson(path.join(out, 'summary.json')));
    }
    const report = await runCli(['report', '--db', db, '--out', path.join(dir, 'report.html'), '--quiet']);
    expect(report.code, report.stderr).toBe(0);
    html = await readFile(path.join(dir, 'report.html'), 'utf8');
    days = await purchaseDays();
  }, 180_000);

  it('stores the calibration repeat purchases, actual and expected, in summary.json', () => {
    for (const [i, asOf] of AS_OF.entries()) {
      const rows = summaries[i].clv.periodTransactions;
      expect(rows.map((r: any) => r.repeatPurchases)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
      expect(rows.map((r: any) => r.actual)).toEqual(repeatHistogram(days, asOf));
      expect(rows.reduce((s: number, r: any) => s + r.expected, 0)).toBeCloseTo(2357, 6);
    }
    // The standard calibration period: Fader, Hardie & Lee (2005) publish these counts.
    expect(summaries[0].clv.periodTransactions.map((r: any) => r.actual)).toEqual([1411, 439, 214, 100, 62, 38, 29, 64]);
  });

  it('draws repeat purchases actual vs model from the report run (the newest)', () => {
    const tips = tooltips(html, 'period-transactions');
    const actual = repeatHistogram(days, AS_OF[1]);
    const labels = ['0', '1', '2', '3', '4', '5', '6', '7+'];
    expect(tips.filter((t) => !t.includes('expected'))).toEqual(labels.map((x, i) => `${x} repeat purchases: ${actual[i].toLocaleString('en-US')} customers`));
    const expected = summaries[1].clv.periodTransactions.map((r: any) => `${r.repeatPurchases} repeat purchases: ${r.expected.toFixed(1)} customers expected by the model`);
    expect(tips.filter((t) => t.includes('expected'))).toEqual(expected);
  });

  it('draws the P(alive) distribution with every customer in a bin of 0.05', () => {
    const tips = tooltips(html, 'p-alive');
    expect(tips).toHaveLength(20);
    const counts = new Array<number>(20).fill(0);
    for (const c of customers[1]) counts[Math.min(Math.floor(Number(c.p_alive) * 20), 19)]++;
    expect(tips).toEqual(counts.map((n, i) => `P(alive) ${(i / 20).toFixed(2)} – ${((i + 1) / 20).toFixed(2)}: ${n.toLocaleString('en-US')} customers`));
  });

  it('bins CLV on a log scale honestly: every customer counted, the top bin reaching the highest CLV', () => {
    const tips = tooltips(html, 'clv');
    const bins = tips
      .map((t) => /^CLV ([\d,.]+) – ([\d,.]+): ([\d,]+) customers \(lowest ([\d,.]+), highest ([\d,.]+)\)$/.exec(t))
      .filter((m) => m !== null)
      .map((m) => ({ start: int(m![1]), end: int(m![2]), customers: int(m![3]), lowest: int(m![4]), highest: int(m![5]) }));
    const under = tips.map((t) => /^CLV under ([\d,.]+) \(0 included\): ([\d,]+) customers$/.exec(t)).find((m) => m !== null);
    const clv = customers[1].map((c) => Number(c.clv));
    const total = bins.reduce((s, b) => s + b.customers, 0) + (under ? int(under[2]) : 0);
    expect(total).toBe(clv.length);
    const max = Math.max(...clv);
    expect(bins[bins.length - 1].highest).toBe(int(money(max)));
    expect(bins.length).toBeGreaterThan(0);
    for (const b of bins) {
      // A quarter of a decade wide, and holding what it says. The edges are shown in cents: each is off by up to
      // half a cent, which moves the ratio by up to 0.005·(1 + 10^¼)/start (most of it for a bin under 1).
      expect(Math.abs(b.end / b.start - 10 ** 0.25), `${b.start} – ${b.end}`).toBeLessThanOrEqual(0.005 + (0.005 * (1 + 10 ** 0.25)) / b.start);
      expect(b.lowest).toBeGreaterThanOrEqual(b.start - 0.005);
      expect(b.highest).toBeLessThanOrEqual(b.end + 0.005);
      expect(b.customers).toBe(clv.filter((v) => v >= b.lowest - 0.005 && v <= b.highest + 0.005).length);
    }
  });

  it('draws the P(alive) and expected-purchases matrices at the oldest customer’s T, from the fitted parameters', () => {
    const { r, alpha, a, b } = summaries[1].clv.bgnbd.params;
    const T = Math.max(...customers[1].map((c) => Number(c.T)));
    const tips = tooltips(html, 'p-alive-matrix');
    // Customers who repeated: BG/NBD P(alive) = 1 / (1 + a/(b+x−1) ((α+T)/(α+t_x))^(r+x)) (Fader, Hardie & Lee 2005, eq. 11).
    let checked = 0;
    for (const tip of tips) {
      const m = /^(\d+) repeat purchases, the last [\d.]+ weeks ago \(recency ([\d.]+)\): P\(alive\) ([\d.]+)$/.exec(tip);
      if (!m) continue;
      const [x, tx] = [Number(m[1]), Number(m[2])];
      const recency = (T * Math.round((tx / T) * 20)) / 20;
      const p = 1 / (1 + (a / (b + x - 1)) * ((alpha + T) / (alpha + recency)) ** (r + x));
      expect(Number(m[3]), tip).toBeCloseTo(p, 3);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(20 * 19);
    expect(tips).toContain(`No repeat purchase, first purchase ${Math.round(T)} weeks ago: P(alive) 1.000`);
    const expected = tooltips(html, 'frequency-recency-matrix');
    expect(expected).toHaveLength(tips.length);
    expect(expected.every((t) => /: expected purchases in 12 months \d+\.\d\d$/.test(t))).toBe(true);
  });

  it('shows the runs across the history: customers, revenue, segments per run', () => {
    const tips = tooltips(html, 'history-kpis');
    for (const [i, asOf] of AS_OF.entries()) {
      const run = i + 1;
      const revenue = customers[i].reduce((s, c) => s + Math.round(Number(c.revenue) * 100), 0) / 100;
      expect(tips).toContain(`Run ${run} (as of ${asOf}): customers ${customers[i].length.toLocaleString('en-US')}`);
      expect(tips).toContain(`Run ${run} (as of ${asOf}): revenue ${money(revenue)}`);
      const meanPAlive = customers[i].reduce((s, c) => s + Number(c.p_alive), 0) / customers[i].length;
      expect(tips).toContain(`Run ${run} (as of ${asOf}): mean p(alive) ${meanPAlive.toFixed(3)}`);
    }
    const segments = tooltips(html, 'history-segments');
    for (const [i] of AS_OF.entries()) {
      const counts = new Map<string, number>();
      for (const c of customers[i]) counts.set(c.rfm_segment, (counts.get(c.rfm_segment) ?? 0) + 1);
      for (const [segment, n] of counts) {
        const share = ((n / customers[i].length) * 100).toFixed(1);
        expect(segments).toContain(`Run ${i + 1}: ${segment}, ${n.toLocaleString('en-US')} customers (${share}%)`);
      }
    }
    expect(html).toMatch(/<tr class="current"><th scope="row">#2<\/th><td>1998-06-30<\/td><td>BG\/NBD<\/td><td class="num">2,357<\/td>/);
  });

  it('says why the holdout charts are missing (these runs had no holdout)', () => {
    for (const name of ['calibration-holdout', 'tracking']) {
      expect(html).toMatch(new RegExp(`data-chart-missing="${name}">[\\s\\S]*?This run had no holdout`));
    }
  });

  it.skipIf(skipBrowser !== null)('opens in headless Chromium with no errors or requests, every chart drawn', async () => {
    const shot = path.join(dir, 'screenshots', 'report.png');
    const result = await checkReportInBrowser(path.join(dir, 'report.html'), shot);
    expect(result.consoleErrors).toEqual([]);
    expect(result.failedRequests).toEqual([]);
    expect(result.requests).toHaveLength(1);
    expect(result.charts.map((c) => c.name)).toEqual([
      'rfm-heatmap',
      'segments',
      'pareto',
      'clv',
      'lifecycle',
      'clusters',
      'migration',
      'period-transactions',
      'p-alive',
      'p-alive-matrix',
      'frequency-recency-matrix',
      'history-kpis',
      'history-segments',
      'history-stages',
    ]);
    for (const chart of result.charts) expect(chart.marks, chart.name).toBeGreaterThan(15);
  }, 60_000);
});

describe('crm backtest --report on CDNOW (calibration to 1997-09-30, holdout to 1998-06-30)', () => {
  let dir: string;
  let html: string;
  let result: any;
  /** Calibration customers' holdout purchase days per week (1..39), counted here. */
  const weekly = new Array<number>(40).fill(0);

  beforeAll(async () => {
    dir = await tempDir('crm-backtest-report-');
    const cli = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--out', path.join(dir, 'out'), '--report', path.join(dir, 'backtest.html'), '--quiet']);
    expect(cli.code, cli.stderr).toBe(0);
    html = await readFile(path.join(dir, 'backtest.html'), 'utf8');
    result = await readJson(path.join(dir, 'out', 'backtest.json'));
    const end = Date.parse('1997-09-30');
    for (const d of (await purchaseDays()).values()) {
      if (![...d.keys()].some((day) => day <= end)) continue;
      for (const [day, amount] of d) if (day > end && amount >= 0) weekly[Math.floor((day - end - DAY) / (7 * DAY)) + 1]++;
    }
  }, 120_000);

  it('adds the weekly tracking curve to the backtest result: cumulative, ending at the totals', () => {
    expect(result.tracking).toHaveLength(39);
    let cumulative = 0;
    result.tracking.forEach((t: any, i: number) => {
      cumulative += weekly[i + 1];
      expect([t.week, t.day, t.actual]).toEqual([i + 1, 7 * (i + 1), cumulative]);
      if (i > 0) expect(t.expected).toBeGreaterThan(result.tracking[i - 1].expected);
    });
    const last = result.tracking[38];
    expect(last.actual).toBe(result.actualTotal);
    // The per-customer predictions summed in SQL (byFrequency) and the per-pattern curve agree at the holdout end.
    expect(Math.abs(last.expected - result.predictedTotal) / result.predictedTotal).toBeLessThan(1e-9);
  });

  it('draws calibration vs holdout purchases and the tracking curve from those figures', () => {
    const calibration = tooltips(html, 'calibration-holdout');
    for (const b of result.byFrequency) {
      expect(calibration).toContain(`${b.frequency} calibration purchases (${b.customers.toLocaleString('en-US')} customers): ${(b.actual / b.customers).toFixed(3)} holdout purchases each, actual`);
      expect(calibration).toContain(`${b.frequency} calibration purchases (${b.customers.toLocaleString('en-US')} customers): ${b.predictedMean.toFixed(3)} holdout purchases each, predicted`);
    }
    const tracking = tooltips(html, 'tracking');
    expect(tracking).toContain(`Week 39 (day 273): ${result.actualTotal.toLocaleString('en-US')} repeat purchases so far, actual`);
    expect(tracking).toContain(`Week 39 (day 273): ${result.predictedTotal.toFixed(1)} repeat purchases so far, expected`);
    expect(html).toContain('<h1>crm backtest — BG/NBD, calibration to 1997-09-30, holdout to 1998-06-30</h1>');
  });

  it.skipIf(skipBrowser !== null)('opens in headless Chromium with no errors or requests', async () => {
    const check = await checkReportInBrowser(path.join(dir, 'backtest.html'), path.join(dir, 'screenshots', 'backtest.png'));
    expect(check.consoleErrors).toEqual([]);
    expect(check.failedRequests).toEqual([]);
    expect(check.requests).toHaveLength(1);
    expect(check.charts.map((c) => [c.name, c.marks > 40])).toEqual([
      ['calibration-holdout', true],
      ['tracking', true],
    ]);
  }, 60_000);
});


describe('crm backtest --report when the model predicts nothing', () => {
  it('writes the page with the reason instead of a model line', async () => {
    const dir = await tempDir('crm-backtest-report-');
    const input = path.join(dir, 'tx.csv');
    // Two customers (from tests/e2e/backtest.test.ts): BG/NBD's a runs off and the fit does not converge.
    await writeFile(input, 'customer_id,order_date,amount\nA,2024-01-01,10\nA,2024-01-02,20\nB,2024-01-03,5\nA,2024-03-01,10\nB,2024-03-05,7\n');
    const page = path.join(dir, 'backtest.html');
    const cli = await runCli(['backtest', input, '--calibration-end', '2024-01-31', '--report', page, '--quiet']);
    expect(cli.code, cli.stderr).toBe(0);
    const html = await readFile(page, 'utf8');
    for (const name of ['calibration-holdout', 'tracking']) {
      expect(html).toMatch(new RegExp(`data-chart-missing="${name}">[\\s\\S]*?The model predicted nothing for this holdout`));
    }
    expect(html).toMatch(/<p class="warning">bgnbd fit did not converge \(.+\); no purchases are predicted<\/p>/);
  }, 60_000);
});

describe('crm report on two CDNOW runs, the second as of 1998-06-30 with a holdout from 1997-09-30 (--holdout-days 273)', () => {
  let dir: string;
  let html: string;
  let holdout: any;
  let backtest: any;

  beforeAll(async () => {
    dir = await tempDir('crm-report-holdout-');
    const db = path.join(dir, 'crm.duckdb');
    const first = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', path.join(dir, 'run1'), '--db', db, '--format', 'csv', '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const second = await runCli(['score', CDNOW_CSV, '--as-of', '1998-06-30', '--holdout-days', '273', '--out', path.join(dir, 'run2'), '--db', db, '--format', 'csv', '--quiet']);
    expect(second.code, second.stderr).toBe(0);
    holdout = (await readJson(path.join(dir, 'run2', 'summary.json'))).clv.holdout;
    // The same split through crm backtest: what the run's holdout must agree with.
    const cli = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--out', path.join(dir, 'backtest'), '--quiet']);
    expect(cli.code, cli.stderr).toBe(0);
    backtest = await readJson(path.join(dir, 'backtest', 'backtest.json'));
    const report = await runCli(['report', '--db', db, '--out', path.join(dir, 'report.html'), '--quiet']);
    expect(report.code, report.stderr).toBe(0);
    html = await readFile(path.join(dir, 'report.html'), 'utf8');
  }, 240_000);

  it("records the holdout in the run's summary: 273 days from 1997-09-30, the backtest's figures", () => {
    expect([holdout.calibrationEnd, holdout.holdoutEnd, holdout.days]).toEqual(['1997-09-30', '1998-06-30', 273]);
    expect(holdout.byFrequency).toEqual(backtest.byFrequency);
    expect(holdout.tracking).toEqual(backtest.tracking);
    expect(holdout.actualTotal).toBe(backtest.actualTotal);
  });

  it('draws calibration vs holdout purchases and the tracking curve of that holdout', () => {
    expect(html).not.toContain('This run had no holdout');
    const calibration = tooltips(html, 'calibration-holdout');
    for (const b of holdout.byFrequency) {
      expect(calibration).toContain(`${b.frequency} calibration purchases (${b.customers.toLocaleString('en-US')} customers): ${(b.actual / b.customers).toFixed(3)} holdout purchases each, actual`);
    }
    const tracking = tooltips(html, 'tracking');
    expect(tracking).toContain(`Week 39 (day 273): ${holdout.actualTotal.toLocaleString('en-US')} repeat purchases so far, actual`);
    expect(tracking).toContain(`Week 39 (day 273): ${holdout.predictedTotal.toFixed(1)} repeat purchases so far, expected`);
  });

  it.skipIf(skipBrowser !== null)('opens in headless Chromium with no errors or requests, the holdout charts among the drawn ones', async () => {
    const check = await checkReportInBrowser(path.join(dir, 'report.html'), path.join(dir, 'screenshots', 'report.png'));
    expect(check.consoleErrors).toEqual([]);
    expect(check.failedRequests).toEqual([]);
    expect(check.requests).toHaveLength(1);
    const names = check.charts.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['period-transactions', 'p-alive', 'p-alive-matrix', 'frequency-recency-matrix', 'calibration-holdout', 'tracking', 'history-kpis']));
    for (const chart of check.charts) expect(chart.marks, chart.name).toBeGreaterThan(15);
  }, 60_000);
});
