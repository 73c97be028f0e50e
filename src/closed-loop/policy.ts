import { createHmac, timingSafeEqual } from 'node:crypto';
import { localMinutes, minutesOf } from '../surveys/fatigue.js';
import type { ClosedLoopSettings, Severity } from './settings.js';

/**
 * The closed loop's rules as pure functions: priority, SLA clocks (optionally in business hours),
 * the case workflow, playbook choice, recovery, retry backoff and webhook signatures.
 */

// ---------------------------------------------------------------------------------------------
// Priority
// ---------------------------------------------------------------------------------------------

export const SEVERITY_WEIGHT: Record<Severity, number> = { low: 1, medium: 2, high: 3, critical: 4 };
export const PRIORITIES = ['p1', 'p2', 'p3', 'p4'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** 1 (unknown or below the first tier), 2 (mid) or 3 (high value). */
export const valueTier = (value: number | null | undefined, tiers: readonly [number, number]): number =>
  value == null || Number.isNaN(value) ? 1 : value >= tiers[1] ? 3 : value >= tiers[0] ? 2 : 1;

/**
 * A case's priority: severity weight (low 1 … critical 4) × customer value tier (1…3), a score of
 * 1…12; p1 from 9, p2 from 6, p3 from 3, else p4.
 *
 * @example casePriority('high', 20_000, [1000, 10000]) // { score: 9, priority: 'p1' }
 */
export const casePriority = (
  severity: Severity,
  value: number | null | undefined,
  tiers: readonly [number, number],
): { score: number; priority: Priority } => {
  const score = SEVERITY_WEIGHT[severity] * valueTier(value, tiers);
  const priority: Priority = score >= 9 ? 'p1' : score >= 6 ? 'p2' : score >= 3 ? 'p3' : 'p4';
  return { score, priority };
};

// ---------------------------------------------------------------------------------------------
// SLA clocks
// ---------------------------------------------------------------------------------------------

const MINUTE = 60_000;
const weekdays = new Map<string, Intl.DateTimeFormat>();
const ISO_DAY: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** ISO weekday (1 Monday … 7 Sunday) of `at` in `timeZone`. */
export const localWeekday = (at: Date, timeZone: string): number => {
  let format = weekdays.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short' });
    weekdays.set(timeZone, format);
  }
  return ISO_DAY[format.format(at)] ?? 1;
};

/**
 * The instant `minutes` of working time after `from`: plain minutes without business hours;
 * otherwise only the minutes inside the business days and hours count, in the hours' time zone
 * (clock changes included).
 *
 * @example
 * // Friday 16:00 UTC + 120 business minutes (Mon–Fri 09:00–17:00 UTC) → Monday 10:00
 * addWorkingMinutes(new Date('2026-11-20T16:00:00Z'), 120, { timeZone: 'UTC', days: [1,2,3,4,5], start: '09:00', end: '17:00' })
 */
export const addWorkingMinutes = (
  from: Date,
  minutes: number,
  hours: ClosedLoopSettings['businessHours'],
): Date => {
  if (!hours) return new Date(from.getTime() + minutes * MINUTE);
  const start = minutesOf(hours.start);
  const end = minutesOf(hours.end);
  const days = new Set(hours.days);
  let at = from.getTime();
  let left = minutes;
  // Each pass either uses up the rest of a working day or moves to the next working-day start:
  // about two passes per calendar day; the bound (centuries of calendar time) only stops a loop.
  for (let guard = 0; guard < 200_000; guard++) {
    const now = new Date(at);
    const local = localMinutes(now, hours.timeZone);
    const working = days.has(localWeekday(now, hours.timeZone)) && local >= start && local < end;
    if (working) {
      // The instant the local clock reads `end`, corrected for a clock change before it (a spring
      // jump shortens the day, an autumn one lengthens it).
      let endAt = at - (at % MINUTE) + (end - local) * MINUTE;
      endAt -= (((localMinutes(new Date(endAt), hours.timeZone) - end + 2160) % 1440) - 720) * MINUTE;
      const available = (endAt - at) / MINUTE;
      if (left <= available) return new Date(at + left * MINUTE);
      left -= available;
      at = endAt;
      continue;
    }
    // Move to the next day's start (or today's, before it), then correct for a clock change.
    const wait = local < start ? start - local : 1440 - local + start;
    const target = at - (at % MINUTE) + wait * MINUTE;
    const shift = ((localMinutes(new Date(target), hours.timeZone) - start + 2160) % 1440) - 720;
    at = target - shift * MINUTE;
  }
  return new Date(at);
};

/** When the first response and the resolution of a case opened at `openedAt` are due. */
export const slaDueDates = (
  openedAt: Date,
  severity: Severity,
  settings: Pick<ClosedLoopSettings, 'sla' | 'businessHours'>,
): { firstResponseDueAt: Date; resolveDueAt: Date } => {
  const sla = settings.sla[severity];
  return {
    firstResponseDueAt: addWorkingMinutes(openedAt, sla.firstResponseMinutes, settings.businessHours),
    resolveDueAt: addWorkingMinutes(openedAt, sla.resolveMinutes, settings.businessHours),
  };
};

// ---------------------------------------------------------------------------------------------
// Workflow
// ---------------------------------------------------------------------------------------------

export const CASE_STATUSES = ['open', 'in_progress', 'customer_contacted', 'resolved', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const ACTIVE_STATUSES: readonly CaseStatus[] = ['open', 'in_progress', 'customer_contacted'];

/**
 * Where a case may go from each status: forward through the workflow; back from customer_contacted
 * to in_progress when the contact shows more work is needed; a resolved case may be reopened
 * (in_progress) or closed; a closed case is final (its recovery is being tracked).
 */
export const TRANSITIONS: Record<CaseStatus, readonly CaseStatus[]> = {
  open: ['in_progress', 'customer_contacted', 'resolved'],
  in_progress: ['customer_contacted', 'resolved'],
  customer_contacted: ['in_progress', 'resolved'],
  resolved: ['in_progress', 'closed'],
  closed: [],
};

export const canMove = (from: CaseStatus, to: CaseStatus): boolean => TRANSITIONS[from].includes(to);

// ---------------------------------------------------------------------------------------------
// Playbooks
// ---------------------------------------------------------------------------------------------

export const PLAYBOOK_CRITERIA = [
  'touchpoints',
  'rootCauses',
  'personalityTypes',
  'lifecycleStages',
  'severities',
] as const;
export type PlaybookCriterion = (typeof PLAYBOOK_CRITERIA)[number];
export type PlaybookMatch = Partial<Record<PlaybookCriterion, string[]>>;

export interface CaseSituation {
  touchpoint: string | null;
  rootCause: string | null;
  personalityType: string | null;
  lifecycleStage: string | null;
  severity: string;
}

const SITUATION_KEY: Record<PlaybookCriterion, keyof CaseSituation> = {
  touchpoints: 'touchpoint',
  rootCauses: 'rootCause',
  personalityTypes: 'personalityType',
  lifecycleStages: 'lifecycleStage',
  severities: 'severity',
};

/**
 * How specifically a playbook fits a situation: null when one of its criteria excludes it,
 * else the number of criteria it names (all of which hold). The best playbook has the highest
 * score; ties go to the oldest (lowest id).
 */
export const playbookFit = (match: PlaybookMatch, situation: CaseSituation): number | null => {
  let score = 0;
  for (const criterion of PLAYBOOK_CRITERIA) {
    const values = match[criterion];
    if (!values || values.length === 0) continue;
    const actual = situation[SITUATION_KEY[criterion]];
    if (actual == null || !values.includes(actual)) return null;
    score++;
  }
  return score;
};

/** The best-fitting of `playbooks` (sorted by id) for a situation, or null. */
export const bestPlaybook = <P extends { id: number; match: PlaybookMatch }>(
  playbooks: readonly P[],
  situation: CaseSituation,
): P | null => {
  let best: P | null = null;
  let bestScore = -1;
  for (const playbook of playbooks) {
    const score = playbookFit(playbook.match, situation);
    if (score !== null && (score > bestScore || (score === bestScore && best && playbook.id < best.id))) {
      best = playbook;
      bestScore = score;
    }
  }
  return best;
};

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

export const RECOVERY_OUTCOMES = ['recovered', 'not_recovered', 'unknown'] as const;
export type Recovery = (typeof RECOVERY_OUTCOMES)[number];

/** Something the customer did after the case closed. */
export type Evidence =
  | { kind: 'feedback'; at: Date; experienceRating: number | null }
  | { kind: 'event'; at: Date; type: string }
  | { kind: 'interaction'; at: Date; touchpoint: string | null };

export const RECOVERED_EVENTS = new Set(['renewal', 'purchase', 'upgrade']);
export const LOST_EVENTS = new Set(['churn', 'cancellation', 'downgrade', 'contract_end']);

/**
 * What one piece of evidence says about recovery, or null when it says nothing:
 * - feedback with a rating: neutral or better (≥ 3) recovered, poor or disastrous not;
 * - an event: renewal, purchase or upgrade recovered; churn, cancellation, downgrade or contract
 *   end not;
 * - a contact at the case's touchpoint: the problem came back, not recovered.
 */
export const evidenceSays = (evidence: Evidence, caseTouchpoint: string | null): Recovery | null => {
  switch (evidence.kind) {
    case 'feedback':
      return evidence.experienceRating == null
        ? null
        : evidence.experienceRating >= 3
          ? 'recovered'
          : 'not_recovered';
    case 'event':
      return RECOVERED_EVENTS.has(evidence.type)
        ? 'recovered'
        : LOST_EVENTS.has(evidence.type)
          ? 'not_recovered'
          : null;
    case 'interaction':
      return caseTouchpoint !== null && evidence.touchpoint === caseTouchpoint ? 'not_recovered' : null;
  }
};

const EVIDENCE_REASON: Record<Evidence['kind'], string> = {
  feedback: 'next feedback',
  event: 'next business event',
  interaction: 'contacted again at the same touchpoint',
};

/**
 * The recovery of a closed case from the customer's records after it closed (any order): the
 * earliest piece of evidence that says something decides. Without any, the case is `unknown`
 * once the window has passed, and still pending (null) before.
 */
export const decideRecovery = (input: {
  closedAt: Date;
  now: Date;
  windowDays: number;
  touchpoint: string | null;
  evidence: readonly Evidence[];
}): { recovery: Recovery; reason: string; at: Date } | null => {
  const windowEnd = input.closedAt.getTime() + input.windowDays * 86_400_000;
  const ordered = input.evidence
    .filter((item) => item.at.getTime() > input.closedAt.getTime() && item.at.getTime() <= windowEnd)
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const item of ordered) {
    const says = evidenceSays(item, input.touchpoint);
    if (says) {
      const detail =
        item.kind === 'feedback'
          ? `rated ${item.experienceRating}`
          : item.kind === 'event'
            ? item.type
            : (item.touchpoint ?? '');
      return { recovery: says, reason: `${EVIDENCE_REASON[item.kind]}: ${detail}`, at: item.at };
    }
  }
  if (input.now.getTime() > windowEnd) {
    return {
      recovery: 'unknown',
      reason: `no feedback or behaviour within ${input.windowDays} days of closing`,
      at: new Date(windowEnd),
    };
  }
  return null;
};

/**
 * Recovery rate: recovered / (recovered + not recovered); unknown and pending cases are left out.
 * null when nothing is decided.
 */
export const recoveryRate = (recovered: number, notRecovered: number): number | null =>
  recovered + notRecovered === 0 ? null : recovered / (recovered + notRecovered);

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

export const MAX_ATTEMPTS = 10;
export const FIRST_RETRY_MS = 1_000;

/**
 * Wait before attempt `attempt + 1` after `attempt` failed: 1 s, 4 s, 16 s, 64 s … ×4 each time
 * (10 attempts span about 24 hours); null after the last attempt.
 */
export const retryDelayMs = (attempt: number, maxAttempts = MAX_ATTEMPTS): number | null =>
  attempt >= maxAttempts ? null : FIRST_RETRY_MS * 4 ** (attempt - 1);

/** Header names of signed webhook calls. */
export const SIGNATURE_HEADER = 'touchpoint-signature';
export const TIMESTAMP_HEADER = 'touchpoint-timestamp';
export const EVENT_ID_HEADER = 'touchpoint-event-id';
export const EVENT_TYPE_HEADER = 'touchpoint-event';

/**
 * The signature of a webhook body: `v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under
 * the webhook's secret. Signing the timestamp with the body lets receivers refuse replays.
 */
export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/**
 * How a receiver checks a call: the signature matches and the timestamp is within `toleranceSeconds`
 * of its clock (default 5 minutes). Receivers should also drop event ids they have seen.
 */
export const verifyWebhook = (input: {
  secret: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
  now?: Date;
  toleranceSeconds?: number;
}): boolean => {
  const timestamp = Number(input.timestamp);
  if (!input.signature || !Number.isInteger(timestamp)) return false;
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, timestamp, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
};
