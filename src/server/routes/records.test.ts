import type { InjectOptions } from 'fastify';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from '../../../test/helpers/workspace.js';
import { RECORD_TYPES, type RecordType } from '../../domain/vocabulary.js';
import type { ErrorBody } from '../errors.js';

// The limits of the public contract (PRODUCT.md, OpenAPI): written out, not imported, so that a
// changed constant shows up here.
const MAX_BATCH = 10_000;
const MAX_BODY_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

const at = (day: number, hour = 10, minute = 0) =>
  new Date(Date.UTC(2026, 2, day, hour, minute)).toISOString();

/** A valid record of each type; `customerId` is ignored for customers. */
const sample: Record<RecordType, (externalId: string, customerId?: string) => Json> = {
  customers: (externalId) => ({
    externalId,
    name: `Customer ${externalId}`,
    lifecycleStage: 'current',
    personalityType: 'prompt',
  }),
  interactions: (externalId, customerId = 'C-1') => ({
    externalId,
    customerId,
    channel: 'phone',
    touchpoint: 'billing',
    occurredAt: at(1),
    waitSeconds: 30,
    transfers: 0,
    resolved: true,
  }),
  feedback: (externalId, customerId = 'C-1') => ({
    externalId,
    customerId,
    occurredAt: at(1, 11),
    nps: 9,
    text: 'Quick and friendly',
  }),
  events: (externalId, customerId = 'C-1') => ({
    externalId,
    customerId,
    type: 'purchase',
    occurredAt: at(2),
    amount: 49.9,
  }),
};

/** A change to a content field of each type, and how to read it back. */
const change: Record<RecordType, { patch: Json; field: string; value: unknown }> = {
  customers: { patch: { name: 'Renamed' }, field: 'name', value: 'Renamed' },
  interactions: { patch: { transfers: 3 }, field: 'transfers', value: 3 },
  feedback: { patch: { nps: 2 }, field: 'nps', value: 2 },
  events: { patch: { amount: 10 }, field: 'amount', value: 10 },
};

const paths = (error: ErrorBody['error']) => error.details.map((d) => d.path);

interface BadCase {
  type: RecordType;
  what: string;
  patch?: Json;
  remove?: string;
  /** Path of the problem inside the record; '' for the record itself. */
  path: string;
  message?: RegExp;
}

const BAD_INPUT: BadCase[] = [
  // Out-of-range and non-integer scores (NPS 0–10, CSAT 1–5, CES 1–7).
  { type: 'feedback', what: 'NPS 11', patch: { nps: 11 }, path: 'nps', message: /0.*10/ },
  { type: 'feedback', what: 'NPS -1', patch: { nps: -1 }, path: 'nps', message: /0.*10/ },
  { type: 'feedback', what: 'NPS 7.5', patch: { nps: 7.5 }, path: 'nps', message: /integer/ },
  { type: 'feedback', what: 'NPS as a string', patch: { nps: '9' }, path: 'nps' },
  { type: 'feedback', what: 'CSAT 0', patch: { nps: null, csat: 0 }, path: 'csat', message: /1.*5/ },
  { type: 'feedback', what: 'CSAT 6', patch: { csat: 6 }, path: 'csat', message: /1.*5/ },
  { type: 'feedback', what: 'CES 0', patch: { ces: 0 }, path: 'ces', message: /1.*7/ },
  { type: 'feedback', what: 'CES 8', patch: { ces: 8 }, path: 'ces', message: /1.*7/ },
  // Unknown enum values.
  {
    type: 'feedback',
    what: 'an unknown source',
    patch: { source: 'tweet' },
    path: 'source',
    message: /survey/,
  },
  {
    type: 'feedback',
    what: 'an unknown channel',
    patch: { channel: 'fax' },
    path: 'channel',
    message: /phone/,
  },
  { type: 'interactions', what: 'an unknown channel', patch: { channel: 'fax' }, path: 'channel' },
  { type: 'events', what: 'an unknown type', patch: { type: 'teleport' }, path: 'type', message: /purchase/ },
  {
    type: 'customers',
    what: 'an unknown life-cycle stage',
    patch: { lifecycleStage: 'old' },
    path: 'lifecycleStage',
    message: /new.*current.*advocate.*ending.*renewing/,
  },
  {
    type: 'customers',
    what: 'an unknown personality type',
    patch: { personalityType: 'grumpy' },
    path: 'personalityType',
    message: /prompt/,
  },
  // Bad timestamps.
  { type: 'feedback', what: 'February 30th', patch: { occurredAt: '2026-02-30' }, path: 'occurredAt' },
  { type: 'interactions', what: 'a word as date', patch: { occurredAt: 'yesterday' }, path: 'occurredAt' },
  {
    type: 'interactions',
    what: 'month 13',
    patch: { occurredAt: '2026-13-01T10:00:00Z' },
    path: 'occurredAt',
  },
  {
    type: 'interactions',
    what: 'hour 25',
    patch: { occurredAt: '2026-03-01T25:00:00Z' },
    path: 'occurredAt',
  },
  { type: 'events', what: 'an empty date', patch: { occurredAt: '' }, path: 'occurredAt' },
  { type: 'events', what: 'epoch milliseconds', patch: { occurredAt: 1767225600000 }, path: 'occurredAt' },
  { type: 'feedback', what: 'no occurredAt', remove: 'occurredAt', path: 'occurredAt', message: /required/ },
  // Wrong types.
  {
    type: 'interactions',
    what: 'waitSeconds as a string',
    patch: { waitSeconds: '30' },
    path: 'waitSeconds',
  },
  { type: 'interactions', what: 'negative waitSeconds', patch: { waitSeconds: -5 }, path: 'waitSeconds' },
  { type: 'interactions', what: 'fractional transfers', patch: { transfers: 1.5 }, path: 'transfers' },
  { type: 'interactions', what: 'resolved as "yes"', patch: { resolved: 'yes' }, path: 'resolved' },
  { type: 'interactions', what: 'attributes as an array', patch: { attributes: [1, 2] }, path: 'attributes' },
  {
    type: 'interactions',
    what: 'a nested attribute',
    patch: { attributes: { nested: { a: 1 } } },
    path: 'attributes.nested',
  },
  { type: 'feedback', what: 'answers as a string', patch: { answers: 'great' }, path: 'answers' },
  {
    type: 'feedback',
    what: 'an answer that is an object',
    patch: { answers: { wifi: { score: 2 } } },
    path: 'answers.wifi',
  },
  { type: 'feedback', what: 'text as a number', patch: { text: 5 }, path: 'text' },
  { type: 'customers', what: 'a malformed e-mail', patch: { email: 'not-an-email' }, path: 'email' },
  { type: 'customers', what: 'value as a string', patch: { value: 'big' }, path: 'value' },
  { type: 'customers', what: 'a value out of range', patch: { value: 1e13 }, path: 'value' },
  { type: 'customers', what: 'a phone of letters', patch: { phone: 'call me' }, path: 'phone' },
  { type: 'events', what: 'amount as a string', patch: { amount: '12.50' }, path: 'amount' },
  // Missing or bad ids.
  { type: 'customers', what: 'no externalId', remove: 'externalId', path: 'externalId', message: /required/ },
  { type: 'feedback', what: 'no externalId', remove: 'externalId', path: 'externalId', message: /required/ },
  { type: 'events', what: 'an empty externalId', patch: { externalId: '' }, path: 'externalId' },
  { type: 'interactions', what: 'a numeric externalId', patch: { externalId: 42 }, path: 'externalId' },
  { type: 'customers', what: 'a newline in externalId', patch: { externalId: 'C\n1' }, path: 'externalId' },
  { type: 'interactions', what: 'no customerId', remove: 'customerId', path: 'customerId' },
  { type: 'events', what: 'no customerId', remove: 'customerId', path: 'customerId' },
  { type: 'interactions', what: 'no channel', remove: 'channel', path: 'channel' },
  { type: 'events', what: 'no type', remove: 'type', path: 'type' },
  // Unknown fields.
  {
    type: 'customers',
    what: 'an unknown field',
    patch: { nickname: 'Ada' },
    path: 'nickname',
    message: /known/,
  },
  { type: 'feedback', what: 'an unknown field', patch: { score: 9 }, path: 'score', message: /known/ },
  { type: 'interactions', what: 'an unknown field', patch: { duration: 60 }, path: 'duration' },
  { type: 'events', what: 'an unknown field', patch: { currency: 'EUR' }, path: 'currency' },
  // Feedback without any content.
  { type: 'feedback', what: 'no score, text or answers', patch: { nps: null, text: null }, path: '' },
];

const badRecord = ({ type, patch = {}, remove }: BadCase): Json => {
  const record: Json = { ...sample[type]('BAD-1'), ...patch };
  if (remove) delete record[remove];
  return record;
};

const inBatch = (path: string, index: number) => (path === '' ? `[${index}]` : `[${index}].${path}`);

describeEachDatabase('record routes', (database) => {
  const app = useApp(database);

  const workspace = () => createTestWorkspace(database().db);

  const post = (key: string, type: RecordType, payload: unknown, headers: Record<string, string> = {}) =>
    app().inject({
      method: 'POST',
      url: `/api/v1/${type}`,
      headers: { ...auth(key), ...headers },
      payload: payload as InjectOptions['payload'],
    });

  const get = (key: string, url: string) => app().inject({ method: 'GET', url, headers: auth(key) });

  const urlOf = (type: RecordType, externalId: string) => `/api/v1/${type}/${encodeURIComponent(externalId)}`;

  /** Reads one record back; for customers the profile's customer. */
  const readBack = async (ws: TestWorkspace, type: RecordType, externalId: string) => {
    const res = await get(ws.keys.read, urlOf(type, externalId));
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const body = res.json();
    return (type === 'customers' ? body.customer : body) as Json;
  };

  const ingest = async (ws: TestWorkspace, type: RecordType, payload: unknown) => {
    const res = await post(ws.keys.write, type, payload);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return res.json() as { created: number; updated: number; unchanged: number; customersCreated: number };
  };

  // ---------------------------------------------------------------- finding customers

  test('GET /api/v1/customers finds customers by every word of q, filters, pages, and stays in its workspace', async () => {
    const ws = await workspace();
    await ingest(ws, 'customers', [
      { externalId: 'C-100', name: 'Carla Jones', email: 'carla@example.com', segment: 'smb' },
      { externalId: 'C-101', name: 'Carl Jonsson', email: 'carl@example.org', segment: 'enterprise' },
      { externalId: 'C-102', name: 'Dana 100% Reyes', phone: '+44 20 7946 0000', segment: 'smb' },
      { externalId: 'K-7', name: 'Kim Lee', email: 'kim@example.com', lifecycleStage: 'ending' },
    ]);
    const other = await workspace();
    await ingest(other, 'customers', [{ externalId: 'C-100', name: 'Carla Jones (other workspace)' }]);
    type Found = { items: { externalId: string; name: string | null }[]; nextCursor: string | null };
    const find = async (query: string, key = ws.keys.read) => {
      const res = await get(key, `/api/v1/customers?${query}`);
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as Found;
      return { ids: body.items.map((item) => item.externalId), nextCursor: body.nextCursor };
    };
    expect((await find('q=carl')).ids).toEqual(['C-100', 'C-101']);
    expect((await find('q=CARL+jones')).ids).toEqual(['C-100']);
    expect((await find('q=example.com')).ids).toEqual(['C-100', 'K-7']);
    expect((await find('q=7946')).ids).toEqual(['C-102']);
    // % and _ are plain characters, not wildcards.
    expect((await find(`q=${encodeURIComponent('100%')}`)).ids).toEqual(['C-102']);
    expect((await find('q=C_1')).ids).toEqual([]);
    expect((await find('segment=smb')).ids).toEqual(['C-100', 'C-102']);
    expect((await find('lifecycleStage=ending')).ids).toEqual(['K-7']);
    expect((await find('q=nobody')).ids).toEqual([]);
    // Paging by external id visits everyone once.
    const first = await find('limit=3');
    expect(first).toEqual({ ids: ['C-100', 'C-101', 'C-102'], nextCursor: 'C-102' });
    expect(await find('limit=3&cursor=C-102')).toEqual({ ids: ['K-7'], nextCursor: null });
    // Another workspace's key finds only its own.
    expect((await find('q=carla', other.keys.read)).ids).toEqual(['C-100']);
    expectError(await get(ws.keys.read, '/api/v1/customers?limit=0'), 400, 'validation_failed');
    expectError(await get(ws.keys.read, '/api/v1/customers?sort=name'), 400, 'validation_failed');
    expectError(await get(ws.keys.write, '/api/v1/customers?q=carl'), 403, 'forbidden');
  });

  // ---------------------------------------------------------------- ingestion

  for (const type of RECORD_TYPES) {
    test(`POST /api/v1/${type}: one object, an array, the same batch again, then a change`, async () => {
      const ws = await workspace();
      const refers = type === 'customers' ? 0 : 1;
      expect(await ingest(ws, type, sample[type]('X-1'))).toEqual({
        created: 1,
        updated: 0,
        unchanged: 0,
        customersCreated: refers,
      });
      const batch = [sample[type]('X-1'), sample[type]('X-2', 'C-2'), sample[type]('X-3', 'C-2')];
      expect(await ingest(ws, type, batch)).toEqual({
        created: 2,
        updated: 0,
        unchanged: 1,
        customersCreated: refers,
      });
      expect(await ingest(ws, type, batch)).toEqual({
        created: 0,
        updated: 0,
        unchanged: 3,
        customersCreated: 0,
      });
      const { patch, field, value } = change[type];
      expect(await ingest(ws, type, [batch[0], { ...batch[1], ...patch }, batch[2]])).toEqual({
        created: 0,
        updated: 1,
        unchanged: 2,
        customersCreated: 0,
      });
      expect((await readBack(ws, type, 'X-2'))[field]).toEqual(value);
      expect((await readBack(ws, type, 'X-3'))[field]).toEqual(sample[type]('X-3')[field]);
    });
  }

  test('what was sent is what is read back, for every type', async () => {
    const ws = await workspace();
    const customer = {
      externalId: 'C-1',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      phone: '+44 20 7946 0000',
      locale: 'en-GB',
      segment: 'enterprise',
      lifecycleStage: 'renewing',
      personalityType: 'relationship',
      value: 1200.5,
      attributes: { plan: 'gold', seats: 12, trial: false },
    };
    const interaction = {
      externalId: 'I-1',
      customerId: 'C-1',
      channel: 'chat',
      touchpoint: 'billing',
      occurredAt: '2026-03-01T14:05:09.123+02:00',
      agent: 'Grace',
      team: 'Tier 1',
      waitSeconds: 42.5,
      handleSeconds: 310,
      transfers: 2,
      resolved: false,
      outcome: 'callback promised',
      attributes: { queue: 'billing-en' },
    };
    const feedback = {
      externalId: 'F-1',
      interactionId: 'I-1',
      occurredAt: '2026-03-01T13:00:00Z',
      nps: 6,
      csat: 4,
      ces: 5,
      answers: { wifi: 2, comment: 'slow', tags: ['billing', 'wait'] },
      text: 'Took too long',
    };
    const event = {
      externalId: 'E-1',
      customerId: 'C-1',
      type: 'renewal',
      occurredAt: '2026-03-02',
      amount: 1999.99,
      attributes: { term: '12m' },
    };
    await ingest(ws, 'customers', customer);
    await ingest(ws, 'interactions', interaction);
    await ingest(ws, 'feedback', feedback);
    await ingest(ws, 'events', event);

    expect(await readBack(ws, 'customers', 'C-1')).toMatchObject(customer);
    expect(await readBack(ws, 'interactions', 'I-1')).toMatchObject({
      ...interaction,
      occurredAt: '2026-03-01T12:05:09.123Z',
      atEncounter: { lifecycleStage: 'renewing', personalityType: 'relationship', segment: 'enterprise' },
    });
    // Feedback that names only its interaction takes customer, channel and touchpoint from it.
    expect(await readBack(ws, 'feedback', 'F-1')).toMatchObject({
      ...feedback,
      occurredAt: '2026-03-01T13:00:00.000Z',
      customerId: 'C-1',
      source: 'survey',
      channel: 'chat',
      touchpoint: 'billing',
      experienceRating: 'poor',
    });
    expect(await readBack(ws, 'events', 'E-1')).toMatchObject({
      ...event,
      occurredAt: '2026-03-02T00:00:00.000Z',
    });
  });

  test('a reference to an unknown customer creates it, once, and the customer record fills it in', async () => {
    const ws = await workspace();
    expect(
      await ingest(ws, 'interactions', [
        sample.interactions('I-1', 'C-new'),
        sample.interactions('I-2', 'C-new'),
      ]),
    ).toEqual({ created: 2, updated: 0, unchanged: 0, customersCreated: 1 });
    expect(await ingest(ws, 'feedback', sample.feedback('F-1', 'C-fb'))).toMatchObject({
      customersCreated: 1,
    });
    expect(await ingest(ws, 'events', sample.events('E-1', 'C-ev'))).toMatchObject({ customersCreated: 1 });
    // A feedback naming only an interaction that has not arrived refers to no customer yet.
    expect(
      await ingest(ws, 'feedback', {
        externalId: 'F-2',
        interactionId: 'I-later',
        occurredAt: at(3),
        csat: 4,
      }),
    ).toEqual({ created: 1, updated: 0, unchanged: 0, customersCreated: 0 });

    const res = await get(ws.keys.read, '/api/v1/customers/C-new');
    expect(res.statusCode).toBe(200);
    const profile = res.json();
    expect(profile.customer).toMatchObject({
      externalId: 'C-new',
      name: null,
      email: null,
      lifecycleStage: null,
      personalityType: 'unknown',
      attributes: {},
    });
    expect(profile.summary).toMatchObject({ interactions: 2, feedback: 0, events: 0 });
    for (const id of ['C-fb', 'C-ev'])
      expect((await get(ws.keys.read, `/api/v1/customers/${id}`)).statusCode).toBe(200);

    expect(await ingest(ws, 'customers', { externalId: 'C-new', name: 'Late Arrival' })).toEqual({
      created: 0,
      updated: 1,
      unchanged: 0,
      customersCreated: 0,
    });
    expect((await readBack(ws, 'customers', 'C-new')).name).toBe('Late Arrival');
    expect((await readBack(ws, 'interactions', 'I-1')).customerId).toBe('C-new');
  });

  // ---------------------------------------------------------------- bad input

  test.each(BAD_INPUT)('$type with $what → 400 at "$path", alone and as item [2] of a batch', async (bad) => {
    const ws = await workspace();
    const alone = expectError(await post(ws.keys.write, bad.type, badRecord(bad)), 400, 'validation_failed');
    expect(paths(alone)).toContain(bad.path);
    if (bad.message) {
      expect(alone.details.find((d) => d.path === bad.path)?.message).toMatch(bad.message);
    }

    const batch = [sample[bad.type]('OK-0'), sample[bad.type]('OK-1'), badRecord(bad)];
    const inArray = expectError(await post(ws.keys.write, bad.type, batch), 400, 'validation_failed');
    expect(paths(inArray)).toContain(inBatch(bad.path, 2));
    // Only the bad item is blamed.
    for (const path of paths(inArray)) expect(path.startsWith('[2]')).toBe(true);
  });

  test('every problem of every item is listed with its index', async () => {
    const ws = await workspace();
    const batch = [
      sample.feedback('F-0'),
      { ...sample.feedback('F-1'), nps: 11, csat: 9 },
      sample.feedback('F-2'),
      { ...sample.feedback('F-3'), channel: 'fax', mood: 'grumpy' },
      { ...sample.feedback('F-4'), occurredAt: 'soon' },
    ];
    const error = expectError(await post(ws.keys.write, 'feedback', batch), 400, 'validation_failed');
    expect([...paths(error)].sort()).toEqual(
      ['[1].nps', '[1].csat', '[3].channel', '[3].mood', '[4].occurredAt'].sort(),
    );
  });

  for (const type of RECORD_TYPES) {
    test(`POST /api/v1/${type}: a batch with one invalid item writes nothing`, async () => {
      const ws = await workspace();
      const batch = [
        sample[type]('N-1', 'C-N'),
        sample[type]('N-2', 'C-N'),
        badRecord({ type, what: 'unknown field', patch: { bogus: true }, path: 'bogus' }),
      ];
      const error = expectError(await post(ws.keys.write, type, batch), 400, 'validation_failed');
      expect(paths(error)).toEqual(['[2].bogus']);
      for (const id of ['N-1', 'N-2']) {
        expectError(await get(ws.keys.read, urlOf(type, id)), 404, 'not_found');
      }
      // Nor was the customer the valid items refer to created.
      expectError(await get(ws.keys.read, '/api/v1/customers/C-N'), 404, 'not_found');
    });
  }

  test('a body that is not an object or an array of objects → 400', async () => {
    const ws = await workspace();
    const cases: [unknown, string[]][] = [
      ['"hello"', ['']],
      ['42', ['']],
      ['null', ['']],
      ['true', ['']],
      ['[1, "x", null]', ['[0]', '[1]', '[2]']],
      ['[]', ['']],
    ];
    for (const [text, expected] of cases) {
      const res = await post(ws.keys.write, 'customers', text, { 'content-type': 'application/json' });
      const error = expectError(res, 400, 'validation_failed');
      expect(paths(error), String(text)).toEqual(expected);
    }
  });

  test('invalid JSON → 400 invalid_json that says where it breaks', async () => {
    const ws = await workspace();
    const trailingComma = '{"externalId": "C-1",}';
    const res = await post(ws.keys.write, 'customers', trailingComma, { 'content-type': 'application/json' });
    const error = expectError(res, 400, 'invalid_json');
    expect(error.message).toContain(`position ${trailingComma.indexOf(',}') + 1}`);

    const truncated = '[{"externalId": "C-1"}, {"externalId": "C-2"';
    const cut = expectError(
      await post(ws.keys.write, 'customers', truncated, { 'content-type': 'application/json' }),
      400,
      'invalid_json',
    );
    expect(cut.message).toMatch(/not valid JSON/);
    expectError(await get(ws.keys.read, '/api/v1/customers/C-1'), 404, 'not_found');
  });

  test('an empty or blank body → 400 invalid_json', async () => {
    const ws = await workspace();
    for (const text of ['', '   \n']) {
      const res = await post(ws.keys.write, 'feedback', text, { 'content-type': 'application/json' });
      expectError(res, 400, 'invalid_json');
    }
  });

  test('a body that is not JSON → 415 unsupported_media_type', async () => {
    const ws = await workspace();
    const json = JSON.stringify(sample.customers('C-1'));
    for (const contentType of ['application/x-www-form-urlencoded', 'application/xml', 'text/csv']) {
      const res = await post(ws.keys.write, 'customers', json, { 'content-type': contentType });
      expectError(res, 415, 'unsupported_media_type');
    }
    expectError(await get(ws.keys.read, '/api/v1/customers/C-1'), 404, 'not_found');
  });

  test('a text/plain body → 415 unsupported_media_type', async () => {
    const ws = await workspace();
    const res = await post(ws.keys.write, 'customers', JSON.stringify(sample.customers('C-1')), {
      'content-type': 'text/plain',
    });
    expectError(res, 415, 'unsupported_media_type');
  });

  test('Content-Type application/json with a charset is accepted', async () => {
    const ws = await workspace();
    const res = await post(ws.keys.write, 'customers', JSON.stringify(sample.customers('C-ü')), {
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.statusCode).toBe(200);
    expect((await readBack(ws, 'customers', 'C-ü')).externalId).toBe('C-ü');
  });

  test(`a batch of ${MAX_BATCH.toLocaleString('en')} is accepted; one more → 413 batch_too_large and nothing is written`, async () => {
    const ws = await workspace();
    const batch = (prefix: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ externalId: `${prefix}-${i}` }));
    expect(await ingest(ws, 'customers', batch('OK', MAX_BATCH))).toEqual({
      created: MAX_BATCH,
      updated: 0,
      unchanged: 0,
      customersCreated: 0,
    });
    const error = expectError(
      await post(ws.keys.write, 'customers', batch('BIG', MAX_BATCH + 1)),
      413,
      'batch_too_large',
    );
    expect(error.message).toContain(String(MAX_BATCH + 1));
    expectError(await get(ws.keys.read, '/api/v1/customers/BIG-0'), 404, 'not_found');
  });

  test('a body over 64 MB → 413 payload_too_large', async () => {
    const ws = await workspace();
    const huge = `[{"externalId":"C-1","name":"${'x'.repeat(MAX_BODY_BYTES)}"}]`;
    const res = await post(ws.keys.write, 'customers', huge, { 'content-type': 'application/json' });
    expectError(res, 413, 'payload_too_large');
    expectError(await get(ws.keys.read, '/api/v1/customers/C-1'), 404, 'not_found');
  });

  test('a string the database cannot store (lone UTF-16 surrogate) → 400 naming the field, nothing written', async () => {
    const ws = await workspace();
    const batch = [
      sample.customers('S-1'),
      sample.customers('S-2'),
      { externalId: 'S-3', name: 'bad \ud800 name' },
    ];
    const res = await post(ws.keys.write, 'customers', batch);
    expect(res.statusCode).not.toBe(500);
    const error = expectError(res, 400);
    for (const id of ['S-1', 'S-2', 'S-3']) {
      expectError(await get(ws.keys.read, urlOf('customers', id)), 404, 'not_found');
    }
    expect(paths(error)).toContain('[2].name');
  });

  // ---------------------------------------------------------------- customer profile and timeline

  test('GET /api/v1/customers/{externalId}: profile, summary, life-cycle history and a mixed timeline, newest first', async () => {
    const ws = await workspace();
    const profileIn = {
      externalId: 'C-1',
      name: 'Ada Lovelace',
      email: 'ada@example.com',
      segment: 'enterprise',
      personalityType: 'relationship',
      value: 5000,
      attributes: { plan: 'gold' },
    };
    for (const lifecycleStage of ['new', 'current', 'current', 'advocate']) {
      await ingest(ws, 'customers', { ...profileIn, lifecycleStage });
    }
    await ingest(ws, 'interactions', [
      { ...sample.interactions('I-1'), occurredAt: at(1, 9) },
      { ...sample.interactions('I-2'), channel: 'chat', occurredAt: at(6, 9) },
    ]);
    await ingest(ws, 'feedback', [
      { ...sample.feedback('F-1'), occurredAt: at(1, 10), nps: 3 },
      // Only the interaction is named: the feedback still belongs on C-1's timeline.
      { externalId: 'F-2', interactionId: 'I-2', occurredAt: at(5, 10), csat: 5 },
      { ...sample.feedback('F-3'), occurredAt: at(2, 12), nps: null, text: 'Just a remark' },
    ]);
    await ingest(ws, 'events', { ...sample.events('E-1'), occurredAt: at(3, 8) });
    // Another customer's records stay off this timeline.
    await ingest(ws, 'interactions', { ...sample.interactions('I-other', 'C-2'), occurredAt: at(4) });

    const res = await get(ws.keys.read, '/api/v1/customers/C-1');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.customer).toMatchObject({ ...profileIn, lifecycleStage: 'advocate' });
    expect(body.summary).toEqual({
      interactions: 2,
      feedback: 3,
      events: 1,
      lastContactAt: at(6, 9),
    });
    // Every change of stage is kept with its date; a resend of the same stage is not a change.
    const history = [...body.lifecycleHistory].sort(
      (a: { changedAt: string }, b: { changedAt: string }) =>
        Date.parse(a.changedAt) - Date.parse(b.changedAt),
    );
    expect(history.map((h: { lifecycleStage: string }) => h.lifecycleStage)).toEqual([
      'new',
      'current',
      'advocate',
    ]);
    for (const h of history) expect(Number.isNaN(Date.parse(h.changedAt))).toBe(false);

    const items = body.timeline.items as { kind: string; externalId: string; occurredAt: string }[];
    expect(items.map((i) => [i.kind, i.externalId, i.occurredAt])).toEqual([
      ['interaction', 'I-2', at(6, 9)],
      ['feedback', 'F-2', at(5, 10)],
      ['event', 'E-1', at(3, 8)],
      ['feedback', 'F-3', at(2, 12)],
      ['feedback', 'F-1', at(1, 10)],
      ['interaction', 'I-1', at(1, 9)],
    ]);
    expect(body.timeline.nextCursor).toBeNull();
    // Timeline items are the full records.
    expect(items[0]).toMatchObject({ customerId: 'C-1', channel: 'chat' });
    expect(items[1]).toMatchObject({
      customerId: 'C-1',
      csat: 5,
      experienceRating: 'fabulous',
      channel: 'chat',
    });
    expect(items[2]).toMatchObject({ customerId: 'C-1', type: 'purchase', amount: 49.9 });
  });

  test('the timeline pages with limit and nextCursor: no overlap, no gap, even with identical occurredAt', async () => {
    const ws = await workspace();
    // Three instants only, so most records tie with others of the same and of other kinds.
    const instants = [
      '2026-04-01T12:00:00Z',
      '2026-04-01T12:00:00.000+00:00',
      '2026-03-15T08:30:00Z',
      '2026-04-01',
    ];
    const when = (i: number) => instants[i % instants.length] as string;
    await ingest(
      ws,
      'interactions',
      Array.from({ length: 6 }, (_, i) => ({ ...sample.interactions(`I-${i}`, 'P-1'), occurredAt: when(i) })),
    );
    await ingest(
      ws,
      'feedback',
      Array.from({ length: 5 }, (_, i) => ({ ...sample.feedback(`F-${i}`, 'P-1'), occurredAt: when(i + 1) })),
    );
    for (let i = 0; i < 4; i++) {
      await ingest(ws, 'events', { ...sample.events(`E-${i}`, 'P-1'), occurredAt: when(i + 2) });
    }
    const total = 15;
    const key = (item: { kind: string; externalId: string }) => `${item.kind}:${item.externalId}`;

    const walk = async (limit: number) => {
      const pages: { kind: string; externalId: string; occurredAt: string }[][] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await get(ws.keys.read, `/api/v1/customers/P-1?${query}`);
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
        const { timeline } = res.json();
        pages.push(timeline.items);
        cursor = timeline.nextCursor;
        expect(pages.length).toBeLessThanOrEqual(total + 1);
      } while (cursor);
      return pages;
    };

    const [all] = await walk(200);
    expect(all).toHaveLength(total);
    expect(new Set(all?.map(key)).size).toBe(total);
    const times = (all ?? []).map((item) => Date.parse(item.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));

    for (const limit of [1, 2, 4, 5, 7, 15]) {
      const pages = await walk(limit);
      expect(pages.length, `limit ${limit}`).toBe(Math.ceil(total / limit));
      pages.forEach((page, i) => {
        expect(page.length).toBe(i < pages.length - 1 ? limit : total - limit * (pages.length - 1));
      });
      expect(pages.flat().map(key), `limit ${limit}`).toEqual(all?.map(key));
    }
  });

  test('a record added between pages neither repeats nor hides the records still to come', async () => {
    const ws = await workspace();
    await ingest(
      ws,
      'interactions',
      Array.from({ length: 8 }, (_, i) => ({
        ...sample.interactions(`I-${i}`, 'P-1'),
        occurredAt: at(1 + (i % 3)),
      })),
    );
    const first = (await get(ws.keys.read, '/api/v1/customers/P-1?limit=3')).json().timeline;
    expect(first.items).toHaveLength(3);
    // Newer than everything: belongs before the cursor, so later pages do not show it.
    await ingest(ws, 'interactions', { ...sample.interactions('I-new', 'P-1'), occurredAt: at(20) });
    const seen = first.items.map((i: { externalId: string }) => i.externalId);
    let cursor: string | null = first.nextCursor;
    while (cursor) {
      const { timeline } = (
        await get(ws.keys.read, `/api/v1/customers/P-1?limit=3&cursor=${encodeURIComponent(cursor)}`)
      ).json();
      seen.push(...timeline.items.map((i: { externalId: string }) => i.externalId));
      cursor = timeline.nextCursor;
    }
    expect([...seen].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `I-${i}`).sort());
  });

  test('a bad cursor → 400, never a 500', async () => {
    const ws = await workspace();
    await ingest(ws, 'interactions', sample.interactions('I-1', 'C-1'));
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [
      'garbage',
      'eyJ',
      b64({ at: '2026-01-01' }),
      b64(['2026-01-01T00:00:00Z', 1.5, 1]),
    ]) {
      const error = expectError(
        await get(ws.keys.read, `/api/v1/customers/C-1?cursor=${encodeURIComponent(cursor)}`),
        400,
        'validation_failed',
      );
      expect(paths(error)).toEqual(['query.cursor']);
    }
    // Forged cursors that look right but hold impossible values.
    for (const cursor of [
      b64(['2026-01-01T00:00:00Z', 1, 1e30]),
      b64(['0', 1, 1]),
      b64(['March 7, 2026', 1, 1]),
      b64(['2026-01-01T00:00:00Z', 1e20, 1]),
      b64(['2026-01-01T00:00:00Z', 5, 1]),
      b64(['2026-01-01T00:00:00Z', 1, 0]),
      'a'.repeat(501),
    ]) {
      const res = await get(ws.keys.read, `/api/v1/customers/C-1?cursor=${encodeURIComponent(cursor)}`);
      expect(paths(expectError(res, 400, 'validation_failed'))).toEqual(['query.cursor']);
    }
  });

  test('limit outside 1…200 or not an integer → 400 at "query.limit"', async () => {
    const ws = await workspace();
    await ingest(ws, 'customers', sample.customers('C-1'));
    for (const limit of ['0', '201', '-1', '1.5', 'ten', '']) {
      const error = expectError(
        await get(ws.keys.read, `/api/v1/customers/C-1?limit=${limit}`),
        400,
        'validation_failed',
      );
      expect(paths(error), `limit=${limit}`).toEqual(['query.limit']);
    }
    for (const limit of ['1', '200']) {
      expect((await get(ws.keys.read, `/api/v1/customers/C-1?limit=${limit}`)).statusCode).toBe(200);
    }
  });

  test('external ids with spaces, slashes, unicode and URL characters are read back', async () => {
    const ws = await workspace();
    const customerId = 'eu/acme corp/42 Zoë';
    const ids = {
      interactions: 'call/2026/03/01 #7',
      feedback: 'Rückmeldung 東京 🚀',
      events: 'order 100% done? a+b&c=d',
    } as const;
    await ingest(ws, 'customers', { ...sample.customers(customerId), name: 'Slashed' });
    await ingest(ws, 'interactions', sample.interactions(ids.interactions, customerId));
    await ingest(ws, 'feedback', sample.feedback(ids.feedback, customerId));
    await ingest(ws, 'events', sample.events(ids.events, customerId));

    const res = await get(ws.keys.read, urlOf('customers', customerId));
    expect(res.statusCode).toBe(200);
    const profile = res.json();
    expect(profile.customer).toMatchObject({ externalId: customerId, name: 'Slashed' });
    expect(profile.timeline.items.map((i: { externalId: string }) => i.externalId).sort()).toEqual(
      Object.values(ids).sort(),
    );
    for (const [type, id] of Object.entries(ids) as [RecordType, string][]) {
      expect(await readBack(ws, type, id)).toMatchObject({ externalId: id, customerId });
    }
    // The slash must be encoded; unencoded it is a different path.
    expect((await get(ws.keys.read, `/api/v1/customers/${customerId}`)).statusCode).toBe(404);
  });

  test('external ids up to the allowed 200 characters are read back', async () => {
    const ws = await workspace();
    const long = (prefix: string, n: number) => `${prefix}-${'x'.repeat(n - prefix.length - 1)}`;
    const customerId = long('C', 200);
    const interactionId = long('I', 150);
    await ingest(ws, 'customers', { externalId: customerId, name: 'Long id' });
    await ingest(ws, 'interactions', sample.interactions(interactionId, customerId));
    expect((await readBack(ws, 'customers', customerId)).externalId).toBe(customerId);
    expect((await readBack(ws, 'interactions', interactionId)).customerId).toBe(customerId);
    // One more than allowed is refused with the project's error shape.
    const error = expectError(
      await get(ws.keys.read, urlOf('feedback', long('F', 201))),
      400,
      'validation_failed',
    );
    expect(paths(error)).toEqual(['params.externalId']);
  });

  test('a malformed percent-encoding in the path → 400 with the error shape', async () => {
    const ws = await workspace();
    expectError(await get(ws.keys.read, '/api/v1/customers/%E0%A4%A'), 400);
  });

  // ---------------------------------------------------------------- single records

  test('GET /api/v1/feedback/{externalId} carries the experience rating of PRODUCT.md', async () => {
    const ws = await workspace();
    const D = 'disastrous';
    const P = 'poor';
    const N = 'neutral';
    const G = 'good';
    const F = 'fabulous';
    // PRODUCT.md: NPS 0–3 disastrous, 4–6 poor, 7–8 neutral, 9 good, 10 fabulous; CSAT 1…5;
    // CES 1–2 disastrous … 7 fabulous. With several scores the worst counts (OpenAPI).
    const npsRating = [D, D, D, D, P, P, P, N, N, G, F];
    const csatRating = [D, P, N, G, F];
    const cesRating = [D, D, P, N, G, G, F];
    const cases: [Json, string | null][] = [
      ...npsRating.map((r, nps): [Json, string] => [{ nps }, r]),
      ...csatRating.map((r, i): [Json, string] => [{ csat: i + 1 }, r]),
      ...cesRating.map((r, i): [Json, string] => [{ ces: i + 1 }, r]),
      [{ nps: 10, ces: 2 }, D],
      [{ nps: 9, csat: 3 }, N],
      [{ nps: 10, csat: 5, ces: 7 }, F],
      [{ text: 'Only words' }, null],
      [{ answers: { wifi: 3 } }, null],
    ];
    await ingest(
      ws,
      'feedback',
      cases.map(([scores], i) => ({ externalId: `F-${i}`, customerId: 'C-1', occurredAt: at(1), ...scores })),
    );
    for (const [i, [scores, rating]] of cases.entries()) {
      const feedback = await readBack(ws, 'feedback', `F-${i}`);
      expect(feedback.experienceRating, JSON.stringify(scores)).toBe(rating);
      expect(feedback).toMatchObject(scores);
    }
  });

  test('unknown ids → 404 not_found on every read route', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', sample.feedback('F-1', 'C-1'));
    for (const type of RECORD_TYPES) {
      const error = expectError(await get(ws.keys.read, urlOf(type, 'missing')), 404, 'not_found');
      expect(error.message).toContain('missing');
    }
    // An id of another kind is not found either.
    expectError(await get(ws.keys.read, urlOf('interactions', 'F-1')), 404, 'not_found');
    expectError(await get(ws.keys.read, urlOf('events', 'C-1')), 404, 'not_found');
  });

  // ---------------------------------------------------------------- workspace isolation

  test("workspace B neither sees nor touches workspace A's records on any endpoint", async () => {
    const a = await workspace();
    const b = await workspace();
    await ingest(a, 'customers', { ...sample.customers('C-1'), name: 'In A', lifecycleStage: 'advocate' });
    await ingest(a, 'interactions', sample.interactions('I-1', 'C-1'));
    await ingest(a, 'interactions', sample.interactions('I-only-in-A', 'C-1'));
    await ingest(a, 'feedback', sample.feedback('F-1', 'C-1'));
    await ingest(a, 'events', sample.events('E-1', 'C-1'));
    const ids: Record<RecordType, string> = {
      customers: 'C-1',
      interactions: 'I-1',
      feedback: 'F-1',
      events: 'E-1',
    };

    for (const key of [b.keys.read, b.keys.admin]) {
      for (const type of RECORD_TYPES) {
        expectError(await get(key, urlOf(type, ids[type])), 404, 'not_found');
      }
    }

    // The same external ids in B are new records of B.
    expect(await ingest(b, 'customers', { externalId: 'C-1', name: 'In B' })).toEqual({
      created: 1,
      updated: 0,
      unchanged: 0,
      customersCreated: 0,
    });
    expect(
      await ingest(b, 'interactions', {
        ...sample.interactions('I-1', 'C-1'),
        channel: 'email',
        transfers: 5,
      }),
    ).toEqual({ created: 1, updated: 0, unchanged: 0, customersCreated: 0 });
    expect(await ingest(b, 'feedback', { ...sample.feedback('F-1', 'C-1'), nps: 1 })).toEqual({
      created: 1,
      updated: 0,
      unchanged: 0,
      customersCreated: 0,
    });
    expect(await ingest(b, 'events', { ...sample.events('E-1', 'C-1'), type: 'churn', amount: -5 })).toEqual({
      created: 1,
      updated: 0,
      unchanged: 0,
      customersCreated: 0,
    });
    // Feedback in B naming an interaction that exists only in A takes nothing from A.
    await ingest(b, 'feedback', {
      externalId: 'F-2',
      interactionId: 'I-only-in-A',
      occurredAt: at(4),
      csat: 2,
    });
    expect(await readBack(b, 'feedback', 'F-2')).toMatchObject({
      customerId: null,
      channel: null,
      touchpoint: null,
    });

    // A is untouched.
    expect(await readBack(a, 'customers', 'C-1')).toMatchObject({ name: 'In A', lifecycleStage: 'advocate' });
    expect(await readBack(a, 'interactions', 'I-1')).toMatchObject({ channel: 'phone', transfers: 0 });
    expect(await readBack(a, 'feedback', 'F-1')).toMatchObject({ nps: 9 });
    expect(await readBack(a, 'events', 'E-1')).toMatchObject({ type: 'purchase', amount: 49.9 });
    const profileA = (await get(a.keys.read, '/api/v1/customers/C-1')).json();
    expect(profileA.summary).toMatchObject({ interactions: 2, feedback: 1, events: 1 });
    expect(profileA.lifecycleHistory.map((h: { lifecycleStage: string }) => h.lifecycleStage)).toEqual([
      'advocate',
    ]);

    // B sees only its own.
    const profileB = (await get(b.keys.read, '/api/v1/customers/C-1')).json();
    expect(profileB.customer).toMatchObject({ name: 'In B', lifecycleStage: null });
    expect(profileB.summary).toMatchObject({ interactions: 1, feedback: 1, events: 1 });
    expect(profileB.lifecycleHistory).toEqual([]);
    expect(
      profileB.timeline.items.map((i: Json) => [i.kind, i.externalId, i.channel ?? i.nps ?? i.type]).sort(),
    ).toEqual(
      [
        ['interaction', 'I-1', 'email'],
        ['feedback', 'F-1', 1],
        ['event', 'E-1', 'churn'],
      ].sort(),
    );
  });
});
