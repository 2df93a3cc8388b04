import { readFile } from 'node:fs/promises';
import type { Dialect } from '../../engine/dialect.js';
import { UsageError } from '../../errors.js';

/** segment name → the RFM cells ("545") it covers. */
export type SegmentMap = ReadonlyMap<string, readonly string[]>;

export const ALL_CELLS: readonly string[] = (() => {
  const cells: string[] = [];
  for (let r = 1; r <= 5; r++) for (let f = 1; f <= 5; f++) for (let m = 1; m <= 5; m++) cells.push(`${r}${f}${m}`);
  return cells;
})();

/**
 * The default map (DESIGN §3) keys on R and FM = ⌊(F + M)/2 + 0.5⌋, i.e.
 * the average of F and M rounded half up.
 */
const DEFAULT_BY_R_FM: Record<string, readonly string[]> = {
  Champions: ['55', '54', '45'],
  Loyal: ['53', '44', '35', '34'],
  'Potential Loyalist': ['52', '42', '33', '43'],
  'New Customers': ['51'],
  Promising: ['41', '31'],
  'Need Attention': ['32', '23', '22'],
  'About To Sleep': ['21'],
  'At Risk': ['25', '24', '13'],
  "Can't Lose Them": ['15', '14'],
  Hibernating: ['12'],
  Lost: ['11'],
};

export const fmScore = (f: number, m: number): number => Math.floor((f + m) / 2 + 0.5);

export const DEFAULT_SEGMENT_MAP: SegmentMap = new Map(
  Object.entries(DEFAULT_BY_R_FM).map(([segment, rfm]) => [
    segment,
    ALL_CELLS.filter((cell) => rfm.includes(`${cell[0]}${fmScore(Number(cell[1]), Number(cell[2]))}`)),
  ]),
);

/** `5??`, `[45][45]?`, `555`: a cell pattern, one position per score, `?` any, `[..]` a set. */
export function expandCellPattern(pattern: string): string[] {
  const parts = pattern.match(/\[[1-5]+\]|[1-5?]/g);
  if (!parts || parts.join('') !== pattern || parts.length !== 3) {
    throw new UsageError(`"${pattern}" is not an RFM cell pattern (three positions of 1-5, ? or [..], e.g. 555, 5??, [45][45]?)`);
  }
  const options = parts.map((p) => (p === '?' ? ['1', '2', '3', '4', '5'] : p.startsWith('[') ? [...new Set(p.slice(1, -1))] : [p]));
  return ALL_CELLS.filter((cell) => [...cell].every((digit, i) => options[i]!.includes(digit)));
}

/** Checks that every one of the 125 cells falls in exactly one segment. */
export function validateSegmentMap(map: SegmentMap): void {
  const owner = new Map<string, string[]>();
  for (const [segment, cells] of map) for (const cell of cells) owner.set(cell, [...(owner.get(cell) ?? []), segment]);
  const missing = ALL_CELLS.filter((cell) => !owner.has(cell));
  const doubled = [...owner].filter(([, segments]) => segments.length > 1);
  const problems: string[] = [];
  if (missing.length) problems.push(`cells in no segment: ${missing.join(' ')}`);
  if (doubled.length) problems.push(`cells in more than one segment: ${doubled.map(([c, s]) => `${c} (${s.join(', ')})`).join('; ')}`);
  if (problems.length) throw new UsageError(`segment map must cover all 125 RFM cells exactly once — ${problems.join(' — ')}`);
}

/** Reads a user map `{ "Segment name": ["5??", "4[45]?"], ... }` from JSON or YAML. */
/**
 * Segment names the engine can hold as labels: on PostgreSQL a label is an
 * ENUM value, at most 63 bytes. Checked before any data is read, rather than
 * failing the run when its scores are written.
 */
export function checkSegmentNames(map: SegmentMap, { labelBytes, name: engine }: Pick<Dialect, 'labelBytes' | 'name'>): void {
  if (labelBytes === null) return;
  const long = [...map.keys()].filter((name) => Buffer.byteLength(name) > labelBytes);
  if (long.length === 0) return;
  throw new UsageError(
    `segment map: ${long.map((name) => `"${name}" (${Buffer.byteLength(name)} bytes)`).join(', ')} ${long.length === 1 ? 'is' : 'are'} longer than the ${labelBytes} bytes a segment name may have on the ${engine} engine: shorten ${long.length === 1 ? 'it' : 'them'}`,
  );
}

export async function readSegmentMap(path: string): Promise<SegmentMap> {
  let raw: unknown;
  try {
    raw = (await import('../../config/yaml.js')).parseYaml(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`segment map ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const body = raw && typeof raw === 'object' && 'segments' in raw ? (raw as { segments: unknown }).segments : raw;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new UsageError(`segment map ${path}: expected an object of segment name → list of cell patterns`);
  }
  const map = new Map<string, string[]>();
  for (const [segment, patterns] of Object.entries(body)) {
    const list = Array.isArray(patterns) ? patterns : [patterns];
    if (!list.every((p) => typeof p === 'string' || typeof p === 'number')) {
      throw new UsageError(`segment map ${path}: segment "${segment}" must list cell patterns as strings`);
    }
    map.set(segment, list.flatMap((p) => expandCellPattern(String(p))));
  }
  validateSegmentMap(map);
  return map;
}

/** (cell, segment) rows for the segment_map table, in cell order. */
export function segmentRows(map: SegmentMap): [cell: string, segment: string][] {
  const rows: [string, string][] = [];
  for (const [segment, cells] of map) for (const cell of cells) rows.push([cell, segment]);
  return rows.sort((a, b) => a[0].localeCompare(b[0]));
}
