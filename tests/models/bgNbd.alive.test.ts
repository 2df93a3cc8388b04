/**
 * BG/NBD P(alive | x, t_x, T) for many customers at once, which caches
 * log(a/(b+x−1)) for x < 4096: against the closed form
 * 1 / (1 + a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) (Fader, Hardie & Lee 2005,
 * "Computing P(alive) using the BG/NBD model"), on both sides of the cache's end.
 */
import { describe, expect, it } from 'vitest';
import { conditionalProbabilityAlive } from '../../src/models/bgNbd.js';

const P = { r: 0.3, alpha: 20, a: 2, b: 3 };
const closedForm = (x: number, tx: number, T: number) => (x === 0 ? 1 : 1 / (1 + (P.a / (P.b + x - 1)) * ((P.alpha + T) / (P.alpha + tx)) ** (P.r + x)));

describe('BG/NBD P(alive) over many customers', () => {
  it('matches the closed form for frequencies below, at and past 4,096, each seen twice', () => {
    // t_x close to T keeps ((α+T)/(α+t_x))^(r+x) moderate at x ≈ 4,096.
    const rows: [number, number, number][] = [];
    for (const x of [0, 1, 4095, 4096, 4097, 9000]) rows.push([x, 52 - 0.5 / (x + 1), 52], [x, 52 - 1 / (x + 1), 52]);
    const got = conditionalProbabilityAlive(
      P,
      Float64Array.from(rows, (row) => row[0]),
      Float64Array.from(rows, (row) => (row[0] === 0 ? 0 : row[1])),
      Float64Array.from(rows, (row) => row[2]),
    );
    rows.forEach(([x, tx, T], i) => {
      const want = closedForm(x, x === 0 ? 0 : tx, T);
      expect(want).toBeGreaterThan(0.05);
      expect(got[i]).toBeCloseTo(want, 12);
    });
  });
});
