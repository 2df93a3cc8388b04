/**
 * The stage SQL of src/stages, written once, run on every engine of
 * CRM_TEST_ENGINES (tests/engines.ts): features, RFM (quantile and ntile),
 * lifecycle and the CLV inputs over a small hand-made customer_days. Every
 * expected value is worked out by hand from DESIGN §3 (as of 2024-01-31).
 */
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { QueryEngine } from '../../src/engine/Engine.js';
import { PostgresEngine } from '../../src/engine/postgres/PostgresEngine.js';
import { runStatements } from '../../src/engine/tables.js';
import { purchasePatterns } from '../../src/stages/clv/stage.js';
import { loadSegmentMap } from '../../src/stages/rfm/stage.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP } from '../../src/stages/rfm/segmentMap.js';
import { clvInputsSql } from '../../src/stages/clv/queries.js';
import { customerFeaturesSql, occasionsSql, ROW_COUNTS_SQL, runParametersSql } from '../../src/stages/features/queries.js';
import { LIFECYCLE_STAGES, lifecycleLayerSql, lifecycleParametersSql } from '../../src/stages/lifecycle/queries.js';
import { cutParameters, decileBoundsSql, revenueCustomersSql, rfmLayerSql, rfmScoresSql } from '../../src/stages/rfm/queries.js';
import { LABEL_TYPE } from '../../src/stages/scored/queries.js';
import { describeEachEngine } from '../engines.js';

const AS_OF = '2024-01-31';

/**
 * customer_days (one source, no order ids: one row per customer and day).
 * c1 buys every 10 days; c2 once, yesterday; c3 twice, a month apart, 60 days
 * ago; c4 buys, then refunds part on another day; c5 only refunds; c1's
 * February row is after the as-of.
 */
const DAYS: [string, string, number][] = [
  ['c1', '2024-01-01', 10],
  ['c1', '2024-01-11', 20],
  ['c1', '2024-01-21', 30],
  ['c1', '2024-02-05', 100],
  ['c2', '2024-01-30', 50],
  ['c3', '2023-11-02', 40],
  ['c3', '2023-12-02', 40],
  ['c4', '2024-01-10', 25],
  ['c4', '2024-01-20', -5],
  ['c5', '2024-01-15', -10],
];

const CUSTOMER_DAYS_COLUMNS = { customer_id: 'VARCHAR', order_date: 'DATE', order_id: 'VARCHAR', amount: 'DECIMAL(18,4)', rows: 'BIGINT' };
const VALUES = DAYS.map(() => '(?, CAST(? AS DATE), CAST(NULL AS VARCHAR), CAST(? AS DECIMAL(18,4)), CAST(1 AS BIGINT))').join(', ');

/** customer_days on the engine: distributed by customer_id on Citus (as the load makes it), a plain table elsewhere. */
async function loadCustomerDays(engine: QueryEngine): Promise<void> {
  const select = `SELECT * FROM (VALUES ${VALUES}) v(customer_id, order_date, order_id, amount, rows)`;
  const params = DAYS.flat();
  if (engine instanceof PostgresEngine) {
    await engine.createPerCustomerTable('customer_days', { columns: CUSTOMER_DAYS_COLUMNS, select, params });
  } else {
    await engine.run(`CREATE OR REPLACE TABLE customer_days AS ${select}`, params);
  }
}

/** The run's label type, a portable ENUM: the lifecycle stages, the 125 RFM cells and the segment names. */
async function createLabelType(engine: QueryEngine): Promise<void> {
  const labels = [...LIFECYCLE_STAGES, ...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys()];
  await engine.run(`DROP TYPE IF EXISTS ${LABEL_TYPE}`);
  await engine.run(`CREATE TYPE ${LABEL_TYPE} AS ENUM (${labels.map((s) => engine.dialect.quoteString(s)).join(', ')})`);
}

const NEEDS = { clv: true, lifecycle: true };

/** The features of all customers, plain values (dates as text, numbers as numbers), by id. */
async function features(engine: QueryEngine) {
  return engine.all(
    `SELECT customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, CAST(last_purchase AS VARCHAR) AS last_purchase,
            orders, CAST(revenue AS DOUBLE PRECISION) AS revenue, CAST(avg_order_value AS DOUBLE PRECISION) AS avg_order_value,
            recency_days, tenure_days, purchase_days,
            CAST(first_purchase_day AS VARCHAR) AS first_purchase_day, CAST(last_purchase_day AS VARCHAR) AS last_purchase_day,
            CAST(previous_purchase_day AS VARCHAR) AS previous_purchase_day,
            CAST(purchase_day_total AS DOUBLE PRECISION) AS purchase_day_total, CAST(first_day_amount AS DOUBLE PRECISION) AS first_day_amount
     FROM customer_features ORDER BY customer_id`,
  );
}

/** The md5 rule of the portable stable hash, from its definition: the first 60 bits of md5 of the text. */
const md5Prefix60 = (text: string) => BigInt(`0x${createHash('md5').update(text, 'utf8').digest('hex').slice(0, 15)}`);

/** The features of DAYS as of AS_OF, worked out by hand. */
const EXPECTED_FEATURES = [
  // 3 orders of 10, 20, 30; last 2024-01-21 is 10 days before the as-of, first 2024-01-01 is 30.
  { customer_id: 'c1', first_purchase: '2024-01-01', last_purchase: '2024-01-21', orders: 3, revenue: 60, avg_order_value: 20, recency_days: 10, tenure_days: 30,
    purchase_days: 3, first_purchase_day: '2024-01-01', last_purchase_day: '2024-01-21', previous_purchase_day: '2024-01-11', purchase_day_total: 60, first_day_amount: 10 },
  { customer_id: 'c2', first_purchase: '2024-01-30', last_purchase: '2024-01-30', orders: 1, revenue: 50, avg_order_value: 50, recency_days: 1, tenure_days: 1,
    purchase_days: 1, first_purchase_day: '2024-01-30', last_purchase_day: '2024-01-30', previous_purchase_day: null, purchase_day_total: 50, first_day_amount: 50 },
  // 2023-11-02 → 2024-01-31: 28 + 31 + 31 = 90 days; 2023-12-02 → 2024-01-31: 60.
  { customer_id: 'c3', first_purchase: '2023-11-02', last_purchase: '2023-12-02', orders: 2, revenue: 80, avg_order_value: 40, recency_days: 60, tenure_days: 90,
    purchase_days: 2, first_purchase_day: '2023-11-02', last_purchase_day: '2023-12-02', previous_purchase_day: '2023-11-02', purchase_day_total: 80, first_day_amount: 40 },
  // The refund lowers revenue (25 − 5) but is no order: last purchase stays 2024-01-10.
  { customer_id: 'c4', first_purchase: '2024-01-10', last_purchase: '2024-01-10', orders: 1, revenue: 20, avg_order_value: 20, recency_days: 21, tenure_days: 21,
    purchase_days: 1, first_purchase_day: '2024-01-10', last_purchase_day: '2024-01-10', previous_purchase_day: null, purchase_day_total: 25, first_day_amount: 25 },
  // Refunds only: dates of the refund, no orders, no purchase days.
  { customer_id: 'c5', first_purchase: '2024-01-15', last_purchase: '2024-01-15', orders: 0, revenue: -10, avg_order_value: null, recency_days: 16, tenure_days: 16,
    purchase_days: 0, first_purchase_day: null, last_purchase_day: null, previous_purchase_day: null, purchase_day_total: null, first_day_amount: null },
];

describeEachEngine('stage SQL', import.meta.url, ({ engine }) => {
  beforeAll(async () => {
    const e = engine();
    await loadCustomerDays(e);
    await createLabelType(e);
    await runStatements(e, runParametersSql(e.dialect), { asOf: AS_OF });
    await runStatements(e, occasionsSql(e.dialect, false, true));
    await runStatements(e, customerFeaturesSql(e.dialect, true, NEEDS), { asOf: AS_OF });
    await runStatements(e, revenueCustomersSql(e.dialect));
  });

  it('computes the per-customer features (orders, revenue, recency, tenure and the purchase-day summary)', async () => {
    expect(await features(engine())).toEqual(EXPECTED_FEATURES);
    expect(await engine().one(ROW_COUNTS_SQL, { asOf: AS_OF })).toEqual({ excluded: 1, customers: 5 });
  });

  it('gives the same features when orders are not days (purchase days summed apart from the orders)', async () => {
    const e = engine();
    try {
      await runStatements(e, customerFeaturesSql(e.dialect, false, NEEDS), { asOf: AS_OF });
      // No order ids here, so every order is a day: the features worked out above.
      expect(await features(e)).toEqual(EXPECTED_FEATURES);
    } finally {
      await runStatements(e, customerFeaturesSql(e.dialect, true, NEEDS), { asOf: AS_OF });
    }
  });

  it('scores RFM by tie-aware quantile: 1 + ⌊5·(rank_min − 1)/n⌋, ties sharing a score', async () => {
    const e = engine();
    for (const { sql } of rfmScoresSql(e.dialect, 'quantile')) await runStatements(e, sql);
    // n = 5. R, worst (most days) first: 60, 21, 16, 10, 1 → 1..5.
    expect(await e.all(`SELECT recency_days, CAST(r_score AS INTEGER) AS r FROM rfm_recency_scores ORDER BY recency_days`)).toEqual([
      { recency_days: 1, r: 5 },
      { recency_days: 10, r: 4 },
      { recency_days: 16, r: 3 },
      { recency_days: 21, r: 2 },
      { recency_days: 60, r: 1 },
    ]);
    // F: 0 orders (rank 1) → 1; 1 order (c2, c4 share rank 2) → 1 + ⌊5·1/5⌋ = 2; 2 (rank 4) → 4; 3 (rank 5) → 5.
    expect(await e.all(`SELECT orders, CAST(f_score AS INTEGER) AS f FROM rfm_frequency_scores ORDER BY orders`)).toEqual([
      { orders: 0, f: 1 },
      { orders: 1, f: 2 },
      { orders: 2, f: 4 },
      { orders: 3, f: 5 },
    ]);
    // The worst value earning each score 2..5: R by max days, F and M by min value; F = 3 is earned by nobody, so its bound is F = 4's.
    const bounds = await e.one(`SELECT ${['r', 'f', 'm'].flatMap((s) => [2, 3, 4, 5].map((k) => `CAST(${s}_score_bound_${k} AS DOUBLE PRECISION) AS ${s}${k}`)).join(', ')} FROM rfm_score_bounds`);
    expect(bounds).toEqual({ r2: 21, r3: 16, r4: 10, r5: 1, f2: 1, f3: 2, f4: 2, f5: 3, m2: 20, m3: 50, m4: 60, m5: 80 });
  });

  it('gives each customer its RFM cell, named segment and value decile (the RFM layer)', async () => {
    const e = engine();
    for (const { sql } of rfmScoresSql(e.dialect, 'quantile')) await runStatements(e, sql);
    await loadSegmentMap(e, DEFAULT_SEGMENT_MAP);
    await runStatements(e, decileBoundsSql(e.dialect));
    const rows = await e.all(
      `SELECT customer_id, CAST(r_score AS INTEGER) AS r, CAST(f_score AS INTEGER) AS f, CAST(m_score AS INTEGER) AS m,
              CAST(rfm_cell AS VARCHAR) AS cell, CAST(rfm_segment AS VARCHAR) AS segment, CAST(value_decile AS INTEGER) AS decile
       FROM (${rfmLayerSql(e.dialect, 'quantile')('SELECT * FROM customer_features')}) l ORDER BY customer_id`,
    );
    // Segments on R and FM = ⌊(F + M)/2 + ½⌋; deciles: ntile(10) over revenue descending (5 customers: 1..5).
    expect(rows).toEqual([
      { customer_id: 'c1', r: 4, f: 5, m: 4, cell: '454', segment: 'Champions', decile: 2 },
      { customer_id: 'c2', r: 5, f: 2, m: 3, cell: '523', segment: 'Loyal', decile: 3 },
      { customer_id: 'c3', r: 1, f: 4, m: 5, cell: '145', segment: "Can't Lose Them", decile: 1 },
      { customer_id: 'c4', r: 2, f: 2, m: 2, cell: '222', segment: 'Need Attention', decile: 4 },
      { customer_id: 'c5', r: 3, f: 1, m: 1, cell: '311', segment: 'Promising', decile: 5 },
    ]);
  });

  it('scores RFM with fixed cut points from bound values', async () => {
    const e = engine();
    const cuts = { recency: [5, 15, 30, 45], frequency: [1, 2, 3, 4], monetary: [0, 30, 55, 70] };
    const dimensions = { recency: cuts.recency, frequency: cuts.frequency, monetary: cuts.monetary };
    for (const { dimension, sql } of rfmScoresSql(e.dialect, 'fixed')) await runStatements(e, sql, dimension ? cutParameters(dimensions[dimension]) : undefined);
    // R: days ≤ 5 → 5, ≤ 15 → 4, ≤ 30 → 3, ≤ 45 → 2, more → 1.
    expect(await e.all(`SELECT recency_days, CAST(r_score AS INTEGER) AS r FROM rfm_recency_scores ORDER BY recency_days`)).toEqual([
      { recency_days: 1, r: 5 },
      { recency_days: 10, r: 4 },
      { recency_days: 16, r: 3 },
      { recency_days: 21, r: 3 },
      { recency_days: 60, r: 1 },
    ]);
    // M: ≥ 70 → 5, ≥ 55 → 4, ≥ 30 → 3, ≥ 0 → 2, below → 1.
    expect(await e.all(`SELECT CAST(revenue AS DOUBLE PRECISION) AS revenue, CAST(m_score AS INTEGER) AS m FROM rfm_monetary_scores ORDER BY revenue`)).toEqual([
      { revenue: -10, m: 1 },
      { revenue: 20, m: 2 },
      { revenue: 50, m: 3 },
      { revenue: 60, m: 4 },
      { revenue: 80, m: 5 },
    ]);
  });

  it('scores RFM by ntile: equal groups, a tie broken by the stable hash of the id', async () => {
    const e = engine();
    for (const { sql } of rfmScoresSql(e.dialect, 'ntile')) await runStatements(e, sql);
    const scores = await e.all<{ customer_id: string; r: number; f: number; m: number }>(
      `SELECT customer_id, CAST(r_score AS INTEGER) AS r, CAST(f_score AS INTEGER) AS f, CAST(m_score AS INTEGER) AS m FROM rfm_scores ORDER BY customer_id`,
    );
    // c2 and c4 tie on 1 order: the smaller hash gets the worse group (2), the other 3.
    const [low, high] = md5Prefix60('c2') < md5Prefix60('c4') ? ['c2', 'c4'] : ['c4', 'c2'];
    const f = { c1: 5, c3: 4, c5: 1, [low]: 2, [high]: 3 } as Record<string, number>;
    expect(scores).toEqual([
      { customer_id: 'c1', r: 4, f: f.c1, m: 4 },
      { customer_id: 'c2', r: 5, f: f.c2, m: 3 },
      { customer_id: 'c3', r: 1, f: f.c3, m: 5 },
      { customer_id: 'c4', r: 2, f: f.c4, m: 2 },
      { customer_id: 'c5', r: 3, f: f.c5, m: 1 },
    ]);
  });

  it('computes the stable hash and the byte order of ids the same way on every engine', async () => {
    const e = engine();
    const ids = ['b', 'B', 'a', 'A', '_x', '0', 'é', 'z'];
    const rows = await e.all<{ id: string; h: number | string }>(
      `SELECT id, ${e.dialect.stableHash('id')} AS h FROM (VALUES ${ids.map(() => '(CAST(? AS VARCHAR))').join(', ')}) v(id) ORDER BY ${e.dialect.byteOrder('id')}`,
      ids,
    );
    const bytes = [...ids].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(rows.map((r) => r.id)).toEqual(bytes);
    expect(rows.map((r) => BigInt(r.h))).toEqual(bytes.map(md5Prefix60));
  });

  it('assigns lifecycle stages against each customer’s own rhythm', async () => {
    const e = engine();
    await runStatements(e, lifecycleParametersSql(e.dialect), { lostRatio: 4, lapsedRatio: 2.5, atRiskRatio: 1.5, loyalMinOrders: 3, lostPAlive: 0.1, atRiskPAlive: 0.3 });
    // Typical gaps of repeat buyers: c1 (20 − 0)/2 = 10 days, c3 30 days: the median is 20.
    expect(await e.one(`SELECT population_gap, loyal_min_orders FROM lifecycle_parameters`)).toEqual({ population_gap: 20, loyal_min_orders: 3 });
    const staged = await e.all(
      `SELECT customer_id, CAST(lifecycle_stage AS VARCHAR) AS stage FROM (${lifecycleLayerSql(e.dialect)(false)('SELECT * FROM customer_features')}) l ORDER BY customer_id`,
    );
    expect(staged).toEqual([
      // 10 days since, own gap 10: overdue 1 ≤ 1.5; 3 purchase days: loyal (last gap 10 is no lapse against 10 before).
      { customer_id: 'c1', stage: 'loyal' },
      // 1 day against the population's 20: new.
      { customer_id: 'c2', stage: 'new' },
      // 60 days against its own 30: overdue 2 > 1.5 → at_risk.
      { customer_id: 'c3', stage: 'at_risk' },
      // 21/20 = 1.05: still new.
      { customer_id: 'c4', stage: 'new' },
      // No purchase day: 16/20 on the population's rhythm, new.
      { customer_id: 'c5', stage: 'new' },
    ]);
  });

  it('gives the CLV inputs (frequency, recency, T, repeat spend) and their patterns', async () => {
    const e = engine();
    await runStatements(e, clvInputsSql(e.dialect));
    expect(await e.all(`SELECT customer_id, frequency, recency_days_model, t_days, monetary_value FROM clv_inputs ORDER BY customer_id`)).toEqual([
      // 3 purchase days: 2 repeats, first → last 20 days, first → as-of 30, repeat spend (20 + 30)/2.
      { customer_id: 'c1', frequency: 2, recency_days_model: 20, t_days: 30, monetary_value: 25 },
      { customer_id: 'c2', frequency: 0, recency_days_model: 0, t_days: 1, monetary_value: 0 },
      { customer_id: 'c3', frequency: 1, recency_days_model: 30, t_days: 90, monetary_value: 40 },
      // The refund day is no purchase day: c4 is a one-time buyer; c5 (refunds only) has no inputs.
      { customer_id: 'c4', frequency: 0, recency_days_model: 0, t_days: 21, monetary_value: 0 },
    ]);
    const { patterns, days } = await purchasePatterns(e, 'day');
    expect(Array.from(patterns.frequency)).toEqual([0, 0, 1, 2]);
    expect(Array.from(days.recency)).toEqual([0, 0, 30, 20]);
    expect(Array.from(days.T)).toEqual([1, 21, 90, 30]);
    expect(Array.from(patterns.weight)).toEqual([1, 1, 1, 1]);
  });
});
