/**
 * What crosses from the engine to crm (engine.pulled(), DESIGN §6): the CLV
 * stage pulls one row per pattern, the k-means stage its seeded sample, never
 * a row per customer; on a base of 3,000 customers with 20 purchase patterns,
 * where that is a real difference.
 */
import { beforeAll, expect, it } from 'vitest';
import type { Pulled, QueryEngine } from '../../src/engine/Engine.js';
import { runStatements } from '../../src/engine/tables.js';
import { startClv } from '../../src/stages/clv/stage.js';
import { clusterCustomers } from '../../src/stages/clusters/stage.js';
import { silentLogger } from '../../src/effects.js';
import { customerFeaturesSql, occasionsSql, runParametersSql } from '../../src/stages/features/queries.js';
import { config } from '../helpers.js';
import { describeEachEngine } from '../engines.js';
import { AS_OF, CUSTOMERS, loadGeneratedCustomerDays } from './generatedCustomers.js';

const OPTIONS = config({ inputs: ['unused.csv'], kmeans: { k: 3, sampleSize: 500, seed: 7 } });

/** What `work` pulled from the engine. */
async function pulledBy(engine: QueryEngine, work: () => Promise<unknown>): Promise<Pulled> {
  const before = engine.pulled();
  await work();
  const after = engine.pulled();
  return { rows: after.rows - before.rows, bytes: after.bytes - before.bytes };
}

/** The most bytes `values` numbers take as text (a double's shortest text is at most 24 characters). */
const atMostAsText = (values: number) => values * 24;

describeEachEngine('rows pulled per stage', import.meta.url, ({ name, engine }) => {
  beforeAll(async () => {
    const e = engine();
    await loadGeneratedCustomerDays(e);
    await runStatements(e, runParametersSql(e.dialect), { asOf: AS_OF });
    await runStatements(e, occasionsSql(e.dialect, false, true));
    await runStatements(e, customerFeaturesSql(e.dialect, true, { clv: true, lifecycle: true }), { asOf: AS_OF });
  });

  it('pulls one row per purchase pattern and per spend pattern for the CLV fits, not one per customer', async () => {
    const pulled = await pulledBy(engine(), async () => {
      const { finish } = await startClv(engine(), OPTIONS.clv, silentLogger);
      await finish();
    });
    // Purchase patterns: frequency i mod 4 with recency 20·frequency days, and T from the first day 30·(i mod 5): 4 × 5 = 20.
    // Spend patterns (frequency > 0): frequency 1..3 × mean repeat spend 10 + 5·(i mod 7) + (frequency + 1)/2: 3 × 7 = 21.
    // And one row for the base of the packed pattern keys.
    expect(pulled.rows).toBe(1 + 20 + 21);
    expect(pulled.rows).toBeLessThan(CUSTOMERS / 50);
    if (name === 'duckdb') expect(pulled.bytes).toBe(0);
    else {
      expect(pulled.bytes).toBeGreaterThan(0);
      expect(pulled.bytes).toBeLessThanOrEqual(atMostAsText(2 * pulled.rows));
    }
  });

  it('pulls the seeded sample for the k-means fit, not every customer', async () => {
    let sampleSize = 0;
    const pulled = await pulledBy(engine(), async () => {
      sampleSize = (await clusterCustomers(engine(), OPTIONS.kmeans, null)).fitted.sampleSize;
    });
    expect(sampleSize).toBe(500);
    // One row per sampled customer: its three z-scored features, the feature means and deviations and the customer count.
    expect(pulled.rows).toBe(500);
    if (name === 'duckdb') expect(pulled.bytes).toBe(0);
    else expect(pulled.bytes).toBeLessThanOrEqual(atMostAsText(500 * (3 + 2 * 3 + 1)));
  });
});
