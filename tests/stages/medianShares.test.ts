/**
 * Where each k-means cluster's median customer stands in the run (the label
 * facts "top 10% revenue", "top 10% CLV": models/kmeansLabels.ts RunShare):
 * clusters/stage.ts medianShares counts each customer's place among the
 * medians in one grouping. On every engine, over eight hand-made customers,
 * each share counted by hand.
 */
import { beforeAll, expect, it } from 'vitest';
import { medianShares } from '../../src/stages/clusters/stage.js';
import { describeEachEngine } from '../engines.js';

// revenue 5, 10, 10, 20, 30, 30, 30, 40; clv 1, –, 2, 2, 3, –, 4, 5 (two customers without a clv).
const CUSTOMERS: [string, number, number | null][] = [
  ['a', 5, 1],
  ['b', 10, null],
  ['c', 10, 2],
  ['d', 20, 2],
  ['e', 30, 3],
  ['f', 30, null],
  ['g', 30, 4],
  ['h', 40, 5],
];

describeEachEngine('k-means label facts: shares of the run at least and at most a median', import.meta.url, ({ engine }) => {
  beforeAll(async () => {
    const e = engine();
    await e.run('DROP TABLE IF EXISTS final_scores');
    await e.run(
      `CREATE TABLE final_scores AS SELECT * FROM (VALUES ${CUSTOMERS.map(() => '(CAST(? AS VARCHAR), CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))').join(', ')}) v(customer_id, revenue, clv)`,
      CUSTOMERS.flat(),
    );
  });

  it('counts ties on both sides, a median given twice once, and clv shares out of the customers with a clv', async () => {
    // Three clusters whose medians are revenue 30, 10, 10 and clv 4, 2, 2.
    const shares = await medianShares(engine(), [30, 10, 10], [4, 2, 2]);
    expect(shares.clvCustomers).toBe(6);
    // revenue ≥ 10: all but 5 (7 of 8); ≤ 10: 5, 10, 10 (3); ≥ 30: 30, 30, 30, 40 (4); ≤ 30: all but 40 (7).
    expect(Object.fromEntries(shares.revenue)).toEqual({ 10: { atLeast: 7 / 8, atMost: 3 / 8 }, 30: { atLeast: 4 / 8, atMost: 7 / 8 } });
    // clv of 6 customers: ≥ 2: 2, 2, 3, 4, 5 (5); ≤ 2: 1, 2, 2 (3); ≥ 4: 4, 5 (2); ≤ 4: all but 5 (5).
    expect(Object.fromEntries(shares.clv)).toEqual({ 2: { atLeast: 5 / 6, atMost: 3 / 6 }, 4: { atLeast: 2 / 6, atMost: 5 / 6 } });
  });

  it('a median below every customer and one above: none at most / none at least', async () => {
    const shares = await medianShares(engine(), [1, 50], []);
    expect(Object.fromEntries(shares.revenue)).toEqual({ 1: { atLeast: 1, atMost: 0 }, 50: { atLeast: 0, atMost: 1 } });
    // Without CLV medians (a run without the CLV stage) no clv share is counted.
    expect(shares.clv.size).toBe(0);
  });
});
