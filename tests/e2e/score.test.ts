import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, expectPublishedFit, fixture, lastMessage, messages, readJson, runCli, tempDir, withEngine } from '../helpers.js';


/** Rows of the CDNOW sample dated after the calibration end, counted from the file itself. */
async function rowsAfter(file: string, date: string): Promise<number> {
  const lines = (await readFile(file, 'utf8')).trim().split('\n').slice(1);
  return lines.filter((l) => l.split(',')[1]! > date).length;
}

describe('crm score on the CDNOW sample (end to end)', () => {
  it('scores 2,357 customers from 6,919 rows and reproduces the published BG/NBD and Gamma-Gamma fits', async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--time-unit', 'week', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.rows).toEqual({ read: 6919, accepted: 6919, rejected: 0, excluded: await rowsAfter(CDNOW_CSV, '1997-09-30') });
    expect(summary.rows.excluded).toBe(1959);
    expect(summary.customers).toBe(2357);
    expectPublishedFit('bgnbd', summary.clv.bgnbd);
    expectPublishedFit('gammagamma', summary.clv.gammagamma);
    // The keys DESIGN §2 says scripts rely on, with the values this run must give them.
    expect(summary.run).toMatchObject({ id: 1, asOf: '1997-09-30', options: expect.objectContaining({ asOf: '1997-09-30', inputs: [CDNOW_CSV] }) });
    const [started, finished] = [Date.parse(summary.run.startedAt), Date.parse(summary.run.finishedAt)];
    expect(summary.run.startedAt).toBe(new Date(started).toISOString());
    expect(summary.run.finishedAt).toBe(new Date(finished).toISOString());
    expect(finished).toBeGreaterThanOrEqual(started);
    expect(summary.rfm.method).toBe('quantile');
    expect(summary.clv).toMatchObject({ timeUnit: 'week', model: 'bgnbd' });
    expect(Object.keys(summary.timings).sort()).toEqual(['clusters', 'clv', 'features', 'history', 'lifecycle', 'load', 'rfm', 'write']);
    for (const [stage, seconds] of Object.entries(summary.timings)) expect(seconds, stage).toBeGreaterThanOrEqual(0);
    expect(Object.keys(summary.rfm.thresholds)).toEqual(['recency', 'frequency', 'monetary']);
    const files = await readdir(out);
    for (const f of ['customers.parquet', 'customers.csv', 'summary.json', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv', 'crm.duckdb']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
    expect(await readFile(path.join(out, 'rejects.csv'), 'utf8')).toBe('source,line,reason,customer_id,order_date,amount,raw_line\n');

    // The parquet table: one row per customer, valid cells, one segment each, ids as text.
    await withEngine(async (engine) => {
      const file = engine.dialect.quoteString(path.join(out, 'customers.parquet'));
      const facts = await engine.one<Record<string, number>>(
        `SELECT count(*)::INTEGER AS n, count(DISTINCT customer_id)::INTEGER AS ids,
                count(*) FILTER (WHERE NOT regexp_full_match(rfm_cell, '[1-5]{3}'))::INTEGER AS bad_cells,
                count(rfm_segment)::INTEGER AS segments, count(lifecycle_stage)::INTEGER AS stages, count(cluster)::INTEGER AS clusters,
                count(*) FILTER (WHERE customer_id = '00004')::INTEGER AS padded,
                count(*) FILTER (WHERE isnan(clv) OR isinf(clv) OR isnan(p_alive) OR isinf(expected_purchases))::INTEGER AS not_finite,
                count(clv)::INTEGER AS with_clv
         FROM read_parquet(${file})`,
      );
      expect(facts).toEqual({ n: 2357, ids: 2357, bad_cells: 0, segments: 2357, stages: 2357, clusters: 2357, padded: 1, not_finite: 0, with_clv: 2357 });
      const columns = (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${file})`)).map((c) => c.column_name);
      expect(columns.slice(0, 27)).toEqual([
        'customer_id', 'first_purchase', 'last_purchase', 'orders', 'revenue', 'avg_order_value', 'recency_days', 'tenure_days',
        'r_score', 'f_score', 'm_score', 'rfm_cell', 'rfm_segment', 'value_decile', 'frequency', 'recency', 'T', 'monetary_value',
        'p_alive', 'expected_purchases', 'expected_avg_value', 'clv', 'clv_low', 'clv_high', 'lifecycle_stage', 'cluster', 'cluster_label',
      ]);
      // Customers without repeat purchases get the population mean spend.
      const oneTimers = await engine.all<{ v: number }>(`SELECT DISTINCT round(expected_avg_value, 6) AS v FROM read_parquet(${file}) WHERE frequency = 0`);
      expect(oneTimers).toHaveLength(1);
      expect(oneTimers[0]!.v).toBeCloseTo(summary.clv.populationMeanSpend, 5);
      // Paper check: customer 00004 is x = 2, t_x = 30.43, T = 38.86 → P(alive) 0.7266.
      const c4 = await engine.one<{ p_alive: number; frequency: number }>(`SELECT p_alive, frequency FROM read_parquet(${file}) WHERE customer_id = '00004'`);
      expect(c4!.frequency).toBe(2);
      expect(c4!.p_alive).toBeCloseTo(0.7266, 4);
    });
  });

  it('gives the same customers table from YYYYMMDD dates and from the raw whitespace file', async () => {
    const [a, b, c] = [await tempDir(), await tempDir(), await tempDir()];
    const iso = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', a, '--format', 'csv']);
    const compact = await runCli(['score', fixture('cdnow', 'cdnow_yyyymmdd.csv'), '--as-of', '1997-09-30', '--out', b, '--format', 'csv']);
    const raw = await runCli(['score', fixture('cdnow', 'CDNOW_sample.txt'), '--customer-col', '1', '--date-col', '3', '--amount-col', '5', '--as-of', '1997-09-30', '--out', c, '--format', 'csv']);
    for (const r of [iso, compact, raw]) expect(r.code, r.stderr).toBe(0);
    const table = await readFile(path.join(a, 'customers.csv'), 'utf8');
    expect(await readFile(path.join(b, 'customers.csv'), 'utf8')).toBe(table);
    expect(await readFile(path.join(c, 'customers.csv'), 'utf8')).toBe(table);
  });

  it('fits Pareto/NBD to the published values with --clv-model paretonbd', async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--time-unit', 'week', '--clv-model', 'paretonbd', '--out', out, '--no-db', '--no-kmeans']);
    expect(result.code, result.stderr).toBe(0);
    expectPublishedFit('paretonbd', (await readJson(path.join(out, 'summary.json'))).clv.paretonbd);
  });

  it('fits MBG/NBD with --clv-model mbgnbd: the published parameters in weeks, and one-time buyers not all alive', async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--clv-model', 'mbgnbd', '--out', out, '--no-db', '--no-kmeans']);
    expect(result.code, result.stderr).toBe(0);
    const { clv } = await readJson(path.join(out, 'summary.json'));
    // The default time unit is the week, the unit of the published values.
    expect(clv).toMatchObject({ model: 'mbgnbd', timeUnit: 'week', available: true });
    expect(clv.bgnbd).toBeUndefined();
    const params = clv.mbgnbd.params as { r: number; alpha: number; a: number; b: number };
    // Batislam et al. (2007) on CDNOW as BTYDplus / lifetimes report it (issue 16).
    const published = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
    for (const [name, value] of Object.entries(published)) expect(Math.abs(params[name as keyof typeof params] - value), name).toBeLessThan(1e-3);
    await withEngine(async (engine) => {
      const file = engine.dialect.quoteString(path.join(out, 'customers.parquet'));
      const oneTime = await engine.all<{ T: number; p_alive: number }>(`SELECT "T", p_alive FROM read_parquet(${file}) WHERE orders = 1`);
      expect(oneTime.length).toBeGreaterThan(1000);
      const { r, alpha, a, b } = params;
      for (const c of oneTime) {
        expect(c.p_alive).toBeLessThan(1);
        // 1 / (1 + a/b · ((α+T)/α)^r), T in weeks.
        expect(c.p_alive).toBeCloseTo(1 / (1 + (a / b) * ((alpha + c.T) / alpha) ** r), 6);
      }
    });
  });

  it('writes a byte-identical customers.csv when the input rows are shuffled', async () => {
    const dir = await tempDir();
    const [header, ...rows] = (await readFile(CDNOW_CSV, 'utf8')).trim().split('\n');
    // A fixed permutation (LCG), so the test itself is repeatable.
    let seed = 12345;
    const shuffled = [...rows];
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const j = seed % (i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    expect(shuffled).not.toEqual(rows);
    const shuffledFile = path.join(dir, 'shuffled.csv');
    await writeFile(shuffledFile, `${header}\n${shuffled.join('\n')}\n`);
    const outs = [path.join(dir, 'a'), path.join(dir, 'b'), path.join(dir, 'c')];
    const runs = await Promise.all([
      runCli(['score', CDNOW_CSV, '--as-of', '1997-09-30', '--out', outs[0]!, '--format', 'csv', '--seed', '7']),
      runCli(['score', shuffledFile, '--as-of', '1997-09-30', '--out', outs[1]!, '--format', 'csv', '--seed', '7']),
    ]);
    runs.push(await runCli(['score', shuffledFile, '--as-of', '1997-09-30', '--out', outs[2]!, '--format', 'csv', '--seed', '7']));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const tables = await Promise.all(outs.map((o) => readFile(path.join(o, 'customers.csv'), 'utf8')));
    expect(tables[1]).toBe(tables[0]);
    expect(tables[2]).toBe(tables[0]);
    expect(tables[0]).not.toMatch(/nan|inf/i);
    // The output contract: sorted by customer_id (byte order).
    const ids = tables[0]!.trim().split('\n').slice(1).map((l) => l.split(',')[0]!);
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('accepts good rows and rejects a bad date, a non-numeric amount and an empty id with their lines', async () => {
    const dir = await tempDir();
    const input = path.join(dir, 'mixed.csv');
    await writeFile(input, ['customer_id,order_date,amount', 'A,2024-01-01,10', 'B,2024-01-02,20', 'C,2024-02-31,30', 'D,2024-01-04,ten', ',2024-01-05,50', 'A,2024-01-06,60', ''].join('\n'));
    const out = path.join(dir, 'out');
    const result = await runCli(['score', input, '--out', out, '--no-kmeans']);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(out, 'summary.json'));
    expect(summary.rows).toMatchObject({ read: 6, accepted: 3, rejected: 3 });
    const rejects = await readFile(path.join(out, 'rejects.csv'), 'utf8');
    expect(rejects.trim().split('\n').slice(1).map((l) => l.split(',').slice(1, 3).join(','))).toEqual([
      '4,unparseable date',
      '5,non-numeric amount',
      '6,missing customer id',
    ]);
  });

  it('an empty file: exit 1, one clear line, no outputs', async () => {
    const dir = await tempDir();
    const out = path.join(dir, 'out');
    const result = await runCli(['score', fixture('bad', 'empty.csv'), '--out', out]);
    expect(result.code).toBe(1);
    expect(lastMessage(result.stderr)).toBe(`${fixture('bad', 'empty.csv')}: the file is empty`);
    await expect(stat(out)).rejects.toThrow();
  });

  it('usage errors exit 2: unknown flag, invalid config naming the field, a segment map with holes, an unknown time zone, a day or date format that does not exist, an --out that is a file', async () => {
    const dir = await tempDir();
    expect((await runCli(['score', CDNOW_CSV, '--bogus'])).code).toBe(2);
    const cfg = path.join(dir, 'crm.config.json');
    await writeFile(cfg, JSON.stringify({ clv: { horizonMonths: 'twelve' } }));
    const bad = await runCli(['score', CDNOW_CSV, '--config', cfg]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/clv\.horizonMonths/);
    const map = path.join(dir, 'map.yaml');
    await writeFile(map, 'Top: ["5??"]\nRest: ["[123]??"]\n');
    const holes = await runCli(['score', CDNOW_CSV, '--segment-map', map, '--out', path.join(dir, 'o')]);
    expect(holes.code).toBe(2);
    expect(holes.stderr).toMatch(/cells in no segment: 411 412/);
    // An unknown time zone names the option; it was DuckDB's 'Not implemented Error: Unknown TimeZone' (exit 1).
    const zone = await runCli(['score', CDNOW_CSV, '--timezone', 'Mars/Olympus', '--out', path.join(dir, 'z')]);
    expect(zone.code).toBe(2);
    expect(lastMessage(zone.stderr)).toBe('invalid options: timezone: unknown time zone; expected an IANA name such as UTC or Europe/Paris');
    // A day that does not exist, and a date format DuckDB cannot parse: DuckDB's conversion errors (exit 1) before.
    const noDay = await runCli(['score', CDNOW_CSV, '--as-of', '1997-02-30', '--out', path.join(dir, 'd')]);
    expect([noDay.code, lastMessage(noDay.stderr)]).toEqual([2, 'invalid options: asOf: not a day of the calendar']);
    const badFormat = await runCli(['score', CDNOW_CSV, '--date-format', '%Q', '--out', path.join(dir, 'f')]);
    expect(badFormat.code).toBe(2);
    expect(lastMessage(badFormat.stderr)).toMatch(/^--date-format %Q: .*Unrecognized format for strftime\/strptime: %Q$/);
    const noCalibrationDay = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-02-30']);
    expect([noCalibrationDay.code, lastMessage(noCalibrationDay.stderr)]).toEqual([2, '--calibration-end expects a day as YYYY-MM-DD']);
    // Said before any scoring, not as DuckDB's or Node's mkdir error after it.
    const file = path.join(dir, 'not-a-folder');
    await writeFile(file, 'x');
    for (const command of [['score', CDNOW_CSV, '--no-clv', '--no-kmeans'], ['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30']]) {
      const outFile = await runCli([...command, '--out', file]);
      expect(outFile.code, command[0]).toBe(2);
      expect(lastMessage(outFile.stderr)).toBe(`--out ${file}: a file is there, not a folder`);
    }
  });

  it('a month or day out of range (13, 00, 32) in --as-of, a config asOf or backtest dates is a usage error naming the field, said before any data is read', async () => {
    const dir = await tempDir();
    // Each was 'crm: Invalid time value', exit 1: the calendar check threw on a date JavaScript cannot make.
    const out = path.join(dir, 'out');
    for (const day of ['2024-13-01', '2024-00-10', '2024-01-32']) {
      const flag = await runCli(['score', CDNOW_CSV, '--as-of', day, '--out', out]);
      expect([flag.code, messages(flag.stderr)], day).toEqual([2, 'invalid options: asOf: not a day of the calendar']);
    }
    const cfg = path.join(dir, 'crm.config.json');
    await writeFile(cfg, JSON.stringify({ asOf: '2024-13-01' }));
    const fromFile = await runCli(['score', CDNOW_CSV, '--config', cfg, '--out', out]);
    expect([fromFile.code, messages(fromFile.stderr)]).toEqual([2, `invalid config (${cfg} and flags): asOf: not a day of the calendar`]);
    const calibration = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '2024-13-01']);
    expect([calibration.code, messages(calibration.stderr)]).toEqual([2, '--calibration-end expects a day as YYYY-MM-DD']);
    const holdout = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-00-30']);
    expect([holdout.code, messages(holdout.stderr)]).toEqual([2, '--holdout-end expects a day as YYYY-MM-DD']);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('takes options from a YAML config, with flags overriding it', async () => {
    const dir = await tempDir();
    const cfg = path.join(dir, 'crm.config.yaml');
    await writeFile(cfg, `inputs: [${JSON.stringify(CDNOW_CSV)}]\nout: ${JSON.stringify(path.join(dir, 'from-config'))}\nasOf: "1997-09-30"\nformat: [csv]\nclv:\n  enabled: false\nkmeans:\n  k: 3\n`);
    const result = await runCli(['score', '--config', cfg, '--k', '4', '--no-db']);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(path.join(dir, 'from-config', 'summary.json'));
    expect(summary.run.asOf).toBe('1997-09-30');
    expect(summary.clv).toBeNull();
    expect(summary.clusters.k).toBe(4);
  });

  it('every command has --help with examples', async () => {
    for (const command of [[], ['score'], ['backtest'], ['runs'], ['migration'], ['export'], ['report']]) {
      const result = await runCli([...command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/Examples:\n(\s+#.*\n)?\s+\$ crm/);
    }
  });

  it('logs JSON lines to stderr when not on a terminal, and nothing on stdout', async () => {
    const out = await tempDir();
    const result = await runCli(['score', CDNOW_CSV, '--out', out, '--no-kmeans', '--no-clv']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.some((l) => l.msg === 'scored customers')).toBe(true);
    // No customer data above debug level.
    expect(result.stderr).not.toMatch(/00004/);
  });
});

describe('crm backtest', () => {
  it('reproduces the CDNOW holdout: 1,882 actual purchases by 2,357 customers', async () => {
    const out = await tempDir();
    const result = await runCli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--time-unit', 'week', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const report = await readJson(path.join(out, 'backtest.json'));
    expect(report.customers).toBe(2357);
    expect(report.actualTotal).toBe(1882);
    expect(report.predictedTotal).toBeGreaterThan(1500);
    expect(report.predictedTotal).toBeLessThan(2300);
    expect(report.byFrequency.map((b: { frequency: string }) => b.frequency)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7+']);
    expect(report.byFrequency.reduce((s: number, b: { customers: number }) => s + b.customers, 0)).toBe(2357);
    expect(result.stdout).toMatch(/customers 2357 +actual purchases 1882/);
    expect(await readFile(path.join(out, 'backtest.csv'), 'utf8')).toMatch(/^frequency,customers,actual,predicted/);
  });
});
