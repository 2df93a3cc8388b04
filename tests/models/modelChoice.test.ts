import { describe, expect, it } from 'vitest';
import { aic, chooseModel, type Candidate } from '../../src/models/modelChoice.js';

const candidate = (model: string, logLikelihood: number, extra: Partial<Candidate> = {}): Candidate => ({
  model,
  logLikelihood,
  parameters: 4,
  aic: 8 - 2 * logLikelihood,
  converged: true,
  ...extra,
});

describe('AIC', () => {
  it('is 2k − 2·LL', () => {
    expect(aic(-9582.429, 4)).toBeCloseTo(19172.858, 9);
    expect(aic(-10, 3)).toBe(26);
    expect(aic(5, 1)).toBe(-8);
  });
});

describe('choosing a purchase model', () => {
  it('by AIC keeps the lowest, names it and its rivals in one sentence', () => {
    const s = chooseModel([candidate('bgnbd', -9582.43), candidate('mbgnbd', -9582.14), candidate('paretonbd', -9594.98)], 'aic');
    expect(s.method).toBe('aic');
    expect(s.chosen).toBe('mbgnbd');
    expect(s.reason).toBe('mbgnbd has the lowest AIC, 19172.3 against bgnbd 19172.9, paretonbd 19198.0.');
    expect(s.candidates.map((c) => c.model)).toEqual(['bgnbd', 'mbgnbd', 'paretonbd']);
  });

  it('by AIC counts the parameters: the same log-likelihood with fewer parameters wins', () => {
    const s = chooseModel([candidate('bgnbd', -100), candidate('limit', -100, { parameters: 3, aic: 206 })], 'aic');
    expect(s.chosen).toBe('limit');
  });

  it('never chooses a model that did not converge, however good its score, and says so', () => {
    const s = chooseModel([candidate('bgnbd', -200), candidate('paretonbd', -100, { converged: false }), candidate('mbgnbd', -210)], 'aic');
    expect(s.chosen).toBe('bgnbd');
    expect(s.reason).toBe('bgnbd has the lowest AIC, 408.0 against mbgnbd 428.0; paretonbd did not converge and was not considered.');
    const two = chooseModel([candidate('a', -1, { converged: false }), candidate('b', -2, { converged: false }), candidate('c', -3)], 'aic');
    expect(two.reason).toBe('c has the lowest AIC, 14.00 (the only usable fit); a and b did not converge and were not considered.');
    const three = chooseModel(
      [candidate('a', -1, { converged: false }), candidate('b', -2, { converged: false }), candidate('c', -3, { converged: false }), candidate('d', -4)],
      'aic',
    );
    expect(three.reason).toBe('d has the lowest AIC, 16.00 (the only usable fit); a, b and c did not converge and were not considered.');
  });

  it('by holdout keeps the lowest holdout error, whatever the AIC', () => {
    const s = chooseModel(
      [candidate('bgnbd', -100, { holdoutError: 1.608 }), candidate('mbgnbd', -90, { holdoutError: 1.607 }), candidate('paretonbd', -120, { holdoutError: 1.6028 })],
      'holdout',
      'holdout RMSE',
    );
    expect(s.method).toBe('holdout');
    expect(s.chosen).toBe('paretonbd');
    expect(s.reason).toBe('paretonbd has the lowest holdout RMSE, 1.603 against bgnbd 1.608, mbgnbd 1.607.');
  });

  it('by holdout passes over a model with no holdout error, and names it', () => {
    const s = chooseModel([candidate('bgnbd', -100, { holdoutError: null }), candidate('mbgnbd', -90, { holdoutError: 2 })], 'holdout');
    expect(s.chosen).toBe('mbgnbd');
    expect(s.reason).toBe('mbgnbd has the lowest holdout error, 2.000 (the only usable fit); bgnbd gave no holdout error.');
  });

  it('keeps the first of a tie (the candidates\' order is fixed)', () => {
    expect(chooseModel([candidate('bgnbd', -50), candidate('mbgnbd', -50)], 'aic').chosen).toBe('bgnbd');
  });

  it('chooses nothing when no model is usable, and says why', () => {
    const s = chooseModel([candidate('bgnbd', -50, { converged: false }), candidate('mbgnbd', -50, { aic: Number.NaN })], 'aic');
    expect(s.chosen).toBeNull();
    expect(s.reason).toBe('No model could be chosen: none has a usable fit with a finite AIC; bgnbd did not converge and was not considered; mbgnbd gave no AIC.');
    expect(s.candidates.map((c) => c.model)).toEqual(['bgnbd', 'mbgnbd']);
    expect(chooseModel([], 'holdout', 'holdout RMSE').reason).toBe('No model could be chosen: none has a usable fit with a finite holdout RMSE.');
  });
});
