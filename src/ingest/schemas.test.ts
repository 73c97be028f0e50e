import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  CHANNELS,
  EVENT_TYPES,
  FEEDBACK_SOURCES,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
  type RecordType,
} from '../domain/vocabulary.js';
import { recordParsers, recordSchemas } from './schemas.js';

// The fast path (recordParsers) must agree with the Zod schemas on every input: accept exactly what
// Zod accepts, and give the same value. Records are drawn field by field from valid values, values
// at and beyond each limit, and values of the wrong kind.

const NUL = String.fromCharCode(0);
const chars = (n: number) => 'x'.repeat(n);
const junk = fc.constantFrom<unknown>(
  null,
  '',
  ' ',
  `a${NUL}b`,
  'a\uD800b',
  'tab\there',
  'new\nline',
  0,
  -1,
  1.5,
  1e13,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  false,
  [],
  ['a'],
  {},
  { a: 1 },
  '2026-13-01',
  'yesterday',
  chars(101),
  chars(201),
  chars(2001),
);
/** Mostly ordinary values, now and then one at or just beyond a limit. */
const mostly = (ordinary: fc.Arbitrary<unknown>, ...edges: unknown[]) =>
  fc.oneof({ weight: 8, arbitrary: ordinary }, { weight: 1, arbitrary: fc.constantFrom(...edges) });
const text = (max: number) =>
  mostly(fc.string({ minLength: 1, maxLength: 12 }), chars(max), chars(max + 1), 'Ünïcødé ✓');
const id = mostly(fc.stringMatching(/^[A-Z]-[0-9]{1,6}$/), chars(200), chars(201), 'a\u0007b');
const timestamp = mostly(
  fc
    .date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  '2026-03-01',
  '2026-03-01T10:00:00+02:00',
  '2026-03-01 10:00',
  '2026-02-30T00:00:00Z',
);
const int = (min: number, max: number) =>
  mostly(fc.integer({ min, max }), min - 1, max + 1, min + 0.5, String(min));
const double = (min: number, max: number) =>
  mostly(fc.double({ min, max, noNaN: true }), min - 1, max + 1, Number.NaN, Number.POSITIVE_INFINITY);
const scalar = mostly(
  fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  ),
  Number.NaN,
  chars(2001),
  { nested: true },
);
const keyed = (value: fc.Arbitrary<unknown>) =>
  mostly(
    fc.dictionary(
      mostly(fc.string({ minLength: 1, maxLength: 8 }), '', chars(101)) as fc.Arbitrary<string>,
      value,
      { maxKeys: 4 },
    ),
    Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i])),
  );
const answer = mostly(
  fc.oneof(scalar, fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 })),
  chars(20_001),
  [1, 2],
);
const oneOf = (values: readonly string[], wrong: string) => mostly(fc.constantFrom(...values), wrong);

const fields: Record<RecordType, Record<string, fc.Arbitrary<unknown>>> = {
  customers: {
    externalId: id,
    name: text(200),
    email: mostly(
      fc.constantFrom('ann@example.com', 'b.o+b@mail.example.org'),
      'not-an-email',
      `${chars(320)}@x.io`,
    ),
    phone: mostly(fc.constantFrom('+44 20 7946 0000', '(555) 123-4567'), '12', 'call me'),
    locale: mostly(fc.constantFrom('en', 'en-GB', 'pt_BR'), 'english', 'e'),
    segment: text(100),
    lifecycleStage: oneOf(LIFECYCLE_STAGES, 'old'),
    personalityType: oneOf(PERSONALITY_TYPES, 'grumpy'),
    value: double(-1e12, 1e12),
    attributes: keyed(scalar),
  },
  interactions: {
    externalId: id,
    customerId: id,
    channel: oneOf(CHANNELS, 'telegraph'),
    touchpoint: text(100),
    occurredAt: timestamp,
    agent: text(200),
    team: text(200),
    waitSeconds: double(0, 10_000_000),
    handleSeconds: double(0, 10_000_000),
    transfers: int(0, 1000),
    resolved: mostly(fc.boolean(), 'yes'),
    outcome: text(100),
    attributes: keyed(scalar),
  },
  feedback: {
    externalId: id,
    customerId: id,
    interactionId: id,
    source: oneOf(FEEDBACK_SOURCES, 'pigeon'),
    channel: oneOf(CHANNELS, 'telegraph'),
    touchpoint: text(100),
    occurredAt: timestamp,
    nps: int(0, 10),
    csat: int(1, 5),
    ces: int(1, 7),
    answers: keyed(answer),
    text: mostly(fc.string({ maxLength: 10 }), '   ', chars(20_000), chars(20_001)),
  },
  events: {
    externalId: id,
    customerId: id,
    type: oneOf(EVENT_TYPES, 'party'),
    occurredAt: timestamp,
    amount: double(-1e12, 1e12),
    attributes: keyed(scalar),
  },
};

/** A record whose each field is absent, valid-looking (mostly) or of the wrong kind, and sometimes an unknown field. */
const records = (type: RecordType) =>
  fc
    .tuple(
      ...Object.entries(fields[type]).map(([key, valid]) =>
        fc.oneof(
          { weight: 4, arbitrary: fc.constant([key, undefined] as const) },
          { weight: 30, arbitrary: valid.map((value) => [key, value] as const) },
          { weight: 1, arbitrary: junk.map((value) => [key, value] as const) },
        ),
      ),
      fc.oneof(
        { weight: 30, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constant('colour') },
      ),
    )
    .map((parts) => {
      const entries = parts.slice(0, -1) as (readonly [string, unknown])[];
      const extra = parts.at(-1) as string | undefined;
      const out: Record<string, unknown> = {};
      for (const [key, value] of entries) if (value !== undefined) out[key] = value;
      if (extra) out[extra] = 'red';
      return out;
    });

describe.each(Object.keys(fields) as RecordType[])(
  'the fast path of %s agrees with the Zod schema',
  (type) => {
    test('on random records: accepts exactly what Zod accepts, with the same value', () => {
      let accepted = 0;
      fc.assert(
        fc.property(records(type), (input) => {
          const before = structuredClone(input);
          const fast = recordParsers[type](input);
          const zod = recordSchemas[type].safeParse(input);
          expect(fast !== undefined, JSON.stringify(zod.error?.issues ?? 'zod accepts')).toBe(zod.success);
          if (zod.success) {
            accepted++;
            expect(fast).toEqual(zod.data);
          }
          expect(input).toEqual(before);
        }),
        { numRuns: 3000 },
      );
      // The generator must reach both sides, or the agreement says little.
      expect(accepted).toBeGreaterThan(100);
      expect(accepted).toBeLessThan(2900);
    });

    test('on values that are not records', () => {
      for (const input of [
        null,
        undefined,
        'x',
        1,
        [],
        [{ externalId: 'A' }],
        new Date(),
        Object.create(null),
      ]) {
        expect(recordParsers[type](input)).toBeUndefined();
      }
    });
  },
);

test('the default source is filled in on a copy, leaving the input as it was', () => {
  const input = { externalId: 'F-1', occurredAt: '2026-03-01T10:00:00Z', nps: 9 };
  expect(recordParsers.feedback(input)).toEqual({ ...input, source: 'survey' });
  expect(input).not.toHaveProperty('source');
});

test('feedback without content is refused by both paths, whatever else it carries', () => {
  const base = { externalId: 'F-1', occurredAt: '2026-03-01T10:00:00Z', customerId: 'C-1', channel: 'chat' };
  const empty = [{}, { text: '   ' }, { answers: {} }, { nps: null, csat: null, ces: null, text: null }];
  for (const source of [undefined, ...FEEDBACK_SOURCES]) {
    for (const extra of empty) {
      const input = { ...base, ...(source ? { source } : {}), ...extra };
      expect(recordParsers.feedback(input)).toBeUndefined();
      expect(recordSchemas.feedback.safeParse(input).success).toBe(false);
    }
  }
  for (const content of [{ nps: 0 }, { csat: 1 }, { ces: 7 }, { text: 'ok' }, { answers: { wifi: null } }]) {
    expect(recordParsers.feedback({ ...base, ...content })).toBeDefined();
  }
});
