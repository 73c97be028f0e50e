import { useEffect, useState } from 'react';
import { humanize } from '../format';

/** Shapes of the closed-loop API (src/server/routes/closed-loop.ts, src/closed-loop/case-work.ts). */

export const CASE_STATUSES = ['open', 'in_progress', 'customer_contacted', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const ACTIVE_STATUSES: readonly CaseStatus[] = ['open', 'in_progress', 'customer_contacted'];
export const PRIORITIES = ['p1', 'p2', 'p3', 'p4'] as const;
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;

export interface CaseSla {
  firstResponseDueAt: string | null;
  resolveDueAt: string | null;
  firstResponseAt: string | null;
  firstResponseBreached: boolean;
  resolveBreached: boolean;
}

/** One item of GET /api/v1/cases. */
export interface CaseSummary {
  id: number;
  title: string;
  status: CaseStatus;
  severity: string;
  priority: string;
  priorityScore: number;
  owner: string | null;
  team: string | null;
  touchpoint: string | null;
  channel: string | null;
  rootCause: string | null;
  rule: { id: number; name: string | null };
  playbookId: number | null;
  customer: { externalId: string; name: string | null } | null;
  alertCount: number;
  lastAlertAt: string | null;
  sla: CaseSla;
  escalationLevel: number;
  escalatedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  recovery: string | null;
  recoveryReason: string | null;
  recoveryDecidedAt: string | null;
  allowedStatuses: CaseStatus[];
  createdAt: string;
  updatedAt: string;
}

export interface CaseListResponse {
  items: CaseSummary[];
  nextBefore: number | null;
}

export interface CaseMessage {
  id: number;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  error: string | null;
  actor: string;
  occurredAt: string;
}

/** GET /api/v1/cases/:id (also the answer of PATCH, notes and steps). */
export interface CaseDetail extends CaseSummary {
  playbook: { id: number; name: string } | null;
  alerts: {
    id: number;
    ruleId: number;
    record: { kind: string; externalId: string | null };
    severity: string;
    occurredAt: string;
    raisedAt: string;
  }[];
  steps: { position: number; text: string; done: boolean; doneAt: string | null; doneBy: string | null }[];
  messages: CaseMessage[];
  history: { at: string; type: string; actor: string; detail: Record<string, unknown> }[];
}

/** GET /api/v1/closed-loop/settings (the parts the case pages use). */
export interface ClosedLoopSettings {
  teams: Record<string, { members: string[]; lead?: string }>;
  rootCauses: string[];
  messageTemplates: Record<string, { subject: string; body: string }>;
}

export const STATUS_LABELS: Record<CaseStatus, string> = {
  open: 'Open',
  in_progress: 'In progress',
  customer_contacted: 'Customer contacted',
  resolved: 'Resolved',
  closed: 'Closed',
};

export const statusLabel = (status: string): string =>
  STATUS_LABELS[status as CaseStatus] ?? humanize(status);

/** A case's status as a coloured label (the text carries the meaning; the colour only helps). */
export const StatusBadge = ({ status }: { status: string }) => (
  <span className={`case-badge case-status-${status}`}>{statusLabel(status)}</span>
);

/** p1 … p4, p1 the most urgent. */
export const PriorityBadge = ({ priority }: { priority: string }) => (
  <span className={`case-badge case-priority-${priority}`}>
    {priority.toUpperCase()}
    <span className="visually-hidden"> priority</span>
  </span>
);

export const SeverityLabel = ({ severity }: { severity: string }) => (
  <span className={`case-severity case-severity-${severity}`}>{humanize(severity)}</span>
);

/** The current time, refreshed every `everyMs`, so SLA clocks count down while the page is open. */
export const useNow = (everyMs = 30_000): number => {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
};

const MINUTE = 60_000;
/** A span of time in its two largest units: "2 d 4 h", "3 h 20 min", "12 min", "under a minute". */
export const formatSpan = (ms: number): string => {
  const minutes = Math.floor(Math.abs(ms) / MINUTE);
  if (minutes < 1) return 'under a minute';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return hours ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return mins ? `${hours} h ${mins} min` : `${hours} h`;
  return `${mins} min`;
};

/** How long ago: "3 h 20 min ago". */
export const formatAge = (iso: string, now: number): string => `${formatSpan(now - Date.parse(iso))} ago`;

export type ClockState = 'running' | 'breached' | 'met' | 'missed' | 'none';

export interface SlaClock {
  /** "First response" or "Resolution". */
  label: string;
  state: ClockState;
  /** Short text: "1 h 20 min left", "overdue by 2 h", "met", "missed by 3 h". */
  text: string;
  dueAt: string | null;
}

const ACTIVE = new Set<string>(ACTIVE_STATUSES);

/**
 * The two SLA clocks of a case at `now`: time left until the first response and resolution are due,
 * overdue when past; met or missed once done. The API's breach flags count even when the
 * clock here says otherwise (clock skew).
 */
export const slaClocks = (kase: CaseSummary, now: number): SlaClock[] => {
  const { sla } = kase;
  const clock = (
    label: string,
    dueAt: string | null,
    doneAt: string | null,
    breachedFlag: boolean,
    stillRunning: boolean,
  ): SlaClock => {
    if (!dueAt) return { label, state: 'none', text: 'no due time', dueAt };
    const due = Date.parse(dueAt);
    if (doneAt) {
      const late = Date.parse(doneAt) - due;
      return late > 0 || breachedFlag
        ? { label, state: 'missed', text: `missed by ${formatSpan(Math.max(late, 0))}`, dueAt }
        : { label, state: 'met', text: 'met', dueAt };
    }
    if (!stillRunning) return { label, state: 'none', text: 'stopped', dueAt };
    const left = due - now;
    return left <= 0 || breachedFlag
      ? { label, state: 'breached', text: `overdue by ${formatSpan(Math.min(left, 0))}`, dueAt }
      : { label, state: 'running', text: `${formatSpan(left)} left`, dueAt };
  };
  const active = ACTIVE.has(kase.status);
  return [
    clock('First response', sla.firstResponseDueAt, sla.firstResponseAt, sla.firstResponseBreached, active),
    clock('Resolution', sla.resolveDueAt, kase.resolvedAt, sla.resolveBreached, active),
  ];
};

/** The clock that matters now: the first response while it is pending, else the resolution. */
export const currentClock = (kase: CaseSummary, now: number): SlaClock => {
  const [first, resolve] = slaClocks(kase, now) as [SlaClock, SlaClock];
  if (first.state === 'running' || first.state === 'breached') {
    // An overdue resolution outranks a first response that is still in time.
    return resolve.state === 'breached' && first.state === 'running' ? resolve : first;
  }
  return resolve;
};

/** One SLA clock as text, red (and said) when overdue; `compact` puts the clock's name below (tables). */
export const SlaText = ({ clock, compact = false }: { clock: SlaClock; compact?: boolean }) => {
  const breached = clock.state === 'breached';
  const icon = breached && (
    <span className="sla-icon" aria-hidden="true">
      ⚠{' '}
    </span>
  );
  if (compact) {
    return (
      <span className={`sla sla-${clock.state}`}>
        {icon}
        {breached && <span className="visually-hidden">SLA breached: </span>}
        {breached ? <strong>{capitalize(clock.text)}</strong> : capitalize(clock.text)}
        <span className="cell-margin">{clock.label}</span>
      </span>
    );
  }
  return (
    <span className={`sla sla-${clock.state}`}>
      {icon}
      <span className="sla-label">{clock.label}: </span>
      {breached && <strong>SLA breached, </strong>}
      {clock.text}
    </span>
  );
};

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** Scores of one feedback record in one line: "NPS 2 · CSAT 1/5 · CES 3/7". */
export const scoresText = (item: { nps: number | null; csat: number | null; ces: number | null }): string =>
  [
    item.nps !== null && `NPS ${item.nps}`,
    item.csat !== null && `CSAT ${item.csat}/5`,
    item.ces !== null && `CES ${item.ces}/7`,
  ]
    .filter(Boolean)
    .join(' · ');
