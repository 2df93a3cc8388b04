import { describe, expect, it } from 'vitest';
import { clusterLabels, ordersFact, pAliveFact, recencyFact, shareFact, tenureFact, type ClusterFacts, type RunShare } from '../../src/models/kmeansLabels.js';

/** A cluster whose median customer's revenue is reached by 8% of the run and exceeds that of 90%. */
const facts = (cluster: number, over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  cluster,
  medianRecencyDays: 20,
  medianOrders: 5,
  medianRevenue: 350,
  revenueShare: { atLeast: 0.08, atMost: 0.93 },
  medianTenureDays: 400,
  clvShare: null,
  medianPAlive: null,
  ...over,
});
const share = (atLeast: number, atMost: number): RunShare => ({ atLeast, atMost });

describe('label facts, each from its ladder', () => {
  it('days since the last order: within the smallest rung up to 90 days, then the largest rung reached', () => {
    expect(recencyFact(0)).toBe('bought in the last 7 days');
    expect(recencyFact(7)).toBe('bought in the last 7 days');
    expect(recencyFact(7.5)).toBe('bought in the last 30 days');
    expect(recencyFact(30)).toBe('bought in the last 30 days');
    expect(recencyFact(90)).toBe('bought in the last 90 days');
    expect(recencyFact(90.5)).toBe('no order in 90+ days');
    expect(recencyFact(195)).toBe('no order in 180+ days');
    expect(recencyFact(365)).toBe('no order in 1+ year');
    expect(recencyFact(800)).toBe('no order in 2+ years');
  });

  it('orders: the largest rung reached, one order below 2, none below 1', () => {
    expect([0, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 9, 10, 19, 20, 150].map(ordersFact)).toEqual([
      'no orders', 'no orders', 'one order', 'one order', '2+ orders', '2+ orders', '3+ orders', '3+ orders',
      '5+ orders', '5+ orders', '10+ orders', '10+ orders', '20+ orders', '20+ orders',
    ]);
  });

  it('revenue: the smallest top share that has as much as the median, else the smallest bottom share that has as little', () => {
    expect(shareFact(share(0.01, 1), 'revenue')).toBe('top 1% revenue');
    expect(shareFact(share(0.0101, 0.99), 'revenue')).toBe('top 5% revenue');
    expect(shareFact(share(0.1, 0.91), 'revenue')).toBe('top 10% revenue');
    expect(shareFact(share(0.2, 0.8), 'revenue')).toBe('top 20% revenue');
    expect(shareFact(share(0.5, 0.51), 'revenue')).toBe('top 50% revenue');
    expect(shareFact(share(0.51, 0.5), 'revenue')).toBe('bottom 50% revenue');
    expect(shareFact(share(0.9, 0.2), 'CLV')).toBe('bottom 20% CLV');
    // A value most customers share (a one-time buyers' price): neither side holds; the share with as much, to the tenth above.
    expect(shareFact(share(0.62, 0.75), 'revenue')).toBe('top 70% revenue');
    expect(shareFact(share(0.7, 0.75), 'revenue')).toBe('top 70% revenue');
  });

  it('P(alive) and tenure', () => {
    expect([0.95, 0.9, 0.75, 0.5, 0.31, 0.29].map(pAliveFact)).toEqual(['P(alive) 90%+', 'P(alive) 90%+', 'P(alive) 70%+', 'P(alive) 50%+', 'P(alive) 30%+', 'P(alive) under 30%']);
    expect([10, 30, 60, 120, 400, 1000].map(tenureFact)).toEqual([
      'first order in the last 30 days', 'first order in the last 30 days', 'first order in the last 90 days',
      'customer for 90+ days', 'customer for 1+ year', 'customer for 2+ years',
    ]);
  });
});

describe('clusterLabels', () => {
  it('states recency, orders and revenue when those tell the clusters apart', () => {
    const labels = clusterLabels([facts(1), facts(2, { medianRecencyDays: 400, medianOrders: 1, revenueShare: share(0.95, 0.15) })]);
    expect(labels).toEqual(['bought in the last 30 days · 5+ orders · top 10% revenue', 'no order in 1+ year · one order · bottom 20% revenue']);
  });

  it('adds, only to clusters that would read the same, the next fact that tells them apart', () => {
    // 1 and 2 share recency, orders and revenue rungs; their tenure differs. 3 stands apart.
    const labels = clusterLabels(
      [facts(1, { medianTenureDays: 60 }), facts(2, { medianRecencyDays: 25, medianTenureDays: 800 }), facts(3, { revenueShare: share(0.7, 0.35) })],
    );
    expect(labels).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · first order in the last 90 days',
      'bought in the last 30 days · 5+ orders · top 10% revenue · customer for 2+ years',
      'bought in the last 30 days · 5+ orders · bottom 50% revenue',
    ]);
  });

  it('skips facts alike within the clashing clusters: CLV and P(alive) first, then tenure, then the medians themselves', () => {
    // Same CLV rung (top 10%), P(alive) rungs differ.
    expect(clusterLabels([facts(1, { clvShare: share(0.06, 0.95), medianPAlive: 0.95 }), facts(2, { clvShare: share(0.09, 0.92), medianPAlive: 0.6 })])).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · P(alive) 90%+',
      'bought in the last 30 days · 5+ orders · top 10% revenue · P(alive) 50%+',
    ]);
    // Alike on every rung: the medians, days since the last order first.
    expect(clusterLabels([facts(1, { medianRecencyDays: 12 }), facts(2, { medianRecencyDays: 21 })])).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 12 days since last order',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 21 days since last order',
    ]);
  });

  it('gives clusters alike in every fact their number, and keeps three-way clashes apart', () => {
    const labels = clusterLabels([facts(4), facts(7), facts(9, { medianOrders: 6 })]);
    expect(labels).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 5 orders · cluster 4',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 5 orders · cluster 7',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 6 orders',
    ]);
    expect(new Set(labels).size).toBe(3);
  });
});
