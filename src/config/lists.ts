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

/** The purchase models crm fits (DESIGN §3 CLV). */
export const PURCHASE_MODELS = ['bgnbd', 'mbgnbd', 'paretonbd'] as const;
export type PurchaseModelName = (typeof PURCHASE_MODELS)[number];
/** --clv-model: a purchase model, or auto (all fitted, one kept). */
export const CLV_MODELS = [...PURCHASE_MODELS, 'auto'] as const;
