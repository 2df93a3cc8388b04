/**
 * A helper thread of the CLV intervals (intervalThreads.ts): its share of the
 * draws' group factors, then its share of the blocks of patterns, written
 * into the arrays it shares with the thread that asked.
 */
import { parentPort } from 'node:worker_threads';
import { drawGroupFactors, intervalBlocks, type DrawnGroups, type IntervalInput, type IntervalPlan } from '../../models/clvIntervals.js';
import type { HelperReply, HelperTask } from './intervalThreads.js';

let work: { input: IntervalInput; plan: IntervalPlan; groups: DrawnGroups } | null = null;

parentPort!.on('message', (task: HelperTask) => {
  let reply: HelperReply = { done: true };
  try {
    if (task.step === 'groups') {
      work = { input: task.input, plan: task.plan, groups: task.groups };
      drawGroupFactors(task.plan, task.input, task.from, task.to, task.groups);
    } else {
      intervalBlocks(work!.plan, work!.input, work!.groups, task.parts, task.from, task.to);
    }
  } catch (error) {
    reply = { error: { message: (error as Error).message, stack: (error as Error).stack } };
  }
  parentPort!.postMessage(reply);
});
