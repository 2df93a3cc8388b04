import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/loadConfig.js';
import { silentEffects } from '../../../src/effects.js';
import { runScore, type ScoreSummary } from '../../../src/jobs/score.js';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../../src/stages/lifecycle/queries.js';
import { config, fixture, parseCsv, tempDir, withEngine } from '../../helpers.js';

const TIMELINES = fixture('lifecycle', 'timelines.csv');
const POPULATION = fixture('lifecycle', 'population.csv');
const AS_OF = '2024-06-30';

/**
 * fixtures/lifecycle/timelines.csv as of 2024-06-30 (its README has the same table).
 * Days are "days before the as-of date". gap = (first − last)/(purchase days − 1);
 * one-time buyers use the population gap = median of the 15 repeat buyers' gaps:
 * nine of 10, and 20, 20.5, 30, 30, 35, 60 → median (8th of 15) = 10.
 * overdue = recency / gap. Rules first match: lost > 6, lapsed > 3, at_risk > 1.5,
 * new (one day), reactivated (last gap > 3 × mean gap before it), loyal (≥ 4 days), active.
 *
 *   L01_NEW     [5]                gap 10 (pop.)  overdue 5/10 = 0.5            → new
 *   L02_ACTIVE  [25,15,5]          gap 20/2 = 10  0.5; last gap 10 = prior 10; 3 days < 4 → active
 *   L03_LOYAL   [45,35,25,15,5]    gap 40/4 = 10  0.5; 5 days ≥ 4                → loyal
 *   L04_REACT   [95,85,75,5]       gap 90/3 = 30  5/30 = 0.17; last gap 70 > 3 × prior (95−75)/2 = 10 → reactivated
 *                                  (reactivated is checked before loyal, so 4 days do not make it loyal)
 *   L05_ATRISK  [40,30,20]         gap 10         20/10 = 2.0 > 1.5             → at_risk
 *   L06_LAPSED  [60,50,40]         gap 10         40/10 = 4.0 > 3               → lapsed
 *   L07_LOST    [90,80,70]         gap 10         70/10 = 7.0 > 6               → lost
 *   L08_SLOW    [150,90]           gap 60         90/60 = 1.5 (on rhythm); last gap 60 > 3 × pop. 10 → reactivated
 * On the boundaries:
 *   B01_R15     [35,25,15]         gap 10         15/10 = 1.5, not > 1.5         → active
 *   B02_R30     [50,40,30]         gap 10         30/10 = 3.0 > 1.5, not > 3     → at_risk
 *   B03_R60     [80,70,60]         gap 10         60/10 = 6.0 > 3, not > 6       → lapsed
 *   B04_LOYAL4  [35,25,15,5]       gap 10         0.5; 4 days = loyalMinOrders, ≥ → loyal
 *   B05_GAP30   [50,40,10]         gap 40/2 = 20  10/20 = 0.5; last gap 30 = 3 × prior 10, not > → active
 *   B06_GAP31   [51,41,10]         gap 20.5       0.49; last gap 31 > 3 × prior 10 → reactivated
 *   B07_TWO35   [40,5]             gap 35         0.14; last gap 35 > 3 × pop. 10 (no gap before it) → reactivated
 *   B08_TWO30   [35,5]             gap 30         0.17; last gap 30 = 3 × pop. 10, not > → active
 *   O01_D15     [15]               gap 10 (pop.)  1.5, not > 1.5                 → new
 *   O02_D16     [16]                              1.6 > 1.5                      → at_risk
 *   O03_D30     [30]                              3.0, not > 3                   → at_risk
 *   O04_D31     [31]                              3.1 > 3                        → lapsed
 *   O05_D60     [60]                              6.0, not > 6                   → lapsed
 *   O06_D61     [61]                              6.1 > 6                        → lost
 */
const EXPECTED: Record<string, LifecycleStage> = {
  B01_R15: 'active',
  B02_R30: 'at_risk',
  B03_R60: 'lapsed',
  B04_LOYAL4: 'loyal',
  B05_GAP30: 'active',
  B06_GAP31: 'reactivated',
  B07_TWO35: 'reactivated',
  B08_TWO30: 'active',
  L01_NEW: 'new',
  L02_ACTIVE: 'active',
  L03_LOYAL: 'loyal',
  L04_REACT: 'reactivated',
  L05_ATRISK: 'at_risk',
  L06_LAPSED: 'lapsed',
  L07_LOST: 'lost',
  L08_SLOW: 'reactivated',
  O01_D15: 'new',
  O02_D16: 'at_risk',
  O03_D30: 'at_risk',
  O04_D31: 'lapsed',
  O05_D60: 'lapsed',
  O06_D61: 'lost',
};

interface Scored {
  summary: ScoreSummary;
  stages: Record<string, LifecycleStage>;
  rows: { customer_id: string; lifecycle_stage: LifecycleStage; frequency: number | null; p_alive: number | null }[];
  out: string;
}

async function score(input: string, options: { clv?: boolean; lifecycle?: Record<string, unknown> } = {}): Promise<Scored> {
  const out = await tempDir();
  return withEngine(async (engine) => {
    const summary = await runScore(
      engine,
      config({
        inputs: [input],
        out,
        asOf: AS_OF,
        noDb: true,
        format: ['csv'],
        clv: { enabled: options.clv ?? false },
        lifecycle: options.lifecycle ?? {},
        kmeans: { enabled: false },
      }),
      silentEffects,
    );
    const rows = await engine.all<Scored['rows'][number]>(
      `SELECT customer_id, lifecycle_stage, ${options.clv ? 'frequency, p_alive' : 'NULL AS frequency, NULL AS p_alive'} FROM final_scores ORDER BY customer_id`,
    );
    return { summary, rows, stages: Object.fromEntries(rows.map((r) => [r.customer_id, r.lifecycle_stage])), out };
  });
}

const withChanges = (changes: Record<string, LifecycleStage>) => ({ ...EXPECTED, ...changes });

describe('lifecycle stages on hand-built timelines (CLV off)', () => {
  it('gives every customer the stage worked out by hand, boundaries included', async () => {
    const { stages, summary } = await score(TIMELINES);
    expect(stages).toEqual(EXPECTED);
    expect(summary.lifecycle?.usedPAlive).toBe(false);
    expect(summary.lifecycle?.thresholds).toMatchObject({ atRiskRatio: 1.5, lapsedRatio: 3, lostRatio: 6, loyalMinOrders: 4 });
  });

  it('every customer has exactly one of the 7 stages; the summary counts add up to the customers', async () => {
    const { rows, summary } = await score(TIMELINES);
    expect(summary.customers).toBe(22);
    expect(rows).toHaveLength(22);
    expect(new Set(rows.map((r) => r.customer_id)).size).toBe(22);
    for (const row of rows) expect(LIFECYCLE_STAGES).toContain(row.lifecycle_stage);
    const counts = summary.lifecycle!.counts;
    expect(Object.keys(counts)).toEqual([...LIFECYCLE_STAGES]);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(summary.customers);
    expect(counts).toEqual({ new: 2, active: 4, loyal: 2, reactivated: 4, at_risk: 4, lapsed: 4, lost: 2 });
  });

  it('writes stages.csv with all 7 stages, customers, revenue and shares (revenue from the file itself)', async () => {
    const { out, summary } = await score(TIMELINES);
    const stagesCsv = parseCsv(await readFile(path.join(out, 'stages.csv'), 'utf8'));
    expect(stagesCsv.map((r) => r.stage)).toEqual([...LIFECYCLE_STAGES]);
    expect(Object.keys(stagesCsv[0]!)).toEqual(['stage', 'customers', 'customer_share', 'revenue', 'revenue_share']);

    // Expected revenue per stage: the fixture's rows on or before the as-of date, by the customer's stage.
    const revenue = Object.fromEntries(LIFECYCLE_STAGES.map((s) => [s, 0])) as Record<LifecycleStage, number>;
    const lines = (await readFile(TIMELINES, 'utf8')).trim().split('\n').slice(1);
    for (const line of lines) {
      const [id, date, amount] = line.split(',');
      if (date! <= AS_OF) revenue[EXPECTED[id!]!] += Number(amount);
    }
    const total = Object.values(revenue).reduce((a, b) => a + b, 0);
    for (const row of stagesCsv) {
      const stage = row.stage as LifecycleStage;
      expect(Number(row.customers), stage).toBe(summary.lifecycle!.counts[stage]);
      expect(Number(row.customer_share)).toBeCloseTo(summary.lifecycle!.counts[stage] / 22, 6);
      expect(Number(row.revenue)).toBeCloseTo(revenue[stage], 6);
      expect(Number(row.revenue_share)).toBeCloseTo(revenue[stage] / total, 6);
    }
    expect(stagesCsv.reduce((s, r) => s + Number(r.customers), 0)).toBe(22);
    expect(stagesCsv.every((r) => Number(r.customers) > 0)).toBe(true);
  });

  it('moves customers when the thresholds change', async () => {
    // atRiskRatio 2: L05 (2.0) is no longer > 2 → active (3 days); O02 (1.6) → new; O03 (3.0) stays at_risk.
    // lapsedRatio 4: L06 (4.0) is no longer > 4 → at_risk; B03 (6.0) stays lapsed; O04 (3.1) → at_risk.
    //   Reactivation also compares against lapsedRatio: B06 (31 vs 4 × 10) → active, B07 (35 vs 40) → active,
    //   L08 (60 > 40) and L04 (70 > 40) stay reactivated.
    const moved = await score(TIMELINES, { lifecycle: { atRiskRatio: 2, lapsedRatio: 4 } });
    expect(moved.stages).toEqual(
      withChanges({ L05_ATRISK: 'active', O02_D16: 'new', L06_LAPSED: 'at_risk', O04_D31: 'at_risk', B06_GAP31: 'active', B07_TWO35: 'active' }),
    );
    // lostRatio 7: L07 (7.0) is no longer > 7 → lapsed; O06 (6.1) → lapsed.
    // loyalMinOrders 3: every on-rhythm 3-day customer becomes loyal: L02, B01, B05 (B05's last gap is not a lapse).
    const other = await score(TIMELINES, { lifecycle: { lostRatio: 7, loyalMinOrders: 3 } });
    expect(other.stages).toEqual(withChanges({ L07_LOST: 'lapsed', O06_D61: 'lapsed', L02_ACTIVE: 'loyal', B01_R15: 'loyal', B05_GAP30: 'loyal' }));
    // loyalMinOrders 5: B04 (4 days) → active; L03 (5 days = 5) stays loyal.
    const five = await score(TIMELINES, { lifecycle: { loyalMinOrders: 5 } });
    expect(five.stages).toEqual(withChanges({ B04_LOYAL4: 'active' }));
    expect(five.summary.lifecycle?.thresholds.loyalMinOrders).toBe(5);
  });

  it('rejects thresholds out of order, naming the field', () => {
    expect(() => config({ lifecycle: { atRiskRatio: 3, lapsedRatio: 3 } })).toThrow(ConfigError);
    expect(() => config({ lifecycle: { atRiskRatio: 3, lapsedRatio: 3 } })).toThrow(/lifecycle.*atRiskRatio < lapsedRatio < lostRatio/);
  });

  it('with CLV on but a BG/NBD fit that does not converge, falls back to the ratios alone', async () => {
    // 22 metronome-regular customers do not identify the model: p_alive is null, not garbage.
    const { stages, summary, rows } = await score(TIMELINES, { clv: true });
    expect(summary.clv?.bgnbd?.converged).toBe(false);
    expect(rows.every((r) => r.p_alive === null)).toBe(true);
    expect(summary.lifecycle?.usedPAlive).toBe(false);
    expect(stages).toEqual(EXPECTED);
  });
});

describe('lifecycle P(alive) rules (CLV on, BG/NBD converged)', () => {
  /**
   * fixtures/lifecycle/population.csv (README): 500 simulated BG/NBD customers and S01–S03.
   * With P(alive) the rules are: lost if overdue > 6 or P(alive) < 0.1; lapsed if > 3;
   * at_risk if > 1.5 or (≥ 2 purchase days and P(alive) < 0.5); otherwise as without CLV.
   * So, per customer, from the stage without CLV (off) and P(alive) p:
   *   p < lostPAlive                                   → lost
   *   off ∈ {lost, lapsed, at_risk}                    → off
   *   frequency ≥ 1 (≥ 2 purchase days), p < atRisk    → at_risk
   *   otherwise                                        → off
   */
  const expectedWithPAlive = (off: LifecycleStage, p: number, frequency: number, t = { atRisk: 0.5, lost: 0.1 }): LifecycleStage => {
    if (p < t.lost) return 'lost';
    if (off === 'lost' || off === 'lapsed' || off === 'at_risk') return off;
    if (frequency >= 1 && p < t.atRisk) return 'at_risk';
    return off;
  };

  it('moves on-rhythm repeat buyers with P(alive) < 0.5 to at_risk and anyone below 0.1 to lost', async () => {
    const [off, on] = [await score(POPULATION), await score(POPULATION, { clv: true })];
    const bg = on.summary.clv!.bgnbd!;
    expect(bg.converged).toBe(true);
    expect(on.summary.lifecycle?.usedPAlive).toBe(true);
    expect(on.rows).toHaveLength(503);

    // S01_SLOW: x = 1 repeat day, t_x = 70 days = 10 weeks, T = 175 days = 25 weeks; recency 105 = 1.5 × its gap 70,
    // so on rhythm; without CLV it is reactivated (70 > 3 × the population gap ≈ 13.3).
    // P(alive) = 1 / (1 + a/(b + x − 1) · ((α + T)/(α + t_x))^(r + x)) ≈ 1 / (1 + 0.369 · (32.64/17.64)^4.84) ≈ 0.12.
    const s01 = on.rows.find((r) => r.customer_id === 'S01_SLOW')!;
    const { r, alpha, a, b } = bg.params as { r: number; alpha: number; a: number; b: number };
    const pAlive = 1 / (1 + (a / (b + 1 - 1)) * ((alpha + 25) / (alpha + 10)) ** (r + 1));
    expect(s01.p_alive!).toBeCloseTo(pAlive, 9);
    expect(s01.p_alive!).toBeLessThan(0.5);
    expect(s01.p_alive!).toBeGreaterThanOrEqual(0.1);
    expect(off.stages.S01_SLOW).toBe('reactivated');
    expect(on.stages.S01_SLOW).toBe('at_risk');
    // S03_GONE: [180, 150]: overdue 150/30 = 5 → lapsed by the ratio; P(alive) ≈ 0.02 < 0.1 → lost.
    expect(off.stages.S03_GONE).toBe('lapsed');
    expect(on.rows.find((r) => r.customer_id === 'S03_GONE')!.p_alive!).toBeLessThan(0.1);
    expect(on.stages.S03_GONE).toBe('lost');
    // S02_STEADY: every 14 days, 7 days ago: P(alive) ≈ 0.83 → loyal either way.
    expect(on.rows.find((r) => r.customer_id === 'S02_STEADY')!.p_alive!).toBeGreaterThan(0.5);
    expect([off.stages.S02_STEADY, on.stages.S02_STEADY]).toEqual(['loyal', 'loyal']);

    // Every customer follows the rule, and it does move some of the simulated customers too.
    for (const row of on.rows) {
      expect(row.lifecycle_stage, row.customer_id).toBe(expectedWithPAlive(off.stages[row.customer_id]!, row.p_alive!, row.frequency!));
    }
    const moved = on.rows.filter((row) => row.lifecycle_stage !== off.stages[row.customer_id]);
    expect(moved.filter((row) => row.lifecycle_stage === 'lost').length).toBeGreaterThan(10);
    expect(moved.filter((row) => row.lifecycle_stage === 'at_risk').length).toBeGreaterThanOrEqual(2);
    expect(Object.values(on.summary.lifecycle!.counts).reduce((x, y) => x + y, 0)).toBe(503);
  });

  it('applies configured P(alive) thresholds', async () => {
    // lostPAlive 0.2: S01 (≈ 0.12) is now lost; atRiskPAlive 0.9: S02 (≈ 0.83, loyal) is now at_risk.
    const [off, on] = [await score(POPULATION), await score(POPULATION, { clv: true, lifecycle: { atRiskPAlive: 0.9, lostPAlive: 0.2 } })];
    expect(on.stages.S01_SLOW).toBe('lost');
    expect(on.stages.S02_STEADY).toBe('at_risk');
    for (const row of on.rows) {
      expect(row.lifecycle_stage, row.customer_id).toBe(expectedWithPAlive(off.stages[row.customer_id]!, row.p_alive!, row.frequency!, { atRisk: 0.9, lost: 0.2 }));
    }
  });
});
