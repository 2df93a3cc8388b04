/**
 * crm backtest when the purchase model does not converge: it writes its
 * files, with the predictions missing (null, empty, n/a) rather than
 * guessed, and says why in the log and in its output. It crashed with
 * "Cannot read properties of null (reading 'toFixed')" and wrote nothing.
 * Except BG/NBD at its a, b → ∞ boundary: it predicts from the limit.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedDropoutModel, fixedDropoutTransactions, isoDay } from '../fixedDropout.js';
import { CDNOW_CSV, fileHashes, readJson, relative, runCli, tempDir } from '../helpers.js';

const csv = (rows: string[]) => `customer_id,order_date,amount\n${rows.join('\n')}\n`;

/** Runs crm backtest on `rows` with the calibration to 31 January 2024 and the holdout to the last row's day, unless given. */
async function backtest(rows: string[], calibrationEnd = '2024-01-31', holdoutEnd?: string) {
  const dir = await tempDir();
  const input = path.join(dir, 'tx.csv');
  await writeFile(input, csv(rows));
  const out = path.join(dir, 'out');
  const holdout = holdoutEnd ? ['--holdout-end', holdoutEnd] : [];
  const result = await runCli(['backtest', input, '--calibration-end', calibrationEnd, ...holdout, '--time-unit', 'week', '--out', out]);
  const warnings = result.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.level === 40).map((l) => l.msg as string);
  return { result, out, warnings };
}

describe('crm backtest with a purchase model that does not converge', () => {
  it('writes its files without predictions when BG/NBD parameters run away (NaN predictions: the crash)', async () => {
    // Two customers: A buys on two days, B on one; each once in the holdout. BG/NBD's a runs off (a ≈ 1e5, b ≈ 1e-5).
    const { result, out, warnings } = await backtest(['A,2024-01-01,10', 'A,2024-01-02,20', 'B,2024-01-03,5', 'A,2024-03-01,10', 'B,2024-03-05,7']);
    expect(result.code, result.stderr).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^bgnbd fit did not converge \(.+\); no purchases are predicted$/)]);
    const report = await readJson(path.join(out, 'backtest.json'));
    expect(report.fit.converged).toBe(false);
    expect(report.warnings).toEqual(warnings);
    expect([report.customers, report.actualTotal, report.predictedTotal, report.mae]).toEqual([2, 2, null, null]);
    expect(report.byFrequency).toEqual([
      { frequency: '0', customers: 1, actual: 1, predicted: null, actualMean: 1, predictedMean: null },
      { frequency: '1', customers: 1, actual: 1, predicted: null, actualMean: 1, predictedMean: null },
    ]);
    expect(await readFile(path.join(out, 'backtest.csv'), 'utf8')).toBe('frequency,customers,actual,predicted,actual_mean,predicted_mean\n0,1,1,,1,\n1,1,1,,1,\n');
    expect(result.stdout).toMatch(/actual purchases 2 +predicted n\/a +MAE n\/a\nwarning: bgnbd fit did not converge \(.+\); no purchases are predicted\n/);
  });

  it('predicts nothing rather than from the starting values when no customer repeated (a fit that cannot run)', async () => {
    const { result, out, warnings } = await backtest(['A,2024-01-01,10', 'B,2024-01-02,20', 'C,2024-01-03,5', 'A,2024-03-01,10', 'B,2024-03-05,7']);
    expect(result.code, result.stderr).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^bgnbd fit did not converge \(BG\/NBD not fitted: no repeat purchases.*\); no purchases are predicted$/)]);
    const report = await readJson(path.join(out, 'backtest.json'));
    expect(report.byFrequency).toEqual([{ frequency: '0', customers: 3, actual: 2, predicted: null, actualMean: 2 / 3, predictedMean: null }]);
    expect([report.predictedTotal, report.mae]).toEqual([null, null]);
  });
});

describe('crm backtest when everyone has the same dropout probability (BG/NBD a, b → ∞)', () => {
  const CALIBRATION_END = '2024-06-30';
  const HOLDOUT_DAYS = 182;
  const truth = { r: 0.8, alpha: 10, p: 0.12 };
  // With no spread in p to find, about half the seeded samples fit a, b → ∞; seed 2's calibration period is one.
  const lines = fixedDropoutTransactions(3000, 2, truth, CALIBRATION_END, HOLDOUT_DAYS);

  /** Per customer, by hand from the lines: calibration (x, t_x, T) in weeks and purchase days in the holdout. */
  function customersByHand() {
    const end = Date.parse(CALIBRATION_END);
    const byId = new Map<string, Set<number>>();
    for (const line of lines) {
      const [id, day] = line.split(',');
      if (!byId.has(id)) byId.set(id, new Set());
      byId.get(id)!.add(Date.parse(day));
    }
    return [...byId.values()].map((set) => {
      const days = [...set].sort((a, b) => a - b);
      const calibration = days.filter((d) => d <= end);
      const weeks = (ms: number) => ms / 86_400_000 / 7;
      return {
        x: calibration.length - 1,
        tx: weeks(calibration[calibration.length - 1] - calibration[0]),
        T: weeks(end - calibration[0]),
        actual: days.length - calibration.length,
      };
    });
  }

  it('predicts from the fixed-dropout limit, with the boundary warning, as crm score does', async () => {
    const { result, out, warnings } = await backtest(lines, CALIBRATION_END, isoDay(CALIBRATION_END, HOLDOUT_DAYS));
    expect(result.code, result.stderr).toBe(0);
    const BOUNDARY_WARNING = /^BG\/NBD: a and b ran to infinity with a\/\(a\+b\) = 0\.1\d\d: no dropout heterogeneity; predictions use the fixed-dropout limit$/;
    expect(warnings).toEqual([expect.stringMatching(BOUNDARY_WARNING)]);
    const report = await readJson(path.join(out, 'backtest.json'));
    expect(report.warnings).toEqual(warnings);
    expect(report.fit.converged).toBe(false);
    expect(report.fit.boundary.message).toBe(warnings[0]);
    const p = report.fit.boundary.dropoutProbability;
    expect(Math.abs(p - truth.p)).toBeLessThan(0.03);
    expect(report.holdoutLength).toBe(HOLDOUT_DAYS / 7);

    // E[X(t) | x, t_x, T] of the limit with the fitted r, α, p, per customer, summed per calibration frequency (7 = 7+).
    const model = fixedDropoutModel({ r: report.fit.params.r, alpha: report.fit.params.alpha, p });
    const buckets = new Map<number, { customers: number; actual: number; predicted: number }>();
    let absError = 0;
    const customers = customersByHand();
    for (const c of customers) {
      const predicted = model.expectedPurchases(HOLDOUT_DAYS / 7, c.x, c.tx, c.T);
      const bucket = buckets.get(Math.min(c.x, 7)) ?? { customers: 0, actual: 0, predicted: 0 };
      buckets.set(Math.min(c.x, 7), { customers: bucket.customers + 1, actual: bucket.actual + c.actual, predicted: bucket.predicted + predicted });
      absError += Math.abs(c.actual - predicted);
    }
    const expected = [...buckets].sort(([a], [b]) => a - b);
    expect(report.byFrequency.map((b: { frequency: string }) => b.frequency)).toEqual(expected.map(([x]) => (x === 7 ? '7+' : String(x))));
    expected.forEach(([x, e], i) => {
      const got = report.byFrequency[i];
      expect([got.customers, got.actual], `frequency ${x}`).toEqual([e.customers, e.actual]);
      expect(relative(got.predicted, e.predicted), `frequency ${x}: ${got.predicted} vs ${e.predicted}`).toBeLessThan(1e-9);
    });
    const predictedTotal = expected.reduce((s, [, e]) => s + e.predicted, 0);
    expect(report.customers).toBe(3000);
    expect(relative(report.predictedTotal, predictedTotal)).toBeLessThan(1e-9);
    expect(relative(report.mae, absError / customers.length)).toBeLessThan(1e-9);
    expect(result.stdout).toMatch(/\nwarning: BG\/NBD: a and b ran to infinity with a\/\(a\+b\) = 0\.1\d\d: no dropout heterogeneity; predictions use the fixed-dropout limit\n/);
    expect(result.stdout).not.toMatch(/n\/a/);
  }, 120_000);
});

describe('crm backtest on CDNOW, run again', () => {
  it('writes byte-identical backtest.json and backtest.csv every time (its sums of doubles changed in the last bits from run to run)', async () => {
    const dir = await tempDir();
    const hashes: Record<string, string>[] = [];
    // Three runs of six on main gave three different backtest.json files.
    for (const run of ['a', 'b', 'c', 'd']) {
      const out = path.join(dir, run);
      const result = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--out', out, '-q']);
      expect(result.code, result.stderr).toBe(0);
      hashes.push(await fileHashes(out, ['backtest.json', 'backtest.csv']));
    }
    expect(new Set(hashes.map((h) => JSON.stringify(h))).size).toBe(1);
  });
});
