/**
 * A seeded BG/NBD base where everyone has the same dropout probability p
 * (BG/NBD's a, b → ∞ limit), as transaction lines, and the closed forms of
 * that limit the tests check crm against.
 */
import { gammaVariate, mulberry32 } from './models/cdnowPatterns.js';

const DAY_MS = 86_400_000;

export const isoDay = (start: string, offset: number) => new Date(Date.parse(start) + offset * DAY_MS).toISOString().slice(0, 10);

/**
 * customer_id,order_date,amount lines of a BG/NBD base where everyone drops
 * out with the same probability p after each repeat purchase (a degenerate
 * Beta): λ ~ Gamma(r, α) per week, first purchases over the year before
 * `asOf`, seeded. With `holdoutDays`, customers go on buying for that many
 * days after `asOf` (with none, the same lines as before it existed).
 */
export function fixedDropoutTransactions(
  customers: number,
  seed: number,
  { r, alpha, p }: { r: number; alpha: number; p: number },
  asOf: string,
  holdoutDays = 0,
): string[] {
  const random = mulberry32(seed);
  // Gamma-Gamma spend (ν ~ Gamma(4, 15) per customer, amounts ~ Gamma(6, ν)) from its own stream.
  const spendRandom = mulberry32(seed + 1);
  const lines: string[] = [];
  for (let c = 0; c < customers; c++) {
    const nu = gammaVariate(4, spendRandom) / 15;
    const amount = () => (gammaVariate(6, spendRandom) / nu).toFixed(2);
    const ageDays = 1 + Math.floor(random() * 365);
    const day = (sinceFirst: number) => isoDay(asOf, sinceFirst - ageDays);
    const id = `F${String(c).padStart(5, '0')}`;
    lines.push(`${id},${day(0)},${amount()}`);
    const lambda = gammaVariate(r, random) / alpha;
    for (let t = 0; ; ) {
      t += -Math.log(1 - random()) / lambda;
      if (t * 7 > ageDays + holdoutDays) break;
      lines.push(`${id},${day(Math.floor(t * 7))},${amount()}`);
      if (random() < p) break;
    }
  }
  return lines;
}

/**
 * The fixed-dropout limit's closed forms (x repeat purchase days, t_x, T and
 * t in model time units): P(alive) = 1/(1 + p/(1−p)·((α+T)/(α+t_x))^(r+x))
 * for x > 0, else 1; and a live customer buys (1 − (1 + p·t/(α+T))^−(r+x))/p
 * times in the next t (λ ~ Gamma(r+x, α+T), still alive s later w.p. e^(−λps)).
 */
export function fixedDropoutModel({ r, alpha, p }: { r: number; alpha: number; p: number }) {
  const pAlive = (x: number, tx: number, T: number) => (x === 0 ? 1 : 1 / (1 + (p / (1 - p)) * Math.pow((alpha + T) / (alpha + tx), r + x)));
  const purchasesIfAlive = (t: number, x: number, T: number) => (1 - Math.pow(1 + (p * t) / (alpha + T), -(r + x))) / p;
  return { pAlive, purchasesIfAlive, expectedPurchases: (t: number, x: number, tx: number, T: number) => pAlive(x, tx, T) * purchasesIfAlive(t, x, T) };
}
