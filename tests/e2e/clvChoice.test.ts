/**
 * crm score --clv-model auto, --holdout-days and the CLV intervals, through
 * the real CLI on the CDNOW sample. Expected values come from the raw file and
 * the published fits, not from crm's outputs.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as bgNbd from '../../src/models/bgNbd.js';
import { CDNOW_CSV, logLines, readJson, runCli, sha256, tempDir } from '../helpers.js';

/** customers.csv as rows of named text fields. */
async function readCsv(file: string): Promise<{ header: string[]; rows: Record<string, string>[] }> {
  const [head, ...lines] = (await readFile(file, 'utf8')).trim().split('\n');
  const header = head.split(',');
  // CDNOW's cluster labels hold no commas; the numeric columns come first anyway.
  return { header, rows: lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v]))) };
}

async function score(args: string[], input = CDNOW_CSV) {
  const out = path.join(await tempDir('crm-clv-choice-'), 'out');
  const result = await runCli(['score', input, '--format', 'csv', '--no-db', '--no-kmeans', '--out', out, ...args]);
  expect(result.code, result.stderr).toBe(0);
  return { out, result, summary: await readJson(path.join(out, 'summary.json')), customers: path.join(out, 'customers.csv') };
}

/** Per customer from the raw file: purchase days (net amount ≥ 0) as ISO dates. */
async function purchaseDays(): Promise<Map<string, string[]>> {
  const byDay = new Map<string, Map<string, number>>();
  const [, ...lines] = (await readFile(CDNOW_CSV, 'utf8')).trim().split('\n');
  for (const line of lines) {
    const [id, day, amount] = line.split(',');
    let days = byDay.get(id);
    if (!days) byDay.set(id, (days = new Map()));
    days.set(day, (days.get(day) ?? 0) + Number(amount));
  }
  return new Map([...byDay].map(([id, days]) => [id, [...days].filter(([, a]) => a >= 0).map(([d]) => d).sort()]));
}
const weeksBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 86_400_000 / 7;

describe('crm score --clv-model auto on CDNOW (as of 1997-09-30)', () => {
  let run: Awaited<ReturnType<typeof score>>;
  beforeAll(async () => {
    run = await score(['--as-of', '1997-09-30', '--clv-model', 'auto']);
  }, 60_000);

  it('records all three fits, each candidate\'s AIC = 2k − 2 LL, and keeps the lowest', () => {
    const clv = run.summary.clv;
    // The published fits (BTYD, lifetimes).
    expect(clv.bgnbd.params.r).toBeCloseTo(0.2426, 3);
    expect(clv.mbgnbd.params.a).toBeCloseTo(0.891, 3);
    expect(clv.paretonbd.params.s).toBeCloseTo(0.6062, 3);
    const s = clv.selection;
    expect(s.method).toBe('aic');
    expect(s.candidates.map((c: { model: string }) => c.model)).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
    for (const c of s.candidates) {
      expect(c.logLikelihood).toBe(clv[c.model].logLikelihood);
      expect(c.parameters).toBe(4);
      expect(c.aic).toBeCloseTo(8 - 2 * clv[c.model].logLikelihood, 9);
      expect(c.converged).toBe(true);
      expect(c).not.toHaveProperty('holdoutError');
    }
    // Published log-likelihoods: BG/NBD −9582.43, MBG/NBD −9582.14, Pareto/NBD −9594.98: MBG/NBD has the lowest AIC.
    expect(s.chosen).toBe('mbgnbd');
    expect(clv.model).toBe('mbgnbd');
    expect(s.reason).toMatch(/^mbgnbd has the lowest AIC, 19172\.3 against bgnbd 19172\.9, paretonbd 19198\.0\.$/);
  });

  it('logs the choice at info', () => {
    const line = logLines(run.result.stderr).find((l) => l.msg.startsWith('--clv-model auto:'));
    expect(line).toMatchObject({ level: 30, model: 'mbgnbd', method: 'aic' });
    expect(line.msg).toBe(`--clv-model auto: ${run.summary.clv.selection.reason}`);
  });

  it('gives one-time buyers MBG/NBD\'s P(alive) < 1, the chosen model\'s', async () => {
    const { rows } = await readCsv(run.customers);
    const { r, alpha, a, b } = run.summary.clv.mbgnbd.params;
    const once = rows.filter((row) => row.frequency === '0');
    expect(once.length).toBe(1411);
    for (const row of once.slice(0, 50)) expect(Number(row.p_alive)).toBeCloseTo(1 / (1 + (a / b) * ((alpha + Number(row.T)) / alpha) ** r), 9);
  });

  it('puts clv_low and clv_high right after clv, with clv_low ≤ clv ≤ clv_high for every customer', async () => {
    const { header, rows } = await readCsv(run.customers);
    const at = header.indexOf('clv');
    expect(header.slice(at, at + 4)).toEqual(['clv', 'clv_low', 'clv_high', 'lifecycle_stage']);
    expect(rows).toHaveLength(2357);
    let wider = 0;
    for (const row of rows) {
      const [low, clv, high] = [row.clv_low, row.clv, row.clv_high].map(Number);
      expect(low).toBeLessThanOrEqual(clv);
      expect(clv).toBeLessThanOrEqual(high);
      if (high > low) wider++;
    }
    expect(wider).toBe(2357);
  });

  it('puts the totals with their 90% intervals in summary.json: Σ p_alive, Σ expected_purchases and Σ clv of the rows', async () => {
    const { rows } = await readCsv(run.customers);
    const i = run.summary.clv.intervals;
    expect([i.level, i.draws, i.seed]).toEqual([0.9, 200, 42]);
    const sum = (name: string) => rows.reduce((s, row) => s + Number(row[name]), 0);
    for (const [total, column] of [
      ['expectedPurchases', 'expected_purchases'],
      ['aliveCustomers', 'p_alive'],
      ['clv', 'clv'],
    ]) {
      const t = i.totals[total];
      expect(t.estimate).toBeCloseTo(sum(column), 4);
      expect(t.low).toBeLessThan(t.estimate);
      expect(t.high).toBeGreaterThan(t.estimate);
      // Wide enough to mean something, narrow enough for 2,357 customers.
      expect((t.high - t.low) / t.estimate).toBeGreaterThan(0.02);
      expect((t.high - t.low) / t.estimate).toBeLessThan(0.6);
    }
  });

  it('the same seed gives byte-identical customers.csv; another seed moves the intervals, not the estimates', async () => {
    const again = await score(['--as-of', '1997-09-30', '--clv-model', 'auto']);
    expect(await sha256(again.customers)).toBe(await sha256(run.customers));
    const other = await score(['--as-of', '1997-09-30', '--clv-model', 'auto', '--seed', '7']);
    const [a, b] = [(await readCsv(run.customers)).rows, (await readCsv(other.customers)).rows];
    expect(b.map((r) => r.clv)).toEqual(a.map((r) => r.clv));
    expect(b.filter((r, k) => r.clv_low !== a[k].clv_low).length).toBeGreaterThan(2000);
    expect(other.summary.clv.intervals.seed).toBe(7);
  }, 60_000);
});

describe('crm score --holdout-days', () => {
  it('fits on the calibration period, compares with the holdout (RMSE of the customers\' holdout purchase days), then refits on all', async () => {
    const { summary } = await score(['--as-of', '1998-06-30', '--holdout-days', '273', '--clv-draws', '20']);
    const h = summary.clv.holdout;
    expect([h.calibrationEnd, h.holdoutEnd, h.days, h.model]).toEqual(['1997-09-30', '1998-06-30', 273, 'bgnbd']);
    // Fitted on the standard CDNOW calibration period: the published BG/NBD.
    expect(h.fit.params.r).toBeCloseTo(0.2426, 3);
    expect(h.fit.params.alpha).toBeCloseTo(4.4137, 2);
    // The scores use the refit on everything up to 1998-06-30.
    expect(Math.abs(summary.clv.bgnbd.params.r - h.fit.params.r)).toBeGreaterThan(1e-3);
    expect(summary.clv).not.toHaveProperty('selection');

    // From the raw file: each calibration customer's purchase days in the holdout, and the calibration fit's prediction.
    const days = await purchaseDays();
    let squared = 0;
    let actualTotal = 0;
    let customers = 0;
    for (const list of days.values()) {
      const calibration = list.filter((d) => d <= '1997-09-30');
      if (calibration.length === 0) continue;
      customers++;
      const actual = list.filter((d) => d > '1997-09-30' && d <= '1998-06-30').length;
      const x = calibration.length - 1;
      const predicted = bgNbd.conditionalExpectedPurchases(h.fit.params, 273 / 7, x, weeksBetween(calibration[0], calibration[x]), weeksBetween(calibration[0], '1997-09-30'));
      squared += (actual - predicted) ** 2;
      actualTotal += actual;
    }
    expect(h.customers).toBe(customers);
    expect(h.actualTotal).toBe(actualTotal);
    expect(h.rmse).toBeCloseTo(Math.sqrt(squared / customers), 9);
    expect(h.error).toBe(h.rmse);
    expect(h.byFrequency.map((b: { customers: number }) => b.customers).reduce((s: number, c: number) => s + c, 0)).toBe(customers);
  }, 60_000);

  it('with --clv-model auto chooses by the holdout RMSE, each candidate with its own', async () => {
    const { summary } = await score(['--as-of', '1998-06-30', '--holdout-days', '273', '--clv-model', 'auto', '--clv-draws', '20']);
    const s = summary.clv.selection;
    expect(s.method).toBe('holdout');
    const errors = s.candidates.map((c: { holdoutError: number }) => c.holdoutError);
    expect(errors.every((e: number) => e > 0)).toBe(true);
    const best = s.candidates[errors.indexOf(Math.min(...errors))].model;
    expect(s.chosen).toBe(best);
    expect(summary.clv.model).toBe(best);
    expect(summary.clv.holdout.model).toBe(best);
    expect(summary.clv.holdout.error).toBe(Math.min(...errors));
    expect(s.reason).toMatch(new RegExp(`^${best} has the lowest holdout RMSE, `));
  }, 60_000);

  it('a holdout that leaves no customer before it is an input error', async () => {
    const out = path.join(await tempDir('crm-clv-choice-'), 'out');
    const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--holdout-days', '400', '--no-db', '--out', out]);
    expect(result.code).toBe(1);
    expect(logLines(result.stderr).at(-1)?.msg).toMatch(/--holdout-days 400: no transactions on or before the calibration end 1996-08-26/);
  });
});

describe('CLV intervals where there is no CLV', () => {
  it('a customer with refunds only has null clv, and a null interval', async () => {
    const dir = await tempDir('crm-clv-choice-');
    const input = path.join(dir, 'tx.csv');
    await writeFile(input, `${(await readFile(CDNOW_CSV, 'utf8')).trimEnd()}\n99999,1997-05-01,-10.00\n`);
    const { customers } = await score(['--as-of', '1997-09-30', '--clv-draws', '20'], input);
    const { rows } = await readCsv(customers);
    const refunds = rows.find((r) => r.customer_id === '99999')!;
    expect([refunds.clv, refunds.clv_low, refunds.clv_high]).toEqual(['', '', '']);
  }, 60_000);

  it('--clv-draws 0: no intervals, the columns empty', async () => {
    const { customers, summary } = await score(['--as-of', '1997-09-30', '--clv-draws', '0']);
    expect(summary.clv.intervals).toBeNull();
    const { rows } = await readCsv(customers);
    expect(rows.every((r) => r.clv !== '' && r.clv_low === '' && r.clv_high === '')).toBe(true);
  }, 60_000);
});

describe('crm backtest --clv-model auto', () => {
  it('backtests the three models and reports the one with the lowest holdout RMSE, the choice in backtest.json and on screen', async () => {
    const out = path.join(await tempDir('crm-clv-choice-'), 'bt');
    const result = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--clv-model', 'auto', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const report = await readJson(path.join(out, 'backtest.json'));
    const s = report.selection;
    expect(s.method).toBe('holdout');
    expect(s.candidates.map((c: { model: string }) => c.model)).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
    const errors = s.candidates.map((c: { holdoutError: number }) => c.holdoutError);
    expect(report.model).toBe(s.candidates[errors.indexOf(Math.min(...errors))].model);
    expect(report.rmse).toBe(Math.min(...errors));
    // BG/NBD's fit on this calibration period is the published one: its log-likelihood and AIC.
    expect(s.candidates[0].logLikelihood).toBeCloseTo(-9582.43, 2);
    expect(s.candidates[0].aic).toBeCloseTo(8 + 2 * 9582.429, 2);
    expect(result.stdout).toContain(`--clv-model auto: ${s.reason}\n`);
  }, 60_000);
});
