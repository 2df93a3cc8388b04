/**
 * A row dated in 2099 (more than a day after today, on the real clock) is a
 * reject, not the default as-of: crm score and crm backtest, as a user runs them.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, fixture, lastMessage, parseCsv, readJson, runCli, tempDir } from '../helpers.js';

const FUTURE_DATES = fixture('bad', 'future_dates.csv');
const LIGHT = ['--no-db', '--format', 'csv', '--no-clv', '--no-kmeans'];

describe('crm score with a row dated 2099', () => {
  it('rejects it at its line and scores as of the latest real date', async () => {
    const out = await tempDir();
    const result = await runCli(['score', FUTURE_DATES, '--out', out, ...LIGHT]);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.run.asOf).toBe('2024-03-15');
    expect(summary.rows).toEqual({ read: 5, accepted: 4, rejected: 1, excluded: 0 });
    const rejects = parseCsv(await readFile(path.join(out, 'rejects.csv'), 'utf8'));
    expect(rejects).toEqual([{ source: FUTURE_DATES, line: '5', reason: 'date in the future', customer_id: 'F1', order_date: '2099-01-01', amount: '30', raw_line: '' }]);
    // F1 last bought on 1 March (its 2099 row is not a purchase), F2 on 15 March: 14 and 0 days before the as-of.
    const customers = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8'));
    expect(customers.map((c) => [c.customer_id, c.last_purchase, c.recency_days, c.revenue])).toEqual([
      ['F1', '2024-03-01', '14', '25.0'],
      ['F2', '2024-03-15', '0', '45.0'],
    ]);
    expect(result.stderr).toMatch(/some rows were rejected/);
  });

  it('rejects it with --as-of in the past too, which still excludes the rows after it', async () => {
    const out = await tempDir();
    const result = await runCli(['score', FUTURE_DATES, '--as-of', '2024-03-01', '--out', out, ...LIGHT]);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.run.asOf).toBe('2024-03-01');
    // F2's 15 March is after the as-of: accepted and excluded.
    expect(summary.rows).toEqual({ read: 5, accepted: 4, rejected: 1, excluded: 1 });
  });
});

/** A day `days` after today on the machine's clock, in UTC (the default --timezone), as YYYY-MM-DD. */
const daysFromToday = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('crm score with an --as-of in the future', () => {
  it('refuses --as-of 2099-01-01 (exit 2) naming the flag and today, before any data is read', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    // The input does not exist: the option is refused before the input is looked at.
    const result = await runCli(['score', path.join(dir, 'missing.csv'), '--as-of', '2099-01-01', '--out', out]);
    expect(result.code).toBe(2);
    expect(lastMessage(result.stderr)).toBe(
      `--as-of 2099-01-01 is in the future (today is ${daysFromToday(0)} in UTC): give a day that has passed, or leave it out for the latest transaction date`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses asOf in a config file the same way, naming the file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'crm.config.json');
    const out = path.join(dir, 'out');
    await writeFile(file, JSON.stringify({ inputs: [FUTURE_DATES], out, asOf: daysFromToday(2) }));
    const result = await runCli(['score', '--config', file, ...LIGHT]);
    expect(result.code).toBe(2);
    expect(lastMessage(result.stderr)).toBe(
      `asOf in ${file} ${daysFromToday(2)} is in the future (today is ${daysFromToday(0)} in UTC): give a day that has passed, or leave it out for the latest transaction date`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('accepts tomorrow, as the rows dated tomorrow are accepted (an export from a time zone ahead)', async () => {
    const out = await tempDir();
    const tomorrow = daysFromToday(1);
    const result = await runCli(['score', FUTURE_DATES, '--as-of', tomorrow, '--out', out, ...LIGHT]);
    expect(result.code, result.stderr).toBe(0);
    expect((await readJson(path.join(out, 'summary.json'))).run.asOf).toBe(tomorrow);
  });
});

describe('crm backtest with a row dated 2099', () => {
  it('rejects it, says so, and ends the holdout at the latest real date', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'cdnow_and_2099.csv');
    await writeFile(input, `${await readFile(CDNOW_CSV, 'utf8')}99999,2099-01-01,10.00\n`);
    const out = path.join(dir, 'out');
    const result = await runCli(['backtest', input, '--calibration-end', '1997-09-30', '--time-unit', 'week', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/calibration to 1997-09-30, holdout to 1998-06-30 /);
    const warning = result.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => /rows rejected/.test(l.msg));
    expect(warning).toMatchObject({ rejected: 1, reasons: { 'date in the future': 1 } });
    // The CDNOW holdout as without the row: 1,882 purchases by the 2,357 customers.
    const report = await readJson(path.join(out, 'backtest.json'));
    expect([report.holdoutEnd, report.customers, report.actualTotal]).toEqual(['1998-06-30', 2357, 1882]);
  });

  it('refuses a --holdout-end in the future (exit 2) before reading any data', async () => {
    const dir = await tempDir();
    // The input does not exist: the option is refused before the input is looked at.
    const result = await runCli(['backtest', path.join(dir, 'missing.csv'), '--calibration-end', '1997-09-30', '--holdout-end', '2099-01-01']);
    expect(result.code).toBe(2);
    expect(lastMessage(result.stderr)).toMatch(/^--holdout-end 2099-01-01 is in the future \(today is \d{4}-\d\d-\d\d in UTC\): give a day that has passed/);
  });
});
