import { describe, expect, test } from 'vitest';
import { appError } from '../../test/helpers/errors.js';
import {
  CHANNELS,
  EVENT_TYPES,
  FEEDBACK_SOURCES,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
  type RecordType,
} from '../domain/vocabulary.js';
import type { ErrorDetail } from '../errors.js';
import { MAX_BATCH } from './schemas.js';
import { validateBatch, validateRecord } from './validate.js';

// ---------------------------------------------------------------------------------------------
// helpers

/** The details of a record that must be rejected. */
const problems = (type: RecordType, input: unknown): ErrorDetail[] => {
  const result = validateRecord(type, input);
  if (result.ok) throw new Error(`expected ${JSON.stringify(input)?.slice(0, 200)} to be rejected`);
  return result.details;
};

/** The one problem of a record that has exactly one. */
const problem = (type: RecordType, input: unknown): ErrorDetail => {
  const details = problems(type, input);
  expect(details, JSON.stringify(details)).toHaveLength(1);
  return details[0] as ErrorDetail;
};

const accepted = (type: RecordType, input: unknown) => {
  const result = validateRecord(type, input);
  if (!result.ok) throw new Error(`expected acceptance, got ${JSON.stringify(result.details)}`);
  return result.value as Record<string, unknown>;
};

const paths = (details: readonly ErrorDetail[]) => details.map((d) => d.path).sort();

const customer = { externalId: 'C-1' };
const interaction = {
  externalId: 'I-1',
  customerId: 'C-1',
  channel: 'phone',
  occurredAt: '2026-03-01T10:00:00Z',
};
const feedback = { externalId: 'F-1', occurredAt: '2026-03-01T10:00:00Z', text: 'Fine.' };
const event = { externalId: 'E-1', customerId: 'C-1', type: 'purchase', occurredAt: '2026-03-01T10:00:00Z' };
const minimal: Record<RecordType, Record<string, unknown>> = {
  customers: customer,
  interactions: interaction,
  feedback,
  events: event,
};

// ---------------------------------------------------------------------------------------------
// valid records

describe('valid records', () => {
  test('a minimal customer is only an externalId', () => {
    expect(accepted('customers', { externalId: 'C-1' })).toEqual({ externalId: 'C-1' });
  });

  test('a full customer is accepted as sent', () => {
    const full = {
      externalId: 'CRM-000123',
      name: 'Chloé Dubois',
      email: 'chloe.dubois@example.com',
      phone: '+44 20 7946 0018',
      locale: 'fr-FR',
      segment: 'small_business',
      lifecycleStage: 'renewing',
      personalityType: 'relationship',
      value: 12_500.5,
      attributes: { plan: 'premium', seats: 12, trial: false, referrer: null },
    };
    expect(accepted('customers', full)).toEqual(full);
  });

  test('null clears optional customer fields and is accepted for each of them', () => {
    const cleared = {
      externalId: 'C-1',
      name: null,
      email: null,
      phone: null,
      locale: null,
      segment: null,
      lifecycleStage: null,
      personalityType: null,
      value: null,
      attributes: null,
    };
    expect(accepted('customers', cleared)).toEqual(cleared);
  });

  test('a minimal interaction has externalId, customerId, channel and occurredAt', () => {
    expect(accepted('interactions', interaction)).toEqual(interaction);
  });

  test('a full interaction is accepted as sent', () => {
    const full = {
      externalId: 'CALL-99812',
      customerId: 'CRM-000123',
      channel: 'ivr',
      touchpoint: 'billing',
      occurredAt: '2026-03-01 14:05:09+01:00',
      agent: 'Anna B.',
      team: 'Billing',
      waitSeconds: 95.5,
      handleSeconds: 410,
      transfers: 2,
      resolved: false,
      outcome: 'callback',
      attributes: { queue: 'billing-en', recorded: true },
    };
    expect(accepted('interactions', full)).toEqual(full);
  });

  test('a minimal feedback needs only externalId, occurredAt and some content; source defaults to survey', () => {
    expect(accepted('feedback', { externalId: 'F-1', occurredAt: '2026-03-01', nps: 7 })).toEqual({
      externalId: 'F-1',
      occurredAt: '2026-03-01',
      nps: 7,
      source: 'survey',
    });
  });

  test('a full feedback is accepted as sent', () => {
    const full = {
      externalId: 'SURVEY-7781',
      customerId: 'CRM-000123',
      interactionId: 'CALL-99812',
      source: 'survey',
      channel: 'email',
      touchpoint: 'billing',
      occurredAt: '2026-03-02T09:00:00.000Z',
      nps: 3,
      csat: 2,
      ces: 1,
      answers: { wifi: 2, comment: 'Slow', recommendFriends: false, skipped: null, tags: ['price', 'wait'] },
      text: 'Transferred three times.\nStill not solved.',
    };
    expect(accepted('feedback', full)).toEqual(full);
  });

  test.each(FEEDBACK_SOURCES)('feedback source %s is accepted', (source) => {
    expect(accepted('feedback', { ...feedback, source }).source).toBe(source);
  });

  test('a minimal event has externalId, customerId, type and occurredAt', () => {
    expect(accepted('events', event)).toEqual(event);
  });

  test('a full event is accepted as sent', () => {
    const full = {
      externalId: 'ORD-5521',
      customerId: 'CRM-000123',
      type: 'churn',
      occurredAt: '2026-03-05',
      amount: -1250.75,
      attributes: { reason: 'price' },
    };
    expect(accepted('events', full)).toEqual(full);
  });

  test.each(EVENT_TYPES)('event type %s is accepted', (type) => {
    expect(accepted('events', { ...event, type }).type).toBe(type);
  });

  test.each(CHANNELS)('channel %s is accepted on interactions and feedback', (channel) => {
    expect(accepted('interactions', { ...interaction, channel }).channel).toBe(channel);
    expect(accepted('feedback', { ...feedback, channel }).channel).toBe(channel);
  });

  test.each(LIFECYCLE_STAGES)('life-cycle stage %s is accepted', (lifecycleStage) => {
    expect(accepted('customers', { ...customer, lifecycleStage }).lifecycleStage).toBe(lifecycleStage);
  });

  test.each(PERSONALITY_TYPES)('personality type %s is accepted', (personalityType) => {
    expect(accepted('customers', { ...customer, personalityType }).personalityType).toBe(personalityType);
  });

  test('every score on each scale is accepted, the ends included', () => {
    for (let nps = 0; nps <= 10; nps++) expect(accepted('feedback', { ...feedback, nps }).nps).toBe(nps);
    for (let csat = 1; csat <= 5; csat++) expect(accepted('feedback', { ...feedback, csat }).csat).toBe(csat);
    for (let ces = 1; ces <= 7; ces++) expect(accepted('feedback', { ...feedback, ces }).ces).toBe(ces);
  });

  test('strings at their maximum length are accepted', () => {
    expect(
      accepted('customers', { externalId: 'x'.repeat(200), name: 'n'.repeat(200) }).externalId,
    ).toHaveLength(200);
    expect(accepted('interactions', { ...interaction, touchpoint: 't'.repeat(100) }).touchpoint).toHaveLength(
      100,
    );
    expect(accepted('feedback', { ...feedback, text: 'x'.repeat(20_000) }).text).toHaveLength(20_000);
  });

  test('free text keeps line breaks and tabs; only ids refuse control characters', () => {
    expect(accepted('feedback', { ...feedback, text: 'Line one\r\nLine two\tend' }).text).toBe(
      'Line one\r\nLine two\tend',
    );
    expect(accepted('customers', { ...customer, name: 'Anna\nBerg' }).name).toBe('Anna\nBerg');
  });

  test.each(['anna@example.com', 'first.last+tag@sub.example.co.uk'])('e-mail %s is accepted', (email) => {
    expect(accepted('customers', { ...customer, email }).email).toBe(email);
  });

  test.each(['+44 20 7946 0018', '(555) 123-4567', '+1-555-0100', '0171/555.12', '112'])(
    'phone %s is accepted',
    (phone) => {
      expect(accepted('customers', { ...customer, phone }).phone).toBe(phone);
    },
  );

  test.each(['en', 'fil', 'en-GB', 'pt-BR', 'pt_BR', 'zh-Hant-TW', 'es-419'])(
    'locale %s is accepted',
    (locale) => {
      expect(accepted('customers', { ...customer, locale }).locale).toBe(locale);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// scores

describe('scores out of range or of the wrong kind', () => {
  test.each([-1, 11, 7.5, '9', 100, -0.5, true])(
    'nps %j is rejected and the message gives the range 0–10',
    (nps) => {
      const detail = problem('feedback', { ...feedback, nps });
      expect(detail.path).toBe('nps');
      expect(detail.message).toMatch(/NPS/);
      expect(detail.message).toMatch(/\b0\b.*\b10\b/);
      expect(detail.message).toContain(String(nps));
    },
  );

  test.each([0, 6, 4.5, '5', -1])('csat %j is rejected and the message gives the range 1–5', (csat) => {
    const detail = problem('feedback', { ...feedback, csat });
    expect(detail.path).toBe('csat');
    expect(detail.message).toMatch(/CSAT/);
    expect(detail.message).toMatch(/\b1\b.*\b5\b/);
    expect(detail.message).toContain(String(csat));
  });

  test.each([0, 8, 3.5, '4'])('ces %j is rejected and the message gives the range 1–7', (ces) => {
    const detail = problem('feedback', { ...feedback, ces });
    expect(detail.path).toBe('ces');
    expect(detail.message).toMatch(/CES/);
    expect(detail.message).toMatch(/\b1\b.*\b7\b/);
    expect(detail.message).toContain(String(ces));
  });

  test('every bad score of one feedback is listed', () => {
    expect(paths(problems('feedback', { ...feedback, nps: 11, csat: 0, ces: 8 }))).toEqual([
      'ces',
      'csat',
      'nps',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// vocabularies

describe('unknown enum values name the allowed values', () => {
  const expectAllowed = (detail: ErrorDetail, path: string, allowed: readonly string[], got: string) => {
    expect(detail.path).toBe(path);
    for (const value of allowed) expect(detail.message).toContain(value);
    expect(detail.message).toContain(got);
  };

  test('interaction channel', () => {
    expectAllowed(problem('interactions', { ...interaction, channel: 'fax' }), 'channel', CHANNELS, 'fax');
  });

  test('feedback channel', () => {
    expectAllowed(problem('feedback', { ...feedback, channel: 'pigeon' }), 'channel', CHANNELS, 'pigeon');
  });

  test('life-cycle stage', () => {
    expectAllowed(
      problem('customers', { ...customer, lifecycleStage: 'old' }),
      'lifecycleStage',
      LIFECYCLE_STAGES,
      'old',
    );
  });

  test('personality type', () => {
    expectAllowed(
      problem('customers', { ...customer, personalityType: 'friendly' }),
      'personalityType',
      PERSONALITY_TYPES,
      'friendly',
    );
  });

  test('feedback source', () => {
    expectAllowed(problem('feedback', { ...feedback, source: 'tweet' }), 'source', FEEDBACK_SOURCES, 'tweet');
  });

  test('event type', () => {
    expectAllowed(problem('events', { ...event, type: 'gift' }), 'type', EVENT_TYPES, 'gift');
  });

  test('an enum given as a number or null where one is required', () => {
    expect(problem('interactions', { ...interaction, channel: 3 }).path).toBe('channel');
    expect(problem('interactions', { ...interaction, channel: null }).path).toBe('channel');
    expect(problem('events', { ...event, type: null }).path).toBe('type');
  });
});

// ---------------------------------------------------------------------------------------------
// timestamps

describe('bad timestamps', () => {
  test.each([
    '2026-02-30',
    '2026-02-29T10:00:00Z',
    '2026-03-01T24:00',
    '2026-13-01',
    '1899-12-31',
    'yesterday',
    '',
    '2026-03-01T10:00:00Z and more',
  ])('occurredAt %j is rejected with an ISO 8601 hint', (occurredAt) => {
    for (const type of ['interactions', 'feedback', 'events'] as const) {
      const detail = problem(type, { ...minimal[type], occurredAt });
      expect(detail.path).toBe('occurredAt');
      expect(detail.message).toMatch(/ISO 8601/);
    }
  });

  test('a leap day in a leap year is accepted', () => {
    expect(accepted('events', { ...event, occurredAt: '2028-02-29' }).occurredAt).toBe('2028-02-29');
  });

  test('a number or a Date-like object is not a timestamp', () => {
    const asNumber = problem('events', { ...event, occurredAt: 1_772_373_900_000 });
    expect(asNumber.path).toBe('occurredAt');
    expect(asNumber.message).toMatch(/string/);
    expect(problem('events', { ...event, occurredAt: {} }).path).toBe('occurredAt');
  });
});

// ---------------------------------------------------------------------------------------------
// types

describe('wrong types', () => {
  test.each([
    ['interactions', 'waitSeconds', '30', /number/],
    ['interactions', 'handleSeconds', true, /number/],
    ['interactions', 'transfers', 1.5, /integer/],
    ['interactions', 'transfers', '2', /integer|number/],
    ['interactions', 'resolved', 'yes', /boolean/],
    ['interactions', 'resolved', 1, /boolean/],
    ['interactions', 'agent', 7, /string/],
    ['customers', 'name', 42, /string/],
    ['customers', 'segment', ['a'], /string/],
    ['customers', 'value', 'lots', /number/],
    ['customers', 'externalId', 123, /string/],
    ['interactions', 'customerId', 123, /string/],
    ['feedback', 'text', 42, /string/],
    ['feedback', 'interactionId', 5, /string/],
    ['events', 'amount', '12.50', /number/],
  ] as const)('%s.%s = %j is rejected (%s)', (type, field, value, words) => {
    const detail = problem(type, { ...minimal[type], [field]: value });
    expect(detail.path).toBe(field);
    expect(detail.message).toMatch(words);
  });

  test('an object or a list is not a scalar attribute', () => {
    const nested = problem('customers', { ...customer, attributes: { plan: { tier: 1 } } });
    expect(nested).toEqual({
      path: 'attributes.plan',
      message: expect.stringMatching(/string.*number.*boolean/),
    });
    expect(problem('events', { ...event, attributes: { tags: ['a', 'b'] } }).path).toBe('attributes.tags');
    expect(problem('interactions', { ...interaction, attributes: { x: {} } }).path).toBe('attributes.x');
  });

  test('attributes must be an object of scalars', () => {
    expect(problem('customers', { ...customer, attributes: 'gold' }).path).toBe('attributes');
    expect(problem('customers', { ...customer, attributes: ['gold'] }).path).toBe('attributes');
    expect(problem('customers', { ...customer, attributes: 5 }).path).toBe('attributes');
  });

  test('answers take scalars and lists of strings, not objects or lists of numbers', () => {
    const nested = problem('feedback', { ...feedback, answers: { wifi: { score: 3 } } });
    expect(nested).toEqual({ path: 'answers.wifi', message: expect.stringMatching(/list of strings/) });
    expect(problem('feedback', { ...feedback, answers: { tags: [1, 2] } }).path).toBe('answers.tags');
  });

  test('attributes with more than 200 keys are refused', () => {
    const attributes = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, i]));
    const detail = problem('customers', { ...customer, attributes });
    expect(detail.path).toBe('attributes');
    expect(detail.message).toMatch(/200/);
    const exactly200 = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i]));
    expect(accepted('customers', { ...customer, attributes: exactly200 }).attributes).toEqual(exactly200);
  });

  test('numbers outside their ranges', () => {
    expect(problem('interactions', { ...interaction, waitSeconds: -1 })).toEqual({
      path: 'waitSeconds',
      message: expect.stringMatching(/at least 0/),
    });
    expect(problem('interactions', { ...interaction, handleSeconds: 10_000_001 }).path).toBe('handleSeconds');
    expect(problem('interactions', { ...interaction, transfers: -1 }).path).toBe('transfers');
    expect(problem('interactions', { ...interaction, transfers: 1001 }).path).toBe('transfers');
    expect(problem('customers', { ...customer, value: 1e13 }).path).toBe('value');
    expect(problem('events', { ...event, amount: -1e13 }).path).toBe('amount');
  });
});

// ---------------------------------------------------------------------------------------------
// missing, empty, too long, unknown

describe('missing required fields', () => {
  test.each([
    ['customers', 'externalId'],
    ['interactions', 'externalId'],
    ['interactions', 'customerId'],
    ['interactions', 'occurredAt'],
    ['feedback', 'externalId'],
    ['feedback', 'occurredAt'],
    ['events', 'externalId'],
    ['events', 'customerId'],
    ['events', 'occurredAt'],
  ] as const)('%s without %s: "is required"', (type, field) => {
    const { [field]: _left, ...rest } = minimal[type];
    expect(problem(type, rest)).toEqual({ path: field, message: expect.stringMatching(/required/) });
  });

  test.each([
    ['interactions', 'channel'],
    ['events', 'type'],
  ] as const)('%s without %s: says it is required, not "got undefined"', (type, field) => {
    const { [field]: _left, ...rest } = minimal[type];
    const detail = problem(type, rest);
    expect(detail.path).toBe(field);
    expect(detail.message).toMatch(/required|missing/);
    expect(detail.message).not.toMatch(/undefined/);
  });

  test('an empty interaction lists every required field once', () => {
    expect(paths(problems('interactions', {}))).toEqual([
      'channel',
      'customerId',
      'externalId',
      'occurredAt',
    ]);
  });

  test('an empty event lists every required field once', () => {
    expect(paths(problems('events', {}))).toEqual(['customerId', 'externalId', 'occurredAt', 'type']);
  });

  test('feedback may leave out customerId and interactionId', () => {
    expect(accepted('feedback', feedback).customerId).toBeUndefined();
  });

  test('externalId must not be null', () => {
    expect(problem('customers', { externalId: null }).path).toBe('externalId');
  });
});

describe('empty strings', () => {
  test.each([
    ['customers', 'externalId'],
    ['customers', 'name'],
    ['customers', 'segment'],
    ['interactions', 'customerId'],
    ['interactions', 'touchpoint'],
    ['interactions', 'agent'],
    ['interactions', 'team'],
    ['interactions', 'outcome'],
    ['feedback', 'interactionId'],
    ['feedback', 'customerId'],
    ['feedback', 'touchpoint'],
    ['events', 'customerId'],
  ] as const)('%s.%s = "" must not be empty', (type, field) => {
    expect(problem(type, { ...minimal[type], [field]: '' })).toEqual({
      path: field,
      message: expect.stringMatching(/empty/),
    });
  });

  test('an empty attribute key is refused', () => {
    const details = problems('customers', { ...customer, attributes: { '': 1 } });
    expect(details).toHaveLength(1);
    expect(details[0]?.path).toMatch(/^attributes/);
  });
});

describe('over-long strings', () => {
  test.each([
    ['customers', 'externalId', 200],
    ['customers', 'name', 200],
    ['customers', 'segment', 100],
    ['interactions', 'customerId', 200],
    ['interactions', 'touchpoint', 100],
    ['interactions', 'agent', 200],
    ['interactions', 'outcome', 100],
    ['feedback', 'text', 20_000],
    ['events', 'externalId', 200],
  ] as const)('%s.%s longer than %i characters', (type, field, max) => {
    expect(problem(type, { ...minimal[type], [field]: 'x'.repeat(max + 1) })).toEqual({
      path: field,
      message: expect.stringContaining(String(max)),
    });
  });

  test('an attribute value over 2,000 characters and an answer over 20,000', () => {
    expect(problem('customers', { ...customer, attributes: { note: 'x'.repeat(2001) } })).toEqual({
      path: 'attributes.note',
      message: expect.stringContaining('2000'),
    });
    expect(problem('feedback', { ...feedback, answers: { essay: 'x'.repeat(20_001) } })).toEqual({
      path: 'answers.essay',
      message: expect.stringContaining('20000'),
    });
  });

  test('an e-mail address over 320 characters', () => {
    expect(problem('customers', { ...customer, email: `${'a'.repeat(320)}@example.com` }).path).toBe('email');
  });
});

describe('unknown fields (strict objects)', () => {
  test.each([
    ['customers', 'score'],
    ['interactions', 'duration'],
    ['feedback', 'rating'],
    ['events', 'currency'],
  ] as const)('%s with %s', (type, field) => {
    expect(problem(type, { ...minimal[type], [field]: 1 })).toEqual({
      path: field,
      message: expect.stringMatching(/not a known field/),
    });
  });

  test('each unknown key gets its own detail; case matters', () => {
    const details = problems('customers', { ...customer, Name: 'Anna', external_id: 'C-1', nps: 9 });
    expect(paths(details)).toEqual(['Name', 'external_id', 'nps']);
    for (const detail of details) expect(detail.message).toMatch(/not a known field/);
  });

  test('a key that is not an identifier is quoted in the path', () => {
    const detail = problem('customers', { ...customer, 'first name': 'Anna' });
    expect(detail.path).toBe('"first name"');
  });

  test('fields of another record type are unknown', () => {
    expect(problem('events', { ...event, channel: 'phone' }).path).toBe('channel');
    expect(problem('customers', { ...customer, answers: {} }).path).toBe('answers');
    expect(problem('feedback', { ...feedback, attributes: {} }).path).toBe('attributes');
  });
});

describe('NUL and control characters', () => {
  const NUL = String.fromCharCode(0);

  test.each([
    ['customers', 'name'],
    ['customers', 'segment'],
    ['interactions', 'agent'],
    ['feedback', 'text'],
    ['feedback', 'touchpoint'],
  ] as const)('NUL in %s.%s', (type, field) => {
    expect(problem(type, { ...minimal[type], [field]: `a${NUL}b` })).toEqual({
      path: field,
      message: expect.stringMatching(/NUL/),
    });
  });

  test('NUL inside attributes and answers', () => {
    expect(problem('customers', { ...customer, attributes: { note: `a${NUL}` } })).toEqual({
      path: 'attributes.note',
      message: expect.stringMatching(/NUL/),
    });
    expect(problem('feedback', { ...feedback, answers: { comment: `a${NUL}` } })).toEqual({
      path: 'answers.comment',
      message: expect.stringMatching(/NUL/),
    });
  });

  test('NUL in an id is refused and named', () => {
    const details = problems('customers', { externalId: `C${NUL}1` });
    expect(details.length).toBeGreaterThan(0);
    expect(new Set(details.map((d) => d.path))).toEqual(new Set(['externalId']));
    expect(details.some((d) => /NUL/.test(d.message))).toBe(true);
  });

  test.each([['C\n1'], ['C\t1'], ['C\r'], ['\u00071'], ['C\u007f'], ['C\u00851']])(
    'control character in ids: %j',
    (id) => {
      expect(problem('customers', { externalId: id })).toEqual({
        path: 'externalId',
        message: expect.stringMatching(/control character/),
      });
      expect(problem('interactions', { ...interaction, customerId: id }).path).toBe('customerId');
      expect(problem('feedback', { ...feedback, interactionId: id }).path).toBe('interactionId');
      expect(problem('events', { ...event, externalId: id }).path).toBe('externalId');
    },
  );

  test('ids may hold spaces, punctuation and non-Latin letters', () => {
    for (const id of ['C 1', 'acct:42/ü', 'Ж-17', '顧客-1', 'a.b_c-d#e']) {
      expect(accepted('customers', { externalId: id }).externalId).toBe(id);
    }
  });
});

describe('feedback with no content', () => {
  const bare = { externalId: 'F-1', occurredAt: '2026-03-01', customerId: 'C-1', interactionId: 'I-1' };

  test.each([
    ['nothing but ids', bare],
    ['null scores', { ...bare, nps: null, csat: null, ces: null }],
    ['blank text', { ...bare, text: '  \n ' }],
    ['empty text', { ...bare, text: '' }],
    ['empty answers', { ...bare, answers: {} }],
    ['null answers and text', { ...bare, answers: null, text: null }],
  ])('%s is refused at the record', (_name, input) => {
    expect(problem('feedback', input)).toEqual({
      path: '',
      message: expect.stringMatching(/nps.*csat.*ces.*text.*answers/),
    });
  });

  test.each([
    ['nps 0', { nps: 0 }],
    ['csat 1', { csat: 1 }],
    ['ces 1', { ces: 1 }],
    ['text', { text: 'ok' }],
    ['one answer', { answers: { wifi: 3 } }],
  ])('%s is enough content', (_name, content) => {
    expect(accepted('feedback', { ...bare, ...content })).toMatchObject(content);
  });
});

describe('contact details', () => {
  test.each(['not-an-email', 'a@', '@example.com', 'anna at example.com', 'a b@example.com', 'anna@'])(
    'e-mail %j',
    (email) => {
      expect(problem('customers', { ...customer, email })).toEqual({
        path: 'email',
        message: expect.stringMatching(/e-mail/),
      });
    },
  );

  test.each(['call me', '12', 'abc-def', '+44 20 7946 0018 ext. 5', `+${'1'.repeat(41)}`, '555#123'])(
    'phone %j',
    (phone) => {
      expect(problem('customers', { ...customer, phone })).toEqual({
        path: 'phone',
        message: expect.stringMatching(/phone/),
      });
    },
  );

  test.each(['english', 'e', 'en-', 'en GB', '12', 'en-GB-', 'e1'])('locale %j', (locale) => {
    expect(problem('customers', { ...customer, locale })).toEqual({
      path: 'locale',
      message: expect.stringMatching(/language tag/),
    });
  });
});

// ---------------------------------------------------------------------------------------------
// batches

describe('validateBatch', () => {
  test('a single object becomes a batch of one', () => {
    expect(validateBatch('customers', { externalId: 'C-1', name: 'Anna' })).toEqual([
      { externalId: 'C-1', name: 'Anna' },
    ]);
  });

  test('an array keeps its order and applies defaults', () => {
    const batch = validateBatch('feedback', [
      { ...feedback, externalId: 'F-2', nps: 9 },
      { ...feedback, externalId: 'F-1', source: 'review' },
      { ...feedback, externalId: 'F-3', csat: 4 },
    ]);
    expect(batch.map((f) => [f.externalId, f.source])).toEqual([
      ['F-2', 'survey'],
      ['F-1', 'review'],
      ['F-3', 'survey'],
    ]);
  });

  test('an invalid single object: 400 validation_failed, paths without an index', () => {
    const error = appError(() => validateBatch('feedback', { ...feedback, nps: 11, csat: 0, mood: 'ok' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(paths(error.details)).toEqual(['csat', 'mood', 'nps']);
    expect(error.message).toMatch(/1 record/);
  });

  test('every problem of every item is listed, with the item index in the path', () => {
    const error = appError(() =>
      validateBatch('feedback', [
        { ...feedback, externalId: 'F-0' },
        { ...feedback, externalId: 'F-1', nps: 11, mood: 'ok' },
        { ...feedback, externalId: 'F-2' },
        { externalId: 'F-3', occurredAt: '2026-02-30', csat: 0, ces: 8 },
        { ...feedback, externalId: 'F-4', channel: 'fax' },
        { externalId: 'F-5', occurredAt: '2026-03-01' },
      ]),
    );
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(paths(error.details)).toEqual(
      ['[1].nps', '[1].mood', '[3].occurredAt', '[3].csat', '[3].ces', '[4].channel', '[5]'].sort(),
    );
    const byPath = new Map(error.details.map((d) => [d.path, d.message]));
    expect(byPath.get('[1].nps')).toMatch(/\b0\b.*\b10\b/);
    expect(byPath.get('[1].mood')).toMatch(/not a known field/);
    expect(byPath.get('[3].occurredAt')).toMatch(/ISO 8601/);
    expect(byPath.get('[3].csat')).toMatch(/\b1\b.*\b5\b/);
    expect(byPath.get('[3].ces')).toMatch(/\b1\b.*\b7\b/);
    expect(byPath.get('[4].channel')).toContain('phone');
    expect(byPath.get('[5]')).toMatch(/nps.*csat.*ces.*text.*answers/);
    expect(error.message).toMatch(/4 records/);
  });

  test('the problem at index 3 is reported as "[3].nps"', () => {
    const items = [0, 1, 2, 3, 4].map((i) => ({ ...feedback, externalId: `F-${i}`, nps: i === 3 ? 12 : 8 }));
    const error = appError(() => validateBatch('feedback', items));
    expect(error.details).toEqual([{ path: '[3].nps', message: expect.stringMatching(/0.*10/) }]);
  });

  test('nested paths carry the index too', () => {
    const error = appError(() =>
      validateBatch('customers', [customer, { externalId: 'C-2', attributes: { plan: { tier: 1 } } }]),
    );
    expect(error.details.map((d) => d.path)).toEqual(['[1].attributes.plan']);
  });

  test('items that are not objects are named by their index', () => {
    const error = appError(() => validateBatch('customers', [customer, 42, null, 'C-3', ['C-4'], true]));
    expect(error.status).toBe(400);
    expect(paths(error.details)).toEqual(['[1]', '[2]', '[3]', '[4]', '[5]']);
    for (const detail of error.details) expect(detail.message).toMatch(/object/);
  });

  test('an empty array is a 400', () => {
    const error = appError(() => validateBatch('events', []));
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ path: '', message: expect.stringMatching(/at least 1/) }]);
  });

  test.each([
    ['a number', 42],
    ['a string', '{"externalId":"C-1"}'],
    ['null', null],
    ['a boolean', true],
    ['undefined', undefined],
  ])('a body that is %s is a 400', (_name, body) => {
    const error = appError(() => validateBatch('customers', body));
    expect(error.status).toBe(400);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual([{ path: '', message: expect.stringMatching(/object or an array/) }]);
  });

  test('the batch limit is 10,000 records and a full batch is accepted', () => {
    expect(MAX_BATCH).toBe(10_000);
    const items = Array.from({ length: 10_000 }, (_, i) => ({ externalId: `C-${i}` }));
    const batch = validateBatch('customers', items);
    expect(batch).toHaveLength(10_000);
    expect(batch[9_999]?.externalId).toBe('C-9999');
  });

  test('10,001 records: 413 batch_too_large, whatever the items hold', () => {
    const valid = Array.from({ length: 10_001 }, (_, i) => ({ externalId: `C-${i}` }));
    const error = appError(() => validateBatch('customers', valid));
    expect(error.status).toBe(413);
    expect(error.code).toBe('batch_too_large');
    expect(error.message).toMatch(/10,?000/);
    expect(error.message).toMatch(/10,?001/);

    const garbage = Array.from({ length: 20_000 }, () => 'nonsense');
    const second = appError(() => validateBatch('customers', garbage));
    expect(second.status).toBe(413);
    expect(second.code).toBe('batch_too_large');
  });
});
