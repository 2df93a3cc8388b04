/**
 * An empty or meaningless period: no purchase can happen, so P(X = 0) = 1.
 * (A negative t would otherwise make the NBD ratio t/(α+t) negative and the
 * "probabilities" alternate in sign; NaN would fill them with NaN.)
 */
import { describe, expect, it } from 'vitest';
import { bgNbdPmf, mbgNbdPmf, paretoNbdPmf } from '../../src/models/purchasePmf.js';

const BG = { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
const PNBD = { r: 0.55, alpha: 10.56, s: 0.61, beta: 11.64 };

describe('purchase pmfs over a period that is not positive', () => {
  for (const t of [-1, -39, Number.NaN]) {
    it(`t = ${t}: all the mass on x = 0`, () => {
      expect(Array.from(bgNbdPmf(BG, t, 3))).toEqual([1, 0, 0, 0]);
      expect(Array.from(mbgNbdPmf(BG, t, 3))).toEqual([1, 0, 0, 0]);
      expect(Array.from(paretoNbdPmf(PNBD, t, 3))).toEqual([1, 0, 0, 0]);
    });
  }
});
