import { useEffect, useMemo, useRef } from 'react';
import { useLocation } from 'wouter';
import { Choice } from '../components/Choice';
import { Empty } from '../components/Empty';
import { FilterBar } from '../components/FilterBar';
import { type HeatCell, Heatmap } from '../components/Heatmap';
import { KpiTile } from '../components/KpiTile';
import { LineChart } from '../components/LineChart';
import { Loadable } from '../components/Loadable';
import { RatingBar } from '../components/RatingBar';
import { bucketFor, filterQuery, useFilters, withFilters } from '../filters';
import { formatMeasure, formatNumber, humanize, MEASURES } from '../format';
import { BUCKET_LABELS, type Bucket, gapNote, trendOf } from '../trend';
import type { MetricsResponse, MetricsRow } from '../types';
import { useApi } from '../useApi';

const STAGES = ['new', 'current', 'advocate', 'ending', 'renewing'];
const PERSONALITIES = ['prompt', 'relationship', 'unknown'];
const CUBE_MEASURES = [
  { value: 'nps', label: 'NPS' },
  { value: 'bottomBoxShare', label: 'Bottom-box share (disastrous)' },
] as const;
type CubeMeasure = (typeof CUBE_MEASURES)[number]['value'];

/** Vocabulary order first (new … renewing), then anything else the data holds, (none) last. */
const ordered = (values: (string | null)[], order: string[]) =>
  [...new Set(values)].sort((a, b) => {
    const rank = (v: string | null) =>
      v === null ? 1e9 : order.includes(v) ? order.indexOf(v) : order.length;
    return rank(a) - rank(b) || String(a).localeCompare(String(b));
  });

const percent = (part: number, whole: number) =>
  whole > 0 ? `${formatNumber((part / whole) * 100, 0)}%` : '–';

/** The extremes of one score next to its average: who answered at the ends of the scale. */
const ScoreEnds = ({ row, measure }: { row: MetricsRow; measure: 'nps' | 'csat' | 'ces' }) => {
  const result = row.measures[measure];
  const d = result?.distribution ?? {};
  const n = result?.n ?? 0;
  const count = (...scores: number[]) => scores.reduce((sum, score) => sum + (d[String(score)] ?? 0), 0);
  if (n === 0) return null;
  if (measure === 'nps') {
    return (
      <p className="kpi-n">
        Detractors {percent(d.detractors ?? 0, n)} · Passives {percent(d.passives ?? 0, n)} · Promoters{' '}
        {percent(d.promoters ?? 0, n)}
      </p>
    );
  }
  const [low, high] = measure === 'csat' ? [count(1, 2), count(5)] : [count(1, 2), count(7)];
  return (
    <p className="kpi-n">
      {measure === 'csat' ? 'Dissatisfied (1–2)' : 'Very difficult (1–2)'} {percent(low, n)} · Top (
      {measure === 'csat' ? '5' : '7'}) {percent(high, n)}
    </p>
  );
};

const Scores = ({ data }: { data: MetricsResponse }) => {
  const total = data.total;
  if ((total.measures.responses?.value ?? 0) === 0) {
    return <Empty title="No feedback in this period and selection" />;
  }
  const extremes = total.measures.bottomBoxShare;
  return (
    <div className="tiles">
      {(['nps', 'csat', 'ces'] as const).map((measure) => (
        <KpiTile key={measure} measure={measure} result={total.measures[measure]}>
          <ScoreEnds row={total} measure={measure} />
        </KpiTile>
      ))}
      <KpiTile measure="bottomBoxShare" result={extremes} label="Extremes: bottom box">
        <p className="kpi-n">
          Poor {formatMeasure('poorShare', total.measures.poorShare?.value)} · Top box (fabulous){' '}
          {formatMeasure('topBoxShare', total.measures.topBoxShare?.value)}
        </p>
        <RatingBar distribution={extremes?.distribution} label="Experience ratings of all rated encounters" />
      </KpiTile>
    </div>
  );
};

const TREND_LINES = [
  { measure: 'nps', label: 'NPS (points)' },
  { measure: 'csat', label: 'CSAT (% satisfied)' },
] as const;

const Trend = ({ data, bucket }: { data: MetricsResponse; bucket: Bucket }) => {
  const { x, series, gaps } = useMemo(() => trendOf(data, bucket, TREND_LINES), [data, bucket]);
  if (x.length === 0) return <Empty title="No feedback to draw a trend from" />;
  return (
    <>
      <LineChart
        title={`NPS and CSAT by ${bucket}`}
        x={x}
        series={series}
        xLabel={BUCKET_LABELS[bucket]}
        yLabel="NPS points, CSAT %"
      />
      {gaps > 0 && <p className="muted">{gapNote(bucket, data.minN)}</p>}
    </>
  );
};

export default function Overview() {
  const { filters, params, setParams, search } = useFilters();
  const [, navigate] = useLocation();
  const selection = filterQuery(filters);
  const bucket = bucketFor(filters);
  const cubeMeasure: CubeMeasure = params.get('cube') === 'bottomBoxShare' ? 'bottomBoxShare' : 'nps';

  const scores = useApi<MetricsResponse>('/metrics', {
    ...selection,
    measures: 'nps,csat,ces,responses,topBoxShare,bottomBoxShare,poorShare',
    // The previous period needs both ends of this one.
    compare: filters.from && filters.to ? 'previousPeriod' : undefined,
  });
  const trend = useApi<MetricsResponse>('/metrics', { ...selection, measures: 'nps,csat', by: bucket });
  const cube = useApi<MetricsResponse>('/metrics', {
    ...selection,
    measures: 'nps,bottomBoxShare',
    by: 'lifecycleStage,personalityType,touchpoint',
    compare: 'rest',
  });

  // `tp:overview-visible`: the scores, the trend and the cube are on screen (the speed target of
  // the dashboard, measured by npm run bench:web and the browser tests).
  const marked = useRef(false);
  const ready = Boolean(scores.data && trend.data && cube.data);
  useEffect(() => {
    if (!ready || marked.current) return;
    marked.current = true;
    requestAnimationFrame(() => performance.mark('tp:overview-visible'));
  }, [ready]);

  return (
    <>
      <h1>Overview</h1>
      <FilterBar />
      <section className="section" aria-labelledby="scores-title">
        <h2 id="scores-title">Scores and extremes</h2>
        <Loadable state={scores} label="Loading the scores…">
          {(data) => <Scores data={data} />}
        </Loadable>
      </section>
      <section className="panel" aria-labelledby="trend-title">
        <h2 id="trend-title">Trend</h2>
        <Loadable state={trend} label="Loading the trend…">
          {(data) => <Trend data={data} bucket={bucket} />}
        </Loadable>
      </section>
      <section className="panel" aria-labelledby="cube-title">
        <h2 id="cube-title">Life-cycle × personality × touchpoint</h2>
        <p className="muted">
          Each cell compared with all other encounters. Select a cell to see its extreme encounters.
        </p>
        <Choice
          legend="Show"
          name="cube-measure"
          value={cubeMeasure}
          options={CUBE_MEASURES}
          onChange={(value) => setParams({ cube: value === 'nps' ? null : value }, { replace: true })}
        />
        <Loadable state={cube} label="Loading the experience cube…">
          {(data) => {
            if (data.rows.length === 0) return <Empty title="No feedback in this period and selection" />;
            const rowsOf = ordered(
              data.rows.map((row) => row.group.lifecycleStage ?? null),
              STAGES,
            ).flatMap((stage) =>
              ordered(
                data.rows
                  .filter((row) => row.group.lifecycleStage === stage)
                  .map((row) => row.group.personalityType),
                PERSONALITIES,
              ).map((type) => ({ key: `${stage}|${type}`, label: humanize(type), group: humanize(stage) })),
            );
            const columns = ordered(
              data.rows.map((row) => row.group.touchpoint ?? null),
              [],
            ).map((touchpoint) => ({ key: String(touchpoint), label: humanize(touchpoint) }));
            const cells: HeatCell[] = data.rows.map((row) => {
              const result = row.measures[cubeMeasure];
              return {
                row: `${row.group.lifecycleStage}|${row.group.personalityType}`,
                column: String(row.group.touchpoint),
                value: result?.value ?? null,
                n: result?.n ?? 0,
                lowSample: result?.lowSample ?? true,
                direction: result?.comparison?.direction ?? null,
              };
            });
            const info = MEASURES[cubeMeasure];
            return (
              <Heatmap
                caption={`${info.label} by life-cycle stage, personality type and touchpoint`}
                rowHeaders={['Life-cycle stage', 'Personality type']}
                rows={rowsOf}
                columns={columns}
                cells={cells}
                format={(value) => formatMeasure(cubeMeasure, value)}
                higherIsBetter={info.higherIsBetter !== false}
                against="the rest"
                selectHint="show its extreme encounters"
                canSelect={(cell) => !`${cell.row}|${cell.column}`.split('|').includes('null')}
                onSelect={(cell) => {
                  const [lifecycleStage = '', personalityType = ''] = cell.row.split('|');
                  navigate(
                    withFilters('/extremes', search, {
                      lifecycleStage,
                      personalityType,
                      touchpoint: cell.column,
                    }),
                  );
                }}
              />
            );
          }}
        </Loadable>
      </section>
    </>
  );
}
