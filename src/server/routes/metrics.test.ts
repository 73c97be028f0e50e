import Papa from 'papaparse';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from '../../../test/helpers/workspace.js';
import type { ErrorBody } from '../errors.js';

// The analytics API through HTTP: GET /api/v1/metrics, /api/v1/metrics/export.csv and
// /api/v1/extremes. Expected values are worked out by hand from small data sets, not by calling
// the code under test.

type Json = Record<string, unknown>;

interface Comparison {
  against: 'rest' | 'previousPeriod';
  value: number | null;
  p: number | null;
  pAdjusted: number | null;
  direction: 'higher' | 'lower' | 'same' | null;
}

interface MeasureBody {
  value: number | null;
  n: number;
  moe: number | null;
  low: number | null;
  high: number | null;
  lowSample: boolean;
  distribution?: Record<string, number>;
  mean?: { value: number | null; moe: number | null };
  p90?: number | null;
  comparison?: Comparison;
}

interface RowBody {
  group: Record<string, string | null>;
  measures: Record<string, MeasureBody>;
}

interface MetricsBody {
  measures: string[];
  by: string[];
  from: string | null;
  to: string | null;
  minN: number;
  compare: 'rest' | 'previousPeriod' | null;
  method: {
    confidence: number;
    margins: Record<string, string>;
    tests: Record<string, string>;
    multipleComparisons: string | null;
  };
  total: RowBody;
  rows: RowBody[];
}

interface ExtremeBody {
  feedbackId: string;
  occurredAt: string;
  experienceRating: string;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  text: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  interactionId: string | null;
  caseId: number | null;
  customer: {
    externalId: string;
    name: string | null;
    segment: string | null;
    lifecycleStage: string | null;
    personalityType: string | null;
  } | null;
}

interface ExtremesBody {
  items: ExtremeBody[];
  nextCursor: string | null;
}

type Params = Record<string, string | number | string[]>;

/** A query string; `|`, `:` and `,` are encoded as a browser would. */
const query = (params: Params): string => {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, String(one));
  }
  return search.toString();
};

/** 2026-03-DD at HH:MM UTC. */
const at = (day: number, hour = 10, minute = 0) =>
  new Date(Date.UTC(2026, 2, day, hour, minute)).toISOString();

const customer = (externalId: string, extra: Json = {}): Json => ({
  externalId,
  name: `Customer ${externalId}`,
  ...extra,
});

const interaction = (externalId: string, customerId: string, occurredAt: string, extra: Json = {}): Json => ({
  externalId,
  customerId,
  channel: 'phone',
  touchpoint: 'billing',
  occurredAt,
  ...extra,
});

const feedback = (externalId: string, occurredAt: string, extra: Json = {}): Json => ({
  externalId,
  customerId: 'C-1',
  occurredAt,
  ...extra,
});

/** `count` feedback records with the same scores, ids PREFIX-0, PREFIX-1 … */
const many = (prefix: string, count: number, occurredAt: string, extra: Json): Json[] =>
  Array.from({ length: count }, (_, i) => feedback(`${prefix}-${i}`, occurredAt, extra));

const paths = (error: ErrorBody['error']) => error.details.map((d) => d.path);

const measure = (row: RowBody | undefined, name: string): MeasureBody => {
  expect(row, 'row exists').toBeDefined();
  const value = row?.measures[name];
  expect(value, `measure ${name}`).toBeDefined();
  return value as MeasureBody;
};

/** The rows as `dimension values → value of one measure`, in response order. */
const cells = (body: MetricsBody, name: string): [(string | null)[], number | null][] =>
  body.rows.map((row) => [body.by.map((d) => row.group[d] ?? null), measure(row, name).value]);

const base64url = (text: string) => Buffer.from(text).toString('base64url');

interface BadCase {
  what: string;
  params: Params;
  path: string;
}

// Every one of these is a 400 validation_failed naming the parameter, on /metrics and on the CSV.
const BAD_METRICS: BadCase[] = [
  { what: 'an unknown measure', params: { measures: 'nps,happiness' }, path: 'query.measures' },
  { what: 'empty measures', params: { measures: '' }, path: 'query.measures' },
  { what: 'measures of only commas', params: { measures: ',,' }, path: 'query.measures' },
  { what: 'an unknown dimension', params: { by: 'planet' }, path: 'query.by' },
  { what: 'a dimension named twice', params: { by: 'channel,touchpoint,channel' }, path: 'query.by' },
  {
    what: 'seven dimensions',
    params: { by: 'lifecycleStage,personalityType,segment,channel,touchpoint,team,agent' },
    path: 'query.by',
  },
  { what: 'an empty attribute key', params: { by: 'customer.attributes.' }, path: 'query.by' },
  { what: 'a word as from', params: { from: 'yesterday' }, path: 'query.from' },
  { what: 'February 30th as from', params: { from: '2026-02-30' }, path: 'query.from' },
  { what: 'month 13 as to', params: { to: '2026-13-01' }, path: 'query.to' },
  { what: 'hour 25 as to', params: { to: '2026-03-01T25:00:00Z' }, path: 'query.to' },
  { what: 'to before from', params: { from: '2026-03-05', to: '2026-03-04' }, path: 'query.to' },
  {
    what: 'to equal to from',
    params: { from: '2026-03-05T10:00:00Z', to: '2026-03-05T10:00:00Z' },
    path: 'query.to',
  },
  {
    what: 'previousPeriod without from and to',
    params: { compare: 'previousPeriod' },
    path: 'query.compare',
  },
  {
    what: 'previousPeriod without to',
    params: { compare: 'previousPeriod', from: '2026-03-01' },
    path: 'query.compare',
  },
  {
    what: 'previousPeriod with a time dimension',
    params: { compare: 'previousPeriod', from: '2026-03-01', to: '2026-03-31', by: 'touchpoint,week' },
    path: 'query.compare',
  },
  { what: 'an unknown compare', params: { compare: 'sideways' }, path: 'query.compare' },
  { what: 'contacts by source', params: { measures: 'contacts', by: 'source' }, path: 'query.by' },
  {
    what: 'a contact measure among others by experienceRating',
    params: { measures: 'nps,avgWaitSeconds', by: 'experienceRating' },
    path: 'query.by',
  },
  { what: 'contacts by an answer', params: { measures: 'transferRate', by: 'answers.q1' }, path: 'query.by' },
  {
    what: 'contacts filtered by source',
    params: { measures: 'contacts', filter: 'source:survey' },
    path: 'query.filter',
  },
  { what: 'a filter without colon', params: { filter: 'channel' }, path: 'query.filter' },
  { what: 'a filter without dimension', params: { filter: ':phone' }, path: 'query.filter' },
  { what: 'a filter with no value', params: { filter: 'channel:' }, path: 'query.filter' },
  { what: 'a filter with an empty value', params: { filter: 'channel:phone||chat' }, path: 'query.filter' },
  { what: 'a filter on an unknown dimension', params: { filter: 'planet:mars' }, path: 'query.filter' },
  {
    what: 'a bad filter after a good one',
    params: { filter: ['channel:phone', 'touchpoint: '] },
    path: 'query.filter',
  },
  { what: 'minN 0', params: { minN: 0 }, path: 'query.minN' },
  { what: 'minN as a word', params: { minN: 'many' }, path: 'query.minN' },
  { what: 'a fractional minN', params: { minN: 2.5 }, path: 'query.minN' },
  { what: 'a negative repeat window', params: { repeatWindowDays: -1 }, path: 'query.repeatWindowDays' },
];

const BAD_EXTREMES: BadCase[] = [
  { what: 'an unknown box', params: { box: 'middle' }, path: 'query.box' },
  { what: 'limit 0', params: { limit: 0 }, path: 'query.limit' },
  { what: 'limit 501', params: { limit: 501 }, path: 'query.limit' },
  { what: 'limit as a word', params: { limit: 'all' }, path: 'query.limit' },
  { what: 'a word as cursor', params: { cursor: 'garbage' }, path: 'query.cursor' },
  { what: 'punctuation as cursor', params: { cursor: '!!!' }, path: 'query.cursor' },
  { what: 'an overlong cursor', params: { cursor: 'x'.repeat(201) }, path: 'query.cursor' },
  {
    what: 'a cursor with a bad id',
    params: { cursor: base64url('2026-03-01T00:00:00.000Z|abc') },
    path: 'query.cursor',
  },
  { what: 'a cursor with a bad date', params: { cursor: base64url('not a date|5') }, path: 'query.cursor' },
  {
    what: 'a cursor with a fractional id',
    params: { cursor: base64url('2026-03-01T00:00:00.000Z|1.5') },
    path: 'query.cursor',
  },
  { what: 'a bad from', params: { from: '2026-02-30' }, path: 'query.from' },
  { what: 'to before from', params: { from: '2026-03-05', to: '2026-03-01' }, path: 'query.to' },
  { what: 'a filter without colon', params: { filter: 'touchpoint' }, path: 'query.filter' },
  { what: 'a filter on an unknown dimension', params: { filter: 'planet:mars' }, path: 'query.filter' },
];

/** Cursors a client could forge: decodable, but not from any list. A 400 at query.cursor, never a 500. */
const FORGED_CURSORS = [
  base64url('0000-01-01T00:00:00.000Z|1'),
  base64url('+275760-09-13T00:00:00.000Z|1'),
  base64url('-000001-01-01T00:00:00.000Z|1'),
];

describeEachDatabase('analytics routes', (database) => {
  const app = useApp(database);

  const workspace = () => createTestWorkspace(database().db);

  const get = (url: string, key?: string) =>
    app().inject({ method: 'GET', url, headers: key ? auth(key) : {} });

  const ingest = async (ws: TestWorkspace, type: string, records: Json[]) => {
    const res = await app().inject({
      method: 'POST',
      url: `/api/v1/${type}`,
      headers: auth(ws.keys.write),
      payload: records,
    });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
  };

  const metrics = async (ws: TestWorkspace, params: Params, key = ws.keys.read): Promise<MetricsBody> => {
    const res = await get(`/api/v1/metrics?${query(params)}`, key);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return res.json() as MetricsBody;
  };

  const extremes = async (ws: TestWorkspace, params: Params, key = ws.keys.read): Promise<ExtremesBody> => {
    const res = await get(`/api/v1/extremes?${query(params)}`, key);
    expect(res.statusCode, res.body.slice(0, 500)).toBe(200);
    return res.json() as ExtremesBody;
  };

  // ---------------------------------------------------------------- bad input

  for (const bad of BAD_METRICS) {
    test(`metrics with ${bad.what} → 400 at ${bad.path}, on JSON and CSV`, async () => {
      const ws = await workspace();
      for (const route of ['/api/v1/metrics', '/api/v1/metrics/export.csv']) {
        const error = expectError(
          await get(`${route}?${query(bad.params)}`, ws.keys.read),
          400,
          'validation_failed',
        );
        expect(paths(error), route).toContain(bad.path);
      }
    });
  }

  for (const bad of BAD_EXTREMES) {
    test(`extremes with ${bad.what} → 400 at ${bad.path}`, async () => {
      const ws = await workspace();
      const error = expectError(
        await get(`/api/v1/extremes?${query(bad.params)}`, ws.keys.read),
        400,
        'validation_failed',
      );
      expect(paths(error)).toContain(bad.path);
    });
  }

  test('extremes with a forged cursor out of the date range → 400 at query.cursor, never a 500', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [feedback('F-1', at(1), { nps: 0 })]);
    const answers: string[] = [];
    for (const cursor of FORGED_CURSORS) {
      const res = await get(`/api/v1/extremes?${query({ cursor })}`, ws.keys.read);
      answers.push(`${Buffer.from(cursor, 'base64url').toString()} → ${res.statusCode} ${res.body}`);
    }
    // Every answer in one message, so that a failure shows all of them.
    for (const answer of answers) {
      expect(answer, answers.join('\n')).toMatch(/ → 400 .*"validation_failed".*"query\.cursor"/);
    }
  });

  test('odd inputs never give a 500', async () => {
    const ws = await workspace();
    await ingest(ws, 'customers', [customer('C-1', { attributes: { plan: 'pro' } })]);
    await ingest(ws, 'interactions', [interaction('I-1', 'C-1', at(1), { transfers: 4 })]);
    await ingest(ws, 'feedback', [
      feedback('F-1', at(1), { nps: 0, answers: { 'q"1': 'yes' }, interactionId: 'I-1' }),
    ]);
    const odd: [string, Params][] = [
      ['/api/v1/metrics', { measures: 'nps,nps,contacts', by: 'customer.attributes.plan' }],
      ['/api/v1/metrics', { measures: 'nps', by: 'answers.q"1', filter: 'answers.q"1:yes|no\'' }],
      ['/api/v1/metrics', { measures: 'contacts', filter: 'transfers:3+|not a number' }],
      ['/api/v1/metrics', { measures: 'contacts', filter: 'month:not a date' }],
      ['/api/v1/metrics', { measures: 'nps', filter: 'channel:ph\u0000one' }],
      ['/api/v1/metrics', { measures: 'nps', by: 'customer.attributes.\u0000' }],
      ['/api/v1/metrics', { measures: 'nps', filter: `touchpoint:${'x'.repeat(1990)}` }],
      ['/api/v1/metrics', { measures: 'nps', filter: Array.from({ length: 21 }, () => 'channel:phone') }],
      ['/api/v1/metrics', { measures: 'nps', from: '2199-12-31', to: '2199-12-31' }],
      ['/api/v1/metrics', { measures: 'nps', from: '1900-01-01T00:00:00+18:00' }],
      ['/api/v1/metrics', { measures: 'nps', minN: 1_000_001 }],
      ['/api/v1/metrics', { measures: 'repeatContactRate', repeatWindowDays: 365 }],
      [
        '/api/v1/metrics',
        { measures: 'nps,contacts', by: 'segment,team,agent,transfers,quarter,customer.attributes.plan' },
      ],
      ['/api/v1/metrics/export.csv', { measures: 'nps', by: 'answers.q"1', compare: 'rest' }],
      ['/api/v1/extremes', { filter: 'transfers:3+', box: 'bottom' }],
      ['/api/v1/extremes', { filter: 'customer.attributes.plan:pro', limit: 500 }],
      ['/api/v1/extremes', { cursor: '' }],
    ];
    const answers: string[] = [];
    for (const [route, params] of odd) {
      const res = await get(`${route}?${query(params)}`, ws.keys.read);
      answers.push(
        `${route} ${JSON.stringify(params).slice(0, 120)} → ${res.statusCode} ${res.body.slice(0, 200)}`,
      );
    }
    for (const answer of answers) expect(answer, answers.join('\n')).toMatch(/ → (200|400) /);
  });

  test('a bad request lists the parameter and what is allowed', async () => {
    const ws = await workspace();
    const error = expectError(
      await get('/api/v1/metrics?measures=nps,happiness', ws.keys.read),
      400,
      'validation_failed',
    );
    expect(error.details).toEqual([{ path: 'query.measures', message: expect.stringMatching(/happiness/) }]);
    expect(error.details[0]?.message).toMatch(/nps.*csat.*contacts/);
  });

  // ---------------------------------------------------------------- auth and isolation

  const ROUTES = ['/api/v1/metrics?measures=nps,contacts', '/api/v1/metrics/export.csv', '/api/v1/extremes'];

  for (const route of ROUTES) {
    test(`GET ${route.split('?')[0]}: no key 401, a bad key 401, write 403, read and admin 200`, async () => {
      const ws = await workspace();
      expectError(await get(route), 401);
      expectError(await get(route, 'tp_not_a_key_at_all_0123456789'), 401);
      expectError(await get(route, ws.keys.write), 403);
      for (const key of [ws.keys.read, ws.keys.admin]) {
        const res = await get(route, key);
        expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
      }
    });
  }

  test("a workspace sees none of another workspace's data", async () => {
    const a = await workspace();
    const b = await workspace();
    await ingest(a, 'customers', [customer('C-1', { attributes: { plan: 'pro' } })]);
    await ingest(a, 'interactions', [interaction('I-1', 'C-1', at(1), { waitSeconds: 30 })]);
    await ingest(a, 'feedback', [
      feedback('F-1', at(1), { nps: 0, text: 'Awful' }),
      feedback('F-2', at(2), { nps: 10 }),
    ]);

    const params = { measures: 'nps,responses,contacts,avgWaitSeconds', by: 'touchpoint' };
    const seen = await metrics(a, params);
    expect(measure(seen.total, 'responses').n).toBe(2);
    expect(measure(seen.total, 'contacts').value).toBe(1);
    expect((await extremes(a, {})).items).toHaveLength(1);

    const other = await metrics(b, params);
    expect(other.rows).toEqual([]);
    for (const name of ['nps', 'responses', 'contacts', 'avgWaitSeconds']) {
      expect(measure(other.total, name).n, name).toBe(0);
    }
    expect(measure(other.total, 'nps').value).toBeNull();
    expect(measure(other.total, 'avgWaitSeconds').value).toBeNull();
    expect(await extremes(b, { box: 'bottom' })).toEqual({ items: [], nextCursor: null });
    // Even naming the other workspace's attribute finds nothing.
    const byPlan = await metrics(b, { measures: 'contacts', filter: 'customer.attributes.plan:pro' });
    expect(measure(byPlan.total, 'contacts').value).toBe(0);
    const csv = await get(`/api/v1/metrics/export.csv?${query(params)}`, b.keys.read);
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^\(all\),/);
    // The admin key of B sees no more than its read key.
    expect((await metrics(b, params, b.keys.admin)).rows).toEqual([]);
  });

  // ---------------------------------------------------------------- values by hand

  /**
   * Ten NPS answers (5 promoters, 2 passives, 3 detractors), five CSAT, five CES, one comment;
   * six contacts of three customers.
   */
  const handData = async (ws: TestWorkspace) => {
    await ingest(ws, 'customers', [customer('C-1'), customer('C-2'), customer('C-3')]);
    const nps = [10, 10, 9, 8, 7, 6, 3, 0, 10, 9];
    const csat = [5, 4, 4, 3, 1];
    const ces = [7, 6, 5, 4, 2];
    await ingest(ws, 'feedback', [
      ...nps.map((score, i) => feedback(`N-${i}`, at(1 + i), { nps: score })),
      ...csat.map((score, i) => feedback(`S-${i}`, at(1 + i, 12), { csat: score })),
      ...ces.map((score, i) => feedback(`E-${i}`, at(1 + i, 14), { ces: score })),
      feedback('T-1', at(3), { text: 'Just a comment' }),
    ]);
    await ingest(ws, 'interactions', [
      // C-1: I-1 is followed by I-2 two days later (a repeat); I-3 comes 17 days after I-2.
      interaction('I-1', 'C-1', at(1), { waitSeconds: 10, transfers: 0, resolved: true }),
      interaction('I-2', 'C-1', at(3), { waitSeconds: 20, transfers: 1, resolved: false }),
      interaction('I-3', 'C-1', at(20), { waitSeconds: 30, transfers: 0, resolved: true }),
      // C-2: I-5 comes 13 days after I-4 (a repeat only in a 14-day window); I-5 knows nothing.
      interaction('I-4', 'C-2', at(2), { waitSeconds: 40, transfers: 2, resolved: true }),
      interaction('I-5', 'C-2', at(15)),
      interaction('I-6', 'C-3', at(4), { waitSeconds: 100, transfers: 0, resolved: true }),
    ]);
  };

  test('feedback measures equal the hand-computed values, with n, margins and lowSample', async () => {
    const ws = await workspace();
    await handData(ws);
    const body = await metrics(ws, {
      measures: 'nps,csat,ces,responses,topBoxShare,bottomBoxShare,poorShare',
      minN: 6,
    });
    expect(body).toMatchObject({ by: [], from: null, to: null, minN: 6, compare: null });
    expect(body.method.confidence).toBe(0.95);
    expect(body.method.multipleComparisons).toBeNull();
    const total = body.total;

    // NPS = 50% promoters − 30% detractors = 20; moe = 1.96 √((0.5 + 0.3 − 0.2²) / 10) × 100.
    const nps = measure(total, 'nps');
    expect(nps).toMatchObject({ n: 10, lowSample: false });
    expect(nps.value).toBeCloseTo(20, 9);
    expect(nps.moe).toBeCloseTo(54.0325, 3);
    expect(nps.low).toBeCloseTo(20 - 54.0325, 3);
    expect(nps.high).toBeCloseTo(20 + 54.0325, 3);
    expect(nps.distribution).toEqual({
      detractors: 3,
      passives: 2,
      promoters: 5,
      '0': 1,
      '1': 0,
      '2': 0,
      '3': 1,
      '4': 0,
      '5': 0,
      '6': 1,
      '7': 1,
      '8': 1,
      '9': 2,
      '10': 3,
    });

    // CSAT: 3 of 5 answered 4 or 5 → 60%; Wilson 95% interval 23.07 … 88.24.
    const csat = measure(total, 'csat');
    expect(csat).toMatchObject({ n: 5, lowSample: true });
    expect(csat.value).toBeCloseTo(60, 9);
    expect(csat.low).toBeCloseTo(23.07, 1);
    expect(csat.high).toBeCloseTo(88.24, 1);
    expect(csat.distribution).toEqual({ '1': 1, '2': 0, '3': 1, '4': 2, '5': 1 });

    // CES: 3 of 5 answered 5–7 → 60% easy; mean 24 / 5 = 4.8, s² = 14.8 / 4, t(4) = 2.7764.
    const ces = measure(total, 'ces');
    expect(ces).toMatchObject({ n: 5, lowSample: true });
    expect(ces.value).toBeCloseTo(60, 9);
    expect(ces.mean?.value).toBeCloseTo(4.8, 9);
    expect(ces.mean?.moe).toBeCloseTo(2.776445 * Math.sqrt(3.7 / 5), 4);

    expect(measure(total, 'responses')).toMatchObject({ value: 21, n: 21, lowSample: false });

    // Ratings (worst score): NPS 10,10,9,8,7,6,3,0,10,9 → 5,5,4,3,3,2,1,1,5,4; CSAT 5,4,4,3,1;
    // CES 7,6,5,4,2 → 5,4,4,3,1. The comment has none: 20 rated, 4 disastrous, 1 poor, 5 fabulous.
    const ratings = { disastrous: 4, poor: 1, neutral: 4, good: 6, fabulous: 5 };
    const bottom = measure(total, 'bottomBoxShare');
    expect(bottom).toMatchObject({ n: 20, lowSample: false, distribution: ratings });
    expect(bottom.value).toBeCloseTo(20, 9);
    expect(measure(total, 'poorShare').value).toBeCloseTo(5, 9);
    expect(measure(total, 'topBoxShare').value).toBeCloseTo(25, 9);
    expect(measure(total, 'topBoxShare').distribution).toEqual(ratings);

    // Without `by`, the one row is the total.
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]?.measures.nps?.value).toBeCloseTo(20, 9);
  });

  test('contact measures equal the hand-computed values, with n, margins and lowSample', async () => {
    const ws = await workspace();
    await handData(ws);
    const body = await metrics(ws, {
      measures: 'contacts,avgWaitSeconds,transferRate,repeatContactRate,firstContactResolution',
      minN: 6,
    });
    const total = body.total;
    expect(measure(total, 'contacts')).toMatchObject({ value: 6, n: 6, lowSample: false });

    // Waits 10, 20, 30, 40, 100: mean 40, s² = 5000 / 4, t(4) = 2.7764; p90 = 40 + 0.6 × 60 = 76.
    const wait = measure(total, 'avgWaitSeconds');
    expect(wait).toMatchObject({ n: 5, lowSample: true });
    expect(wait.value).toBeCloseTo(40, 9);
    expect(wait.moe).toBeCloseTo(2.776445 * Math.sqrt(1250 / 5), 3);
    expect(wait.low).toBeCloseTo(40 - 2.776445 * Math.sqrt(250), 3);
    expect(wait.p90).toBeCloseTo(76, 9);

    // Transfers known for 5 contacts, 2 of them transferred.
    expect(measure(total, 'transferRate')).toMatchObject({ n: 5, lowSample: true });
    expect(measure(total, 'transferRate').value).toBeCloseTo(40, 9);
    // Within 7 days only I-1 is followed by another contact of the same customer: 1 of 6.
    expect(measure(total, 'repeatContactRate')).toMatchObject({ n: 6, lowSample: false });
    expect(measure(total, 'repeatContactRate').value).toBeCloseTo(100 / 6, 9);
    // Outcome known for 5; resolved and not repeated: I-3, I-4, I-6 (I-1 was repeated) → 60%.
    expect(measure(total, 'firstContactResolution')).toMatchObject({ n: 5, lowSample: true });
    expect(measure(total, 'firstContactResolution').value).toBeCloseTo(60, 9);

    // A 14-day window also makes I-4 a repeat (I-5 follows 13 days later).
    const wider = await metrics(ws, {
      measures: 'repeatContactRate,firstContactResolution',
      repeatWindowDays: 14,
    });
    expect(measure(wider.total, 'repeatContactRate').value).toBeCloseTo(200 / 6, 9);
    expect(measure(wider.total, 'firstContactResolution').value).toBeCloseTo(40, 9);

    // Feedback and contact measures in one request: each from its own records.
    const both = await metrics(ws, { measures: 'nps,contacts', minN: 30 });
    expect(measure(both.total, 'nps')).toMatchObject({ n: 10, lowSample: true });
    expect(measure(both.total, 'contacts')).toMatchObject({ value: 6, lowSample: true });
  });

  // ---------------------------------------------------------------- grouping

  test('by=touchpoint,channel: one cell per combination, null values as null and last', async () => {
    const ws = await workspace();
    await ingest(ws, 'interactions', [
      interaction('G-1', 'C-1', at(1)),
      interaction('G-2', 'C-1', at(2)),
      interaction('G-3', 'C-2', at(3), { channel: 'chat' }),
      interaction('G-4', 'C-2', at(4), { touchpoint: 'delivery' }),
      interaction('G-5', 'C-3', at(5), { touchpoint: null }),
      interaction('G-6', 'C-3', at(6), { touchpoint: null, channel: 'email' }),
    ]);
    await ingest(ws, 'feedback', [
      feedback('F-1', at(1), { nps: 10, channel: 'phone', touchpoint: 'billing' }),
      feedback('F-2', at(1), { nps: 0, touchpoint: 'billing' }),
      feedback('F-3', at(1), { nps: 0, channel: 'chat', touchpoint: 'billing' }),
    ]);

    const contacts = await metrics(ws, { measures: 'contacts', by: 'touchpoint,channel' });
    expect(contacts.by).toEqual(['touchpoint', 'channel']);
    expect(contacts.rows.map((row) => row.group)).toEqual([
      { touchpoint: 'billing', channel: 'chat' },
      { touchpoint: 'billing', channel: 'phone' },
      { touchpoint: 'delivery', channel: 'phone' },
      { touchpoint: null, channel: 'email' },
      { touchpoint: null, channel: 'phone' },
    ]);
    expect(cells(contacts, 'contacts').map(([, value]) => value)).toEqual([1, 2, 1, 1, 1]);
    expect(measure(contacts.total, 'contacts').value).toBe(6);
    expect(contacts.total.group).toEqual({});

    // A null in the second dimension sorts after the values of the first.
    const answers = await metrics(ws, { measures: 'nps', by: 'touchpoint,channel' });
    expect(cells(answers, 'nps')).toEqual([
      [['billing', 'chat'], -100],
      [['billing', 'phone'], 100],
      [['billing', null], -100],
    ]);

    // Filters: values of one filter are alternatives; filters combine.
    const phoneOrChat = await metrics(ws, { measures: 'contacts', filter: 'channel:phone|chat' });
    expect(measure(phoneOrChat.total, 'contacts').value).toBe(5);
    const billingPhone = await metrics(ws, {
      measures: 'contacts',
      filter: ['touchpoint:billing', 'channel:phone'],
    });
    expect(measure(billingPhone.total, 'contacts').value).toBe(2);
  });

  test('time buckets are UTC and named by their first day; weeks start on Monday', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [
      // A Sunday: its week began on Monday 23 February.
      feedback('F-1', '2026-03-01T12:00:00Z', { nps: 9 }),
      feedback('F-2', '2026-03-02T00:00:00Z', { nps: 9 }),
      // Midnight on 1 April in UTC+2 is still 31 March in UTC.
      feedback('F-3', '2026-04-01T00:30:00+02:00', { nps: 9 }),
      feedback('F-4', '2026-04-01T00:00:00Z', { nps: 9 }),
      feedback('F-5', '2025-12-31T23:59:00Z', { nps: 9 }),
    ]);
    await ingest(ws, 'interactions', [
      interaction('I-1', 'C-1', '2026-03-01T12:00:00Z'),
      interaction('I-2', 'C-1', '2026-04-01T00:30:00+02:00'),
      interaction('I-3', 'C-1', '2026-04-01T00:00:00Z'),
    ]);

    const buckets = async (by: string, measures = 'responses') =>
      cells(await metrics(ws, { measures, by }), measures).map(([key, value]) => [key[0], value]);

    expect(await buckets('day')).toEqual([
      ['2025-12-31', 1],
      ['2026-03-01', 1],
      ['2026-03-02', 1],
      ['2026-03-31', 1],
      ['2026-04-01', 1],
    ]);
    expect(await buckets('week')).toEqual([
      ['2025-12-29', 1],
      ['2026-02-23', 1],
      ['2026-03-02', 1],
      ['2026-03-30', 2],
    ]);
    expect(await buckets('month')).toEqual([
      ['2025-12-01', 1],
      ['2026-03-01', 3],
      ['2026-04-01', 1],
    ]);
    expect(await buckets('quarter')).toEqual([
      ['2025-10-01', 1],
      ['2026-01-01', 3],
      ['2026-04-01', 1],
    ]);
    expect(await buckets('month', 'contacts')).toEqual([
      ['2026-03-01', 2],
      ['2026-04-01', 1],
    ]);
    // A time bucket works as a filter, too.
    const march = await metrics(ws, { measures: 'responses', filter: 'month:2026-03-01' });
    expect(measure(march.total, 'responses').value).toBe(3);
  });

  test('by=experienceRating sorts disastrous … fabulous, unrated last', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [
      feedback('F-good', at(1), { nps: 9 }),
      feedback('F-poor', at(1), { nps: 5 }),
      feedback('F-fab', at(1), { csat: 5 }),
      feedback('F-none', at(1), { text: 'No score' }),
      feedback('F-dis', at(1), { ces: 1 }),
      feedback('F-neutral', at(1), { nps: 8 }),
      feedback('F-dis2', at(1), { nps: 10, ces: 2 }),
    ]);
    const body = await metrics(ws, { measures: 'responses', by: 'experienceRating' });
    expect(cells(body, 'responses')).toEqual([
      [['disastrous'], 2],
      [['poor'], 1],
      [['neutral'], 1],
      [['good'], 1],
      [['fabulous'], 1],
      [[null], 1],
    ]);
    const filtered = await metrics(ws, { measures: 'responses', filter: 'experienceRating:poor|fabulous' });
    expect(measure(filtered.total, 'responses').value).toBe(2);
  });

  /** Contacts with 0, 1, 2, 3, 5 and unknown transfers; one feedback about each, one about none. */
  const transferData = async (ws: TestWorkspace) => {
    const transfers = [0, 1, 2, 3, 5, null];
    await ingest(
      ws,
      'interactions',
      transfers.map((count, i) => interaction(`I-${i}`, 'C-1', at(1 + i), { transfers: count })),
    );
    await ingest(ws, 'feedback', [
      ...transfers.map((_, i) => feedback(`F-${i}`, at(1 + i, 12), { interactionId: `I-${i}`, nps: 9 })),
      feedback('F-alone', at(9), { nps: 9 }),
    ]);
  };

  test('by=transfers: contacts in bands 0, 1, 2, 3+', async () => {
    const ws = await workspace();
    await transferData(ws);
    const body = await metrics(ws, { measures: 'contacts', by: 'transfers' });
    expect(cells(body, 'contacts')).toEqual([
      [['0'], 1],
      [['1'], 1],
      [['2'], 1],
      [['3+'], 2],
      [[null], 1],
    ]);
    const filtered = await metrics(ws, { measures: 'contacts', filter: 'transfers:0|3+' });
    expect(measure(filtered.total, 'contacts').value).toBe(3);
  });

  test('by=transfers: feedback in the band of its interaction', async () => {
    const ws = await workspace();
    await transferData(ws);
    const body = await metrics(ws, { measures: 'responses', by: 'transfers' });
    expect(cells(body, 'responses')).toEqual([
      [['0'], 1],
      [['1'], 1],
      [['2'], 1],
      [['3+'], 2],
      [[null], 2],
    ]);
  });

  test('feedback takes team and agent from its interaction', async () => {
    const ws = await workspace();
    await ingest(ws, 'interactions', [
      interaction('I-1', 'C-1', at(1), { team: 'Tier 1', agent: 'Grace' }),
      interaction('I-2', 'C-1', at(2), { team: 'Tier 2', agent: 'Alan' }),
    ]);
    await ingest(ws, 'feedback', [
      feedback('F-1', at(1, 12), { interactionId: 'I-1', nps: 10 }),
      feedback('F-2', at(2, 12), { interactionId: 'I-2', nps: 0 }),
      feedback('F-3', at(3, 12), { nps: 0 }),
    ]);
    const body = await metrics(ws, { measures: 'nps,contacts', by: 'team' });
    expect(cells(body, 'nps')).toEqual([
      [['Tier 1'], 100],
      [['Tier 2'], -100],
      [[null], -100],
    ]);
    expect(cells(body, 'contacts')).toEqual([
      [['Tier 1'], 1],
      [['Tier 2'], 1],
      [[null], 0],
    ]);
    const grace = await metrics(ws, { measures: 'nps', filter: 'agent:Grace' });
    expect(measure(grace.total, 'nps')).toMatchObject({ n: 1, value: 100 });
  });

  test('by=customer.attributes.plan and by=answers.q1', async () => {
    const ws = await workspace();
    await ingest(ws, 'customers', [
      customer('P-1', { attributes: { plan: 'pro' } }),
      customer('P-2', { attributes: { plan: 'basic' } }),
      customer('P-3'),
    ]);
    await ingest(ws, 'interactions', [
      interaction('I-1', 'P-1', at(1)),
      interaction('I-2', 'P-1', at(2)),
      interaction('I-3', 'P-2', at(3)),
      interaction('I-4', 'P-3', at(4)),
    ]);
    await ingest(ws, 'feedback', [
      feedback('F-1', at(1), { customerId: 'P-1', nps: 10, answers: { q1: 'yes' } }),
      feedback('F-2', at(2), { customerId: 'P-2', nps: 0, answers: { q1: 'no' } }),
      feedback('F-3', at(3), { customerId: 'P-3', nps: 5, answers: { q1: 'yes' } }),
      feedback('F-4', at(4), { customerId: 'P-1', nps: 9, answers: { q1: 3 } }),
      feedback('F-5', at(5), { customerId: 'P-1', nps: 9 }),
    ]);

    const byPlan = await metrics(ws, { measures: 'nps,contacts', by: 'customer.attributes.plan' });
    expect(byPlan.by).toEqual(['customer.attributes.plan']);
    expect(cells(byPlan, 'nps')).toEqual([
      [['basic'], -100],
      [['pro'], 100],
      [[null], -100],
    ]);
    expect(cells(byPlan, 'contacts')).toEqual([
      [['basic'], 1],
      [['pro'], 2],
      [[null], 1],
    ]);
    const pro = await metrics(ws, { measures: 'contacts', filter: 'customer.attributes.plan:pro' });
    expect(measure(pro.total, 'contacts').value).toBe(2);

    const byAnswer = await metrics(ws, { measures: 'responses', by: 'answers.q1' });
    expect(cells(byAnswer, 'responses')).toEqual([
      [['3'], 1],
      [['no'], 1],
      [['yes'], 2],
      [[null], 1],
    ]);
    const yes = await metrics(ws, { measures: 'nps', filter: 'answers.q1:yes' });
    expect(measure(yes.total, 'nps')).toMatchObject({ n: 2, value: 0 });
  });

  // ---------------------------------------------------------------- from / to

  test('from is inclusive; a date as to includes that whole day, a date-time to is exclusive', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [
      feedback('F-before', '2026-02-28T23:59:59.999Z', { nps: 9 }),
      feedback('F-from', '2026-03-01T00:00:00Z', { nps: 9 }),
      feedback('F-4', '2026-03-04T23:59:59.999Z', { nps: 9 }),
      feedback('F-5a', '2026-03-05T00:00:00Z', { nps: 9 }),
      feedback('F-5b', '2026-03-05T23:59:59Z', { nps: 9 }),
      feedback('F-5c', '2026-03-05T23:59:59.999Z', { nps: 9 }),
      feedback('F-6', '2026-03-06T00:00:00Z', { nps: 9 }),
    ]);
    await ingest(ws, 'interactions', [
      interaction('I-1', 'C-1', '2026-03-01T00:00:00Z'),
      interaction('I-2', 'C-1', '2026-03-05T23:59:59Z'),
      interaction('I-3', 'C-1', '2026-03-06T00:00:00Z'),
    ]);
    const count = async (params: Params) =>
      measure((await metrics(ws, { measures: 'responses', ...params })).total, 'responses').value;

    const whole = await metrics(ws, { measures: 'responses,contacts', from: '2026-03-01', to: '2026-03-05' });
    expect(whole.from).toBe('2026-03-01T00:00:00.000Z');
    expect(whole.to).toBe('2026-03-06T00:00:00.000Z');
    expect(measure(whole.total, 'responses').value).toBe(5);
    expect(measure(whole.total, 'contacts').value).toBe(2);

    expect(await count({ from: '2026-03-01', to: '2026-03-05T23:59:59Z' })).toBe(3);
    expect(await count({ from: '2026-03-05', to: '2026-03-05' })).toBe(3);
    expect(await count({ from: '2026-03-01T00:00:00.001Z' })).toBe(5);
    expect(await count({ to: '2026-03-01T00:00:00Z' })).toBe(1);
    // 01:00 in UTC+2 is 23:00 UTC on the day before.
    expect(await count({ from: '2026-03-05T01:00:00+02:00', to: '2026-03-06T00:00:00Z' })).toBe(4);
  });

  // ---------------------------------------------------------------- comparisons

  test('compare=rest: clearly worse cells lower, clearly better higher, similar same, small flagged', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [
      ...many('B', 60, at(2), { nps: 0, touchpoint: 'billing' }),
      ...many('D', 60, at(3), { nps: 10, touchpoint: 'delivery' }),
      ...many('S0', 30, at(4), { nps: 0, touchpoint: 'sales' }),
      ...many('S1', 30, at(4), { nps: 10, touchpoint: 'sales' }),
      ...many('T0', 30, at(5), { nps: 0, touchpoint: 'store' }),
      ...many('T1', 30, at(5), { nps: 10, touchpoint: 'store' }),
      feedback('W-1', at(6), { nps: 10, touchpoint: 'web' }),
      feedback('W-2', at(6), { nps: 0, touchpoint: 'web' }),
      feedback('W-3', at(6), { nps: 5, touchpoint: 'web' }),
    ]);
    const body = await metrics(ws, { measures: 'nps', by: 'touchpoint', compare: 'rest' });
    expect(body.compare).toBe('rest');
    expect(body.method.multipleComparisons).toMatch(/Benjamini.Hochberg/);
    expect(body.method.tests.nps).toMatch(/z/);
    const row = (touchpoint: string) => {
      const found = body.rows.find((r) => r.group.touchpoint === touchpoint);
      return measure(found, 'nps');
    };

    // Billing: all 60 detractors. The rest: 121 promoters, 62 detractors of 183.
    const billing = row('billing');
    expect(billing.value).toBe(-100);
    expect(billing.comparison?.against).toBe('rest');
    expect(billing.comparison?.value).toBeCloseTo(((121 - 62) / 183) * 100, 9);
    expect(billing.comparison?.pAdjusted).toBeLessThan(0.05);
    expect(billing.comparison?.p).toBeLessThanOrEqual(billing.comparison?.pAdjusted as number);
    expect(billing.comparison?.direction).toBe('lower');

    const delivery = row('delivery');
    expect(delivery.value).toBe(100);
    expect(delivery.comparison?.pAdjusted).toBeLessThan(0.05);
    expect(delivery.comparison?.direction).toBe('higher');

    for (const similar of ['sales', 'store']) {
      expect(row(similar).value).toBe(0);
      expect(row(similar).lowSample).toBe(false);
      expect(row(similar).comparison?.pAdjusted).toBeGreaterThan(0.05);
      expect(row(similar).comparison?.direction, similar).toBe('same');
    }
    // Sales against the rest: 91 promoters and 92 detractors of 183.
    expect(row('sales').comparison?.value).toBeCloseTo(((91 - 92) / 183) * 100, 9);

    expect(row('web')).toMatchObject({ n: 3, lowSample: true });
    // Too few answers to test: compared, but without a p-value or a direction.
    expect(row('web').comparison).toMatchObject({ p: null, pAdjusted: null, direction: null });
    // The total is not compared with itself.
    expect(measure(body.total, 'nps').comparison).toBeUndefined();
    expect(measure(body.total, 'nps').lowSample).toBe(false);
  });

  test('compare=previousPeriod: each cell against the same cell in the period of equal length before', async () => {
    const ws = await workspace();
    await ingest(ws, 'feedback', [
      // Before the previous period.
      feedback('F-old', '2026-02-28T23:59:00Z', { nps: 10, touchpoint: 'billing' }),
      // The previous period, 1–11 March: billing NPS 0.
      feedback('F-p1', '2026-03-01T00:00:00Z', { nps: 0, touchpoint: 'billing' }),
      feedback('F-p2', '2026-03-10T23:59:00Z', { nps: 10, touchpoint: 'billing' }),
      // The period asked for, 11–21 March: billing NPS (3 − 1) / 4 = 50; delivery 100.
      feedback('F-c1', '2026-03-11T00:00:00Z', { nps: 10, touchpoint: 'billing' }),
      feedback('F-c2', at(12), { nps: 10, touchpoint: 'billing' }),
      feedback('F-c3', at(15), { nps: 10, touchpoint: 'billing' }),
      feedback('F-c4', '2026-03-20T23:59:00Z', { nps: 0, touchpoint: 'billing' }),
      feedback('F-c5', at(13), { nps: 10, touchpoint: 'delivery' }),
      feedback('F-c6', at(14), { nps: 10, touchpoint: 'delivery' }),
      // After it.
      feedback('F-late', '2026-03-21T00:00:00Z', { nps: 0, touchpoint: 'billing' }),
    ]);
    await ingest(ws, 'interactions', [
      interaction('I-p1', 'C-1', at(5)),
      interaction('I-c1', 'C-1', at(12)),
      interaction('I-c2', 'C-1', at(13)),
      interaction('I-c3', 'C-1', at(14)),
    ]);
    const body = await metrics(ws, {
      measures: 'nps,contacts',
      by: 'touchpoint',
      compare: 'previousPeriod',
      // Every cell is tested, however small (cells below minN are not).
      minN: '1',
      from: '2026-03-11T00:00:00Z',
      to: '2026-03-21T00:00:00Z',
    });
    expect(body.compare).toBe('previousPeriod');
    expect(body.method.multipleComparisons).toMatch(/Benjamini.Hochberg/);

    const billing = measure(
      body.rows.find((r) => r.group.touchpoint === 'billing'),
      'nps',
    );
    expect(billing).toMatchObject({ n: 4, value: 50 });
    expect(billing.comparison).toMatchObject({ against: 'previousPeriod', value: 0 });
    expect(billing.comparison?.direction).toBe('same');

    // Delivery had no answers in the previous period: nothing to compare with.
    const delivery = measure(
      body.rows.find((r) => r.group.touchpoint === 'delivery'),
      'nps',
    );
    expect(delivery).toMatchObject({ n: 2, value: 100 });
    expect(delivery.comparison).toMatchObject({ against: 'previousPeriod', value: null, p: null });

    // The total: 5 promoters and 1 detractor of 6 now; 1 and 1 of 2 before.
    const total = measure(body.total, 'nps');
    expect(total.n).toBe(6);
    expect(total.value).toBeCloseTo((400 / 6) * 1, 9);
    expect(total.comparison).toMatchObject({ against: 'previousPeriod', value: 0 });
    expect(measure(body.total, 'contacts')).toMatchObject({ value: 3 });
    expect(measure(body.total, 'contacts').comparison?.value).toBe(1);
    expect(
      measure(
        body.rows.find((r) => r.group.touchpoint === 'billing'),
        'contacts',
      ).comparison?.value,
    ).toBe(1);
  });

  // ---------------------------------------------------------------- CSV

  test('export.csv: the same table as the JSON, one line per row and a last "(all)" line', async () => {
    const ws = await workspace();
    await ingest(ws, 'interactions', [
      interaction('I-1', 'C-1', at(1), { waitSeconds: 10, transfers: 0 }),
      interaction('I-2', 'C-1', at(2), { waitSeconds: 50, transfers: 1, channel: 'chat' }),
      interaction('I-3', 'C-2', at(3), { waitSeconds: 35.5, touchpoint: 'delivery' }),
      interaction('I-4', 'C-2', at(4), { touchpoint: null }),
    ]);
    await ingest(ws, 'feedback', [
      feedback('F-1', at(1), {
        nps: 10,
        ces: 6,
        channel: 'phone',
        touchpoint: 'billing',
        text: 'Fine, "really"',
      }),
      feedback('F-2', at(1), { nps: 3, ces: 2, channel: 'phone', touchpoint: 'billing' }),
      feedback('F-3', at(2), { nps: 8, channel: 'chat', touchpoint: 'billing' }),
      feedback('F-4', at(3), { nps: 9, channel: 'phone', touchpoint: 'delivery' }),
    ]);
    const params = {
      measures: 'nps,ces,contacts,avgWaitSeconds',
      by: 'touchpoint,channel',
      compare: 'rest',
      minN: 2,
    };
    const json = await metrics(ws, params);
    const res = await get(`/api/v1/metrics/export.csv?${query(params)}`, ws.keys.read);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/attachment/);

    const parsed = Papa.parse<string[]>(res.body.trim(), { skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    const [header, ...lines] = parsed.data as [string[], ...string[][]];
    expect(header.slice(0, 8)).toEqual([
      'touchpoint',
      'channel',
      'nps',
      'nps.n',
      'nps.moe',
      'nps.low',
      'nps.high',
      'nps.lowSample',
    ]);
    expect(header).toEqual(
      expect.arrayContaining([
        'nps.distribution.promoters',
        'nps.compared',
        'nps.pAdjusted',
        'nps.direction',
        'ces.mean',
        'ces.mean.moe',
        'contacts',
        'avgWaitSeconds.p90',
      ]),
    );
    expect(lines).toHaveLength(json.rows.length + 1);
    expect(lines.at(-1)?.slice(0, 2)).toEqual(['(all)', '(all)']);

    /** The JSON value behind a CSV column, as the CSV writes it. */
    const expected = (row: RowBody, column: string): string => {
      const [name, ...rest] = column.split('.') as [string, ...string[]];
      const value = row.measures[name];
      const field = rest.join('.');
      let raw: unknown;
      if (field === '') raw = value?.value;
      else if (['n', 'moe', 'low', 'high', 'lowSample', 'p90'].includes(field))
        raw = value?.[field as keyof MeasureBody];
      else if (field === 'mean') raw = value?.mean?.value;
      else if (field === 'mean.moe') raw = value?.mean?.moe;
      else if (field.startsWith('distribution.')) raw = value?.distribution?.[field.slice(13)];
      else if (field === 'compared') raw = value?.comparison?.value;
      else if (field === 'p' || field === 'pAdjusted' || field === 'direction')
        raw = value?.comparison?.[field];
      else throw new Error(`unexpected column ${column}`);
      return raw === null || raw === undefined ? '' : String(raw);
    };
    const jsonRows = [...json.rows, json.total];
    lines.forEach((line, i) => {
      const row = jsonRows[i] as RowBody;
      const isTotal = i === lines.length - 1;
      expect(line).toHaveLength(header.length);
      header.forEach((column, c) => {
        if (c < 2) {
          const dimension = json.by[c] as string;
          expect(line[c], column).toBe(isTotal ? '(all)' : (row.group[dimension] ?? ''));
        } else {
          expect(line[c], `${column} of line ${i + 1}`).toBe(expected(row, column));
        }
      });
    });
    // Spot checks against the data: billing by phone has NPS (1 − 1) / 2 = 0 and 1 contact.
    const billingPhone = lines.find((line) => line[0] === 'billing' && line[1] === 'phone');
    expect(billingPhone?.[header.indexOf('nps')]).toBe('0');
    expect(billingPhone?.[header.indexOf('contacts')]).toBe('1');
    expect(lines.at(-1)?.[header.indexOf('contacts')]).toBe('4');
  });

  // ---------------------------------------------------------------- extremes

  /** Disastrous, poor, neutral and fabulous encounters of two customers. */
  const extremeData = async (ws: TestWorkspace) => {
    await ingest(ws, 'customers', [
      customer('C-1', { segment: 'SMB', lifecycleStage: 'ending', personalityType: 'prompt' }),
      customer('C-2', { segment: 'Enterprise', lifecycleStage: 'current' }),
    ]);
    await ingest(ws, 'interactions', [
      interaction('I-1', 'C-1', at(1, 9), { channel: 'phone', touchpoint: 'billing' }),
    ]);
    await ingest(ws, 'feedback', [
      { externalId: 'D-1', interactionId: 'I-1', occurredAt: at(1), nps: 0, text: 'Terrible' },
      feedback('D-2', at(2), { csat: 1, channel: 'chat', touchpoint: 'delivery', text: 'Lost parcel' }),
      feedback('D-3', at(3), { ces: 1, channel: 'email', touchpoint: 'billing' }),
      feedback('D-6', at(3, 12), { nps: 1, touchpoint: 'returns', source: 'complaint' }),
      feedback('D-4', at(4), { nps: 9, ces: 2, touchpoint: 'billing' }),
      feedback('D-5', at(5), { customerId: 'C-2', nps: 2, touchpoint: 'delivery' }),
      feedback('P-1', at(2), { nps: 5, text: 'Meh' }),
      feedback('N-1', at(2), { nps: 8 }),
      feedback('T-1', at(1), { nps: 10, touchpoint: 'billing' }),
      feedback('T-2', at(6), { csat: 5, text: 'Wonderful' }),
      feedback('X-1', at(6), { text: 'No score' }),
    ]);
    // Recorded later than D-6, at the same moment.
    await ingest(ws, 'feedback', [feedback('D-7', at(3, 12), { nps: 2, touchpoint: 'returns' })]);
  };

  const ids = (body: ExtremesBody) => body.items.map((item) => item.feedbackId);

  test('extremes: bottom, poor and top box, newest first, with customer, contact point and text', async () => {
    const ws = await workspace();
    await extremeData(ws);
    const bottom = await extremes(ws, { box: 'bottom' });
    // D-6 and D-7 happened at the same moment: the later-recorded one first.
    expect(ids(bottom)).toEqual(['D-5', 'D-4', 'D-7', 'D-6', 'D-3', 'D-2', 'D-1']);
    expect(bottom.nextCursor).toBeNull();
    for (const item of bottom.items) expect(item.experienceRating).toBe('disastrous');
    const times = bottom.items.map((item) => item.occurredAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(bottom.items.find((item) => item.feedbackId === 'D-1')).toEqual({
      feedbackId: 'D-1',
      occurredAt: at(1),
      experienceRating: 'disastrous',
      nps: 0,
      csat: null,
      ces: null,
      text: 'Terrible',
      source: 'survey',
      channel: 'phone',
      touchpoint: 'billing',
      interactionId: 'I-1',
      caseId: null,
      customer: {
        externalId: 'C-1',
        name: 'Customer C-1',
        segment: 'SMB',
        lifecycleStage: 'ending',
        personalityType: 'prompt',
      },
    });
    expect(bottom.items.find((item) => item.feedbackId === 'D-5')?.customer).toMatchObject({
      externalId: 'C-2',
      segment: 'Enterprise',
      lifecycleStage: 'current',
      personalityType: 'unknown',
    });
    expect(bottom.items.find((item) => item.feedbackId === 'D-6')?.source).toBe('complaint');
    // bottom is the default.
    expect(ids(await extremes(ws, {}))).toEqual(ids(bottom));

    expect(ids(await extremes(ws, { box: 'top' }))).toEqual(['T-2', 'T-1']);
    const poor = await extremes(ws, { box: 'poor' });
    expect(ids(poor)).toEqual(['P-1']);
    expect(poor.items[0]).toMatchObject({ experienceRating: 'poor', nps: 5, text: 'Meh' });
  });

  test('extremes: filters and from/to apply', async () => {
    const ws = await workspace();
    await extremeData(ws);
    expect(ids(await extremes(ws, { filter: 'touchpoint:billing' }))).toEqual(['D-4', 'D-3', 'D-1']);
    expect(
      ids(await extremes(ws, { filter: ['touchpoint:billing|delivery', 'channel:chat|phone'] })),
    ).toEqual(['D-2', 'D-1']);
    expect(ids(await extremes(ws, { filter: 'segment:Enterprise' }))).toEqual(['D-5']);
    expect(ids(await extremes(ws, { from: '2026-03-02', to: '2026-03-03' }))).toEqual([
      'D-7',
      'D-6',
      'D-3',
      'D-2',
    ]);
    expect(ids(await extremes(ws, { from: at(3, 12), to: at(4) }))).toEqual(['D-7', 'D-6']);
    expect(ids(await extremes(ws, { box: 'top', to: '2026-03-05' }))).toEqual(['T-1']);
  });

  test('extremes: paging with limit=2 visits every item once, in order', async () => {
    const ws = await workspace();
    await extremeData(ws);
    const all = ids(await extremes(ws, { limit: 500 }));
    expect(all).toHaveLength(7);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ExtremesBody = await extremes(ws, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(4);
    expect(seen).toEqual(all);
    // A page that holds everything ends without a cursor.
    const first = await extremes(ws, { limit: 7 });
    expect(first.nextCursor).toBeNull();
    const filtered = await extremes(ws, { limit: 1, filter: 'touchpoint:returns' });
    expect(ids(filtered)).toEqual(['D-7']);
    const next = await extremes(ws, {
      limit: 1,
      filter: 'touchpoint:returns',
      cursor: filtered.nextCursor as string,
    });
    expect(ids(next)).toEqual(['D-6']);
    expect(next.nextCursor).toBeNull();
  });
});
