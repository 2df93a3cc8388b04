/**
 * Worker thread for the CLV fits (clvFits.ts): takes one ClvFitInput, posts
 * back the ClvFits, or the error's message and stack. The intervals are
 * drawn with helper threads (intervalThreads.ts) when the machine has the
 * cores: the run waits for them with the engine idle.
 */
import { availableParallelism } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { fitClvModels, type ClvFitInput } from './clvFits.js';
import { inThreads } from './intervalThreads.js';

/** Threads for the intervals, this one included: --threads, or a few for the cores the run leaves idle while it waits. */
const MAX_INTERVAL_THREADS = 4;

parentPort!.once('message', async (input: ClvFitInput) => {
  try {
    const threads = input.threads ?? Math.min(availableParallelism(), MAX_INTERVAL_THREADS);
    const fits = await fitClvModels(input, inThreads(threads, new URL('./intervalsWorker.js', import.meta.url)));
    const g = fits.groups;
    // Moved, not copied; a buffer may back two arrays (the empty ones), and may be listed once only. Memory shared
    // with the intervals' helpers (SharedArrayBuffer) is not moved but shared, as it is: no copy either.
    const arrays = [g.frequency, g.tDays, g.expectedPurchases, g.discountFactor, fits.patternPAlive, ...fits.intervalRatios];
    const buffers = new Set(arrays.map((a) => a.buffer).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer));
    parentPort!.postMessage({ fits }, [...buffers]);
  } catch (error) {
    parentPort!.postMessage({ error: { message: (error as Error).message, stack: (error as Error).stack } });
  }
});
