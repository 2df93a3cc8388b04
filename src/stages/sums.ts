/**
 * Sums and means that do not depend on row order. DuckDB adds DOUBLEs in
 * whatever order its threads meet the rows, so the last digits of a
 * floating-point sum change from run to run once a table spans several row
 * groups; a DECIMAL sum is exact, whatever the order. Revenue keeps the four
 * decimal places of an amount; model outputs such as clv are fixed to six.
 */
export const exactSum = (x: string, places = 4) => `sum(CAST(${x} AS DECIMAL(38, ${places})))`;
export const exactMean = (x: string, places = 4) => `avg(CAST(${x} AS DECIMAL(38, ${places})))`;
