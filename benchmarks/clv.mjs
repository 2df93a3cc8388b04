#!/usr/bin/env node
// Times the CLV stage on a large customer base (default: the 1M customers of
// benchmarks/data/transactions.parquet, made by `node benchmarks/generate.mjs`),
// using the compiled dist/ (run `npm run build` first):
//
//   (a) stage  — scoreClv as the pipeline runs it: model inputs in SQL, the
//                pattern and spend pulls, BG/NBD (or Pareto/NBD) + Gamma-Gamma
//                fits, the predictions and the join back to customers;
//   (b) models — the model part alone on the already pulled patterns:
//                fitBgNbd (or fitParetoNbd) + fitGammaGamma + clvFactors
//                (per pattern), and what the stage computes instead of
//                clvFactors: frequencyTGroups + aliveFactors (per (x, T) pair).
//
// Loading the transactions and computing customer_features are done once,
// before the timed repeats, exactly as `crm score` does them
// (engine.ingest + computeFeatures(…, { clv: true, lifecycle: false })).
//
//   node benchmarks/clv.mjs [--input FILE] [--as-of YYYY-MM-DD] [--model bgnbd|paretonbd]
//                           [--time-unit day|week|month] [--repeat 5] [--threads N] [--dist DIR]
//
// --dist points at another compiled tree; --compare-dist DIR also times that
// tree's scoreClv in the same process, alternating with this one's on the same
// engine and data, so both see the same machine load (a fair before/after on a
// shared machine). Both write customer_clv; its check line is this tree's.
//
// CRM_PROFILE=1 also prints each SQL statement's wall time to stderr.
// Machines here are shared and noisy: the median of the repeats is reported.
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
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
    repeat: { type: 'string', default: '5' },
    threads: { type: 'string' },
  },
});
const dist = (p) => join(resolve(values.dist), p);
requireFile(values.input, NO_DATA);
requireFile(dist('stages/clv/stage.js'), NO_DIST);

const { parseScoreConfig } = await import(dist('config/loadConfig.js'));
const { DuckDbEngine } = await import(dist('engine/duckdb/DuckDbEngine.js'));
const { computeFeatures, resolveAsOf } = await import(dist('stages/features/stage.js'));
const clvStage = await import(dist('stages/clv/stage.js'));
const { clvInputsSql, spendPatternsSql } = await import(dist('stages/clv/queries.js'));
const { runStatements } = await import(dist('engine/tables.js'));
const bgNbd = await import(dist('models/bgNbd.js'));
const paretoNbd = await import(dist('models/paretoNbd.js'));
const gammaGamma = await import(dist('models/gammaGamma.js'));
const clvModels = await import(dist('models/clv.js'));
const { clvFactors } = clvModels;

const repeat = Math.max(1, Number(values.repeat));
const config = parseScoreConfig({
  inputs: [values.input],
  asOf: values['as-of'],
  clv: { model: values.model, timeUnit: values['time-unit'] },
  ...(values.threads ? { threads: Number(values.threads) } : {}),
});
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;
/** CPU seconds of this process, every thread (JS and DuckDB's workers): steadier than wall time on a shared machine. */
const cpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};
const fmt = (x) => x.toFixed(3).padStart(7);

const engine = await DuckDbEngine.create({ timezone: 'UTC', ...(config.threads ? { threads: config.threads } : {}) });
try {
  let start = process.hrtime.bigint();
  const loaded = await engine.ingest(config.inputs, config);
  const asOf = await resolveAsOf(engine, config.asOf, loaded.runDay);
  const features = await computeFeatures(engine, asOf, loaded, { clv: true, lifecycle: false });
  process.stdout.write(
    `input ${values.input}: ${loaded.counts.read} rows, ${features.customers} customers as of ${asOf}; load + features ${seconds(start).toFixed(2)} s (untimed below)\n`,
  );
  process.stdout.write(`model ${config.clv.model}, time unit ${config.clv.timeUnit}, ${repeat} repeats, ${engine.constructor.name}\n\n`);

  // (a) The stage as the pipeline runs it.
  // A checkout from before src/stages/ has the stage at pipeline/clv.js.
  const otherStage = (d) => (existsSync(join(d, 'stages/clv/stage.js')) ? join(d, 'stages/clv/stage.js') : join(d, 'pipeline/clv.js'));
  const other = values['compare-dist'] ? await import(otherStage(resolve(values['compare-dist']))) : null;
  const stageTimes = [];
  const stageCpu = [];
  const otherTimes = [];
  const otherCpu = [];
  // The stage's per-customer columns come from its layer in the final pass; the
  // timing includes writing them for every customer (table customer_clv), as the
  // stage did before layers. Trees from before layers take (engine, options, asOf, log) and write customer_clv themselves.
  const runStage = async (stage) => {
    if (stage.scoreClv.length >= 4) return stage.scoreClv(engine, config.clv, asOf, silent);
    const { result, layer } = await stage.scoreClv(engine, config.clv, silent);
    await engine.run(
      `CREATE OR REPLACE TEMP TABLE customer_clv AS
       SELECT customer_id, frequency, recency, "T", monetary_value, p_alive, expected_purchases, expected_avg_value, clv
       FROM (${layer('SELECT * FROM customer_features')}) WHERE frequency IS NOT NULL`,
    );
    return result;
  };
  let result;
  for (let i = 0; i < repeat; i++) {
    if (other) {
      start = process.hrtime.bigint();
      const cpu = cpuSeconds();
      await runStage(other);
      otherTimes.push(seconds(start));
      otherCpu.push(cpuSeconds() - cpu);
    }
    start = process.hrtime.bigint();
    const cpu = cpuSeconds();
    result = await runStage(clvStage);
    stageTimes.push(seconds(start));
    stageCpu.push(cpuSeconds() - cpu);
  }
  const purchaseFit = result.bgnbd ?? result.paretonbd;
  const check = await engine.one(
    `SELECT count(*)::BIGINT AS n, count(clv)::BIGINT AS with_clv, sum(clv) AS total_clv FROM customer_clv`,
  );

  // (b) The models alone, on patterns pulled once.
  // A recipe: its statement that makes the table is bound (a BoundStatement), which runStatements runs.
  await runStatements(engine, clvInputsSql(engine.dialect));
  const { patterns, days } = await clvStage.purchasePatterns(engine, config.clv.timeUnit);
  const spendRows = await engine.numericColumns(spendPatternsSql(engine.dialect), ['frequency', 'monetary_value', 'weight']);
  const spend = { frequency: spendRows.frequency, monetaryValue: spendRows.monetary_value, weight: spendRows.weight };
  const horizon = { horizonMonths: config.clv.horizonMonths, monthlyDiscountRate: config.clv.discountRate, timeUnit: config.clv.timeUnit };
  const parts = { purchase: [], gammaGamma: [], clvFactors: [], total: [], totalCpu: [], aliveFactors: [] };
  let fits;
  let groupCount = null;
  for (let i = 0; i < repeat; i++) {
    const cpu = cpuSeconds();
    const t0 = process.hrtime.bigint();
    const fit = config.clv.model === 'bgnbd' ? bgNbd.fitBgNbd(patterns) : paretoNbd.fitParetoNbd(patterns);
    const t1 = process.hrtime.bigint();
    const gg = gammaGamma.fitGammaGamma(spend);
    const t2 = process.hrtime.bigint();
    clvFactors(config.clv.model, fit.params, patterns, horizon);
    const t3 = process.hrtime.bigint();
    parts.purchase.push(Number(t1 - t0) / 1e9);
    parts.gammaGamma.push(Number(t2 - t1) / 1e9);
    parts.clvFactors.push(Number(t3 - t2) / 1e9);
    parts.total.push(Number(t3 - t0) / 1e9);
    parts.totalCpu.push(cpuSeconds() - cpu);
    fits = { fit, gg };
    // What the stage computes instead of clvFactors (when this build has it):
    // the P(alive)-free factors once per (frequency, T) pair; P(alive) is then SQL's.
    if (clvModels.aliveFactors) {
      const t4 = process.hrtime.bigint();
      const groups = clvModels.frequencyTGroups(patterns.frequency, days.T);
      const unit = clvStage.DAYS_PER_UNIT[config.clv.timeUnit];
      clvModels.aliveFactors(config.clv.model, fit.params, { frequency: groups.frequency, T: groups.T.map((d) => d / unit) }, horizon);
      parts.aliveFactors.push(Number(process.hrtime.bigint() - t4) / 1e9);
      groupCount = groups.frequency.length;
    }
  }

  const totalWeight = patterns.weight.reduce((s, w) => s + w, 0);
  process.stdout.write(
    `patterns: ${patterns.frequency.length} purchase patterns (${totalWeight} customers)${groupCount === null ? '' : `, ${groupCount} (frequency, T) pairs`}, ${spend.frequency.length} spend patterns (${spend.weight.reduce((s, w) => s + w, 0)} repeat customers)\n`,
  );
  process.stdout.write(
    `${config.clv.model}: ${purchaseFit.iterations} iterations, converged ${purchaseFit.converged}, LL ${purchaseFit.logLikelihood.toFixed(3)}, ${JSON.stringify(purchaseFit.params)}\n  ${purchaseFit.message}\n`,
  );
  if (result.gammagamma) {
    process.stdout.write(
      `gamma-gamma: ${result.gammagamma.iterations} iterations, converged ${result.gammagamma.converged}, LL ${result.gammagamma.logLikelihood.toFixed(3)}, ${JSON.stringify(result.gammagamma.params)}\n  ${result.gammagamma.message}\n`,
    );
  }
  if (result.warnings.length) process.stdout.write(`warnings: ${result.warnings.join(' | ')}\n`);
  process.stdout.write(`customer_clv: ${check.n} rows, ${check.with_clv} with clv, Σ clv ${Number(check.total_clv).toFixed(2)}\n\n`);
  process.stdout.write(`wall seconds over ${repeat} repeats     median      min      max   CPU s (median, all threads)\n`);
  const row = (name, xs, cpu) =>
    process.stdout.write(`${name.padEnd(32)} ${fmt(median(xs))}  ${fmt(Math.min(...xs))}  ${fmt(Math.max(...xs))}${cpu ? `  ${fmt(median(cpu))}` : ''}\n`);
  row('(a) CLV stage (scoreClv)', stageTimes, stageCpu);
  if (other) row('    the same, --compare-dist', otherTimes, otherCpu);
  row(`(b) models: ${config.clv.model === 'bgnbd' ? 'fitBgNbd' : 'fitParetoNbd'}`, parts.purchase);
  row('    fitGammaGamma', parts.gammaGamma);
  row('    clvFactors', parts.clvFactors);
  row('    total', parts.total, parts.totalCpu);
  if (parts.aliveFactors.length) row('    (stage: groups + aliveFactors)', parts.aliveFactors);
  process.stdout.write(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores\n`);
  if (fits.fit.iterations !== purchaseFit.iterations) process.stdout.write(`(note: ${fits.fit.iterations} iterations in (b))\n`);
} finally {
  await engine.close();
}
