/** Vega's SVG made safe and deterministic to inline. */
import { FONT } from '../charts/config.js';
import { escapeHtml } from '../format.js';

/** Thrown when a chart cannot be rendered safely. */
export class ReportRenderError extends Error {
  override name = 'ReportRenderError';
}

/**
 * Make vega's SVG safe and deterministic for inlining: drop the namespace
 * declarations (the HTML parser puts <svg> in the SVG namespace), renumber the
 * ids vega draws from global counters (clip0…, gradient_0…) into per-chart
 * ids, and refuse anything that could run or fetch.
 */
export function sanitizeSvg(svg: string, chart: string): string {
  let out = svg.replace(/\s+xmlns(:xlink)?="[^"]*"/g, '');
  const ids = new Map<string, string>();
  for (const m of out.matchAll(/\sid="([^"]+)"/g)) {
    if (!ids.has(m[1])) ids.set(m[1], `${chart}-def${ids.size + 1}`);
  }
  if (ids.size > 0) {
    out = out.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (whole, pre: string, id: string) => {
      const next = ids.get(id);
      return next ? pre + next : whole;
    });
  }
  // The chart font is set once in the stylesheet (inherited), not on every <text>.
  out = out.split(` font-family="${escapeHtml(FONT).replace(/&#39;/g, "'")}"`).join('');
  // Geometry to 2 decimals: vega writes full doubles ("0.4666666666666667"),
  // which triples the size and ties the bytes to floating-point minutiae.
  out = out.replace(/\s(d|transform|x|y|x1|x2|y1|y2|width|height|r|cx|cy|dx|dy|points)="([^"]*)"/g, (_m, name: string, value: string) => {
    const rounded = value.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, (num) => {
      const r = Math.round(Number(num) * 100) / 100;
      return String(Object.is(r, -0) ? 0 : r);
    });
    return ` ${name}="${rounded}"`;
  });
  // Native hover tooltips without script: a mark's description becomes its <title>.
  // (vega escapes & < > " in attribute values, so the text is safe as element content.)
  out = out.replace(
    /<(path|rect|circle|line)\b([^<>]*?\saria-label="([^"]*)"[^<>]*?\srole="graphics-symbol"[^<>]*?)\/>/g,
    (_m, tag: string, attrs: string, label: string) => `<${tag}${attrs}><title>${label}</title></${tag}>`,
  );
  assertSafeSvg(out, chart);
  return out;
}

/** Elements vega's SVG renderer emits; anything else is refused. */
const SVG_TAGS = new Set([
  'svg', 'g', 'path', 'rect', 'line', 'circle', 'ellipse', 'polygon', 'polyline', 'text', 'tspan',
  'title', 'desc', 'defs', 'clipPath', 'linearGradient', 'radialGradient', 'stop',
]);

/**
 * Allow-list check of the markup (not of the text: user strings are escaped,
 * so "<" only ever opens a tag): known SVG elements only, no event handler
 * attributes, links and url() references only to ids in the same page.
 */
function assertSafeSvg(svg: string, chart: string): void {
  const fail = (what: string) => {
    throw new ReportRenderError(`chart ${chart}: unsafe SVG output (${what})`);
  };
  const bad = /<(?![a-zA-Z/])/.exec(svg);
  if (bad) fail(svg.slice(bad.index, bad.index + 20));
  for (const tag of svg.matchAll(/<\/?([a-zA-Z][\w:-]*)([^>]*)>/g)) {
    if (!SVG_TAGS.has(tag[1])) fail(`<${tag[1]}>`);
    const attrs = tag[2].replace(/\s*\/$/, '');
    const rest = attrs.replace(/\s+[\w:-]+="[^"]*"/g, '');
    if (rest.trim() !== '') fail(`attributes ${rest.trim().slice(0, 40)}`);
    for (const [, name, value] of attrs.matchAll(/\s+([\w:-]+)="([^"]*)"/g)) {
      const n = name.toLowerCase();
      if (n.startsWith('on')) fail(n);
      if ((n === 'href' || n === 'xlink:href' || n === 'src') && !value.startsWith('#')) fail(`${n}="${value}"`);
      if (/url\(\s*(?!#)/i.test(value) || /javascript:|expression\(/i.test(value)) fail(`${n}="${value.slice(0, 40)}"`);
    }
  }
}
