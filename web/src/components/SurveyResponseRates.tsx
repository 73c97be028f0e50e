import { useState } from 'react';
import { formatNumber, humanize } from '../format';
import { useApi } from '../useApi';
import { Choice } from './Choice';
import { Empty } from './Empty';
import { Loadable } from './Loadable';
import type { Funnel, ResponseRatesResponse } from './SurveyModel';
import { TableScroll } from './TableScroll';

/** The invitation funnel of one survey: invited → sent → opened → started → answered, by a dimension. */

const GROUPINGS = [
  { value: 'channel', label: 'Channel' },
  { value: 'touchpoint', label: 'Touchpoint' },
  { value: 'trigger', label: 'Trigger' },
  { value: 'language', label: 'Language' },
  { value: 'segment', label: 'Segment' },
] as const;
type Grouping = (typeof GROUPINGS)[number]['value'];

const share = (part: number, whole: number) =>
  whole > 0 ? `${formatNumber((part / whole) * 100, 0)}%` : '–';

export const formatRate = (rate: number | null) => (rate === null ? '–' : `${formatNumber(rate, 1)}%`);

/** The counts of a funnel as table cells, in the order of FUNNEL_COLUMNS. */
export const FUNNEL_COLUMNS = [
  { key: 'invited', label: 'Invited', hint: 'all but the suppressed' },
  { key: 'delivered', label: 'Sent', hint: 'handed to the channel or issued as a link' },
  { key: 'opened', label: 'Opened', hint: '' },
  { key: 'started', label: 'Started', hint: 'at least one answer' },
  { key: 'completed', label: 'Answered', hint: 'completed' },
] as const;

const Tiles = ({ total }: { total: Funnel }) => (
  <dl className="sq-funnel">
    {FUNNEL_COLUMNS.map((column) => (
      <div key={column.key}>
        <dt>{column.label}</dt>
        <dd>
          {formatNumber(total[column.key])}
          {column.key !== 'invited' && column.key !== 'delivered' && (
            <span className="sq-funnel-share"> {share(total[column.key], total.delivered)} of sent</span>
          )}
        </dd>
      </div>
    ))}
    <div className="sq-funnel-rate">
      <dt>Response rate</dt>
      <dd>
        {formatRate(total.responseRate)}
        <span className="sq-funnel-share"> answered ÷ sent</span>
      </dd>
    </div>
    <div>
      <dt>Suppressed</dt>
      <dd>
        {formatNumber(total.suppressed)}
        <span className="sq-funnel-share"> by contact rules, opt-outs, missing addresses</span>
      </dd>
    </div>
    <div>
      <dt>Failed</dt>
      <dd>{formatNumber(total.failed)}</dd>
    </div>
  </dl>
);

export const SurveyResponseRates = ({ surveyId }: { surveyId: number }) => {
  const [by, setBy] = useState<Grouping>('channel');
  const rates = useApi<ResponseRatesResponse>('/surveys/response-rates', { surveyId, by });
  const label = GROUPINGS.find((grouping) => grouping.value === by)?.label ?? by;
  const caption = `Invitations to this survey by ${label.toLowerCase()}`;
  return (
    <Loadable state={rates} label="Loading the response rates…">
      {(data) =>
        data.total.invited + data.total.suppressed === 0 ? (
          <Empty title="No invitations yet">
            Response rates appear once this survey's triggers (or the API) invite customers.
          </Empty>
        ) : (
          <>
            <Tiles total={data.total} />
            <Choice legend="Break down by" name="rates-by" value={by} options={GROUPINGS} onChange={setBy} />
            <TableScroll label={caption}>
              <table className="data-table">
                <caption>{caption}</caption>
                <thead>
                  <tr>
                    <th scope="col">{label}</th>
                    {FUNNEL_COLUMNS.map((column) => (
                      <th key={column.key} scope="col" className="number">
                        {column.label}
                      </th>
                    ))}
                    <th scope="col" className="number">
                      Response rate
                    </th>
                    <th scope="col" className="number">
                      Suppressed
                    </th>
                    <th scope="col" className="number">
                      Failed
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((row) => (
                    <tr key={String(row.group[by])}>
                      <th scope="row">
                        {by === 'trigger'
                          ? row.group[by]
                            ? `Trigger ${row.group[by]}`
                            : 'By API or link'
                          : by === 'language'
                            ? (row.group[by] ?? '(none)')
                            : humanize(row.group[by])}
                      </th>
                      {FUNNEL_COLUMNS.map((column) => (
                        <td key={column.key} className="number">
                          {formatNumber(row[column.key])}
                        </td>
                      ))}
                      <td className="number">{formatRate(row.responseRate)}</td>
                      <td className="number">{formatNumber(row.suppressed)}</td>
                      <td className="number">{formatNumber(row.failed)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          </>
        )
      }
    </Loadable>
  );
};
