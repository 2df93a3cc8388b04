import type { ScoreConfig } from '../../config/schema.js';
import type { Engine, QueryEngine } from '../../engine/Engine.js';
import { runStatements } from '../../engine/tables.js';
import { cutParameters, decileBoundsSql, revenueCustomersSql, rfmScoresSql, rfmThresholdsSql, segmentMapTableSql } from './queries.js';
import { segmentRows, type SegmentMap } from './segmentMap.js';
import { TABLES_BY_STAGE, type StageContract, type TableName } from '../tables.js';

/**
 * The RFM stage's tables (stages/tables.ts): the scores per distinct value and
 * their bounds (--rfm-method quantile or fixed) or per customer (ntile), the
 * value deciles' bounds and the segment map; the thresholds are read back
 * from the finished table.
 */
export const contract = {
  reads: ['customer_features', 'final_scores'],
  creates: TABLES_BY_STAGE.rfm,
} as const satisfies StageContract;

export interface ScoreRange {
  score: number;
  min: number;
  max: number;
  customers: number;
}

export interface RfmResult {
  method: ScoreConfig['rfm']['method'];
  thresholds: { recency: ScoreRange[]; frequency: ScoreRange[]; monetary: ScoreRange[] };
  cutPoints: ScoreConfig['rfm']['thresholds'] | null;
}

export async function loadSegmentMap(engine: QueryEngine, map: SegmentMap): Promise<void> {
  await runStatements(engine, segmentMapTableSql(engine.dialect));
  const rows = segmentRows(map);
  await engine.run(`INSERT INTO segment_map VALUES ${rows.map(() => '(?, ?)').join(', ')}`, rows.flat());
}

export async function scoreRfm(engine: Engine, rfm: ScoreConfig['rfm'], map: SegmentMap): Promise<Omit<RfmResult, 'thresholds'>> {
  await loadSegmentMap(engine, map);
  await runStatements(engine, revenueCustomersSql(engine.dialect));
  for (const { dimension, sql } of rfmScoresSql(engine.dialect, rfm.method)) {
    const cuts = rfm.method === 'fixed' && dimension ? rfm.thresholds![dimension] : null;
    await runStatements(engine, sql, cuts ? cutParameters(cuts) : undefined);
  }
  await runStatements(engine, decileBoundsSql(engine.dialect));
  return { method: rfm.method, cutPoints: rfm.thresholds ?? null };
}

/** The value range each score covers, from the finished table (the scored stage's). */
export async function rfmThresholds(engine: Engine, scored: TableName): Promise<RfmResult['thresholds']> {
  const ranges = await engine.all<ScoreRange & { dimension: keyof RfmResult['thresholds'] }>(rfmThresholdsSql(scored));
  const thresholds: RfmResult['thresholds'] = { recency: [], frequency: [], monetary: [] };
  for (const { dimension, ...range } of ranges) thresholds[dimension].push(range);
  return thresholds;
}
