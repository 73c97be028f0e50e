import { useMemo } from 'react';
import { Choice } from '../components/Choice';
import { DirectionMarker } from '../components/DirectionMarker';
import { Empty } from '../components/Empty';
import { FilterBar } from '../components/FilterBar';
import { LineChart } from '../components/LineChart';
import { Loadable } from '../components/Loadable';
import { TableScroll } from '../components/TableScroll';
import { bucketFor, filterQuery, useFilters } from '../filters';
import { formatMargin, formatMeasure, formatNumber, humanize, MEASURES } from '../format';
import { BUCKET_LABELS, type Bucket, gapNote, trendOf } from '../trend';
import type { Measure, MetricsResponse, MetricsRow } from '../types';
import { useApi } from '../useApi';

const COLUMNS: Measure[] = [
  'nps',
  'csat',
  'ces',
  'bottomBoxShare',
  'avgWaitSeconds',
  'transferRate',
  'firstContactResolution',
  'repeatContactRate',
  'contacts',
];
const GROUPINGS = [
  { value: 'touchpoint', label: 'Touchpoint' },
  { value: 'channel', label: 'Channel' },
] as const;
type Grouping = (typeof GROUPINGS)[number]['value'];
const BUCKETS = [
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
] as const;

/** One measure of one row: value, ▲/▼ against the rest, margin (or p90 for the wait), greyed when low n. */
const MeasureCell = ({ measure, row }: { measure: Measure; row: MetricsRow }) => {
  const result = row.measures[measure];
  if (!result || result.value === null) {
    return (
      <td className="number">
        <span aria-hidden="true">–</span>
        <span className="visually-hidden">no data</span>
      </td>
    );
  }
  const below =
    measure === 'avgWaitSeconds'
      ? result.p90 != null && `p90 ${formatNumber(result.p90)} s`
      : measure !== 'contacts' && formatMargin(measure, result.moe);
  return (
    <td className={`number${result.lowSample ? ' low-sample' : ''}`}>
      {formatMeasure(measure, result.value)}
      <DirectionMarker
        direction={result.lowSample ? null : result.comparison?.direction}
        against="the rest"
      />
      {below && <span className="cell-margin">{below}</span>}
      {result.lowSample && <span className="cell-margin">low sample (n {formatNumber(result.n)})</span>}
    </td>
  );
};

const Table = ({ data, grouping }: { data: MetricsResponse; grouping: Grouping }) => {
  const caption = `Experience and operations by ${grouping}, each compared with the rest`;
  return (
    <TableScroll label={caption}>
      <table className="data-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{grouping === 'touchpoint' ? 'Touchpoint' : 'Channel'}</th>
            {COLUMNS.map((measure) => (
              <th key={measure} scope="col" className="number">
                {MEASURES[measure].label}
                {measure === 'avgWaitSeconds' ? ' (seconds)' : MEASURES[measure].unit === '%' ? ' (%)' : ''}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.rows.map((row) => (
            <tr key={String(row.group[grouping])}>
              <th scope="row">{humanize(row.group[grouping])}</th>
              {COLUMNS.map((measure) => (
                <MeasureCell key={measure} measure={measure} row={row} />
              ))}
            </tr>
          ))}
          <tr className="total">
            <th scope="row">All</th>
            {COLUMNS.map((measure) => (
              <MeasureCell key={measure} measure={measure} row={data.total} />
            ))}
          </tr>
        </tbody>
      </table>
    </TableScroll>
  );
};

const SCORE_LINES = [
  { measure: 'nps', label: 'NPS (points)' },
  { measure: 'csat', label: 'CSAT (% satisfied)' },
  { measure: 'ces', label: 'CES (% easy)' },
] as const;
const WAIT_LINES = [{ measure: 'avgWaitSeconds', label: 'Average wait (seconds)' }] as const;

const Trend = ({ data, bucket, name }: { data: MetricsResponse; bucket: Bucket; name: string }) => {
  const scores = useMemo(() => trendOf(data, bucket, SCORE_LINES), [data, bucket]);
  const waits = useMemo(() => trendOf(data, bucket, WAIT_LINES), [data, bucket]);
  if (scores.x.length === 0) return <Empty title={`No data for ${name} in this period`} />;
  return (
    <>
      <LineChart
        title={`${name}: NPS, CSAT and CES by ${bucket}`}
        x={scores.x}
        series={scores.series}
        xLabel={BUCKET_LABELS[bucket]}
        yLabel="NPS points, CSAT and CES %"
      />
      <LineChart
        title={`${name}: average wait by ${bucket}`}
        x={waits.x}
        series={waits.series}
        xLabel={BUCKET_LABELS[bucket]}
        yLabel="Seconds"
        height={200}
      />
      {scores.gaps + waits.gaps > 0 && <p className="muted">{gapNote(bucket, data.minN)}</p>}
    </>
  );
};

export default function Touchpoints() {
  const { filters, params, setParams } = useFilters();
  const grouping: Grouping = params.get('by') === 'channel' ? 'channel' : 'touchpoint';
  const selection = filterQuery(filters);
  // One touchpoint has fewer answers per day or week than all together: the user may take longer buckets.
  const asked = params.get('bucket');
  const bucket: Bucket =
    asked === 'day' || asked === 'week' || asked === 'month' ? asked : bucketFor(filters);

  const table = useApi<MetricsResponse>('/metrics', {
    ...selection,
    measures: COLUMNS.join(','),
    by: grouping,
    compare: 'rest',
  });
  // The trend follows the chosen row, else the one with the most contacts.
  const names = (table.data?.rows ?? [])
    .filter((row) => row.group[grouping])
    .sort((a, b) => (b.measures.contacts?.value ?? 0) - (a.measures.contacts?.value ?? 0))
    .map((row) => row.group[grouping] as string);
  const chosen = params.get('trend') ?? filters.values[grouping] ?? names[0] ?? null;
  const trend = useApi<MetricsResponse>(chosen === null ? null : '/metrics', {
    ...filterQuery(filters, { [grouping]: chosen ?? '' }),
    measures: 'nps,csat,ces,avgWaitSeconds',
    by: bucket,
  });

  return (
    <>
      <h1>Touchpoints and channels</h1>
      <FilterBar />
      <section className="panel" aria-labelledby="table-title">
        <h2 id="table-title">Measures per {grouping}</h2>
        <Choice
          legend="Group by"
          name="grouping"
          value={grouping}
          options={GROUPINGS}
          onChange={(value) =>
            setParams({ by: value === 'touchpoint' ? null : value, trend: null }, { replace: true })
          }
        />
        <Loadable state={table} label={`Loading the ${grouping}s…`}>
          {(data) =>
            data.rows.length === 0 ? (
              <Empty title="No contacts or feedback in this period and selection" />
            ) : (
              <>
                <Table data={data} grouping={grouping} />
                <p className="muted">
                  ▲ / ▼ significantly higher / lower than all other {grouping}s (95%, corrected for multiple
                  comparisons); ± is the 95% margin; grey cells have too few answers to trust.
                </p>
              </>
            )
          }
        </Loadable>
      </section>
      <section className="panel" aria-labelledby="trend-title">
        <h2 id="trend-title">Trend</h2>
        <div className="controls">
          {names.length > 0 && (
            <label className="inline-label">
              {grouping === 'touchpoint' ? 'Touchpoint' : 'Channel'}
              <select
                value={chosen ?? ''}
                onChange={(event) => setParams({ trend: event.target.value }, { replace: true })}
              >
                {(chosen && !names.includes(chosen) ? [chosen, ...names] : names).map((name) => (
                  <option key={name} value={name}>
                    {humanize(name)}
                  </option>
                ))}
              </select>
            </label>
          )}
          <Choice
            legend="Points per"
            name="bucket"
            value={bucket}
            options={BUCKETS}
            onChange={(value) => setParams({ bucket: value }, { replace: true })}
          />
        </div>
        {chosen === null ? (
          table.error ? null : (
            <Empty title="Nothing to draw yet">Choose a {grouping} once the table has loaded.</Empty>
          )
        ) : (
          <Loadable state={trend} label="Loading the trend…">
            {(data) => <Trend data={data} bucket={bucket} name={humanize(chosen)} />}
          </Loadable>
        )}
      </section>
    </>
  );
}
