import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { scoreRfm } from '../../../src/stages/rfm/stage.js';
import { rfmLayerSql } from '../../../src/stages/rfm/queries.js';
import { CUSTOMERS } from '../../../src/stages/scored/queries.js';
import { runScore } from '../../../src/jobs/score.js';
import { defineLabels } from '../../../src/stages/scored/labels.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP } from '../../../src/stages/rfm/segmentMap.js';
import { silentEffects } from '../../../src/effects.js';
import { config, fixture, tempDir, withEngine } from '../../helpers.js';

/**
 * fixtures/tiny/transactions.csv as of 2024-03-31 (see its README). n = 6 customers.
 *
 * recency_days: C01 1, C02 1, C03 90 (the refund day is not a purchase), C04 11, C06 121, 00007 30.
 * R ranks worst first (most days): C06 1, C03 2, 00007 3, C04 4, C01/C02 tie at 5.
 *   score = 1 + ⌊5(rank−1)/6⌋ → 1, 1, 2, 3, 4, 4.
 * orders: C01 2 (two rows on 03-30 are one order), C04 3, others 1.
 * F ranks: the four 1-order customers share rank 1 → F 1; C01 rank 5 → 4; C04 rank 6 → 5.
 * revenue: C01 170, C03 150 (200 − 50), C04 90, C02/C06/00007 10.
 * M ranks: the three 10s share rank 1 → 1; C04 rank 4 → 3; C03 rank 5 → 4; C01 rank 6 → 5.
 * Segments on R and FM = ⌊(F+M)/2 + ½⌋: C01 R4 FM5 Champions; C02 41 Promising;
 * C03 R1 FM3 At Risk; C04 R3 FM4 Loyal; C06 11 Lost; 00007 R2 FM1 About To Sleep.
 * value_decile: revenue descending, ties by id: C01 1, C03 2, C04 3, 00007 4, C02 5, C06 6.
 */
const EXPECTED = [
  { customer_id: '00007', orders: 1, revenue: 10, recency_days: 30, r_score: 2, f_score: 1, m_score: 1, rfm_cell: '211', rfm_segment: 'About To Sleep', value_decile: 4 },
  { customer_id: 'C01', orders: 2, revenue: 170, recency_days: 1, r_score: 4, f_score: 4, m_score: 5, rfm_cell: '445', rfm_segment: 'Champions', value_decile: 1 },
  { customer_id: 'C02', orders: 1, revenue: 10, recency_days: 1, r_score: 4, f_score: 1, m_score: 1, rfm_cell: '411', rfm_segment: 'Promising', value_decile: 5 },
  { customer_id: 'C03', orders: 1, revenue: 150, recency_days: 90, r_score: 1, f_score: 1, m_score: 4, rfm_cell: '114', rfm_segment: 'At Risk', value_decile: 2 },
  { customer_id: 'C04', orders: 3, revenue: 90, recency_days: 11, r_score: 3, f_score: 5, m_score: 3, rfm_cell: '353', rfm_segment: 'Loyal', value_decile: 3 },
  { customer_id: 'C06', orders: 1, revenue: 10, recency_days: 121, r_score: 1, f_score: 1, m_score: 1, rfm_cell: '111', rfm_segment: 'Lost', value_decile: 6 },
];

async function scoreTiny(rfm: Record<string, unknown> = {}) {
  const out = await tempDir();
  return withEngine(async (engine) => {
    const summary = await runScore(
      engine,
      config({ inputs: [fixture('tiny', 'transactions.csv')], out, asOf: '2024-03-31', noDb: true, format: ['csv'], rfm, clv: { enabled: false }, kmeans: { enabled: false } }),
      silentEffects,
    );
    const rows = await engine.all<Record<string, unknown>>(
      `SELECT customer_id, orders, revenue, recency_days, r_score, f_score, m_score, rfm_cell, rfm_segment, value_decile, tenure_days, avg_order_value,
              strftime(first_purchase, '%Y-%m-%d') AS first_purchase, strftime(last_purchase, '%Y-%m-%d') AS last_purchase
       FROM final_scores ORDER BY customer_id`,
    );
    return { summary, rows };
  });
}

describe('RFM on a hand-computed fixture', () => {
  it('scores ties, refunds and same-day orders as DESIGN §3 defines', async () => {
    const { rows } = await scoreTiny();
    expect(rows.map(({ tenure_days, avg_order_value, first_purchase, last_purchase, ...r }) => r)).toEqual(EXPECTED);
  });

  it('derives dates, tenure and average order value per customer', async () => {
    const { rows } = await scoreTiny();
    const c03 = rows.find((r) => r.customer_id === 'C03')!;
    expect(c03).toMatchObject({ first_purchase: '2024-01-01', last_purchase: '2024-01-01', tenure_days: 90, avg_order_value: 150 });
    const c01 = rows.find((r) => r.customer_id === 'C01')!;
    expect(c01).toMatchObject({ first_purchase: '2024-03-01', last_purchase: '2024-03-30', tenure_days: 30, avg_order_value: 85 });
  });

  it('counts the customer who only bought after the as-of date as excluded rows, not as a customer', async () => {
    const { summary, rows } = await scoreTiny();
    expect(rows.map((r) => r.customer_id)).not.toContain('C05');
    expect(summary.rows).toEqual({ read: 12, accepted: 12, rejected: 0, excluded: 1 });
    expect(summary.customers).toBe(6);
  });

  it('reports the value range each score covers', async () => {
    const { summary } = await scoreTiny();
    expect(summary.rfm.thresholds.frequency).toEqual([
      { score: 1, min: 1, max: 1, customers: 4 },
      { score: 4, min: 2, max: 2, customers: 1 },
      { score: 5, min: 3, max: 3, customers: 1 },
    ]);
  });

  it('ntile makes equal groups and breaks ties by a stable hash of the id, then the id, not by row order', async () => {
    const { rows } = await scoreTiny({ method: 'ntile' });
    // DESIGN §3: equal-sized groups, ties broken by a stable hash of customer_id (the
    // portable rule: the first 60 bits of its md5), then the id. Recomputed here from that
    // definition over the hand-derived values in EXPECTED: sort worst first, then ntile(5)
    // makes n mod 5 groups one larger (6 customers: 2,1,1,1,1). With the hash, C01 sorts
    // before C02 on their 1-day tie (R: C01 4, C02 5), and 00007 before C06 before C02
    // on the 10-revenue tie (M: 1, 1, 2).
    const hashOf = new Map(EXPECTED.map(({ customer_id: id }) => [id, BigInt(`0x${createHash('md5').update(id, 'utf8').digest('hex').slice(0, 15)}`)]));
    const byHashThenId = (a: string, b: string) => (hashOf.get(a)! < hashOf.get(b)! ? -1 : hashOf.get(a)! > hashOf.get(b)! ? 1 : a < b ? -1 : a > b ? 1 : 0);
    const ntile5 = (worstFirst: (a: (typeof EXPECTED)[number], b: (typeof EXPECTED)[number]) => number) => {
      const sorted = [...EXPECTED].sort((a, b) => worstFirst(a, b) || byHashThenId(a.customer_id, b.customer_id));
      const n = sorted.length;
      const size = (g: number) => Math.floor(n / 5) + (g < n % 5 ? 1 : 0);
      const score = new Map<string, number>();
      let at = 0;
      for (let g = 0; g < 5; g++) for (let i = 0; i < size(g); i++) score.set(sorted[at++]!.customer_id, g + 1);
      return score;
    };
    const r = ntile5((a, b) => b.recency_days - a.recency_days);
    const f = ntile5((a, b) => a.orders - b.orders);
    const m = ntile5((a, b) => a.revenue - b.revenue);
    const expected = EXPECTED.map(({ customer_id: id }) => ({ customer_id: id, r_score: r.get(id), f_score: f.get(id), m_score: m.get(id) }));
    expect(rows.map(({ customer_id, r_score, f_score, m_score }) => ({ customer_id, r_score, f_score, m_score }))).toEqual(expected);
    // The same by hand from the hash order (C01 < C04 < C03 < 00007 < C06 < C02).
    expect(Object.fromEntries(rows.map((row) => [row.customer_id, `${row.r_score}${row.f_score}${row.m_score}`]))).toEqual({
      '00007': '211', C01: '445', C02: '532', C03: '114', C04: '353', C06: '121',
    });
    // Every score used, F no longer tie-aware: the four one-order customers split over 1, 1, 2, 3.
    expect(rows.map((row) => row.f_score as number).sort()).toEqual([1, 1, 2, 3, 4, 5]);
  });

  it('fixed without cut points is refused by the config check, before any data is read', () => {
    expect(() => config({ inputs: ['x.csv'], rfm: { method: 'fixed' } })).toThrow(/rfm\.thresholds: method "fixed" needs thresholds/);
  });

  it('fixed uses the given cut points', async () => {
    const { rows, summary } = await scoreTiny({
      method: 'fixed',
      thresholds: { recency: [7, 30, 60, 100], frequency: [2, 3, 4, 5], monetary: [20, 50, 100, 160] },
    });
    const byId = Object.fromEntries(rows.map((r) => [r.customer_id, `${r.r_score}${r.f_score}${r.m_score}`]));
    // C01: 1 day ≤ 7 → R5; 2 orders ≥ 2 → F2; 170 ≥ 160 → M5. C06: 121 > 100 → R1. 00007: 30 ≤ 30 → R4.
    expect(byId).toEqual({ '00007': '411', C01: '525', C02: '511', C03: '214', C04: '433', C06: '111' });
    expect(summary.rfm.cutPoints?.recency).toEqual([7, 30, 60, 100]);
  });

  it('a single customer gets one row with valid scores', async () => {
    const out = await tempDir();
    const { writeFile } = await import('node:fs/promises');
    const file = `${out}/one.csv`;
    await writeFile(file, 'customer_id,order_date,amount\nONLY,2024-01-01,5\nONLY,2024-01-03,7\n');
    await withEngine(async (engine) => {
      const summary = await runScore(engine, config({ inputs: [file], out, noDb: true, format: ['csv'], clv: { enabled: false }, kmeans: { enabled: false } }), silentEffects);
      expect(summary.customers).toBe(1);
      expect(await engine.all(`SELECT rfm_cell, rfm_segment, recency_days FROM final_scores`)).toEqual([{ rfm_cell: '111', rfm_segment: 'Lost', recency_days: 0 }]);
    });
  });

  it('value_decile is ntile(10) over revenue descending, ties by id, whatever the number of customers', async () => {
    // Deciles come from nine boundary customers, not a per-customer window:
    // checked against DuckDB's own ntile for sizes below, at and above 10 and
    // for heavy revenue ties (five distinct revenues), ids inserted out of order.
    await withEngine(async (engine) => {
      for (const n of [1, 2, 3, 9, 10, 11, 19, 23, 57, 100, 1234]) {
        await engine.run(
          `CREATE OR REPLACE TEMP TABLE customer_features AS
           SELECT 'C' || lpad(((i * 7919) % $n)::VARCHAR, 5, '0') AS customer_id, ((i * 37) % 5 * 10)::DECIMAL(38,4) AS revenue,
                  (i % 3)::BIGINT AS orders, (i % 11)::BIGINT AS recency_days
           FROM range($n) t(i)`,
          { n },
        );
        await scoreRfm(engine, config({ inputs: ['x'] }).rfm, DEFAULT_SEGMENT_MAP);
        await defineLabels(engine, [...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys()], null);
        const mismatches = await engine.all(
          `SELECT customer_id FROM (${rfmLayerSql(engine.dialect, 'quantile')(CUSTOMERS)})
           JOIN (SELECT customer_id, ntile(10) OVER (ORDER BY revenue DESC, customer_id) AS reference FROM customer_features) USING (customer_id)
           WHERE value_decile <> reference`,
        );
        expect({ n, mismatches }).toEqual({ n, mismatches: [] });
        expect(Number((await engine.one<{ c: number }>(`SELECT count(*) AS c FROM (${rfmLayerSql(engine.dialect, 'quantile')(CUSTOMERS)})`))!.c)).toBe(n);
      }
    });
  });

  it('scores from the score bounds equal the per-value scores, for quantile and fixed', async () => {
    // The layer compares each value with the worst value earning each score,
    // rather than joining the value → score tables: checked against that join.
    await withEngine(async (engine) => {
      for (const rfm of [{}, { method: 'fixed', thresholds: { recency: [5, 20, 40, 90], frequency: [2, 3, 5, 8], monetary: [10, 50, 100, 500] } }]) {
        for (const n of [1, 7, 500]) {
          await engine.run(
            `CREATE OR REPLACE TEMP TABLE customer_features AS
             SELECT 'C' || i AS customer_id, ((hash(i) % 40) * 7.25)::DECIMAL(38,4) AS revenue, (1 + hash(i * 3) % 9)::BIGINT AS orders,
                    (hash(i * 5) % 120)::BIGINT AS recency_days
             FROM range($n) t(i)`,
            { n },
          );
          await scoreRfm(engine, config({ inputs: ['x'], rfm }).rfm, DEFAULT_SEGMENT_MAP);
          await defineLabels(engine, [...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys()], null);
          const mismatches = await engine.all(
            `SELECT l.customer_id FROM (${rfmLayerSql(engine.dialect, config({ inputs: ['x'], rfm }).rfm.method)(CUSTOMERS)}) l
             JOIN rfm_recency_scores r USING (recency_days) JOIN rfm_frequency_scores f USING (orders) JOIN rfm_monetary_scores m USING (revenue)
             WHERE l.r_score <> r.r_score OR l.f_score <> f.f_score OR l.m_score <> m.m_score`,
          );
          expect({ rfm, n, mismatches }).toEqual({ rfm, n, mismatches: [] });
        }
      }
    });
  });
});
