/**
 * The default segment map as DESIGN §3 writes it, copied from the text (not
 * from src/): segment → the (R, FM) pairs it holds, FM = ⌊(F + M)/2 + 0.5⌋.
 */
const DESIGN_TEXT = `Champions 55 54 45 · Loyal 53 44 35 34 · Potential Loyalist 52 42 33 43 ·
New Customers 51 · Promising 41 31 · Need Attention 32 23 22 ·
About To Sleep 21 · At Risk 25 24 13 · Can't Lose Them 15 14 ·
Hibernating 12 · Lost 11`;

/** The 11 segment names, in DESIGN's order. */
export const DESIGN_SEGMENTS: readonly string[] = DESIGN_TEXT.split('·').map((part) => part.trim().replace(/( \d\d)+$/, ''));

const SEGMENT_OF_R_FM = new Map(
  DESIGN_TEXT.split('·').flatMap((part) => {
    const name = part.trim().replace(/( \d\d)+$/, '');
    return part.trim().slice(name.length).trim().split(/\s+/).map((rfm) => [rfm, name] as const);
  }),
);

/** The segment DESIGN §3 gives a customer scored R, F, M. */
export function designSegment(r: number, f: number, m: number): string {
  const fm = Math.floor((f + m) / 2 + 0.5);
  const segment = SEGMENT_OF_R_FM.get(`${r}${fm}`);
  if (!segment) throw new Error(`DESIGN §3 names no segment for R ${r}, FM ${fm}`);
  return segment;
}
