import { createHmac, randomUUID } from 'node:crypto';
import { createContext, runInContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Db } from '../src/db/index.js';
import { type App, buildApp } from '../src/server/app.js';
import { Channels } from '../src/surveys/channels.js';
import { dispatchDue } from '../src/surveys/dispatch.js';
import { linkSecret, signOpenLink } from '../src/surveys/tokens.js';
import { killChildren, removeTempDirs, runCli, templateDataDir, withDatabase } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/databases.js';
import { auth, expectError, useApp } from './helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from './helpers/workspace.js';

/**
 * The survey channels beyond e-mail, on both databases: post-call IVR keys, open links with their
 * QR codes, the invitation funnel (response rates, also through the CLI) and the web widget.
 * Expected values are counted by hand here, not taken from the code under test.
 */

afterEach(killChildren);
afterAll(removeTempDirs);

const PUBLIC_URL = 'http://localhost:3000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SURVEY_PATH = /^\/s\/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const DAY = 86_400_000;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'OPTIONS';
type Json = Record<string, unknown>;

interface InvitationItem {
  id: string;
  surveyId: number;
  customerId: string | null;
  interactionId: string | null;
  channel: string;
  touchpoint: string | null;
  status: string;
  reason: string | null;
  openedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

interface Funnel {
  invited: number;
  delivered: number;
  opened: number;
  started: number;
  completed: number;
  suppressed: number;
  failed: number;
  responseRate: number | null;
}
interface Rates {
  by: string[];
  total: Funnel;
  rows: (Funnel & { group: Record<string, string | null> })[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One test's own workspace, driven through the HTTP API (admin key unless another is given). */
const workspaceApi = async (app: () => App, db: Db) => {
  const ws: TestWorkspace = await createTestWorkspace(db);
  const request = (
    method: Method,
    url: string,
    options: { key?: string | null; payload?: unknown; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> => {
    const key = options.key === undefined ? ws.keys.admin : options.key;
    const inject: InjectOptions = {
      method,
      url,
      headers: { ...(key === null ? {} : auth(key)), ...options.headers },
    };
    if (options.payload !== undefined) inject.payload = options.payload as InjectOptions['payload'];
    return app().inject(inject);
  };
  const call = async <T = Json>(method: Method, url: string, payload?: unknown, expected = 200) => {
    const res = await request(method, url, { payload });
    expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 800)}`).toBe(expected);
    return res.json() as T;
  };
  await call('PUT', '/api/v1/survey-settings', { quietHours: null });
  return {
    ws,
    request,
    call,
    survey: (template: string, languages?: string[]) =>
      call<{ id: number; name: string }>(
        'POST',
        '/api/v1/surveys',
        { template, ...(languages ? { languages } : {}) },
        201,
      ),
    customers: (records: object[]) => call('POST', '/api/v1/customers', records),
    interactions: (records: object[]) => call('POST', '/api/v1/interactions', records),
    invitations: async (query = '') =>
      (await call<{ items: InvitationItem[] }>('GET', `/api/v1/invitations?limit=500${query}`)).items,
    feedback: (id: string) => call('GET', `/api/v1/feedback/${id}`),
    invite: (surveyId: number, customerId: string, channel: string) =>
      call<InvitationItem & { url: string | null }>(
        'POST',
        `/api/v1/surveys/${surveyId}/invitations`,
        { customerId, channel },
        201,
      ),
    pause: (surveyId: number, status = 'paused') => call('PATCH', `/api/v1/surveys/${surveyId}`, { status }),
  };
};

// The public survey pages, as a respondent's browser reaches them (no API key).
const pathOf = (url: string) => {
  expect(url.startsWith(`${PUBLIC_URL}/`), url).toBe(true);
  return url.slice(PUBLIC_URL.length);
};
const getPage = (app: () => App, path: string, headers: Record<string, string> = {}) =>
  app().inject({ method: 'GET', url: path, headers });
const postForm = (app: () => App, path: string, fields: Record<string, string>) =>
  app().inject({
    method: 'POST',
    url: path,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
const questionOf = (html: string) => /name="question" value="([^"]+)"/.exec(html)?.[1];

const expectSvg = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
  expect(res.body.trimStart()).toMatch(/^<(svg|\?xml)/);
  expect(res.body).toContain('</svg>');
};
const expectPng = (res: LightMyRequestResponse) => {
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
  expect(res.headers['content-type']).toMatch(/^image\/png/);
  expect(res.rawPayload.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true);
  expect(res.rawPayload.length).toBeGreaterThan(100);
};

const funnel = (
  invited: number,
  delivered: number,
  opened: number,
  started: number,
  completed: number,
  suppressed: number,
  failed: number,
  responseRate: number | null,
): Funnel => ({ invited, delivered, opened, started, completed, suppressed, failed, responseRate });

const ZERO = funnel(0, 0, 0, 0, 0, 0, 0, null);

const sumOf = (rows: Funnel[]) => {
  const keys = ['invited', 'delivered', 'opened', 'started', 'completed', 'suppressed', 'failed'] as const;
  return Object.fromEntries(keys.map((key) => [key, rows.reduce((sum, row) => sum + row[key], 0)]));
};
const byGroup = (rows: Rates['rows']) =>
  [...rows].sort((a, b) => JSON.stringify(a.group).localeCompare(JSON.stringify(b.group)));

/**
 * A funnel built by hand in a fresh workspace:
 * - survey A (CSAT): six link invitations — two never opened, one opened, one started (a score),
 *   two completed — and an e-mail to a customer without an address (suppressed: no_email);
 * - survey B (NPS): an e-mail that fails (no SMTP configured) and a completed IVR call (touchpoint billing).
 * The e-mails and the call are created before `middle`, the links after it.
 */
const buildFunnel = async (app: () => App, db: Db) => {
  const api = await workspaceApi(app, db);
  const a = await api.survey('csat-after-contact', ['en']);
  const b = await api.survey('transactional-nps', ['en']);
  await api.customers([
    ...[1, 2, 3, 4, 5, 6].map((n) => ({ externalId: `C-${n}`, email: `c${n}@example.com` })),
    { externalId: 'C-7' },
    { externalId: 'C-8', email: 'c8@example.com' },
  ]);
  await api.interactions([
    {
      externalId: 'CALL-9',
      customerId: 'C-9',
      channel: 'phone',
      touchpoint: 'billing',
      occurredAt: new Date().toISOString(),
    },
  ]);
  await sleep(30);
  const before = new Date();
  await sleep(30);
  await api.invite(a.id, 'C-7', 'email');
  await api.invite(b.id, 'C-8', 'email');
  const dispatched = await dispatchDue(
    { db, channels: new Channels(null), publicUrl: PUBLIC_URL },
    new Date(),
    {
      workspaceId: api.ws.id,
    },
  );
  expect(dispatched).toMatchObject({ sent: 0, suppressed: 1, failed: 1, deferred: 0, retrying: 0 });
  const ivr = await api.request('POST', `/api/v1/surveys/${b.id}/ivr`, {
    key: api.ws.keys.write,
    payload: { interactionId: 'CALL-9', digits: '9#' },
  });
  expect(ivr.statusCode, ivr.body).toBe(200);
  expect(ivr.json()).toMatchObject({ complete: true });
  await sleep(50);
  const middle = new Date();
  await sleep(50);
  const links: string[] = [];
  for (const n of [1, 2, 3, 4, 5, 6]) {
    const { url } = await api.invite(a.id, `C-${n}`, 'link');
    links.push(pathOf(url as string));
  }
  for (const [index, path] of links.entries()) {
    if (index < 2) continue; // never opened
    const page = await getPage(app, path);
    expect(page.statusCode).toBe(200);
    if (index < 3) continue; // opened only
    const scored = await postForm(app, path, { question: 'csat', answer: '4' });
    expect(scored.statusCode, scored.body).toBe(303);
    if (index < 4) continue; // started
    const done = await postForm(app, path, { question: 'liked', skip: '1' });
    expect(done.statusCode, done.body).toBe(200);
  }
  await sleep(30);
  const after = new Date();
  const suppressed = await api.invitations('&status=suppressed');
  expect(suppressed.map((i) => [i.channel, i.reason])).toEqual([['email', 'no_email']]);
  const failed = await api.invitations('&status=failed');
  expect(failed.map((i) => [i.channel, i.reason])).toEqual([['email', 'delivery_failed']]);
  return { api, a, b, before, middle, after };
};

/** The hand counts of {@link buildFunnel}. */
const LINKS = funnel(6, 6, 4, 3, 2, 0, 0, 33.33);
const EMAIL = funnel(1, 0, 0, 0, 0, 1, 1, null);
const IVR = funnel(1, 1, 1, 1, 1, 0, 0, 100);
const TOTAL = funnel(8, 7, 5, 4, 3, 1, 1, 42.86);

describeEachDatabase('survey channels', (database) => {
  const app = useApp(database);

  describe('IVR', () => {
    test('the keys become the feedback record of the call; sending them again replaces them', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('csat-after-contact', ['en']);
      const occurredAt = new Date(Date.now() - 60_000).toISOString();
      await api.customers([{ externalId: 'C-1', email: 'c1@example.com' }]);
      await api.interactions([
        { externalId: 'CALL-1', customerId: 'C-1', channel: 'phone', touchpoint: 'billing', occurredAt },
      ]);
      const ivr = (digits: string | string[]) =>
        api.request('POST', `/api/v1/surveys/${survey.id}/ivr`, {
          key: api.ws.keys.write,
          payload: { interactionId: 'CALL-1', digits },
        });

      const first = await ivr('1#3#');
      expect(first.statusCode, first.body).toBe(200);
      const body = first.json() as { invitationId: string; feedbackId: string };
      expect(body.invitationId).toMatch(UUID);
      expect(body).toEqual({
        invitationId: body.invitationId,
        feedbackId: `survey-${body.invitationId}`,
        answers: { csat: 1, what_went_wrong: 'staff_attitude', comment: null },
        complete: true,
      });
      expect(await api.feedback(body.feedbackId)).toMatchObject({
        externalId: body.feedbackId,
        source: 'survey',
        customerId: 'C-1',
        interactionId: 'CALL-1',
        channel: 'phone',
        touchpoint: 'billing',
        csat: 1,
        nps: null,
        answers: { what_went_wrong: 'staff_attitude' },
      });

      // The same call again, other keys: the same invitation and record, new answers.
      const second = await ivr(['5']);
      expect(second.statusCode, second.body).toBe(200);
      expect(second.json()).toEqual({
        invitationId: body.invitationId,
        feedbackId: body.feedbackId,
        answers: { csat: 5, liked: null },
        complete: true,
      });
      const replaced = await api.feedback(body.feedbackId);
      expect(replaced).toMatchObject({
        csat: 5,
        customerId: 'C-1',
        interactionId: 'CALL-1',
        channel: 'phone',
        touchpoint: 'billing',
      });
      // The first call's choice is gone with the keys that gave it.
      expect(replaced.answers ?? {}).toEqual({});
      const invitations = await api.invitations(`&surveyId=${survey.id}`);
      expect(invitations).toHaveLength(1);
      expect(invitations[0]).toMatchObject({
        id: body.invitationId,
        channel: 'ivr',
        customerId: 'C-1',
        interactionId: 'CALL-1',
        touchpoint: 'billing',
        status: 'sent',
        completedAt: expect.any(String),
      });

      // Keys that stop before the end of the path: an incomplete response.
      const third = await ivr('2#');
      expect(third.statusCode, third.body).toBe(200);
      expect(third.json()).toMatchObject({
        invitationId: body.invitationId,
        answers: { csat: 2 },
        complete: false,
      });
      expect(await api.feedback(body.feedbackId)).toMatchObject({ csat: 2 });
      const [incomplete] = await api.invitations(`&surveyId=${survey.id}`);
      expect(incomplete).toMatchObject({ id: body.invitationId, completedAt: null });
    });

    test('concurrent retries of one call make one invitation and one feedback record', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('csat-after-contact', ['en']);
      await api.customers([{ externalId: 'C-1' }]);
      await api.interactions([
        { externalId: 'CALL-9', customerId: 'C-1', channel: 'phone', occurredAt: new Date().toISOString() },
      ]);
      const ivr = (digits: string | string[]) =>
        api.request('POST', `/api/v1/surveys/${survey.id}/ivr`, {
          key: api.ws.keys.write,
          payload: { interactionId: 'CALL-9', digits },
        });
      const results = await Promise.all(
        ['1#1#', '2#2#', '3#', '4#', '5#', '1#3#'].map((digits) => ivr(digits)),
      );
      for (const res of results) expect(res.statusCode, res.body).toBe(200);
      const ids = new Set(results.map((res) => (res.json() as { invitationId: string }).invitationId));
      expect(ids.size).toBe(1);
      expect(await api.invitations()).toHaveLength(1);
      const [invitationId] = [...ids];
      // csat is required here, so "#" alone is refused; an array entry "#" is a skip like "".
      expect((await ivr(['#'])).statusCode).toBe(400);
      const rows = await database()
        .db.selectFrom('feedback')
        .select('external_id')
        .where('workspace_id', '=', api.ws.id)
        .execute();
      expect(rows.map((row) => row.external_id)).toEqual([`survey-${invitationId}`]);
    });

    test('keys that answer nothing replace earlier answers with none: the record is removed', async () => {
      const api = await workspaceApi(app, database().db);
      const text = (en: string) => ({ en });
      const survey = await api.call<{ id: number }>(
        'POST',
        '/api/v1/surveys',
        {
          definition: {
            name: 'Optional IVR',
            languages: ['en'],
            questions: [
              {
                id: 'csat',
                type: 'rating',
                min: 1,
                max: 5,
                metric: 'csat',
                required: false,
                text: text('Satisfied?'),
              },
              {
                id: 'pick',
                type: 'single',
                required: false,
                text: text('Which?'),
                options: [
                  { value: 'x', label: text('X') },
                  { value: 'y', label: text('Y') },
                ],
              },
            ],
            thankYou: text('Thanks'),
            invitation: { subject: text('Hi'), body: text('Please answer') },
          },
        },
        201,
      );
      await api.customers([{ externalId: 'C-1' }]);
      await api.interactions([
        { externalId: 'CALL-7', customerId: 'C-1', channel: 'phone', occurredAt: new Date().toISOString() },
      ]);
      const ivr = (digits: string) =>
        api.call<{ invitationId: string; feedbackId: string | null }>(
          'POST',
          `/api/v1/surveys/${survey.id}/ivr`,
          {
            interactionId: 'CALL-7',
            digits,
          },
        );
      const first = await ivr('2#1#');
      expect(await api.feedback(first.feedbackId as string)).toMatchObject({
        csat: 2,
        answers: { pick: 'x' },
      });
      const second = await ivr('##');
      expect(second).toMatchObject({ invitationId: first.invitationId, feedbackId: null });
      const gone = await api.request('GET', `/api/v1/feedback/${first.feedbackId}`);
      expect(gone.statusCode).toBe(404);
    });

    test('an NPS survey by IVR: nps from the keys, channel and touchpoint from the interaction', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en']);
      await api.interactions([
        {
          externalId: 'CHAT-2',
          customerId: 'C-2',
          channel: 'chat',
          touchpoint: 'moving',
          occurredAt: new Date().toISOString(),
        },
      ]);
      const res = await api.request('POST', `/api/v1/surveys/${survey.id}/ivr`, {
        key: api.ws.keys.write,
        payload: { interactionId: 'CHAT-2', digits: '9#' },
      });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json() as { feedbackId: string };
      expect(body).toMatchObject({ answers: { nps: 9, liked: null }, complete: true });
      expect(await api.feedback(body.feedbackId)).toMatchObject({
        nps: 9,
        csat: null,
        customerId: 'C-2',
        interactionId: 'CHAT-2',
        channel: 'chat',
        touchpoint: 'moving',
      });
    });

    test('refusals: unknown interaction, bad keys, read key, another workspace, paused survey', async () => {
      const api = await workspaceApi(app, database().db);
      const other = await workspaceApi(app, database().db);
      const survey = await api.survey('csat-after-contact', ['en']);
      const now = new Date().toISOString();
      await api.interactions([
        { externalId: 'CALL-1', customerId: 'C-1', channel: 'phone', occurredAt: now },
      ]);
      await other.interactions([
        { externalId: 'CALL-X', customerId: 'C-X', channel: 'phone', occurredAt: now },
      ]);
      const ivr = (payload: unknown, key = api.ws.keys.write, surveyId = survey.id) =>
        api.request('POST', `/api/v1/surveys/${surveyId}/ivr`, { key, payload });

      expectError(await ivr({ interactionId: 'CALL-404', digits: '4#' }), 404, 'not_found');
      const outOfScale = expectError(
        await ivr({ interactionId: 'CALL-1', digits: '9#' }),
        400,
        'invalid_digits',
      );
      expect(outOfScale.details.map((d) => d.path)).toEqual(['digits[0]']);
      const badOption = expectError(
        await ivr({ interactionId: 'CALL-1', digits: ['1', '6'] }),
        400,
        'invalid_digits',
      );
      expect(badOption.details.map((d) => d.path)).toEqual(['digits[1]']);
      const tooMany = expectError(
        await ivr({ interactionId: 'CALL-1', digits: ['1', '2', '9'] }),
        400,
        'invalid_digits',
      );
      expect(tooMany.details.map((d) => d.path)).toEqual(['digits[2]']);
      expectError(await ivr({ interactionId: 'CALL-1', digits: 4 }), 400, 'validation_failed');
      expectError(await ivr({ digits: '4#' }), 400, 'validation_failed');
      expectError(await ivr({ interactionId: 'CALL-1', digits: '4#' }, api.ws.keys.read), 403);
      // Another workspace's call, and this workspace's survey through another workspace's key.
      expectError(await ivr({ interactionId: 'CALL-X', digits: '4#' }), 404, 'not_found');
      expectError(
        await ivr({ interactionId: 'CALL-X', digits: '4#' }, other.ws.keys.write),
        404,
        'not_found',
      );
      expectError(
        await ivr({ interactionId: 'CALL-1', digits: '4#' }, api.ws.keys.write, 2_000_000_000),
        404,
      );
      // Nothing refused left an invitation or a record behind.
      expect(await api.invitations()).toEqual([]);
      expect(await other.invitations()).toEqual([]);

      await api.pause(survey.id);
      expectError(await ivr({ interactionId: 'CALL-1', digits: '4#' }), 409, 'survey_inactive');
      expect(await api.invitations()).toEqual([]);
    });
  });

  describe('open links and QR codes', () => {
    test('the open link of a touchpoint and its QR codes', async () => {
      const api = await workspaceApi(app, database().db);
      const other = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en', 'de']);
      const openLink = async (query: string, key = api.ws.keys.read) => {
        const res = await api.request('GET', `/api/v1/surveys/${survey.id}/open-link${query}`, { key });
        expect(res.statusCode, res.body).toBe(200);
        return res.json() as { url: string; qrSvg: string; qrPng: string };
      };
      const berlin = await openLink('?touchpoint=store-berlin&channel=store');
      expect(berlin.url.startsWith(`${PUBLIC_URL}/s/open/`), berlin.url).toBe(true);
      const query = new URLSearchParams(berlin.qrSvg.split('?')[1]);
      expect(berlin.qrSvg.startsWith(`/api/v1/surveys/${survey.id}/qr.svg?`)).toBe(true);
      expect(berlin.qrPng.startsWith(`/api/v1/surveys/${survey.id}/qr.png?`)).toBe(true);
      expect(Object.fromEntries(query)).toEqual({ channel: 'store', touchpoint: 'store-berlin' });
      expect(berlin.qrPng.split('?')[1]).toBe(berlin.qrSvg.split('?')[1]);
      // The same touchpoint gives the same link; another touchpoint or channel another one.
      expect(await openLink('?touchpoint=store-berlin&channel=store')).toEqual(berlin);
      const hamburg = await openLink('?touchpoint=store-hamburg&channel=store');
      expect(hamburg.url).not.toBe(berlin.url);
      expect((await openLink('?touchpoint=store-berlin&channel=web')).url).not.toBe(berlin.url);
      const plain = await openLink('');
      expect(plain.qrSvg).toBe(`/api/v1/surveys/${survey.id}/qr.svg?channel=store`);
      expect([berlin.url, hamburg.url]).not.toContain(plain.url);

      const fetchQr = (path: string) => api.request('GET', path, { key: api.ws.keys.read });
      const svg = await fetchQr(berlin.qrSvg);
      expectSvg(svg);
      const png = await fetchQr(berlin.qrPng);
      expectPng(png);
      const svgHamburg = await fetchQr(hamburg.qrSvg);
      expectSvg(svgHamburg);
      const pngHamburg = await fetchQr(hamburg.qrPng);
      expectPng(pngHamburg);
      expect(svgHamburg.body).not.toBe(svg.body);
      expect(pngHamburg.rawPayload.equals(png.rawPayload)).toBe(false);
      expect((await fetchQr(berlin.qrSvg)).body).toBe(svg.body);

      // Refusals: an unknown survey, another workspace's survey, a channel that does not exist, no key.
      expectError(
        await api.request('GET', '/api/v1/surveys/2000000000/open-link?touchpoint=x', {
          key: api.ws.keys.read,
        }),
        404,
        'not_found',
      );
      expectError(
        await api.request('GET', '/api/v1/surveys/2000000000/qr.svg', { key: api.ws.keys.read }),
        404,
      );
      expectError(
        await api.request('GET', `/api/v1/surveys/${survey.id}/open-link`, { key: other.ws.keys.read }),
        404,
        'not_found',
      );
      expectError(await api.request('GET', berlin.qrPng, { key: other.ws.keys.read }), 404);
      expectError(
        await api.request('GET', `/api/v1/surveys/${survey.id}/open-link?channel=pigeon`, {
          key: api.ws.keys.read,
        }),
        400,
      );
      expectError(await api.request('GET', berlin.qrSvg, { key: null }), 401);
    });

    test('each visit starts a new anonymous response; its answers are about the touchpoint', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en', 'de']);
      const { url } = await api.call<{ url: string }>(
        'GET',
        `/api/v1/surveys/${survey.id}/open-link?touchpoint=store-berlin&channel=store`,
      );
      const visit = async (headers: Record<string, string> = {}) => {
        const res = await getPage(app, pathOf(url), headers);
        expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
        const location = res.headers.location as string;
        expect(location).toMatch(SURVEY_PATH);
        return location;
      };
      const first = await visit();
      const second = await visit();
      expect(second).not.toBe(first);
      let invitations = await api.invitations(`&surveyId=${survey.id}`);
      expect(invitations).toHaveLength(2);
      for (const invitation of invitations) {
        expect(invitation).toMatchObject({
          channel: 'link',
          customerId: null,
          interactionId: null,
          touchpoint: 'store-berlin',
          status: 'sent',
        });
      }

      // Answering the first: no Accept-Language, so the survey's first language.
      const page = await getPage(app, first);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<html lang="en"');
      expect(questionOf(page.body)).toBe('nps');
      const scored = await postForm(app, first, { question: 'nps', answer: '4' });
      expect(scored.statusCode, scored.body).toBe(303);
      const next = await getPage(app, first);
      expect(questionOf(next.body)).toBe('improve');
      const done = await postForm(app, first, { question: 'improve', answer: 'The queue was too long' });
      expect(done.statusCode, done.body).toBe(200);
      invitations = await api.invitations(`&surveyId=${survey.id}`);
      const answered = invitations.filter((i) => i.completedAt !== null);
      expect(answered).toHaveLength(1);
      expect(invitations.filter((i) => i.startedAt !== null)).toHaveLength(1);
      const feedback = await api.feedback(`survey-${answered[0]?.id}`);
      expect(feedback).toMatchObject({
        source: 'survey',
        nps: 4,
        text: 'The queue was too long',
        touchpoint: 'store-berlin',
        channel: 'store',
        customerId: null,
        interactionId: null,
      });

      // The browser's language picks the survey's language.
      const german = await visit({ 'accept-language': 'de-DE,de;q=0.9,en;q=0.8' });
      const germanPage = await getPage(app, german);
      expect(germanPage.statusCode).toBe(200);
      expect(germanPage.body).toContain('<html lang="de"');
      expect(germanPage.body).toContain('Wie wahrscheinlich');
      const french = await getPage(app, await visit({ 'accept-language': 'fr-FR' }));
      expect(french.body).toContain('<html lang="en"');
      expect(await api.invitations(`&surveyId=${survey.id}`)).toHaveLength(4);
    });

    test('tampered, unknown and paused open links', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en']);
      const { url } = await api.call<{ url: string }>(
        'GET',
        `/api/v1/surveys/${survey.id}/open-link?touchpoint=store-berlin`,
      );
      const token = url.slice(`${PUBLIC_URL}/s/open/`.length);
      const [payload, mac] = token.split('.') as [string, string];
      // Another touchpoint under the old MAC, and a changed MAC.
      const forgedPayload = Buffer.from(
        Buffer.from(payload, 'base64url').toString('utf8').replace('store-berlin', 'store-munich'),
      ).toString('base64url');
      const flipped = `${mac.slice(0, 5)}${mac[5] === 'A' ? 'B' : 'A'}${mac.slice(6)}`;
      for (const bad of [`${forgedPayload}.${mac}`, `${payload}.${flipped}`, 'nonsense', `${payload}.`]) {
        const res = await getPage(app, `/s/open/${bad}`);
        expect(res.statusCode, bad).toBe(404);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
      }
      // A correctly signed link to a survey that does not exist.
      const secret = await linkSecret(database().db);
      const ghost = signOpenLink(secret, { surveyId: 2_000_000_000, touchpoint: null, channel: 'store' });
      expect((await getPage(app, `/s/open/${ghost}`)).statusCode).toBe(404);
      expect(await api.invitations()).toEqual([]);

      await api.pause(survey.id);
      const closed = await getPage(app, pathOf(url));
      expect(closed.statusCode).toBe(410);
      expect(closed.headers['content-type']).toMatch(/^text\/html/);
      expect(await api.invitations()).toEqual([]);
      await api.pause(survey.id, 'active');
      expect((await getPage(app, pathOf(url))).statusCode).toBe(303);
      expect(await api.invitations()).toHaveLength(1);
    });

    test('the QR code of a link invitation', async () => {
      const api = await workspaceApi(app, database().db);
      const other = await workspaceApi(app, database().db);
      const survey = await api.survey('csat-after-contact', ['en']);
      await api.customers([{ externalId: 'C-1', email: 'c1@example.com' }]);
      const link = await api.invite(survey.id, 'C-1', 'link');
      expect(link.url?.startsWith(`${PUBLIC_URL}/s/`)).toBe(true);
      const qr = (id: string, format = 'svg', key = api.ws.keys.read) =>
        api.request('GET', `/api/v1/invitations/${id}/qr.${format}`, { key });
      expectSvg(await qr(link.id));
      expectPng(await qr(link.id, 'png'));
      // The link works: it opens the survey.
      expect((await getPage(app, pathOf(link.url as string))).statusCode).toBe(200);

      const email = await api.invite(survey.id, 'C-1', 'email');
      expectError(await qr(email.id), 409, 'not_a_link');
      expectError(await qr(email.id, 'png'), 409, 'not_a_link');
      expectError(await qr(randomUUID()), 404, 'not_found');
      expectError(await qr('not-an-invitation'), 404, 'not_found');
      expectError(await qr(link.id, 'svg', other.ws.keys.read), 404, 'not_found');
      expectError(await qr(link.id, 'png', other.ws.keys.admin), 404, 'not_found');
    });
  });

  describe('response rates', () => {
    test('the funnel by channel, by survey and channel, and in total, counted by hand', async () => {
      const { api, a, b, before, middle, after } = await buildFunnel(app, database().db);
      const rates = (query: string) => api.call<Rates>('GET', `/api/v1/surveys/response-rates${query}`);
      const expectTotal = (result: Rates) => {
        expect(sumOf(result.rows)).toEqual(sumOf([result.total]));
      };

      const total = await rates('');
      expect(total).toEqual({ by: [], total: TOTAL, rows: [] });

      const byChannel = await rates('?by=channel');
      expect(byChannel.by).toEqual(['channel']);
      expect(byChannel.total).toEqual(TOTAL);
      expect(byGroup(byChannel.rows)).toEqual([
        { group: { channel: 'email' }, ...EMAIL },
        { group: { channel: 'ivr' }, ...IVR },
        { group: { channel: 'link' }, ...LINKS },
      ]);
      expectTotal(byChannel);

      const nameA = `${a.name} (#${a.id})`;
      const nameB = `${b.name} (#${b.id})`;
      expect(a.name).toBe('CSAT after a contact');
      const bySurveyChannel = await rates('?by=survey,channel');
      expect(bySurveyChannel.by).toEqual(['survey', 'channel']);
      expect(bySurveyChannel.total).toEqual(TOTAL);
      expect(byGroup(bySurveyChannel.rows)).toEqual(
        byGroup([
          { group: { survey: nameA, channel: 'link' }, ...LINKS },
          { group: { survey: nameA, channel: 'email' }, ...funnel(0, 0, 0, 0, 0, 1, 0, null) },
          { group: { survey: nameB, channel: 'email' }, ...funnel(1, 0, 0, 0, 0, 0, 1, null) },
          { group: { survey: nameB, channel: 'ivr' }, ...IVR },
        ]),
      );
      expectTotal(bySurveyChannel);

      const bySurvey = await rates('?by=survey');
      expect(byGroup(bySurvey.rows)).toEqual(
        byGroup([
          { group: { survey: nameA }, ...funnel(6, 6, 4, 3, 2, 1, 0, 33.33) },
          { group: { survey: nameB }, ...funnel(2, 1, 1, 1, 1, 0, 1, 100) },
        ]),
      );
      expectTotal(bySurvey);

      // Invitations without a touchpoint form their own group (null).
      const byTouchpoint = await rates('?by=touchpoint');
      expect(byGroup(byTouchpoint.rows)).toEqual(
        byGroup([
          { group: { touchpoint: 'billing' }, ...IVR },
          { group: { touchpoint: null }, ...funnel(7, 6, 4, 3, 2, 1, 1, 33.33) },
        ]),
      );
      expectTotal(byTouchpoint);

      // One survey only; read keys may ask.
      const onlyA = await api.request('GET', `/api/v1/surveys/response-rates?by=channel&surveyId=${a.id}`, {
        key: api.ws.keys.read,
      });
      expect(onlyA.statusCode, onlyA.body).toBe(200);
      expect(onlyA.json()).toEqual({
        by: ['channel'],
        total: funnel(6, 6, 4, 3, 2, 1, 0, 33.33),
        rows: expect.any(Array),
      });
      expect(byGroup((onlyA.json() as Rates).rows)).toEqual([
        { group: { channel: 'email' }, ...funnel(0, 0, 0, 0, 0, 1, 0, null) },
        { group: { channel: 'link' }, ...LINKS },
      ]);

      // from (inclusive) / to (exclusive) on when the invitation was created.
      const iso = (date: Date) => encodeURIComponent(date.toISOString());
      const late = await rates(`?by=channel&from=${iso(middle)}`);
      expect(late.total).toEqual(LINKS);
      expect(late.rows).toEqual([{ group: { channel: 'link' }, ...LINKS }]);
      const early = await rates(`?by=channel&to=${iso(middle)}`);
      expect(early.total).toEqual(funnel(2, 1, 1, 1, 1, 1, 1, 100));
      expect(byGroup(early.rows)).toEqual([
        { group: { channel: 'email' }, ...EMAIL },
        { group: { channel: 'ivr' }, ...IVR },
      ]);
      expect((await rates(`?from=${iso(before)}&to=${iso(after)}`)).total).toEqual(TOTAL);
      const tomorrow = new Date(Date.now() + DAY).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - DAY).toISOString().slice(0, 10);
      expect(await rates(`?by=channel&from=${tomorrow}`)).toEqual({ by: ['channel'], total: ZERO, rows: [] });
      expect((await rates(`?to=${yesterday}`)).total).toEqual(ZERO);
      expect((await rates(`?from=${yesterday}&to=${tomorrow}`)).total).toEqual(TOTAL);

      for (const bad of [
        '?by=colour',
        '?by=survey,colour',
        '?by=survey,channel,touchpoint,language',
        '?from=yesterday',
        '?to=2026-13-45',
        '?surveyId=abc',
        '?unknown=1',
      ]) {
        expectError(
          await api.request('GET', `/api/v1/surveys/response-rates${bad}`, { key: api.ws.keys.read }),
          400,
        );
      }
      expectError(await api.request('GET', '/api/v1/surveys/response-rates', { key: null }), 401);
    });
  });

  describe('web widget', () => {
    test('GET /widget.js: small, parseable, no template leftovers', async () => {
      const res = await getPage(app, '/widget.js');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/javascript/);
      expect(gzipSync(res.body).length).toBeLessThanOrEqual(12 * 1024);
      for (const leftover of ['${', '{{', '}}', 'undefined', 'TODO'])
        expect(res.body).not.toContain(leftover);
      expect(() => new Function(res.body)).not.toThrow();
    });

    test('GET /api/v1/widget: the secret and the snippet, for admins only', async () => {
      const api = await workspaceApi(app, database().db);
      const other = await workspaceApi(app, database().db);
      const widget = await api.call<{ workspace: string; secret: string; snippet: string }>(
        'GET',
        '/api/v1/widget',
      );
      expect(widget.workspace).toBe(api.ws.slug);
      expect(widget.secret).toMatch(/^[0-9a-f]{64}$/);
      expect(widget.snippet).toContain(`data-workspace="${api.ws.slug}"`);
      expect(widget.snippet).toContain(`src="${PUBLIC_URL}/widget.js"`);
      expect(widget.snippet).not.toContain(widget.secret);
      expect((await api.call<{ secret: string }>('GET', '/api/v1/widget')).secret).toBe(widget.secret);
      expect((await other.call<{ secret: string }>('GET', '/api/v1/widget')).secret).not.toBe(widget.secret);
      expectError(await api.request('GET', '/api/v1/widget', { key: api.ws.keys.write }), 403);
      expectError(await api.request('GET', '/api/v1/widget', { key: api.ws.keys.read }), 403);
    });

    test('rules, signatures, fatigue and opt-outs of the widget check', async () => {
      const api = await workspaceApi(app, database().db);
      const other = await workspaceApi(app, database().db);
      const a = await api.survey('csat-after-contact', ['en']);
      const b = await api.survey('transactional-nps', ['en']);
      await api.call('PUT', '/api/v1/survey-settings', {
        quietHours: null,
        widgetRules: [
          { surveyId: a.id, page: '/orders/*' },
          { surveyId: b.id, event: 'checkout' },
        ],
      });
      await api.customers(['W-1', 'W-2', 'W-3'].map((externalId) => ({ externalId })));
      const { secret } = await api.call<{ secret: string }>('GET', '/api/v1/widget');
      const { secret: otherSecret } = await other.call<{ secret: string }>('GET', '/api/v1/widget');
      const sign = (customerId: string, key = secret) =>
        createHmac('sha256', key).update(customerId).digest('hex');
      const check = (payload: unknown, slug = api.ws.slug) =>
        app().inject({
          method: 'POST',
          url: `/w/${slug}/check`,
          headers: { origin: 'https://shop.example' },
          payload: payload as InjectOptions['payload'],
        });
      const checkOk = async (customerId: string, signal: { page?: string; event?: string }) => {
        const res = await check({ customerId, signature: sign(customerId), ...signal });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe('*');
        return res.json() as { show: boolean; url?: string; invitationId?: string };
      };

      // Pages the rules do not cover, and events no rule names: nothing shown, nothing recorded.
      for (const page of ['/home', '/orders', '/x/orders/1', '/checkout']) {
        expect(await checkOk('W-1', { page }), page).toEqual({ show: false });
      }
      expect(await checkOk('W-1', { event: 'signup', page: '/home' })).toEqual({ show: false });
      expect(await api.invitations()).toEqual([]);

      // A page rule fires: the survey link opens the survey.
      const shown = await checkOk('W-1', { page: '/orders/42' });
      expect(shown).toEqual({
        show: true,
        url: expect.stringMatching(SURVEY_PATH),
        invitationId: expect.any(String),
      });
      expect(shown.invitationId).toMatch(UUID);
      const page = await getPage(app, shown.url as string);
      expect(page.statusCode).toBe(200);
      expect(questionOf(page.body)).toBe('csat');
      expect(await api.invitations('&customerId=W-1')).toMatchObject([
        { id: shown.invitationId, surveyId: a.id, channel: 'widget', status: 'sent' },
      ]);

      // An event rule fires for its event only.
      const event = await checkOk('W-2', { event: 'checkout', page: '/home' });
      expect(event).toMatchObject({ show: true, url: expect.stringMatching(SURVEY_PATH) });
      expect(await api.invitations('&customerId=W-2')).toMatchObject([{ surveyId: b.id, channel: 'widget' }]);

      // W-1 was shown a survey today: the contact budget stops the next one, recorded once a day.
      expect(await checkOk('W-1', { event: 'checkout' })).toEqual({ show: false });
      const suppressed = await api.invitations('&status=suppressed');
      expect(suppressed).toMatchObject([
        {
          surveyId: b.id,
          customerId: 'W-1',
          channel: 'widget',
          status: 'suppressed',
          reason: 'contact_budget',
        },
      ]);
      expect(await checkOk('W-1', { event: 'checkout' })).toEqual({ show: false });
      expect(await checkOk('W-1', { event: 'checkout', page: '/somewhere' })).toEqual({ show: false });
      expect(await api.invitations('&status=suppressed')).toHaveLength(1);

      // Opted out of the widget: never shown, the reason recorded.
      const optOut = await api.request('POST', '/api/v1/customers/W-3/opt-outs', {
        key: api.ws.keys.write,
        payload: { channel: 'widget' },
      });
      expect(optOut.statusCode, optOut.body).toBe(200);
      expect(await checkOk('W-3', { page: '/orders/7' })).toEqual({ show: false });
      expect(await api.invitations('&customerId=W-3')).toMatchObject([
        { surveyId: a.id, channel: 'widget', status: 'suppressed', reason: 'opted_out' },
      ]);

      // A signed customer the workspace does not know: nothing shown.
      expect(await checkOk('W-404', { page: '/orders/1' })).toEqual({ show: false });

      // Refusals.
      expectError(
        await check({ customerId: 'W-2', signature: sign('W-1'), page: '/orders/1' }),
        403,
        'bad_signature',
      );
      expectError(
        await check({ customerId: 'W-2', signature: 'abc', page: '/orders/1' }),
        403,
        'bad_signature',
      );
      expectError(
        await check({ customerId: 'W-2', signature: sign('W-2', otherSecret), page: '/orders/1' }),
        403,
        'bad_signature',
      );
      expectError(
        await check({ customerId: 'W-2', signature: sign('W-2') }, `${api.ws.slug}-gone`),
        404,
        'not_found',
      );
      const missing = expectError(
        await check({ customerId: 'W-2', page: '/orders/1' }),
        400,
        'validation_failed',
      );
      expect(missing.details.map((d) => d.path)).toContain('signature');
      expectError(
        await check({ customerId: 'W-2', signature: sign('W-2'), extra: 1 }),
        400,
        'validation_failed',
      );
      expectError(await check({ customerId: '', signature: sign('') }), 400, 'validation_failed');
      expectError(await check([]), 400, 'validation_failed');

      const preflight = await app().inject({
        method: 'OPTIONS',
        url: `/w/${api.ws.slug}/check`,
        headers: {
          origin: 'https://shop.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.statusCode).toBe(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
      expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST');
      expect(String(preflight.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'content-type',
      );
    });

    test('the script in a page: asks on load and on Touchpoint.track, opens the survey in a dialog', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en']);
      await api.call('PUT', '/api/v1/survey-settings', {
        quietHours: null,
        widgetRules: [{ surveyId: survey.id, event: 'checkout' }],
      });
      await api.customers([{ externalId: 'W-1' }]);
      const { secret } = await api.call<{ secret: string }>('GET', '/api/v1/widget');
      const script = (await getPage(app, '/widget.js')).body;
      const browser = fakeBrowser(app, {
        src: 'https://cx.example.com/widget.js',
        workspace: api.ws.slug,
        customer: 'W-1',
        signature: createHmac('sha256', secret).update('W-1').digest('hex'),
        path: '/cart',
      });
      browser.run(script);
      await browser.settled(1);
      expect(browser.requests).toEqual([
        {
          url: `https://cx.example.com/w/${api.ws.slug}/check`,
          body: { customerId: 'W-1', signature: expect.any(String), event: null, page: '/cart' },
          status: 200,
        },
      ]);
      expect(browser.body.children).toEqual([]);

      browser.track('checkout');
      await browser.settled(2);
      expect(browser.requests[1]).toMatchObject({ body: { event: 'checkout', page: '/cart' }, status: 200 });
      const [dialog] = browser.body.children;
      expect(dialog?.getAttribute('role')).toBe('dialog');
      const frame = dialog?.children.find((child) => child.tag === 'iframe');
      const src = String(frame?.src);
      expect(src.startsWith('https://cx.example.com/s/'), src).toBe(true);
      const opened = await getPage(app, new URL(src).pathname);
      expect(opened.statusCode).toBe(200);
      expect(questionOf(opened.body)).toBe('nps');
    });

    test('concurrent checks of a suppressed customer record one suppression', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('csat-after-contact', ['en']);
      await api.call('PUT', '/api/v1/survey-settings', {
        quietHours: null,
        widgetRules: [{ surveyId: survey.id, page: '/orders/*' }],
      });
      await api.customers([{ externalId: 'W-9' }]);
      await api.call('POST', '/api/v1/customers/W-9/opt-outs', { channel: 'widget' });
      const { secret } = await api.call<{ secret: string }>('GET', '/api/v1/widget');
      const signature = createHmac('sha256', secret).update('W-9').digest('hex');
      const results = await Promise.all(
        Array.from({ length: 6 }, () =>
          app().inject({
            method: 'POST',
            url: `/w/${api.ws.slug}/check`,
            payload: { customerId: 'W-9', signature, page: '/orders/1' },
          }),
        ),
      );
      for (const res of results) expect(res.json()).toEqual({ show: false });
      expect(await api.invitations('&status=suppressed')).toMatchObject([
        { reason: 'opted_out', channel: 'widget' },
      ]);
    });

    test('samplePercent 50: about half of 400 customers are shown the survey', async () => {
      const api = await workspaceApi(app, database().db);
      const survey = await api.survey('transactional-nps', ['en']);
      await api.call('PUT', '/api/v1/survey-settings', {
        quietHours: null,
        widgetRules: [{ surveyId: survey.id, page: '/p/*', samplePercent: 50 }],
      });
      const ids = Array.from({ length: 400 }, (_, n) => `S-${n}`);
      await api.customers(ids.map((externalId) => ({ externalId })));
      const { secret } = await api.call<{ secret: string }>('GET', '/api/v1/widget');
      let shown = 0;
      for (let start = 0; start < ids.length; start += 50) {
        const results = await Promise.all(
          ids.slice(start, start + 50).map(async (customerId) => {
            const res = await app().inject({
              method: 'POST',
              url: `/w/${api.ws.slug}/check`,
              payload: {
                customerId,
                signature: createHmac('sha256', secret).update(customerId).digest('hex'),
                page: '/p/1',
              },
            });
            expect(res.statusCode, res.body).toBe(200);
            return (res.json() as { show: boolean }).show;
          }),
        );
        shown += results.filter(Boolean).length;
      }
      expect(shown).toBeGreaterThanOrEqual(160);
      expect(shown).toBeLessThanOrEqual(240);
      expect(await api.invitations('&status=sent')).toHaveLength(shown);
      // Those not drawn are not suppressed either: sampling records nothing.
      expect(await api.invitations('&status=suppressed')).toEqual([]);
    });
  });
});

describe('touchpoint report --response-rates (CLI, embedded database)', () => {
  test('prints the hand-counted funnel as JSON and as a table', async () => {
    const dir = templateDataDir();
    const { slug, expected } = await withDatabase({ data: dir }, async (database) => {
      const app = await buildApp({ database });
      try {
        const { api } = await buildFunnel(() => app, database.db);
        const result = await api.call<Rates>('GET', '/api/v1/surveys/response-rates?by=channel');
        return { slug: api.ws.slug, expected: result };
      } finally {
        await app.close();
      }
    });
    expect(expected.total).toEqual(TOTAL);

    const report = (format: string) =>
      runCli([
        'report',
        '--response-rates',
        '--by',
        'channel',
        '--format',
        format,
        '--data',
        dir,
        '--workspace',
        slug,
      ]);
    const json = await report('json');
    expect(json.code, json.stderr).toBe(0);
    const printed = JSON.parse(json.stdout) as Rates;
    expect(printed).toEqual(expected);
    expect(printed.total).toEqual(TOTAL);
    expect(byGroup(printed.rows)).toEqual([
      { group: { channel: 'email' }, ...EMAIL },
      { group: { channel: 'ivr' }, ...IVR },
      { group: { channel: 'link' }, ...LINKS },
    ]);

    const table = await report('table');
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    const cells = (line: string | undefined) => (line ?? '').trim().split(/\s+/);
    expect(cells(lines[0])).toEqual([
      'channel',
      'invited',
      'delivered',
      'opened',
      'started',
      'completed',
      'suppressed',
      'failed',
      'responseRate',
    ]);
    expect(lines[1]).toMatch(/^[─ ]+$/);
    const rows = lines.slice(2).map(cells);
    expect(rows).toHaveLength(4);
    expect(rows.slice(0, 3).sort((x, y) => String(x[0]).localeCompare(String(y[0])))).toEqual([
      ['email', '1', '0', '0', '0', '0', '1', '1', '–'],
      ['ivr', '1', '1', '1', '1', '1', '0', '0', '100.0%'],
      ['link', '6', '6', '4', '3', '2', '0', '0', '33.3%'],
    ]);
    expect(rows[3]).toEqual(['(all)', '8', '7', '5', '4', '3', '1', '1', '42.9%']);
  });
});

/** An element of {@link fakeBrowser}'s document: attributes, the properties the script sets, children. */
class FakeElement {
  readonly attributes = new Map<string, string>();
  readonly children: FakeElement[] = [];
  readonly style = { cssText: '' };
  parentNode: FakeElement | null = null;
  src?: string;
  title?: string;
  type?: string;
  textContent?: string;
  onclick?: unknown;
  constructor(readonly tag: string) {}
  setAttribute(name: string, value: string) {
    this.attributes.set(name, String(value));
  }
  getAttribute(name: string) {
    return this.attributes.get(name) ?? null;
  }
  appendChild(child: FakeElement) {
    child.parentNode = this;
    this.children.push(child);
    return child;
  }
  removeChild(child: FakeElement) {
    this.children.splice(this.children.indexOf(child), 1);
    child.parentNode = null;
    return child;
  }
  focus() {}
}

/**
 * Just enough of a browser for the widget script: the script tag, `location`, a document to append
 * the dialog to, and `fetch` answered by the app in process.
 */
const fakeBrowser = (
  app: () => App,
  page: { src: string; workspace: string; customer: string; signature: string; path: string },
) => {
  const requests: { url: string; body: unknown; status: number }[] = [];
  const script = new FakeElement('script');
  script.setAttribute('data-workspace', page.workspace);
  script.setAttribute('data-customer', page.customer);
  script.setAttribute('data-signature', page.signature);
  script.src = page.src;
  const body = new FakeElement('body');
  const fetch = async (
    url: string,
    init: { method: string; headers: Record<string, string>; body: string },
  ) => {
    const target = new URL(url);
    const res = await app().inject({
      method: init.method as 'POST',
      url: target.pathname,
      headers: init.headers,
      payload: init.body,
    });
    requests.push({ url, body: JSON.parse(init.body), status: res.statusCode });
    return { ok: res.statusCode >= 200 && res.statusCode < 300, json: async () => res.json() };
  };
  const context = createContext({
    document: {
      currentScript: script,
      readyState: 'complete',
      body,
      createElement: (tag: string) => new FakeElement(tag),
      addEventListener: () => {},
      removeEventListener: () => {},
    },
    location: { href: `https://shop.example${page.path}`, pathname: page.path },
    URL,
    fetch,
  });
  (context as { window?: unknown }).window = context;
  return {
    requests,
    body,
    run: (code: string) => runInContext(code, context),
    track: (event: string) => (context as { Touchpoint: { track(e: string): void } }).Touchpoint.track(event),
    /** Waits until `count` requests were answered and their answers handled. */
    settled: async (count: number) => {
      for (let i = 0; i < 200 && requests.length < count; i++) await sleep(10);
      expect(requests).toHaveLength(count);
      await sleep(20);
    },
  };
};
