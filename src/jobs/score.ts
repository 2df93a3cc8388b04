import path from 'node:path';
import type { ScoreConfig } from '../config/schema.js';
import type { Engine } from '../engine/Engine.js';
import { InputError, namingStage } from '../errors.js';
import { awaitedLater } from '../promises.js';
import { OutputSet, writeFileAtomic } from '../io/atomic.js';
import { beforeAnySignal } from '../io/interrupt.js';
import { testPoint } from '../testHooks.js';
import { withRunEngine } from './openRunEngine.js';
import { refuseFutureDay } from './runDay.js';
import { excelSafeSql, EXTENSION, writeQuery, type TableFormat } from '../io/writers.js';
import { DECILES_SQL, rfmLayerSql, SEGMENTS_SQL } from '../sql/rfm.js';
import { CLUSTERS_CSV_SQL } from '../sql/segment.js';
import { assembleScoredSql, DROP_SCORING_INPUTS_SQL, FINAL_WITHOUT_HISTORY_SQL, outputColumnsSql, SCORED_COLUMNS, type AfterScoring, type Layer, type ScoredColumn } from '../sql/scored.js';
import type { ClvResult, StartedClv } from '../pipeline/clv.js';
import { newRunId, type Effects, type Logger } from '../pipeline/effects.js';
import { computeFeatures, dropOccasions, resolveAsOf } from '../pipeline/features.js';
import { addHistoryColumns, detachHistory, nextRunId, recordRun } from '../pipeline/history.js';
import { forgetRun, markPublished, openHistory, recoverBeforeRun } from '../pipeline/publish.js';
import { assignLifecycle, stageCounts, type LifecycleResult } from '../pipeline/lifecycle.js';
import { LIFECYCLE_STAGES, STAGES_SQL } from '../sql/lifecycle.js';
import { defineLabels } from '../pipeline/labels.js';
import { rfmThresholds, scoreRfm, type RfmResult } from '../pipeline/rfm.js';
import type { FittedSegment, SegmentResult } from '../pipeline/segment.js';
import { ALL_CELLS, DEFAULT_SEGMENT_MAP, readSegmentMap } from '../pipeline/segmentMap.js';

export interface ScoreSummary {
  run: { id: number | null; logId: string; asOf: string; startedAt: string; finishedAt: string; inputs: string[]; options: ScoreConfig; outputs: string[] };
  rows: { read: number; accepted: number; rejected: number; excluded: number };
  customers: number;
  rfm: RfmResult;
  clv: ClvResult | null;
  lifecycle: LifecycleResult | null;
  segments: SegmentResult | null;
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
    { timezone: config.timezone, threads: config.threads, memoryLimit: config.memoryLimit, tempDir: config.tempDir, log: effects.logger },
  );
}

/** The nightly job: load → validate → features → RFM → CLV → lifecycle → segment → write. */
export async function runScore(engine: Engine, config: ScoreConfig, effects: Effects): Promise<ScoreSummary> {
  const startedAt = effects.now();
  const logId = effects.logId ?? newRunId(startedAt);
  const timings: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const start = process.hrtime.bigint();
    const end = effects.stage(name);
    try {
      return await namingStage(name, work);
    } finally {
      end();
      // A stage timed in two steps (clv: started, then finished) adds them up; to the millisecond, as finer is timer noise.
      timings[name] = Math.round((timings[name] ?? 0) * 1000 + Number(process.hrtime.bigint() - start) / 1e6) / 1000;
    }
  };
  const log = effects.logger;

  // Checked before any data is read, so a bad map or a history database the run could not record itself in costs nothing;
  // and a publish a killed run left half done is settled, so the run starts from one whole set.
  const segmentMap = config.rfm.segmentMap ? await readSegmentMap(config.rfm.segmentMap) : DEFAULT_SEGMENT_MAP;
  const dbPath = config.noDb ? null : (config.db ?? path.join(config.out, 'crm.duckdb'));
  const dbOptions = { waitSeconds: config.dbWait, log };
  await recoverBeforeRun(engine, config.out, dbPath, dbOptions);

  // The model stages' modules (k-means pulls in ml-kmeans and some 250 files
  // behind it) load while DuckDB reads the input, rather than after it.
  const modules = {
    clv: config.clv.enabled ? awaitedLater(import('../pipeline/clv.js')) : null,
    segment: config.kmeans.enabled ? awaitedLater(import('../pipeline/segment.js')) : null,
  };

  const loaded = await timed('load', () => engine.ingest(config.inputs, { ...config, now: startedAt }));
  const rows = loaded.counts;
  log.info({ files: loaded.files.length, rowsRead: rows.read, rowsRejected: rows.rejected }, 'loaded transactions');
  // A failed run writes no rejects.csv, so the error itself says why rows were refused.
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

  const asOf = await resolveAsOf(engine, config.asOf);
  const features = await timed('features', () => computeFeatures(engine, asOf, loaded, { clv: config.clv.enabled, lifecycle: config.lifecycle.enabled }));
  if (features.customers === 0) throw new InputError(`no transactions on or before the as-of date ${asOf}`);
  log.info({ asOf, customers: features.customers, rowsExcluded: features.rowsExcluded }, 'computed customer features');
  // Nothing after this reads the per-day rows: freeing them lowers the run's peak memory (by a fifth on 10M rows).
  await dropOccasions(engine, loaded);
  await engine.dropCustomerDays(loaded);

  const stages = new Set<ScoredColumn['stage']>(['features', 'rfm']);
  // Each stage adds its columns as a layer over the customers (sql/scored.ts):
  // the scored table is then one pass over customer_features.
  const layers: Layer[] = [];

  let clv: ClvResult | null = null;
  let clvLayer: Layer | null = null;
  let clvStage: StartedClv | null = null;
  if (modules.clv) {
    const { startClv } = await modules.clv;
    clvStage = await timed('clv', () => startClv(engine, config.clv, log));
    stages.add('clv');
  }
  const rfm = await timed('rfm', () => scoreRfm(engine, config.rfm, segmentMap));
  // The lifecycle parameters and (unless it clusters on clv) the k-means fit
  // need nothing from the CLV fits: they run while those finish in a worker
  // thread (pipeline/clv.ts).
  const lifecycleStage = config.lifecycle.enabled ? await timed('lifecycle', () => assignLifecycle(engine, config.lifecycle)) : null;
  const fitSegment = async () => {
    const { segmentCustomers } = await modules.segment!;
    return timed('segment', () => segmentCustomers(engine, config.kmeans, clvLayer));
  };
  let segmentStage = modules.segment && !config.kmeans.useClv ? await fitSegment() : null;
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
  let fittedSegment: FittedSegment | null = null;
  if (modules.segment) {
    segmentStage ??= await fitSegment();
    fittedSegment = segmentStage.fitted;
    layers.push(segmentStage.layer);
    stages.add('segment');
  }
  layers.push(rfmLayerSql(config.rfm.method));
  // Every text a label column of this run can hold (src/sql/labels.ts); cluster names come after scoring.
  const vocabulary = [...ALL_CELLS, ...segmentMap.keys(), ...(lifecycle ? LIFECYCLE_STAGES : [])];
  let segments: SegmentResult | null = null;
  let clusterColumns: { output: AfterScoring; history: AfterScoring } = { output: {}, history: {} };

  // Outputs: staged, then published together.
  // Named after the run's log id, so a staging folder left by a killed run points at its log lines.
  const out = await OutputSet.begin(config.out, `${process.pid}-${logId}`);
  testPoint('outputs-staging');
  let summary: ScoreSummary;
  let recorded: number | null = null;
  try {
    let runId: number | null = null;
    let previousRun: number | null = null;
    let knownLabels = 0;
    const scoredColumns = SCORED_COLUMNS.filter((c) => stages.has(c.stage)).map((c) => c.name);
    const outputColumns = [...scoredColumns];
    const names: string[] = [];
    const keepRuns = config.keepRuns === 'all' ? null : config.keepRuns;
    let settled = false;
    await timed('write', async () => {
      if (dbPath) await openHistory(engine, dbPath, dbOptions);
      ({ known: knownLabels } = await defineLabels(engine, vocabulary, dbPath !== null));
      await engine.run(assembleScoredSql(stages, layers, engine.dialect.quoteIdentifier, fittedSegment ? ['raw_cluster'] : []));
      if (dbPath) {
        ({ runId, previousRun } = await nextRunId(engine));
        await addHistoryColumns(engine, asOf, previousRun);
        outputColumns.push('previous_segment', 'segment_changed_at');
      } else {
        await engine.run(FINAL_WITHOUT_HISTORY_SQL);
      }
      // Freed before the outputs are written: a sixth less peak memory on 1M customers.
      for (const sql of DROP_SCORING_INPUTS_SQL) await engine.run(sql);
      // final_scores was written sorted by customer_id (ORDER BY keeps its order either way);
      // from here on, tables are read in the order they were written.
      await engine.keepRowOrder();
      if (fittedSegment) {
        const { describeClusters } = await modules.segment!;
        ({ result: segments, columns: clusterColumns } = await describeClusters(engine, fittedSegment, config.kmeans, stages.has('clv')));
      }
      const select = (format: TableFormat) =>
        `SELECT ${outputColumnsSql(outputColumns, engine.dialect.quoteIdentifier, clusterColumns.output, format === 'csv' && config.excelSafe ? excelSafeSql : undefined)} FROM final_scores`;
      for (const format of config.format) {
        const name = `customers.${EXTENSION[format]}`;
        await writeQuery(engine, select(format), format, out.staged(name));
        names.push(name);
      }
      await writeQuery(engine, `SELECT * FROM rejects ORDER BY source, line`, 'csv', out.staged('rejects.csv'));
      await writeQuery(engine, DECILES_SQL, 'csv', out.staged('deciles.csv'));
      await writeQuery(engine, SEGMENTS_SQL, 'csv', out.staged('segments.csv'));
      names.push('rejects.csv', 'deciles.csv', 'segments.csv');
      if (lifecycle) {
        await writeQuery(engine, STAGES_SQL, 'csv', out.staged('stages.csv'));
        names.push('stages.csv');
      }
      if (segments) {
        await writeQuery(engine, CLUSTERS_CSV_SQL, 'csv', out.staged('clusters.csv'));
        names.push('clusters.csv');
      }
    });
    // Read from the finished table, like the output files.
    const thresholds = await rfmThresholds(engine);
    const lifecycleSummary: LifecycleResult | null = lifecycle ? { counts: await stageCounts(engine), ...lifecycle } : null;
    const finishedAt = effects.now();
    summary = {
      run: {
        id: runId,
        logId,
        asOf,
        startedAt: startedAt.toISOString(),
        finishedAt: finishedAt.toISOString(),
        inputs: loaded.files,
        options: config,
        outputs: [...names, 'summary.json'],
      },
      rows: { read: rows.read, accepted: rows.accepted, rejected: rows.rejected, excluded: features.rowsExcluded },
      customers: features.customers,
      rfm: { method: rfm.method, thresholds, cutPoints: rfm.cutPoints },
      clv,
      lifecycle: lifecycleSummary,
      segments,
      timings,
    };
    // From recording the run to the end of its publish, a signal waits (io/interrupt.ts).
    await beforeAnySignal(async () => {
      if (dbPath && runId !== null) {
        const dbFile = path.resolve(dbPath);
        recorded = runId;
        await timed('history', async () => {
          await recordRun(
            engine,
            {
              runId: runId!,
              asOf,
              startedAt: summary.run.startedAt,
              finishedAt: summary.run.finishedAt,
              durationSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
              inputs: loaded.files,
              rowsRead: rows.read,
              rowsAccepted: rows.accepted,
              rowsRejected: rows.rejected,
              rowsExcluded: features.rowsExcluded,
              customers: features.customers,
              options: config,
              summary,
            },
            scoredColumns,
            { outDir: path.relative(path.dirname(dbFile), path.resolve(config.out)), staging: out.staging, keepRuns },
            knownLabels,
            clusterColumns.history,
          );
          // The run's rows go from the log into the database file now, before the files move: a full disk fails the run here.
          testPoint('history-checkpoint');
          await engine.checkpoint('history');
        });
      }
      await writeFileAtomic(out.staged('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
      // summary.json goes last: a reader that sees the new summary sees every new file.
      // The journal names the run and its database (relative to the output folder, so the two can move together).
      const journalRun = dbPath && runId !== null ? { id: runId, db: path.relative(path.resolve(config.out), path.resolve(dbPath)) } : undefined;
      await out.publish([...names, 'summary.json'], journalRun);
      try {
        if (journalRun) await markPublished(engine, journalRun.id, keepRuns);
        await out.finish();
        settled = true;
      } catch (error) {
        // The files are published and the journal says so: the run stands, and the next command finishes the bookkeeping.
        log.warn({ runId, error: (error as Error).message.split('\n')[0] }, 'published; the history is marked so by the next crm command');
      }
    });
    // Outside the publish: a signal may stop the rewrite, which leaves the database as it was.
    if (dbPath && settled) await closeHistory(engine, dbPath, log);
  } catch (error) {
    if (!out.committed) {
      await out.abandon();
      // Recorded but never published: the run goes (or, if even that fails, the next command removes it).
      if (recorded !== null) await forgetRun(engine, recorded).catch(() => undefined);
    }
    throw error;
  }
  return summary;
}

/** After a published run: gives the pruned scores' space back when much is free (engine/duckdb/historySpace.ts), and lets go of the database. */
async function closeHistory(engine: Engine, dbPath: string, log: Logger): Promise<void> {
  const start = performance.now();
  try {
    const rewritten = await engine.compactHistory(dbPath);
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
