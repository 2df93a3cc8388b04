import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { DESIGN_SEGMENTS, designSegment } from '../../designSegments.js';
import { config, fixture, parseCsv, tempDir, withEngine } from '../../helpers.js';

/**
 * deciles.csv and segments.csv cell by cell, the expected tables computed here
 * in plain JS from the input rows and the definitions of DESIGN §3.
 */

/** Runs crm on a file (RFM only) and returns its output folder. */
async function score(input: string, asOf: string): Promise<string> {
  const out = path.join(await tempDir(), 'out');
  await withEngine((engine) =>
    runScore(engine, config({ inputs: [input], out, asOf, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false }, lifecycle: { enabled: false } }), silentEffects),
  );
  return out;
}

const readTable = async (out: string, name: string) => parseCsv(await readFile(path.join(out, name), 'utf8'));

/** Net revenue per customer in cents, over the rows dated on or before the as-of date (customer_id,order_date,amount). */
async function revenueCents(file: string, asOf: string): Promise<Map<string, number>> {
  const cents = new Map<string, number>();
  for (const line of (await readFile(file, 'utf8')).trim().split('\n').slice(1)) {
    const [id, date, amount] = line.split(',') as [string, string, string];
    if (date <= asOf) cents.set(id, (cents.get(id) ?? 0) + Math.round(Number(amount) * 100));
  }
  return cents;
}

/** A value written rounded to `places` decimals is within half a unit of the last place of the exact one. */
function expectRounded(written: string, exact: number, places: number, label: string): void {
  expect(Math.abs(Number(written) - exact), `${label}: ${written} vs ${exact}`).toBeLessThanOrEqual(0.5 * 10 ** -places + 1e-12);
}

/**
 * The Pareto table by definition: customers by revenue descending (ties by id)
 * in ntile(10) groups, the first n mod 10 one larger; share of the total,
 * cumulative from decile 1 (the top) down, average revenue.
 */
function paretoTable(cents: Map<string, number>) {
  const ranked = [...cents].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1));
  const n = ranked.length;
  const total = ranked.reduce((s, [, c]) => s + c, 0);
  const rows: { decile: number; customers: number; cents: number; share: number; cumulative: number; average: number }[] = [];
  let at = 0;
  let running = 0;
  for (let d = 1; d <= 10; d++) {
    const group = ranked.slice(at, (at += Math.floor(n / 10) + (d <= n % 10 ? 1 : 0)));
    if (group.length === 0) continue;
    const sum = group.reduce((s, [, c]) => s + c, 0);
    running += sum;
    rows.push({ decile: d, customers: group.length, cents: sum, share: sum / total, cumulative: running / total, average: sum / 100 / group.length });
  }
  return rows;
}

function expectDeciles(written: Record<string, string>[], cents: Map<string, number>): void {
  const expected = paretoTable(cents);
  expect(written.map((r) => [Number(r.decile), Number(r.customers), Number(r.revenue)])).toEqual(expected.map((e) => [e.decile, e.customers, e.cents / 100]));
  expected.forEach((e, i) => {
    expectRounded(written[i]!.share!, e.share, 6, `decile ${e.decile} share`);
    expectRounded(written[i]!.cumulative_share!, e.cumulative, 6, `decile ${e.decile} cumulative_share`);
    expectRounded(written[i]!.avg_revenue!, e.average, 4, `decile ${e.decile} avg_revenue`);
  });
  expect(Object.keys(written[0]!)).toEqual(['decile', 'customers', 'revenue', 'share', 'cumulative_share', 'avg_revenue']);
}

describe('deciles.csv and segments.csv', () => {
  const tiny = fixture('tiny', 'transactions.csv');

  it('deciles.csv on fixtures/tiny: one customer per decile, cumulative share from the top', async () => {
    const out = await score(tiny, '2024-03-31');
    const cents = await revenueCents(tiny, '2024-03-31');
    // By hand: C01 170, C03 150, C04 90, then the three 10s by id: 00007, C02, C06; total 440.
    expect([...cents].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual([['00007', 1000], ['C01', 17000], ['C02', 1000], ['C03', 15000], ['C04', 9000], ['C06', 1000]]);
    const deciles = await readTable(out, 'deciles.csv');
    expectDeciles(deciles, cents);
    expect(deciles.map((r) => r.cumulative_share)).toEqual(['0.386364', '0.727273', '0.931818', '0.954545', '0.977273', '1.0']);
  });

  it('deciles.csv on 23 customers with tied revenues and refunds: deciles of 3 and 2 customers', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'orders.csv');
    const rows = ['customer_id,order_date,amount'];
    for (let i = 1; i <= 23; i++) {
      const id = `K${String((i * 7) % 23).padStart(2, '0')}`;
      rows.push(`${id},2024-02-${String(1 + (i % 28)).padStart(2, '0')},${((i % 6) + 1) * 12.5}`);
      if (i % 4 === 0) rows.push(`${id},2024-03-0${1 + (i % 9)},${i % 8 === 0 ? -7.25 : 31.1}`);
    }
    rows.push('K05,2024-04-20,500'); // after the as-of date: not counted
    await writeFile(file, `${rows.join('\n')}\n`);
    const cents = await revenueCents(file, '2024-03-31');
    expect(cents.size).toBe(23);
    expectDeciles(await readTable(await score(file, '2024-03-31'), 'deciles.csv'), cents);
  });

  it('segments.csv on fixtures/tiny lists all 11 segments, the empty ones with zeros, by customers then name', async () => {
    const out = await score(tiny, '2024-03-31');
    const cents = await revenueCents(tiny, '2024-03-31');
    // The R/F/M scores worked by hand in rfm.test.ts.
    const scores: Record<string, [number, number, number]> = { '00007': [2, 1, 1], C01: [4, 4, 5], C02: [4, 1, 1], C03: [1, 1, 4], C04: [3, 5, 3], C06: [1, 1, 1] };
    const total = [...cents.values()].reduce((s, c) => s + c, 0);
    const expected = DESIGN_SEGMENTS.map((segment) => {
      const members = Object.keys(scores).filter((id) => designSegment(...scores[id]!) === segment);
      const sum = members.reduce((s, id) => s + cents.get(id)!, 0);
      return { segment, customers: members.length, customerShare: members.length / 6, cents: sum, revenueShare: sum / total };
    }).sort((a, b) => b.customers - a.customers || (a.segment < b.segment ? -1 : 1));
    const written = await readTable(out, 'segments.csv');
    expect(Object.keys(written[0]!)).toEqual(['segment', 'customers', 'customer_share', 'revenue', 'revenue_share']);
    expect(written.map((r) => [r.segment, Number(r.customers), Number(r.revenue)])).toEqual(expected.map((e) => [e.segment, e.customers, e.cents / 100]));
    expected.forEach((e, i) => {
      expectRounded(written[i]!.customer_share!, e.customerShare, 6, `${e.segment} customer_share`);
      expectRounded(written[i]!.revenue_share!, e.revenueShare, 6, `${e.segment} revenue_share`);
    });
    // Six segments of one customer each, five empty.
    expect(written.filter((r) => r.customers === '0').map((r) => r.segment)).toEqual(["Can't Lose Them", 'Hibernating', 'Need Attention', 'New Customers', 'Potential Loyalist']);
  });
});
