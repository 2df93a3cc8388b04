/**
 * Every entry point that reads purchase patterns names its model in what it
 * refuses, so that a message in the log says which fit or prediction met the
 * bad row (the patterns below have a recency after T).
 */
import { describe, expect, it } from 'vitest';
import { bgNbdLogLikelihood, bgNbdLogLikelihoodGradient } from '../../src/models/bgNbd.js';
import { fitMbgNbd, mbgNbdLogLikelihood, mbgNbdLogLikelihoodGradient } from '../../src/models/mbgNbd.js';
import {
  conditionalProbabilityAlive,
  paretoNbdLogLikelihood,
  paretoNbdLogLikelihoodGradient,
  paretoNbdPatternLogLikelihood,
} from '../../src/models/paretoNbd.js';
import { patterns } from './cdnowPatterns.js';

const BAD = patterns([[1, 5, 3, 1]]);
const BG = { r: 1, alpha: 2, a: 1, b: 3 };
const PARETO = { r: 1, alpha: 2, s: 1, beta: 3 };
const exceeds = (model: string) => `${model}: recency[0] = 5 exceeds T[0] = 3`;

describe('the model named in what the likelihoods and predictions refuse', () => {
  it.each<[string, () => unknown, string]>([
    ['bgNbdLogLikelihood', () => bgNbdLogLikelihood(BG, BAD), 'BG/NBD'],
    ['bgNbdLogLikelihoodGradient', () => bgNbdLogLikelihoodGradient(BG, BAD), 'BG/NBD'],
    ['mbgNbdLogLikelihood', () => mbgNbdLogLikelihood(BG, BAD), 'MBG/NBD'],
    ['mbgNbdLogLikelihoodGradient', () => mbgNbdLogLikelihoodGradient(BG, BAD), 'MBG/NBD'],
    ['fitMbgNbd', () => fitMbgNbd(BAD), 'MBG/NBD'],
    ['paretoNbdLogLikelihood', () => paretoNbdLogLikelihood(PARETO, BAD), 'Pareto/NBD'],
    ['paretoNbdLogLikelihoodGradient', () => paretoNbdLogLikelihoodGradient(PARETO, BAD), 'Pareto/NBD'],
    ['paretoNbdPatternLogLikelihood', () => paretoNbdPatternLogLikelihood(PARETO, 1, 5, 3), 'Pareto/NBD'],
    ['Pareto/NBD conditionalProbabilityAlive over arrays', () => conditionalProbabilityAlive(PARETO, BAD.frequency, BAD.recency, BAD.T), 'Pareto/NBD'],
  ])('%s', (_name, call, model) => {
    expect(call).toThrow(new RangeError(exceeds(model)));
  });
});
