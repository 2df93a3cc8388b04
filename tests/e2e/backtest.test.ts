/**
 * crm backtest when the purchase model does not converge: it writes its
 * files, with the predictions missing (null, empty, n/a) rather than
 * guessed, and says why in the log and in its output. It crashed with
 * "Cannot read properties of null (reading 'toFixed')" and wrote nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJson, runCli, tempDir } from '../helpers.js';

const csv = (rows: string[]) => `customer_id,order_date,amount\n${rows.join('\n')}\n`;

/** Runs crm backtest on `rows` with the calibration to 31 January 2024 and the holdout to the last row's day. */
async function backtest(rows: string[]) {
  const dir = await tempDir();
  const input = path.join(dir, 'tx.csv');
  await writeFile(input, csv(rows));
  const out = path.join(dir, 'out');
  const result = await runCli(['backtest', input, '--calibration-end', '2024-01-31', '--time-unit', 'week', '--out', out]);
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
