/**
 * Worker thread for the CLV fits (clvFits.ts): takes one ClvFitInput, posts
 * back the ClvFits, or the error's message and stack.
 */
import { parentPort } from 'node:worker_threads';
import { fitClvModels, type ClvFitInput } from './clvFits.js';

parentPort!.once('message', (input: ClvFitInput) => {
  try {
    const fits = fitClvModels(input);
    const g = fits.groups;
    // Moved, not copied; a buffer may back two arrays (the empty ones), and may be listed once only.
    const buffers = new Set([g.frequency, g.tDays, g.expectedPurchases, g.discountFactor, fits.patternPAlive, ...fits.intervalRatios].map((a) => a.buffer as ArrayBuffer));
    parentPort!.postMessage({ fits }, [...buffers]);
  } catch (error) {
    parentPort!.postMessage({ error: { message: (error as Error).message, stack: (error as Error).stack } });
  }
});
