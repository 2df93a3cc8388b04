import path from 'node:path';
import type { ScoreConfig } from '../config/schema.js';
import type { Engine, Ingested, RunHistory } from '../engine/Engine.js';
import { InputError, namingStage } from '../errors.js';
import { awaitedLater } from '../promises.js';
import { OutputSet, writeFileAtomic } from '../io/atomic.js';
import { beforeAnySignal } from '../io/interrupt.js';
import { testPoint } from '../testHooks.js';
import { withRunEngine } from './openRunEngine.js';
import { shownEngineSpec } from '../engine/openEngine.js';
import { refuseFutureDay } from './runDay.js';
import { excelSafeSql, EXTENSION, type TableFormat } from '../io/writers.js';
import { DECILES_SQL, rfmLayerSql, segmentsSql } from '../stages/rfm/queries.js';
import { clustersCsvSql } from '../stages/clusters/queries.js';
import { DROP_SCORING_INPUTS_SQL, outputColumnsSql, SCORED_COLUMNS, type AfterScoring, type Layer, type ScoredColumn } from '../stages/scored/queries.js';
import type { ClvResult, Holdout, StartedClv } from '../stages/clv/stage.js';
import { newRunId, type Effects, type Logger } from '../effects.js';
import { computeFeatures, dropOccasions, featureBuckets, resolveAsOf } from '../stages/features/stage.js';
import { detachHistory, nextRunId, recordRun } from '../stages/history/stage.js';
import { previousClusters, type RecordedCluster } from '../stages/clusters/clusterHistory.js';
import { forgetRun, markPublished, openHistory, recoverBeforeRun, type HistoryTarget } from '../stages/history/publish.js';
import { EMBEDDED_CAPABILITIES, sortedOnRead } from '../engine/dialect.js';
import { assignLifecycle, stageCounts, type LifecycleResult } from '../stages/lifecycle/stage.js';
import { LIFECYCLE_STAGES } from '../config/lists.js';
import { stagesSql } from '../stages/lifecycle/queries.js';
import { scoreTable } from '../stages/scored/stage.js';
import type { TableName } from '../stages/tables.js';
import { rfmThresholds, scoreRfm, type RfmResult } from '../stages/rfm/stage.js';
import type { FittedClusters, ClustersResult } from '../stages/clusters/stage.js';
import { ALL_CELLS, checkSegmentNames, DEFAULT_SEGMENT_MAP, readSegmentMap, type SegmentMap } from '../stages/rfm/segmentMap.js';

export interface ScoreSummary {
  run: { id: number | null; logId: string; asOf: string; startedAt: string; finishedAt: string; inputs: string[]; options: ScoreConfig; outputs: string[] };
  rows: { read: number; accepted: number; rejected: number; excluded: number };
  customers: number;
  rfm: RfmResult;
  clv: ClvResult | null;
  lifecycle: LifecycleResult | null;
  /** The k-means clusters stage. */
  clusters: ClustersResult | null;
  /** The k-means clusters' number and centroids under the name summary.json gave them before (README: a documented alias for scripts that read it). */
  segments: Pick<ClustersResult, 'k' | 'centroids'> | null;
  timings: Record<string, number>;
}

/**
 * crm score, as the command runs it: its own engine, the as-of day checked
 * against today and `checkBeforeRead` run before any data is read (or an
 * interrupted publish settled), then runScore.
 */
export async function scoreJob(
  config: ScoreConfig,
  effects: Effects,
  options: { asOfField: string; checkBeforeRead?: (engine: Engine) => Promise<void> },
): Promise<ScoreSummary> {
  return withRunEngine(
    async (engine) => {
      refuseFutureDay(options.asOfField, config.asOf, await engine.setRunDay(new Date()), config.timezone);
      await options.checkBeforeRead?.(engine);
      return runScore(engine, config, effects);
    },
    { engine: config.engine, schema: config.schema, timezone: config.timezone, threads: config.threads, memoryLimit: config.memoryLimit, tempDir: config.tempDir, log: effects.logger },
  );
}

/** The customer files' column types, alike on every engine. */
const OUTPUT_TYPES = Object.fromEntries(SCORED_COLUMNS.map((c) => [c.name, c.type]));

/** What every step of one score run shares. */
interface ScoreRun {
  engine: Engine;
  config: ScoreConfig;
  log: Logger;
  /** Runs a stage, named in its errors and timed into the summary's timings. */
  timed: <T>(name: string, work: () => Promise<T>) => Promise<T>;
}

/** The model stages' results, and the layers they add to the scored table (stages/scored/queries.ts). */
interface ScoredStages {
  stages: Set<ScoredColumn['stage']>;
  layers: Layer[];
  rfm: Awaited<ReturnType<typeof scoreRfm>>;
  clv: ClvResult | null;
  /** Whether the CLV columns are there for the later stages (an unconverged purchase model leaves them null). */
  withClv: boolean;
  lifecycle: Omit<LifecycleResult, 'counts'> | null;
  fittedClusters: FittedClusters | null;
}

/** What writing the outputs left for the summary and the history. */
interface WrittenOutputs {
  /** The run history open for this run (null with --no-db). */
  history: RunHistory | null;
  runId: number | null;
  knownLabels: number;
  /** The scored stage's table, which the summary's figures are read from. */
  scoredTable: TableName;
  scoredColumns: string[];
  names: string[];
  clusters: ClustersResult | null;
  clusterColumns: { output: AfterScoring; history: AfterScoring };
  /** What the history records of the clusters, for the next run to keep their numbers. */
  recordedClusters: RecordedCluster[];
}

/**
 * The stage timer of one run: each stage's seconds, to the millisecond, added up when a stage is timed in two steps (clv: started, then finished);
 * after each step, at debug, its seconds and the rows and bytes it pulled from the engine (engine.pulled(): what crosses to the client).
 */
function stageTimer(effects: Effects, engine: Pick<Engine, 'pulled'>): { timings: Record<string, number>; timed: ScoreRun['timed'] } {
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = process.hrtime.bigint();
    const pulledBefore = engine.pulled();
    const end = effects.stage(name);
    try {
      return await namingStage(name, work);
    } finally {
      end();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // To the millisecond, as finer is timer noise.
      timings[name] = Math.round((timings[name] ?? 0) * 1000 + seconds * 1000) / 1000;
      const pulled = engine.pulled();
      effects.logger.debug(
        { stage: name, seconds: Math.round(seconds * 1000) / 1000, rowsPulled: pulled.rows - pulledBefore.rows, bytesPulled: pulled.bytes - pulledBefore.bytes },
        'stage done',
      );
    }
  };
  return { timings, timed };
}

/** The nightly job: load → validate → features → RFM → CLV → lifecycle → k-means clusters → write → record → publish. */
export async function runScore(engine: Engine, config: ScoreConfig, effects: Effects): Promise<ScoreSummary> {
  const startedAt = effects.now();
  const logId = effects.logId ?? newRunId(startedAt);
  const { timings, timed } = stageTimer(effects, engine);
  const run: ScoreRun = { engine, config, log: effects.logger, timed };

  // Checked before any data is read, so a bad map or a history database the run could not record itself in costs nothing;
  // and a publish a killed run left half done is settled, so the run starts from one whole set.
  const segmentMap = config.rfm.segmentMap ? await readSegmentMap(config.rfm.segmentMap) : DEFAULT_SEGMENT_MAP;
  checkSegmentNames(segmentMap, engine.dialect);
  const history = historyTarget(engine, config);
  await recoverBeforeRun(engine, config.out, history, { waitSeconds: config.dbWait, log: run.log });

  // The model stages' modules (k-means pulls in ml-kmeans and some 250 files
  // behind it) load while the engine reads the input, rather than after it.
  const modules = {
    clv: config.clv.enabled ? awaitedLater(import('../stages/clv/stage.js')) : null,
    clusters: config.kmeans.enabled ? awaitedLater(import('../stages/clusters/stage.js')) : null,
  };

  const loaded = await loadTransactions(run, startedAt);
  const { asOf, features, holdout } = await customerFeatures(run, loaded, modules.clv);
  const scored = await scoreCustomers(run, segmentMap, modules, holdout);

  // Outputs: staged, then published together.
  // Named after the run's log id, so a staging folder left by a killed run points at its log lines.
  const out = await OutputSet.begin(config.out, `${process.pid}-${logId}`);
  testPoint('outputs-staging');
  let recorded: { history: RunHistory; runId: number } | null = null;
  try {
    const written = await timed('write', () => writeOutputs(run, out, scored, { history, asOf, segmentMap, describeClusters: modules.clusters }));
    // Read from the finished table, like the output files.
    const thresholds = await rfmThresholds(engine, written.scoredTable);
    const lifecycle = scored.lifecycle ? { counts: await stageCounts(engine, written.scoredTable), ...scored.lifecycle } : null;
    const finishedAt = effects.now();
    const summary: ScoreSummary = {
      run: {
        id: written.runId,
        logId,
        asOf,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        inputs: loaded.files,
        // The engine URL's password never reaches summary.json.
        options: { ...config, engine: shownEngineSpec(config.engine) },
        outputs: [...written.names, 'summary.json'],
      },
      rows: { ...loaded.counts, excluded: features.rowsExcluded },
      customers: features.customers,
      rfm: { method: scored.rfm.method, thresholds, cutPoints: scored.rfm.cutPoints },
      clv: scored.clv,
      lifecycle,
      clusters: written.clusters,
      segments: written.clusters && { k: written.clusters.k, centroids: written.clusters.centroids },
      timings,
    };
    const { settled, prunedRuns } = await recordAndPublish(run, out, summary, written, {
      target: history,
      onRecorded: (history, runId) => (recorded = { history, runId }),
      durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    });
    // Outside the publish: a signal may stop the rewrite, which leaves the database as it was.
    if (history && settled) await closeHistory(engine, history.db ?? engine.name, prunedRuns, run.log);
    return summary;
  } catch (error) {
    if (!out.committed) {
      await out.abandon();
      // Recorded but never published: the run goes (or, if even that fails, the next command removes it).
      const forget = recorded as { history: RunHistory; runId: number } | null;
      if (forget !== null) await forgetRun(engine, forget.history, forget.runId).catch(() => undefined);
    }
    throw error;
  }
}

/** The load, refused when too many rows (or all) were rejected: the error itself says why, since a failed run writes no rejects.csv. */
async function loadTransactions({ engine, config, log, timed }: ScoreRun, now: Date): Promise<Ingested> {
  const loaded = await timed('load', () => engine.ingest(config.inputs, { ...config, now }));
  const rows = loaded.counts;
  log.info({ files: loaded.files.length, rowsRead: rows.read, rowsRejected: rows.rejected }, 'loaded transactions');
  const topReasons = async () => {
    const { reasons, hints } = await engine.rejectReasons(config);
    const top = reasons.slice(0, 3).map((r) => `${r.rows} ${r.reason}`).join(', ');
    return hints.length ? `${top} (${hints.join('; ')})` : top;
  };
  if (config.maxRejectRate !== undefined && rows.rejected / rows.read > config.maxRejectRate) {
    throw new InputError(
      `${rows.rejected} of ${rows.read} rows rejected (${((100 * rows.rejected) / rows.read).toFixed(2)}%), above --max-reject-rate ${config.maxRejectRate}: ${await topReasons()}`,
    );
  }
  if (rows.accepted === 0) throw new InputError(`all ${rows.read} rows were rejected: ${await topReasons()}`);
  return loaded;
}

/** One row per customer as of the as-of date (customer_features); the per-day rows are freed after. */
async function customerFeatures({ engine, config, log, timed }: ScoreRun, loaded: Ingested, clvModule: Promise<typeof import('../stages/clv/stage.js')> | null) {
  const asOf = await resolveAsOf(engine, config.asOf, loaded.runDay);
  const buckets = featureBuckets(engine, config.customerBuckets, loaded);
  if (buckets > 1) log.info({ buckets }, `computing the customer features in ${buckets} buckets of customers, one at a time, to stay within the memory limit`);
  // --holdout-days: the purchase models fitted as of the calibration end and compared with the days after it, before the features as of the as-of date replace theirs.
  let holdout: Holdout | null = null;
  const days = config.clv.holdoutDays;
  if (clvModule && days) {
    const calibrationEnd = new Date(Date.parse(`${asOf}T00:00:00Z`) - days * 86_400_000).toISOString().slice(0, 10);
    const calibration = await timed('features', () => computeFeatures(engine, calibrationEnd, loaded, { clv: true, lifecycle: false }, buckets));
    if (calibration.customers === 0) throw new InputError(`--holdout-days ${days}: no transactions on or before the calibration end ${calibrationEnd}`);
    const { runHoldout } = await clvModule;
    holdout = await timed('clv', () => runHoldout(engine, config.clv, calibrationEnd, asOf, days));
    // The calibration's occasions (a view of run_parameters on PostgreSQL, which then cannot be replaced under it) go before the as-of's are made.
    await dropOccasions(engine, loaded);
    log.info({ calibrationEnd, holdoutEnd: asOf, models: Object.keys(holdout.backtests) }, 'fitted the purchase models on the calibration period and compared them with the holdout');
  }
  const features = await timed('features', () => computeFeatures(engine, asOf, loaded, { clv: config.clv.enabled, lifecycle: config.lifecycle.enabled }, buckets));
  if (features.customers === 0) throw new InputError(`no transactions on or before the as-of date ${asOf}`);
  log.info({ asOf, customers: features.customers, rowsExcluded: features.rowsExcluded }, 'computed customer features');
  // Nothing after this reads the per-day rows: freeing them lowers the run's peak memory (by a fifth on 10M rows).
  await dropOccasions(engine, loaded);
  await engine.dropCustomerDays(loaded);
  return { asOf, features, holdout };
}

/**
 * RFM, CLV, lifecycle and k-means, each adding its columns as a layer over
 * the customers (stages/scored/queries.ts): the scored table is then one pass over
 * customer_features. The lifecycle parameters and (unless it clusters on clv)
 * the k-means fit need nothing from the CLV fits: they run while those finish
 * in a worker thread (stages/clv/stage.ts).
 */
async function scoreCustomers(
  { engine, config, log, timed }: ScoreRun,
  segmentMap: SegmentMap,
  modules: { clv: Promise<typeof import('../stages/clv/stage.js')> | null; clusters: Promise<typeof import('../stages/clusters/stage.js')> | null },
  holdout: Holdout | null,
): Promise<ScoredStages> {
  const stages = new Set<ScoredColumn['stage']>(['features', 'rfm']);
  const layers: Layer[] = [];
  let clv: ClvResult | null = null;
  let clvLayer: Layer | null = null;
  let clvStage: StartedClv | null = null;
  if (modules.clv) {
    const { startClv } = await modules.clv;
    clvStage = await timed('clv', () => startClv(engine, config.clv, log, holdout, config.threads));
    stages.add('clv');
  }
  const rfm = await timed('rfm', () => scoreRfm(engine, config.rfm, segmentMap));
  const lifecycleStage = config.lifecycle.enabled ? await timed('lifecycle', () => assignLifecycle(engine, config.lifecycle)) : null;
  const fitClusters = async () => {
    const { clusterCustomers } = await modules.clusters!;
    return timed('clusters', () => clusterCustomers(engine, config.kmeans, clvLayer));
  };
  let clusterStage = modules.clusters && !config.kmeans.useClv ? await fitClusters() : null;
  if (clvStage) {
    clv = await timed('clv', clvStage.finish);
    // An unconverged purchase model leaves the CLV columns null: no P(alive) or clv for the later stages.
    if (clv.available) clvLayer = clvStage.layer;
    layers.push(clvStage.layer);
  }
  let lifecycle: Omit<LifecycleResult, 'counts'> | null = null;
  if (lifecycleStage) {
    lifecycle = { thresholds: lifecycleStage.thresholds, usedPAlive: clvLayer !== null };
    layers.push(lifecycleStage.layer(clvLayer !== null));
    stages.add('lifecycle');
  }
  let fittedClusters: FittedClusters | null = null;
  if (modules.clusters) {
    clusterStage ??= await fitClusters();
    fittedClusters = clusterStage.fitted;
    layers.push(clusterStage.layer);
    stages.add('clusters');
  }
  layers.push(rfmLayerSql(engine.dialect, config.rfm.method));
  return { stages, layers, rfm, clv, withClv: clvLayer !== null, lifecycle, fittedClusters };
}

/**
 * The scored table (final_scores, with the history's columns when there is a
 * history) and every output file, staged in `out`.
 */
async function writeOutputs(
  { engine, config, log }: ScoreRun,
  out: OutputSet,
  scored: ScoredStages,
  options: { history: HistoryTarget | null; asOf: string; segmentMap: SegmentMap; describeClusters: Promise<typeof import('../stages/clusters/stage.js')> | null },
): Promise<WrittenOutputs> {
  const { stages, fittedClusters } = scored;
  const scoredColumns = SCORED_COLUMNS.filter((c) => stages.has(c.stage)).map((c) => c.name);
  const outputColumns = [...scoredColumns];
  const names: string[] = [];
  const history = options.history ? await openHistory(engine, options.history.db, { waitSeconds: config.dbWait, log }) : null;
  const next = history ? await nextRunId(engine, history) : null;
  const runId = next?.runId ?? null;
  const { table: scoredTable, knownLabels } = await scoreTable(engine, {
    stages,
    layers: scored.layers,
    internal: fittedClusters ? ['raw_cluster'] : [],
    // Every text a label column of this run can hold (src/stages/scored/labelsQueries.ts); cluster names come after scoring.
    vocabulary: [...ALL_CELLS, ...options.segmentMap.keys(), ...(scored.lifecycle ? LIFECYCLE_STAGES : [])],
    history: history && next ? { history, previousRun: next.previousRun, asOf: options.asOf } : null,
  });
  if (history) outputColumns.push('previous_segment', 'segment_changed_at');
  // Freed before the outputs are written: a sixth less peak memory on 1M customers.
  for (const sql of DROP_SCORING_INPUTS_SQL) await engine.run(sql);
  // final_scores was written sorted by customer_id (ORDER BY keeps its order either way);
  // from here on, tables are read in the order they were written.
  await engine.keepRowOrder();
  let clusters: ClustersResult | null = null;
  let clusterColumns: WrittenOutputs['clusterColumns'] = { output: {}, history: {} };
  let recordedClusters: RecordedCluster[] = [];
  if (fittedClusters) {
    const { describeClusters } = await options.describeClusters!;
    // Numbered as the previous recorded run's clusters they match.
    const previous = history && runId !== null ? await previousClusters(engine, history, runId) : null;
    ({ result: clusters, columns: clusterColumns, recorded: recordedClusters } = await describeClusters(engine, fittedClusters, config.kmeans, stages.has('clv'), previous));
  }
  const select = (format: TableFormat) =>
    `SELECT ${outputColumnsSql(outputColumns, engine.dialect.quoteIdentifier, clusterColumns.output, format === 'csv' && config.excelSafe ? excelSafeSql(engine.dialect) : undefined)} FROM final_scores${sortedOnRead(engine.dialect, 'customer_id')}`;
  for (const format of config.format) {
    const name = `customers.${EXTENSION[format]}`;
    await engine.writeQuery(select(format), format, out.staged(name), { types: OUTPUT_TYPES });
    names.push(name);
  }
  await engine.writeQuery(`SELECT * FROM rejects ORDER BY source, line`, 'csv', out.staged('rejects.csv'));
  await engine.writeQuery(DECILES_SQL, 'csv', out.staged('deciles.csv'));
  await engine.writeQuery(segmentsSql(engine.dialect), 'csv', out.staged('segments.csv'));
  names.push('rejects.csv', 'deciles.csv', 'segments.csv');
  if (scored.lifecycle) {
    await engine.writeQuery(stagesSql(engine.dialect), 'csv', out.staged('stages.csv'));
    names.push('stages.csv');
  }
  if (clusters) {
    await engine.writeQuery(clustersCsvSql(engine.dialect), 'csv', out.staged('clusters.csv'));
    names.push('clusters.csv');
  }
  return { history, runId, knownLabels, scoredTable, scoredColumns, names, clusters, clusterColumns, recordedClusters };
}

/**
 * Records the run in the history (as pending), writes summary.json last and
 * publishes the files, then marks the run published; from recording the run to
 * the end of its publish, a signal waits (io/interrupt.ts). Returns whether
 * the bookkeeping was finished (else the next crm command finishes it).
 */
async function recordAndPublish(
  { engine, config, log, timed }: ScoreRun,
  out: OutputSet,
  summary: ScoreSummary,
  written: WrittenOutputs,
  options: { target: HistoryTarget | null; onRecorded: (history: RunHistory, runId: number) => void; durationSeconds: number },
): Promise<{ settled: boolean; prunedRuns: number }> {
  const { target } = options;
  const { runId, history } = written;
  const keepRuns = config.keepRuns === 'all' ? null : config.keepRuns;
  let settled = false;
  let prunedRuns = 0;
  await beforeAnySignal(async () => {
    if (target && history && runId !== null) {
      options.onRecorded(history, runId);
      await timed('history', async () => {
        await recordRun(
          engine,
          history,
          {
            runId,
            asOf: summary.run.asOf,
            startedAt: summary.run.startedAt,
            finishedAt: summary.run.finishedAt,
            durationSeconds: options.durationSeconds,
            inputs: summary.run.inputs,
            rowsRead: summary.rows.read,
            rowsAccepted: summary.rows.accepted,
            rowsRejected: summary.rows.rejected,
            rowsExcluded: summary.rows.excluded,
            customers: summary.customers,
            options: { ...config, engine: shownEngineSpec(config.engine) },
            summary,
          },
          written.scoredColumns,
          { outDir: history.folder === null ? path.resolve(config.out) : path.relative(history.folder, path.resolve(config.out)), staging: out.staging, keepRuns },
          written.knownLabels,
          written.clusterColumns.history,
          written.recordedClusters,
        );
        // The run's rows go from the log into the database file now, before the files move: a full disk fails the run here.
        testPoint('history-checkpoint');
        await engine.saveHistory();
      });
    }
    await writeFileAtomic(out.staged('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    // summary.json goes last: a reader that sees the new summary sees every new file.
    // The journal names the run and its database (relative to the output folder, so the two can move together).
    const journalRun = target && runId !== null ? { id: runId, db: target.db === null ? null : path.relative(path.resolve(config.out), path.resolve(target.db)) } : undefined;
    await out.publish([...written.names, 'summary.json'], journalRun);
    try {
      if (journalRun && history) prunedRuns = await markPublished(engine, history, journalRun.id, keepRuns);
      await out.finish();
      settled = true;
    } catch (error) {
      // The files are published and the journal says so: the run stands, and the next command finishes the bookkeeping.
      log.warn({ runId, error: (error as Error).message.split('\n')[0] }, 'published; the history is marked so by the next crm command');
    }
  });
  return { settled, prunedRuns };
}

/**
 * Where the run is recorded: nowhere with --no-db; a database file (--db, by
 * default crm.duckdb in the output folder) on an engine that keeps its history
 * in one; else the engine's own schema.
 */
function historyTarget(engine: Engine, config: ScoreConfig): HistoryTarget | null {
  if (config.noDb) return null;
  if ((engine.capabilities ?? EMBEDDED_CAPABILITIES).history === 'schema') return { db: null };
  return { db: config.db ?? path.join(config.out, 'crm.duckdb') };
}

/** After a published run: gives the pruned scores' space back when much is free (engine/duckdb/historySpace.ts), and lets go of the database. */
async function closeHistory(engine: Engine, dbPath: string, prunedRuns: number, log: Logger): Promise<void> {
  const start = performance.now();
  try {
    const rewritten = await engine.compactHistory({ prunedRuns });
    if (rewritten) {
      const seconds = Math.round(performance.now() - start) / 1000;
      log.info({ db: dbPath, bytesBefore: rewritten.before, bytesAfter: rewritten.after, seconds }, 'rewrote the history database to give back the space of pruned scores');
    }
    await detachHistory(engine);
  } catch (error) {
    // The run is published and recorded: the space is given back by a later run.
    log.warn({ db: dbPath, error: (error as Error).message.split('\n')[0] }, 'published; the history database could not be rewritten to give back the space of pruned scores');
  }
}
