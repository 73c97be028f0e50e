import { createHmac, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { InjectOptions } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { type Database, type DatabaseTarget, type Db, openDatabase } from '../src/db/index.js';
import { type App, buildApp } from '../src/server/app.js';
import { Channels } from '../src/surveys/channels.js';
import { dispatchDue, type SurveyRuntime, sendReminders } from '../src/surveys/dispatch.js';
import { startSurveyScheduler } from '../src/surveys/scheduler.js';
import { UI_TEXT } from '../src/surveys/ui-text.js';
import { copyPgliteTemplate, describeEachDatabase, postgresUrl } from './helpers/databases.js';
import { auth, useApp } from './helpers/http.js';
import { startMailbox, type TestMailbox } from './helpers/smtp.js';
import { createTestWorkspace, type TestWorkspace } from './helpers/workspace.js';

/**
 * Sending survey invitations through the real dispatcher: the contact-fatigue rules, quiet hours,
 * every channel against local servers (SMTP, an SMS/voice provider, a webhook receiver), retries,
 * lease recovery, reminders, and invitations surviving a restart.
 */

const PUBLIC_URL = 'http://survey.test';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

let mailbox: TestMailbox;
beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => {
  await mailbox.close();
});

/** A unique address, so that tests sharing the mailbox only see their own e-mails. */
const address = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}@example.com`;
const mailsTo = (to: string): ParsedMail[] =>
  mailbox.messages.filter((mail) => JSON.stringify(mail.to ?? '').includes(to));
const waitForMail = async (to: string, count = 1, timeoutMs = 5000): Promise<ParsedMail[]> => {
  const start = Date.now();
  while (mailsTo(to).length < count) {
    if (Date.now() - start > timeoutMs) throw new Error(`expected ${count} e-mails to ${to}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return mailsTo(to);
};
/** The survey-page path (/s/<token>) an e-mail links to. */
const surveyPathOf = (mail: ParsedMail) => {
  const match = new RegExp(`${PUBLIC_URL}(/s/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)`).exec(String(mail.text));
  expect(match, String(mail.text)).not.toBeNull();
  return match?.[1] as string;
};

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP endpoint (SMS/voice provider or webhook receiver) that records what it is sent. */
const startEndpoint = async () => {
  const requests: Received[] = [];
  let status = 200;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end('{}');
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(code: number) {
      status = code;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
type Endpoint = Awaited<ReturnType<typeof startEndpoint>>;

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH';

/** One test's own workspace, driven through the HTTP API. */
const workspaceApi = async (app: () => App, db: Db, settings: object = {}) => {
  const ws: TestWorkspace = await createTestWorkspace(db);
  const headers = auth(ws.keys.admin);
  const call = async <T = unknown>(method: Method, url: string, payload?: object, expected = 200) => {
    const options: InjectOptions = { method, url, headers };
    if (payload !== undefined) options.payload = payload as InjectOptions['payload'];
    const res = await app().inject(options);
    expect(res.statusCode, `${method} ${url}: ${res.body.slice(0, 800)}`).toBe(expected);
    return res.json() as T;
  };
  const api = {
    ws,
    call,
    settings: (body: object) => call('PUT', '/api/v1/survey-settings', { quietHours: null, ...body }),
    survey: async (template = 'transactional-nps', languages?: string[]) =>
      (
        await call<{ id: number }>(
          'POST',
          '/api/v1/surveys',
          { template, ...(languages ? { languages } : {}) },
          201,
        )
      ).id,
    trigger: async (surveyId: number, input: object) =>
      (await call<{ id: number }>('POST', `/api/v1/surveys/${surveyId}/triggers`, input, 201)).id,
    customers: (records: object[]) => call('POST', '/api/v1/customers', records),
    /** Interactions that just happened (a minute ago), unless occurredAt is given. */
    interactions: (records: object[]) =>
      call(
        'POST',
        '/api/v1/interactions',
        records.map((record) => ({
          channel: 'phone',
          occurredAt: new Date(Date.now() - MINUTE).toISOString(),
          ...record,
        })),
      ),
    optOut: (customerId: string, channel: string) =>
      call('POST', `/api/v1/customers/${customerId}/opt-outs`, { channel }),
    listed: async (query = '') =>
      (
        await call<{ items: Record<string, unknown>[] }>('GET', `/api/v1/invitations?limit=500${query}`)
      ).items.reverse(),
    rows: () =>
      db
        .selectFrom('invitation as i')
        .leftJoin('interaction as x', 'x.id', 'i.interaction_id')
        .leftJoin('customer as c', 'c.id', 'i.customer_id')
        .selectAll('i')
        .select(['x.external_id as interaction', 'c.external_id as customer'])
        .where('i.workspace_id', '=', ws.id)
        .orderBy('i.id')
        .execute(),
    row: async (interaction: string) => {
      const found = (await api.rows()).filter((row) => row.interaction === interaction);
      expect(found, `one invitation for ${interaction}`).toHaveLength(1);
      return found[0] as Awaited<ReturnType<typeof api.rows>>[number];
    },
  };
  await api.settings(settings);
  return api;
};

/** The rules that would hide the one under test switched off. */
const NO_FATIGUE = { minDaysBetweenInvitations: 0, touchpointQuarantineDays: 0, duplicateWindowHours: 0 };

/** Today's (or tomorrow's) first instant after `after` with the given UTC time of day. */
const nextUtc = (after: number, hours: number, minutes: number) => {
  const at = new Date(after);
  at.setUTCHours(hours, minutes, 0, 0);
  if (at.getTime() <= after) at.setTime(at.getTime() + DAY);
  return at;
};

describeEachDatabase('survey dispatch', (database) => {
  const app = useApp(database);
  let db: Db;
  let runtime: SurveyRuntime;
  let endpoint: Endpoint;
  beforeAll(async () => {
    db = database().db;
    runtime = {
      db,
      channels: new Channels({ url: mailbox.url, from: 'CX <cx@example.com>' }),
      publicUrl: PUBLIC_URL,
    };
    endpoint = await startEndpoint();
  });
  afterAll(async () => {
    runtime.channels.close();
    await endpoint.close();
  });
  const dispatch = (api: { ws: TestWorkspace }, now: Date) =>
    dispatchDue(runtime, now, { workspaceId: api.ws.id });

  test('the contact budget and the touchpoint quarantine, through the dispatcher', async () => {
    const api = await workspaceApi(app, db);
    const billing = await api.survey();
    const delivery = await api.survey('csat-after-contact');
    await api.trigger(billing, { channel: 'email', match: { touchpoint: 'billing' } });
    await api.trigger(delivery, { channel: 'email', match: { touchpoint: 'delivery' } });
    const email = address('budget');
    await api.customers([{ externalId: 'C-1', email }]);
    await api.interactions([{ externalId: 'I-1', customerId: 'C-1', touchpoint: 'billing' }]);
    await api.interactions([{ externalId: 'I-2', customerId: 'C-1', touchpoint: 'delivery' }]);
    expect(await api.rows()).toHaveLength(2);

    const t0 = new Date(Date.now() + 1000);
    expect(await dispatch(api, t0)).toEqual({ sent: 1, suppressed: 1, deferred: 0, failed: 0, retrying: 0 });
    expect(await api.row('I-1')).toMatchObject({ status: 'sent', reason: null, attempts: 1 });
    const budget = await api.row('I-2');
    expect(budget).toMatchObject({ status: 'suppressed', reason: 'contact_budget', sent_at: null });
    expect(budget.reason_detail).toMatch(/at most one invitation per 30 days/);
    expect(budget.reason_detail).toContain(t0.toISOString());
    const suppressed = await api.listed('&status=suppressed');
    expect(suppressed).toEqual([
      expect.objectContaining({
        interactionId: 'I-2',
        customerId: 'C-1',
        surveyId: delivery,
        status: 'suppressed',
        reason: 'contact_budget',
        reasonDetail: budget.reason_detail,
      }),
    ]);
    expect(await api.listed('&reason=contact_budget')).toHaveLength(1);
    expect((await waitForMail(email)).length).toBe(1);
    // Nothing else is due.
    expect(await dispatch(api, new Date(t0.getTime() + MINUTE))).toMatchObject({ sent: 0, suppressed: 0 });

    // 31 days on the budget is spent: a new contact's invitation goes out (another touchpoint).
    await api.interactions([{ externalId: 'I-3', customerId: 'C-1', touchpoint: 'delivery' }]);
    expect(await dispatch(api, new Date(t0.getTime() + 31 * DAY))).toMatchObject({ sent: 1, suppressed: 0 });
    expect(await api.row('I-3')).toMatchObject({ status: 'sent' });

    // Without a budget, billing (asked about on day 0) is still in its 90-day quarantine.
    await api.settings({ minDaysBetweenInvitations: 0 });
    await api.interactions([{ externalId: 'I-4', customerId: 'C-1', touchpoint: 'billing' }]);
    expect(await dispatch(api, new Date(t0.getTime() + 32 * DAY))).toMatchObject({ sent: 0, suppressed: 1 });
    const quarantined = await api.row('I-4');
    expect(quarantined).toMatchObject({ status: 'suppressed', reason: 'touchpoint_quarantine' });
    expect(quarantined.reason_detail).toMatch(/"billing".*quarantine 90 days/);
    // After the quarantine it may be asked about again.
    await api.interactions([{ externalId: 'I-5', customerId: 'C-1', touchpoint: 'billing' }]);
    expect(await dispatch(api, new Date(t0.getTime() + 91 * DAY))).toMatchObject({ sent: 1, suppressed: 0 });
    expect((await waitForMail(email, 3)).length).toBe(3);
  });

  test('no second invitation to the same survey within the duplicate window', async () => {
    const api = await workspaceApi(app, db, { minDaysBetweenInvitations: 0, touchpointQuarantineDays: 0 });
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email' });
    await api.customers([{ externalId: 'C-1', email: address('dup') }]);
    await api.interactions([{ externalId: 'I-1', customerId: 'C-1', touchpoint: 'a' }]);
    const t0 = new Date(Date.now() + 1000);
    expect(await dispatch(api, t0)).toMatchObject({ sent: 1 });
    await api.interactions([{ externalId: 'I-2', customerId: 'C-1', touchpoint: 'b' }]);
    expect(await dispatch(api, new Date(t0.getTime() + HOUR))).toMatchObject({ sent: 0, suppressed: 1 });
    const duplicate = await api.row('I-2');
    expect(duplicate).toMatchObject({ status: 'suppressed', reason: 'duplicate' });
    expect(duplicate.reason_detail).toMatch(/within 12 h/);
    await api.interactions([{ externalId: 'I-3', customerId: 'C-1', touchpoint: 'c' }]);
    expect(await dispatch(api, new Date(t0.getTime() + 13 * HOUR))).toMatchObject({ sent: 1, suppressed: 0 });
  });

  test('opt-outs, missing addresses and paused surveys suppress with their reason', async () => {
    const api = await workspaceApi(app, db, NO_FATIGUE);
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email', match: { touchpoint: 'shop' } });
    const sms = await api.survey();
    await api.trigger(sms, { channel: 'sms', match: { touchpoint: 'sms' } });
    const paused = await api.survey();
    await api.trigger(paused, { channel: 'email', match: { touchpoint: 'later' }, delaySeconds: 600 });
    const sent = address('sent');
    await api.customers([
      { externalId: 'C-email-out', email: address('out') },
      { externalId: 'C-all-out', email: address('all') },
      { externalId: 'C-sms-out', email: sent },
      { externalId: 'C-no-email', phone: '+15551234' },
      { externalId: 'C-no-phone', email: address('nophone') },
      { externalId: 'C-paused', email: address('paused') },
    ]);
    await api.optOut('C-email-out', 'email');
    await api.optOut('C-all-out', 'all');
    expect(await api.optOut('C-sms-out', 'sms')).toEqual([
      { channel: 'sms', source: 'api', createdAt: expect.any(String) },
    ]);
    await api.interactions([
      { externalId: 'I-email-out', customerId: 'C-email-out', touchpoint: 'shop' },
      { externalId: 'I-all-out', customerId: 'C-all-out', touchpoint: 'shop' },
      { externalId: 'I-sms-out', customerId: 'C-sms-out', touchpoint: 'shop' },
      { externalId: 'I-no-email', customerId: 'C-no-email', touchpoint: 'shop' },
      { externalId: 'I-no-phone', customerId: 'C-no-phone', touchpoint: 'sms' },
      { externalId: 'I-paused', customerId: 'C-paused', touchpoint: 'later' },
    ]);
    // Paused after its invitation was scheduled, before it fell due.
    await api.call('PATCH', `/api/v1/surveys/${paused}`, { status: 'paused' });
    const early = new Date(Date.now() + 1000);
    expect(await dispatch(api, early)).toEqual({
      sent: 1,
      suppressed: 4,
      deferred: 0,
      failed: 0,
      retrying: 0,
    });
    expect(await api.row('I-paused')).toMatchObject({ status: 'scheduled', reason: null });
    expect(await dispatch(api, new Date(early.getTime() + 11 * MINUTE))).toMatchObject({
      sent: 0,
      suppressed: 1,
    });

    const reasons = Object.fromEntries(
      (await api.rows()).map((row) => [row.interaction, [row.status, row.reason, row.reason_detail]]),
    );
    expect(reasons).toEqual({
      'I-email-out': ['suppressed', 'opted_out', 'the customer opted out of email'],
      'I-all-out': ['suppressed', 'opted_out', 'the customer opted out of all surveys'],
      'I-sms-out': ['sent', null, null],
      'I-no-email': ['suppressed', 'no_email', 'the customer has no email on file'],
      'I-no-phone': ['suppressed', 'no_phone', 'the customer has no phone on file'],
      'I-paused': ['suppressed', 'survey_inactive', 'the survey is paused'],
    });
    expect((await api.listed('&reason=opted_out')).map((item) => item.customerId).sort()).toEqual([
      'C-all-out',
      'C-email-out',
    ]);
    expect(await waitForMail(sent)).toHaveLength(1);
  });

  test('quiet hours defer an invitation to the morning in the customer’s time zone', async () => {
    const api = await workspaceApi(app, db, {
      ...NO_FATIGUE,
      quietHours: { start: '21:00', end: '08:00' },
      defaultTimeZone: 'Asia/Kolkata', // UTC+05:30, no daylight saving time
    });
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email' });
    const tokyo = address('tokyo');
    const local = address('kolkata');
    await api.customers([
      { externalId: 'C-tokyo', email: tokyo, attributes: { timeZone: 'Asia/Tokyo' } },
      { externalId: 'C-default', email: local },
      { externalId: 'C-unknown-zone', email: address('mars'), attributes: { timeZone: 'Mars/Olympus_Mons' } },
    ]);
    await api.interactions([
      { externalId: 'I-tokyo', customerId: 'C-tokyo' },
      { externalId: 'I-default', customerId: 'C-default' },
    ]);

    // 14:30 UTC: 23:30 in Tokyo (quiet), 20:00 in Kolkata (not yet).
    const tokyoNight = nextUtc(Date.now() + MINUTE, 14, 30);
    const tokyoMorning = new Date(tokyoNight.getTime() + 8.5 * HOUR); // 08:00 in Tokyo
    expect(await dispatch(api, tokyoNight)).toMatchObject({ sent: 1, deferred: 1, suppressed: 0 });
    const deferred = await api.row('I-tokyo');
    expect(deferred).toMatchObject({
      status: 'scheduled',
      reason: 'quiet_hours',
      sent_at: null,
      attempts: 0,
    });
    expect(deferred.due_at.toISOString()).toBe(tokyoMorning.toISOString());
    expect(deferred.reason_detail).toContain('Asia/Tokyo');
    expect(await api.row('I-default')).toMatchObject({ status: 'sent' });
    // Still quiet a minute before eight; at eight it goes.
    expect(await dispatch(api, new Date(tokyoMorning.getTime() - MINUTE))).toMatchObject({ sent: 0 });
    expect(await dispatch(api, tokyoMorning)).toMatchObject({ sent: 1, deferred: 0 });
    expect(await api.row('I-tokyo')).toMatchObject({ status: 'sent', reason: null, reason_detail: null });
    expect(await waitForMail(tokyo)).toHaveLength(1);

    // Customers without (or with an unknown) time zone follow defaultTimeZone: 18:00 UTC is 23:30 there.
    await api.interactions([
      { externalId: 'I-default-2', customerId: 'C-default' },
      { externalId: 'I-unknown-zone', customerId: 'C-unknown-zone' },
    ]);
    const kolkataNight = nextUtc(tokyoMorning.getTime(), 18, 0);
    const kolkataMorning = new Date(kolkataNight.getTime() + 8.5 * HOUR);
    expect(await dispatch(api, kolkataNight)).toMatchObject({ sent: 0, deferred: 2 });
    for (const id of ['I-default-2', 'I-unknown-zone']) {
      const row = await api.row(id);
      expect(row).toMatchObject({ status: 'scheduled', reason: 'quiet_hours' });
      expect(row.due_at.toISOString()).toBe(kolkataMorning.toISOString());
      expect(row.reason_detail).toContain('Asia/Kolkata');
    }
    expect(await dispatch(api, kolkataMorning)).toMatchObject({ sent: 2, deferred: 0 });
  });

  test('SMS, voice and webhook invitations reach their provider as documented', async () => {
    const secret = 'a-webhook-secret-of-some-length';
    const api = await workspaceApi(app, db, {
      ...NO_FATIGUE,
      sms: { url: `${endpoint.url}/sms`, from: '+15550000', authorization: 'Basic abc' },
      voice: { url: `${endpoint.url}/voice`, from: '+15550001' },
      webhook: { url: `${endpoint.url}/hook`, secret },
    });
    endpoint.answer(200);
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'sms', match: { touchpoint: 'sms' } });
    await api.trigger(survey, { channel: 'voice', match: { touchpoint: 'voice' } });
    await api.trigger(survey, { channel: 'webhook', match: { touchpoint: 'hook' } });
    await api.customers([{ externalId: 'C-1', phone: '+15551234567', name: 'Ann' }]);
    await api.interactions([{ externalId: 'I-sms', customerId: 'C-1', touchpoint: 'sms' }]);
    await api.interactions([{ externalId: 'I-voice', customerId: 'C-1', touchpoint: 'voice' }]);
    await api.interactions([{ externalId: 'I-hook', customerId: 'C-1', touchpoint: 'hook' }]);
    const before = endpoint.requests.length;
    expect(await dispatch(api, new Date(Date.now() + 1000))).toMatchObject({
      sent: 3,
      failed: 0,
      retrying: 0,
    });
    const received = endpoint.requests.slice(before);
    const at = (path: string) => {
      const found = received.filter((request) => request.url === path);
      expect(found, path).toHaveLength(1);
      return found[0] as Received;
    };

    const sms = at('/sms');
    expect(sms.method).toBe('POST');
    expect(sms.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sms.headers.authorization).toBe('Basic abc');
    const smsForm = new URLSearchParams(sms.body);
    expect(smsForm.get('To')).toBe('+15551234567');
    expect(smsForm.get('From')).toBe('+15550000');
    expect(smsForm.get('Twiml')).toBeNull();
    const smsLink = /(https?:\/\/\S+\/s\/\S+)$/.exec(smsForm.get('Body') ?? '')?.[1] ?? '';
    expect(smsLink.startsWith(`${PUBLIC_URL}/s/`), String(smsForm.get('Body'))).toBe(true);
    // The link opens the survey.
    const page = await app().inject({ method: 'GET', url: smsLink.slice(PUBLIC_URL.length) });
    expect(page.statusCode, page.body.slice(0, 300)).toBe(200);

    const voice = at('/voice');
    expect(voice.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(voice.headers.authorization).toBeUndefined();
    const voiceForm = new URLSearchParams(voice.body);
    expect(voiceForm.get('To')).toBe('+15551234567');
    expect(voiceForm.get('From')).toBe('+15550001');
    expect(voiceForm.get('Body')).toBeNull();
    expect(voiceForm.get('Twiml')).toMatch(
      /^<Response><Say language="en">[^<]+\/s\/[^<]+<\/Say><\/Response>$/,
    );

    const hook = at('/hook');
    expect(hook.headers['content-type']).toBe('application/json');
    const expectedSignature = `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`;
    expect(hook.headers['x-touchpoint-signature']).toBe(expectedSignature);
    const body = JSON.parse(hook.body);
    const hookRow = await api.row('I-hook');
    expect(body).toMatchObject({
      type: 'survey.invitation',
      invitation: { id: hookRow.public_id, surveyId: survey, surveyVersion: 1, language: 'en' },
      customer: { externalId: 'C-1', phone: '+15551234567', name: 'Ann', email: null },
      interactionId: 'I-hook',
    });
    expect(body.invitation.url.startsWith(`${PUBLIC_URL}/s/`)).toBe(true);
    expect(body.invitation.optOutUrl).toBe(`${body.invitation.url}/opt-out`);
    expect((await api.rows()).every((row) => row.status === 'sent')).toBe(true);
  });

  test('a failing provider is retried, then given up; a refusal fails at once', async () => {
    const api = await workspaceApi(app, db, {
      ...NO_FATIGUE,
      webhook: { url: `${endpoint.url}/flaky`, secret: 'another-secret-0123456789' },
    });
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'webhook' });
    await api.customers([{ externalId: 'C-1' }]);
    const calls = () => endpoint.requests.filter((request) => request.url === '/flaky').length;
    try {
      endpoint.answer(500);
      await api.interactions([{ externalId: 'I-1', customerId: 'C-1' }]);
      const t1 = new Date(Date.now() + 1000);
      expect(await dispatch(api, t1)).toMatchObject({ sent: 0, retrying: 1, failed: 0 });
      let row = await api.row('I-1');
      expect(row).toMatchObject({
        status: 'scheduled',
        reason: 'retrying',
        attempts: 1,
        sent_at: null,
        lease_until: null,
      });
      expect(row.reason_detail).toMatch(/answered 500/);
      expect(row.due_at.getTime()).toBe(t1.getTime() + MINUTE);
      expect(calls()).toBe(1);
      expect(await dispatch(api, new Date(t1.getTime() + 30_000))).toMatchObject({ retrying: 0 });

      const t2 = new Date(t1.getTime() + MINUTE);
      expect(await dispatch(api, t2)).toMatchObject({ retrying: 1 });
      row = await api.row('I-1');
      expect(row).toMatchObject({ status: 'scheduled', reason: 'retrying', attempts: 2 });
      expect(row.due_at.getTime()).toBeGreaterThan(t2.getTime());

      expect(await dispatch(api, row.due_at)).toMatchObject({ retrying: 0, failed: 1 });
      row = await api.row('I-1');
      expect(row).toMatchObject({ status: 'failed', reason: 'delivery_failed', attempts: 3, sent_at: null });
      expect(row.reason_detail).toMatch(/answered 500/);
      expect(calls()).toBe(3);
      expect(await dispatch(api, new Date(row.due_at.getTime() + DAY))).toMatchObject({ failed: 0 });
      expect(calls()).toBe(3);

      // 400: the provider refuses the message; retrying would not help.
      endpoint.answer(400);
      await api.interactions([{ externalId: 'I-2', customerId: 'C-1' }]);
      expect(await dispatch(api, new Date(Date.now() + 2 * DAY))).toMatchObject({ failed: 1, retrying: 0 });
      expect(await api.row('I-2')).toMatchObject({
        status: 'failed',
        reason: 'delivery_failed',
        attempts: 1,
      });
      expect((await api.row('I-2')).reason_detail).toMatch(/answered 400/);
      expect(calls()).toBe(4);
      const failed = await api.listed('&status=failed');
      expect(failed.map((item) => [item.interactionId, item.reason])).toEqual([
        ['I-1', 'delivery_failed'],
        ['I-2', 'delivery_failed'],
      ]);
    } finally {
      endpoint.answer(200);
    }
  });

  test('e-mail without SMTP configured fails, saying so', async () => {
    const api = await workspaceApi(app, db);
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email' });
    await api.customers([{ externalId: 'C-1', email: address('nosmtp') }]);
    await api.interactions([{ externalId: 'I-1', customerId: 'C-1' }]);
    const unconfigured: SurveyRuntime = { db, channels: new Channels(null), publicUrl: PUBLIC_URL };
    expect(
      await dispatchDue(unconfigured, new Date(Date.now() + 1000), { workspaceId: api.ws.id }),
    ).toMatchObject({ sent: 0, failed: 1, retrying: 0 });
    const [failed] = await api.listed('&status=failed');
    expect(failed).toMatchObject({ interactionId: 'I-1', status: 'failed', reason: 'delivery_failed' });
    expect(failed?.reasonDetail).toMatch(/SMTP_URL/);
  });

  test('a send whose lease ran out (a crash mid-send) is sent again', async () => {
    const api = await workspaceApi(app, db, NO_FATIGUE);
    const survey = await api.survey();
    await api.trigger(survey, { channel: 'email' });
    const crashed = address('crashed');
    const busy = address('busy');
    await api.customers([
      { externalId: 'C-crashed', email: crashed },
      { externalId: 'C-busy', email: busy },
    ]);
    await api.interactions([
      { externalId: 'I-crashed', customerId: 'C-crashed' },
      { externalId: 'I-busy', customerId: 'C-busy' },
    ]);
    const now = new Date(Date.now() + 1000);
    const lease = (interaction: string, leaseUntil: Date) =>
      db
        .updateTable('invitation')
        .set({
          status: 'sending',
          lease_until: leaseUntil,
          sent_at: new Date(now.getTime() - 6 * MINUTE),
          attempts: 1,
        })
        .where('workspace_id', '=', api.ws.id)
        .where('interaction_id', '=', (eb) =>
          eb
            .selectFrom('interaction')
            .select('id')
            .where('workspace_id', '=', api.ws.id)
            .where('external_id', '=', interaction),
        )
        .execute();
    await lease('I-crashed', new Date(now.getTime() - MINUTE));
    await lease('I-busy', new Date(now.getTime() + MINUTE)); // another process is still sending it

    expect(await dispatch(api, now)).toMatchObject({ sent: 1, failed: 0 });
    expect(await api.row('I-crashed')).toMatchObject({ status: 'sent', attempts: 2, lease_until: null });
    expect(await api.row('I-busy')).toMatchObject({ status: 'sending', attempts: 1 });
    expect(await waitForMail(crashed)).toHaveLength(1);
    expect(mailsTo(busy)).toHaveLength(0);
  });

  test('one reminder to those who did not answer, on its day, in their language', async () => {
    const api = await workspaceApi(app, db, NO_FATIGUE);
    const survey = await api.survey('relationship-nps', ['en', 'de']);
    await api.trigger(survey, { channel: 'email' });
    const remind = address('remind');
    const done = address('done');
    const out = address('optout');
    await api.customers([
      { externalId: 'C-remind', email: remind, locale: 'de-AT' },
      { externalId: 'C-done', email: done, locale: 'en' },
      { externalId: 'C-out', email: out, locale: 'en' },
    ]);
    await api.interactions([
      { externalId: 'I-remind', customerId: 'C-remind' },
      { externalId: 'I-done', customerId: 'C-done' },
      { externalId: 'I-out', customerId: 'C-out' },
    ]);
    const t0 = new Date(Date.now() + 1000);
    expect(await dispatch(api, t0)).toMatchObject({ sent: 3 });
    const [invitation] = await waitForMail(remind);
    const [doneMail] = await waitForMail(done);
    await waitForMail(out);
    const reminderRow = await api.row('I-remind');
    expect(reminderRow.reminder_due_at?.getTime()).toBe(t0.getTime() + 3 * DAY);

    // C-done answers on the page (score, then the follow-up question): completed.
    const donePath = surveyPathOf(doneMail as ParsedMail);
    const form = (fields: Record<string, string>) =>
      app().inject({
        method: 'POST',
        url: donePath,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(fields).toString(),
      });
    const scored = await form({ question: 'nps', answer: '9' });
    expect(scored.statusCode, scored.body.slice(0, 300)).toBe(303);
    const finished = await form({ question: 'liked', answer: 'Quick and friendly' });
    expect(finished.statusCode, finished.body.slice(0, 300)).toBe(200);
    expect((await api.row('I-done')).completed_at).not.toBeNull();
    // C-out opts out after the invitation.
    await api.optOut('C-out', 'email');

    const remindAt = (days: number) =>
      sendReminders(runtime, new Date(t0.getTime() + days * DAY), { workspaceId: api.ws.id });
    expect(await remindAt(2)).toBe(0);
    expect(await remindAt(3)).toBe(1);
    const mails = await waitForMail(remind, 2);
    const reminder = mails[1] as ParsedMail;
    expect(reminder.subject?.startsWith(UI_TEXT.de.reminderPrefix), reminder.subject).toBe(true);
    expect(reminder.subject).toBe(`${UI_TEXT.de.reminderPrefix}${invitation?.subject}`);
    expect(surveyPathOf(reminder)).toBe(surveyPathOf(invitation as ParsedMail));
    expect(await remindAt(4)).toBe(0);
    expect(await remindAt(10)).toBe(0);

    expect(mailsTo(remind)).toHaveLength(2);
    expect(mailsTo(done)).toHaveLength(1);
    expect(mailsTo(out)).toHaveLength(1);
    expect((await api.row('I-remind')).reminded_at?.getTime()).toBe(t0.getTime() + 3 * DAY);
    expect((await api.row('I-done')).reminded_at).toBeNull();
    const listed = await api.listed();
    expect(listed.find((item) => item.interactionId === 'I-remind')).toMatchObject({
      remindedAt: new Date(t0.getTime() + 3 * DAY).toISOString(),
    });
  });
});

/** Opens a database, runs `body` with an app on it, and closes both (a process that stops). */
const withApp = async <T>(target: DatabaseTarget, body: (app: App, database: Database) => Promise<T>) => {
  const database = await openDatabase(target, { command: 'test' });
  const app = await buildApp({ database });
  try {
    return await body(app, database);
  } finally {
    await app.close();
    await database.close();
  }
};

/** Creates a workspace whose e-mail trigger waits `delaySeconds`, and one interaction that fires it. */
const scheduleOne = async (app: App, database: Database, delaySeconds: number, email: string) => {
  const api = await workspaceApi(() => app, database.db);
  const survey = await api.survey();
  await api.trigger(survey, { channel: 'email', delaySeconds });
  await api.customers([{ externalId: 'C-1', email }]);
  const occurredAt = new Date();
  await api.interactions([{ externalId: 'I-1', customerId: 'C-1', occurredAt: occurredAt.toISOString() }]);
  const [row] = await api.rows();
  expect(row).toMatchObject({ status: 'scheduled' });
  expect(row?.due_at.getTime()).toBe(occurredAt.getTime() + delaySeconds * 1000);
  return { workspaceId: api.ws.id, occurredAt };
};

describe('scheduled invitations survive a restart', () => {
  const targets: [string, () => { target: DatabaseTarget; cleanup: () => void }][] = [
    [
      'pglite',
      () => {
        const dataDir = copyPgliteTemplate();
        return {
          target: { kind: 'embedded', dataDir },
          cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
        };
      },
    ],
  ];
  if (inject('postgresUrl')) {
    targets.push(['postgres', () => ({ target: { kind: 'server', url: postgresUrl() }, cleanup: () => {} })]);
  }

  for (const [kind, open] of targets) {
    test(`an invitation due in an hour is sent after the restart, not before [${kind}]`, async () => {
      const { target, cleanup } = open();
      try {
        const email = address(`restart-${kind}`);
        const { workspaceId, occurredAt } = await withApp(target, (app, database) =>
          scheduleOne(app, database, 3600, email),
        );
        // A new process on the same data.
        const database = await openDatabase(target, { command: 'test' });
        const channels = new Channels({ url: mailbox.url, from: 'CX <cx@example.com>' });
        try {
          const runtime: SurveyRuntime = { db: database.db, channels, publicUrl: PUBLIC_URL };
          const at = (minutes: number) => new Date(occurredAt.getTime() + minutes * MINUTE);
          expect(await dispatchDue(runtime, at(30), { workspaceId })).toMatchObject({ sent: 0 });
          expect(mailsTo(email)).toHaveLength(0);
          expect(await dispatchDue(runtime, at(61), { workspaceId })).toMatchObject({ sent: 1 });
          expect(await waitForMail(email)).toHaveLength(1);
        } finally {
          channels.close();
          await database.close();
        }
      } finally {
        cleanup();
      }
    });
  }

  test('the scheduler sends an invitation as it falls due, and stops cleanly [pglite]', async () => {
    // Its own database: the scheduler serves every workspace of the database it runs on.
    const dataDir = copyPgliteTemplate();
    try {
      const email = address('scheduler');
      await withApp({ kind: 'embedded', dataDir }, async (app, database) => {
        const channels = new Channels({ url: mailbox.url, from: 'CX <cx@example.com>' });
        const errors: unknown[] = [];
        const runtime: SurveyRuntime = { db: database.db, channels, publicUrl: PUBLIC_URL };
        await scheduleOne(app, database, 1, email);
        const started = Date.now();
        const stop = startSurveyScheduler(runtime, { everyMs: 50, onError: (error) => errors.push(error) });
        try {
          await waitForMail(email, 1, 5000);
          expect(Date.now() - started).toBeLessThan(5000);
        } finally {
          await stop();
          channels.close();
        }
        expect(errors).toEqual([]);
        const [row] = await database.db.selectFrom('invitation').select(['status', 'sent_at']).execute();
        expect(row?.status).toBe('sent');
        // Stopped: nothing runs any more (a further invitation stays scheduled).
        await database.db
          .updateTable('invitation')
          .set({ status: 'scheduled', due_at: new Date() })
          .execute();
        await new Promise((resolve) => setTimeout(resolve, 200));
        const [after] = await database.db.selectFrom('invitation').select('status').execute();
        expect(after?.status).toBe('scheduled');
      });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
