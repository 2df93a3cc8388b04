import { describe, expect, it } from 'vitest';
import { humanLine } from '../../src/cli/logger.js';
import { progressLine } from '../../src/cli/progress.js';

describe('log lines for people (a terminal)', () => {
  it('rounds durations to 0.1 s, or to the ms under 0.1 s, and groups counts by thousands', () => {
    const line = humanLine({
      level: 30,
      time: '2025-07-01T02:15:00.000Z',
      runId: '20250701T021500Z-3f9c2a1b',
      msg: 'crm score finished',
      command: 'score',
      outcome: 'ok',
      exitCode: 0,
      seconds: 19.271211175999998,
      timings: { load: 0.0423, features: 1.25 },
      rows: { read: 1234567, rejected: 0 },
      ratio: 0.123456,
    });
    expect(line).toBe('crm score finished outcome=ok exitCode=0 seconds=19.3s timings={load=42ms features=1.3s} rows={read=1,234,567 rejected=0} ratio=0.1235');
  });

  it('leaves out the run id, the options and the command, which are for the JSON log', () => {
    expect(humanLine({ msg: 'crm score started', runId: 'x', command: 'score', pid: 42, options: { out: 'o' } })).toBe('crm score started');
  });
});

describe('the progress line', () => {
  it('fills the bar by the share of stages done', () => {
    expect(progressLine(0, 8, 'load', 0.4)).toBe(`crm ${'░'.repeat(20)} 0/8 stages | load 0s`);
    // 3/8 of 20 cells is 7.5: 8 filled.
    expect(progressLine(3, 8, 'rfm', 2.7)).toBe(`crm ${'█'.repeat(8)}${'░'.repeat(12)} 3/8 stages | rfm 2s`);
    expect(progressLine(8, 8, 'history', 61)).toBe(`crm ${'█'.repeat(20)} 8/8 stages | history 61s`);
  });
});
