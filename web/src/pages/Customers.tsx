import { type FormEvent, useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api';
import type { CustomerRecord } from '../components/CustomerTimeline';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loadable } from '../components/Loadable';
import { TableScroll } from '../components/TableScroll';
import { useSearchParam } from '../filters';
import { formatNumber, humanize } from '../format';
import { useApi } from '../useApi';

interface CustomerPage {
  items: CustomerRecord[];
  nextCursor: string | null;
}

const PAGE = 50;

/** Finding a customer to open in the customer view: by id, name, e-mail or phone. */
export default function Customers() {
  const { params, setParams } = useSearchParam();
  const q = params.get('q') ?? '';
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const first = useApi<CustomerPage>('/customers', { q, limit: PAGE });
  const [more, setMore] = useState<{ for: string; items: CustomerRecord[]; cursor: string | null }>();
  const [moreError, setMoreError] = useState<Error>();
  const extra = more?.for === q ? more : undefined;

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams({ q: text.trim() || null });
  };
  const loadMore = async (cursor: string) => {
    setMoreError(undefined);
    try {
      const page = await api<CustomerPage>('/customers', { query: { q, limit: PAGE, cursor } });
      setMore({ for: q, items: [...(extra?.items ?? []), ...page.items], cursor: page.nextCursor });
    } catch (error) {
      setMoreError(error as Error);
    }
  };

  return (
    <>
      <h1>Customers</h1>
      <form className="filter-bar" aria-label="Find customers" onSubmit={submit}>
        <label>
          Find a customer
          <input
            type="search"
            value={text}
            onChange={(event) => setText(event.target.value)}
            placeholder="Id, name, e-mail or phone"
          />
        </label>
        <button type="submit">Search</button>
      </form>
      <Loadable state={first} label="Finding customers…">
        {(data) => {
          const items = [...data.items, ...(extra?.items ?? [])];
          const cursor = extra ? extra.cursor : data.nextCursor;
          if (items.length === 0) {
            return (
              <Empty title={q ? `No customer matches “${q}”` : 'No customers yet'}>
                {q
                  ? 'Try part of the name, the e-mail address or the id.'
                  : 'Customers arrive through the API or an import.'}
              </Empty>
            );
          }
          const caption = q ? `Customers matching “${q}”, by id` : 'Customers, by id';
          return (
            <>
              <TableScroll label={caption}>
                <table className="data-table">
                  <caption>{caption}</caption>
                  <thead>
                    <tr>
                      <th scope="col">Customer</th>
                      <th scope="col">Id</th>
                      <th scope="col">E-mail</th>
                      <th scope="col">Segment</th>
                      <th scope="col">Life-cycle stage</th>
                      <th scope="col">Personality</th>
                      <th scope="col">Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {items.map((customer) => (
                      <tr key={customer.externalId}>
                        <td>
                          <Link href={`/customers/${encodeURIComponent(customer.externalId)}`}>
                            {customer.name ?? customer.externalId}
                          </Link>
                        </td>
                        <td>{customer.externalId}</td>
                        <td>{customer.email ?? '–'}</td>
                        <td>{humanize(customer.segment)}</td>
                        <td>{humanize(customer.lifecycleStage)}</td>
                        <td>{humanize(customer.personalityType)}</td>
                        <td>{customer.value === null ? '–' : formatNumber(customer.value)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
              <p role="status">
                {items.length === 1 ? '1 customer' : `${items.length} customers`} shown
                {cursor ? '; there are more.' : '.'}
              </p>
              {moreError && <ErrorMessage error={moreError} onRetry={() => cursor && loadMore(cursor)} />}
              {cursor && (
                <button type="button" onClick={() => loadMore(cursor)}>
                  Show {PAGE} more
                </button>
              )}
            </>
          );
        }}
      </Loadable>
    </>
  );
}
