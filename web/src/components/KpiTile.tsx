import type { ReactNode } from 'react';
import { formatMargin, formatMeasure, formatNumber, MEASURES } from '../format';
import type { Measure, MeasureResult } from '../types';

export interface KpiTileProps {
  measure: Measure;
  /** The measure as GET /api/v1/metrics returns it (total or one row). */
  result: MeasureResult | undefined;
  /** Heading of the tile; by default the measure's name. */
  label?: string;
  /** More under the value, e.g. a rating distribution. */
  children?: ReactNode;
}

const AGAINST = { previousPeriod: 'the previous period', rest: 'the rest' } as const;

/** One number with its 95% margin and n; greyed and marked when the sample is too small to trust. */
export const KpiTile = ({ measure, result, label, children }: KpiTileProps) => {
  const info = MEASURES[measure];
  const comparison = result?.comparison;
  return (
    <div className={`kpi${result?.lowSample ? ' low-sample' : ''}`}>
      <h3>
        {label ?? info.label} <span className="kpi-description">{info.description}</span>
      </h3>
      <p className="kpi-value">
        {formatMeasure(measure, result?.value)}
        {result?.moe != null && <span className="kpi-margin"> {formatMargin(measure, result.moe)}</span>}
      </p>
      <p className="kpi-n">
        n = {formatNumber(result?.n ?? 0)}
        {result?.lowSample && <strong> · low sample, not reliable</strong>}
      </p>
      {measure === 'ces' && result?.mean?.value != null && (
        <p className="kpi-n">Mean {formatNumber(result.mean.value, 2)} of 7</p>
      )}
      {comparison && result?.lowSample && <p className="kpi-comparison">Too few answers to compare</p>}
      {comparison && !result?.lowSample && (
        <p className="kpi-comparison">
          {comparison.direction === 'higher' || comparison.direction === 'lower' ? (
            <span aria-hidden="true" className={`marker marker-${comparison.direction}`}>
              {comparison.direction === 'higher' ? '▲ ' : '▼ '}
            </span>
          ) : null}
          {comparison.direction === 'same'
            ? `No significant change from ${AGAINST[comparison.against]}`
            : comparison.direction
              ? `Significantly ${comparison.direction} than ${AGAINST[comparison.against]}`
              : `Cannot compare with ${AGAINST[comparison.against]}`}
          {comparison.value != null && ` (${formatMeasure(measure, comparison.value)})`}
        </p>
      )}
      {children}
    </div>
  );
};
