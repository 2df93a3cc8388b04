#!/usr/bin/env node
// The scale run of issue 15: `crm score` under a memory limit on 100M and 1B
// rows (Parquet, made by benchmarks/generate.mjs), each run under
// /usr/bin/time -v, printing wall time, peak RSS and spill, beside the bare
// DuckDB baseline (benchmarks/baseline.mjs) on the same file under the same
// limit; and crm without the limit, whose customers.parquet must equal the
// limited run's, byte for byte. With several sizes it prints the curve: how time and RSS grow
// with the rows.
//
//   npm run build                                              # dist/ must be current
//   node benchmarks/scale.mjs                                   # 100M rows, 10M customers, --memory-limit 3GB
//   node benchmarks/scale.mjs --sizes 10M:1M,100M:10M,1B:10M --runs baseline,limited   # the curve
//
// --sizes ROWS:CUSTOMERS,…   files to run on (default 100M:10M); each is
//                            DATA/scale-ROWS-CUSTOMERS/transactions.parquet,
//                            generated (seed 42) when missing
// --runs baseline,limited,unlimited   which runs (default all three; "unlimited"
//                            is crm with its default limit, and the equality check)
// --memory-limit SIZE        the bound (default 3GB)
// --work DIR                 outputs and spill folders (default benchmarks/out/scale),
//                            removed after each size unless --keep
//
// Peak RSS is /usr/bin/time's "Maximum resident set size" (the whole process:
// DuckDB, Node's heap and buffers, the CLV worker thread). Spill is the peak
// size on disk of the run's spill folder (--temp-dir, sampled every 250 ms);
// "written" is everything the process wrote (time's "File system outputs",
// spill and output files both). Machines here are shared and noisy: the
// seconds carry the load; RSS is the criterion.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NO_DIST, requireFile } from './common.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100M:10M' },
    runs: { type: 'string', default: 'baseline,limited,unlimited' },
    'memory-limit': { type: 'string', default: '3GB' },
    data: { type: 'string', default: join(root, 'benchmarks', 'data') },
    work: { type: 'string', default: join(root, 'benchmarks', 'out', 'scale') },
    keep: { type: 'boolean', default: false },
  },
});
const limit = values['memory-limit'];
const runs = new Set(values.runs.split(','));
for (const r of runs) if (!['baseline', 'limited', 'unlimited'].includes(r)) throw new Error(`--runs: unknown run "${r}"`);
const crm = join(root, 'bin', 'crm.js');
requireFile(join(root, 'dist', 'bundle', 'main.js'), NO_DIST);

/** "100M" → 100000000 (K, M, B = 10^3, 10^6, 10^9). */
function count(text) {
  const m = /^(\d+(?:\.\d+)?)([KMB]?)$/i.exec(text.trim());
  if (!m) throw new Error(`--sizes: "${text}" is not a count such as 100M`);
  return Math.round(Number(m[1]) * { '': 1, K: 1e3, M: 1e6, B: 1e9 }[m[2].toUpperCase()]);
}
const sizes = values.sizes.split(',').map((s) => {
  const [rows, customers] = s.split(':');
  if (!customers) throw new Error(`--sizes: "${s}" must be ROWS:CUSTOMERS, e.g. 100M:10M`);
  return { label: `${rows}:${customers}`, rows: count(rows), customers: count(customers), dir: join(values.data, `scale-${rows}-${customers}`) };
});

/** Bytes on disk under `dir` (allocated blocks: DuckDB's spill files can be sparse). */
function diskBytes(dir) {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      total += e.isDirectory() ? diskBytes(p) : statSync(p).blocks * 512;
    } catch {
      /* removed meanwhile */
    }
  }
  return total;
}

/** Runs `node args` under /usr/bin/time -v; returns its exit code, wall seconds, peak RSS and bytes written, and the peak size of `spillDir`. */
function timed(args, spillDir) {
  const report = join(values.work, `time-${process.pid}.txt`);
  return new Promise((resolveRun, reject) => {
    const child = spawn('/usr/bin/time', ['-v', '-o', report, process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    let spillPeak = 0;
    const timer = setInterval(() => (spillPeak = Math.max(spillPeak, diskBytes(spillDir))), 250);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const text = readFileSync(report, 'utf8');
      rmSync(report, { force: true });
      const field = (name) => new RegExp(`${name}: (.+)`).exec(text)?.[1]?.trim();
      // "Elapsed (wall clock) time (h:mm:ss or m:ss): 1:02.31"
      const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)').split(':').reduce((s, part) => s * 60 + Number(part), 0);
      resolveRun({
        code,
        seconds: wall,
        rssBytes: Number(field('Maximum resident set size \\(kbytes\\)')) * 1024,
        writtenBytes: Number(field('File system outputs')) * 512,
        spillBytes: spillPeak,
        lastError: code === 0 ? '' : stderr.trim().split('\n').at(-1),
      });
    });
  });
}

const sha256 = (file) =>
  new Promise((res, rej) => {
    const hash = createHash('sha256');
    createReadStream(file).on('data', (d) => hash.update(d)).on('end', () => res(hash.digest('hex'))).on('error', rej);
  });

const gb = (bytes) => (bytes / 1e9).toFixed(2);
const results = [];
mkdirSync(values.work, { recursive: true });
process.stdout.write(`node ${process.version}, ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}; limit ${limit}\n`);

for (const size of sizes) {
  const file = join(size.dir, 'transactions.parquet');
  if (!existsSync(file)) {
    process.stdout.write(`generating ${file} (${size.rows} rows, ${size.customers} customers)\n`);
    const gen = await timed([join(root, 'benchmarks', 'generate.mjs'), '--rows', String(size.rows), '--customers', String(size.customers), '--out', size.dir, '--formats', 'parquet', '--memory-limit', '4GB'], size.dir);
    if (gen.code !== 0) throw new Error(`generate failed: ${gen.lastError}`);
    process.stdout.write(`generated in ${gen.seconds.toFixed(0)} s (peak RSS ${gb(gen.rssBytes)} GB), ${gb(statSync(file).size)} GB\n`);
  }
  const work = join(values.work, `scale-${size.rows}-${size.customers}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const spill = (name) => {
    const dir = join(work, `spill-${name}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const record = (what, r) => {
    results.push({ size: size.label, rows: size.rows, what, ...r });
    process.stdout.write(
      `${size.label.padEnd(10)} ${what.padEnd(26)} exit ${r.code}  ${r.seconds.toFixed(1).padStart(7)} s  peak RSS ${gb(r.rssBytes).padStart(6)} GB  spill ${gb(r.spillBytes).padStart(6)} GB  written ${gb(r.writtenBytes).padStart(6)} GB  (load ${loadavg()[0].toFixed(2)})${r.lastError ? `\n  ${r.lastError}` : ''}\n`,
    );
  };
  try {
    if (runs.has('baseline')) {
      const dir = spill('baseline');
      record(`duckdb baseline, ${limit}`, await timed([join(root, 'benchmarks', 'baseline.mjs'), file, join(work, 'baseline.parquet'), '--memory-limit', limit, '--temp-dir', dir], dir));
    }
    const score = (name, extra) => {
      const dir = spill(name);
      return timed([crm, 'score', file, '--out', join(work, name), '--format', 'parquet', '--temp-dir', dir, '--log-level', 'warn', ...extra], dir);
    };
    if (runs.has('limited')) record(`crm score, ${limit}`, await score('limited', ['--memory-limit', limit]));
    if (runs.has('unlimited')) record('crm score, default limit', await score('unlimited', []));
    if (runs.has('limited') && runs.has('unlimited')) {
      const [a, b] = [join(work, 'limited', 'customers.parquet'), join(work, 'unlimited', 'customers.parquet')];
      if (existsSync(a) && existsSync(b)) {
        // Byte for byte: the same input and options give the same file whatever the limit (no DuckDB here: tests/engine/importRule.test.ts).
        const same = (await sha256(a)) === (await sha256(b));
        process.stdout.write(`${size.label.padEnd(10)} customers.parquet with and without the limit: ${same ? 'byte-identical' : 'DIFFERENT'}\n`);
        if (!same) process.exitCode = 1;
      }
    }
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }
}

// The curve: how the limited run's cost grows with the rows.
const curve = results.filter((r) => r.what.startsWith('crm score, ') && r.what !== 'crm score, default limit' && r.code === 0);
if (curve.length > 1) {
  process.stdout.write(`\ncurve (crm score, ${limit}):\n`);
  for (const r of curve) {
    process.stdout.write(`${r.size.padEnd(10)} ${r.seconds.toFixed(1).padStart(7)} s  ${(r.seconds / (r.rows / 1e8)).toFixed(1).padStart(7)} s per 100M rows  peak RSS ${gb(r.rssBytes)} GB\n`);
  }
}
