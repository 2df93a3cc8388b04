/**
 * crm report on a run whose BG/NBD fit ran to the a, b → ∞ boundary: it
 * said "not converged … its CLV columns are null for this run", while
 * crm score had filled them from the fixed-dropout limit.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixedDropoutTransactions } from '../fixedDropout.js';
import { parseCsv, readJson, runCli, tempDir } from '../helpers.js';

describe('crm report for a run at the BG/NBD boundary', () => {
  it('shows the fixed-dropout limit the CLV columns come from, not "not converged … null"', async () => {
    const dir = await tempDir('crm-report-boundary-');
    const input = path.join(dir, 'tx.csv');
    // The seeded base of tests/stages/clv/clv.test.ts whose fit runs to a, b → ∞.
    const lines = fixedDropoutTransactions(3000, 2022, { r: 0.8, alpha: 10, p: 0.12 }, '2024-12-31');
    await writeFile(input, `customer_id,order_date,amount\n${lines.join('\n')}\n`);
    const out = path.join(dir, 'out');
    const db = path.join(dir, 'crm.duckdb');
    const score = await runCli(['score', input, '--as-of', '2024-12-31', '--out', out, '--db', db, '--format', 'csv', '--quiet']);
    expect(score.code, score.stderr).toBe(0);
    const { clv } = await readJson(path.join(out, 'summary.json'));
    expect([clv.available, clv.bgnbd.converged]).toEqual([true, false]);
    const p: number = clv.bgnbd.boundary.dropoutProbability;
    // The run's CLV columns are filled: what the report has to say.
    const rows = parseCsv(await readFile(path.join(out, 'customers.csv'), 'utf8'));
    expect(rows.filter((r) => r.clv === '' || r.p_alive === '')).toEqual([]);

    const html = path.join(dir, 'report.html');
    const report = await runCli(['report', '--db', db, '--out', html, '--quiet']);
    expect(report.code, report.stderr).toBe(0);
    const fit = /<section class="fit"[\s\S]*?<\/section>/.exec(await readFile(html, 'utf8'))![0];
    expect(fit).not.toMatch(/not converged|null for this run/);
    expect(fit).toContain('<span class="badge limit">fixed-dropout limit</span>');
    expect(fit).toContain('P(alive), expected purchases and CLV come from that limit.');
    // p as shown (4 significant digits), in the note and with the parameters; a and b are ∞, not figures.
    const shown = /fixed-dropout limit: a\/\(a\+b\) = (0\.\d+),/.exec(fit)![1];
    expect(Math.abs(Number(shown) - p) / p).toBeLessThanOrEqual(5e-4);
    expect(fit).toContain(`<span class="param-name">a/(a+b)</span> ${shown}</span>`);
    expect(fit).toContain('<span class="param-name">a, b</span> → ∞');
    expect(fit).not.toMatch(/<span class="param-name">[ab]<\/span>/);
    expect(fit).toMatch(/<span class="param-name">r<\/span> 0\.\d+<\/span>/);
  }, 120_000);
});
