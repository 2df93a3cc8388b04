/**
 * One list per concept, in its canonical order (DESIGN §3): every module that
 * names, orders or validates these takes them from here.
 */

/** Lifecycle stages in funnel order. */
export const LIFECYCLE_STAGES = ['new', 'active', 'loyal', 'reactivated', 'at_risk', 'lapsed', 'lost'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** The named RFM segments of the default segment map, best → worst. */
export const SEGMENT_NAMES = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New Customers',
  'Promising',
  'Need Attention',
  'About To Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
] as const;

/** The formats crm score writes its customer table in (--format). */
export const TABLE_FORMATS = ['parquet', 'csv', 'json', 'arrow'] as const;
