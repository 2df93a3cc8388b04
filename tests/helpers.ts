import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseScoreConfig } from '../src/config/loadConfig.js';
import type { ScoreConfig } from '../src/config/schema.js';
import { DuckDbEngine } from '../src/engine/duckdb/DuckDbEngine.js';
import type { Engine } from '../src/engine/Engine.js';
import type { ExportCounts } from '../src/jobs/exportSelection.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const fixture = (...parts: string[]) => path.join(ROOT, 'fixtures', ...parts);
export const CDNOW_CSV = fixture('cdnow', 'cdnow.csv');

export const tempDir = (prefix = 'crm-test-') => mkdtemp(path.join(tmpdir(), prefix));

/** A scratch DuckDB engine for one test, closed afterwards (after duckdb-node-neo's testHelpers). */
export async function withEngine<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await DuckDbEngine.create({ timezone: 'UTC' });
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

export const config = (raw: Record<string, unknown>): ScoreConfig => parseScoreConfig(raw);

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real CLI (bin/crm.js, the bundle `npm run build` writes to dist/bundle/) in a child process.
 * `onStderr` sees the stderr written so far each time more arrives (to act when the CLI says something);
 * `root` runs another copy of the checkout's bin/ and dist/.
 */
export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (stderr: string) => void; root?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(options.root ?? ROOT, 'bin', 'crm.js'), ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** The lines crm logs to stderr off a terminal, each parsed as JSON (a line that is not JSON fails the test). */
export const logLines = (stderr: string) => stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line));

/** The message of the last log line: why a command failed. */
export const lastMessage = (stderr: string): string => logLines(stderr).at(-1)?.msg;

/** Every log line's message, one per line: a usage error is exactly one. */
export const messages = (stderr: string): string => logLines(stderr).map((line) => line.msg).join('\n');

export const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8'));

export const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/** Each file's sha256, by name: an output set to compare with another. */
export const fileHashes = async (dir: string, files: readonly string[]) => Object.fromEntries(await Promise.all(files.map(async (f) => [f, await sha256(path.join(dir, f))] as const)));

/** The ids of the runs `crm runs` lists for the history in `out`. */
export async function listedRunIds(out: string): Promise<number[]> {
  const runs = await runCli(['runs', '--db', path.join(out, 'crm.duckdb'), '--json']);
  expect(runs.code, runs.stderr).toBe(0);
  return runs.stdout.trim().split('\n').map((line) => JSON.parse(line).run_id);
}

/** Parses a simple CSV (as written by DuckDB) into objects; good enough for test assertions. */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n') row.push(field), rows.push(row), (row = []), (field = '');
    else if (ch !== '\r') field += ch;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  const [header, ...body] = rows;
  return body.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

/**
 * The counts line `crm export` prints on stderr, checked to add up: every
 * matched customer is without contact, without a usable address, suppressed,
 * cut by the limit or written.
 */
export function exportCounts(stderr: string): ExportCounts {
  const m = /run (\d+): (\d+) matched, (\d+) without contact, (\d+) no address, (\d+) suppressed, (\d+) cut by the limit, (\d+) written/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  const [run, matched, withoutContact, noAddress, suppressed, cutByLimit, written] = m!.slice(1).map(Number) as [number, number, number, number, number, number, number];
  expect(withoutContact + noAddress + suppressed + cutByLimit + written, `counts add up to matched: ${stderr}`).toBe(matched);
  return { run, matched, withoutContact, noAddress, suppressed, cutByLimit, written };
}

/** |actual − expected| / |expected|. */
export const relative = (actual: number, expected: number) => Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);

export { expectPublishedFit, PUBLISHED_CDNOW } from './models/cdnowPatterns.js';

/**
 * The reference folders of the kill and publish-failure tests, in `dir`:
 * `old` holds one score run as of 1997-09-30; `ref` is a copy of it with a
 * run as of 1998-06-30 published over it, which is how a run over `old` that
 * was stopped must end once it is finished. `score` gives the command for an
 * output folder and an as-of date.
 */
export async function oldRunAndNext(dir: string, score: (out: string, asOf: string) => string[]): Promise<{ old: string; ref: string }> {
  const old = path.join(dir, 'old');
  const ref = path.join(dir, 'ref');
  const first = await runCli(score(old, '1997-09-30'));
  expect(first.code, first.stderr).toBe(0);
  await cp(old, ref, { recursive: true });
  const second = await runCli(score(ref, '1998-06-30'));
  expect(second.code, second.stderr).toBe(0);
  return { old, ref };
}
