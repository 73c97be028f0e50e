import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api';
import {
  Assignment,
  CloseTheLoop,
  Notes,
  PlaybookSteps,
  RootCause,
  StatusActions,
} from '../components/CaseActions';
import {
  type CaseDetail as CaseData,
  type CaseListResponse,
  type ClosedLoopSettings,
  formatAge,
  PriorityBadge,
  SeverityLabel,
  SlaText,
  StatusBadge,
  scoresText,
  slaClocks,
  statusLabel,
  useNow,
} from '../components/CaseParts';
import type { EventItem, FeedbackItem, InteractionItem } from '../components/CustomerTimeline';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { formatDateTime, formatNumber, humanize } from '../format';
import type { PageProps } from '../routes';
import { useSession } from '../session';
import type { Session } from '../types';
import { useApi } from '../useApi';
import './cases.css';

// Settings are read once per page load; roles that may not read them get null (free-text inputs).
let settingsCache: { workspace: string; promise: Promise<ClosedLoopSettings | null> } | null = null;
const loadSettings = (workspace: string): Promise<ClosedLoopSettings | null> => {
  if (settingsCache?.workspace !== workspace) {
    const promise = api<ClosedLoopSettings>('/closed-loop/settings').catch(() => null);
    settingsCache = { workspace, promise };
  }
  return settingsCache.promise;
};

const useSettings = (session: Session): ClosedLoopSettings | null => {
  const [settings, setSettings] = useState<ClosedLoopSettings | null>(null);
  useEffect(() => {
    let live = true;
    loadSettings(session.workspace.slug).then((loaded) => live && setSettings(loaded));
    return () => {
      live = false;
    };
  }, [session.workspace.slug]);
  return settings;
};

/**
 * Whether the signed-in person may work this case. Admins: always; agents see only their own
 * cases; analysts never; a manager works their teams' cases, which is asked of the list
 * (assigned=myTeams is the same scope), so no settings are needed.
 */
const useCanWork = (session: Session, kase: CaseData | undefined): boolean | null => {
  const [managerScope, setManagerScope] = useState<{ key: string; ok: boolean } | null>(null);
  const key = kase ? `${kase.id}:${kase.owner}:${kase.team}` : '';
  const caseId = kase?.id;
  const isManager = session.role === 'manager';
  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the case's id, owner and team.
  useEffect(() => {
    if (!isManager || caseId === undefined) return;
    let live = true;
    api<CaseListResponse>('/cases', { query: { assigned: 'myTeams', before: caseId + 1, limit: 1 } }).then(
      (list) => live && setManagerScope({ key, ok: list.items[0]?.id === caseId }),
      // Unknown: offer the actions; the API refuses with a clear 403 if need be.
      () => live && setManagerScope({ key, ok: true }),
    );
    return () => {
      live = false;
    };
  }, [isManager, key]);
  if (!session.permissions.workCases || !kase) return false;
  if (!isManager) return true;
  // null: still asking.
  return managerScope?.key === key ? managerScope.ok : null;
};

type AlertRecord = FeedbackItem | InteractionItem | EventItem;
const RECORD_PATHS: Record<string, string> = {
  feedback: 'feedback',
  interaction: 'interactions',
  event: 'events',
};

const RecordSummary = ({ kind, record }: { kind: string; record: AlertRecord }) => {
  if (kind === 'feedback') {
    const item = record as FeedbackItem;
    return (
      <>
        <p className="timeline-facts">
          {item.experienceRating && (
            <span className={`rating-chip rating-chip-${item.experienceRating}`}>
              {item.experienceRating}
            </span>
          )}{' '}
          <strong>{scoresText(item) || 'No scores'}</strong> · {humanize(item.source)}
          {item.touchpoint && ` · ${humanize(item.touchpoint)}`}
          {item.channel && ` · ${humanize(item.channel)}`}
        </p>
        {item.text ? (
          <blockquote className="timeline-comment">{item.text}</blockquote>
        ) : (
          <p className="muted timeline-facts">No comment</p>
        )}
      </>
    );
  }
  if (kind === 'interaction') {
    const item = record as InteractionItem;
    const facts = [
      humanize(item.touchpoint),
      humanize(item.channel),
      item.waitSeconds !== null && `waited ${formatNumber(item.waitSeconds)} s`,
      item.transfers ? `${item.transfers} transfers` : null,
      item.resolved === false ? 'not resolved' : item.resolved ? 'resolved' : null,
      item.agent && `agent ${item.agent}`,
    ].filter(Boolean);
    return <p className="timeline-facts">{facts.join(' · ')}</p>;
  }
  const item = record as EventItem;
  return (
    <p className="timeline-facts">
      {humanize(item.type)}
      {item.amount !== null && ` · amount ${formatNumber(item.amount, 2)}`}
    </p>
  );
};

const KIND_NAMES: Record<string, string> = { feedback: 'Feedback', interaction: 'Contact', event: 'Event' };

const AlertEntry = ({ alert }: { alert: CaseData['alerts'][number] }) => {
  const path = RECORD_PATHS[alert.record.kind];
  const record = useApi<AlertRecord>(
    path && alert.record.externalId ? `/${path}/${encodeURIComponent(alert.record.externalId)}` : null,
  );
  let body: ReactNode;
  if (!alert.record.externalId) body = <p className="muted">The record is no longer stored.</p>;
  else if (record.error)
    body = (
      <p className="text-danger">
        Could not load {alert.record.externalId}: {record.error.message}
      </p>
    );
  else if (!record.data) body = <Loading label="Loading the record…" />;
  else body = <RecordSummary kind={alert.record.kind} record={record.data} />;
  return (
    <li className="alert-entry">
      <p className="note-head">
        <strong>{KIND_NAMES[alert.record.kind] ?? humanize(alert.record.kind)}</strong>{' '}
        {alert.record.externalId && <code>{alert.record.externalId}</code>} ·{' '}
        <SeverityLabel severity={alert.severity} /> · occurred{' '}
        <time dateTime={alert.occurredAt}>{formatDateTime(alert.occurredAt)}</time>, alert raised{' '}
        <time dateTime={alert.raisedAt}>{formatDateTime(alert.raisedAt)}</time>
      </p>
      {body}
    </li>
  );
};

const SHOWN_ALERTS = 10;
const Alerts = ({ kase }: { kase: CaseData }) => {
  const [all, setAll] = useState(false);
  // Newest first: the latest bad encounter is the one to act on.
  const alerts = [...kase.alerts].reverse();
  const shown = all ? alerts : alerts.slice(0, SHOWN_ALERTS);
  return (
    <section className="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">
        {kase.alerts.length === 1 ? 'The alert that raised it' : `Alerts (${kase.alerts.length})`}
      </h2>
      <p className="muted">
        Rule: {kase.rule.name ?? `#${kase.rule.id}`}
        {kase.alerts.length > 1 && ', newest first'}
      </p>
      {alerts.length === 0 ? (
        <p className="muted">No alerts are attached.</p>
      ) : (
        <ol className="notes">
          {shown.map((alert) => (
            <AlertEntry key={alert.id} alert={alert} />
          ))}
        </ol>
      )}
      {alerts.length > shown.length && (
        <button type="button" className="secondary" onClick={() => setAll(true)}>
          Show all {alerts.length} alerts
        </button>
      )}
    </section>
  );
};

const who = (owner: unknown, team: unknown) =>
  `${typeof owner === 'string' ? owner : 'nobody'}${typeof team === 'string' ? ` (team ${team})` : ''}`;
const text = (value: unknown) => (typeof value === 'string' ? value : value == null ? '' : String(value));

/** One history entry in words. */
const describe = (entry: CaseData['history'][number]): string => {
  const d = entry.detail;
  switch (entry.type) {
    case 'opened':
      return `Opened (severity ${text(d.severity)}, priority ${text(d.priority).toUpperCase()}) for ${who(d.owner, d.team)}${
        d.routedVia ? `, routed by ${text(d.routedVia)}` : ''
      }`;
    case 'alert_attached': {
      const record = d.record as { kind?: string; externalId?: string } | undefined;
      return `Another alert attached${record?.kind ? `: ${record.kind} ${text(record.externalId)}` : ''}`;
    }
    case 'status':
      return `Status ${statusLabel(text(d.from))} → ${statusLabel(text(d.to))}`;
    case 'assigned': {
      const from = (d.from ?? {}) as Record<string, unknown>;
      const to = (d.to ?? {}) as Record<string, unknown>;
      return `Reassigned from ${who(from.owner, from.team)} to ${who(to.owner, to.team)}`;
    }
    case 'note':
      return `Note: ${text(d.text)}`;
    case 'root_cause':
      return `Root cause ${d.from ? humanize(text(d.from)) : 'not set'} → ${d.to ? humanize(text(d.to)) : 'not set'}`;
    case 'step':
      return `Step ${text(d.position)} “${text(d.text)}” ${d.done ? 'done' : 'no longer done'}`;
    case 'playbook':
      return 'Another playbook fits the root cause and replaced the steps';
    case 'message':
      return `${d.channel === 'call' ? 'Call logged' : d.status === 'failed' ? 'E-mail not sent' : 'E-mail sent'}${
        d.error ? `: ${text(d.error)}` : ''
      }`;
    case 'escalated':
      return `Escalated (level ${text(d.level)}, ${text(d.breach)} overdue) from ${text(d.from) || 'nobody'} to ${
        text(d.to) || 'nobody'
      }`;
    case 'recovery':
      return `Recovery: ${humanize(text(d.recovery))}${d.reason ? ` — ${text(d.reason)}` : ''}`;
    default:
      return humanize(entry.type);
  }
};

const History = ({ kase }: { kase: CaseData }) => (
  <section className="panel" aria-labelledby="history-title">
    <h2 id="history-title">History</h2>
    <ol className="history">
      {kase.history
        .map((entry, position) => ({ entry, position }))
        .reverse()
        .map(({ entry, position }) => (
          <li key={position}>
            <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
            <span className="history-text">{describe(entry)}</span>
            <span className="cell-margin">{entry.actor === 'touchpoint' ? 'automatic' : entry.actor}</span>
          </li>
        ))}
    </ol>
  </section>
);

const Clocks = ({ kase }: { kase: CaseData }) => {
  const now = useNow();
  return (
    <ul className="case-clocks" aria-label="Service-level clocks">
      {slaClocks(kase, now).map((clock) => (
        <li key={clock.label} className={`case-clock case-clock-${clock.state}`}>
          <SlaText clock={clock} />
          {clock.dueAt && <span className="cell-margin">Due {formatDateTime(clock.dueAt)}</span>}
        </li>
      ))}
      <li className="case-clock">
        <span>Age: {formatAge(kase.createdAt, now)}</span>
        <span className="cell-margin">Opened {formatDateTime(kase.createdAt)}</span>
      </li>
    </ul>
  );
};

const Details = ({ kase }: { kase: CaseData }) => (
  <section className="panel" aria-labelledby="details-title">
    <h2 id="details-title">Details</h2>
    <dl className="facts facts-single">
      <div className="fact">
        <dt>Customer</dt>
        <dd>
          {kase.customer ? (
            <Link href={`/customers/${encodeURIComponent(kase.customer.externalId)}`}>
              {kase.customer.name ?? kase.customer.externalId}
            </Link>
          ) : (
            'Unknown'
          )}
        </dd>
      </div>
      <div className="fact">
        <dt>Owner</dt>
        <dd>{kase.owner ?? 'Unassigned'}</dd>
      </div>
      <div className="fact">
        <dt>Team</dt>
        <dd>{kase.team ?? '–'}</dd>
      </div>
      <div className="fact">
        <dt>Touchpoint</dt>
        <dd>
          {humanize(kase.touchpoint)}
          {kase.channel && ` · ${humanize(kase.channel)}`}
        </dd>
      </div>
      <div className="fact">
        <dt>Rule</dt>
        <dd>{kase.rule.name ?? `#${kase.rule.id}`}</dd>
      </div>
      <div className="fact">
        <dt>Root cause</dt>
        <dd>{kase.rootCause ? humanize(kase.rootCause) : 'Not set'}</dd>
      </div>
      {kase.escalationLevel > 0 && (
        <div className="fact">
          <dt>Escalated</dt>
          <dd>
            {kase.escalationLevel === 1 ? 'First response overdue' : 'Resolution overdue'}
            {kase.escalatedAt && `, ${formatDateTime(kase.escalatedAt)}`}
          </dd>
        </div>
      )}
      {kase.recovery && (
        <div className="fact">
          <dt>Recovery</dt>
          <dd>
            {humanize(kase.recovery)}
            {kase.recoveryReason && ` — ${kase.recoveryReason}`}
          </dd>
        </div>
      )}
    </dl>
  </section>
);

export default function CaseDetail({ params }: PageProps) {
  const session = useSession();
  const id = Number(params.id);
  const valid = Number.isSafeInteger(id) && id > 0;
  const state = useApi<CaseData>(valid ? `/cases/${id}` : null);
  const [latest, setLatest] = useState<CaseData | null>(null);
  const kase = latest?.id === id ? latest : state.data?.id === id ? state.data : undefined;
  const settings = useSettings(session);
  const workable = useCanWork(session, kase);
  const canWork = workable === true;

  const refresh = useCallback(async () => {
    setLatest(await api<CaseData>(`/cases/${id}`));
  }, [id]);

  if (!valid) {
    return (
      <>
        <h1>Case not found</h1>
        <p>
          “{params.id}” is not a case number. <Link href="/cases">Back to the cases</Link>
        </p>
      </>
    );
  }
  if (state.error && !kase) {
    return (
      <>
        <h1>Case #{id}</h1>
        <ErrorMessage
          title={state.error.status === 404 ? 'No such case, or not one of yours' : 'Could not load the case'}
          error={state.error}
          onRetry={state.error.status === 404 ? undefined : state.reload}
        />
        <p>
          <Link href="/cases">Back to the cases</Link>
        </p>
      </>
    );
  }
  if (!kase) {
    return (
      <>
        <h1>Case #{id}</h1>
        <Loading label="Loading the case…" />
      </>
    );
  }

  const props = { kase, onChange: setLatest, refresh, canWork };
  // A closed case is final: notes and the root cause may still be added, nothing else changes.
  const open = { ...props, canWork: canWork && kase.status !== 'closed' };
  const mayAssign = open.canWork && (session.role === 'admin' || session.role === 'manager');
  return (
    <>
      <p className="breadcrumb">
        <Link href="/cases">Cases</Link> › #{kase.id}
      </p>
      <h1>
        <span className="case-number">#{kase.id}</span> {kase.title}
      </h1>
      <div className="case-header">
        <StatusBadge status={kase.status} />
        <PriorityBadge priority={kase.priority} />
        <span>
          Severity <SeverityLabel severity={kase.severity} />
        </span>
        {kase.customer && (
          <span>
            Customer{' '}
            <Link href={`/customers/${encodeURIComponent(kase.customer.externalId)}`}>
              {kase.customer.name ?? kase.customer.externalId}
            </Link>
          </span>
        )}
        <span>Owner {kase.owner ?? 'unassigned'}</span>
      </div>
      <Clocks kase={kase} />
      {workable === false && (
        <p className="read-only-note">
          {session.permissions.workCases
            ? 'You can read this case; it belongs to another team, so its owner, their manager or an administrator works it.'
            : `Read only: the ${session.role} role does not work cases.`}
        </p>
      )}
      <StatusActions {...props} />
      <div className="case-layout">
        <div className="case-main">
          <Alerts kase={kase} />
          <PlaybookSteps {...open} />
          <CloseTheLoop {...open} settings={settings} />
          <Notes {...props} />
        </div>
        <div className="case-side">
          <RootCause {...props} settings={settings} />
          {mayAssign && <Assignment {...props} settings={settings} me={session.user.email} />}
          <Details kase={kase} />
        </div>
      </div>
      <History kase={kase} />
    </>
  );
}
