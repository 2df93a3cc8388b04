import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CDNOW_CSV, fileHashes, fixture, ROOT, runCli, sha256, tempDir } from '../helpers.js';

/**
 * Golden outputs: every file the README's commands write on the CDNOW sample,
 * by sha256, against fixtures/golden/cdnow.json (recorded from main before the
 * engine redesign, issue 14). A refactoring that changes any byte fails here.
 *
 * Re-record (only for a deliberate change of output, explained in the commit):
 *   npm run build && CRM_GOLDEN_RECORD=1 npx vitest run tests/e2e/golden.test.ts
 */
const GOLDEN = fixture('golden', 'cdnow.json');
const RECORD = process.env.CRM_GOLDEN_RECORD === '1';
const SAMPLE = path.join('fixtures', 'cdnow', 'CDNOW_sample.txt');
const QUICKSTART = ['--customer-col', '1', '--date-col', '3', '--amount-col', '5'];
const RUN_FILES = ['customers.parquet', 'customers.csv', 'customers.json', 'customers.arrow', 'rejects.csv', 'deciles.csv', 'segments.csv', 'stages.csv', 'clusters.csv'];

/** What a run's summary.json says about the data, without what differs by clock, machine or folder. */
function comparableSummary(summary: Record<string, any>): unknown {
  const { logId, startedAt, finishedAt, inputs, ...run } = summary.run;
  const { out, inputs: optionInputs, memoryLimit, tempDir: spill, threads, ...options } = run.options;
  const { timings, ...rest } = summary;
  return canonical({ ...rest, run: { ...run, options } });
}

/** Object keys sorted at every level, so the comparison is of content, not key order. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}

async function cli(args: string[]): Promise<void> {
  const result = await runCli(args, { env: { TZ: 'UTC' } });
  expect(result.code, `crm ${args.join(' ')}\n${result.stderr}`).toBe(0);
}

async function runFiles(out: string) {
  return { files: await fileHashes(out, RUN_FILES), summary: comparableSummary(JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8'))) };
}

describe('golden outputs on the CDNOW sample', () => {
  it('writes byte-identical files for score (two runs), runs, migration, export, report and backtest', { timeout: 180_000 }, async () => {
    const dir = await tempDir('crm-golden-');
    const out = path.join(dir, 'cdnow');
    const db = path.join(out, 'crm.duckdb');
    const formats = ['--format', 'parquet', '--format', 'csv', '--format', 'json', '--format', 'arrow'];
    const actual: Record<string, unknown> = {};

    // Two nightly runs into one folder and history, so migration and the history columns have a previous run.
    await cli(['score', SAMPLE, ...QUICKSTART, '--as-of', '1998-03-31', ...formats, '--out', out]);
    actual.scoreFirst = await runFiles(out);
    await cli(['score', SAMPLE, ...QUICKSTART, '--as-of', '1998-06-30', ...formats, '--out', out]);
    actual.scoreSecond = await runFiles(out);

    const runs = await runCli(['runs', '--db', db, '--json']);
    expect(runs.code, runs.stderr).toBe(0);
    actual.runs = runs.stdout
      .trim()
      .split('\n')
      .map((line) => {
        const { started_at, duration_seconds, ...run } = JSON.parse(line);
        return canonical(run);
      });

    const exports: Record<string, string> = {};
    await cli(['migration', '--db', db, '--out', path.join(dir, 'moves.csv')]);
    exports['moves.csv'] = await sha256(path.join(dir, 'moves.csv'));
    for (const name of ['champions.csv', 'champions.parquet', 'champions.json']) {
      await cli(['export', '--db', db, '--segment', 'Champions', '--out', path.join(dir, name)]);
      exports[name] = await sha256(path.join(dir, name));
    }
    await cli(['export', '--db', db, '--preset', 'slipping', '--out', path.join(dir, 'slipping.csv')]);
    exports['slipping.csv'] = await sha256(path.join(dir, 'slipping.csv'));
    await cli(['report', '--db', db, '--out', path.join(dir, 'report.html')]);
    // The page says when the run started and finished; the rest is compared byte for byte.
    const page = (await readFile(path.join(dir, 'report.html'), 'utf8')).replace(/started [^<]* UTC · finished [^<]* UTC \([^)]*\)/, 'started … finished …');
    exports['report.html (run times blanked)'] = createHash('sha256').update(page).digest('hex');
    actual.exports = exports;

    const backtest = path.join(dir, 'backtest');
    await cli(['backtest', CDNOW_CSV, '--calibration-end', '1997-09-30', '--holdout-end', '1998-06-30', '--out', backtest]);
    actual.backtest = await fileHashes(backtest, ['backtest.csv', 'backtest.json']);

    if (RECORD) {
      const note = [
        'Golden outputs of tests/e2e/golden.test.ts: sha256 of every file the CDNOW commands write, and each summary.json without clock, machine and path fields.',
        'Re-record: npm run build && CRM_GOLDEN_RECORD=1 npx vitest run tests/e2e/golden.test.ts',
        'A change to this file must be deliberate and explained in its commit: it means crm writes different bytes.',
      ];
      const recordedFrom = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
      await mkdir(path.dirname(GOLDEN), { recursive: true });
      await writeFile(GOLDEN, `${JSON.stringify({ note, recordedFrom, ...actual }, null, 2)}\n`);
    }
    const { note, recordedFrom, ...golden } = JSON.parse(await readFile(GOLDEN, 'utf8'));
    expect(actual).toEqual(golden);
  });
});
