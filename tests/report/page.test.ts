import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { clustersSpec } from '../../src/report/charts/clusters.js';
import { clvSpec } from '../../src/report/charts/clv.js';
import { historyKpisSpec, historySharesSpec } from '../../src/report/charts/history.js';
import { calibrationHoldoutSpec, trackingSpec } from '../../src/report/charts/holdout.js';
import { modelMatrixSpec } from '../../src/report/charts/modelMatrix.js';
import { pAliveSpec } from '../../src/report/charts/pAlive.js';
import { periodTransactionsSpec } from '../../src/report/charts/periodTransactions.js';
import { lifecycleSpec } from '../../src/report/charts/lifecycle.js';
import { migrationSpec } from '../../src/report/charts/migration.js';
import { paretoSpec } from '../../src/report/charts/pareto.js';
import { rfmHeatmapSpec } from '../../src/report/charts/rfmHeatmap.js';
import { segmentsSpec } from '../../src/report/charts/segments.js';
import { holdoutOf } from '../../src/report/reportData.js';
import type { ReportData } from '../../src/report/data.js';
import { escapeHtml } from '../../src/report/format.js';
import { CSP, renderReport } from '../../src/report/page.js';
import { measureText } from '../../src/report/svg/render.js';
import { sanitizeSvg } from '../../src/report/svg/sanitize.js';
import { browserSkipReason, checkReportInBrowser } from './browser.js';
import { sampleReportData } from './sampleReportData.js';

const BASE_CHARTS = ['rfm-heatmap', 'segments', 'pareto', 'clv', 'lifecycle', 'clusters', 'migration'];
const DIAGNOSTICS = ['period-transactions', 'p-alive', 'p-alive-matrix', 'frequency-recency-matrix', 'calibration-holdout', 'tracking'];
const HISTORY = ['history-kpis', 'history-segments', 'history-stages'];
const CHARTS = [...BASE_CHARTS, ...DIAGNOSTICS, ...HISTORY];
const HOSTILE = '<img src=x onerror=alert(1)>';

/** Real tags of the page (escaped text never contains "<"). */
function tags(html: string): string[] {
  return html.match(/<[^>]*>/g) ?? [];
}

/** Tags carrying an event-handler attribute (attribute values blanked first). */
function handlerTags(html: string): string[] {
  return tags(html).filter((t) => /\son[a-z]+\s*=/i.test(t.replace(/"[^"]*"|'[^']*'/g, '""')));
}

function figureNames(html: string): string[] {
  return [...html.matchAll(/<figure class="chart[^"]*" data-chart="([^"]+)"/g)].map((m) => m[1]);
}

/** A copy of the sample where every user-derived string tries to break out. */
function hostileData(): ReportData {
  const data = sampleReportData();
  data.title = `crm report — <b>run</b> 3 & "friends"`;
  data.run.inputs.push(`data/'quoted' "file" ${HOSTILE}.csv`, 'javascript:alert(1)');
  data.segments.push({ segment: HOSTILE, customers: 12, revenue: 340, customerShare: 0.0005, revenueShare: 0.0001 });
  data.clusters![1].label = '"><script>alert(2)</script>';
  data.migration!.cells.push({ from: HOSTILE, to: 'Lost', customers: 3, revenue: 42 });
  data.fit!.params['<svg onload=alert(3)>'] = 1;
  data.stages![0].stage = '</style><script>alert(4)</script>';
  data.history!.segments.push({ runId: 3, segment: HOSTILE, customers: 1, share: 0.0001 });
  data.holdout!.model = '<svg onload=alert(5)>';
  data.modelMatrix!.model = HOSTILE;
  return data;
}

describe('renderReport', () => {
  let html: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    html = await renderReport(sampleReportData(), { onWarning: (w) => warnings.push(w) });
  });

  test('renders every chart as an inline SVG figure with its one-line reading guide', () => {
    expect(figureNames(html)).toEqual(CHARTS);
    for (const name of CHARTS) {
      const figure = new RegExp(`<figure class="chart[^"]*" data-chart="${name}"[^>]*>([\\s\\S]*?)</figure>`).exec(html);
      expect(figure, name).not.toBeNull();
      expect(figure![1]).toMatch(/<svg[^>]*class="marks"/);
      expect(figure![1]).toMatch(/<figcaption>[^<]+<\/figcaption>/);
    }
    expect(html).not.toMatch(/not available for this run/i);
    expect(warnings).toEqual([]);
  });

  test('shows the key numbers and the fit facts', () => {
    expect(html).toContain('<title>crm report — run 3</title>');
    for (const text of ['23,570', '69,659', '1998-06-30', '2024-05-02 02:00:04 UTC', 'BG/NBD', 'Gamma-Gamma', '-9582.43', '0.2426', 'converged']) {
      expect(html).toContain(text);
    }
    expect(html).toContain('fixtures/cdnow/CDNOW_master.csv');
    expect(html).toMatch(/<th[^>]*>Log-likelihood<\/th>/);
  });

  test('is self-contained: no script, nothing fetched, CSP says so', () => {
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
    expect(CSP).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|image|foreignObject|use)\b/i);
    expect(html).not.toMatch(/\s(src|href|xlink:href|action|srcset|poster)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*['"]?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|@font-face/i);
    // The sample has no URLs in its data, so none may appear at all (not even the SVG namespace).
    expect(html).not.toMatch(/https?:\/\//i);
    expect(handlerTags(html)).toEqual([]);
  });

  test('SVG ids are unique in the page and every reference resolves', () => {
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
    const refs = [...html.matchAll(/url\(#([^)]+)\)|href="#([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    for (const ref of refs) expect(ids, ref).toContain(ref);
    // Hover tooltips without script: data marks carry a <title>.
    expect(html.match(/<title>/g)!.length).toBeGreaterThan(100);
  });

  test('same input gives the same bytes, whatever was rendered before', async () => {
    const again = await renderReport(sampleReportData());
    expect(again).toBe(html);
    await renderReport(hostileData()); // advances vega's global id counters
    const third = await renderReport(sampleReportData());
    expect(third).toBe(html);
    expect(html).not.toMatch(/\b(19|20)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/); // no render timestamps
  });

  test('escapes every user-derived string', async () => {
    const out = await renderReport(hostileData());
    expect(out).not.toMatch(/<img/i);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<svg onload/i);
    expect(out).not.toMatch(/<b>run/);
    expect(handlerTags(out)).toEqual([]); // "onerror=" stays text
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(out).toContain('&lt;/style&gt;&lt;script&gt;alert(4)&lt;/script&gt;');
    expect(out).toContain('crm report — &lt;b&gt;run&lt;/b&gt; 3 &amp; &quot;friends&quot;');
    expect(out).toContain('data/&#39;quoted&#39; &quot;file&quot;');
    expect(out.match(/<style>/g)).toHaveLength(1);
    expect(figureNames(out)).toEqual(CHARTS);
  });

  test('null or empty sections become a "not available" note, not a figure', async () => {
    const data = sampleReportData();
    data.fit = null;
    data.clvDistribution = null;
    data.stages = null;
    data.clusters = null;
    data.migration = null;
    data.segments = [];
    data.pAliveHistogram = null;
    data.periodTransactions = null;
    data.modelMatrix = null;
    data.holdout = null;
    data.history = null;
    const out = await renderReport(data);
    expect(figureNames(out)).toEqual(['rfm-heatmap', 'pareto']);
    for (const name of ['segments', 'clv', 'lifecycle', 'clusters', 'migration', ...DIAGNOSTICS, ...HISTORY]) {
      expect(out).toMatch(new RegExp(`<div class="chart-missing[^"]*" data-chart-missing="${name}">[\\s\\S]*?not available for this run`, 'i'));
      expect(out).not.toContain(`data-chart="${name}"`);
    }
    expect(out).toMatch(/No CLV model was fitted: not available for this run/);
    // A migration with no cells is as good as none.
    const noMoves = sampleReportData();
    noMoves.migration!.cells = [];
    expect(figureNames(await renderReport(noMoves))).not.toContain('migration');
  });

  test('an unconverged fit is flagged', async () => {
    const data = sampleReportData();
    data.fit!.converged = false;
    data.fit!.logLikelihood = null;
    const out = await renderReport(data);
    expect(out).toContain('not converged');
    expect(out).toContain('did not converge');
  });

  test('a BG/NBD fit at its a, b → ∞ boundary is shown as the fixed-dropout limit its CLV columns come from', async () => {
    const data = sampleReportData();
    data.fit = { ...data.fit!, params: { r: 0.8123, alpha: 10.41 }, logLikelihood: -8000.5, converged: false, boundary: { dropoutProbability: 0.1226 } };
    const out = await renderReport(data);
    const fitSection = /<section class="fit"[\s\S]*?<\/section>/.exec(out)![0];
    expect(fitSection).toContain('<span class="badge limit">fixed-dropout limit</span>');
    expect(fitSection).toMatch(/<span class="param-name">r<\/span> 0\.8123<\/span> <span class="param"><span class="param-name">alpha<\/span> 10\.41<\/span> <span class="param"><span class="param-name">a, b<\/span> → ∞<\/span> <span class="param"><span class="param-name">a\/\(a\+b\)<\/span> 0\.1226<\/span>/);
    expect(fitSection).toContain('fixed-dropout limit: a/(a+b) = 0.1226');
    expect(fitSection).toContain('P(alive), expected purchases and CLV come from that limit.');
    expect(fitSection).not.toMatch(/not converged|null for this run/);
    expect(figureNames(out)).toEqual(CHARTS);
    // A Gamma-Gamma that did not converge still leaves clv null, boundary or not.
    data.fit.gammaGamma!.converged = false;
    const both = /<section class="fit"[\s\S]*?<\/section>/.exec(await renderReport(data))![0];
    expect(both).toContain('fixed-dropout limit: a/(a+b) = 0.1226');
    expect(both).toContain('A fit did not converge: its CLV columns are null for this run.');
  });
});

describe('the holdout and the CLV interval, from summary.json as crm score --holdout-days records them', () => {
  // summary.clv.holdout: the chosen model's BacktestResult with calibrationEnd, holdoutEnd, days and error beside it.
  const summaryHoldout = {
    calibrationEnd: '1997-09-30',
    holdoutEnd: '1998-06-30',
    days: 273,
    error: 0.7855,
    customers: 3,
    actualTotal: 5,
    predictedTotal: 4.5,
    mae: 0.5,
    holdoutLength: 39,
    timeUnit: 'week',
    model: 'mbgnbd',
    fit: { converged: true },
    byFrequency: [
      { frequency: '0', customers: 2, actual: 1, predicted: 1.5, actualMean: 0.5, predictedMean: 0.75 },
      { frequency: '3', customers: 1, actual: 4, predicted: 3, actualMean: 4, predictedMean: 3 },
    ],
    tracking: [
      { week: 1, day: 7, actual: 2, expected: 2.25 },
      { week: 2, day: 14, actual: 5, expected: 4.5 },
    ],
    warnings: [],
  };

  test('draws calibration vs holdout and tracking from its figures', async () => {
    const data = sampleReportData();
    data.holdout = holdoutOf(summaryHoldout);
    expect(data.holdout).toMatchObject({ model: 'MBG/NBD', calibrationEnd: '1997-09-30', holdoutEnd: '1998-06-30', timeUnit: 'week' });
    const out = await renderReport(data);
    const figure = (name: string) => new RegExp(`<figure class="chart[^"]*" data-chart="${name}"[^>]*>([\\s\\S]*?)</figure>`).exec(out)![1];
    expect(figure('calibration-holdout')).toContain('<title>3 calibration purchases (1 customers): 4.000 holdout purchases each, actual</title>');
    expect(figure('calibration-holdout')).toContain('<title>0 calibration purchases (2 customers): 0.750 holdout purchases each, predicted</title>');
    expect(figure('calibration-holdout')).toContain('(MBG/NBD, calibration to 1997-09-30, holdout to 1998-06-30)');
    expect(figure('tracking')).toContain('<title>Week 2 (day 14): 5 repeat purchases so far, actual</title>');
    expect(figure('tracking')).toContain('<title>Week 2 (day 14): 4.5 repeat purchases so far, expected</title>');
  });

  test('a holdout recorded without tracking, or with nothing predicted, says so', async () => {
    const data = sampleReportData();
    const { tracking, ...withoutTracking } = summaryHoldout;
    data.holdout = holdoutOf({ ...withoutTracking, byFrequency: summaryHoldout.byFrequency.map((b) => ({ ...b, predicted: null, predictedMean: null })) });
    const out = await renderReport(data);
    expect(out).toMatch(/data-chart-missing="tracking">[\s\S]*?recorded without its weekly tracking/);
    expect(out).toMatch(/data-chart-missing="calibration-holdout">[\s\S]*?The model predicted nothing/);
    expect(holdoutOf(undefined)).toBeNull();
    expect(holdoutOf({ calibrationEnd: '1997-09-30' })).toBeNull();
  });

  test('the total CLV carries its 90% interval when the run recorded one', async () => {
    const data = sampleReportData();
    const out = await renderReport(data);
    expect(out).toContain('<title>Run 3 (as of 1998-06-30): total predicted clv 441,700.00 (90% interval 402,900.00 – 483,100.00)</title>');
    expect(out).toContain('<td class="num">402,900.00 – 483,100.00</td>');
    // Run 1 recorded none: no interval, and a dash in the table.
    expect(out).toContain('<title>Run 1 (as of 1997-12-31): total predicted clv 512,300.00</title>');
  });
});

describe('chart specs', () => {
  const data = sampleReportData();
  const specs = {
    'rfm-heatmap': rfmHeatmapSpec(data.rfmHeatmap),
    segments: segmentsSpec(data.segments),
    pareto: paretoSpec(data.deciles),
    clv: clvSpec(data.clvDistribution!),
    lifecycle: lifecycleSpec(data.stages!),
    clusters: clustersSpec(data.clusters!),
    migration: migrationSpec(data.migration!),
    'period-transactions': periodTransactionsSpec(data.periodTransactions!),
    'p-alive': pAliveSpec(data.pAliveHistogram!),
    'p-alive-matrix': modelMatrixSpec(data.modelMatrix!, 'pAlive'),
    'frequency-recency-matrix': modelMatrixSpec(data.modelMatrix!, 'expectedPurchases'),
    'calibration-holdout': calibrationHoldoutSpec(data.holdout!),
    tracking: trackingSpec(data.holdout!),
    'history-kpis': historyKpisSpec(data.history!),
    'history-segments': historySharesSpec(data.history!, 'segment'),
    'history-stages': historySharesSpec(data.history!, 'stage'),
  };

  test('are plain deterministic JSON with inline data and explicit sizes', () => {
    for (const [name, spec] of Object.entries(specs)) {
      const json = JSON.stringify(spec);
      expect(JSON.parse(json), name).toEqual(spec);
      expect(json, name).not.toMatch(/"url"\s*:/);
      const sized = (s: Record<string, unknown>): boolean =>
        typeof s.width === 'number' && typeof s.height === 'number';
      // The clusters and history KPI charts are grids of panels (rows of hconcat in a vconcat); each panel is sized there.
      const concat = (spec as { vconcat?: { hconcat: Record<string, unknown>[] }[] }).vconcat;
      const grid = name === 'clusters' || name === 'history-kpis';
      expect(concat !== undefined, name).toBe(grid);
      const views = grid ? concat!.flatMap((row) => row.hconcat) : [spec as unknown as Record<string, unknown>];
      expect(views.length, name).toBeGreaterThan(0);
      expect(views.filter((view) => !sized(view)), name).toEqual([]);
    }
    expect(JSON.stringify(rfmHeatmapSpec(data.rfmHeatmap))).toBe(JSON.stringify(specs['rfm-heatmap']));
  });

  test('heatmap fills the 5×5 grid, missing cells included', () => {
    const values = (specs['rfm-heatmap'] as { data: { values: { r: number; f: number; customers: number }[] } }).data.values;
    expect(values).toHaveLength(25);
    expect(values.filter((v) => v.f === 2).every((v) => v.customers === 0)).toBe(true);
  });

  test('lifecycle and segments keep their canonical order', () => {
    const lifecycle = JSON.stringify(lifecycleSpec([...data.stages!].reverse()));
    expect(lifecycle).toContain('"sort":["new","active","loyal","reactivated","at risk","lapsed","lost"]');
    const segments = JSON.stringify(segmentsSpec([...data.segments].reverse()));
    expect(segments).toContain(`"sort":["Champions","Loyal","Potential Loyalist"`);
  });
});

describe('helpers', () => {
  test('escapeHtml', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml(42)).toBe('42');
  });

  test('sanitizeSvg renumbers ids per chart and refuses active content', () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip7"><rect/></clipPath></defs><g clip-path="url(#clip7)"/></svg>';
    expect(sanitizeSvg(svg, 'pareto')).toBe('<svg><defs><clipPath id="pareto-def1"><rect/></clipPath></defs><g clip-path="url(#pareto-def1)"/></svg>');
    expect(() => sanitizeSvg('<svg><script>alert(1)</script></svg>', 'x')).toThrow(/unsafe/);
    expect(() => sanitizeSvg('<svg><a href="https://example.com"/></svg>', 'x')).toThrow(/unsafe/);
    expect(() => sanitizeSvg('<svg onload="alert(1)"></svg>', 'x')).toThrow(/unsafe/);
    expect(() => sanitizeSvg('<svg><g style="fill:url(https://example.com/x)"/></svg>', 'x')).toThrow(/unsafe/);
    expect(() => sanitizeSvg('<svg><!-- x --></svg>', 'x')).toThrow(/unsafe/);
    // Text that merely looks like markup is fine once escaped.
    expect(sanitizeSvg('<svg><text>&lt;img src=x onerror=alert(1)&gt;</text></svg>', 'x')).toContain('onerror=alert(1)');
  });

  test('measureText uses Helvetica advance widths, with a little headroom and never narrower', () => {
    // Helvetica's published metrics (Adobe's Core 14 AFM), in 1/1000 em: '0' 556, 'm' 833, 'i' 222, 'W' 944; bold 'm' 889.
    const regular = (text: string) => measureText({ fontSize: 10 }, text);
    const bold = (text: string) => measureText({ fontSize: 10, fontWeight: 'bold' }, text);
    const font0000 = ((4 * 556) / 1000) * 10;
    expect(regular('0000')).toBeGreaterThanOrEqual(font0000);
    expect(regular('0000')).toBeLessThanOrEqual(font0000 * 1.05);
    // Ratios cancel the headroom: they are the font's own.
    expect(regular('mmmm') / regular('iiii')).toBeCloseTo(833 / 222, 10);
    expect(regular('W') / regular('0')).toBeCloseTo(944 / 556, 10);
    expect(bold('m') / regular('m')).toBeCloseTo(889 / 833, 10);
    expect(measureText({ fontSize: 20 }, 'Champions') / regular('Champions')).toBeCloseTo(2, 10);
    expect(measureText({}, '')).toBe(0);
  });
});

const skipReason = browserSkipReason();
if (skipReason) console.warn(skipReason);

describe.skipIf(skipReason != null)('report in headless Chromium', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crm-report-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // Drawn elements per chart in the sample are ~70–135; these minimums catch an empty or half-drawn chart.
  const MIN_MARKS: Record<string, number> = {
    'rfm-heatmap': 60,
    segments: 60,
    pareto: 30,
    clv: 30,
    lifecycle: 30,
    clusters: 60,
    migration: 60,
    'period-transactions': 20,
    'p-alive': 25,
    'p-alive-matrix': 300,
    'frequency-recency-matrix': 300,
    'calibration-holdout': 20,
    tracking: 60,
    'history-kpis': 25,
    'history-segments': 30,
    'history-stages': 20,
  };

  test('opens from file:// with no errors or requests, every chart drawn', async () => {
    const htmlPath = join(dir, 'report.html');
    writeFileSync(htmlPath, await renderReport(sampleReportData()));
    const screenshot = join(dir, 'report.png');
    const result = await checkReportInBrowser(htmlPath, screenshot);
    expect(result.consoleErrors).toEqual([]);
    expect(result.failedRequests).toEqual([]);
    expect(result.dialogs).toEqual([]);
    expect(result.requests).toHaveLength(1);
    expect(result.charts.map((c) => c.name)).toEqual(CHARTS);
    for (const chart of result.charts) {
      expect(chart.hasSvg, chart.name).toBe(true);
      expect(chart.marks, chart.name).toBeGreaterThanOrEqual(MIN_MARKS[chart.name]);
    }
    expect(statSync(screenshot).size).toBeGreaterThan(50_000);
  });

  test('hostile strings stay text in a real browser', async () => {
    const htmlPath = join(dir, 'hostile.html');
    writeFileSync(htmlPath, await renderReport(hostileData()));
    const result = await checkReportInBrowser(htmlPath, join(dir, 'report-hostile.png'));
    expect(result.dialogs).toEqual([]);
    expect(result.consoleErrors).toEqual([]);
    expect(result.failedRequests).toEqual([]);
    expect(result.charts.map((c) => c.name)).toEqual(CHARTS);
  });
});
