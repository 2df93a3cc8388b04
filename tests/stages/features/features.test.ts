/**
 * The per-customer features and CLV inputs of DESIGN §3 on a few hand-made
 * transactions, worked out here by hand: occasions by order id (rows without
 * one fall back to their day), refund occasions that lower revenue but are no
 * order, purchase days for the CLV inputs, rows after the as-of date. Each
 * path of src/stages/features/queries.ts: by order id or by day, from one file or two,
 * with the CLV and lifecycle stages on or off.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentEffects } from '../../../src/effects.js';
import { runScore } from '../../../src/jobs/score.js';
import { config, parseCsv, tempDir, withEngine } from '../../helpers.js';

const AS_OF = '2024-03-31';
const HEADER = 'customer_id,order_date,amount,order_id';
const ROWS = [
  'A,2024-01-01,10,o1',
  'A,2024-01-01,5,o2', // a second order on the same day
  'A,2024-01-15,20,o3',
  'A,2024-01-15,-5,o3', // o3 nets 15
  'A,2024-02-01,-30,o4', // a refund occasion: lowers revenue, no order, no purchase day
  'A,2024-04-10,100,o5', // after the as-of date: excluded
  'B,2024-03-01,-12,o6', // refunds only
  'C,2024-03-31,7,', // no order id: one occasion per day
  'C,2024-03-31,3,',
];

const FEATURES = ['customer_id', 'first_purchase', 'last_purchase', 'orders', 'revenue', 'avg_order_value', 'recency_days', 'tenure_days'] as const;

async function score(files: Record<string, string[]>, stages: { clv: boolean; lifecycle: boolean }, columns: Record<string, string> = {}) {
  const dir = await tempDir('crm-features-');
  const inputs = await Promise.all(
    Object.entries(files).map(async ([name, lines]) => {
      await writeFile(path.join(dir, name), `${lines.join('\n')}\n`);
      return path.join(dir, name);
    }),
  );
  const summary = await withEngine((engine) =>
    runScore(
      engine,
      config({
        inputs,
        out: path.join(dir, 'out'),
        asOf: AS_OF,
        noDb: true,
        format: ['csv'],
        columns,
        clv: { enabled: stages.clv, draws: 0 },
        lifecycle: { enabled: stages.lifecycle },
        kmeans: { enabled: false },
      }),
      silentEffects,
    ),
  );
  const rows = parseCsv(await readFile(path.join(dir, 'out', 'customers.csv'), 'utf8'));
  return { summary, rows, pick: (names: readonly string[]) => rows.map((r) => names.map((n) => r[n])) };
}

// A: orders o1, o2 (2024-01-01) and o3 (01-15); revenue 10 + 5 + 15 − 30 = 0; last purchase 01-15 (the
// refund of 02-01 is no purchase): 76 days before 2024-03-31 (16 + 29 + 31), first 90 days before.
// B: refunds only: no order, revenue −12, first and last date that of the refund, no average order value.
// C: the two rows of 03-31 without an order id are one occasion of 10.
const BY_ORDER_ID = [
  ['A', '2024-01-01', '2024-01-15', '3', '0.0', '0.0', '76', '90'],
  ['B', '2024-03-01', '2024-03-01', '0', '-12.0', '', '30', '30'],
  ['C', '2024-03-31', '2024-03-31', '1', '10.0', '10.0', '0', '0'],
];

describe('customer features (DESIGN §3)', () => {
  it('by order id, with the CLV and lifecycle stages: features, and CLV inputs from purchase days', async () => {
    const { summary, rows, pick } = await score({ 'tx.csv': [HEADER, ...ROWS] }, { clv: true, lifecycle: true }, { order: 'order_id' });
    expect(pick(FEATURES)).toEqual(BY_ORDER_ID);
    expect([summary.rows.excluded, summary.customers]).toEqual([1, 3]);
    // Purchase days (net ≥ 0 per day) of A: 01-01 (15) and 01-15 (15): frequency 1, recency 14 days = 2 weeks,
    // T 90 days, monetary value 15 (the repeat day). C: one day, on the as-of date. B has no purchase: null.
    expect(pick(['customer_id', 'frequency', 'recency', 'T', 'monetary_value'])).toEqual([
      ['A', '1', '2.0', String(90 / 7), '15.0'],
      ['B', '', '', '', ''],
      ['C', '0', '0.0', '0.0', '0.0'],
    ]);
    expect(rows.map((r) => r.lifecycle_stage).every((stage) => stage !== '')).toBe(true);
  });

  it('by order id, features only: the same features', async () => {
    const { rows, pick } = await score({ 'tx.csv': [HEADER, ...ROWS] }, { clv: false, lifecycle: false }, { order: 'order_id' });
    expect(pick(FEATURES)).toEqual(BY_ORDER_ID);
    expect(Object.keys(rows[0]!)).not.toContain('frequency');
  });

  it('by day, from two files: a day split across the files is one occasion', async () => {
    // Without order ids, A's 01-01 rows are one order of 15, 01-15 one of 15, 02-01 a refund of 30: 2 orders.
    const noOrderIds = ROWS.map((row) => row.split(',').slice(0, 3).join(','));
    const { summary, pick } = await score(
      { 'a.csv': [HEADER.replace(',order_id', ''), ...noOrderIds.slice(0, 8)], 'b.csv': [HEADER.replace(',order_id', ''), noOrderIds[8]!] },
      { clv: true, lifecycle: true },
    );
    expect(pick(FEATURES)).toEqual([
      ['A', '2024-01-01', '2024-01-15', '2', '0.0', '0.0', '76', '90'],
      ['B', '2024-03-01', '2024-03-01', '0', '-12.0', '', '30', '30'],
      ['C', '2024-03-31', '2024-03-31', '1', '10.0', '10.0', '0', '0'],
    ]);
    expect(pick(['customer_id', 'frequency', 'recency', 'T', 'monetary_value'])).toEqual([
      ['A', '1', '2.0', String(90 / 7), '15.0'],
      ['B', '', '', '', ''],
      ['C', '0', '0.0', '0.0', '0.0'],
    ]);
    expect([summary.rows.excluded, summary.customers]).toEqual([1, 3]);
  });

  it('by day, from one file, with the CLV stage and without lifecycle: the same CLV inputs', async () => {
    const noOrderIds = ROWS.map((row) => row.split(',').slice(0, 3).join(','));
    const { pick } = await score({ 'tx.csv': [HEADER.replace(',order_id', ''), ...noOrderIds] }, { clv: true, lifecycle: false });
    expect(pick(['customer_id', 'orders', 'frequency', 'recency', 'T', 'monetary_value'])).toEqual([
      ['A', '2', '1', '2.0', String(90 / 7), '15.0'],
      ['B', '0', '', '', '', ''],
      ['C', '1', '0', '0.0', '0.0', '0.0'],
    ]);
  });

  it('by day, from one file, features only', async () => {
    const noOrderIds = ROWS.map((row) => row.split(',').slice(0, 3).join(','));
    const { pick } = await score({ 'tx.csv': [HEADER.replace(',order_id', ''), ...noOrderIds] }, { clv: false, lifecycle: false });
    expect(pick(FEATURES)).toEqual([
      ['A', '2024-01-01', '2024-01-15', '2', '0.0', '0.0', '76', '90'],
      ['B', '2024-03-01', '2024-03-01', '0', '-12.0', '', '30', '30'],
      ['C', '2024-03-31', '2024-03-31', '1', '10.0', '10.0', '0', '0'],
    ]);
  });
});
