/**
 * The CLV fits run in a worker thread (the compiled dist/stages/clv/clvWorker.js,
 * which `npm test` builds first) while the engine serves the next stages; in
 * this thread when the worker script is not there (these tests import the
 * TypeScript sources). Both must give the same numbers, and a failure in the
 * worker must reach the run as an error.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backgroundFitter, purchasePatterns, spendPatterns } from '../../../src/stages/clv/stage.js';
import type { ClvFitInput } from '../../../src/stages/clv/clvFits.js';
import { silentLogger } from '../../../src/effects.js';
import { computeFeatures } from '../../../src/stages/features/stage.js';
import { runStatements } from '../../../src/engine/tables.js';
import { clvInputsSql } from '../../../src/stages/clv/queries.js';
import { CDNOW_CSV, config, ROOT, withEngine } from '../../helpers.js';

const WORKER = pathToFileURL(`${ROOT}/dist/stages/clv/clvWorker.js`);

async function cdnowInput(model: 'bgnbd' | 'mbgnbd' | 'paretonbd' | 'auto'): Promise<ClvFitInput> {
  return withEngine(async (engine) => {
    const cfg = config({ inputs: [CDNOW_CSV], asOf: '1997-09-30', clv: { model } });
    const loaded = await engine.ingest(cfg.inputs, cfg);
    await computeFeatures(engine, '1997-09-30', loaded, { clv: true, lifecycle: false });
    await runStatements(engine, clvInputsSql(engine.dialect));
    const { patterns, days, base, patternSpend } = await purchasePatterns(engine, cfg.clv.timeUnit);
    const spend = await spendPatterns(engine, base, 2357);
    return { options: cfg.clv, patterns, tDays: days.T, spend, patternSpend };
  });
}

describe('CLV fits in a worker thread', () => {
  it('with the compiled worker there, the fits run in a worker thread; without it, in this thread', async () => {
    expect(existsSync(fileURLToPath(WORKER))).toBe(true);
    const input = await cdnowInput('bgnbd');
    const said = (script: URL) => {
      const debug: string[] = [];
      const fitter = backgroundFitter({ ...silentLogger, debug: (obj, msg) => void debug.push(typeof obj === 'string' ? obj : msg ?? '') }, script);
      fitter.start(input);
      return { fitter, debug };
    };
    const worker = said(WORKER);
    const here = said(new URL('file:///nonexistent/clvWorker.js'));
    expect(worker.debug).toEqual(['fitting the CLV models in a worker thread']);
    expect(here.debug).toEqual(['fitting the CLV models in this thread']);
    // What crossed from another thread is a structured-clone copy: the fit, frozen where it was made, arrives unfrozen.
    const [fromWorker, fromHere] = [await worker.fitter.result(), await here.fitter.result()];
    expect(Object.isFrozen(fromHere.purchase.fit)).toBe(true);
    expect(Object.isFrozen(fromWorker.purchase.fit)).toBe(false);
  });

  it.each(['bgnbd', 'mbgnbd', 'paretonbd', 'auto'] as const)('%s: the worker gives exactly what this thread computes', async (model) => {
    const input = await cdnowInput(model);
    const here = backgroundFitter(silentLogger, new URL('file:///nonexistent/clvWorker.js'));
    here.start(input);
    const worker = backgroundFitter(silentLogger, WORKER);
    worker.start(input);
    const [a, b] = [await here.result(), await worker.result()];
    expect(b.groups.frequency.length).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });

  it('an error in the worker fails the run with its message', async () => {
    const input = await cdnowInput('bgnbd');
    // Patterns whose columns differ in length: the fit refuses them.
    const broken = { ...input, patterns: { ...input.patterns, recency: input.patterns.recency.subarray(1) } };
    const worker = backgroundFitter(silentLogger, WORKER);
    worker.start(broken);
    const here = backgroundFitter(silentLogger, new URL('file:///nonexistent/clvWorker.js'));
    here.start(broken);
    const message = await here.result().then(() => 'no error', (error: Error) => error.message);
    expect(message).not.toBe('no error');
    await expect(worker.result()).rejects.toThrow(message);
  });

  it('a cancelled worker answers with an error, not never', async () => {
    const worker = backgroundFitter(silentLogger, WORKER);
    worker.cancel();
    await expect(worker.result()).rejects.toThrow(/exited with code \d+ before it answered/);
  });
});
