#!/usr/bin/env node
// The full `crm score` on PostgreSQL/Citus beside the embedded DuckDB, on the
// same data in the same run: from files (validated on this machine, the
// customer-day rows streamed in with COPY) and from a table already in the
// cluster (--source-table). Prints wall time, peak RSS of the crm process and
// the rows and bytes pulled from the server per stage (crm's debug log).
//
//   node benchmarks/generate.mjs                                   # once: benchmarks/data/transactions.{csv,parquet}
//   BASE=$(mktemp -d) ../shared/citus/start-cluster.sh             # a coordinator + 2 workers
//   node benchmarks/citus.mjs --url postgresql://postgres@localhost:55432/crm [--input parquet] [--repeat 1] [--data DIR]
//
// The source table (bench_source.transactions, distributed by customer_id) is
// loaded once with COPY before the runs, timed apart: in a warehouse it is
// already there. Machines here are shared and noisy: compare within one run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, NO_DATA, NO_DIST, requireFile } from './common.mjs';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.CRM_BENCH_POSTGRES_URL },
    input: { type: 'string', default: 'parquet' },
    repeat: { type: 'string', default: '1' },
    data: { type: 'string', default: join(root, 'benchmarks', 'data') },
  },
});
if (!values.url) {
  process.stderr.write('give --url postgresql://user@host:port/database (a Citus coordinator), or set CRM_BENCH_POSTGRES_URL\n');
  process.exit(2);
}
const file = join(values.data, `transactions.${values.input}`);
requireFile(file, NO_DATA);
const crm = join(root, 'bin', 'crm.js');
requireFile(join(root, 'dist', 'bundle', 'main.js'), NO_DIST);

/** The rows and bytes crm pulled from the server, per stage, from its debug log (JSON lines). */
function pulled(stderr) {
  const perStage = {};
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line);
    if (entry.bytesPulled === undefined) continue;
    const stage = entry.stage ?? 'other';
    perStage[stage] ??= { rows: 0, bytes: 0 };
    perStage[stage].rows += entry.rowsPulled ?? 0;
    perStage[stage].bytes += entry.bytesPulled;
  }
  return perStage;
}

/** psql against the coordinator, for the source table's load (not part of crm's time). */
const psql = (sql) => measure('psql', [values.url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);

const work = mkdtempSync(join(tmpdir(), 'crm-bench-citus-'));
const results = [];
try {
  // The source table, as a warehouse would hold it: distributed by customer_id.
  const csv = join(values.data, 'transactions.csv');
  requireFile(csv, NO_DATA);
  await psql('DROP SCHEMA IF EXISTS bench_source CASCADE; CREATE SCHEMA bench_source; CREATE TABLE bench_source.transactions (customer_id text, order_date date, amount numeric(12,2))');
  await psql(`SELECT create_distributed_table('bench_source.transactions', 'customer_id')`);
  const load = await psql(`\\copy bench_source.transactions FROM '${csv.replaceAll("'", "''")}' WITH (FORMAT csv, HEADER true)`);
  await psql('ANALYZE bench_source.transactions');
  results.push({ what: 'load source table (psql COPY)', seconds: load.seconds, peakMb: null });

  const common = ['--format', 'parquet', '--no-db', '--log-level', 'debug'];
  for (let i = 0; i < Number(values.repeat); i++) {
    const runs = [
      { what: 'duckdb, from files', args: ['score', file, ...common] },
      { what: 'citus, from files', args: ['score', file, '--engine', values.url, '--schema', 'bench_files', ...common] },
      { what: 'citus, --source-table', args: ['score', '--source-table', 'bench_source.transactions', '--engine', values.url, '--schema', 'bench_table', ...common] },
    ];
    for (const run of runs) {
      const out = join(work, `${i}-${results.length}`);
      const measured = await measure(process.execPath, [crm, ...run.args, '--out', out]);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      results.push({ what: run.what, seconds: measured.seconds, peakMb: measured.peakMb, timings: summary.timings, customers: summary.customers, rows: summary.rows.read, pulled: pulled(measured.stderr) });
      rmSync(out, { recursive: true, force: true });
    }
  }
} finally {
  await psql('DROP SCHEMA IF EXISTS bench_source CASCADE').catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}

const mb = (bytes) => (bytes / 1e6).toFixed(1);
process.stdout.write(`input ${file}\n`);
process.stdout.write(`${'what'.padEnd(30)} ${'seconds'.padStart(8)} ${'peak RSS MB'.padStart(12)} ${'pulled MB'.padStart(10)}\n`);
for (const r of results) {
  const total = r.pulled ? Object.values(r.pulled).reduce((s, p) => s + p.bytes, 0) : null;
  process.stdout.write(
    `${r.what.padEnd(30)} ${r.seconds.toFixed(2).padStart(8)} ${(r.peakMb === null ? '' : r.peakMb.toFixed(0)).padStart(12)} ${(total === null ? '' : mb(total)).padStart(10)}\n`,
  );
}
for (const what of new Set(results.filter((r) => r.timings).map((r) => r.what))) {
  const runs = results.filter((r) => r.what === what);
  process.stdout.write(`${what}: median ${median(runs.map((r) => r.seconds)).toFixed(2)} s over ${runs.length}; ${runs[0].rows} rows, ${runs[0].customers} customers\n`);
  process.stdout.write(`  stages (s): ${Object.entries(runs[0].timings).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}\n`);
  const perStage = runs[0].pulled;
  if (Object.keys(perStage).length) {
    process.stdout.write(`  pulled from the server: ${Object.entries(perStage).map(([k, p]) => `${k} ${p.rows} rows / ${mb(p.bytes)} MB`).join(', ')}\n`);
  }
}
