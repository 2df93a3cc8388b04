/**
 * The k-means parts' shared pieces against values worked out apart from crm:
 * mulberry32's first draws from its published C code (Tommy Ettinger's
 * `z = (a += 0x6D2B79F5); z = (z ^ z >> 15) * (z | 1); z ^= z + (z ^ z >> 7) * (z | 61);
 * return z ^ z >> 14`, run in 32-bit unsigned arithmetic and divided by 2^32),
 * Knuth's Algorithm S on those draws, and the argument checks' messages.
 */
import { describe, expect, it } from 'vitest';
import { checkMatrix, checkPositiveInt, checkSeed, gatherRows, KMeansError, mulberry32, sampleIndices } from '../../src/models/kmeans.js';

describe('mulberry32', () => {
  it.each([
    [0, [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]],
    [42, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]],
    // The seed is taken modulo 2^32.
    [2 ** 32 + 42, [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]],
    [-1, [0.8964226141106337, 0.189478256739676, 0.7156526781618595]],
  ])('gives the reference draws for seed %d', (seed, draws) => {
    const random = mulberry32(seed);
    expect([random(), random(), random()]).toEqual(draws);
  });
});

describe('sampleIndices', () => {
  it('is Algorithm S on the mulberry32 draws: item i taken when (n − i)·u < m − taken', () => {
    // Seed 9's first draws and the items they select (n = 20, m = 5), worked out from the reference draws.
    expect(Array.from(sampleIndices(20, 5, 9))).toEqual([0, 2, 8, 14, 19]);
    expect(Array.from(sampleIndices(20, 5, 10))).toEqual([6, 7, 8, 11, 19]);
  });

  it('takes every item, in order, when m = n', () => {
    expect(Array.from(sampleIndices(6, 6, 3))).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('gatherRows', () => {
  it('copies the given rows of d columns, in the given order', () => {
    const points = Float64Array.from([0, 1, 10, 11, 20, 21, 30, 31]);
    expect(Array.from(gatherRows(points, 2, Int32Array.of(3, 0, 2)))).toEqual([30, 31, 0, 1, 20, 21]);
  });
});

describe('argument checks', () => {
  it('checkMatrix counts the rows and names the first non-finite value by row and column', () => {
    expect(checkMatrix(Float64Array.of(1, 2, 3), 1)).toBe(3);
    expect(checkMatrix(Float64Array.of(1, 2, 3, 4, 5, 6), 3)).toBe(2);
    expect(() => checkMatrix(Float64Array.of(0, 1, 2, 3, 4, Number.NaN), 2)).toThrow(
      new KMeansError('INVALID_INPUT', 'point 2 has a non-finite value (NaN) in column 1'),
    );
    expect(() => checkMatrix(Float64Array.of(0, 1, 2), 2)).toThrow(new KMeansError('INVALID_INPUT', 'points has 3 values, not a multiple of d = 2'));
    expect(() => checkMatrix(Float64Array.of(0, 1), 0)).toThrow(new KMeansError('INVALID_INPUT', 'dimension d must be a positive integer, got 0'));
    expect(() => checkMatrix(Float64Array.of(0, 1), 1.5)).toThrow(KMeansError);
  });

  it('checkSeed takes any safe integer, and names the option it checks', () => {
    expect(() => checkSeed(-3)).not.toThrow();
    expect(() => checkSeed(2 ** 53)).toThrow(new KMeansError('INVALID_OPTION', `seed must be an integer, got ${2 ** 53}`));
    expect(() => checkSeed(0.5, 'sampleSeed')).toThrow(new KMeansError('INVALID_OPTION', 'sampleSeed must be an integer, got 0.5'));
  });

  it('checkPositiveInt takes 1 and refuses 0', () => {
    expect(() => checkPositiveInt(1, 'restarts')).not.toThrow();
    expect(() => checkPositiveInt(0, 'restarts')).toThrow(new KMeansError('INVALID_OPTION', 'restarts must be a positive integer, got 0'));
    expect(() => checkPositiveInt(2.5, 'restarts')).toThrow(KMeansError);
  });

  it('KMeansError carries its name and code', () => {
    const error = new KMeansError('INVALID_K', 'k = 0');
    expect(error.name).toBe('KMeansError');
    expect(error.code).toBe('INVALID_K');
    expect(error.message).toBe('k = 0');
  });
});
