/**
 * The CLV intervals (models/clvIntervals.ts) split between this thread and
 * helper threads (intervalsWorker.ts): each draw's group factors, then the
 * blocks of patterns, each thread a share of them, into arrays the threads
 * share. The run waits for the intervals with the engine idle, so on a
 * machine with a second core this is where it has one to spare. The parts
 * and their order of addition are the same whatever the split: the numbers
 * are those of one thread, bit for bit.
 */
import { Worker } from 'node:worker_threads';
import {
  blockCount,
  combineIntervals,
  drawGroupFactors,
  drawnGroupsOf,
  intervalBlocks,
  intervalParts,
  intervalPlan,
  type DrawnGroups,
  type IntervalInput,
  type IntervalParts,
  type IntervalPlan,
} from '../../models/clvIntervals.js';
import type { DrawIntervals } from './clvFits.js';

/** What a helper is asked: one step, over its share. */
export type HelperTask =
  | { step: 'groups'; input: IntervalInput; plan: IntervalPlan; groups: DrawnGroups; from: number; to: number }
  | { step: 'blocks'; parts: IntervalParts; from: number; to: number };

export type HelperReply = { done: true } | { error: { message: string; stack?: string } };

/** [from, to) of `total` items for share `k` of `shares`: contiguous, the first shares one larger when it does not divide. */
export function share(total: number, shares: number, k: number): [number, number] {
  const size = Math.floor(total / shares);
  const extra = total % shares;
  const from = k * size + Math.min(k, extra);
  return [from, from + size + (k < extra ? 1 : 0)];
}

const sharedArray = (length: number) => new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));

/** A helper thread that answers one task at a time. */
function helper(script: URL) {
  const worker = new Worker(script);
  let pending: { resolve: () => void; reject: (error: Error) => void } | null = null;
  const fail = (error: Error) => {
    pending?.reject(error);
    pending = null;
  };
  worker.on('message', (reply: HelperReply) => {
    if ('error' in reply) fail(Object.assign(new Error(reply.error.message), { stack: reply.error.stack }));
    else {
      pending?.resolve();
      pending = null;
    }
  });
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`a CLV intervals thread exited with code ${code} before it answered`)));
  return {
    run: (task: HelperTask) =>
      new Promise<void>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(task);
      }),
    stop: () => void worker.terminate(),
  };
}

/**
 * Draws the intervals with `threads` threads in all (this one and
 * threads − 1 helpers running `script`).
 */
export function inThreads(threads: number, script: URL): DrawIntervals {
  return async (input) => {
    const plan = intervalPlan(input);
    if ('unavailable' in plan) return plan;
    const patterns = input.patterns.frequency.length;
    const blocks = blockCount(patterns);
    // No more threads than blocks or draws: a thread with nothing to do costs its start.
    const count = Math.max(1, Math.min(threads, blocks, plan.draws));
    const groups = drawnGroupsOf(plan, input.groups.frequency.length, count > 1 ? sharedArray : undefined);
    const parts = intervalParts(plan, patterns, count > 1 ? sharedArray : undefined);
    const helpers = Array.from({ length: count - 1 }, () => helper(script));
    try {
      // Share 0 is this thread's, share k the helper k − 1's. Every thread needs every draw's group factors before its blocks.
      const draws = (k: number) => share(plan.draws, count, k);
      const groupsDone = helpers.map((h, k) => h.run({ step: 'groups', input, plan, groups, from: draws(k + 1)[0], to: draws(k + 1)[1] }));
      drawGroupFactors(plan, input, ...draws(0), groups);
      await Promise.all(groupsDone);
      const patternBlocks = (k: number) => share(blocks, count, k);
      const blocksDone = helpers.map((h, k) => h.run({ step: 'blocks', parts, from: patternBlocks(k + 1)[0], to: patternBlocks(k + 1)[1] }));
      intervalBlocks(plan, input, groups, parts, ...patternBlocks(0));
      await Promise.all(blocksDone);
    } finally {
      for (const h of helpers) h.stop();
    }
    // The ratios stay in the shared memory: the main thread reads them where they are (clvWorker.ts moves only the rest).
    return combineIntervals(plan, parts, patterns);
  };
}
