/**
 * Each stage's declared tables (its stage.ts `contract`, names from
 * src/stages/tables.ts) against what it does, on every engine: the CDNOW run
 * made stage by stage as crm score makes it, twice (the default options; and
 * ntile RFM, MBG/NBD with a holdout, k-means on clv, features in 3 buckets of
 * customers and a run history, the options under which the stages make or
 * read their other tables). Before each
 * step every table of the run that its stage does not declare is renamed out
 * of the way, so a stage that reads a table it does not declare fails; after
 * it, the new tables are those it created.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { ScoreConfig } from '../../src/config/schema.js';
import { LIFECYCLE_STAGES } from '../../src/config/lists.js';
import type { Engine, QueryEngine } from '../../src/engine/Engine.js';
import { EMBEDDED_CAPABILITIES } from '../../src/engine/dialect.js';
import { silentLogger } from '../../src/effects.js';
import * as clusters from '../../src/stages/clusters/stage.js';
import * as clv from '../../src/stages/clv/stage.js';
import * as features from '../../src/stages/features/stage.js';
import * as history from '../../src/stages/history/stage.js';
import * as lifecycle from '../../src/stages/lifecycle/stage.js';
import * as rfm from '../../src/stages/rfm/stage.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP } from '../../src/stages/rfm/segmentMap.js';
import { rfmLayerSql } from '../../src/stages/rfm/queries.js';
import * as scored from '../../src/stages/scored/stage.js';
import { DROP_SCORING_INPUTS_SQL, SCORED_COLUMNS, type Layer, type ScoredColumn } from '../../src/stages/scored/queries.js';
import { RUN_TABLES, TABLES_BY_STAGE, type StageContract, type TableName } from '../../src/stages/tables.js';
import { describeEachEngine, type EngineName } from '../engines.js';
import { CDNOW_CSV, config, tempDir } from '../helpers.js';

const CONTRACTS: Record<string, StageContract> = {
  features: features.contract,
  clv: clv.contract,
  rfm: rfm.contract,
  lifecycle: lifecycle.contract,
  clusters: clusters.contract,
  scored: scored.contract,
  history: history.contract,
};
type StageName = keyof typeof CONTRACTS;

const AS_OF = '1997-09-30';
const DEFAULTS = config({ inputs: [CDNOW_CSV], out: 'unused', asOf: AS_OF });
const OTHERS = config({
  inputs: [CDNOW_CSV],
  out: 'unused',
  asOf: AS_OF,
  rfm: { method: 'ntile' },
  clv: { model: 'mbgnbd', holdoutDays: 91 },
  kmeans: { useClv: true },
  customerBuckets: 3,
});

interface RunTable {
  qualifier: string;
  name: string;
  isView: boolean;
}

/**
 * The run's own tables and views: DuckDB's temp catalog; PostgreSQL's session
 * temp schema and, on Citus, the run's scratch schema.
 */
async function runTables(name: EngineName, engine: QueryEngine): Promise<RunTable[]> {
  if (name === 'duckdb') {
    return engine.all<RunTable>(
      `SELECT 'temp.main' AS qualifier, table_name AS name, table_type = 'VIEW' AS "isView" FROM information_schema.tables WHERE table_catalog = 'temp'`,
    );
  }
  const scratch = (engine as { scratchSchema?: string | null }).scratchSchema ?? '';
  return engine.all<RunTable>(
    `SELECT quote_ident(table_schema) AS qualifier, table_name AS name, table_type = 'VIEW' AS "isView" FROM information_schema.tables
     WHERE table_schema = (SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()) OR table_schema = ?`,
    [scratch],
  );
}

const HIDDEN = '_hidden_from_stage';

/** What one run saw of each stage: the tables its steps created, and those of its declared reads that were there before a step. */
type Seen = Record<StageName, { created: Set<string>; readable: Set<string> }>;

/**
 * Runs `work` as a step of `stage` with only the tables the stage declares in
 * sight, and records what it created. `engineOwn`: the tables behind the
 * load's customer_days view (Ingested.dayTables), the engine's, not a stage's.
 */
async function step(name: EngineName, engine: QueryEngine, seen: Seen, stage: StageName, engineOwn: ReadonlySet<string>, work: () => Promise<void>): Promise<void> {
  const { reads, creates } = CONTRACTS[stage]!;
  const declared = new Set<string>([...reads, ...creates]);
  const before = (await runTables(name, engine)).filter((t) => !engineOwn.has(t.name));
  const hidden = before.filter((t) => !declared.has(t.name));
  const rename = async (t: RunTable, from: string, to: string) =>
    engine.run(`ALTER ${t.isView ? 'VIEW' : 'TABLE'} ${t.qualifier}.${engine.dialect.quoteIdentifier(from)} RENAME TO ${engine.dialect.quoteIdentifier(to)}`);
  for (const t of hidden) await rename(t, t.name, t.name + HIDDEN);
  try {
    await work();
  } catch (error) {
    throw new Error(`stage ${stage}, with only its declared tables in sight (${[...declared].join(', ')}): ${(error as Error).message}`);
  }
  const after = (await runTables(name, engine)).filter((t) => !engineOwn.has(t.name));
  for (const t of hidden) await rename(t, t.name + HIDDEN, t.name);
  const had = new Set(before.map((t) => t.name));
  for (const t of after) if (!t.name.endsWith(HIDDEN) && !had.has(t.name)) seen[stage].created.add(t.name);
  for (const table of reads) if (had.has(table)) seen[stage].readable.add(table);
}

/** The CDNOW run stage by stage, in the order and with the options of crm score (src/jobs/score.ts). */
async function scoreByStage(name: EngineName, engine: Engine, options: ScoreConfig, seen: Seen, recordIn: { db: string | null } | null): Promise<void> {
  await engine.setRunDay(new Date());
  const loaded = await engine.ingest(options.inputs, { ...options, now: new Date() });
  const engineOwn = new Set(loaded.dayTables.map((table) => table.split('.').at(-1)!.replaceAll('"', '')));
  const checked = (stage: StageName, work: () => Promise<void>) => step(name, engine, seen, stage, engineOwn, work);
  const asOf = await features.resolveAsOf(engine, options.asOf, loaded.runDay);
  const buckets = features.featureBuckets(engine, options.customerBuckets, loaded);
  let holdout: Awaited<ReturnType<typeof clv.runHoldout>> | null = null;
  if (options.clv.holdoutDays) {
    const days = options.clv.holdoutDays;
    const calibrationEnd = new Date(Date.parse(`${asOf}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
    await checked('features', async () => void (await features.computeFeatures(engine, calibrationEnd, loaded, { clv: true, lifecycle: false }, buckets)));
    await checked('clv', async () => void (holdout = await clv.runHoldout(engine, options.clv, calibrationEnd, asOf, days)));
    await features.dropOccasions(engine, loaded);
  }
  await checked('features', async () => void (await features.computeFeatures(engine, asOf, loaded, { clv: true, lifecycle: true }, buckets)));
  await features.dropOccasions(engine, loaded);
  await engine.dropCustomerDays(loaded);

  let started: clv.StartedClv;
  await checked('clv', async () => void (started = await clv.startClv(engine, options.clv, silentLogger, holdout)));
  let rfmResult: Awaited<ReturnType<typeof rfm.scoreRfm>>;
  await checked('rfm', async () => void (rfmResult = await rfm.scoreRfm(engine, options.rfm, DEFAULT_SEGMENT_MAP)));
  let lifecycleStage: Awaited<ReturnType<typeof lifecycle.assignLifecycle>>;
  await checked('lifecycle', async () => void (lifecycleStage = await lifecycle.assignLifecycle(engine, options.lifecycle)));
  let clusterStage: Awaited<ReturnType<typeof clusters.clusterCustomers>> | null = null;
  const fitClusters = (clvLayer: Layer | null) => checked('clusters', async () => void (clusterStage = await clusters.clusterCustomers(engine, options.kmeans, clvLayer)));
  if (!options.kmeans.useClv) await fitClusters(null);
  let clvResult: clv.ClvResult;
  await checked('clv', async () => void (clvResult = await started!.finish()));
  expect(clvResult!.available).toBe(true);
  if (options.kmeans.useClv) await fitClusters(started!.layer);

  const stages = new Set<ScoredColumn['stage']>(['features', 'rfm', 'clv', 'lifecycle', 'clusters']);
  const layers = [started!.layer, lifecycleStage!.layer(true), clusterStage!.layer, rfmLayerSql(engine.dialect, options.rfm.method)];
  const runHistory = recordIn ? await history.attachHistory(engine, recordIn.db) : null;
  const next = runHistory ? await history.nextRunId(engine, runHistory) : null;
  let knownLabels = 0;
  let scoredTable: TableName;
  await checked('scored', async () => {
    ({ knownLabels, table: scoredTable } = await scored.scoreTable(engine, {
      stages,
      layers,
      internal: ['raw_cluster'],
      vocabulary: [...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys(), ...LIFECYCLE_STAGES],
      history: runHistory && next ? { history: runHistory, previousRun: next.previousRun, asOf } : null,
    }));
  });
  for (const sql of DROP_SCORING_INPUTS_SQL) await engine.run(sql);
  await engine.keepRowOrder();
  let described: Awaited<ReturnType<typeof clusters.describeClusters>>;
  await checked('clusters', async () => void (described = await clusters.describeClusters(engine, clusterStage!.fitted, options.kmeans, true, null)));
  await checked('rfm', async () => void (await rfm.rfmThresholds(engine, scoredTable!)));
  await checked('lifecycle', async () => void (await lifecycle.stageCounts(engine, scoredTable!)));
  expect(rfmResult!.method).toBe(options.rfm.method);
  if (runHistory && next) {
    await checked('history', () =>
      history.recordRun(
        engine,
        runHistory,
        {
          runId: next.runId,
          asOf,
          startedAt: '2026-12-07T00:00:00.000Z',
          finishedAt: '2026-12-07T00:00:01.000Z',
          durationSeconds: 1,
          inputs: options.inputs,
          rowsRead: loaded.counts.read,
          rowsAccepted: loaded.counts.accepted,
          rowsRejected: loaded.counts.rejected,
          rowsExcluded: 0,
          customers: 0,
          options: {},
          summary: {},
        },
        SCORED_COLUMNS.filter((c) => stages.has(c.stage)).map((c) => c.name),
        { outDir: 'out', staging: 'out/.staging', keepRuns: null },
        knownLabels,
        described!.columns.history,
        described!.recorded,
      ),
    );
    await history.detachHistory(engine);
  }
}

describeEachEngine('stage contracts', import.meta.url, ({ name, open }) => {
  it('each stage creates exactly the tables it declares, and reads only declared tables that are there before it', { timeout: 600_000 }, async () => {
    const seen = Object.fromEntries(Object.keys(CONTRACTS).map((stage) => [stage, { created: new Set<string>(), readable: new Set<string>() }])) as Seen;
    const dir = await tempDir();
    try {
      for (const options of [DEFAULTS, OTHERS]) {
        const engine = (await open()) as Engine;
        try {
          // The second run is recorded: in a database file on DuckDB, in the engine's schema on PostgreSQL.
          const db = (engine.capabilities ?? EMBEDDED_CAPABILITIES).history === 'schema' ? null : path.join(dir, 'crm.duckdb');
          await scoreByStage(name, engine, options, seen, options === OTHERS ? { db } : null);
        } finally {
          await engine.close();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    for (const [stage, contract] of Object.entries(CONTRACTS)) {
      expect([...seen[stage]!.created].sort(), `tables ${stage} created`).toEqual([...contract.creates].sort());
      // A declared read that was never there before the stage would be a name the stage does not use.
      expect([...seen[stage]!.readable].sort(), `tables ${stage} reads that were there before it`).toEqual([...contract.reads].sort());
    }
  });

  it('names only tables of the one list, where each is made by one stage', () => {
    const names = new Set<string>(RUN_TABLES);
    expect(names.size, 'a table listed under two stages').toBe(RUN_TABLES.length);
    for (const [stage, { reads, creates }] of Object.entries(CONTRACTS)) {
      for (const table of reads) expect(names.has(table), `${stage} reads ${table}`).toBe(true);
      expect(creates, stage).toEqual(TABLES_BY_STAGE[stage as keyof typeof TABLES_BY_STAGE]);
    }
    // Every stage of the list but the load (the engine's ingest) declares its tables.
    expect(Object.keys(CONTRACTS).sort()).toEqual(Object.keys(TABLES_BY_STAGE).filter((s) => s !== 'load').sort());
  });
});
