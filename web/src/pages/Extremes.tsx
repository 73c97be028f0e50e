import { type ReactNode, useState } from 'react';
import { Link } from 'wouter';
import { type ApiError, api, apiUrl, type Query } from '../api';
import { Choice } from '../components/Choice';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { FilterBar } from '../components/FilterBar';
import { Loadable } from '../components/Loadable';
import { TableScroll } from '../components/TableScroll';
import { filterQuery, useFilters } from '../filters';
import { formatDateTime, humanize } from '../format';
import type { Extreme, ExtremesResponse } from '../types';
import { useApi } from '../useApi';

const BOXES = [
  { value: 'bottom', label: 'Disastrous (bottom box)' },
  { value: 'poor', label: 'Poor' },
  { value: 'top', label: 'Fabulous (top box)' },
] as const;
type Box = (typeof BOXES)[number]['value'];
const PAGE = 50;

/** The first page follows the filters; "Show more" appends the next pages (nextCursor) until they change. */
const useExtremes = (query: Query) => {
  const first = useApi<ExtremesResponse>('/extremes', query);
  const key = apiUrl('/extremes', query);
  const [extra, setExtra] = useState<{
    key: string;
    items: Extreme[];
    cursor: string | null;
    loading: boolean;
    error?: ApiError;
  }>({ key: '', items: [], cursor: null, loading: false });
  const own = extra.key === key ? extra : null;
  const cursor = own ? own.cursor : (first.data?.nextCursor ?? null);

  const more = async () => {
    setExtra({ key, items: own?.items ?? [], cursor, loading: true });
    try {
      const page = await api<ExtremesResponse>('/extremes', { query: { ...query, cursor } });
      setExtra({
        key,
        items: [...(own?.items ?? []), ...page.items],
        cursor: page.nextCursor,
        loading: false,
      });
    } catch (error) {
      setExtra({ key, items: own?.items ?? [], cursor, loading: false, error: error as ApiError });
    }
  };
  return { first, items: [...(first.data?.items ?? []), ...(own?.items ?? [])], cursor, more, extra: own };
};

const Scores = ({ item }: { item: Extreme }) => {
  const parts = [
    item.nps !== null && `NPS ${item.nps}`,
    item.csat !== null && `CSAT ${item.csat}/5`,
    item.ces !== null && `CES ${item.ces}/7`,
  ].filter(Boolean);
  return <>{parts.length ? parts.join(' · ') : '–'}</>;
};

const Customer = ({ item }: { item: Extreme }) => {
  if (!item.customer) return <span className="muted">Unknown customer</span>;
  const { externalId, name, segment, lifecycleStage, personalityType } = item.customer;
  return (
    <>
      <Link href={`/customers/${encodeURIComponent(externalId)}`}>{name ?? externalId}</Link>
      <span className="cell-margin">
        {[segment, lifecycleStage, personalityType]
          .filter(Boolean)
          .map((value) => humanize(value))
          .join(' · ')}
      </span>
    </>
  );
};

export default function Extremes() {
  const { filters, params, setParams } = useFilters();
  const box: Box = params.get('box') === 'top' ? 'top' : params.get('box') === 'poor' ? 'poor' : 'bottom';
  const list = useExtremes({ ...filterQuery(filters), box, limit: PAGE });
  const boxLabel = BOXES.find((option) => option.value === box)?.label ?? box;

  const caption = `${boxLabel} encounters, newest first`;
  const table = (): ReactNode => {
    if (list.items.length === 0) {
      return <Empty title={`No ${boxLabel.toLowerCase()} encounters in this period and selection`} />;
    }
    return (
      <>
        <TableScroll label={caption}>
          <table className="data-table">
            <caption>{caption}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Customer</th>
                <th scope="col">Contact point</th>
                <th scope="col">Scores</th>
                <th scope="col">Comment</th>
                <th scope="col">Case</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((item) => (
                <tr key={item.feedbackId}>
                  <td>{formatDateTime(item.occurredAt)}</td>
                  <td>
                    <Customer item={item} />
                  </td>
                  <td>
                    {humanize(item.touchpoint)}
                    <span className="cell-margin">
                      {humanize(item.channel)} · {item.source}
                    </span>
                  </td>
                  <td className="scores">
                    <Scores item={item} />
                  </td>
                  <td className="comment">{item.text ?? <span className="muted">No comment</span>}</td>
                  <td>
                    {item.caseId === null ? (
                      <span className="muted">None</span>
                    ) : (
                      <Link href={`/cases/${item.caseId}`} className="nowrap">
                        Case #{item.caseId}
                      </Link>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
        <p role="status">
          {list.items.length} encounters shown{list.cursor ? '; there are more.' : '; that is all.'}
        </p>
        {list.extra?.error && <ErrorMessage error={list.extra.error} onRetry={list.more} />}
        {list.cursor && (
          <button type="button" onClick={list.more} disabled={list.extra?.loading}>
            {list.extra?.loading ? 'Loading…' : `Show ${PAGE} more`}
          </button>
        )}
      </>
    );
  };

  return (
    <>
      <h1>Extremes</h1>
      <FilterBar />
      <Choice
        legend="Encounters"
        name="box"
        value={box}
        options={BOXES}
        onChange={(value) => setParams({ box: value === 'bottom' ? null : value }, { replace: true })}
      />
      <Loadable state={list.first} label="Loading the encounters…">
        {table}
      </Loadable>
    </>
  );
}
