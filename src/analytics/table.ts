import type { Measure } from '../domain/metrics.js';
import type { MeasureResult, MetricsResult, MetricsRow } from './metrics.js';

export type Cell = string | number | boolean | null;

/** The columns one measure takes in a flat table (CSV export, terminal report). */
const measureColumns = (measure: Measure, result: MetricsResult, sample: MeasureResult | undefined) => {
  const columns: [string, (value: MeasureResult | undefined) => Cell][] = [
    [measure, (v) => v?.value ?? null],
    [`${measure}.n`, (v) => v?.n ?? 0],
    [`${measure}.moe`, (v) => v?.moe ?? null],
    [`${measure}.low`, (v) => v?.low ?? null],
    [`${measure}.high`, (v) => v?.high ?? null],
    [`${measure}.lowSample`, (v) => v?.lowSample ?? true],
  ];
  if (measure === 'ces') {
    columns.push(
      [`${measure}.mean`, (v) => v?.mean?.value ?? null],
      [`${measure}.mean.moe`, (v) => v?.mean?.moe ?? null],
    );
  }
  if (measure === 'avgWaitSeconds') columns.push([`${measure}.p90`, (v) => v?.p90 ?? null]);
  for (const key of Object.keys(sample?.distribution ?? {})) {
    columns.push([`${measure}.distribution.${key}`, (v) => v?.distribution?.[key] ?? 0]);
  }
  if (result.compare) {
    columns.push(
      [`${measure}.compared`, (v) => v?.comparison?.value ?? null],
      [`${measure}.p`, (v) => v?.comparison?.p ?? null],
      [`${measure}.pAdjusted`, (v) => v?.comparison?.pAdjusted ?? null],
      [`${measure}.direction`, (v) => v?.comparison?.direction ?? null],
    );
  }
  return columns;
};

/**
 * The metrics as one flat table: a column per dimension, then per measure its value, n, margin,
 * interval, low-sample flag, distribution and comparison. The total comes last, its dimensions
 * reading "(all)".
 */
export const metricsTable = (result: MetricsResult, options: { total?: boolean } = {}) => {
  const columns = result.measures.flatMap((measure) =>
    measureColumns(measure, result, result.total.measures[measure]).map(
      ([name, read]) => [name, (row: MetricsRow) => read(row.measures[measure])] as const,
    ),
  );
  const header = [...result.by, ...columns.map(([name]) => name)];
  const line = (row: MetricsRow, label: (dimension: string) => Cell): Cell[] => [
    ...result.by.map(label),
    ...columns.map(([, read]) => read(row)),
  ];
  // Without dimensions the one row is the total.
  if (result.by.length === 0) return { header, rows: [line(result.total, () => null)] };
  const rows = result.rows.map((row) => line(row, (d) => row.group[d] ?? null));
  if (options.total !== false) rows.push(line(result.total, () => '(all)'));
  return { header, rows };
};
