import { type FormEvent, type ReactNode, useState } from 'react';
import { useLocation } from 'wouter';
import { type ApiError, api, apiUrl, type Query } from '../api';
import {
  CASE_STATUSES,
  type CaseListResponse,
  type CaseStatus,
  type CaseSummary,
  PRIORITIES,
  SEVERITIES,
  STATUS_LABELS,
} from '../components/CaseParts';
import { CaseTable } from '../components/CaseTable';
import { Choice } from '../components/Choice';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loadable } from '../components/Loadable';
import { useSearchParam } from '../filters';
import type { PageProps } from '../routes';
import { useSession } from '../session';
import type { Role } from '../types';
import { useApi } from '../useApi';
import './cases.css';

type View = 'me' | 'myTeams' | 'all' | 'unassigned';
const VIEW_LABELS: Record<View, string> = {
  me: 'My cases',
  myTeams: 'My teams',
  all: 'All',
  unassigned: 'Unassigned',
};
/** Agents only ever get their own cases, so they see no choice of view. */
const VIEWS_BY_ROLE: Record<Role, View[]> = {
  admin: ['me', 'myTeams', 'all', 'unassigned'],
  manager: ['me', 'myTeams', 'all', 'unassigned'],
  analyst: ['all', 'unassigned', 'me', 'myTeams'],
  agent: ['me'],
};
const DEFAULT_VIEW: Record<Role, View> = { admin: 'all', manager: 'myTeams', analyst: 'all', agent: 'me' };

const STATUS_OPTIONS = [
  { value: 'active', label: 'Active (not yet resolved)' },
  ...CASE_STATUSES.map((status) => ({ value: status, label: STATUS_LABELS[status] })),
  { value: 'any', label: 'Any status' },
];
const PAGE = 50;

const viewQuery = (view: View): Query => {
  if (view === 'me') return { assigned: 'me' };
  if (view === 'myTeams') return { assigned: 'myTeams' };
  if (view === 'unassigned') return { owner: 'none' };
  return {};
};

/** The first page follows the filters; "Show more" appends older pages (nextBefore) until they change. */
const useCaseList = (query: Query) => {
  const first = useApi<CaseListResponse>('/cases', query);
  const key = apiUrl('/cases', query);
  const [extra, setExtra] = useState<{
    key: string;
    items: CaseSummary[];
    before: number | null;
    loading: boolean;
    error?: ApiError;
  }>({ key: '', items: [], before: null, loading: false });
  const own = extra.key === key ? extra : null;
  const before = own ? own.before : (first.data?.nextBefore ?? null);

  const more = async () => {
    setExtra({ key, items: own?.items ?? [], before, loading: true });
    try {
      const page = await api<CaseListResponse>('/cases', { query: { ...query, before } });
      setExtra({
        key,
        items: [...(own?.items ?? []), ...page.items],
        before: page.nextBefore,
        loading: false,
      });
    } catch (error) {
      setExtra({ key, items: own?.items ?? [], before, loading: false, error: error as ApiError });
    }
  };
  /** Asks for the first page again and drops the older pages (new cases arrive at the top). */
  const refresh = () => {
    setExtra({ key: '', items: [], before: null, loading: false });
    first.reload();
  };
  return {
    first,
    items: [...(first.data?.items ?? []), ...(own?.items ?? [])],
    before,
    more,
    refresh,
    extra: own,
  };
};

/** There is no customer search in the API: a customer is opened by their external id. */
const OpenCustomer = () => {
  const [, navigate] = useLocation();
  const [id, setId] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const trimmed = id.trim();
    if (trimmed) navigate(`/customers/${encodeURIComponent(trimmed)}`);
  };
  return (
    <form className="case-open-customer" onSubmit={submit} aria-label="Open a customer">
      <label>
        Customer external id
        <input
          value={id}
          onChange={(event) => setId(event.target.value)}
          placeholder="e.g. demo-c-00001"
          autoComplete="off"
          required
        />
      </label>
      <button type="submit" className="secondary">
        Open customer
      </button>
    </form>
  );
};

export default function Cases(_props: PageProps) {
  const session = useSession();
  const { params, setParams } = useSearchParam();
  const views = VIEWS_BY_ROLE[session.role];
  const wanted = params.get('view') as View | null;
  const view: View = wanted && views.includes(wanted) ? wanted : DEFAULT_VIEW[session.role];
  const status = params.get('status') ?? 'active';
  const breached = params.get('breached') === 'true';
  const priority = params.get('priority') ?? '';
  const severity = params.get('severity') ?? '';

  const query: Query = {
    ...viewQuery(view),
    status: status === 'any' ? undefined : status,
    breached: breached ? 'true' : undefined,
    priority: priority || undefined,
    severity: severity || undefined,
    limit: PAGE,
  };
  const list = useCaseList(query);

  const statusText =
    status === 'active'
      ? 'active cases'
      : status === 'any'
        ? 'cases of any status'
        : `${(STATUS_LABELS[status as CaseStatus] ?? status).toLowerCase()} cases`;
  const caption = `${VIEW_LABELS[view]}: ${statusText}${breached ? ' past an SLA due time' : ''}, newest first`;

  const table = (): ReactNode => {
    if (list.items.length === 0) {
      return (
        <Empty title="No cases in this view">
          {view === 'me'
            ? 'No case matching these filters is assigned to you. '
            : view === 'myTeams'
              ? 'No case matching these filters belongs to your teams (teams are set in the closed-loop settings). '
              : ''}
          {breached || status !== 'any' ? 'Try another status or remove "Only SLA breached".' : ''}
        </Empty>
      );
    }
    return (
      <>
        <p className="muted case-keys">
          Keyboard: Tab to a case and Enter opens it; <kbd>j</kbd> / <kbd>k</kbd> (or the arrow keys in the
          table) move to the next or previous case.
        </p>
        <CaseTable caption={caption} cases={list.items} shortcuts />
        <div className="case-list-footer">
          <p role="status">
            {list.items.length} cases shown{list.before ? '; there are more.' : '; that is all.'}
          </p>
          <button type="button" className="secondary" onClick={list.refresh} disabled={list.first.loading}>
            {list.first.loading ? 'Refreshing…' : 'Refresh the list'}
          </button>
        </div>
        {list.extra?.error && <ErrorMessage error={list.extra.error} onRetry={list.more} />}
        {list.before && (
          <button type="button" onClick={list.more} disabled={list.extra?.loading}>
            {list.extra?.loading ? 'Loading…' : `Show ${PAGE} more`}
          </button>
        )}
      </>
    );
  };

  return (
    <>
      <h1>Cases</h1>
      <p className="muted case-intro">
        Every bad encounter that matched an alert rule, with its owner and service-level clocks.
      </p>
      {views.length > 1 && (
        <Choice
          legend="Show"
          name="view"
          value={view}
          options={views.map((value) => ({ value, label: VIEW_LABELS[value] }))}
          onChange={(value) => setParams({ view: value }, { replace: true })}
        />
      )}
      <form
        className="filter-bar case-filters"
        aria-label="Case filters"
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          Status
          <select
            value={status}
            onChange={(event) =>
              setParams(
                { status: event.target.value === 'active' ? null : event.target.value },
                { replace: true },
              )
            }
          >
            {STATUS_OPTIONS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Priority
          <select
            value={priority}
            onChange={(event) => setParams({ priority: event.target.value }, { replace: true })}
          >
            <option value="">All</option>
            {PRIORITIES.map((value) => (
              <option key={value} value={value}>
                {value.toUpperCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          Severity
          <select
            value={severity}
            onChange={(event) => setParams({ severity: event.target.value }, { replace: true })}
          >
            <option value="">All</option>
            {SEVERITIES.map((value) => (
              <option key={value} value={value}>
                {value.charAt(0).toUpperCase() + value.slice(1)}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox-label">
          <input
            type="checkbox"
            checked={breached}
            onChange={(event) =>
              setParams({ breached: event.target.checked ? 'true' : null }, { replace: true })
            }
          />
          Only SLA breached
        </label>
      </form>
      <Loadable state={list.first} label="Loading the cases…">
        {table}
      </Loadable>
      <h2>Customers</h2>
      <OpenCustomer />
    </>
  );
}
