#!/usr/bin/env node
// Times each stage of the score job in-process on the benchmark data (1M
// customers by default), through the compiled job in dist/: the job is run
// --repeat times (no history, CSV out to a scratch folder) and the median
// (and min/max) of each stage's time in summary.json's timings printed.
// The target: the k-means stage (`clusters`) < 1 s on 1M customers on a 2-core machine.
//
//   npm run build                                # dist/ must be current
//   node benchmarks/generate.mjs                  # once: benchmarks/data/transactions.{csv,parquet}
//   node benchmarks/stages.mjs [--repeat 5] [--k 5|auto] [--input parquet|csv] [--threads N] [--data DIR]
//   CRM_PROFILE=1 node benchmarks/stages.mjs --repeat 1   # every SQL statement's time on stderr
//
// Stages that run beside each other (clv's fits in a worker while lifecycle
// and k-means use the engine) are timed as the job times them. Machines here
// are shared and noisy: look at the median over several repeats, and at the
// load average printed with them.
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
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
requireFile(join(root, 'dist', 'jobs', 'score.js'), NO_DIST);

const { parseScoreConfig } = await import(dist('config/loadConfig.js'));
const { scoreJob } = await import(dist('jobs/score.js'));
const { silentEffects } = await import(dist('effects.js'));

const repeat = Math.max(1, Number(values.repeat));
const out = await mkdtemp(join(tmpdir(), 'crm-bench-stages-'));
const config = parseScoreConfig({
  inputs: [file],
  out,
  noDb: true,
  format: ['csv'],
  kmeans: { k: values.k === 'auto' ? 'auto' : Number(values.k) },
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});

const line = (name, xs) =>
  `${name.padEnd(10)} median ${median(xs).toFixed(3)} s wall (min ${Math.min(...xs).toFixed(3)}, max ${Math.max(...xs).toFixed(3)})   [${xs.length} runs: ${xs.map((x) => x.toFixed(3)).join(' ')}]\n`;

try {
  const summaries = [];
  for (let i = 0; i < repeat; i++) summaries.push(await scoreJob(config, silentEffects, { asOfField: '--as-of' }));
  const last = summaries.at(-1);
  process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} on ${cpus().length} cores\n`);
  process.stdout.write(`input ${file}: ${last.rows.read} rows, ${last.customers} customers, as of ${last.run.asOf}; DuckDB threads ${config.threads ?? 'all'}; node ${process.version}\n`);
  for (const stage of Object.keys(last.timings)) process.stdout.write(line(stage, summaries.map((s) => s.timings[stage])));
  const clusters = last.clusters;
  if (clusters) {
    process.stdout.write(
      `k-means: k ${clusters.k} (${clusters.kChosen}), sample ${clusters.sampleSize}, restarts ${config.kmeans.restarts}, seed ${clusters.seed}, inertia ${clusters.inertia.toFixed(3)}, cluster sizes ${clusters.centroids.map((c) => c.customers).join('/')}\n`,
    );
  }
} finally {
  await rm(out, { recursive: true, force: true });
}
