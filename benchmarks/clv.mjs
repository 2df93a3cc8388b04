#!/usr/bin/env node
// Times the CLV stage on a large customer base (default: the 1M customers of
// benchmarks/data/transactions.parquet, made by `node benchmarks/generate.mjs`),
// through the compiled score job in dist/ (run `npm run build` first):
//
//   (a) stage  — the score job with the CLV stage alone (no lifecycle, no
//                k-means, no history), its `clv` time from summary.json's
//                timings: the model inputs in SQL, the pattern pulls, the
//                fits, the intervals (--draws) and loading the results back;
//   (b) models — the model part alone, in this process, on the patterns of
//                the customers the job scored (read back from its
//                customers.arrow): fitBgNbd (or fitParetoNbd) + fitGammaGamma,
//                clvFactors per pattern, and what the stage computes instead
//                of clvFactors, frequencyTGroups + aliveFactors per (x, T) pair.
//
//   node benchmarks/clv.mjs [--input FILE] [--as-of YYYY-MM-DD] [--model bgnbd|paretonbd]
//                           [--time-unit day|week|month] [--draws N] [--repeat 5] [--threads N]
//
// --compare-dist DIR also runs that compiled tree's score job (DIR/jobs/score.js),
// alternating with this one's, so that both see the same machine load (a fair
// before/after on a shared machine).
//
// The benchmarks call jobs, not stages (DESIGN §4; tests/engine/importRule.test.ts).
// CRM_PROFILE=1 also prints each SQL statement's wall time to stderr.
// Machines here are shared and noisy: the median of the repeats is reported.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import { median, NO_DATA, NO_DIST, requireFile } from './common.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: join(root, 'dist') },
    'compare-dist': { type: 'string' },
    input: { type: 'string', default: join(root, 'benchmarks', 'data', 'transactions.parquet') },
    'as-of': { type: 'string' },
    model: { type: 'string', default: 'bgnbd' },
    'time-unit': { type: 'string', default: 'week' },
    draws: { type: 'string' },
    repeat: { type: 'string', default: '5' },
    threads: { type: 'string' },
  },
});
requireFile(values.input, NO_DATA);
const tree = async (dir) => {
  requireFile(join(dir, 'jobs', 'score.js'), NO_DIST);
  const load = (p) => import(join(dir, p));
  return { ...(await load('jobs/score.js')), ...(await load('config/loadConfig.js')), ...(await load('effects.js')) };
};
const mine = await tree(resolve(values.dist));
const other = values['compare-dist'] ? await tree(resolve(values['compare-dist'])) : null;
const model = (name) => import(join(resolve(values.dist), 'models', `${name}.js`));
const models = { bgNbd: await model('bgNbd'), paretoNbd: await model('paretoNbd'), gammaGamma: await model('gammaGamma'), clv: await model('clv') };

const repeat = Math.max(1, Number(values.repeat));
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
const fmt = (x) => x.toFixed(3).padStart(7);
const work = await mkdtemp(join(os.tmpdir(), 'crm-bench-clv-'));

/** One score job of `crm` (a tree's exports) with the CLV stage alone: its summary and wall seconds. */
async function scoreClvOnly(crm, out) {
  const config = crm.parseScoreConfig({
    inputs: [values.input],
    out,
    asOf: values['as-of'],
    noDb: true,
    format: ['arrow'],
    clv: { model: values.model, timeUnit: values['time-unit'], ...(values.draws === undefined ? {} : { draws: Number(values.draws) }) },
    lifecycle: { enabled: false },
    kmeans: { enabled: false },
    ...(values.threads ? { threads: Number(values.threads) } : {}),
  });
  const start = process.hrtime.bigint();
  const summary = await crm.scoreJob(config, crm.silentEffects, { asOfField: '--as-of' });
  return { summary, wall: seconds(start) };
}

/**
 * The purchase and spend patterns of the scored customers, as the stage pulls
 * them: (frequency, recency, T) with customer counts, in that order, and
 * (frequency, mean repeat spend) of the repeat customers with a positive one.
 */
function patternsOf(table) {
  const column = (name) => Array.from(table.getChild(name).toArray(), (v) => (v === null ? Number.NaN : Number(v)));
  const [frequency, recency, T, monetary] = ['frequency', 'recency', 'T', 'monetary_value'].map(column);
  const purchase = new Map();
  const spend = new Map();
  for (let i = 0; i < frequency.length; i++) {
    if (Number.isNaN(frequency[i])) continue;
    const key = `${frequency[i]}|${recency[i]}|${T[i]}`;
    purchase.set(key, (purchase.get(key) ?? 0) + 1);
    if (frequency[i] > 0 && monetary[i] > 0) {
      const spendKey = `${frequency[i]}|${monetary[i]}`;
      spend.set(spendKey, (spend.get(spendKey) ?? 0) + 1);
    }
  }
  const sorted = (map) => [...map].map(([key, weight]) => [...key.split('|').map(Number), weight]).sort((a, b) => a[0] - b[0] || a[1] - b[1] || (a[2] ?? 0) - (b[2] ?? 0));
  const rows = sorted(purchase);
  const spendRows = sorted(spend);
  const of = (list, k) => Float64Array.from(list, (row) => row[k]);
  return {
    patterns: { frequency: of(rows, 0), recency: of(rows, 1), T: of(rows, 2), weight: of(rows, 3) },
    spend: { frequency: of(spendRows, 0), monetaryValue: of(spendRows, 1), weight: of(spendRows, 2) },
  };
}

try {
  // (a) The stage as the job runs it, in turn with the other tree's when given.
  const runs = { mine: [], other: [] };
  for (let i = 0; i < repeat; i++) {
    if (other) runs.other.push(await scoreClvOnly(other, join(work, `other-${i}`)));
    runs.mine.push(await scoreClvOnly(mine, join(work, `mine-${i}`)));
  }
  const { summary } = runs.mine.at(-1);
  const result = summary.clv;
  process.stdout.write(
    `input ${values.input}: ${summary.rows.read} rows, ${summary.customers} customers as of ${summary.run.asOf}; model ${result.model}, time unit ${result.timeUnit}, ${result.patterns} patterns, ${repeat} repeats\n`,
  );
  const purchaseFit = result[result.model];
  process.stdout.write(
    `${result.model}: ${purchaseFit.iterations} iterations, converged ${purchaseFit.converged}, LL ${purchaseFit.logLikelihood.toFixed(3)}, ${JSON.stringify(purchaseFit.params)}\n`,
  );
  if (result.gammagamma) {
    process.stdout.write(
      `gamma-gamma: ${result.gammagamma.iterations} iterations, converged ${result.gammagamma.converged}, LL ${result.gammagamma.logLikelihood.toFixed(3)}, ${JSON.stringify(result.gammagamma.params)}\n`,
    );
  }
  process.stdout.write(`intervals: ${result.intervals ? `${result.intervals.draws} draws` : 'none'}\n`);
  if (result.warnings.length) process.stdout.write(`warnings: ${result.warnings.join(' | ')}\n`);

  // (b) The models alone, on the scored customers' patterns.
  const table = tableFromIPC(await readFile(join(work, `mine-${repeat - 1}`, 'customers.arrow')));
  const { patterns, spend } = patternsOf(table);
  const horizon = { horizonMonths: result.horizonMonths, monthlyDiscountRate: result.discountRate, timeUnit: result.timeUnit };
  const parts = { purchase: [], gammaGamma: [], clvFactors: [], aliveFactors: [] };
  let groupCount = 0;
  for (let i = 0; i < repeat; i++) {
    let start = process.hrtime.bigint();
    const fit = values.model === 'paretonbd' ? models.paretoNbd.fitParetoNbd(patterns) : models.bgNbd.fitBgNbd(patterns);
    parts.purchase.push(seconds(start));
    start = process.hrtime.bigint();
    models.gammaGamma.fitGammaGamma(spend);
    parts.gammaGamma.push(seconds(start));
    start = process.hrtime.bigint();
    models.clv.clvFactors(values.model === 'paretonbd' ? 'paretonbd' : 'bgnbd', fit.params, patterns, horizon);
    parts.clvFactors.push(seconds(start));
    start = process.hrtime.bigint();
    const groups = models.clv.frequencyTGroups(patterns.frequency, patterns.T);
    models.clv.aliveFactors(values.model === 'paretonbd' ? 'paretonbd' : 'bgnbd', fit.params, groups, horizon);
    parts.aliveFactors.push(seconds(start));
    groupCount = groups.frequency.length;
  }
  process.stdout.write(
    `(b) on ${patterns.frequency.length} purchase patterns (${groupCount} (frequency, T) pairs) and ${spend.frequency.length} spend patterns\n\n`,
  );

  process.stdout.write(`wall seconds over ${repeat} repeats     median      min      max\n`);
  const row = (name, xs) => process.stdout.write(`${name.padEnd(34)} ${fmt(median(xs))}  ${fmt(Math.min(...xs))}  ${fmt(Math.max(...xs))}\n`);
  row('(a) the job: clv stage', runs.mine.map((r) => r.summary.timings.clv));
  row('    the whole job', runs.mine.map((r) => r.wall));
  if (other) {
    row('    --compare-dist: clv stage', runs.other.map((r) => r.summary.timings.clv));
    row('    --compare-dist: the whole job', runs.other.map((r) => r.wall));
  }
  row(`(b) ${values.model === 'paretonbd' ? 'fitParetoNbd' : 'fitBgNbd'}`, parts.purchase);
  row('    fitGammaGamma', parts.gammaGamma);
  row('    clvFactors (per pattern)', parts.clvFactors);
  row('    groups + aliveFactors (stage)', parts.aliveFactors);
  process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores\n`);
} finally {
  await rm(work, { recursive: true, force: true });
}
