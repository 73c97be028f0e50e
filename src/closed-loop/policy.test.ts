import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  addWorkingMinutes,
  bestPlaybook,
  CASE_STATUSES,
  type CaseSituation,
  type CaseStatus,
  canMove,
  casePriority,
  decideRecovery,
  type Evidence,
  evidenceSays,
  FIRST_RETRY_MS,
  MAX_ATTEMPTS,
  type PlaybookMatch,
  playbookFit,
  recoveryRate,
  retryDelayMs,
  SEVERITY_WEIGHT,
  signWebhook,
  slaDueDates,
  TRANSITIONS,
  valueTier,
  verifyWebhook,
} from './policy.js';
import { type ClosedLoopSettings, DEFAULT_CLOSED_LOOP_SETTINGS, type Severity } from './settings.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

type Hours = NonNullable<ClosedLoopSettings['businessHours']>;

const at = (iso: string) => new Date(iso);

// ---------------------------------------------------------------------------------------------
// Priority
// ---------------------------------------------------------------------------------------------

describe('valueTier', () => {
  const TIERS = [1000, 10000] as const;

  test('unknown values are tier 1', () => {
    expect(valueTier(null, TIERS)).toBe(1);
    expect(valueTier(undefined, TIERS)).toBe(1);
    expect(valueTier(Number.NaN, TIERS)).toBe(1);
  });

  test.each([
    [-5, 1],
    [0, 1],
    [999.99, 1],
    [1000, 2],
    [1000.01, 2],
    [9999.99, 2],
    [10000, 3],
    [10000.01, 3],
    [1e9, 3],
  ])('value %d is tier %i (tiers start exactly at 1000 and 10000)', (value, tier) => {
    expect(valueTier(value, TIERS)).toBe(tier);
  });

  test('the tiers are taken from the argument', () => {
    expect(valueTier(49, [50, 500])).toBe(1);
    expect(valueTier(50, [50, 500])).toBe(2);
    expect(valueTier(499, [50, 500])).toBe(2);
    expect(valueTier(500, [50, 500])).toBe(3);
  });
});

describe('casePriority', () => {
  const TIERS = [1000, 10000] as const;
  /** A value in each tier: 1 (below 1000), 2 (1000 … 9999), 3 (10000 and up). */
  const VALUE_IN_TIER = { 1: 0, 2: 1000, 3: 10000 } as const;

  // Severity weight × tier, written out by hand: low 1, medium 2, high 3, critical 4.
  const TABLE: [Severity, 1 | 2 | 3, number, string][] = [
    ['low', 1, 1, 'p4'],
    ['low', 2, 2, 'p4'],
    ['low', 3, 3, 'p3'],
    ['medium', 1, 2, 'p4'],
    ['medium', 2, 4, 'p3'],
    ['medium', 3, 6, 'p2'],
    ['high', 1, 3, 'p3'],
    ['high', 2, 6, 'p2'],
    ['high', 3, 9, 'p1'],
    ['critical', 1, 4, 'p3'],
    ['critical', 2, 8, 'p2'],
    ['critical', 3, 12, 'p1'],
  ];

  test('severity weights run 1 … 4', () => {
    expect(SEVERITY_WEIGHT).toEqual({ low: 1, medium: 2, high: 3, critical: 4 });
  });

  test.each(TABLE)('%s in tier %i scores %i: %s', (severity, tier, score, priority) => {
    expect(casePriority(severity, VALUE_IN_TIER[tier], TIERS)).toEqual({ score, priority });
  });

  test('the thresholds: 9 is p1, 6 is p2, 3 is p3, 2 is p4', () => {
    expect(casePriority('high', 20_000, TIERS)).toEqual({ score: 9, priority: 'p1' });
    expect(casePriority('medium', 10_000, TIERS)).toEqual({ score: 6, priority: 'p2' });
    expect(casePriority('low', 10_000, TIERS)).toEqual({ score: 3, priority: 'p3' });
    expect(casePriority('medium', 0, TIERS)).toEqual({ score: 2, priority: 'p4' });
  });

  test('just below a tier boundary the lower tier counts', () => {
    expect(casePriority('high', 9999, TIERS)).toEqual({ score: 6, priority: 'p2' });
    expect(casePriority('critical', 999, TIERS)).toEqual({ score: 4, priority: 'p3' });
  });

  test('an unknown value counts as tier 1', () => {
    expect(casePriority('critical', null, TIERS)).toEqual({ score: 4, priority: 'p3' });
    expect(casePriority('critical', undefined, TIERS)).toEqual({ score: 4, priority: 'p3' });
    expect(casePriority('high', Number.NaN, TIERS)).toEqual({ score: 3, priority: 'p3' });
    expect(casePriority('low', null, TIERS)).toEqual({ score: 1, priority: 'p4' });
  });
});

// ---------------------------------------------------------------------------------------------
// SLA clocks
// ---------------------------------------------------------------------------------------------

/** Mon–Fri 09:00–17:00 in `timeZone`. */
const office = (timeZone: string, days = [1, 2, 3, 4, 5]): Hours => ({
  timeZone,
  days,
  start: '09:00',
  end: '17:00',
});
const UTC_OFFICE = office('UTC');
const BERLIN_OFFICE = office('Europe/Berlin');
const BERLIN_EVERY_DAY = office('Europe/Berlin', [1, 2, 3, 4, 5, 6, 7]);

// Calendar used below (checked against a calendar, not the code):
// 2026-11-16 Mon, 2026-11-20 Fri, 2026-11-21 Sat, 2026-11-22 Sun, 2026-11-23 Mon.
// Berlin: CET (UTC+1) until Sun 2026-03-29 01:00 UTC, then CEST (UTC+2) until Sun 2026-10-25 01:00 UTC.

describe('addWorkingMinutes without business hours', () => {
  test('adds plain minutes, round the clock', () => {
    expect(addWorkingMinutes(at('2026-11-20T16:00:00Z'), 120, null)).toEqual(at('2026-11-20T18:00:00Z'));
    expect(addWorkingMinutes(at('2026-11-21T23:30:00Z'), 60, null)).toEqual(at('2026-11-22T00:30:00Z'));
    expect(addWorkingMinutes(at('2026-11-20T16:00:00Z'), 1440, null)).toEqual(at('2026-11-21T16:00:00Z'));
  });

  test('keeps seconds and milliseconds, and 0 minutes is the start itself', () => {
    expect(addWorkingMinutes(at('2026-11-20T16:00:30.250Z'), 1, null)).toEqual(
      at('2026-11-20T16:01:30.250Z'),
    );
    expect(addWorkingMinutes(at('2026-11-20T16:00:30.250Z'), 0, null)).toEqual(
      at('2026-11-20T16:00:30.250Z'),
    );
  });

  test('ignores clock changes (it is elapsed time)', () => {
    expect(addWorkingMinutes(at('2026-03-29T00:30:00Z'), 60, null)).toEqual(at('2026-03-29T01:30:00Z'));
  });

  test('does not mutate the start', () => {
    const from = at('2026-11-20T16:00:00Z');
    addWorkingMinutes(from, 120, null);
    addWorkingMinutes(from, 120, UTC_OFFICE);
    expect(from).toEqual(at('2026-11-20T16:00:00Z'));
  });
});

describe('addWorkingMinutes in business hours Mon–Fri 09:00–17:00 UTC', () => {
  test('inside the hours the minutes simply add up', () => {
    expect(addWorkingMinutes(at('2026-11-16T10:00:00Z'), 60, UTC_OFFICE)).toEqual(at('2026-11-16T11:00:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T09:00:00Z'), 60, UTC_OFFICE)).toEqual(at('2026-11-16T10:00:00Z'));
  });

  test('0 minutes inside the hours is the start itself', () => {
    expect(addWorkingMinutes(at('2026-11-16T10:00:00Z'), 0, UTC_OFFICE)).toEqual(at('2026-11-16T10:00:00Z'));
  });

  test('the minutes may run up to exactly 17:00 of the same day', () => {
    expect(addWorkingMinutes(at('2026-11-16T16:00:00Z'), 60, UTC_OFFICE)).toEqual(at('2026-11-16T17:00:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T09:00:00Z'), 480, UTC_OFFICE)).toEqual(
      at('2026-11-16T17:00:00Z'),
    );
  });

  test('one minute more goes on at 09:00 the next working day', () => {
    expect(addWorkingMinutes(at('2026-11-16T16:00:00Z'), 61, UTC_OFFICE)).toEqual(at('2026-11-17T09:01:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T09:00:00Z'), 481, UTC_OFFICE)).toEqual(
      at('2026-11-17T09:01:00Z'),
    );
  });

  test('starting exactly at 17:00 starts counting at 09:00 the next day', () => {
    expect(addWorkingMinutes(at('2026-11-16T17:00:00Z'), 60, UTC_OFFICE)).toEqual(at('2026-11-17T10:00:00Z'));
  });

  test('starting before 09:00 starts counting at 09:00 the same day', () => {
    expect(addWorkingMinutes(at('2026-11-16T07:15:00Z'), 30, UTC_OFFICE)).toEqual(at('2026-11-16T09:30:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T00:00:00Z'), 1, UTC_OFFICE)).toEqual(at('2026-11-16T09:01:00Z'));
  });

  test('starting late in the evening starts counting at 09:00 the next day', () => {
    expect(addWorkingMinutes(at('2026-11-16T23:59:00Z'), 1, UTC_OFFICE)).toEqual(at('2026-11-17T09:01:00Z'));
  });

  test('starting on a Saturday or Sunday starts counting on Monday 09:00', () => {
    expect(addWorkingMinutes(at('2026-11-21T12:00:00Z'), 30, UTC_OFFICE)).toEqual(at('2026-11-23T09:30:00Z'));
    expect(addWorkingMinutes(at('2026-11-22T23:00:00Z'), 30, UTC_OFFICE)).toEqual(at('2026-11-23T09:30:00Z'));
  });

  test('Friday 16:00 + 120 minutes is Monday 10:00 (60 on Friday, 60 on Monday)', () => {
    expect(addWorkingMinutes(at('2026-11-20T16:00:00Z'), 120, UTC_OFFICE)).toEqual(
      at('2026-11-23T10:00:00Z'),
    );
  });

  test('several working days', () => {
    // Mon 09:00 + 3 × 480: Mon, Tue, Wed in full, due at the end of Wednesday.
    expect(addWorkingMinutes(at('2026-11-16T09:00:00Z'), 3 * 480, UTC_OFFICE)).toEqual(
      at('2026-11-18T17:00:00Z'),
    );
    // Mon 13:00 + 3 × 480: 240 Mon, 480 Tue, 480 Wed, 240 Thu.
    expect(addWorkingMinutes(at('2026-11-16T13:00:00Z'), 3 * 480, UTC_OFFICE)).toEqual(
      at('2026-11-19T13:00:00Z'),
    );
    // Wed 13:00 + 3 × 480: 240 Wed, 480 Thu, 480 Fri, the weekend skipped, 240 Mon.
    expect(addWorkingMinutes(at('2026-11-18T13:00:00Z'), 3 * 480, UTC_OFFICE)).toEqual(
      at('2026-11-23T13:00:00Z'),
    );
    // Mon 09:00 + 10 × 480: two full weeks, due Friday of the second week at 17:00.
    expect(addWorkingMinutes(at('2026-11-16T09:00:00Z'), 10 * 480, UTC_OFFICE)).toEqual(
      at('2026-11-27T17:00:00Z'),
    );
  });

  test('a start with seconds keeps its seconds', () => {
    expect(addWorkingMinutes(at('2026-11-16T10:00:30Z'), 60, UTC_OFFICE)).toEqual(at('2026-11-16T11:00:30Z'));
    // 29¼ minutes on Monday up to 17:00, the remaining ¾ minute on Tuesday from 09:00.
    expect(addWorkingMinutes(at('2026-11-16T16:30:45Z'), 30, UTC_OFFICE)).toEqual(at('2026-11-17T09:00:45Z'));
    // Before the hours the seconds do not count: counting starts at 09:00:00.
    expect(addWorkingMinutes(at('2026-11-16T08:59:30Z'), 1, UTC_OFFICE)).toEqual(at('2026-11-16T09:01:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T17:00:30Z'), 1, UTC_OFFICE)).toEqual(at('2026-11-17T09:01:00Z'));
  });

  test('hours with minutes, e.g. 08:30–12:15', () => {
    const hours: Hours = { timeZone: 'UTC', days: [1, 2, 3, 4, 5], start: '08:30', end: '12:15' };
    // 15 minutes on Monday, 15 on Tuesday from 08:30.
    expect(addWorkingMinutes(at('2026-11-16T12:00:00Z'), 30, hours)).toEqual(at('2026-11-17T08:45:00Z'));
    expect(addWorkingMinutes(at('2026-11-16T08:00:00Z'), 225, hours)).toEqual(at('2026-11-16T12:15:00Z'));
  });

  test('custom days: weekend-only support [6, 7]', () => {
    const weekend = office('UTC', [6, 7]);
    // Friday counts nothing: Saturday 09:00 + 60.
    expect(addWorkingMinutes(at('2026-11-20T10:00:00Z'), 60, weekend)).toEqual(at('2026-11-21T10:00:00Z'));
    // Saturday 16:30: 30 on Saturday, 30 on Sunday.
    expect(addWorkingMinutes(at('2026-11-21T16:30:00Z'), 60, weekend)).toEqual(at('2026-11-22T09:30:00Z'));
    // Sunday 16:30: 30 on Sunday, then Monday to Friday skipped, 30 on the next Saturday.
    expect(addWorkingMinutes(at('2026-11-22T16:30:00Z'), 60, weekend)).toEqual(at('2026-11-28T09:30:00Z'));
    // Monday counts nothing: Saturday 09:10.
    expect(addWorkingMinutes(at('2026-11-16T12:00:00Z'), 10, weekend)).toEqual(at('2026-11-21T09:10:00Z'));
  });
});

describe('addWorkingMinutes in Europe/Berlin across the clock changes', () => {
  test('spring forward: Friday 16:00 CET + 120 is Monday 10:00 CEST', () => {
    // Fri 2026-03-27 16:00 CET = 15:00Z; 60 minutes to 17:00 CET = 16:00Z;
    // Mon 2026-03-30 09:00 CEST = 07:00Z, + 60 = 08:00Z.
    expect(addWorkingMinutes(at('2026-03-27T15:00:00Z'), 120, BERLIN_OFFICE)).toEqual(
      at('2026-03-30T08:00:00Z'),
    );
  });

  test('fall back: Friday 16:00 CEST + 120 is Monday 10:00 CET', () => {
    // Fri 2026-10-23 16:00 CEST = 14:00Z; Mon 2026-10-26 09:00 CET = 08:00Z, + 60 = 09:00Z.
    expect(addWorkingMinutes(at('2026-10-23T14:00:00Z'), 120, BERLIN_OFFICE)).toEqual(
      at('2026-10-26T09:00:00Z'),
    );
  });

  test('spring forward, working every day: the day of the change starts at local 09:00', () => {
    // Sat 2026-03-28 16:30 CET = 15:30Z: 30 minutes to 16:00Z; Sun 09:00 CEST = 07:00Z, + 30.
    expect(addWorkingMinutes(at('2026-03-28T15:30:00Z'), 60, BERLIN_EVERY_DAY)).toEqual(
      at('2026-03-29T07:30:00Z'),
    );
  });

  test('fall back, working every day: the day of the change starts at local 09:00', () => {
    // Sat 2026-10-24 16:30 CEST = 14:30Z: 30 minutes to 15:00Z; Sun 09:00 CET = 08:00Z, + 30.
    expect(addWorkingMinutes(at('2026-10-24T14:30:00Z'), 60, BERLIN_EVERY_DAY)).toEqual(
      at('2026-10-25T08:30:00Z'),
    );
  });

  test('starting in the night of the change', () => {
    // Sun 2026-03-29 00:30Z = 01:30 CET, before the change: Monday 09:00 CEST = 07:00Z, + 30.
    expect(addWorkingMinutes(at('2026-03-29T00:30:00Z'), 30, BERLIN_OFFICE)).toEqual(
      at('2026-03-30T07:30:00Z'),
    );
    // Sun 2026-10-25 00:30Z = 02:30 CEST, before the change: Monday 09:00 CET = 08:00Z, + 30.
    expect(addWorkingMinutes(at('2026-10-25T00:30:00Z'), 30, BERLIN_OFFICE)).toEqual(
      at('2026-10-26T08:30:00Z'),
    );
    // Sun 2026-03-29 00:30Z, working every day: Sunday 09:00 CEST = 07:00Z, + 30.
    expect(addWorkingMinutes(at('2026-03-29T00:30:00Z'), 30, BERLIN_EVERY_DAY)).toEqual(
      at('2026-03-29T07:30:00Z'),
    );
    // Sun 2026-10-25 00:30Z, working every day: Sunday 09:00 CET = 08:00Z, + 30.
    expect(addWorkingMinutes(at('2026-10-25T00:30:00Z'), 30, BERLIN_EVERY_DAY)).toEqual(
      at('2026-10-25T08:30:00Z'),
    );
  });

  test('several working days across the change end at local 17:00', () => {
    // Thu 2026-03-26 09:00 CET = 08:00Z + 3 × 480: Thu, Fri, Mon; Mon 17:00 CEST = 15:00Z.
    expect(addWorkingMinutes(at('2026-03-26T08:00:00Z'), 3 * 480, BERLIN_OFFICE)).toEqual(
      at('2026-03-30T15:00:00Z'),
    );
    // Thu 2026-10-22 09:00 CEST = 07:00Z + 3 × 480: Thu, Fri, Mon; Mon 17:00 CET = 16:00Z.
    expect(addWorkingMinutes(at('2026-10-22T07:00:00Z'), 3 * 480, BERLIN_OFFICE)).toEqual(
      at('2026-10-26T16:00:00Z'),
    );
  });

  test('fall back inside the hours: the repeated hour is working time', () => {
    // Sundays 01:00–04:00 local. Sun 2026-10-25: 01:00 CEST = 23:00Z (Sat) … 04:00 CET = 03:00Z,
    // 240 real minutes. 200 minutes from 01:00 CEST = 2026-10-25T02:20Z (03:20 CET).
    const night: Hours = { timeZone: 'Europe/Berlin', days: [7], start: '01:00', end: '04:00' };
    expect(addWorkingMinutes(at('2026-10-24T23:00:00Z'), 200, night)).toEqual(at('2026-10-25T02:20:00Z'));
  });

  // Sundays 01:00–04:00 local. Sun 2026-03-29: 01:00–02:00 CET = 00:00Z–01:00Z, then the clock jumps
  // to 03:00 CEST; 03:00–04:00 CEST = 01:00Z–02:00Z. So that Sunday has only 120 working minutes.
  // The next Sunday, 2026-04-05, 01:00 CEST = 2026-04-04T23:00Z.
  const NIGHT: Hours = { timeZone: 'Europe/Berlin', days: [7], start: '01:00', end: '04:00' };

  test('spring forward inside the hours: the result stays inside the hours', () => {
    // 120 on 2026-03-29, the remaining 30 on 2026-04-05 from 01:00 CEST.
    expect(addWorkingMinutes(at('2026-03-29T00:00:00Z'), 150, NIGHT)).toEqual(at('2026-04-04T23:30:00Z'));
  });

  test('spring forward inside the hours: the skipped hour is not working time', () => {
    // 120 on 2026-03-29, the remaining 80 on 2026-04-05 from 01:00 CEST = 23:00Z → 00:20Z.
    expect(addWorkingMinutes(at('2026-03-29T00:00:00Z'), 200, NIGHT)).toEqual(at('2026-04-05T00:20:00Z'));
  });
});

/** The local weekday (1 Monday … 7 Sunday) and the local time in minutes (with seconds) of `date`. */
const clockOf = (date: Date, timeZone: string) => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(part('weekday')) + 1;
  return { day, minutes: Number(part('hour')) * 60 + Number(part('minute')) + Number(part('second')) / 60 };
};

const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

describe('addWorkingMinutes properties', () => {
  test('the local clock helper agrees with known instants', () => {
    expect(clockOf(at('2026-03-29T07:30:15Z'), 'Europe/Berlin')).toEqual({ day: 7, minutes: 9 * 60 + 30.25 });
    expect(clockOf(at('2026-11-20T00:00:00Z'), 'UTC')).toEqual({ day: 5, minutes: 0 });
  });

  test('without business hours the result is exactly `minutes` later', () => {
    fc.assert(
      fc.property(
        fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2099-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.integer({ min: 0, max: 525_600 }),
        (from, minutes) => {
          expect(addWorkingMinutes(from, minutes, null).getTime()).toBe(from.getTime() + minutes * MINUTE);
        },
      ),
    );
  });

  // Dates anywhere, and dates in the weeks of the 2026 clock changes in Europe, America and Australia.
  const dates = fc.oneof(
    fc.date({ min: at('2000-01-01T00:00:00Z'), max: at('2099-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.date({ min: at('2026-03-06T00:00:00Z'), max: at('2026-04-07T00:00:00Z'), noInvalidDate: true }),
    fc.date({ min: at('2026-09-30T00:00:00Z'), max: at('2026-11-03T00:00:00Z'), noInvalidDate: true }),
  );
  // The clock changes of these zones are all between 00:00 and 04:00 local; hours from 05:00 keep
  // them outside the business hours (the change inside the hours has its own tests above).
  // At least 30 minutes a day keeps 5000 minutes within a few years (very long spans: see below).
  const zones = fc.constantFrom(
    'UTC',
    'Europe/Berlin',
    'America/New_York',
    'Australia/Sydney',
    'Asia/Kolkata',
  );
  const hours = fc
    .tuple(
      zones,
      fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
      fc.integer({ min: 5 * 60, max: 1409 }),
      fc.integer({ min: 30, max: 1439 }),
    )
    .map(([timeZone, days, start, length]) => {
      const end = Math.min(1439, start + length);
      return { timeZone, days, start: hhmm(start), end: hhmm(end), startMinutes: start, endMinutes: end };
    });

  test('never before `from`; with minutes > 0 on an allowed day within [start, end] local time', () => {
    fc.assert(
      fc.property(dates, hours, fc.integer({ min: 0, max: 5000 }), (from, h, minutes) => {
        const result = addWorkingMinutes(from, minutes, {
          timeZone: h.timeZone,
          days: h.days,
          start: h.start,
          end: h.end,
        });
        expect(result.getTime()).toBeGreaterThanOrEqual(from.getTime());
        if (minutes === 0) return;
        expect(result.getTime()).toBeGreaterThan(from.getTime());
        const clock = clockOf(result, h.timeZone);
        expect(h.days).toContain(clock.day);
        expect(clock.minutes).toBeGreaterThanOrEqual(h.startMinutes);
        expect(clock.minutes).toBeLessThanOrEqual(h.endMinutes);
      }),
      { numRuns: 300 },
    );
  });

  test('in UTC, exactly `minutes` working minutes lie between `from` and the result, the last one working', () => {
    // Oracle: walk minute by minute and count the minutes inside the hours.
    const isoDay = (ms: number) => ((Math.floor(ms / DAY) + 3) % 7) + 1; // 1970-01-01 was a Thursday
    const minuteOfDay = (ms: number) => Math.floor((ms % DAY) / MINUTE);
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1) / MINUTE, max: Date.UTC(2099, 0, 1) / MINUTE }),
        fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 0, max: 1380 }),
        fc.integer({ min: 60, max: 1439 }),
        fc.integer({ min: 1, max: 2000 }),
        (fromMinute, days, start, length, minutes) => {
          const end = Math.min(1439, start + length);
          const working = (ms: number) =>
            days.includes(isoDay(ms)) && minuteOfDay(ms) >= start && minuteOfDay(ms) < end;
          const from = fromMinute * MINUTE;
          const result = addWorkingMinutes(new Date(from), minutes, {
            timeZone: 'UTC',
            days,
            start: hhmm(start),
            end: hhmm(end),
          }).getTime();
          expect(result % MINUTE).toBe(0);
          let counted = 0;
          for (let m = from; m < result; m += MINUTE) if (working(m)) counted++;
          expect(counted).toBe(minutes);
          expect(working(result - MINUTE)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('addWorkingMinutes over very long spans', () => {
  test('a long SLA on sparse hours still ends on the right day', () => {
    // Mondays 05:00–05:01 UTC: one working minute a week (the settings schema allows it, and SLAs of
    // up to 525 600 minutes). 2000 minutes from Monday 2026-11-16 00:00 end on the 2000th Monday,
    // 1999 weeks later, at 05:01.
    const hours: Hours = { timeZone: 'UTC', days: [1], start: '05:00', end: '05:01' };
    expect(addWorkingMinutes(at('2026-11-16T00:00:00Z'), 2000, hours)).toEqual(
      new Date(Date.parse('2026-11-16T05:01:00Z') + 1999 * 7 * DAY),
    );
  });
});

describe('slaDueDates', () => {
  const OPENED = at('2026-11-20T16:00:00Z'); // a Friday

  test('around the clock with the default SLAs', () => {
    const settings = DEFAULT_CLOSED_LOOP_SETTINGS;
    expect(settings.businessHours).toBeNull();
    // low 2880 / 10080, medium 480 / 4320, high 120 / 1440, critical 30 / 480 minutes.
    expect(slaDueDates(OPENED, 'low', settings)).toEqual({
      firstResponseDueAt: at('2026-11-22T16:00:00Z'),
      resolveDueAt: at('2026-11-27T16:00:00Z'),
    });
    expect(slaDueDates(OPENED, 'medium', settings)).toEqual({
      firstResponseDueAt: at('2026-11-21T00:00:00Z'),
      resolveDueAt: at('2026-11-23T16:00:00Z'),
    });
    expect(slaDueDates(OPENED, 'high', settings)).toEqual({
      firstResponseDueAt: at('2026-11-20T18:00:00Z'),
      resolveDueAt: at('2026-11-21T16:00:00Z'),
    });
    expect(slaDueDates(OPENED, 'critical', settings)).toEqual({
      firstResponseDueAt: at('2026-11-20T16:30:00Z'),
      resolveDueAt: at('2026-11-21T00:00:00Z'),
    });
  });

  test('in business hours with the default SLAs', () => {
    const settings = { sla: DEFAULT_CLOSED_LOOP_SETTINGS.sla, businessHours: UTC_OFFICE };
    // Friday 16:00 leaves 60 minutes on Friday; then 480 per working day.
    // critical: 30 on Friday; 480 = 60 Fri + 420 Mon.
    expect(slaDueDates(OPENED, 'critical', settings)).toEqual({
      firstResponseDueAt: at('2026-11-20T16:30:00Z'),
      resolveDueAt: at('2026-11-23T16:00:00Z'),
    });
    // high: 120 = 60 Fri + 60 Mon; 1440 = 60 Fri + 480 Mon + 480 Tue + 420 Wed.
    expect(slaDueDates(OPENED, 'high', settings)).toEqual({
      firstResponseDueAt: at('2026-11-23T10:00:00Z'),
      resolveDueAt: at('2026-11-25T16:00:00Z'),
    });
    // medium: 480 = 60 Fri + 420 Mon; 4320 = 60 Fri + 8 full days (Mon 23 … Wed 2 Dec) + 420 Thu 3 Dec.
    expect(slaDueDates(OPENED, 'medium', settings)).toEqual({
      firstResponseDueAt: at('2026-11-23T16:00:00Z'),
      resolveDueAt: at('2026-12-03T16:00:00Z'),
    });
    // low: 2880 = 60 Fri + 5 full days (Mon 23 … Fri 27) + 420 Mon 30;
    // 10080 = 60 Fri + 20 full days (Mon 23 Nov … Fri 18 Dec) + 420 Mon 21 Dec.
    expect(slaDueDates(OPENED, 'low', settings)).toEqual({
      firstResponseDueAt: at('2026-11-30T16:00:00Z'),
      resolveDueAt: at('2026-12-21T16:00:00Z'),
    });
  });

  test("uses the case severity's own minutes", () => {
    const sla = {
      low: { firstResponseMinutes: 1, resolveMinutes: 2 },
      medium: { firstResponseMinutes: 3, resolveMinutes: 4 },
      high: { firstResponseMinutes: 5, resolveMinutes: 6 },
      critical: { firstResponseMinutes: 7, resolveMinutes: 8 },
    };
    const opened = at('2026-11-16T10:00:00Z');
    const settings = { sla, businessHours: null };
    expect(slaDueDates(opened, 'low', settings)).toEqual({
      firstResponseDueAt: at('2026-11-16T10:01:00Z'),
      resolveDueAt: at('2026-11-16T10:02:00Z'),
    });
    expect(slaDueDates(opened, 'medium', settings)).toEqual({
      firstResponseDueAt: at('2026-11-16T10:03:00Z'),
      resolveDueAt: at('2026-11-16T10:04:00Z'),
    });
    expect(slaDueDates(opened, 'high', settings)).toEqual({
      firstResponseDueAt: at('2026-11-16T10:05:00Z'),
      resolveDueAt: at('2026-11-16T10:06:00Z'),
    });
    expect(slaDueDates(opened, 'critical', settings)).toEqual({
      firstResponseDueAt: at('2026-11-16T10:07:00Z'),
      resolveDueAt: at('2026-11-16T10:08:00Z'),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Workflow
// ---------------------------------------------------------------------------------------------

describe('canMove and TRANSITIONS', () => {
  test('every status has an entry', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...CASE_STATUSES].sort());
  });

  test('the workflow open → in_progress → customer_contacted → resolved → closed is allowed', () => {
    expect(canMove('open', 'in_progress')).toBe(true);
    expect(canMove('in_progress', 'customer_contacted')).toBe(true);
    expect(canMove('customer_contacted', 'resolved')).toBe(true);
    expect(canMove('resolved', 'closed')).toBe(true);
  });

  test('forward steps may be skipped up to resolved', () => {
    expect(canMove('open', 'customer_contacted')).toBe(true);
    expect(canMove('open', 'resolved')).toBe(true);
    expect(canMove('in_progress', 'resolved')).toBe(true);
  });

  test('a resolved case may be reopened to in_progress', () => {
    expect(canMove('resolved', 'in_progress')).toBe(true);
  });

  test('only a resolved case can be closed', () => {
    for (const from of CASE_STATUSES) expect(canMove(from, 'closed')).toBe(from === 'resolved');
  });

  test('a closed case is final', () => {
    expect(TRANSITIONS.closed).toEqual([]);
    for (const to of CASE_STATUSES) expect(canMove('closed', to)).toBe(false);
  });

  test.each(CASE_STATUSES)('no self-transition from %s', (status: CaseStatus) => {
    expect(canMove(status, status)).toBe(false);
  });

  test.each(CASE_STATUSES)('nothing goes back to open, not even from %s', (status: CaseStatus) => {
    expect(canMove(status, 'open')).toBe(false);
  });

  test('a resolved case does not go back to customer_contacted', () => {
    expect(canMove('resolved', 'customer_contacted')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Playbooks
// ---------------------------------------------------------------------------------------------

describe('playbookFit and bestPlaybook', () => {
  const SITUATION: CaseSituation = {
    touchpoint: 'billing',
    rootCause: 'process',
    personalityType: 'analytical',
    lifecycleStage: 'renewal',
    severity: 'high',
  };
  const ALL: PlaybookMatch = {
    touchpoints: ['billing'],
    rootCauses: ['process', 'people'],
    personalityTypes: ['analytical'],
    lifecycleStages: ['renewal'],
    severities: ['high', 'critical'],
  };

  test('absent or empty criteria match anything, scoring 0', () => {
    expect(playbookFit({}, SITUATION)).toBe(0);
    expect(
      playbookFit(
        { touchpoints: [], rootCauses: [], personalityTypes: [], lifecycleStages: [], severities: [] },
        SITUATION,
      ),
    ).toBe(0);
    const blank: CaseSituation = {
      touchpoint: null,
      rootCause: null,
      personalityType: null,
      lifecycleStage: null,
      severity: 'low',
    };
    expect(playbookFit({}, blank)).toBe(0);
    expect(playbookFit({ rootCauses: [] }, blank)).toBe(0);
  });

  test('each named criterion that holds scores 1', () => {
    expect(playbookFit({ touchpoints: ['delivery', 'billing'] }, SITUATION)).toBe(1);
    expect(playbookFit({ touchpoints: ['billing'], severities: ['high'] }, SITUATION)).toBe(2);
    expect(playbookFit({ ...ALL, rootCauses: [] }, SITUATION)).toBe(4);
    expect(playbookFit(ALL, SITUATION)).toBe(5);
  });

  test.each([
    ['touchpoints', { ...ALL, touchpoints: ['delivery'] }],
    ['rootCauses', { ...ALL, rootCauses: ['system'] }],
    ['personalityTypes', { ...ALL, personalityTypes: ['amiable'] }],
    ['lifecycleStages', { ...ALL, lifecycleStages: ['onboarding'] }],
    ['severities', { ...ALL, severities: ['low'] }],
  ] as [string, PlaybookMatch][])('one failing criterion (%s) excludes the playbook', (_name, match) => {
    expect(playbookFit(match, SITUATION)).toBeNull();
  });

  test('a missing situation value does not match a named criterion', () => {
    expect(playbookFit({ touchpoints: ['billing'] }, { ...SITUATION, touchpoint: null })).toBeNull();
    expect(playbookFit({ rootCauses: ['process'] }, { ...SITUATION, rootCause: null })).toBeNull();
    expect(
      playbookFit({ personalityTypes: ['analytical'] }, { ...SITUATION, personalityType: null }),
    ).toBeNull();
    expect(playbookFit({ lifecycleStages: ['renewal'] }, { ...SITUATION, lifecycleStage: null })).toBeNull();
  });

  test('no playbooks, or none that fits: null', () => {
    expect(bestPlaybook([], SITUATION)).toBeNull();
    expect(
      bestPlaybook(
        [
          { id: 1, match: { touchpoints: ['delivery'] } },
          { id: 2, match: { severities: ['low'] } },
        ],
        SITUATION,
      ),
    ).toBeNull();
  });

  test('the most specific fitting playbook wins, whatever its id and position', () => {
    const generic = { id: 1, match: {} };
    const byTouchpoint = { id: 5, match: { touchpoints: ['billing'] } };
    const specific = {
      id: 9,
      match: { touchpoints: ['billing'], severities: ['high'], rootCauses: ['process'] },
    };
    const moreSpecificButExcluded = { id: 2, match: { ...ALL, lifecycleStages: ['onboarding'] } };
    const playbooks = [generic, byTouchpoint, specific, moreSpecificButExcluded];
    expect(bestPlaybook(playbooks, SITUATION)).toBe(specific);
    expect(bestPlaybook([...playbooks].reverse(), SITUATION)).toBe(specific);
    expect(bestPlaybook([generic, byTouchpoint], SITUATION)).toBe(byTouchpoint);
    expect(bestPlaybook([generic], SITUATION)).toBe(generic);
  });

  test('ties go to the lowest id regardless of order', () => {
    const a = { id: 3, match: { severities: ['high'] } };
    const b = { id: 7, match: { touchpoints: ['billing'] } };
    const c = { id: 12, match: { rootCauses: ['process'] } };
    expect(bestPlaybook([a, b, c], SITUATION)).toBe(a);
    expect(bestPlaybook([c, b, a], SITUATION)).toBe(a);
    expect(bestPlaybook([b, c, a], SITUATION)).toBe(a);
    expect(bestPlaybook([c, b], SITUATION)).toBe(b);
    // Two catch-alls: the older one.
    expect(
      bestPlaybook(
        [
          { id: 20, match: {} },
          { id: 4, match: {} },
        ],
        SITUATION,
      )?.id,
    ).toBe(4);
  });
});

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

describe('evidenceSays', () => {
  const T = at('2026-02-01T00:00:00Z');

  test.each([
    [5, 'recovered'],
    [4, 'recovered'],
    [3, 'recovered'],
    [2, 'not_recovered'],
    [1, 'not_recovered'],
  ])('feedback rated %i: %s', (rating, says) => {
    expect(evidenceSays({ kind: 'feedback', at: T, experienceRating: rating }, 'billing')).toBe(says);
  });

  test('feedback without a rating says nothing', () => {
    expect(evidenceSays({ kind: 'feedback', at: T, experienceRating: null }, 'billing')).toBeNull();
  });

  test.each([
    ['renewal', 'recovered'],
    ['purchase', 'recovered'],
    ['upgrade', 'recovered'],
    ['churn', 'not_recovered'],
    ['cancellation', 'not_recovered'],
    ['downgrade', 'not_recovered'],
    ['contract_end', 'not_recovered'],
  ])('event %s: %s', (type, says) => {
    expect(evidenceSays({ kind: 'event', at: T, type }, 'billing')).toBe(says);
  });

  test.each(['login', 'page_view', 'support_ticket', ''])('event %j says nothing', (type) => {
    expect(evidenceSays({ kind: 'event', at: T, type }, 'billing')).toBeNull();
  });

  test('a contact at the same touchpoint: not recovered', () => {
    expect(evidenceSays({ kind: 'interaction', at: T, touchpoint: 'billing' }, 'billing')).toBe(
      'not_recovered',
    );
  });

  test('a contact at another touchpoint, or without one, says nothing', () => {
    expect(evidenceSays({ kind: 'interaction', at: T, touchpoint: 'delivery' }, 'billing')).toBeNull();
    expect(evidenceSays({ kind: 'interaction', at: T, touchpoint: null }, 'billing')).toBeNull();
  });

  test('a case without a touchpoint is not matched by contacts without one', () => {
    expect(evidenceSays({ kind: 'interaction', at: T, touchpoint: null }, null)).toBeNull();
    expect(evidenceSays({ kind: 'interaction', at: T, touchpoint: 'billing' }, null)).toBeNull();
  });
});

describe('decideRecovery', () => {
  const CLOSED = at('2026-01-10T12:00:00Z');
  // 90 days later: 21 days to 31 Jan, 28 in February, 31 in March, 10 in April.
  const WINDOW_END = at('2026-04-10T12:00:00Z');
  const decide = (evidence: Evidence[], now = at('2026-01-20T00:00:00Z')) =>
    decideRecovery({ closedAt: CLOSED, now, windowDays: 90, touchpoint: 'billing', evidence });
  const day = (n: number) => new Date(CLOSED.getTime() + n * DAY);

  test('good feedback after closing: recovered, at the feedback, naming the rating', () => {
    expect(decide([{ kind: 'feedback', at: day(3), experienceRating: 4 }])).toEqual({
      recovery: 'recovered',
      reason: 'next feedback: rated 4',
      at: day(3),
    });
  });

  test('neutral feedback (3) counts as recovered, poor (2) does not', () => {
    expect(decide([{ kind: 'feedback', at: day(3), experienceRating: 3 }])?.recovery).toBe('recovered');
    expect(decide([{ kind: 'feedback', at: day(3), experienceRating: 2 }])).toEqual({
      recovery: 'not_recovered',
      reason: 'next feedback: rated 2',
      at: day(3),
    });
  });

  test('a business event decides, naming the event', () => {
    expect(decide([{ kind: 'event', at: day(5), type: 'renewal' }])).toEqual({
      recovery: 'recovered',
      reason: 'next business event: renewal',
      at: day(5),
    });
    expect(decide([{ kind: 'event', at: day(5), type: 'churn' }])).toEqual({
      recovery: 'not_recovered',
      reason: 'next business event: churn',
      at: day(5),
    });
  });

  test('a contact at the same touchpoint decides not recovered, naming the touchpoint', () => {
    expect(decide([{ kind: 'interaction', at: day(2), touchpoint: 'billing' }])).toEqual({
      recovery: 'not_recovered',
      reason: 'contacted again at the same touchpoint: billing',
      at: day(2),
    });
  });

  test('evidence before or exactly at closing is ignored', () => {
    expect(decide([{ kind: 'event', at: day(-1), type: 'churn' }])).toBeNull();
    expect(decide([{ kind: 'event', at: CLOSED, type: 'churn' }])).toBeNull();
    expect(decide([{ kind: 'event', at: new Date(CLOSED.getTime() + 1), type: 'churn' }])?.recovery).toBe(
      'not_recovered',
    );
  });

  test('evidence exactly at the end of the window counts, later evidence is ignored', () => {
    const now = at('2026-06-01T00:00:00Z');
    expect(decide([{ kind: 'event', at: WINDOW_END, type: 'upgrade' }], now)).toEqual({
      recovery: 'recovered',
      reason: 'next business event: upgrade',
      at: WINDOW_END,
    });
    expect(
      decide([{ kind: 'event', at: new Date(WINDOW_END.getTime() + 1), type: 'upgrade' }], now)?.recovery,
    ).toBe('unknown');
  });

  test('the earliest deciding evidence wins, whatever the input order', () => {
    const early: Evidence = { kind: 'feedback', at: day(4), experienceRating: 1 };
    const late: Evidence = { kind: 'event', at: day(40), type: 'renewal' };
    const later: Evidence = { kind: 'interaction', at: day(60), touchpoint: 'billing' };
    const expected = { recovery: 'not_recovered', reason: 'next feedback: rated 1', at: day(4) };
    expect(decide([early, late, later])).toEqual(expected);
    expect(decide([later, late, early])).toEqual(expected);
    expect(decide([late, early, later])).toEqual(expected);
    expect(decide([later, late])).toEqual({
      recovery: 'recovered',
      reason: 'next business event: renewal',
      at: day(40),
    });
  });

  test('evidence that says nothing is skipped, however early', () => {
    const silent: Evidence[] = [
      { kind: 'feedback', at: day(1), experienceRating: null },
      { kind: 'event', at: day(2), type: 'login' },
      { kind: 'interaction', at: day(3), touchpoint: 'delivery' },
      { kind: 'interaction', at: day(4), touchpoint: null },
    ];
    const deciding: Evidence = { kind: 'event', at: day(30), type: 'purchase' };
    expect(decide([deciding, ...silent])).toEqual({
      recovery: 'recovered',
      reason: 'next business event: purchase',
      at: day(30),
    });
    expect(decide(silent)).toBeNull();
  });

  test('no deciding evidence: pending up to the end of the window, then unknown at the window end', () => {
    expect(decide([], CLOSED)).toBeNull();
    expect(decide([], WINDOW_END)).toBeNull();
    const unknown = {
      recovery: 'unknown',
      reason: 'no feedback or behaviour within 90 days of closing',
      at: WINDOW_END,
    };
    expect(decide([], new Date(WINDOW_END.getTime() + 1))).toEqual(unknown);
    expect(decide([{ kind: 'event', at: day(-2), type: 'renewal' }], at('2027-01-01T00:00:00Z'))).toEqual(
      unknown,
    );
  });

  test('the unknown reason names the window', () => {
    const result = decideRecovery({
      closedAt: CLOSED,
      now: at('2026-03-01T00:00:00Z'),
      windowDays: 30,
      touchpoint: null,
      evidence: [],
    });
    expect(result).toEqual({
      recovery: 'unknown',
      reason: 'no feedback or behaviour within 30 days of closing',
      at: at('2026-02-09T12:00:00Z'),
    });
  });

  test('a decision does not wait for the window to end', () => {
    expect(decide([{ kind: 'event', at: day(1), type: 'renewal' }], day(2))?.recovery).toBe('recovered');
  });
});

describe('recoveryRate', () => {
  test('null when nothing is decided', () => {
    expect(recoveryRate(0, 0)).toBeNull();
  });

  test('recovered out of decided', () => {
    expect(recoveryRate(3, 1)).toBe(0.75);
    expect(recoveryRate(1, 1)).toBe(0.5);
    expect(recoveryRate(0, 2)).toBe(0);
    expect(recoveryRate(5, 0)).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Delivery
// ---------------------------------------------------------------------------------------------

describe('retryDelayMs', () => {
  test('1 s after the first attempt, then ×4 each time', () => {
    expect(FIRST_RETRY_MS).toBe(1000);
    expect(retryDelayMs(1)).toBe(1_000);
    expect(retryDelayMs(2)).toBe(4_000);
    expect(retryDelayMs(3)).toBe(16_000);
    expect(retryDelayMs(4)).toBe(64_000);
    expect(retryDelayMs(5)).toBe(256_000);
    expect(retryDelayMs(6)).toBe(1_024_000);
    expect(retryDelayMs(7)).toBe(4_096_000);
    expect(retryDelayMs(8)).toBe(16_384_000);
    expect(retryDelayMs(9)).toBe(65_536_000);
  });

  test('null at and after the last attempt', () => {
    expect(MAX_ATTEMPTS).toBe(10);
    expect(retryDelayMs(10)).toBeNull();
    expect(retryDelayMs(11)).toBeNull();
    expect(retryDelayMs(100)).toBeNull();
  });

  test('a custom maximum', () => {
    expect(retryDelayMs(2, 3)).toBe(4_000);
    expect(retryDelayMs(3, 3)).toBeNull();
    expect(retryDelayMs(1, 1)).toBeNull();
  });

  test('the waits between the attempts of one delivery span about 24 hours, as documented', () => {
    // policy.ts: "10 attempts span about 24 hours". The waits after attempts 1 … MAX_ATTEMPTS − 1.
    let total = 0;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) total += retryDelayMs(attempt) ?? 0;
    expect(total).toBeGreaterThan(20 * HOUR);
    expect(total).toBeLessThan(28 * HOUR);
  });
});

describe('signWebhook and verifyWebhook', () => {
  const SECRET = 'whsec_3f9a';
  const BODY = '{"event":"case.opened","id":42}';
  const TS = 1_790_000_000;
  const NOW = new Date(TS * 1000 + 400); // the receiver's clock, 0.4 s later
  const independent = (secret: string, timestamp: number, body: string) =>
    createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

  test('the signature is v1= and the hex HMAC-SHA256 of "<timestamp>.<body>"', () => {
    const signature = signWebhook(SECRET, TS, BODY);
    expect(signature.startsWith('v1=')).toBe(true);
    expect(signature.slice(3)).toBe(independent(SECRET, TS, BODY));
    expect(signature.slice(3)).toMatch(/^[0-9a-f]{64}$/);
  });

  const verify = (overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {}) =>
    verifyWebhook({
      secret: SECRET,
      body: BODY,
      signature: `v1=${independent(SECRET, TS, BODY)}`,
      timestamp: String(TS),
      now: NOW,
      ...overrides,
    });

  test('accepts an independently computed signature', () => {
    expect(verify()).toBe(true);
  });

  test('refuses a changed body, a wrong secret, or a changed timestamp', () => {
    expect(verify({ body: '{"event":"case.opened","id":43}' })).toBe(false);
    expect(verify({ body: `${BODY} ` })).toBe(false);
    expect(verify({ secret: 'whsec_other' })).toBe(false);
    expect(verify({ timestamp: String(TS + 1) })).toBe(false);
  });

  test('accepts a timestamp up to 300 s either side of the clock, refuses one further away', () => {
    const at = (timestamp: number) =>
      verify({ timestamp: String(timestamp), signature: signWebhook(SECRET, timestamp, BODY) });
    expect(at(TS - 300)).toBe(true);
    expect(at(TS + 300)).toBe(true);
    expect(at(TS - 301)).toBe(false);
    expect(at(TS + 301)).toBe(false);
    expect(at(TS - 86_400)).toBe(false);
  });

  test('a custom tolerance', () => {
    const signed = (timestamp: number) => ({
      timestamp: String(timestamp),
      signature: signWebhook(SECRET, timestamp, BODY),
      toleranceSeconds: 10,
    });
    expect(verify(signed(TS - 10))).toBe(true);
    expect(verify(signed(TS + 10))).toBe(true);
    expect(verify(signed(TS - 11))).toBe(false);
    expect(verify(signed(TS + 11))).toBe(false);
  });

  test('without now it checks against the current clock', () => {
    const timestamp = Math.floor(Date.now() / 1000);
    expect(
      verifyWebhook({
        secret: SECRET,
        body: BODY,
        signature: signWebhook(SECRET, timestamp, BODY),
        timestamp: String(timestamp),
      }),
    ).toBe(true);
  });

  test('refuses a missing signature or timestamp header', () => {
    expect(verify({ signature: undefined })).toBe(false);
    expect(verify({ signature: '' })).toBe(false);
    expect(verify({ timestamp: undefined })).toBe(false);
  });

  test('refuses a timestamp that is not an integer', () => {
    expect(verify({ timestamp: `${TS}.5` })).toBe(false);
    expect(verify({ timestamp: 'yesterday' })).toBe(false);
    expect(verify({ timestamp: 'NaN' })).toBe(false);
  });

  test('refuses a signature of another length without throwing', () => {
    const hex = independent(SECRET, TS, BODY);
    expect(() => verify({ signature: `v1=${hex.slice(0, -2)}` })).not.toThrow();
    expect(verify({ signature: `v1=${hex.slice(0, -2)}` })).toBe(false);
    expect(verify({ signature: `v1=${hex}00` })).toBe(false);
    expect(verify({ signature: hex })).toBe(false);
    expect(verify({ signature: 'v1=' })).toBe(false);
  });

  test('refuses a signature of the same length that differs', () => {
    const hex = independent(SECRET, TS, BODY);
    const flipped = `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
    expect(verify({ signature: `v1=${flipped}` })).toBe(false);
    expect(verify({ signature: `v1=${hex.toUpperCase()}` })).toBe(false);
    expect(verify({ signature: `v0=${hex}` })).toBe(false);
  });
});
