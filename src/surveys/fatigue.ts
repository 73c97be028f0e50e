/**
 * Contact-fatigue rules: whether an invitation due now may go out, applied across every survey of
 * a workspace. Pure: the dispatcher gathers the facts, this decides.
 */

export interface FatigueSettings {
  /** At most one invitation per customer in this many days, over all surveys (0: no limit). */
  minDaysBetweenInvitations: number;
  /** No invitation about a touchpoint the customer was asked about in this many days (0: off). */
  touchpointQuarantineDays: number;
  /** No second invitation to the same survey within this many hours (0: off). */
  duplicateWindowHours: number;
  /** Local times ("HH:MM") between which nobody is contacted; invitations wait until `end`. */
  quietHours: { start: string; end: string } | null;
  /** IANA time zone for customers without `attributes.timeZone`. */
  defaultTimeZone: string;
}

/** An invitation already sent to the customer, or a follow-up from a case (closed loop). */
export interface PastInvitation {
  /** null for a follow-up from a case. */
  surveyId: number | null;
  touchpoint: string | null;
  sentAt: Date;
  /** The case a follow-up was sent from. */
  caseId?: number;
}

export interface FatigueFacts {
  now: Date;
  settings: FatigueSettings;
  invitation: { surveyId: number; touchpoint: string | null; channel: string };
  /** null: the invitation has no customer. */
  customer: { email: string | null; phone: string | null; timeZone: string | null } | null;
  /** Channels the customer opted out of. */
  optedOut: ReadonlySet<string>;
  /** Invitations sent to the customer recently (any survey, any channel), and follow-ups from cases. */
  history: readonly PastInvitation[];
}

export const SUPPRESSION_REASONS = [
  'no_customer',
  'opted_out',
  'no_email',
  'no_phone',
  'duplicate',
  'contact_budget',
  'touchpoint_quarantine',
  'survey_inactive',
] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export type FatigueDecision =
  | { action: 'send' }
  | { action: 'suppress'; reason: SuppressionReason; detail: string }
  | { action: 'defer'; until: Date; detail: string };

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Channels that need the customer's e-mail address or phone number. */
const ADDRESS = new Map<string, ['email' | 'phone', SuppressionReason]>([
  ['email', ['email', 'no_email']],
  ['sms', ['phone', 'no_phone']],
  ['voice', ['phone', 'no_phone']],
]);

/** Minutes since midnight of a time of day "HH:MM". */
export const minutesOf = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h as number) * 60 + (m as number);
};

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Whether `timeZone` is an IANA zone this runtime knows. */
export const isTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-GB', { timeZone });
    return true;
  } catch {
    return false;
  }
};

/** Minutes since local midnight of `at` in `timeZone`. */
export const localMinutes = (at: Date, timeZone: string): number => {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(at)) {
    if (part.type === 'hour') hour = Number(part.value);
    if (part.type === 'minute') minute = Number(part.value);
  }
  return hour * 60 + minute;
};

/**
 * When quiet hours hold at `at` in `timeZone`, the instant they end (to the minute); else null.
 *
 * @example quietUntil(new Date('2026-01-01T22:30:00Z'), 'UTC', { start: '21:00', end: '08:00' })
 *   // → 2026-01-02T08:00:00Z
 */
export const quietUntil = (
  at: Date,
  timeZone: string,
  quietHours: { start: string; end: string },
): Date | null => {
  const start = minutesOf(quietHours.start);
  const end = minutesOf(quietHours.end);
  if (start === end) return null;
  const now = localMinutes(at, timeZone);
  const quiet = start < end ? now >= start && now < end : now >= start || now < end;
  if (!quiet) return null;
  const wait = (end - now + 1440) % 1440;
  const minuteStart = at.getTime() - (at.getTime() % 60_000);
  let until = minuteStart + wait * 60_000;
  // A clock change during the wait shifts local time: move by the shift so the end is local `end`.
  const shift = ((localMinutes(new Date(until), timeZone) - end + 2160) % 1440) - 720;
  if (shift !== 0) until -= shift * 60_000;
  return new Date(until);
};

/** Whether `sentAt` lies within `span` before `now` (a later one, e.g. from clock skew, counts as now). */
const within = (sentAt: Date, now: Date, span: number) => span > 0 && now.getTime() - sentAt.getTime() < span;

/**
 * Decides an invitation: send it, suppress it with a reason, or let it wait for the end of the
 * customer's quiet hours. Rules in order: a customer, no opt-out of the channel, an address for
 * the channel, no invitation to the same survey within the duplicate window, none at all within
 * the contact budget, none about the same touchpoint within the quarantine, then quiet hours.
 */
export const decideInvitation = (facts: FatigueFacts): FatigueDecision => {
  const { now, settings, invitation, customer } = facts;
  if (!customer)
    return { action: 'suppress', reason: 'no_customer', detail: 'the invitation names no customer' };
  if (facts.optedOut.has(invitation.channel) || facts.optedOut.has('all')) {
    return {
      action: 'suppress',
      reason: 'opted_out',
      detail: `the customer opted out of ${facts.optedOut.has('all') ? 'all surveys' : invitation.channel}`,
    };
  }
  const address = ADDRESS.get(invitation.channel);
  if (address && !customer[address[0]]) {
    return { action: 'suppress', reason: address[1], detail: `the customer has no ${address[0]} on file` };
  }
  const { duplicateWindowHours, minDaysBetweenInvitations, touchpointQuarantineDays } = settings;
  const duplicate = facts.history.find(
    (past) => past.surveyId === invitation.surveyId && within(past.sentAt, now, duplicateWindowHours * HOUR),
  );
  if (duplicate) {
    return {
      action: 'suppress',
      reason: 'duplicate',
      detail: `this survey was sent to the customer at ${duplicate.sentAt.toISOString()}, within ${duplicateWindowHours} h`,
    };
  }
  const recent = facts.history.find((past) => within(past.sentAt, now, minDaysBetweenInvitations * DAY));
  if (recent) {
    return {
      action: 'suppress',
      reason: 'contact_budget',
      detail:
        recent.caseId === undefined
          ? `the customer was invited at ${recent.sentAt.toISOString()}; at most one invitation per ${minDaysBetweenInvitations} days`
          : `the customer was contacted about case #${recent.caseId} at ${recent.sentAt.toISOString()}; at most one contact per ${minDaysBetweenInvitations} days`,
    };
  }
  if (invitation.touchpoint !== null) {
    const sameTouchpoint = facts.history.find(
      (past) =>
        past.touchpoint === invitation.touchpoint && within(past.sentAt, now, touchpointQuarantineDays * DAY),
    );
    if (sameTouchpoint) {
      return {
        action: 'suppress',
        reason: 'touchpoint_quarantine',
        detail: `the customer was asked about "${invitation.touchpoint}" at ${sameTouchpoint.sentAt.toISOString()}; quarantine ${touchpointQuarantineDays} days`,
      };
    }
  }
  if (settings.quietHours) {
    const timeZone = customer.timeZone ?? settings.defaultTimeZone;
    const until = quietUntil(now, timeZone, settings.quietHours);
    if (until) {
      return {
        action: 'defer',
        until,
        detail: `quiet hours ${settings.quietHours.start}–${settings.quietHours.end} in ${timeZone}`,
      };
    }
  }
  return { action: 'send' };
};

/** How far back the rules look: the dispatcher loads the customer's invitations of this span. */
export const lookbackMs = (settings: FatigueSettings): number =>
  Math.max(
    settings.minDaysBetweenInvitations * DAY,
    settings.touchpointQuarantineDays * DAY,
    settings.duplicateWindowHours * HOUR,
  );
