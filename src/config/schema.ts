import { z } from 'zod';

/**
 * Every option of `crm score`, whether it comes from a flag or a config file.
 * Defaults live here and nowhere else.
 */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
const cutPoints = z.array(z.number()).length(4, 'expected 4 ascending cut points').refine(
  (points) => points.every((p, i) => i === 0 || p > points[i - 1]!),
  'cut points must be strictly ascending',
);

export const columnMappingSchema = z
  .object({
    customer: z.string().min(1).optional(),
    date: z.string().min(1).optional(),
    amount: z.string().min(1).optional(),
    order: z.string().min(1).optional(),
    quantity: z.string().min(1).optional(),
  })
  .strict();

export const scoreConfigSchema = z
  .object({
    inputs: z.array(z.string().min(1)).default([]),
    out: z.string().min(1).default('crm-out'),
    db: z.string().min(1).optional(),
    noDb: z.boolean().default(false),
    format: z.array(z.enum(['parquet', 'csv', 'json', 'arrow'])).min(1).default(['parquet', 'csv']),
    columns: columnMappingSchema.default({}),
    delimiter: z.string().min(1).optional(),
    header: z.enum(['auto', 'yes', 'no']).default('auto'),
    dateFormat: z.string().min(1).optional(),
    timezone: z.string().min(1).default('UTC'),
    asOf: isoDate.optional(),
    maxRejectRate: z.number().min(0).max(1).optional(),
    rfm: z
      .object({
        method: z.enum(['quantile', 'ntile', 'fixed']).default('quantile'),
        /** For `fixed`: recency in days (ascending; ≤ first cut scores 5), frequency in orders and monetary in revenue (≥ last cut scores 5). */
        thresholds: z.object({ recency: cutPoints, frequency: cutPoints, monetary: cutPoints }).strict().optional(),
        segmentMap: z.string().min(1).optional(),
      })
      .strict()
      .refine((r) => r.method !== 'fixed' || r.thresholds !== undefined, {
        message: 'method "fixed" needs thresholds with recency, frequency and monetary cut points (4 each)',
        path: ['thresholds'],
      })
      .default({ method: 'quantile' }),
    clv: z
      .object({
        enabled: z.boolean().default(true),
        model: z.enum(['bgnbd', 'paretonbd']).default('bgnbd'),
        timeUnit: z.enum(['day', 'week', 'month']).default('week'),
        horizonMonths: z.number().int().min(1).max(600).default(12),
        discountRate: z.number().min(0).max(1).default(0.01),
        margin: z.number().min(0).max(1).default(1),
        penalty: z.number().min(0).default(0),
      })
      .strict()
      .default({ enabled: true, model: 'bgnbd', timeUnit: 'week', horizonMonths: 12, discountRate: 0.01, margin: 1, penalty: 0 }),
    lifecycle: z
      .object({
        enabled: z.boolean().default(true),
        /** recency / typical gap above which a customer is overdue (at_risk). */
        atRiskRatio: z.number().positive().default(1.5),
        /** recency / typical gap above which a customer has lapsed. */
        lapsedRatio: z.number().positive().default(3),
        /** recency / typical gap above which a customer is lost. */
        lostRatio: z.number().positive().default(6),
        /** purchase days at or above which an on-rhythm customer is loyal. */
        loyalMinOrders: z.number().int().min(2).default(4),
        /** P(alive) below which an otherwise on-rhythm repeat customer is at risk. */
        atRiskPAlive: z.number().min(0).max(1).default(0.5),
        /** P(alive) below which a customer is lost whatever the gap says. */
        lostPAlive: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .refine((l) => l.atRiskRatio < l.lapsedRatio && l.lapsedRatio < l.lostRatio, 'need atRiskRatio < lapsedRatio < lostRatio')
      .default({ enabled: true, atRiskRatio: 1.5, lapsedRatio: 3, lostRatio: 6, loyalMinOrders: 4, atRiskPAlive: 0.5, lostPAlive: 0.1 }),
    kmeans: z
      .object({
        enabled: z.boolean().default(true),
        k: z.union([z.number().int().min(1).max(50, 'at most 50 clusters'), z.literal('auto')]).default(5),
        seed: z.number().int().min(0).default(42),
        restarts: z.number().int().min(1).max(100).default(4),
        sampleSize: z.number().int().min(10).default(20_000),
        useClv: z.boolean().default(false),
      })
      .strict()
      .default({ enabled: true, k: 5, seed: 42, restarts: 4, sampleSize: 20_000, useClv: false }),
    /** Keep scores of this many most recent runs in the database (older runs keep their summary row). */
    keepRuns: z.number().int().min(1).optional(),
    threads: z.number().int().min(1).optional(),
  })
  .strict();

export type ScoreConfig = z.infer<typeof scoreConfigSchema>;
export type ColumnMapping = z.infer<typeof columnMappingSchema>;
