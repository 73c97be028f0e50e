import type { LineSeries } from './components/LineChart';
import type { Measure, MetricsResponse } from './types';

export type Bucket = 'day' | 'week' | 'month';

export const BUCKET_LABELS: Record<Bucket, string> = {
  day: 'Day (UTC)',
  week: 'Week (from Monday, UTC)',
  month: 'Month (UTC)',
};

/**
 * The x values (seconds) and one line per measure from a metrics answer grouped by a time bucket.
 * Buckets with too few answers (lowSample) are gaps: a line through them would show noise as a trend.
 */
export const trendOf = (
  data: MetricsResponse,
  bucket: Bucket,
  lines: readonly { measure: Measure; label: string }[],
): { x: number[]; series: LineSeries[]; gaps: number } => {
  const rows = data.rows.filter((row) => row.group[bucket]);
  let gaps = 0;
  const series = lines.map(({ measure, label }) => ({
    label,
    values: rows.map((row) => {
      const result = row.measures[measure];
      if (result?.value == null) return null;
      if (result.lowSample) {
        gaps++;
        return null;
      }
      return result.value;
    }),
  }));
  return { x: rows.map((row) => Date.parse(`${row.group[bucket]}T00:00:00Z`) / 1000), series, gaps };
};

/** Said under a chart with gaps. */
export const gapNote = (bucket: Bucket, minN: number) =>
  `Points with fewer than ${minN} answers in their ${bucket} are left out as not reliable` +
  (bucket === 'month' ? '.' : '; longer buckets or periods hold more answers.');
