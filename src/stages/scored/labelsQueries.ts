import type { Dialect, RecipeStatement } from '../../engine/dialect.js';
import { LABEL_TYPE } from './queries.js';

/**
 * The run's labels: every text value a label column can take (the 125 cells,
 * the segment names, the lifecycle stages, the cluster labels, and the labels
 * of earlier runs, which previous_segment can hold), each with its id. With a
 * history database the ids are its `labels` table's, new labels appended
 * after them; without one they are simply 0, 1, 2, ...
 *
 * `run_labels` starts with the known labels (`KNOWN_LABELS_SQL`), then
 * `vocabulary` (this run's labels in a fixed order, bound values) adds those
 * not known yet.
 */
export const runLabelsTableSql = (d: Dialect) => d.createTempTable('run_labels', 'label_id INTEGER NOT NULL, label VARCHAR NOT NULL');
export const KNOWN_LABELS_SQL = (h: string) => `INSERT INTO run_labels SELECT label_id, label FROM ${h}.labels`;
export const vocabularyTableSql = (d: Dialect) => d.createTempTable('vocabulary', 'position INTEGER NOT NULL, label VARCHAR NOT NULL');

/** New labels get the next ids, in vocabulary order; ids stay dense (0..n−1), as the ENUM codes below need. */
export const ADD_NEW_LABELS_SQL = `
INSERT INTO run_labels
SELECT ((SELECT count(*) FROM run_labels) + row_number() OVER (ORDER BY min(position)) - 1)::INTEGER, label
FROM vocabulary
WHERE label NOT IN (SELECT label FROM run_labels)
GROUP BY label`;

/** How many labels are known, and whether their ids are 0..n−1 as the ENUM codes need. */
export const KNOWN_LABEL_COUNT_SQL = `SELECT count(*)::BIGINT AS known, count(*) = coalesce(max(label_id) + 1, 0) AS dense FROM run_labels`;

/** The run's labels in id order: the values of the label ENUM. */
export const RUN_LABELS_IN_ORDER_SQL = `SELECT label FROM run_labels ORDER BY label_id`;

/**
 * The label ENUM of `labels` (in id order, so that a value's code is its
 * label id: the dialect's labelId), made again with the tables that use it.
 * `label_values` gives the ENUM value of an id, to read earlier runs' codes.
 */
export const labelTypeSql = (d: Dialect, labels: readonly string[]): RecipeStatement[] => [
  `DROP VIEW IF EXISTS scored`,
  `DROP TABLE IF EXISTS final_scores`,
  `DROP TABLE IF EXISTS label_values`,
  ...d.createEnumType(LABEL_TYPE, labels),
  ...d.createTempTableAs('label_values', d.enumValues(LABEL_TYPE, 'run_labels')),
];

/** The labels this run adds to the history database's `labels` (ids from `$known` on). */
export const NEW_LABELS_SQL = (h: string) => `INSERT INTO ${h}.labels SELECT label_id, label FROM run_labels WHERE label_id >= $known ORDER BY label_id`;
