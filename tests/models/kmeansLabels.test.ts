import { describe, expect, it } from 'vitest';
import { clusterLabels, ordersFact, pAliveFact, recencyFact, shareFact, tenureFact, type ClusterFacts, type RunPercentiles } from '../../src/models/kmeansLabels.js';

/** A run whose revenue percentiles are round numbers: P99 1000, P95 500, P90 300, P80 200, P50 100, P20 40. */
const REVENUE: RunPercentiles = {
  top: new Map([
    [0.01, 1000],
    [0.05, 500],
    [0.1, 300],
    [0.2, 200],
    [0.5, 100],
  ]),
  bottom: new Map([
    [0.2, 40],
    [0.5, 100],
  ]),
};

const facts = (cluster: number, over: Partial<ClusterFacts> = {}): ClusterFacts => ({
  cluster,
  medianRecencyDays: 20,
  medianOrders: 5,
  medianRevenue: 350,
  medianTenureDays: 400,
  medianClv: null,
  medianPAlive: null,
  ...over,
});

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

  it('revenue: the smallest top share whose percentile the median reaches, else the bottom share it stays within', () => {
    expect(shareFact(1000, REVENUE, 'revenue')).toBe('top 1% revenue');
    expect(shareFact(999, REVENUE, 'revenue')).toBe('top 5% revenue');
    expect(shareFact(300, REVENUE, 'revenue')).toBe('top 10% revenue');
    expect(shareFact(250, REVENUE, 'revenue')).toBe('top 20% revenue');
    expect(shareFact(100, REVENUE, 'revenue')).toBe('top 50% revenue');
    expect(shareFact(99, REVENUE, 'revenue')).toBe('bottom 50% revenue');
    expect(shareFact(40, REVENUE, 'revenue')).toBe('bottom 20% revenue');
    expect(shareFact(0, REVENUE, 'CLV')).toBe('bottom 20% CLV');
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
    const labels = clusterLabels([facts(1), facts(2, { medianRecencyDays: 400, medianOrders: 1, medianRevenue: 30 })], REVENUE, null);
    expect(labels).toEqual(['bought in the last 30 days · 5+ orders · top 10% revenue', 'no order in 1+ year · one order · bottom 20% revenue']);
  });

  it('adds, only to clusters that would read the same, the next fact that tells them apart', () => {
    // 1 and 2 share recency, orders and revenue rungs; their tenure differs. 3 stands apart.
    const labels = clusterLabels(
      [facts(1, { medianTenureDays: 60 }), facts(2, { medianRecencyDays: 25, medianTenureDays: 800 }), facts(3, { medianRevenue: 60 })],
      REVENUE,
      null,
    );
    expect(labels).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · first order in the last 90 days',
      'bought in the last 30 days · 5+ orders · top 10% revenue · customer for 2+ years',
      'bought in the last 30 days · 5+ orders · bottom 50% revenue',
    ]);
  });

  it('skips facts alike within the clashing clusters: CLV and P(alive) first, then tenure, then the medians themselves', () => {
    const clv: RunPercentiles = { top: new Map([[0.01, 90], [0.05, 80], [0.1, 70], [0.2, 60], [0.5, 50]]), bottom: new Map([[0.2, 10], [0.5, 50]]) };
    // Same CLV rung (top 10%), P(alive) rungs differ.
    expect(clusterLabels([facts(1, { medianClv: 75, medianPAlive: 0.95 }), facts(2, { medianClv: 71, medianPAlive: 0.6 })], REVENUE, clv)).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · P(alive) 90%+',
      'bought in the last 30 days · 5+ orders · top 10% revenue · P(alive) 50%+',
    ]);
    // Alike on every rung: the medians, days since the last order first.
    expect(clusterLabels([facts(1, { medianRecencyDays: 12 }), facts(2, { medianRecencyDays: 21 })], REVENUE, null)).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 12 days since last order',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 21 days since last order',
    ]);
  });

  it('gives clusters alike in every fact their number, and keeps three-way clashes apart', () => {
    const labels = clusterLabels([facts(4), facts(7), facts(9, { medianOrders: 6 })], REVENUE, null);
    expect(labels).toEqual([
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 5 orders · cluster 4',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 5 orders · cluster 7',
      'bought in the last 30 days · 5+ orders · top 10% revenue · median 6 orders',
    ]);
    expect(new Set(labels).size).toBe(3);
  });
});
