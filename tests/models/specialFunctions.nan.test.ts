/** NaN in, NaN out: the special functions have no separate NaN check, so this pins that none is needed. */
import { describe, expect, it } from 'vitest';
import { digamma, logGamma, logSumExp } from '../../src/models/specialFunctions.js';

describe('NaN arguments', () => {
  it('give NaN', () => {
    expect(logGamma(Number.NaN)).toBeNaN();
    expect(digamma(Number.NaN)).toBeNaN();
    expect(logSumExp([0, Number.NaN])).toBeNaN();
    expect(logSumExp([Number.NaN, 0])).toBeNaN();
  });
});
