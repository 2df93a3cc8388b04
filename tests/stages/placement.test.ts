/**
 * Where the stage tables of a run go, and where their queries run: on Citus
 * per-customer tables distributed by customer_id and co-located with
 * customer_days, small ones reference tables, and the per-customer queries
 * pushed down to the workers (EXPLAIN), with the same results as DuckDB's.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DuckDbEngine } from '../../src/engine/duckdb/DuckDbEngine.js';
import type { QueryEngine, SqlParams } from '../../src/engine/Engine.js';
import type { RecipeStatement } from '../../src/engine/dialect.js';
import { postgresDialect } from '../../src/engine/postgres/dialect.js';
import { runStatements } from '../../src/engine/tables.js';
import { loadSegmentMap } from '../../src/stages/rfm/stage.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP } from '../../src/stages/rfm/segmentMap.js';
import { clvInputsSql } from '../../src/stages/clv/queries.js';
import { customerFeaturesSql, occasionsSql, runParametersSql } from '../../src/stages/features/queries.js';
import { LIFECYCLE_STAGES, lifecycleLayerSql, lifecycleParametersSql } from '../../src/stages/lifecycle/queries.js';
import { decileBoundsSql, revenueCustomersSql, rfmLayerSql, rfmScoresSql } from '../../src/stages/rfm/queries.js';
import { LABEL_TYPE, stack } from '../../src/stages/scored/queries.js';
import { describeEachEngine, POSTGRES_HAS_CITUS } from '../engines.js';
import { AS_OF, CUSTOMERS, loadGeneratedCustomerDays } from './generatedCustomers.js';

const LIFECYCLE_PARAMETERS = { lostRatio: 4, lapsedRatio: 2.5, atRiskRatio: 1.5, loyalMinOrders: 3, lostPAlive: 0.1, atRiskPAlive: 0.3 };
const NEEDS = { clv: true, lifecycle: true };

/** The stage tables of a run up to its layers: features, RFM (quantile), lifecycle parameters, CLV inputs. */
async function runStages(engine: QueryEngine): Promise<void> {
  const d = engine.dialect;
  await loadGeneratedCustomerDays(engine);
  const labels = [...LIFECYCLE_STAGES, ...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys()];
  await engine.run(`DROP TYPE IF EXISTS ${LABEL_TYPE}`);
  await engine.run(`CREATE TYPE ${LABEL_TYPE} AS ENUM (${labels.map((s) => d.quoteString(s)).join(', ')})`);
  await runStatements(engine, runParametersSql(d), { asOf: AS_OF });
  await runStatements(engine, occasionsSql(d, false, true));
  await runStatements(engine, customerFeaturesSql(d, true, NEEDS), { asOf: AS_OF });
  await runStatements(engine, revenueCustomersSql(d));
  for (const { sql } of rfmScoresSql(d, 'quantile')) await runStatements(engine, sql);
  await loadSegmentMap(engine, DEFAULT_SEGMENT_MAP);
  await runStatements(engine, decileBoundsSql(d));
  await runStatements(engine, lifecycleParametersSql(d), LIFECYCLE_PARAMETERS);
  await runStatements(engine, clvInputsSql(d));
}

/** The RFM and lifecycle layers stacked over the customers, as the scored table stacks them. */
const scoredLayers = (engine: QueryEngine) => stack([lifecycleLayerSql(engine.dialect)(false), rfmLayerSql(engine.dialect, 'quantile')]);

/** Every customer's scored columns, as plain values, in id order. */
const scoredRows = (engine: QueryEngine) =>
  engine.all(
    `SELECT customer_id, CAST(first_purchase AS VARCHAR) AS first_purchase, orders, CAST(revenue AS DOUBLE PRECISION) AS revenue,
            recency_days, tenure_days, CAST(r_score AS INTEGER) AS r, CAST(f_score AS INTEGER) AS f, CAST(m_score AS INTEGER) AS m,
            CAST(rfm_segment AS VARCHAR) AS segment, CAST(value_decile AS INTEGER) AS decile, CAST(lifecycle_stage AS VARCHAR) AS stage
     FROM (${scoredLayers(engine)}) scored ORDER BY ${engine.dialect.byteOrder('customer_id')}`,
  );

const clvInputRows = (engine: QueryEngine) =>
  engine.all(`SELECT customer_id, frequency, recency_days_model, t_days, monetary_value FROM clv_inputs ORDER BY ${engine.dialect.byteOrder('customer_id')}`);

/** The statement of a recipe that fills the table (INSERT … SELECT on Citus). */
const fillStatement = (recipe: readonly RecipeStatement[]) => {
  const sql = recipe.map((statement) => (typeof statement === 'string' ? statement : statement.sql));
  return sql.findLast((statement) => statement.startsWith('INSERT INTO'))!;
};

async function explain(engine: QueryEngine, sql: string, params?: SqlParams): Promise<string> {
  return (await engine.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).map((row) => row['QUERY PLAN']).join('\n');
}

/**
 * A plan Citus runs whole as tasks on the workers, one per shard: nothing
 * gathered on the coordinator, no rows sent between workers (a repartition).
 */
async function expectPushedDown(engine: QueryEngine, plan: string): Promise<void> {
  const shards = (await engine.one<{ n: number }>(`SELECT count(*) AS n FROM citus_shards WHERE table_name = to_regclass('customer_days')`))!.n;
  const workers = await engine.all<{ nodeport: number }>(`SELECT nodeport FROM pg_dist_node WHERE groupid <> 0`);
  expect(plan).toMatch(/^Custom Scan \(Citus Adaptive\)/);
  expect(plan).toContain(`Task Count: ${shards}`);
  expect(workers.some(({ nodeport }) => plan.includes(`port=${nodeport} `))).toBe(true);
  expect(plan).not.toMatch(/pull to coordinator|repartition|Distributed Subplan|read_intermediate_result/i);
}

/** Citus plans an INSERT … SELECT with bound parameters only once it runs them (EXPLAIN says "could not create distributed plan"): the as-of as a literal, for EXPLAIN only. */
const withAsOfLiteral = (sql: string) => sql.replaceAll(/\$asOf\b/g, `CAST('${AS_OF}' AS DATE)`);

describeEachEngine('stage tables', import.meta.url, ({ name, engine, schema }) => {
  it('replace a table of the run, never a table of that name in crm’s schema', async () => {
    const e = engine();
    const q = e.dialect.quoteIdentifier;
    // DuckDB's `main` alone would name the temp catalog's main schema first: the database's own, by its name.
    const home = name === 'duckdb' ? `${q((await e.one<{ db: string }>(`SELECT current_database() AS db`))!.db)}.main` : q(schema);
    await e.run(`CREATE TABLE ${home}.shadowed (v INTEGER)`);
    await e.run(`INSERT INTO ${home}.shadowed VALUES (7)`);
    // On PostgreSQL the plain (TEMP table) recipe first, while the session has no table of that name (the cluster may be Citus), then the engine's own.
    const dialects = name === 'postgres' ? [postgresDialect, e.dialect] : [e.dialect];
    for (const dialect of dialects) {
      for (const value of [1, 2]) await runStatements(e, dialect.createTempTableAs('shadowed', `SELECT CAST(? AS INTEGER) AS v`), [value]);
      await runStatements(e, dialect.createTempTable('shadowed', 'v INTEGER'));
      expect(await e.all(`SELECT v FROM ${home}.shadowed`)).toEqual([{ v: 7 }]);
    }
  });
});

describeEachEngine(
  'stage tables on Citus',
  import.meta.url,
  ({ engine }) => {
    let duckdb: DuckDbEngine;
    beforeAll(async () => {
      duckdb = await DuckDbEngine.create({ threads: 1 });
      await runStages(duckdb);
      if (POSTGRES_HAS_CITUS) await runStages(engine());
    });
    afterAll(async () => {
      await duckdb?.close();
    });

    it.runIf(POSTGRES_HAS_CITUS)('distributes the per-customer tables by customer_id, co-located with customer_days; the small ones are reference tables', async () => {
      const placed = await engine().all<{ tab: string; partmethod: string; by: string | null; colocated: boolean }>(
        `SELECT c.relname AS tab, p.partmethod, column_to_column_name(p.logicalrelid, p.partkey) AS by,
                p.colocationid = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = to_regclass('customer_days')) AS colocated
         FROM pg_dist_partition p JOIN pg_class c ON c.oid = p.logicalrelid
         WHERE c.relnamespace = to_regnamespace((current_schemas(false))[1]) ORDER BY c.relname`,
      );
      const perCustomer = { partmethod: 'h', by: 'customer_id', colocated: true };
      const reference = { partmethod: 'n', by: null, colocated: false };
      expect(Object.fromEntries(placed.map(({ tab, ...placement }) => [tab, placement]))).toEqual({
        clv_inputs: perCustomer,
        customer_days: perCustomer,
        customer_features: perCustomer,
        lifecycle_parameters: reference,
        rfm_decile_bounds: reference,
        rfm_frequency_scores: reference,
        rfm_monetary_scores: reference,
        rfm_recency_scores: reference,
        rfm_revenue_customers: reference,
        rfm_score_bounds: reference,
        run_parameters: reference,
        segment_map: reference,
      });
    });

    it.runIf(POSTGRES_HAS_CITUS)('makes the tables loaded from typed arrays (patterns, predictions) reference tables', async () => {
      await engine().loadColumns('clv_groups', { frequency: [0, 1], t_days: [30, 60], expected_purchases: [0.5, 1.5], clv_factor: [0.4, 1.2] });
      expect(await engine().one(`SELECT partmethod, repmodel FROM pg_dist_partition WHERE logicalrelid = to_regclass('clv_groups')`)).toEqual({ partmethod: 'n', repmodel: 't' });
      expect(await engine().one(`SELECT count(*) AS n, sum(clv_factor) AS total FROM clv_groups`)).toEqual({ n: 2, total: 1.6 });
    });

    it.runIf(POSTGRES_HAS_CITUS)('runs the features query on the workers: the per-customer aggregation pushed down, nothing through the coordinator', async () => {
      const e = engine();
      // Orders as days (one pass), and by order id (a second aggregate over the days).
      for (const ordersAreDays of [true, false]) {
        const plan = await explain(e, withAsOfLiteral(fillStatement(customerFeaturesSql(e.dialect, ordersAreDays, NEEDS))));
        await expectPushedDown(e, plan);
        // Grouped by customer_id on each shard, not gathered and grouped on the coordinator.
        expect(plan).toMatch(/Group Key: .*customer_id/);
      }
    });

    it.runIf(POSTGRES_HAS_CITUS)('runs the scored layers (RFM, lifecycle) on the workers, joining the reference tables there', async () => {
      const e = engine();
      await expectPushedDown(e, await explain(e, scoredLayers(e)));
      await expectPushedDown(e, await explain(e, fillStatement(clvInputsSql(e.dialect))));
    });

    it.runIf(POSTGRES_HAS_CITUS)('gives the same scored columns and CLV inputs as DuckDB', async () => {
      const rows = await scoredRows(engine());
      expect(rows.length).toBe(CUSTOMERS);
      expect(rows).toEqual(await scoredRows(duckdb));
      expect(await clvInputRows(engine())).toEqual(await clvInputRows(duckdb));
    });

    // The session's jit = off stays on the coordinator: each worker JIT-compiled its part of the scored table's
    // query (40 of the 107 s of a 10M-row run). Read on the shards: current_setting runs there.
    it.runIf(POSTGRES_HAS_CITUS)('runs the stage queries on the workers without JIT, through run, all and the cursors', async () => {
      const e = engine();
      const onShards = `SELECT DISTINCT current_setting('jit') AS jit FROM customer_days`;
      expect(await e.all(onShards)).toEqual([{ jit: 'off' }]);
      const chunks = [];
      for await (const chunk of e.streamColumns(onShards)) chunks.push(chunk.columns);
      expect(chunks).toEqual([[['off']]]);
      await runStatements(e, e.dialect.createTempTableAs('jit_on_workers', `SELECT customer_id, current_setting('jit') AS jit FROM customer_days`));
      expect(await e.all(`SELECT DISTINCT jit FROM jit_on_workers`)).toEqual([{ jit: 'off' }]);
    });
  },
  'postgres',
);
