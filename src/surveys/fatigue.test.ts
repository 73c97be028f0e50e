import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  decideInvitation,
  type FatigueFacts,
  type FatigueSettings,
  isTimeZone,
  localMinutes,
  lookbackMs,
  type PastInvitation,
  quietUntil,
} from './fatigue.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const NOW = new Date('2026-01-15T12:00:00Z');

/** Every rule off: each test switches on the rules it is about. */
const OFF: FatigueSettings = {
  minDaysBetweenInvitations: 0,
  touchpointQuarantineDays: 0,
  duplicateWindowHours: 0,
  quietHours: null,
  defaultTimeZone: 'UTC',
};

interface Overrides {
  now?: Date;
  settings?: Partial<FatigueSettings>;
  invitation?: Partial<FatigueFacts['invitation']>;
  customer?: Partial<NonNullable<FatigueFacts['customer']>> | null;
  optedOut?: string[];
  history?: PastInvitation[];
}

/** An e-mail invitation to survey 1 about "checkout", for a customer with both addresses. */
const facts = (overrides: Overrides = {}): FatigueFacts => ({
  now: overrides.now ?? NOW,
  settings: { ...OFF, ...overrides.settings },
  invitation: { surveyId: 1, touchpoint: 'checkout', channel: 'email', ...overrides.invitation },
  customer:
    overrides.customer === null
      ? null
      : { email: 'ann@example.com', phone: '+4930123456', timeZone: null, ...overrides.customer },
  optedOut: new Set(overrides.optedOut ?? []),
  history: overrides.history ?? [],
});

/** A past invitation sent `ago` milliseconds before NOW. */
const sent = (ago: number, surveyId = 2, touchpoint: string | null = 'other'): PastInvitation => ({
  surveyId,
  touchpoint,
  sentAt: new Date(NOW.getTime() - ago),
});

const reasonOf = (input: FatigueFacts) => {
  const decision = decideInvitation(input);
  return decision.action === 'suppress' ? decision.reason : decision.action;
};

describe('decideInvitation: the customer and the channel', () => {
  test('with every rule off and nothing in the way, the invitation is sent', () => {
    expect(decideInvitation(facts())).toEqual({ action: 'send' });
  });

  test('an invitation without a customer is suppressed as no_customer', () => {
    const decision = decideInvitation(facts({ customer: null }));
    expect(decision).toMatchObject({ action: 'suppress', reason: 'no_customer' });
  });

  test('no_customer wins over every other rule', () => {
    const input = facts({
      customer: null,
      optedOut: ['all'],
      settings: {
        duplicateWindowHours: 48,
        minDaysBetweenInvitations: 7,
        quietHours: { start: '00:00', end: '23:59' },
      },
      history: [sent(HOUR, 1, 'checkout')],
    });
    expect(reasonOf(input)).toBe('no_customer');
  });

  test('a customer who opted out of the invitation channel is suppressed as opted_out', () => {
    const decision = decideInvitation(facts({ optedOut: ['email'] }));
    expect(decision).toMatchObject({ action: 'suppress', reason: 'opted_out' });
  });

  test('opting out of "all" suppresses every channel, including link and webhook', () => {
    for (const channel of ['email', 'sms', 'voice', 'link', 'webhook']) {
      expect(reasonOf(facts({ invitation: { channel }, optedOut: ['all'] }))).toBe('opted_out');
    }
  });

  test('opting out of another channel does not stop this one', () => {
    expect(reasonOf(facts({ invitation: { channel: 'email' }, optedOut: ['sms', 'voice', 'webhook'] }))).toBe(
      'send',
    );
  });

  test('an e-mail invitation to a customer without an e-mail address is suppressed as no_email', () => {
    expect(reasonOf(facts({ customer: { email: null } }))).toBe('no_email');
  });

  test('an empty e-mail address counts as none', () => {
    expect(reasonOf(facts({ customer: { email: '' } }))).toBe('no_email');
  });

  test('sms and voice invitations to a customer without a phone number are suppressed as no_phone', () => {
    expect(reasonOf(facts({ invitation: { channel: 'sms' }, customer: { phone: null } }))).toBe('no_phone');
    expect(reasonOf(facts({ invitation: { channel: 'voice' }, customer: { phone: null } }))).toBe('no_phone');
  });

  test('sms and voice need only the phone number, e-mail only the e-mail address', () => {
    expect(reasonOf(facts({ invitation: { channel: 'sms' }, customer: { email: null } }))).toBe('send');
    expect(reasonOf(facts({ invitation: { channel: 'voice' }, customer: { email: null } }))).toBe('send');
    expect(reasonOf(facts({ invitation: { channel: 'email' }, customer: { phone: null } }))).toBe('send');
  });

  test('link and webhook invitations need neither an e-mail address nor a phone number', () => {
    for (const channel of ['link', 'webhook']) {
      expect(reasonOf(facts({ invitation: { channel }, customer: { email: null, phone: null } }))).toBe(
        'send',
      );
    }
  });

  test('opted_out wins over a missing address', () => {
    expect(reasonOf(facts({ customer: { email: null }, optedOut: ['email'] }))).toBe('opted_out');
    expect(
      reasonOf(facts({ invitation: { channel: 'sms' }, customer: { phone: null }, optedOut: ['all'] })),
    ).toBe('opted_out');
  });

  test('a missing address wins over the history rules', () => {
    const input = facts({
      customer: { email: null },
      settings: { duplicateWindowHours: 48, minDaysBetweenInvitations: 7, touchpointQuarantineDays: 30 },
      history: [sent(HOUR, 1, 'checkout')],
    });
    expect(reasonOf(input)).toBe('no_email');
  });
});

describe('decideInvitation: duplicate window', () => {
  const settings = { duplicateWindowHours: 48 };

  test('the same survey sent 1 ms less than the window ago is a duplicate', () => {
    const decision = decideInvitation(facts({ settings, history: [sent(48 * HOUR - 1, 1)] }));
    expect(decision).toMatchObject({ action: 'suppress', reason: 'duplicate' });
  });

  test('the same survey sent exactly the window ago no longer counts', () => {
    expect(reasonOf(facts({ settings, history: [sent(48 * HOUR, 1)] }))).toBe('send');
    expect(reasonOf(facts({ settings, history: [sent(48 * HOUR + 1, 1)] }))).toBe('send');
  });

  test('the same survey sent at this very instant is a duplicate', () => {
    expect(reasonOf(facts({ settings, history: [sent(0, 1)] }))).toBe('duplicate');
  });

  test('another survey within the window is no duplicate', () => {
    expect(reasonOf(facts({ settings, history: [sent(HOUR, 2)] }))).toBe('send');
  });

  test('a matching entry anywhere in the history counts, not only the first', () => {
    const history = [sent(HOUR, 2), sent(100 * HOUR, 1), sent(2 * HOUR, 1)];
    expect(reasonOf(facts({ settings, history }))).toBe('duplicate');
  });

  test('a window of 0 hours turns the rule off', () => {
    expect(
      reasonOf(facts({ settings: { duplicateWindowHours: 0 }, history: [sent(0, 1), sent(1, 1)] })),
    ).toBe('send');
  });

  test('duplicate wins over contact_budget and touchpoint_quarantine', () => {
    const input = facts({
      settings: { duplicateWindowHours: 48, minDaysBetweenInvitations: 7, touchpointQuarantineDays: 30 },
      history: [sent(HOUR, 1, 'checkout')],
    });
    expect(reasonOf(input)).toBe('duplicate');
  });
});

describe('decideInvitation: contact budget', () => {
  const settings = { minDaysBetweenInvitations: 7 };

  test('any invitation 1 ms less than the budget ago uses the budget up', () => {
    const decision = decideInvitation(facts({ settings, history: [sent(7 * DAY - 1, 99, null)] }));
    expect(decision).toMatchObject({ action: 'suppress', reason: 'contact_budget' });
  });

  test('an invitation exactly the budget ago no longer counts', () => {
    expect(reasonOf(facts({ settings, history: [sent(7 * DAY, 99, null)] }))).toBe('send');
    expect(reasonOf(facts({ settings, history: [sent(7 * DAY + 1, 99, null)] }))).toBe('send');
  });

  test('the same survey outside the duplicate window but inside the budget is contact_budget', () => {
    const input = facts({
      settings: { duplicateWindowHours: 48, minDaysBetweenInvitations: 7 },
      history: [sent(3 * DAY, 1)],
    });
    expect(reasonOf(input)).toBe('contact_budget');
  });

  test('a budget of 0 days turns the rule off', () => {
    expect(reasonOf(facts({ settings: { minDaysBetweenInvitations: 0 }, history: [sent(0), sent(1)] }))).toBe(
      'send',
    );
  });

  test('contact_budget wins over touchpoint_quarantine', () => {
    const input = facts({
      settings: { minDaysBetweenInvitations: 7, touchpointQuarantineDays: 30 },
      history: [sent(DAY, 2, 'checkout')],
    });
    expect(reasonOf(input)).toBe('contact_budget');
  });
});

describe('decideInvitation: touchpoint quarantine', () => {
  const settings = { touchpointQuarantineDays: 30 };

  test('the same touchpoint 1 ms less than the quarantine ago is suppressed', () => {
    const decision = decideInvitation(facts({ settings, history: [sent(30 * DAY - 1, 2, 'checkout')] }));
    expect(decision).toMatchObject({ action: 'suppress', reason: 'touchpoint_quarantine' });
  });

  test('the same touchpoint exactly the quarantine ago no longer counts', () => {
    expect(reasonOf(facts({ settings, history: [sent(30 * DAY, 2, 'checkout')] }))).toBe('send');
    expect(reasonOf(facts({ settings, history: [sent(30 * DAY + 1, 2, 'checkout')] }))).toBe('send');
  });

  test('another touchpoint within the quarantine does not count', () => {
    expect(reasonOf(facts({ settings, history: [sent(DAY, 2, 'delivery')] }))).toBe('send');
  });

  test('an invitation without a touchpoint skips the quarantine, even against past ones without', () => {
    const input = facts({ settings, invitation: { touchpoint: null }, history: [sent(DAY, 2, null)] });
    expect(reasonOf(input)).toBe('send');
  });

  test('a past invitation without a touchpoint does not quarantine one with a touchpoint', () => {
    expect(reasonOf(facts({ settings, history: [sent(DAY, 2, null)] }))).toBe('send');
  });

  test('a quarantine of 0 days turns the rule off', () => {
    const input = facts({ settings: { touchpointQuarantineDays: 0 }, history: [sent(0, 2, 'checkout')] });
    expect(reasonOf(input)).toBe('send');
  });

  test('the quarantine wins over quiet hours', () => {
    const input = facts({
      settings: { touchpointQuarantineDays: 30, quietHours: { start: '00:00', end: '23:59' } },
      history: [sent(DAY, 2, 'checkout')],
    });
    expect(reasonOf(input)).toBe('touchpoint_quarantine');
  });
});

describe('decideInvitation: quiet hours', () => {
  // 2026-01-15T20:30Z is 21:30 in Berlin (UTC+1) and 15:30 in New York (UTC-5).
  const now = new Date('2026-01-15T20:30:00Z');
  const settings = { quietHours: { start: '21:00', end: '08:00' }, defaultTimeZone: 'America/New_York' };

  test("inside quiet hours in the customer's own time zone the invitation waits until their end", () => {
    const decision = decideInvitation(facts({ now, settings, customer: { timeZone: 'Europe/Berlin' } }));
    expect(decision).toMatchObject({ action: 'defer', until: new Date('2026-01-16T07:00:00Z') });
  });

  test("the customer's time zone takes precedence over the default one", () => {
    // 15:30 in New York is not quiet, but the customer is in Berlin.
    expect(reasonOf(facts({ now, settings, customer: { timeZone: 'Europe/Berlin' } }))).toBe('defer');
  });

  test('without a customer time zone the default time zone applies', () => {
    expect(reasonOf(facts({ now, settings, customer: { timeZone: null } }))).toBe('send');
    const berlin = { ...settings, defaultTimeZone: 'Europe/Berlin' };
    const decision = decideInvitation(facts({ now, settings: berlin, customer: { timeZone: null } }));
    expect(decision).toMatchObject({ action: 'defer', until: new Date('2026-01-16T07:00:00Z') });
  });

  test('outside quiet hours the invitation is sent', () => {
    expect(reasonOf(facts({ now, settings, customer: { timeZone: 'America/New_York' } }))).toBe('send');
  });

  test('without quiet hours the invitation is sent at any hour', () => {
    const input = facts({ now, settings: { quietHours: null }, customer: { timeZone: 'Europe/Berlin' } });
    expect(reasonOf(input)).toBe('send');
  });

  test('every suppression wins over quiet hours', () => {
    const berlin = { timeZone: 'Europe/Berlin' };
    expect(reasonOf(facts({ now, settings, customer: null }))).toBe('no_customer');
    expect(reasonOf(facts({ now, settings, customer: berlin, optedOut: ['email'] }))).toBe('opted_out');
    expect(reasonOf(facts({ now, settings, customer: { ...berlin, email: null } }))).toBe('no_email');
    const withHistory = { ...settings, duplicateWindowHours: 1, minDaysBetweenInvitations: 1 };
    const recent = { surveyId: 1, touchpoint: null, sentAt: new Date(now.getTime() - MINUTE) };
    expect(reasonOf(facts({ now, settings: withHistory, customer: berlin, history: [recent] }))).toBe(
      'duplicate',
    );
    expect(
      reasonOf(
        facts({ now, settings: withHistory, customer: berlin, history: [{ ...recent, surveyId: 2 }] }),
      ),
    ).toBe('contact_budget');
  });
});

describe('quietUntil', () => {
  const night = { start: '21:00', end: '08:00' };
  const at = new Date('2026-01-15T20:30:00Z');

  test('Europe/Berlin (UTC+1): 21:30 local is quiet until 08:00 local, 2026-01-16T07:00Z', () => {
    expect(quietUntil(at, 'Europe/Berlin', night)).toEqual(new Date('2026-01-16T07:00:00Z'));
  });

  test('America/New_York (UTC-5): 15:30 local is not quiet', () => {
    expect(quietUntil(at, 'America/New_York', night)).toBeNull();
  });

  test('Asia/Tokyo (UTC+9): 05:30 local on the 16th is quiet until 08:00 local, 2026-01-15T23:00Z', () => {
    expect(quietUntil(at, 'Asia/Tokyo', night)).toEqual(new Date('2026-01-15T23:00:00Z'));
  });

  test('Asia/Kolkata (UTC+5:30): 02:00 local is quiet until 08:00 local, 2026-01-16T02:30Z', () => {
    expect(quietUntil(at, 'Asia/Kolkata', night)).toEqual(new Date('2026-01-16T02:30:00Z'));
  });

  test('UTC: 20:30 is just before the start and not quiet; 21:00 is quiet for 11 hours', () => {
    expect(quietUntil(at, 'UTC', night)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T20:59:59.999Z'), 'UTC', night)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T21:00:00Z'), 'UTC', night)).toEqual(
      new Date('2026-01-16T08:00:00Z'),
    );
  });

  test('the end minute itself is no longer quiet; the minute before it waits one minute', () => {
    expect(quietUntil(new Date('2026-01-16T08:00:00Z'), 'UTC', night)).toBeNull();
    expect(quietUntil(new Date('2026-01-16T07:59:00Z'), 'UTC', night)).toEqual(
      new Date('2026-01-16T08:00:00Z'),
    );
  });

  test('just after midnight inside a window that wraps midnight waits until the same morning', () => {
    expect(quietUntil(new Date('2026-01-16T00:00:00Z'), 'UTC', night)).toEqual(
      new Date('2026-01-16T08:00:00Z'),
    );
  });

  test('a window within one day (12:00–14:00) is quiet only between its bounds', () => {
    const lunch = { start: '12:00', end: '14:00' };
    expect(quietUntil(new Date('2026-01-15T11:59:59Z'), 'UTC', lunch)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T12:00:00Z'), 'UTC', lunch)).toEqual(
      new Date('2026-01-15T14:00:00Z'),
    );
    expect(quietUntil(new Date('2026-01-15T13:59:59Z'), 'UTC', lunch)).toEqual(
      new Date('2026-01-15T14:00:00Z'),
    );
    expect(quietUntil(new Date('2026-01-15T14:00:00Z'), 'UTC', lunch)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T23:00:00Z'), 'UTC', lunch)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T03:00:00Z'), 'UTC', lunch)).toBeNull();
    // 12:30 in Tokyo is 03:30Z; 14:00 in Tokyo is 05:00Z.
    expect(quietUntil(new Date('2026-01-15T03:30:00Z'), 'Asia/Tokyo', lunch)).toEqual(
      new Date('2026-01-15T05:00:00Z'),
    );
  });

  test('a window whose start equals its end is never quiet', () => {
    const none = { start: '09:00', end: '09:00' };
    for (const iso of [
      '2026-01-15T08:59:00Z',
      '2026-01-15T09:00:00Z',
      '2026-01-15T09:30:00Z',
      '2026-01-15T21:00:00Z',
    ]) {
      expect(quietUntil(new Date(iso), 'UTC', none)).toBeNull();
    }
  });

  test('seconds and milliseconds of `at` are dropped: the end is on a whole minute', () => {
    const until = quietUntil(new Date('2026-01-15T22:15:42.500Z'), 'UTC', night);
    expect(until).toEqual(new Date('2026-01-16T08:00:00.000Z'));
  });

  test('minutes of the bounds count: 21:45–06:15 in Kolkata', () => {
    const odd = { start: '21:45', end: '06:15' };
    // 16:14Z is 21:44 in Kolkata: not yet quiet; 16:15Z is 21:45: quiet until 06:15 local = 00:45Z.
    expect(quietUntil(new Date('2026-01-15T16:14:00Z'), 'Asia/Kolkata', odd)).toBeNull();
    expect(quietUntil(new Date('2026-01-15T16:15:00Z'), 'Asia/Kolkata', odd)).toEqual(
      new Date('2026-01-16T00:45:00Z'),
    );
  });

  test('across the spring-forward night (Europe/Berlin, 2026-03-29) it ends at 08:00 CEST, not nine wall-clock hours later', () => {
    // 2026-03-28T22:00Z is 23:00 CET; the clocks jump 02:00 → 03:00, so 08:00 CEST is 06:00Z.
    const until = quietUntil(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', night);
    expect(until).toEqual(new Date('2026-03-29T06:00:00Z'));
    expect(localMinutes(until as Date, 'Europe/Berlin')).toBe(8 * 60);
  });

  test('across the fall-back night (Europe/Berlin, 2026-10-25) it ends at 08:00 CET, not at 07:00', () => {
    // 2026-10-24T22:00Z is 00:00 CEST; the clocks go back 03:00 → 02:00, so 08:00 CET is 07:00Z.
    const until = quietUntil(new Date('2026-10-24T22:00:00Z'), 'Europe/Berlin', night);
    expect(until).toEqual(new Date('2026-10-25T07:00:00Z'));
    expect(localMinutes(until as Date, 'Europe/Berlin')).toBe(8 * 60);
  });
});

describe('localMinutes', () => {
  test('gives the minutes since local midnight in the zone, hand-computed', () => {
    const at = new Date('2026-01-15T20:30:00Z');
    expect(localMinutes(at, 'UTC')).toBe(20 * 60 + 30);
    expect(localMinutes(at, 'Europe/Berlin')).toBe(21 * 60 + 30);
    expect(localMinutes(at, 'America/New_York')).toBe(15 * 60 + 30);
    expect(localMinutes(at, 'Asia/Tokyo')).toBe(5 * 60 + 30);
    expect(localMinutes(at, 'Asia/Kathmandu')).toBe(2 * 60 + 15);
  });

  test('local midnight is 0, never 24:00', () => {
    expect(localMinutes(new Date('2026-01-15T00:00:00Z'), 'UTC')).toBe(0);
    expect(localMinutes(new Date('2026-01-15T15:00:00Z'), 'Asia/Tokyo')).toBe(0);
    expect(localMinutes(new Date('2026-01-15T23:59:59Z'), 'UTC')).toBe(1439);
  });

  test('follows daylight saving time: 12:00Z is 13:00 in Berlin in winter and 14:00 in summer', () => {
    expect(localMinutes(new Date('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(13 * 60);
    expect(localMinutes(new Date('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(14 * 60);
  });
});

describe('isTimeZone', () => {
  test.each(['UTC', 'Europe/Berlin', 'America/Argentina/Buenos_Aires', 'Asia/Kolkata', 'Etc/GMT+5'])(
    '%s is a time zone',
    (zone) => {
      expect(isTimeZone(zone)).toBe(true);
    },
  );

  test.each(['', 'Mars/Olympus', 'Europe/Berlinn', 'not a zone', 'Berlin'])(
    '"%s" is not a time zone',
    (zone) => {
      expect(isTimeZone(zone)).toBe(false);
    },
  );
});

describe('lookbackMs', () => {
  test('is the longest of the three windows', () => {
    const base = { ...OFF };
    expect(
      lookbackMs({
        ...base,
        minDaysBetweenInvitations: 7,
        touchpointQuarantineDays: 30,
        duplicateWindowHours: 48,
      }),
    ).toBe(30 * DAY);
    expect(
      lookbackMs({
        ...base,
        minDaysBetweenInvitations: 14,
        touchpointQuarantineDays: 3,
        duplicateWindowHours: 48,
      }),
    ).toBe(14 * DAY);
    expect(
      lookbackMs({
        ...base,
        minDaysBetweenInvitations: 1,
        touchpointQuarantineDays: 2,
        duplicateWindowHours: 72,
      }),
    ).toBe(72 * HOUR);
  });

  test('is 0 when every rule is off', () => {
    expect(lookbackMs(OFF)).toBe(0);
  });

  test('an invitation sent exactly lookbackMs ago never matters to the decision', () => {
    const settings = { minDaysBetweenInvitations: 7, touchpointQuarantineDays: 30, duplicateWindowHours: 48 };
    const edge = lookbackMs({ ...OFF, ...settings });
    expect(reasonOf(facts({ settings, history: [sent(edge, 1, 'checkout')] }))).toBe('send');
    expect(reasonOf(facts({ settings, history: [sent(edge - 1, 1, 'checkout')] }))).not.toBe('send');
  });
});

describe('quietUntil property in time zones without daylight saving time', () => {
  /** Fixed UTC offsets in minutes (none of these zones has changed its offset since 2000). */
  const OFFSETS: Record<string, number> = {
    UTC: 0,
    'Asia/Tokyo': 9 * 60,
    'Asia/Kolkata': 5 * 60 + 30,
    'Asia/Kathmandu': 5 * 60 + 45,
    'America/Phoenix': -7 * 60,
    'Pacific/Honolulu': -10 * 60,
    'Africa/Nairobi': 3 * 60,
  };
  const hhmm = (minutes: number) =>
    `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
  const localOf = (at: Date, zone: string) =>
    (((Math.floor(at.getTime() / MINUTE) + (OFFSETS[zone] as number)) % 1440) + 1440) % 1440;

  test('quiet exactly inside [start, end), and then the first instant after `at` when the local clock reads end', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2099-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.constantFrom(...Object.keys(OFFSETS)),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 0, max: 1439 }),
        (at, zone, start, end) => {
          const until = quietUntil(at, zone, { start: hhmm(start), end: hhmm(end) });
          const local = localOf(at, zone);
          expect(localMinutes(at, zone)).toBe(local);
          // Minutes from start to now and from start to end, going forward round the clock.
          const quiet = (local - start + 1440) % 1440 < (end - start + 1440) % 1440;
          if (!quiet) {
            expect(until).toBeNull();
            return;
          }
          expect(until).not.toBeNull();
          const d = (until as Date).getTime();
          expect(d).toBeGreaterThan(at.getTime() - MINUTE);
          expect(d).toBeGreaterThan(at.getTime());
          expect(d - at.getTime()).toBeLessThan(DAY);
          expect(d % MINUTE).toBe(0);
          expect(localMinutes(until as Date, zone)).toBe(end);
          expect(localOf(until as Date, zone)).toBe(end);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
