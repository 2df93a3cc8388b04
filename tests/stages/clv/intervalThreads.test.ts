/**
 * The CLV intervals split between threads (src/stages/clv/intervalThreads.ts,
 * with the compiled helper dist/stages/clv/intervalsWorker.js, which
 * `npm test` builds first) give the numbers of one thread, bit for bit: the
 * draws' group factors and the blocks of patterns are the same parts, added
 * in the same order, whoever computes them. On a base of 20,000 patterns
 * (three blocks), where the split has something to split.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PATTERNS_PER_BLOCK } from '../../../src/models/clvIntervals.js';
import { fitClvModels, type ClvFitInput } from '../../../src/stages/clv/clvFits.js';
import { inThreads, share } from '../../../src/stages/clv/intervalThreads.js';
import { backgroundFitter } from '../../../src/stages/clv/stage.js';
import { silentLogger } from '../../../src/effects.js';
import { config, ROOT } from '../../helpers.js';

const HELPER = pathToFileURL(`${ROOT}/dist/stages/clv/intervalsWorker.js`);
const WORKER = pathToFileURL(`${ROOT}/dist/stages/clv/clvWorker.js`);

/** 20,000 purchase patterns in weeks (frequency 0..11, T 100..699 days), and their repeat customers' spends. */
function syntheticInput(): ClvFitInput {
  const n = 20_000;
  const frequency = new Float64Array(n);
  const recency = new Float64Array(n);
  const T = new Float64Array(n);
  const tDays = new Float64Array(n);
  const weight = new Float64Array(n);
  const customers = new Float64Array(n);
  const total = new Float64Array(n);
  const spend = { frequency: [] as number[], monetaryValue: [] as number[], weight: [] as number[] };
  for (let i = 0; i < n; i++) {
    const x = i % 12;
    const t = 100 + ((i * 7919) % 600);
    const r = x > 0 ? 1 + ((i * 104_729) % (t - 1)) : 0;
    frequency[i] = x;
    tDays[i] = t;
    T[i] = t / 7;
    recency[i] = r / 7;
    weight[i] = 1 + (i % 3);
    if (x > 0) {
      const m = 10 + (i % 50);
      customers[i] = weight[i];
      total[i] = weight[i] * m;
      spend.frequency.push(x);
      spend.monetaryValue.push(m);
      spend.weight.push(weight[i]);
    }
  }
  return {
    options: { ...config({ inputs: [] }).clv, draws: 40 },
    patterns: { frequency, recency, T, weight },
    tDays,
    patternSpend: { customers, total },
    spend: { frequency: Float64Array.from(spend.frequency), monetaryValue: Float64Array.from(spend.monetaryValue), weight: Float64Array.from(spend.weight) },
  };
}

describe('CLV intervals in threads', () => {
  it('share splits items into contiguous runs, the first ones one larger', () => {
    expect([0, 1, 2].map((k) => share(10, 3, k))).toEqual([
      [0, 4],
      [4, 7],
      [7, 10],
    ]);
    expect([0, 1].map((k) => share(1, 2, k))).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });

  it('2 and 3 threads give one thread’s intervals, ratios and totals bit for bit', { timeout: 300_000 }, async () => {
    expect(existsSync(fileURLToPath(HELPER))).toBe(true);
    const input = syntheticInput();
    expect(input.patterns.frequency.length).toBeGreaterThan(2 * PATTERNS_PER_BLOCK);
    const alone = await fitClvModels(input);
    expect(alone.intervals).not.toBeNull();
    expect(alone.intervalRatios).toHaveLength(12);
    for (const threads of [2, 3]) {
      const split = await fitClvModels(input, inThreads(threads, HELPER));
      expect(split.intervals, `${threads} threads`).toEqual(alone.intervals);
      expect(split.intervalRatios, `${threads} threads`).toEqual(alone.intervalRatios);
    }
  });

  it('the CLV worker thread, its intervals drawn with helpers, hands the main thread what this thread computes', { timeout: 300_000 }, async () => {
    const input = syntheticInput();
    const here = backgroundFitter(silentLogger, new URL('file:///nonexistent/clvWorker.js'));
    here.start(input);
    // Two threads in all, so that the ratios come back in memory shared with a helper, not moved.
    const worker = backgroundFitter(silentLogger, WORKER);
    worker.start({ ...input, threads: 2 });
    const [a, b] = [await here.result(), await worker.result()];
    expect(b.intervalRatios[0]!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.intervals).toEqual(a.intervals);
    expect(b.intervalRatios.map((column) => Array.from(column))).toEqual(a.intervalRatios.map((column) => Array.from(column)));
  });

  it('a helper that cannot start fails the intervals with an error, rather than wait for ever', { timeout: 300_000 }, async () => {
    const input = syntheticInput();
    await expect(fitClvModels(input, inThreads(2, new URL('file:///nonexistent/intervalsWorker.js')))).rejects.toThrow(/intervalsWorker|Cannot find module|exited/);
  });
});
