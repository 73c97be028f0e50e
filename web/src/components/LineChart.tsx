import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatNumber } from '../format';

export interface LineSeries {
  label: string;
  /** One value per x; null leaves a gap (no answers in that bucket). */
  values: (number | null)[];
  color?: string;
}

export interface LineChartProps {
  /** Visible title of the chart; also names its data table. */
  title: string;
  /** Times in seconds since 1970 (UTC), e.g. the first day of each week. */
  x: number[];
  series: LineSeries[];
  /** Axis titles with units, e.g. "Week (from Monday, UTC)" and "Score (NPS points, CSAT %)". */
  xLabel: string;
  yLabel: string;
  /** How values are written on the axis and in the data table. */
  formatY?: (value: number) => string;
  /** How an x is written in the data table; by default the UTC day. */
  formatX?: (seconds: number) => string;
  height?: number;
}

/** Distinct on white and for common colour-blindness; each at least 3:1 against the background. */
const PALETTE = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#0f766e'];
const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);
const shortDay = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  timeZone: 'UTC',
});

/**
 * A line chart (uPlot) with titled axes, and the same numbers in a visually hidden table for
 * screen readers. It fills the width of its container and follows its resizing.
 */
export const LineChart = ({
  title,
  x,
  series,
  xLabel,
  yLabel,
  formatY = (value) => formatNumber(value),
  formatX = day,
  height = 280,
}: LineChartProps) => {
  const container = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const axis = { stroke: '#333', grid: { stroke: '#e3e3e3' }, ticks: { stroke: '#c8c8c8' } };
    const chart = new uPlot(
      {
        width: Math.max(element.clientWidth, 280),
        height,
        // Buckets are UTC days; show them as such whatever the viewer's time zone.
        tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC'),
        scales: { x: { time: true } },
        // The legend names the lines; values at the pointer would read "–" until one hovers.
        legend: { live: false },
        series: [
          { label: xLabel, value: (_chart, value) => (value == null ? '–' : formatX(value)) },
          ...series.map((line, i) => ({
            label: line.label,
            stroke: line.color ?? PALETTE[i % PALETTE.length],
            width: 2,
            points: { show: x.length <= 60 },
            value: (_chart: uPlot, value: number | null) => (value == null ? '–' : formatY(value)),
          })),
        ],
        axes: [
          {
            ...axis,
            label: xLabel,
            // Short dates in the interface's style ("24 Aug 2026"), spaced so they never overlap.
            space: 110,
            values: (_chart, splits) => splits.map((value) => shortDay.format(new Date(value * 1000))),
          },
          {
            ...axis,
            label: yLabel,
            size: 60,
            values: (_chart, splits) => splits.map((value) => formatY(value)),
          },
        ],
      },
      [x, ...series.map((line) => line.values)],
      element,
    );
    const observer = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(element.clientWidth, 280), height }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [x, series, xLabel, yLabel, formatX, formatY, height]);

  return (
    <figure className="line-chart">
      <figcaption>{title}</figcaption>
      {/* The canvas is for the eye; the table below gives the same numbers to screen readers. */}
      <div ref={container} aria-hidden="true" />
      {/* The wrapper hides it: a table with width 1px still takes the width of its content. */}
      <div className="visually-hidden">
        <table>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th scope="col">{xLabel}</th>
              {series.map((line) => (
                <th key={line.label} scope="col">
                  {line.label} ({yLabel})
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {x.map((time, i) => (
              <tr key={time}>
                <th scope="row">{formatX(time)}</th>
                {series.map((line) => (
                  <td key={line.label}>
                    {line.values[i] == null ? 'no data' : formatY(line.values[i] as number)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
};
