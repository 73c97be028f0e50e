import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  deliverNotifications,
  enqueueNotifications,
  type LoopEvent,
  type OwnerEmail,
} from '../src/closed-loop/notifications.js';
import {
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  MAX_ATTEMPTS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifyWebhook,
} from '../src/closed-loop/policy.js';
import { processOutbox } from '../src/closed-loop/processor.js';
import { createRule } from '../src/closed-loop/rules.js';
import {
  createWebhook,
  deleteWebhook,
  updateWebhook,
  WEBHOOK_EVENTS,
  type WebhookEvent,
  webhookDeliveries,
} from '../src/closed-loop/webhooks.js';
import { startClosedLoop } from '../src/closed-loop/worker.js';
import type { Database } from '../src/db/index.js';
import { type App, buildApp } from '../src/server/app.js';
import { Channels } from '../src/surveys/channels.js';
import { describeEachDatabase, openTestDatabase } from './helpers/databases.js';
import { auth } from './helpers/http.js';
import { startMailbox, type TestMailbox } from './helpers/smtp.js';
import { createTestWorkspace, type TestWorkspace } from './helpers/workspace.js';

// Delivery of the closed loop's notifications: signed webhook calls to a real local receiver,
// retries with backoff on a controlled clock, per-webhook ordering, concurrent deliverers, leases,
// Slack messages, owner e-mail through a real SMTP server, ingestion never waiting for deliveries,
// and the worker end to end.

// ---------------------------------------------------------------------------------------------
// A local webhook receiver
// ---------------------------------------------------------------------------------------------

/** How the receiver answers one call: a status (after a delay, with headers), or never. */
type Answer = number | { status: number; delayMs?: number; headers?: Record<string, string> } | 'hang';

interface Received {
  /** Arrival order across all receivers of this file. */
  seq: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  requests: Received[];
  /** Answers for the next calls (after those already queued). */
  answer(...answers: Answer[]): void;
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
  /** Destroys every open connection (a hanging call fails at the caller). */
  dropConnections(): void;
  close(): Promise<void>;
}

let arrivals = 0;
const receivers: Receiver[] = [];

/** A receiver answering `answers` to the first calls, then `fallback`. */
const startReceiver = async (answers: Answer[] = [], fallback: Answer = 200): Promise<Receiver> => {
  const requests: Received[] = [];
  const queue = [...answers];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({
        seq: ++arrivals,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const answer = queue.length > 0 ? (queue.shift() as Answer) : fallback;
      if (answer === 'hang') return;
      const { status, delayMs = 0, headers = {} } = typeof answer === 'number' ? { status: answer } : answer;
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{"received":true}');
      }, delayMs);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
  });
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    answer: (...more) => {
      queue.push(...more);
    },
    async waitFor(count, timeoutMs = 5_000) {
      const start = Date.now();
      while (requests.length < count) {
        if (Date.now() - start > timeoutMs)
          throw new Error(`expected ${count} calls, got ${requests.length}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return requests;
    },
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  receivers.push(receiver);
  return receiver;
};

/** A port nobody listens on (connections are refused). */
const closedPort = async (): Promise<number> => {
  const server = createServer();
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const hmac = (secret: string, timestamp: string, body: string) =>
  `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

const header = (request: Received, name: string): string => {
  const value = request.headers[name];
  if (typeof value !== 'string') throw new Error(`no ${name} header`);
  return value;
};

const seqOf = (request: Received): number => (JSON.parse(request.body) as { data: { seq: number } }).data.seq;

/**
 * A controlled clock: a whole second at least one second after the wall clock, so that rows queued
 * before (next_attempt_at defaults to the database's now()) are due, and timestamps are exact.
 */
const clock = () => new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
const plus = (at: Date, ms: number) => new Date(at.getTime() + ms);

const NOTHING = { delivered: 0, retrying: 0, failed: 0 };

const waitUntil = async (check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) => {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

const DETRACTOR = {
  name: 'Detractor',
  condition: { field: 'nps', op: 'lte', value: 6 },
  severity: 'high',
} as const;

/** A synthetic loop event for the queue tests: `data.seq` tells the events apart. */
const loopEvent = (seq: number, type: WebhookEvent = 'case.note_added'): LoopEvent => ({
  type,
  caseId: 900_000 + seq,
  data: { seq },
  summary: `event ${seq}`,
});

// ---------------------------------------------------------------------------------------------
// On both databases
// ---------------------------------------------------------------------------------------------

describeEachDatabase('closed-loop delivery', (database) => {
  let app: App;
  let mailbox: TestMailbox;
  let channels: Channels;
  beforeAll(async () => {
    mailbox = await startMailbox();
    channels = new Channels({ url: mailbox.url, from: 'Touchpoint <cx@example.com>' });
    app = await buildApp({ database: database(), channels });
  });
  afterAll(async () => {
    await app?.close();
    channels?.close();
    await mailbox?.close();
  });

  const db = () => database().db;
  const deliver = (ws: TestWorkspace, now: Date, options: { limit?: number; leaseMs?: number } = {}) =>
    deliverNotifications({ db: db(), channels }, now, { workspaceId: ws.id, ...options });
  const rowsOf = (ws: TestWorkspace) =>
    db().selectFrom('notification').selectAll().where('workspace_id', '=', ws.id).orderBy('id').execute();
  const hook = (
    ws: TestWorkspace,
    url: string,
    events: WebhookEvent[] = [...WEBHOOK_EVENTS],
    format: 'json' | 'slack' = 'json',
  ) => createWebhook(db(), ws.id, { url, events, format, active: true });
  const enqueue = (ws: TestWorkspace, seq: number, emails: OwnerEmail[] = []) =>
    enqueueNotifications(db(), ws.id, loopEvent(seq), emails);

  const postFeedback = async (ws: TestWorkspace, externalId: string, customerId: string, nps: number) => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/feedback',
      headers: auth(ws.keys.write),
      payload: {
        externalId,
        customerId,
        source: 'survey',
        touchpoint: 'billing',
        channel: 'email',
        occurredAt: new Date().toISOString(),
        nps,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res;
  };

  /**
   * The Detractor rule (high) and a detractor's feedback F-1 from Carla (C-1, value 20,000: tier 3),
   * evaluated: one case, priority high 3 × tier 3 = 9 → p1, title "Detractor: Carla".
   */
  const openCase = async (
    ws: TestWorkspace,
    options: {
      routing?: unknown[];
      customerName?: string;
      caseLink?: (workspaceId: number, caseId: number) => string | undefined;
    } = {},
  ) => {
    const rule = await createRule(db(), ws.id, { ...DETRACTOR, routing: options.routing ?? [] });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: auth(ws.keys.write),
      payload: {
        externalId: 'C-1',
        name: options.customerName ?? 'Carla',
        email: 'carla@example.com',
        value: 20_000,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    await postFeedback(ws, 'F-1', 'C-1', 2);
    expect(await processOutbox(db(), new Date(), { workspaceId: ws.id, caseLink: options.caseLink })).toEqual(
      { processed: 1, alerts: 1, casesOpened: 1 },
    );
    const row = await db()
      .selectFrom('cx_case')
      .select('id')
      .where('workspace_id', '=', ws.id)
      .executeTakeFirstOrThrow();
    return { rule, caseId: row.id };
  };

  // -------------------------------------------------------------------------------------------
  // 1. Signatures and the JSON body
  // -------------------------------------------------------------------------------------------

  test('calls are signed (v1= HMAC-SHA256 of "<timestamp>.<body>"), verifiable, and carry the case', async () => {
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver();
    const a = await hook(ws, `${receiver.url}/a`, ['case.opened']);
    const b = await hook(ws, `${receiver.url}/b`, ['case.opened']);
    expect(a.secret).toMatch(/^whsec_/);
    expect(a.secret).not.toBe(b.secret);
    const { rule, caseId } = await openCase(ws);

    const now = clock();
    expect(await deliver(ws, now)).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(receiver.requests).toHaveLength(2);
    const toA = receiver.requests.find((request) => request.path === '/hook/a') as Received;
    const toB = receiver.requests.find((request) => request.path === '/hook/b') as Received;
    expect(toA).toBeDefined();
    expect(toB).toBeDefined();

    const timestamp = String(now.getTime() / 1000);
    for (const [request, secret, otherSecret] of [
      [toA, a.secret, b.secret],
      [toB, b.secret, a.secret],
    ] as const) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(header(request, EVENT_TYPE_HEADER)).toBe('case.opened');
      expect(header(request, TIMESTAMP_HEADER)).toBe(timestamp);
      const signature = header(request, SIGNATURE_HEADER);
      // The receiver's own check, then the library's.
      expect(signature).toBe(hmac(secret, timestamp, request.body));
      expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
      const check = { secret, body: request.body, signature, timestamp, now };
      expect(verifyWebhook(check)).toBe(true);
      // 300 s of clock difference are tolerated, 301 s are not.
      expect(verifyWebhook({ ...check, now: plus(now, 300_000) })).toBe(true);
      expect(verifyWebhook({ ...check, now: plus(now, 301_000) })).toBe(false);
      // A tampered body, another webhook's secret or a missing signature fail.
      const tampered = request.body.replace('"severity":"high"', '"severity":"low"');
      expect(tampered).not.toBe(request.body);
      expect(verifyWebhook({ ...check, body: tampered })).toBe(false);
      expect(hmac(secret, timestamp, tampered)).not.toBe(signature);
      expect(verifyWebhook({ ...check, secret: otherSecret })).toBe(false);
      expect(verifyWebhook({ ...check, signature: undefined })).toBe(false);
      // The timestamp is signed too: the same signature with another timestamp fails.
      expect(verifyWebhook({ ...check, timestamp: String(Number(timestamp) + 1) })).toBe(false);
    }

    // One event, one id, to both webhooks; the same body, signed differently.
    const eventId = header(toA, EVENT_ID_HEADER);
    expect(eventId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(header(toB, EVENT_ID_HEADER)).toBe(eventId);
    expect(toB.body).toBe(toA.body);
    expect(header(toB, SIGNATURE_HEADER)).not.toBe(header(toA, SIGNATURE_HEADER));

    const body = JSON.parse(toA.body);
    expect(Object.keys(body).sort()).toEqual(['createdAt', 'data', 'id', 'type']);
    expect(Object.keys(body.data).sort()).toEqual(['alert', 'case']);
    expect(body).toMatchObject({
      id: eventId,
      type: 'case.opened',
      data: {
        case: {
          id: caseId,
          title: 'Detractor: Carla',
          status: 'open',
          severity: 'high',
          priority: 'p1',
          owner: null,
          ruleId: rule.id,
          touchpoint: 'billing',
          customer: { externalId: 'C-1', name: 'Carla' },
        },
        alert: {
          ruleId: rule.id,
          ruleName: 'Detractor',
          severity: 'high',
          record: { kind: 'feedback', externalId: 'F-1' },
        },
      },
    });
    expect(Number.isNaN(Date.parse(body.createdAt))).toBe(false);

    const rows = await rowsOf(ws);
    expect(rows.map((row) => [row.webhook_id, row.status, row.attempts, row.last_status])).toEqual([
      [a.id, 'delivered', 1, 200],
      [b.id, 'delivered', 1, 200],
    ]);
    expect(rows.every((row) => row.event_id === eventId)).toBe(true);
  });

  // -------------------------------------------------------------------------------------------
  // 2. Retries with backoff on a controlled clock
  // -------------------------------------------------------------------------------------------

  test('a 500 is retried after 1 s, then 4 s; the retry succeeds and the log shows every attempt', async () => {
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver([500, 500], 200);
    const webhook = await hook(ws, receiver.url);
    expect(await enqueue(ws, 1)).toBe(1);

    const t0 = clock();
    expect(await deliver(ws, t0)).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    let [row] = await rowsOf(ws);
    expect(row).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_status: 500,
      last_error: 'the receiver answered 500',
      lease_until: null,
      delivered_at: null,
    });
    expect(row?.next_attempt_at.getTime()).toBe(t0.getTime() + 1_000);

    // Not due yet: nothing is sent.
    expect(await deliver(ws, plus(t0, 500))).toEqual(NOTHING);
    expect(await deliver(ws, plus(t0, 999))).toEqual(NOTHING);
    expect(receiver.requests).toHaveLength(1);

    // Attempt 2 at t0 + 1 s fails too: the next one 4 s later, at t0 + 5 s.
    expect(await deliver(ws, plus(t0, 1_000))).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    [row] = await rowsOf(ws);
    expect(row).toMatchObject({ status: 'pending', attempts: 2, last_status: 500 });
    expect(row?.next_attempt_at.getTime()).toBe(t0.getTime() + 5_000);
    expect(await deliver(ws, plus(t0, 4_999))).toEqual(NOTHING);
    expect(receiver.requests).toHaveLength(2);

    // Attempt 3 succeeds.
    expect(await deliver(ws, plus(t0, 5_000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    [row] = await rowsOf(ws);
    expect(row).toMatchObject({
      status: 'delivered',
      attempts: 3,
      last_status: 200,
      last_error: null,
      lease_until: null,
    });
    expect(row?.delivered_at).toBeInstanceOf(Date);
    expect(receiver.requests).toHaveLength(3);

    // Every attempt carries the same event id, its own timestamp and a valid signature for it.
    const seconds = t0.getTime() / 1000;
    expect(receiver.requests.map((request) => header(request, TIMESTAMP_HEADER))).toEqual([
      String(seconds),
      String(seconds + 1),
      String(seconds + 5),
    ]);
    expect(new Set(receiver.requests.map((request) => header(request, EVENT_ID_HEADER))).size).toBe(1);
    for (const request of receiver.requests) {
      expect(header(request, SIGNATURE_HEADER)).toBe(
        hmac(webhook.secret, header(request, TIMESTAMP_HEADER), request.body),
      );
      expect(seqOf(request)).toBe(1);
    }

    const [delivery, ...others] = await webhookDeliveries(db(), ws.id, webhook.id, 10);
    expect(others).toEqual([]);
    expect(delivery).toMatchObject({
      eventType: 'case.note_added',
      caseId: 900_001,
      status: 'delivered',
      attempts: 3,
      nextAttemptAt: null,
      lastStatus: 200,
      lastError: null,
    });
    expect(delivery?.deliveredAt).not.toBeNull();
    expect(delivery?.log.map((entry) => [entry.attempt, entry.statusCode, entry.error])).toEqual([
      [1, 500, 'the receiver answered 500'],
      [2, 500, 'the receiver answered 500'],
      [3, 200, null],
    ]);
    for (const entry of delivery?.log ?? []) expect(entry.durationMs).toBeGreaterThanOrEqual(0);

    // Delivered is final.
    expect(await deliver(ws, plus(t0, 86_400_000))).toEqual(NOTHING);
    expect(receiver.requests).toHaveLength(3);
  });

  test(`after ${MAX_ATTEMPTS} failed attempts (1 s, 4 s, 16 s … apart) the delivery fails and frees the webhook`, async () => {
    expect(MAX_ATTEMPTS).toBe(10);
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver([], 500);
    const webhook = await hook(ws, receiver.url);
    await enqueue(ws, 1);

    // Waits after attempts 1…9: 4^(n-1) seconds.
    const waits = [1_000, 4_000, 16_000, 64_000, 256_000, 1_024_000, 4_096_000, 16_384_000, 65_536_000];
    let at = clock();
    for (const [index, wait] of waits.entries()) {
      expect(await deliver(ws, at)).toEqual({ delivered: 0, retrying: 1, failed: 0 });
      const [row] = await rowsOf(ws);
      expect(row).toMatchObject({ status: 'pending', attempts: index + 1, last_status: 500 });
      expect(row?.next_attempt_at.getTime()).toBe(at.getTime() + wait);
      // One millisecond early: nothing.
      expect(await deliver(ws, plus(at, wait - 1))).toEqual(NOTHING);
      at = plus(at, wait);
    }
    expect(await deliver(ws, at)).toEqual({ delivered: 0, retrying: 0, failed: 1 });
    const [row] = await rowsOf(ws);
    expect(row).toMatchObject({ status: 'failed', attempts: 10, last_status: 500, lease_until: null });
    expect(receiver.requests).toHaveLength(10);
    expect(await deliver(ws, plus(at, 365 * 86_400_000))).toEqual(NOTHING);
    expect(receiver.requests).toHaveLength(10);

    const [delivery] = await webhookDeliveries(db(), ws.id, webhook.id, 10);
    expect(delivery).toMatchObject({ status: 'failed', attempts: 10, nextAttemptAt: null, lastStatus: 500 });
    expect(delivery?.log.map((entry) => entry.attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(delivery?.log.every((entry) => entry.statusCode === 500)).toBe(true);

    // The failed delivery no longer holds the webhook's later ones back.
    receiver.answer(200);
    await enqueue(ws, 2);
    expect(await deliver(ws, at)).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(seqOf(receiver.requests[10] as Received)).toBe(2);
  });

  test('a 400 fails at once; 429 and 408 are retried', async () => {
    const ws = await createTestWorkspace(db());
    const rejecting = await startReceiver([400], 200);
    const busy = await startReceiver([429, 408], 200);
    const rejected = await hook(ws, rejecting.url);
    const retried = await hook(ws, busy.url);
    await enqueue(ws, 1);

    const t0 = clock();
    expect(await deliver(ws, t0)).toEqual({ delivered: 0, retrying: 1, failed: 1 });
    let rows = await rowsOf(ws);
    expect(
      rows.map((row) => [row.webhook_id, row.status, row.attempts, row.last_status, row.last_error]),
    ).toEqual([
      [rejected.id, 'failed', 1, 400, 'the receiver answered 400'],
      [retried.id, 'pending', 1, 429, 'the receiver answered 429'],
    ]);
    expect(rows[1]?.next_attempt_at.getTime()).toBe(t0.getTime() + 1_000);

    expect(await deliver(ws, plus(t0, 1_000))).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    rows = await rowsOf(ws);
    expect(rows[1]).toMatchObject({ status: 'pending', attempts: 2, last_status: 408 });
    expect(rows[1]?.next_attempt_at.getTime()).toBe(t0.getTime() + 5_000);

    expect(await deliver(ws, plus(t0, 5_000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(rejecting.requests).toHaveLength(1);
    expect(busy.requests).toHaveLength(3);
    const [delivery] = await webhookDeliveries(db(), ws.id, retried.id, 10);
    expect(delivery?.log.map((entry) => entry.statusCode)).toEqual([429, 408, 200]);
    const [failure] = await webhookDeliveries(db(), ws.id, rejected.id, 10);
    expect(failure).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 400 });
    expect(failure?.log.map((entry) => entry.statusCode)).toEqual([400]);
  });

  test('a refused connection is retried; the retry goes to the webhook’s current URL', async () => {
    const ws = await createTestWorkspace(db());
    const webhook = await hook(ws, `http://127.0.0.1:${await closedPort()}/hook`);
    await enqueue(ws, 1);

    const t0 = clock();
    expect(await deliver(ws, t0)).toEqual({ delivered: 0, retrying: 1, failed: 0 });
    const [row] = await rowsOf(ws);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, last_status: null });
    expect(row?.last_error).toMatch(/^POST failed: /);
    expect(row?.next_attempt_at.getTime()).toBe(t0.getTime() + 1_000);

    const receiver = await startReceiver();
    await updateWebhook(db(), ws.id, webhook.id, { url: receiver.url });
    expect(await deliver(ws, plus(t0, 1_000))).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    expect(receiver.requests).toHaveLength(1);
    const [delivery] = await webhookDeliveries(db(), ws.id, webhook.id, 10);
    expect(delivery?.log.map((entry) => [entry.attempt, entry.statusCode])).toEqual([
      [1, null],
      [2, 200],
    ]);
    expect(delivery?.log[0]?.error).toMatch(/^POST failed: /);
  });

  test('a redirect does not count as a delivery (the POST would reach nobody: fetch re-sends it as a bodyless GET)', async () => {
    // E.g. an http:// URL redirecting to https:// with 301. Following it turns the POST into a GET
    // without the event; the GET's 200 must not mark the event delivered.
    const ws = await createTestWorkspace(db());
    const target = await startReceiver();
    const moving = await startReceiver([], { status: 301, headers: { location: `${target.url}/moved` } });
    await hook(ws, moving.url);
    await enqueue(ws, 1);
    await deliver(ws, clock());
    expect(moving.requests.map((request) => request.method)).toEqual(['POST']);
    // Nothing reaches the redirect's target without the event, and the delivery is not recorded as
    // done (whether it is then retried or failed is the implementation's choice).
    expect(
      target.requests.map((request) => `${request.method} ${request.path} body=${request.body.length}`),
    ).toEqual([]);
    const [row] = await rowsOf(ws);
    expect(row?.status).not.toBe('delivered');
  });

  // -------------------------------------------------------------------------------------------
  // 3. Ordering
  // -------------------------------------------------------------------------------------------

  test('each webhook gets its events in order; a failing one holds back only its own webhook', async () => {
    const ws = await createTestWorkspace(db());
    const flaky = await startReceiver([500], 200); // the first call fails
    const healthy = await startReceiver();
    const rejecting = await startReceiver([400], 200); // the first call fails for good
    const a = await hook(ws, flaky.url);
    await hook(ws, healthy.url);
    await hook(ws, rejecting.url);
    for (const seq of [1, 2, 3, 4, 5]) expect(await enqueue(ws, seq)).toBe(3);

    const t0 = clock();
    // A call sends each webhook's run of due deliveries in order: the healthy one all five; the
    // rejecting one gives its first up for good and goes on; the flaky one stops at its failure.
    expect(await deliver(ws, t0)).toEqual({ delivered: 9, retrying: 1, failed: 1 });
    expect(await deliver(ws, t0)).toEqual(NOTHING);
    // Meanwhile the flaky webhook got nothing after its failed first event.
    expect(flaky.requests.map(seqOf)).toEqual([1]);
    expect(healthy.requests.map(seqOf)).toEqual([1, 2, 3, 4, 5]);
    expect(rejecting.requests.map(seqOf)).toEqual([1, 2, 3, 4, 5]);
    const flakyRows = (await rowsOf(ws)).filter((row) => row.webhook_id === a.id);
    expect(flakyRows.map((row) => [row.status, row.attempts])).toEqual([
      ['pending', 1],
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
      ['pending', 0],
    ]);

    // At t0 + 1 s the first event goes through, then the others, in order.
    expect(await deliver(ws, plus(t0, 1_000))).toEqual({ delivered: 5, retrying: 0, failed: 0 });
    expect(await deliver(ws, plus(t0, 1_000))).toEqual(NOTHING);
    expect(flaky.requests.map(seqOf)).toEqual([1, 1, 2, 3, 4, 5]);
    // All of the healthy webhook's calls arrived before the flaky one's retry.
    const retryArrival = (flaky.requests[1] as Received).seq;
    expect(healthy.requests.every((request) => request.seq < retryArrival)).toBe(true);
    const rows = await rowsOf(ws);
    expect(rows.filter((row) => row.status === 'delivered')).toHaveLength(14);
    expect(rows.filter((row) => row.status === 'failed')).toHaveLength(1);
  });

  // -------------------------------------------------------------------------------------------
  // 4. Concurrent deliverers
  // -------------------------------------------------------------------------------------------

  test('two deliverers at the same time send every notification exactly once, in order per webhook', async () => {
    const ws = await createTestWorkspace(db());
    const sinks = await Promise.all([1, 2, 3, 4].map(() => startReceiver([], { status: 200, delayMs: 15 })));
    for (const sink of sinks) await hook(ws, sink.url);
    const to = `ops-${ws.id}@example.com`;
    for (let seq = 1; seq <= 8; seq++) {
      const subject = `concurrency ${ws.id} #${seq}`;
      expect(await enqueue(ws, seq, [{ to, subject, text: `event ${seq}` }])).toBe(5);
    }

    const now = clock();
    let delivered = 0;
    let shared = 0;
    for (let round = 0; round < 40; round++) {
      const results = await Promise.all([deliver(ws, now, { limit: 3 }), deliver(ws, now, { limit: 3 })]);
      for (const result of results) expect(result.retrying + result.failed).toBe(0);
      const sent = results.reduce((sum, result) => sum + result.delivered, 0);
      if (sent === 0) break;
      delivered += sent;
      // Both deliverers found work in the same round: they really shared the queue.
      if (results.every((result) => result.delivered > 0)) shared++;
    }
    expect(delivered).toBe(40);
    expect(shared).toBeGreaterThan(0);

    for (const sink of sinks) {
      const counts = new Map<string, number>();
      for (const request of sink.requests) {
        const id = header(request, EVENT_ID_HEADER);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      expect(counts.size).toBe(8);
      expect([...counts.values()].every((count) => count === 1)).toBe(true);
      expect(sink.requests.map(seqOf)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    }
    const mails = mailbox.messages.filter((mail) => mail.subject?.startsWith(`concurrency ${ws.id} #`));
    expect(mails.map((mail) => mail.subject).sort()).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8].map((seq) => `concurrency ${ws.id} #${seq}`).sort(),
    );
    const rows = await rowsOf(ws);
    expect(rows).toHaveLength(40);
    expect(rows.every((row) => row.status === 'delivered' && row.attempts === 1)).toBe(true);
    const attempts = await db()
      .selectFrom('notification_attempt')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where(
        'notification_id',
        'in',
        rows.map((row) => row.id),
      )
      .executeTakeFirstOrThrow();
    expect(Number(attempts.count)).toBe(40);
  });

  // -------------------------------------------------------------------------------------------
  // 5. Leases
  // -------------------------------------------------------------------------------------------

  test('a claim whose process died is retried when its lease has run out, not before', async () => {
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver();
    const webhook = await hook(ws, receiver.url);
    await enqueue(ws, 1);
    await enqueue(ws, 2);
    const t0 = clock();
    const [first, second] = await rowsOf(ws);
    // What the claim does, without the rest: a 60 s lease and the attempt counted.
    await db()
      .updateTable('notification')
      .set({ lease_until: plus(t0, 60_000), attempts: sql`attempts + 1` })
      .where('id', '=', first?.id as number)
      .execute();

    expect(await deliver(ws, t0)).toEqual(NOTHING);
    expect(await deliver(ws, plus(t0, 59_999))).toEqual(NOTHING);
    // The leased delivery also holds the webhook's next one back.
    expect(receiver.requests).toHaveLength(0);

    // Once the lease has run out, the two go out in order.
    expect(await deliver(ws, plus(t0, 60_000))).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    expect(receiver.requests.map(seqOf)).toEqual([1, 2]);

    const rows = await rowsOf(ws);
    expect(rows.map((row) => [row.id, row.status, row.attempts, row.lease_until])).toEqual([
      [first?.id, 'delivered', 2, null],
      [second?.id, 'delivered', 1, null],
    ]);
    const deliveries = await webhookDeliveries(db(), ws.id, webhook.id, 10);
    // Newest first; the dead claim left no log entry, the retry is attempt 2.
    expect(
      deliveries.map((delivery) => delivery.log.map((entry) => [entry.attempt, entry.statusCode])),
    ).toEqual([[[1, 200]], [[2, 200]]]);
  });

  // -------------------------------------------------------------------------------------------
  // 6. Slack
  // -------------------------------------------------------------------------------------------

  test('a Slack webhook receives {text, blocks} naming the severity and rule, signed', async () => {
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver();
    const slack = await hook(ws, receiver.url, ['alert.raised', 'case.opened'], 'slack');
    const link = (workspaceId: number, caseId: number) =>
      `https://cx.example.com/w/${workspaceId}/cases/${caseId}`;
    const { caseId } = await openCase(ws, { caseLink: link });

    const now = clock();
    expect(await deliver(ws, now)).toEqual({ delivered: 2, retrying: 0, failed: 0 });
    const [alert, opened] = receiver.requests as [Received, Received];
    expect(header(alert, EVENT_TYPE_HEADER)).toBe('alert.raised');
    expect(JSON.parse(alert.body)).toEqual({
      text: 'HIGH alert "Detractor" for Carla',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `*alert.raised* · case #${caseId}\nHIGH alert "Detractor" for Carla\n<${link(ws.id, caseId)}|Open the case>`,
          },
        },
      ],
    });
    expect(header(opened, EVENT_TYPE_HEADER)).toBe('case.opened');
    expect(JSON.parse(opened.body).text).toBe(
      `Case #${caseId} opened (p1): Detractor: Carla → unassigned queue`,
    );
    for (const request of [alert, opened]) {
      const timestamp = header(request, TIMESTAMP_HEADER);
      expect(header(request, SIGNATURE_HEADER)).toBe(hmac(slack.secret, timestamp, request.body));
      expect(
        verifyWebhook({
          secret: slack.secret,
          body: request.body,
          signature: header(request, SIGNATURE_HEADER),
          timestamp,
          now,
        }),
      ).toBe(true);
      expect(header(request, EVENT_ID_HEADER)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  test('Slack messages escape &, < and > of customer data (mrkdwn control characters)', async () => {
    // Slack reads <…> as links and mentions (<!channel> notifies everybody) and requires & < > to be
    // sent as &amp; &lt; &gt;. A customer's name is ingested data and must not become markup.
    const ws = await createTestWorkspace(db());
    const receiver = await startReceiver();
    await hook(ws, receiver.url, ['alert.raised'], 'slack');
    await openCase(ws, { customerName: 'Tom & Jerry <!channel>' });
    expect(await deliver(ws, clock())).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    const message = JSON.parse((receiver.requests[0] as Received).body);
    expect(message.text).toBe('HIGH alert "Detractor" for Tom &amp; Jerry &lt;!channel&gt;');
    expect(message.blocks[0].text.text).not.toContain('<!channel>');
  });

  // -------------------------------------------------------------------------------------------
  // 7. Owner e-mail
  // -------------------------------------------------------------------------------------------

  test('a case routed to a person e-mails its owner; with notifyOwners false nothing is queued', async () => {
    const ws = await createTestWorkspace(db());
    const { caseId } = await openCase(ws, { routing: [{ to: 'person', owner: 'ann@example.com' }] });
    const queued = await rowsOf(ws);
    expect(queued.map((row) => [row.channel, row.recipient, row.event_type])).toEqual([
      ['email', 'ann@example.com', 'case.opened'],
    ]);

    expect(await deliver(ws, clock())).toEqual({ delivered: 1, retrying: 0, failed: 0 });
    const subject = `[Touchpoint p1] New case #${caseId}: Detractor: Carla`;
    const mails = mailbox.messages.filter((mail) => mail.subject === subject);
    expect(mails).toHaveLength(1);
    const mail = mails[0];
    expect(mail?.from?.value[0]?.address).toBe('cx@example.com');
    const to = Array.isArray(mail?.to) ? mail?.to.flatMap((a) => a.value) : mail?.to?.value;
    expect(to?.map((address) => address.address)).toEqual(['ann@example.com']);
    const text = mail?.text ?? '';
    expect(text).toContain('A case was assigned to you (person).');
    expect(text).toContain(`Case #${caseId}: Detractor: Carla`);
    expect(text).toContain('Severity high, priority p1, touchpoint billing');
    expect(text).toContain('Customer: Carla (C-1)');
    const [row] = await rowsOf(ws);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, last_status: null, last_error: null });

    // Another workspace with owner e-mail turned off.
    const quiet = await createTestWorkspace(db());
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/closed-loop/settings',
      headers: auth(quiet.keys.admin),
      payload: { notifyOwners: false },
    });
    expect(res.statusCode, res.body).toBe(200);
    const second = await openCase(quiet, { routing: [{ to: 'person', owner: 'ann@example.com' }] });
    const owner = await db()
      .selectFrom('cx_case')
      .select('owner')
      .where('id', '=', second.caseId)
      .executeTakeFirstOrThrow();
    expect(owner.owner).toBe('ann@example.com');
    expect(await rowsOf(quiet)).toEqual([]);
    expect(await deliver(quiet, clock())).toEqual(NOTHING);
    expect(mailbox.messages.some((message) => message.subject?.includes(`#${second.caseId}:`))).toBe(false);
  });

  // -------------------------------------------------------------------------------------------
  // 8. Deliveries never hold up ingestion
  // -------------------------------------------------------------------------------------------

  test('with a receiver that hangs and one that is down, ingestion answers at once and cases still open', async () => {
    const ws = await createTestWorkspace(db());
    const hanging = await startReceiver([], 'hang');
    await hook(ws, hanging.url);
    await hook(ws, `http://127.0.0.1:${await closedPort()}/down`);
    await openCase(ws);

    // A delivery is in flight, waiting for the hanging receiver.
    const delivering = deliver(ws, clock());
    await hanging.waitFor(1);

    let started = performance.now();
    await postFeedback(ws, 'F-2', 'C-2', 1);
    expect(performance.now() - started).toBeLessThan(2_000);
    started = performance.now();
    expect(await processOutbox(db(), new Date(), { workspaceId: ws.id })).toEqual({
      processed: 1,
      alerts: 1,
      casesOpened: 1,
    });
    expect(performance.now() - started).toBeLessThan(2_000);
    const cases = await db()
      .selectFrom('cx_case')
      .select('title')
      .where('workspace_id', '=', ws.id)
      .orderBy('id')
      .execute();
    expect(cases.map((row) => row.title)).toEqual(['Detractor: Carla', 'Detractor: C-2']);

    // The hanging call ends when its connection drops: both calls are retried later.
    hanging.dropConnections();
    expect(await delivering).toEqual({ delivered: 0, retrying: 2, failed: 0 });
    const rows = await rowsOf(ws);
    // 2 events per case (alert.raised, case.opened) × 2 webhooks.
    expect(rows).toHaveLength(8);
    expect(rows.filter((row) => row.attempts === 1).map((row) => row.event_type)).toEqual([
      'alert.raised',
      'alert.raised',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 9. The worker, end to end (embedded database only: the worker serves every workspace)
// ---------------------------------------------------------------------------------------------

describe('closed-loop worker, end to end [pglite]', () => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>> | undefined;
  let app: App | undefined;
  beforeAll(async () => {
    opened = await openTestDatabase('pglite');
    app = await buildApp({ database: opened.database });
  });
  afterAll(async () => {
    await app?.close();
    await opened?.cleanup();
  });
  const embedded = (): Database => {
    if (!opened) throw new Error('database not open yet');
    return opened.database;
  };

  test('a detractor posted through the API reaches the webhook within seconds; stop() waits for the call in flight', async () => {
    const api = app as App;
    const db = embedded().db;
    const ws = await createTestWorkspace(db);
    await createRule(db, ws.id, DETRACTOR);
    // The first call is answered at once, the second after 400 ms.
    const receiver = await startReceiver([200, { status: 200, delayMs: 400 }], 200);
    const webhook = await createWebhook(db, ws.id, {
      url: receiver.url,
      events: ['case.opened'],
      format: 'json',
      active: true,
    });
    const errors: unknown[] = [];
    const post = async (externalId: string, customerId: string) => {
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/feedback',
        headers: auth(ws.keys.write),
        payload: { externalId, customerId, source: 'survey', occurredAt: new Date().toISOString(), nps: 1 },
      });
      expect(res.statusCode, res.body).toBe(200);
    };
    const casesOf = (customer: string) =>
      db
        .selectFrom('cx_case')
        .innerJoin('customer', 'customer.id', 'cx_case.customer_id')
        .select(['cx_case.id'])
        .where('cx_case.workspace_id', '=', ws.id)
        .where('customer.external_id', '=', customer)
        .execute();

    const worker = startClosedLoop(
      { db, channels: new Channels(null) },
      { pollMs: 50, sweepMs: 200, onError: (error) => errors.push(error) },
    );
    let stopped = false;
    try {
      // A bound on liveness, not a speed target (npm run bench:alerts measures the latency): loose
      // enough for a busy 2-core machine.
      const started = performance.now();
      await post('F-1', 'C-1');
      await waitUntil(() => receiver.requests.length >= 1, 5_000, 'the webhook call');
      expect(performance.now() - started).toBeLessThan(5_000);
      const [opened1] = await casesOf('C-1');
      expect(opened1).toBeDefined();
      const first = JSON.parse((receiver.requests[0] as Received).body);
      expect(first).toMatchObject({
        type: 'case.opened',
        data: { case: { id: opened1?.id, severity: 'high' } },
      });

      // The second call is in flight when the worker is stopped: stop() waits for it to be recorded.
      await post('F-2', 'C-2');
      await receiver.waitFor(2, 5_000);
      const stopping = performance.now();
      await worker.stop();
      stopped = true;
      expect(performance.now() - stopping).toBeGreaterThan(100);
      const rows = await db
        .selectFrom('notification')
        .select(['status', 'attempts', 'last_status'])
        .where('webhook_id', '=', webhook.id)
        .orderBy('id')
        .execute();
      expect(rows).toEqual([
        { status: 'delivered', attempts: 1, last_status: 200 },
        { status: 'delivered', attempts: 1, last_status: 200 },
      ]);

      // Stopped means stopped: a new record stays in the outbox.
      await post('F-3', 'C-3');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await casesOf('C-3')).toEqual([]);
      expect(receiver.requests).toHaveLength(2);
      expect(errors).toEqual([]);
      // Leave nothing for the next worker of this database: the webhook goes (its queue with it).
      await deleteWebhook(db, ws.id, webhook.id);
    } finally {
      if (!stopped) await worker.stop();
    }
  });

  test('in the worker, a hanging webhook does not hold up another webhook’s deliveries', async () => {
    const db = embedded().db;
    const api = app as App;
    const ws = await createTestWorkspace(db);
    await createRule(db, ws.id, DETRACTOR);
    const hanging = await startReceiver([], 'hang');
    const healthy = await startReceiver();
    await createWebhook(db, ws.id, {
      url: hanging.url,
      events: [...WEBHOOK_EVENTS],
      format: 'json',
      active: true,
    });
    await createWebhook(db, ws.id, {
      url: healthy.url,
      events: [...WEBHOOK_EVENTS],
      format: 'json',
      active: true,
    });
    const worker = startClosedLoop({ db, channels: new Channels(null) }, { pollMs: 50, sweepMs: 200 });
    try {
      const res = await api.inject({
        method: 'POST',
        url: '/api/v1/feedback',
        headers: auth(ws.keys.write),
        payload: {
          externalId: 'F-1',
          customerId: 'C-1',
          source: 'survey',
          occurredAt: new Date().toISOString(),
          nps: 1,
        },
      });
      expect(res.statusCode, res.body).toBe(200);
      await hanging.waitFor(1, 2_000);
      // The healthy webhook's two events (alert.raised, case.opened) go out while the other call hangs.
      await waitUntil(() => healthy.requests.length >= 2, 3_000, 'both events at the healthy webhook').catch(
        () => {},
      );
      expect(healthy.requests.map((request) => header(request, EVENT_TYPE_HEADER))).toEqual([
        'alert.raised',
        'case.opened',
      ]);
    } finally {
      hanging.dropConnections();
      await worker.stop();
    }
  });
});
