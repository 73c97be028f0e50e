import { Link } from 'wouter';
import { formatDateTime, formatNumber, humanize } from '../format';
import { scoresText } from './CaseParts';

/** GET /api/v1/customers/:externalId (src/server/routes/records.ts). */

export interface CustomerRecord {
  externalId: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  segment: string | null;
  lifecycleStage: string | null;
  personalityType: string;
  value: number | null;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

interface AtEncounter {
  lifecycleStage: string | null;
  personalityType: string | null;
  segment: string | null;
}

export interface InteractionItem {
  kind: 'interaction';
  externalId: string;
  channel: string;
  touchpoint: string | null;
  occurredAt: string;
  agent: string | null;
  team: string | null;
  waitSeconds: number | null;
  handleSeconds: number | null;
  transfers: number | null;
  resolved: boolean | null;
  outcome: string | null;
  atEncounter: AtEncounter;
}

export interface FeedbackItem {
  kind: 'feedback';
  externalId: string;
  interactionId: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  occurredAt: string;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  text: string | null;
  experienceRating: string | null;
  atEncounter: AtEncounter;
}

export interface EventItem {
  kind: 'event';
  externalId: string;
  type: string;
  occurredAt: string;
  amount: number | null;
  attributes: Record<string, unknown>;
}

export interface FollowUpItem {
  kind: 'followUp';
  id: number;
  caseId: number;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  actor: string;
  occurredAt: string;
}

export type TimelineItem = InteractionItem | FeedbackItem | EventItem | FollowUpItem;

export interface CustomerProfile {
  customer: CustomerRecord;
  summary: { interactions: number; feedback: number; events: number; lastContactAt: string | null };
  lifecycleHistory: { lifecycleStage: string | null; changedAt: string }[];
  timeline: { items: TimelineItem[]; nextCursor: string | null };
}

export const KIND_LABELS: Record<TimelineItem['kind'], string> = {
  interaction: 'Contact',
  feedback: 'Feedback',
  event: 'Event',
  followUp: 'Follow-up',
};
export const KIND_PLURALS: Record<TimelineItem['kind'], string> = {
  interaction: 'Contacts',
  feedback: 'Feedback',
  event: 'Events',
  followUp: 'Follow-ups',
};
const ACRONYMS: Record<string, string> = { ivr: 'IVR', sms: 'SMS' };
/** A channel or touchpoint as text (IVR and SMS stay capitals). */
export const placeName = (value: string | null | undefined): string =>
  (value && ACRONYMS[value.toLowerCase()]) || humanize(value);
const KIND_ICONS: Record<TimelineItem['kind'], string> = {
  interaction: '☎',
  feedback: '✎',
  event: '◆',
  followUp: '↩',
};

const seconds = (value: number | null, label: string) =>
  value === null
    ? null
    : `${label} ${value >= 120 ? `${formatNumber(value / 60, 0)} min` : `${formatNumber(value)} s`}`;

const InteractionBody = ({ item }: { item: InteractionItem }) => {
  const facts = [
    item.agent && `agent ${item.agent}`,
    item.team && `team ${item.team}`,
    seconds(item.waitSeconds, 'waited'),
    seconds(item.handleSeconds, 'handled in'),
    item.transfers ? `${item.transfers} transfer${item.transfers === 1 ? '' : 's'}` : null,
    item.resolved === true ? 'resolved' : item.resolved === false ? 'not resolved' : null,
    item.outcome && !/^(not )?resolved$/i.test(item.outcome.replace(/_/g, ' ')) && humanize(item.outcome),
  ].filter(Boolean);
  return <p className="timeline-facts">{facts.length ? facts.join(' · ') : 'No details recorded'}</p>;
};

const FeedbackBody = ({ item }: { item: FeedbackItem }) => {
  const scores = scoresText(item);
  return (
    <>
      <p className="timeline-facts">
        {item.experienceRating && (
          <span className={`rating-chip rating-chip-${item.experienceRating}`}>{item.experienceRating}</span>
        )}{' '}
        {scores || 'No scores'} · {humanize(item.source)}
      </p>
      {item.text ? (
        <blockquote className="timeline-comment">{item.text}</blockquote>
      ) : (
        <p className="muted timeline-facts">No comment</p>
      )}
    </>
  );
};

const EventBody = ({ item }: { item: EventItem }) => {
  const reason = typeof item.attributes.reason === 'string' ? item.attributes.reason : null;
  return (
    <p className="timeline-facts">
      {humanize(item.type)}
      {item.amount !== null && ` · amount ${formatNumber(item.amount, 2)}`}
      {reason && ` · reason: ${reason}`}
    </p>
  );
};

const FollowUpBody = ({ item }: { item: FollowUpItem }) => (
  <>
    <p className="timeline-facts">
      {item.channel === 'call' ? 'Call' : 'E-mail'} by {item.actor} ·{' '}
      {item.status === 'failed' ? <strong className="text-danger">not sent</strong> : humanize(item.status)}
      {item.outcome && ` · ${humanize(item.outcome)}`} ·{' '}
      <Link href={`/cases/${item.caseId}`}>case #{item.caseId}</Link>
    </p>
    {item.subject && <p className="timeline-facts">Subject: {item.subject}</p>}
    <blockquote className="timeline-comment">{item.body}</blockquote>
  </>
);

/** Where an item happened: touchpoint and channel. */
const where = (item: TimelineItem): string => {
  if (item.kind === 'interaction') return [placeName(item.touchpoint), placeName(item.channel)].join(' · ');
  if (item.kind === 'feedback')
    return [item.touchpoint && placeName(item.touchpoint), item.channel && placeName(item.channel)]
      .filter(Boolean)
      .join(' · ');
  if (item.kind === 'followUp') return item.channel === 'call' ? 'Phone' : 'E-mail';
  return '';
};

const keyOf = (item: TimelineItem) =>
  item.kind === 'followUp' ? `f${item.id}` : `${item.kind}:${item.externalId}`;

/** The cross-channel timeline, newest first, each item marked by kind (icon and text). */
export const CustomerTimeline = ({ items }: { items: TimelineItem[] }) => (
  <ol className="timeline">
    {items.map((item) => {
      const place = where(item);
      return (
        <li key={keyOf(item)} className={`timeline-item timeline-${item.kind}`}>
          <span className="timeline-icon" aria-hidden="true">
            {KIND_ICONS[item.kind]}
          </span>
          <div className="timeline-body">
            <p className="timeline-head">
              <span className="timeline-kind">{KIND_LABELS[item.kind]}</span>
              {place && <span> · {place}</span>}
              <time className="timeline-time" dateTime={item.occurredAt}>
                {formatDateTime(item.occurredAt)}
              </time>
            </p>
            {item.kind === 'interaction' && <InteractionBody item={item} />}
            {item.kind === 'feedback' && <FeedbackBody item={item} />}
            {item.kind === 'event' && <EventBody item={item} />}
            {item.kind === 'followUp' && <FollowUpBody item={item} />}
          </div>
        </li>
      );
    })}
  </ol>
);
