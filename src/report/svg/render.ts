/** A Vega-Lite spec compiled and rendered to static SVG: no canvas, no DOM, nothing fetched, the chart font measured here. */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ReportRenderError, sanitizeSvg } from './sanitize.js';

function collectingLogger(chart: string, warnings: string[]): vega.LoggerInterface {
  let level = vega.Warn;
  const logger = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      throw new ReportRenderError(`chart ${chart}: ${args.map(String).join(' ')}`);
    },
    warn(...args: readonly unknown[]) {
      if (level >= vega.Warn) warnings.push(`${chart}: ${args.map(String).join(' ')}`);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  };
  return logger as unknown as vega.LoggerInterface;
}

// Text metrics. Without a canvas vega estimates every glyph at 0.8 em, which
// makes labels look longer than they are (wasted margins, early "…"). The
// charts use an Arial-metric font stack (Helvetica, Arial, Liberation Sans),
// so we measure with the standard Helvetica advance widths instead. Pure
// table lookups: deterministic, no canvas, no fonts needed on the server.

// Advance widths (1/1000 em) of ASCII 32..126, Helvetica and Helvetica-Bold.
const HELVETICA = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556,
  278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260,
  334, 584,
];
const HELVETICA_BOLD = [
  278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556,
  556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722,
  778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556,
  333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280,
  389, 584,
];
const OTHER_WIDTHS: Record<string, number> = { '·': 278, '…': 1000, '–': 556, '—': 1000, '’': 222, '‘': 222, '×': 584, '→': 1000, '≥': 549, '≤': 549 };

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
}

/** Width in px of `text` set in the chart font at the item's size and weight. */
export function measureText(item: TextItem, text: unknown): number {
  const str = text == null ? '' : String(text).trim();
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const w = item.fontWeight;
  const bold = w === 'bold' || w === 'bolder' || (w != null && +w >= 600);
  const table = bold ? HELVETICA_BOLD : HELVETICA;
  let units = 0;
  for (const ch of str) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 32 && code <= 126) units += table[code - 32];
    else units += OTHER_WIDTHS[ch] ?? (code >= 0x2e80 ? 1000 : 600);
  }
  // 3% headroom for hinting and font substitutes.
  return (units / 1000) * size * 1.03;
}

interface VegaTextMetrics {
  width: (item: TextItem, text: unknown) => number;
}
const vegaTextMetrics = (vega as unknown as { textMetrics: VegaTextMetrics }).textMetrics;
let metricsUsers = 0;
let savedWidth: VegaTextMetrics['width'] | null = null;

/** Use our metrics while `fn` runs (reference-counted: renders may interleave). */
async function withTextMetrics<T>(fn: () => Promise<T>): Promise<T> {
  if (metricsUsers++ === 0) {
    savedWidth = vegaTextMetrics.width;
    vegaTextMetrics.width = measureText;
  }
  try {
    return await fn();
  } finally {
    if (--metricsUsers === 0 && savedWidth) {
      vegaTextMetrics.width = savedWidth;
      savedWidth = null;
    }
  }
}

/** A vega loader that refuses every request: all data is inline. */
function offlineLoader(chart: string): vega.Loader {
  const loader = vega.loader();
  const refuse = (uri: string) => Promise.reject(new ReportRenderError(`chart ${chart}: refusing to load ${uri}`));
  loader.load = refuse;
  loader.sanitize = refuse as unknown as vega.Loader['sanitize'];
  return loader;
}

export interface RenderedChart {
  svg: string;
  warnings: string[];
}

/** Compile a Vega-Lite spec and render it to sanitised static SVG (no canvas, no DOM). */
export async function renderChartSvg(name: string, spec: TopLevelSpec): Promise<RenderedChart> {
  const warnings: string[] = [];
  const logger = collectingLogger(name, warnings);
  const compiled = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(compiled), {
    renderer: 'none',
    logger,
    logLevel: vega.Warn,
    loader: offlineLoader(name),
  });
  try {
    vega.resetSVGDefIds();
    const svg = await withTextMetrics(() => view.toSVG());
    return { svg: sanitizeSvg(svg, name), warnings };
  } finally {
    view.finalize();
  }
}
