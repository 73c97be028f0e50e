import { type ReactNode, useState } from 'react';
import { Link } from 'wouter';
import { type ApiError, api } from '../api';
import type { CaseListResponse } from '../components/CaseParts';
import { CaseTable } from '../components/CaseTable';
import { Choice } from '../components/Choice';
import {
  type CustomerProfile,
  type CustomerRecord,
  CustomerTimeline,
  KIND_PLURALS,
  type TimelineItem,
} from '../components/CustomerTimeline';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loadable } from '../components/Loadable';
import { Loading } from '../components/Loading';
import { formatDateTime, formatNumber, humanize } from '../format';
import type { PageProps } from '../routes';
import { useApi } from '../useApi';
import './cases.css';

const PAGE = 50;
const PERSONALITY: Record<string, string> = {
  prompt: 'Prompt — wants matters dealt with quickly, self-service, no extras',
  relationship: 'Relationship — values a personal relationship, the same agent, conversation',
  unknown: 'Unknown',
};
const BAD = new Set(['disastrous', 'poor']);
const LOST = new Set(['churn', 'cancellation', 'downgrade', 'contract_end']);

/** The timeline's first page comes with the profile; "Show more" appends the next pages. */
const useTimeline = (externalId: string, first: CustomerProfile | undefined) => {
  const [extra, setExtra] = useState<{
    key: string;
    items: TimelineItem[];
    cursor: string | null;
    loading: boolean;
    error?: ApiError;
  }>({ key: '', items: [], cursor: null, loading: false });
  const own = extra.key === externalId ? extra : null;
  const cursor = own ? own.cursor : (first?.timeline.nextCursor ?? null);
  const more = async () => {
    setExtra({ key: externalId, items: own?.items ?? [], cursor, loading: true });
    try {
      const page = await api<CustomerProfile>(`/customers/${encodeURIComponent(externalId)}`, {
        query: { limit: PAGE, cursor },
      });
      setExtra({
        key: externalId,
        items: [...(own?.items ?? []), ...page.timeline.items],
        cursor: page.timeline.nextCursor,
        loading: false,
      });
    } catch (error) {
      setExtra({
        key: externalId,
        items: own?.items ?? [],
        cursor,
        loading: false,
        error: error as ApiError,
      });
    }
  };
  return { items: [...(first?.timeline.items ?? []), ...(own?.items ?? [])], cursor, more, extra: own };
};

const Fact = ({ term, children }: { term: string; children: ReactNode }) => (
  <div className="fact">
    <dt>{term}</dt>
    <dd>{children}</dd>
  </div>
);

const Profile = ({ profile }: { profile: CustomerProfile }) => {
  const { customer, summary, lifecycleHistory } = profile;
  const attributes = Object.entries(customer.attributes).filter(
    ([, value]) => value !== null && ['string', 'number', 'boolean'].includes(typeof value),
  );
  return (
    <section className="panel" aria-labelledby="profile-title">
      <h2 id="profile-title">Profile</h2>
      <dl className="facts">
        <Fact term="External id">
          <code>{customer.externalId}</code>
        </Fact>
        <Fact term="Segment">{humanize(customer.segment)}</Fact>
        <Fact term="Value">{customer.value === null ? '–' : formatNumber(customer.value, 0)}</Fact>
        <Fact term="Life-cycle stage">{humanize(customer.lifecycleStage)}</Fact>
        <Fact term="Personality type">
          {PERSONALITY[customer.personalityType] ?? humanize(customer.personalityType)}
        </Fact>
        <Fact term="E-mail">{customer.email ?? '–'}</Fact>
        <Fact term="Phone">{customer.phone ?? '–'}</Fact>
        <Fact term="Locale">{customer.locale ?? '–'}</Fact>
        {attributes.map(([name, value]) => (
          <Fact key={name} term={humanize(name)}>
            {String(value)}
          </Fact>
        ))}
        <Fact term="Contacts">{formatNumber(summary.interactions)}</Fact>
        <Fact term="Feedback">{formatNumber(summary.feedback)}</Fact>
        <Fact term="Events">{formatNumber(summary.events)}</Fact>
        <Fact term="Last contact">{summary.lastContactAt ? formatDateTime(summary.lastContactAt) : '–'}</Fact>
        <Fact term="Customer since">{formatDateTime(customer.createdAt)}</Fact>
      </dl>
      <h3 className="subheading">Life-cycle history</h3>
      {lifecycleHistory.length === 0 ? (
        <p className="muted">No stage changes recorded.</p>
      ) : (
        <ol className="stage-history">
          {lifecycleHistory.map((entry) => (
            <li key={`${entry.changedAt}:${entry.lifecycleStage}`}>
              <strong>{humanize(entry.lifecycleStage)}</strong> since{' '}
              <time dateTime={entry.changedAt}>{formatDateTime(entry.changedAt)}</time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
};

/**
 * The profile has no risk score: these signals are read from the timeline entries loaded so far
 * (newest first), and say how far back they reach.
 */
const Signals = ({
  customer,
  items,
  complete,
}: {
  customer: CustomerRecord;
  items: TimelineItem[];
  complete: boolean;
}) => {
  const feedback = items.filter((item) => item.kind === 'feedback');
  const bad = feedback.filter((item) => item.experienceRating && BAD.has(item.experienceRating));
  const lastNps = feedback.find((item) => item.nps !== null);
  const lost = items.filter((item) => item.kind === 'event' && LOST.has(item.type));
  const oldest = items.at(-1)?.occurredAt;
  return (
    <section className="panel" aria-labelledby="signals-title">
      <h2 id="signals-title">Risk signals</h2>
      <ul className="signals">
        <li className={bad.length > 0 ? 'signal-bad' : undefined}>
          <strong>{bad.length}</strong> poor or disastrous encounter{bad.length === 1 ? '' : 's'} of{' '}
          {feedback.length} feedback
        </li>
        <li>
          Latest NPS:{' '}
          <strong>{lastNps ? `${lastNps.nps} (${formatDateTime(lastNps.occurredAt)})` : 'none'}</strong>
        </li>
        <li className={lost.length > 0 ? 'signal-bad' : undefined}>
          Cancellation or churn events: <strong>{lost.length}</strong>
        </li>
        <li>
          Stage: <strong>{humanize(customer.lifecycleStage)}</strong>
          {customer.lifecycleStage === 'ending' && ' — the customer is on the way out'}
        </li>
      </ul>
      <p className="muted signals-note">
        Counted from {complete ? 'the whole timeline' : `the ${items.length} most recent timeline entries`}
        {oldest && !complete ? ` (back to ${formatDateTime(oldest)}; load more below to count further)` : ''}.
      </p>
    </section>
  );
};

const CASE_SCOPES = [
  { value: 'active', label: 'Active cases' },
  { value: 'any', label: 'All cases' },
] as const;

const CustomerCases = ({ externalId }: { externalId: string }) => {
  const [scope, setScope] = useState<'active' | 'any'>('active');
  const cases = useApi<CaseListResponse>('/cases', {
    customerId: externalId,
    status: scope === 'active' ? 'active' : undefined,
    limit: 50,
  });
  return (
    <section aria-labelledby="cases-title">
      <h2 id="cases-title">Cases</h2>
      <Choice legend="Show" name="customer-cases" value={scope} options={CASE_SCOPES} onChange={setScope} />
      <Loadable state={cases} label="Loading the customer's cases…">
        {(data) =>
          data.items.length === 0 ? (
            <Empty title={scope === 'active' ? 'No active cases' : 'No cases'}>
              {scope === 'active'
                ? 'Nothing is open for this customer that you can see.'
                : 'No case has been opened for this customer that you can see.'}
            </Empty>
          ) : (
            <CaseTable
              caption={`${scope === 'active' ? 'Active' : 'All'} cases of this customer, newest first`}
              cases={data.items}
              hideCustomer
            />
          )
        }
      </Loadable>
    </section>
  );
};

const KIND_FILTERS = [
  { value: 'all', label: 'Everything' },
  ...(Object.keys(KIND_PLURALS) as TimelineItem['kind'][]).map((kind) => ({
    value: kind,
    label: KIND_PLURALS[kind],
  })),
] as { value: 'all' | TimelineItem['kind']; label: string }[];

/** The router decodes the path except reserved characters (an id with "/" arrives as %2F). */
const decodeParam = (value: string | undefined): string => {
  if (!value) return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

export default function Customer({ params }: PageProps) {
  const externalId = decodeParam(params.externalId);
  const state = useApi<CustomerProfile>(`/customers/${encodeURIComponent(externalId)}`, { limit: PAGE });
  // Only the data of this customer (a new id keeps the old answer while loading).
  const profile = state.data?.customer.externalId === externalId ? state.data : undefined;
  const timeline = useTimeline(externalId, profile);
  const [kind, setKind] = useState<'all' | TimelineItem['kind']>('all');

  if (state.error) {
    return (
      <>
        <h1>Customer {externalId}</h1>
        <ErrorMessage
          title={state.error.status === 404 ? 'No such customer' : 'Could not load the customer'}
          error={state.error}
          onRetry={state.error.status === 404 ? undefined : state.reload}
        />
        <p>
          <Link href="/cases">Back to the cases</Link>
        </p>
      </>
    );
  }
  if (!profile) {
    return (
      <>
        <h1>Customer {externalId}</h1>
        <Loading label="Loading the customer…" />
      </>
    );
  }
  const shown = kind === 'all' ? timeline.items : timeline.items.filter((item) => item.kind === kind);
  const kindLabel = KIND_FILTERS.find((option) => option.value === kind)?.label ?? '';

  return (
    <>
      <h1>
        {profile.customer.name ?? profile.customer.externalId}
        <span className="heading-note"> Customer 360</span>
      </h1>
      <div className="customer-top">
        <Profile profile={profile} />
        <Signals customer={profile.customer} items={timeline.items} complete={timeline.cursor === null} />
      </div>
      <CustomerCases externalId={externalId} />
      <section aria-labelledby="timeline-title">
        <h2 id="timeline-title">Timeline</h2>
        <p className="muted">
          Every contact, feedback, business event and follow-up across channels, newest first.
        </p>
        <Choice legend="Show" name="timeline-kind" value={kind} options={KIND_FILTERS} onChange={setKind} />
        {shown.length === 0 ? (
          <Empty
            title={kind === 'all' ? 'Nothing on the timeline yet' : `No ${kindLabel.toLowerCase()} loaded`}
          >
            {timeline.cursor
              ? 'Load more of the timeline below.'
              : 'Records arrive through the API or imports.'}
          </Empty>
        ) : (
          <CustomerTimeline items={shown} />
        )}
        <p role="status">
          {timeline.items.length} timeline entries loaded
          {kind !== 'all' ? `, ${shown.length} of them ${kindLabel.toLowerCase()}` : ''}
          {timeline.cursor ? '; there are more.' : '; that is all.'}
        </p>
        {timeline.extra?.error && <ErrorMessage error={timeline.extra.error} onRetry={timeline.more} />}
        {timeline.cursor && (
          <button type="button" onClick={timeline.more} disabled={timeline.extra?.loading}>
            {timeline.extra?.loading ? 'Loading…' : `Load ${PAGE} more`}
          </button>
        )}
      </section>
    </>
  );
}
