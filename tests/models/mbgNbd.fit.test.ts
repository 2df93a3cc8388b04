/**
 * The MBG/NBD fit on CDNOW (kept apart from mbgNbd.test.ts like the other
 * models' fits).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { conditionalProbabilityAlive, fitMbgNbd } from '../../src/models/mbgNbd.js';
import type { BgNbdParams } from '../../src/models/types.js';
import { loadCdnowCalibration, patterns, relativeError, shuffled } from './cdnowPatterns.js';

const cdnow = loadCdnowCalibration();
// Batislam, Denizel & Filiztekin (2007) on CDNOW as of 1997-09-30 in weeks, as BTYDplus / lifetimes report it (issue 16).
const PUBLISHED: BgNbdParams = { r: 0.525, alpha: 6.183, a: 0.891, b: 1.614 };
const NAMES = ['r', 'alpha', 'a', 'b'] as const;

describe('fitMbgNbd on CDNOW', () => {
  let fit: ReturnType<typeof fitMbgNbd>;
  beforeAll(() => {
    fit = fitMbgNbd(cdnow.patterns);
  });

  it('reproduces r 0.525, α 6.183, a 0.891, b 1.614 to 1e-3 absolute', () => {
    expect(fit.converged).toBe(true);
    expect(fit.message).toMatch(/MBG\/NBD: converged/);
    for (const name of NAMES) expect(Math.abs(fit.params[name] - PUBLISHED[name]), `${name} = ${fit.params[name]}`).toBeLessThan(1e-3);
  });

  it('reports standard errors and an immutable result', () => {
    expect(fit.standardErrors).not.toBeNull();
    for (const name of NAMES) expect(fit.standardErrors![name]).toBeGreaterThan(0);
    expect(Object.isFrozen(fit.params)).toBe(true);
  });

  it('does not depend on the order of the patterns, nor on grouping customers into patterns', () => {
    const again = fitMbgNbd(shuffled(cdnow.patterns, 3));
    const perCustomer = fitMbgNbd(patterns(cdnow.customers.map((c) => [c.frequency, c.recency, c.T, 1])));
    for (const name of NAMES) {
      expect(relativeError(again.params[name], fit.params[name])).toBeLessThan(1e-9);
      expect(relativeError(perCustomer.params[name], fit.params[name])).toBeLessThan(1e-7);
    }
  });

  it('gives every CDNOW one-time buyer P(alive) < 1, lower the longer ago they bought', () => {
    const oneTime = cdnow.customers.filter((c) => c.frequency === 0);
    expect(oneTime.length).toBe(2357 - 946);
    let previous = { T: -1, p: 1 };
    for (const c of [...oneTime].sort((u, v) => u.T - v.T)) {
      const p = conditionalProbabilityAlive(fit.params, 0, 0, c.T);
      expect(p).toBeLessThan(1);
      if (c.T > previous.T) expect(p).toBeLessThan(previous.p);
      previous = { T: c.T, p };
    }
  });

  it('is not fitted without repeat purchases', () => {
    const none = fitMbgNbd(patterns([[0, 0, 10, 5], [0, 0, 20, 3]]));
    expect(none.converged).toBe(false);
    expect(none.message).toMatch(/MBG\/NBD not fitted: no repeat purchases/);
  });
});
