/**
 * crm export of a run scored without some stages (--no-clv, --no-lifecycle,
 * --no-kmeans): their columns are empty for every customer. Before, an export
 * asked for them by name wrote empty columns with exit 0; now that is a usage
 * error naming the columns and the missing stage, and the default columns
 * say in a warning which of them are empty.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, lastMessage, logLines, runCli, tempDir } from '../helpers.js';

describe('crm export of a run without some stages', { timeout: 60_000 }, () => {
  let db: string;
  beforeAll(async () => {
    const dir = await tempDir();
    db = path.join(dir, 'crm.duckdb');
    const scored = await runCli(['score', fixture('tiny', 'transactions.csv'), '--out', path.join(dir, 'out'), '--db', db, '--no-clv', '--no-lifecycle', '--no-kmeans', '-q']);
    expect(scored.code, scored.stderr).toBe(0);
  });

  it('refuses score columns of a stage the run skipped, by name (exit 2)', async () => {
    for (const [columns, message] of [
      ['customer_id,clv,p_alive', '--columns clv, p_alive: run 1 has no CLV (it was scored with --no-clv or the fit did not converge); leave them out, or export a run scored with that stage'],
      ['lifecycle_stage', '--columns lifecycle_stage: run 1 has no lifecycle stages (it was scored with --no-lifecycle); leave it out, or export a run scored with that stage'],
      ['customer_id,cluster_label', '--columns cluster_label: run 1 has no clusters (it was scored with --no-kmeans); leave it out, or export a run scored with that stage'],
    ]) {
      const run = await runCli(['export', '--db', db, '--columns', columns!]);
      expect(run.code, columns).toBe(2);
      expect(run.stdout, columns).toBe('');
      expect(lastMessage(run.stderr), columns).toBe(message);
    }
  });

  it('writes the default columns and all, warning which are empty; columns of the stages it ran, without a warning', async () => {
    const byDefault = await runCli(['export', '--db', db]);
    expect(byDefault.code, byDefault.stderr).toBe(0);
    expect(byDefault.stdout.split('\r\n')[0]).toBe('customer_id,rfm_segment,lifecycle_stage,clv,p_alive,orders,revenue,last_purchase');
    expect(logLines(byDefault.stderr).filter((l) => l.level === 40).map((l) => l.msg)).toEqual([
      'run 1 has no CLV (it was scored with --no-clv or the fit did not converge): clv, p_alive are empty in the export',
      'run 1 has no lifecycle stages (it was scored with --no-lifecycle): lifecycle_stage is empty in the export',
    ]);
    const all = await runCli(['export', '--db', db, '--columns', 'all']);
    expect(all.code, all.stderr).toBe(0);
    expect(logLines(all.stderr).filter((l) => l.level === 40)).toHaveLength(3);
    const computed = await runCli(['export', '--db', db, '--columns', 'customer_id,revenue,rfm_segment']);
    expect(computed.code, computed.stderr).toBe(0);
    expect(logLines(computed.stderr).filter((l) => l.level === 40)).toEqual([]);
    // fixtures/tiny: 7 customers (C01, C02, C03, C04, C05, C06, 00007), a header, CRLF records.
    expect(computed.stdout.split('\r\n').filter(Boolean)).toHaveLength(8);
  });
});
