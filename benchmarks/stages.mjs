#!/usr/bin/env node
// Times the lifecycle and k-means stages alone, in-process, on the benchmark
// data (1M customers by default), through the compiled pipeline in dist/.
// The issue's target: the k-means stage < 1 s on 1M customers on a 2-core machine.
//
//   npm run build                                # dist/ must be current
//   node benchmarks/generate.mjs                  # once: benchmarks/data/transactions.{csv,parquet}
//   node benchmarks/stages.mjs [--repeat 5] [--k 5|auto] [--input parquet|csv] [--threads N] [--data DIR]
//   CRM_PROFILE=1 node benchmarks/stages.mjs --repeat 1   # every SQL statement's time on stderr
//
// Load → features → RFM → CLV run once (untimed, except as context); then
// the lifecycle stage (assignLifecycle and its column for every customer) and
// the k-means stage (segmentCustomers, every customer's raw cluster, then
// describeClusters numbering and naming them) are each run --repeat times on
// the same tables and the median (and min/max) wall seconds printed, with the median
// CPU seconds of the process (JS plus DuckDB's threads). Machines here are
// shared and noisy: look at the median over several repeats, and at the load
// average printed with them.
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, NO_DATA, NO_DIST, requireFile } from './common.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;
const { values } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    k: { type: 'string', default: '5' },
    input: { type: 'string', default: 'parquet' },
    threads: { type: 'string' },
    data: { type: 'string', default: join(root, 'benchmarks', 'data') },
  },
});
const file = join(values.data, `transactions.${values.input}`);
requireFile(file, NO_DATA);
requireFile(join(root, 'dist', 'pipeline', 'segment.js'), NO_DIST);

const { DuckDbEngine } = await import(dist('engine/duckdb/DuckDbEngine.js'));
const { parseScoreConfig } = await import(dist('config/loadConfig.js'));
const { loadTransactions } = await import(dist('engine/duckdb/ingest/ingest.js'));
const { computeFeatures, resolveAsOf } = await import(dist('pipeline/features.js'));
const { scoreRfm } = await import(dist('pipeline/rfm.js'));
const { DEFAULT_SEGMENT_MAP } = await import(dist('pipeline/segmentMap.js'));
const { scoreClv } = await import(dist('pipeline/clv.js'));
const { assignLifecycle } = await import(dist('pipeline/lifecycle.js'));
const { describeClusters, segmentCustomers } = await import(dist('pipeline/segment.js'));
const { defineLabels } = await import(dist('pipeline/labels.js'));
const { ALL_CELLS } = await import(dist('pipeline/segmentMap.js'));
const { LIFECYCLE_STAGES } = await import(dist('sql/lifecycle.js'));
const { silentLogger } = await import(dist('pipeline/effects.js'));
const { stack } = await import(dist('sql/scored.js'));

const repeat = Math.max(1, Number(values.repeat));
const config = parseScoreConfig({
  inputs: [file],
  noDb: true,
  kmeans: { k: values.k === 'auto' ? 'auto' : Number(values.k) },
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});

/** Wall seconds, and CPU seconds of this process (JS and DuckDB's threads): on a shared machine the CPU figure is the steadier one. */
const seconds = async (work) => {
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const result = await work();
  const cpu = process.cpuUsage(cpuStart);
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, cpu: (cpu.user + cpu.system) / 1e6, result };
};
const line = (name, runs) => {
  const xs = runs.map((r) => r.seconds);
  const cpu = runs.map((r) => r.cpu);
  return (
    `${name.padEnd(10)} median ${median(xs).toFixed(3)} s wall (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)}), ` +
    `median ${median(cpu).toFixed(3)} s CPU   [${xs.length} runs, wall: ${xs.map((x) => x.toFixed(3)).join(' ')}]\n`
  );
};

const engine = await DuckDbEngine.create({ timezone: 'UTC', threads: config.threads });
try {
  const setup = {};
  const loaded = (setup.load = await seconds(() => loadTransactions(engine, config))).result;
  const asOf = await resolveAsOf(engine, config.asOf);
  const features = (setup.features = await seconds(() => computeFeatures(engine, asOf, loaded, { clv: true, lifecycle: true }))).result;
  setup.rfm = await seconds(() => scoreRfm(engine, config.rfm, DEFAULT_SEGMENT_MAP));
  const clv = (setup.clv = await seconds(() => scoreClv(engine, config.clv, silentLogger))).result;
  const clvLayer = clv.result.available ? clv.layer : null;
  // The run's label type, which the lifecycle layer's stage names are constants of.
  await defineLabels(engine, [...ALL_CELLS, ...DEFAULT_SEGMENT_MAP.keys(), ...LIFECYCLE_STAGES], false);
  // A stage's per-customer column comes from its layer in the final pass; each
  // timing below includes writing that column for every customer, as the stage did before layers.
  const materialize = (layer, column) => engine.run(`CREATE OR REPLACE TEMP TABLE stage_output AS SELECT customer_id, ${column} FROM (${stack(clvLayer ? [clvLayer, layer] : [layer])})`);

  const lifecycle = [];
  const segment = [];
  let lastSegment;
  for (let i = 0; i < repeat; i++) {
    lifecycle.push(
      await seconds(async () => {
        const stage = await assignLifecycle(engine, config.lifecycle);
        await materialize(stage.layer(clvLayer !== null), 'lifecycle_stage');
      }),
    );
    // The whole stage: the fit, every customer's raw cluster (as in final_scores), and the clusters numbered and named from it.
    const run = await seconds(async () => {
      const stage = await segmentCustomers(engine, config.kmeans, clvLayer);
      await engine.run(
        `CREATE OR REPLACE TEMP TABLE final_scores AS SELECT customer_id, recency_days, orders, revenue, ${clvLayer ? 'clv' : 'NULL::DOUBLE AS clv'}, raw_cluster
         FROM (${stack(clvLayer ? [clvLayer, stage.layer] : [stage.layer])})`,
      );
      return (await describeClusters(engine, stage.fitted, config.kmeans, clvLayer !== null)).result;
    });
    segment.push(run);
    lastSegment = run.result;
  }
  process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores\n`);
  process.stdout.write(`input ${file}: ${loaded.rowsRead} rows, ${features.customers} customers, as of ${asOf}; DuckDB threads ${config.threads ?? 'all'}; node ${process.version}\n`);
  process.stdout.write(`setup (s, once): ${Object.entries(setup).map(([k, v]) => `${k} ${v.seconds.toFixed(2)}`).join(', ')}\n`);
  process.stdout.write(line('lifecycle', lifecycle));
  process.stdout.write(line('segment', segment));
  process.stdout.write(
    `k-means: k ${lastSegment.k} (${lastSegment.kChosen}), sample ${lastSegment.sampleSize}, restarts ${config.kmeans.restarts}, seed ${lastSegment.seed}, inertia ${lastSegment.inertia.toFixed(3)}, cluster sizes ${lastSegment.centroids.map((c) => c.customers).join('/')}\n`,
  );
} finally {
  await engine.close();
}
