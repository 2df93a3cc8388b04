/**
 * A k-means cluster's label: stated, absolute facts of its median customer
 * ("bought in the last 30 days · 5+ orders · top 10% revenue"), each read off
 * a small fixed ladder ({@link LABEL_LADDERS}), never "high" or "recent"
 * relative to the base. Each fact holds for at least half of the cluster's
 * customers, since it is true of its median customer on that measure. Labels
 * are unique within a run ({@link clusterLabels}).
 */

/**
 * Where a cluster's median customer stands in the run on one measure: the
 * share of the run's customers whose value is at least the median's
 * (`atLeast`), and at most it (`atMost`). Ties count on both sides, so a
 * value shared by many customers is never "top 1%".
 */
export interface RunShare {
  readonly atLeast: number;
  readonly atMost: number;
}

/** The cluster's median customer on each measure; null where the run has no such column (no CLV stage, or its fit not converged). */
export interface ClusterFacts {
  readonly cluster: number;
  readonly medianRecencyDays: number;
  readonly medianOrders: number;
  readonly medianRevenue: number;
  readonly revenueShare: RunShare;
  readonly medianTenureDays: number;
  readonly clvShare: RunShare | null;
  readonly medianPAlive: number | null;
}

/**
 * The ladders a fact is read from (days, orders, shares of the run's
 * customers, probabilities). A fact names the rung its median customer
 * reaches:
 *
 * - days since the last order: up to 90 days, the smallest rung at or above
 *   the median ("bought in the last 30 days"); past 90, the largest rung at
 *   or below it ("no order in 180+ days", "… in 1+ year");
 * - orders: the largest rung at or below the median ("5+ orders"), "one order"
 *   below 2, "no orders" below 1 (refunds only);
 * - revenue (and CLV): the smallest share s such that at most s of the run's
 *   customers have as much as the median ("top 10% revenue"); else the
 *   smallest bottom share s such that at most s have as little ("bottom 20%
 *   revenue"); else (a value many customers share) the share with as much,
 *   rounded up to a tenth ("top 70% revenue");
 * - P(alive): the largest rung at or below the median ("P(alive) 70%+"),
 *   "P(alive) under 30%" below the last;
 * - days since the first order (tenure): as days since the last order
 *   ("first order in the last 90 days", "customer for 2+ years").
 */
export const LABEL_LADDERS = Object.freeze({
  recencyDays: [7, 30, 90, 180, 365, 730],
  orders: [2, 3, 5, 10, 20],
  topShares: [0.01, 0.05, 0.1, 0.2, 0.5],
  bottomShares: [0.2, 0.5],
  pAlive: [0.9, 0.7, 0.5, 0.3],
  tenureDays: [30, 90, 365, 730],
});

/** Days as people say them: 365 → "1 year", 730 → "2 years". */
const days = (n: number) => (n % 365 === 0 ? `${n / 365} year${n === 365 ? '' : 's'}` : `${n} days`);
const percent = (share: number) => `${Math.round(share * 100)}%`;

/** Up to 90 days: "within" the smallest rung at or above; past it: the largest rung reached. */
function dayFact(median: number, ladder: readonly number[], within: (rung: number) => string, since: (rung: number) => string): string {
  const recent = ladder.find((rung) => rung <= 90 && median <= rung);
  if (recent !== undefined) return within(recent);
  const reached = [...ladder].reverse().find((rung) => median >= rung) ?? 90;
  return since(reached);
}

export function recencyFact(medianRecencyDays: number): string {
  return dayFact(medianRecencyDays, LABEL_LADDERS.recencyDays, (r) => `bought in the last ${days(r)}`, (r) => `no order in ${days(r).replace(/^(\d+)/, '$1+')}`);
}

export function ordersFact(medianOrders: number): string {
  if (medianOrders < 1) return 'no orders';
  const reached = [...LABEL_LADDERS.orders].reverse().find((rung) => medianOrders >= rung);
  return reached === undefined ? 'one order' : `${reached}+ orders`;
}

export function shareFact(share: RunShare, what: string): string {
  const top = LABEL_LADDERS.topShares.find((s) => share.atLeast <= s);
  if (top !== undefined) return `top ${percent(top)} ${what}`;
  const bottom = LABEL_LADDERS.bottomShares.find((s) => share.atMost <= s);
  if (bottom !== undefined) return `bottom ${percent(bottom)} ${what}`;
  return `top ${percent(Math.ceil(share.atLeast * 10 - 1e-9) / 10)} ${what}`;
}

export function pAliveFact(medianPAlive: number): string {
  const reached = LABEL_LADDERS.pAlive.find((rung) => medianPAlive >= rung);
  return reached === undefined ? `P(alive) under ${percent(LABEL_LADDERS.pAlive.at(-1)!)}` : `P(alive) ${percent(reached)}+`;
}

export function tenureFact(medianTenureDays: number): string {
  return dayFact(medianTenureDays, LABEL_LADDERS.tenureDays, (r) => `first order in the last ${days(r)}`, (r) => `customer for ${days(r).replace(/^(\d+)/, '$1+')}`);
}

const number = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(Math.abs(x) >= 100 ? 0 : 1));

/**
 * Every fact a label may state, in the order they are used: the three of
 * every label, then those added only to tell clusters apart (CLV and P(alive)
 * when the cluster has them, tenure, then the medians themselves), at fixed
 * places (null: not known for this cluster).
 */
function factsOf(c: ClusterFacts): { base: string[]; extra: (string | null)[] } {
  return {
    base: [recencyFact(c.medianRecencyDays), ordersFact(c.medianOrders), shareFact(c.revenueShare, 'revenue')],
    extra: [
      c.clvShare !== null ? shareFact(c.clvShare, 'CLV') : null,
      c.medianPAlive !== null ? pAliveFact(c.medianPAlive) : null,
      tenureFact(c.medianTenureDays),
      `median ${number(c.medianRecencyDays)} days since last order`,
      `median ${number(c.medianOrders)} orders`,
      `median revenue ${c.medianRevenue.toFixed(2)}`,
    ],
  };
}

export const LABEL_SEPARATOR = ' · ';

/**
 * The labels of a run's clusters, in the order given, unique: every label
 * states recency, orders and revenue; where two or more clusters would read
 * the same, each of them gets the next fact that tells some of them apart
 * (repeated until every label is unique); clusters alike in every fact get
 * their number.
 */
export function clusterLabels(clusters: readonly ClusterFacts[]): string[] {
  const facts = clusters.map(factsOf);
  const parts = facts.map((f) => [...f.base]);
  const next = clusters.map(() => 0);
  for (;;) {
    const groups = new Map<string, number[]>();
    parts.forEach((p, i) => groups.set(p.join(LABEL_SEPARATOR), [...(groups.get(p.join(LABEL_SEPARATOR)) ?? []), i]));
    const clashes = [...groups.values()].filter((members) => members.length > 1);
    if (clashes.length === 0) break;
    for (const members of clashes) {
      let at = Math.max(...members.map((i) => next[i]!));
      const count = facts[members[0]!]!.extra.length;
      while (at < count && new Set(members.map((i) => facts[i]!.extra[at])).size === 1) at++;
      for (const i of members) {
        const fact = at < count ? facts[i]!.extra[at] : `cluster ${clusters[i]!.cluster}`;
        if (fact !== null && fact !== undefined) parts[i]!.push(fact);
        next[i] = at + 1;
      }
    }
  }
  return parts.map((p) => p.join(LABEL_SEPARATOR));
}
