#!/usr/bin/env node
// Times `crm score` against the bare DuckDB baseline (benchmarks/baseline.mjs)
// on the same file in the same run, and prints both, their ratio and peak RSS.
// Machines here are shared and noisy: compare the ratio, not the seconds.
//
//   node benchmarks/generate.mjs                     # once: benchmarks/data/transactions.{csv,parquet}
//   node benchmarks/score.mjs [--input csv|parquet|dirty] [--stages rfm,full] [--repeat 1] [--data DIR] [--compare DIR] [--args='--clv-draws 0']
//
// --input dirty scores transactions-dirty.csv, the CSV with a dozen bad rows
// (what rejecting them costs); the baseline, which would stop at the first bad
// row, reads the clean CSV.
//
// --compare DIR also runs another checkout's crm (DIR/bin/crm.js, built) right
// before or after this one's (alternately), stage by stage, and prints the
// median of the per-pair ratios this/that, and each stage's median seconds in
// both: a before/after under the same machine load. --args adds options to
// this checkout's crm score only (e.g. --clv-draws 0: the work of a checkout
// from before the CLV intervals).
//
// "rfm" runs crm score with --no-clv --no-lifecycle --no-kmeans; "full" runs every stage.
// Both write customers.parquet and record the run in a DuckDB database, as the nightly job does;
// "rfm-nodb" (not in the default set) is "rfm" without the database.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, NO_DATA, requireFile } from './common.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const { values } = parseArgs({
  options: {
    input: { type: 'string', default: 'csv' },
    stages: { type: 'string', default: 'rfm,full' },
    repeat: { type: 'string', default: '1' },
    data: { type: 'string', default: join(root, 'benchmarks', 'data') },
    compare: { type: 'string' },
    args: { type: 'string', default: '' },
  },
});
const file = join(values.data, values.input === 'dirty' ? 'transactions-dirty.csv' : `transactions.${values.input}`);
const baselineFile = values.input === 'dirty' ? join(values.data, 'transactions.csv') : file;
requireFile(file, NO_DATA);
requireFile(baselineFile, NO_DATA);


const work = mkdtempSync(join(tmpdir(), 'crm-bench-'));
const crm = join(root, 'bin', 'crm.js');
const other = values.compare ? join(resolve(values.compare), 'bin', 'crm.js') : null;
if (other) requireFile(other, 'give --compare a checkout with bin/crm.js, built (npm ci or npm run build)');
// rfm-nodb: RFM only without the history database, to show what recording the run costs.
const stageFlags = { rfm: ['--no-clv', '--no-lifecycle', '--no-kmeans'], 'rfm-nodb': ['--no-clv', '--no-lifecycle', '--no-kmeans', '--no-db'], full: [] };
const stages = values.stages.split(',');
const results = [];
try {
  for (let i = 0; i < Number(values.repeat); i++) {
    const baseline = await measure(process.execPath, [join(root, 'benchmarks', 'baseline.mjs'), baselineFile, join(work, `baseline-${i}.parquet`)]);
    results.push({ what: 'duckdb baseline', ...baseline });
    for (const stage of stages) {
      const out = join(work, `crm-${stage}-${i}`);
      const score = async (bin, dir) => {
        const extra = bin === crm ? values.args.split(' ').filter(Boolean) : [];
        const run = await measure(process.execPath, [bin, 'score', file, '--out', dir, '--format', 'parquet', '--log-level', 'warn', ...stageFlags[stage], ...extra]);
        const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
        return { ...run, ratio: run.seconds / baseline.seconds, timings: summary.timings, customers: summary.customers, rows: summary.rows.read, rejected: summary.rows.rejected };
      };
      // The pair's order alternates, so that neither checkout always runs second (on a warmer page cache, or a busier machine).
      const thatFirst = other && i % 2 === 1;
      const then = thatFirst ? await score(other, `${out}-compare`) : null;
      const run = await score(crm, out);
      results.push({ what: `crm score (${stage})`, ...run });
      if (other) {
        const that = then ?? (await score(other, `${out}-compare`));
        results.push({ what: `compare (${stage})`, ...that, versus: run.seconds / that.seconds });
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

process.stdout.write(`input ${file}\n`);
process.stdout.write(`${'what'.padEnd(22)} ${'seconds'.padStart(8)} ${'× baseline'.padStart(10)} ${'peak RSS MB'.padStart(12)}\n`);
for (const r of results) {
  process.stdout.write(`${r.what.padEnd(22)} ${r.seconds.toFixed(2).padStart(8)} ${(r.ratio ? r.ratio.toFixed(2) : '1.00').padStart(10)} ${r.peakMb.toFixed(0).padStart(12)}\n`);
}
// On a shared machine one pair can be off by a quarter either way: with --repeat, the median ratio per stage.
if (Number(values.repeat) > 1) {
  for (const stage of stages) {
    const runs = results.filter((r) => r.what === `crm score (${stage})`);
    const ratios = runs.map((r) => r.ratio);
    process.stdout.write(
      `crm score (${stage}): median ${median(ratios).toFixed(2)}× baseline over ${runs.length} pairs (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}), median ${median(runs.map((r) => r.seconds)).toFixed(2)} s, peak RSS ${Math.max(...runs.map((r) => r.peakMb)).toFixed(0)} MB at most\n`,
    );
  }
}
if (other) {
  for (const stage of stages) {
    const pairs = results.filter((r) => r.what === `compare (${stage})`).map((r) => r.versus);
    process.stdout.write(
      `crm score (${stage}) against ${values.compare}: median ${median(pairs).toFixed(3)}× its time over ${pairs.length} pairs (${Math.min(...pairs).toFixed(3)}–${Math.max(...pairs).toFixed(3)})\n`,
    );
  }
}
if (other) {
  // Per stage of summary.json's timings, the median seconds of this checkout's runs and of the other's.
  for (const stage of stages) {
    const medians = (what) => {
      const runs = results.filter((r) => r.what === `${what} (${stage})`);
      const names = [...new Set(runs.flatMap((r) => Object.keys(r.timings)))];
      return Object.fromEntries(names.map((name) => [name, median(runs.map((r) => r.timings[name] ?? 0))]));
    };
    const mine = medians('crm score');
    const theirs = medians('compare');
    const names = [...new Set([...Object.keys(theirs), ...Object.keys(mine)])];
    process.stdout.write(`crm score (${stage}) stages, median s this / that: ${names.map((n) => `${n} ${mine[n]?.toFixed(2) ?? '-'} / ${theirs[n]?.toFixed(2) ?? '-'}`).join(', ')}\n`);
  }
}
for (const r of results.filter((x) => x.timings)) {
  process.stdout.write(`${r.what}: ${r.rows} rows (${r.rejected} rejected), ${r.customers} customers; stages (s): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}\n`);
}
