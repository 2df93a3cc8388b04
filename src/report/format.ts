/** Numbers, times and text as the report page shows them. */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** How the report names the purchase models (the summary keeps the option values). */
const MODEL_NAMES: Record<string, string> = { bgnbd: 'BG/NBD', mbgnbd: 'MBG/NBD', paretonbd: 'Pareto/NBD' };
export const modelName = (model: string): string => MODEL_NAMES[model] ?? model;
export const isPurchaseModel = (model: unknown): boolean => typeof model === 'string' && model in MODEL_NAMES;

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
export const moneyFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
export const pctFmt = new Intl.NumberFormat('en-US', { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function formatInt(n: number): string {
  return Number.isFinite(n) ? intFmt.format(n) : '—';
}

/** Model parameters: 4 significant digits, exponent only when needed. */
export function formatParam(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return n.toExponential(3);
  return Number(n.toPrecision(4)).toString();
}

/** Small rates keep two significant digits ("0.017%"), others one decimal. */
export function formatRate(rate: number): string {
  if (rate > 0 && rate < 0.001) return `${(rate * 100).toPrecision(2)}%`;
  return pctFmt.format(rate);
}

/** "2024-05-02T02:00:04.118Z" → "2024-05-02 02:00:04 UTC"; anything else as given. */
export function formatTimestamp(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(ts);
  if (!m) return ts;
  const zone = m[3] === 'Z' ? ' UTC' : m[3] ? ` ${m[3]}` : '';
  return `${m[1]} ${m[2]}${zone}`;
}

export function formatDuration(startedAt: string, finishedAt: string): string | null {
  const ms = Date.parse(finishedAt) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return null;
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

// ---------------------------------------------------------------------------
