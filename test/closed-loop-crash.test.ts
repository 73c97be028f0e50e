import { createHmac, randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type RawBuilder, sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Db } from '../src/db/index.js';
import {
  api,
  createPostgresDatabase,
  type Env,
  killChildren,
  type RunningServer,
  removeTempDirs,
  startServer,
  tempDir,
  templateDataDir,
  withDatabase,
} from './helpers/cli.js';
import { postgresUrl } from './helpers/databases.js';

/**
 * The closed loop's transactional outbox under crashes and concurrency, with real server processes:
 * - a SIGKILL right after the last acknowledged write (while the outbox still holds rows) loses no
 *   alert and duplicates none after the restart;
 * - two servers on one PostgreSQL database share the outbox and the webhook deliveries: every
 *   matching record has exactly one alert, every customer one open case, every event arrives once.
 */

afterEach(killChildren);
afterAll(removeTempDirs);

const ADMIN_KEY = `tp_${randomBytes(24).toString('hex')}`;
const pgUrl = postgresUrl();
const SKIPPED =
  ' — skipped: no PostgreSQL server; install PostgreSQL (initdb, pg_ctl) or set TEST_DATABASE_URL';

const DETRACTOR_RULE = {
  name: 'Detractor',
  condition: { field: 'nps', op: 'lte', value: 6 },
  severity: 'high',
  maxAgeHours: 24,
};

interface Feedback {
  externalId: string;
  customerId?: string;
  source: string;
  channel: string;
  touchpoint: string;
  occurredAt: string;
  nps?: number;
  csat?: number;
  text: string;
}
/** What the test expects of each record: whether its final version matches the rule, and its customer. */
type Expected = Map<string, { matching: boolean; customer: string | null }>;

interface CaseItem {
  id: number;
  status: string;
  alertCount: number;
  customer: { externalId: string } | null;
  rule: { id: number };
}
interface CaseDetail extends CaseItem {
  alerts: { id: number; ruleId: number; record: { kind: string; externalId: string | null } }[];
}

/** A little in the past, so the server's clock never sees it in the future; well within maxAgeHours. */
const recently = () => new Date(Date.now() - 60_000).toISOString();

const feedback = (externalId: string, customer: string | null, score: { nps?: number; csat?: number }) => ({
  externalId,
  ...(customer === null ? {} : { customerId: customer }),
  source: 'survey',
  channel: 'email',
  touchpoint: 'billing',
  occurredAt: recently(),
  ...score,
  text: `Feedback ${externalId}`,
});

const postFeedback = async (server: RunningServer, batch: Feedback[]) => {
  const response = await api<{ created: number; updated: number; unchanged: number }>(
    server.url,
    '/api/v1/feedback',
    { key: ADMIN_KEY, body: batch },
  );
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
};

const createRule = async (server: RunningServer, rule: unknown = DETRACTOR_RULE) => {
  const response = await api<{ id: number; kinds: string[] }>(server.url, '/api/v1/alert-rules', {
    key: ADMIN_KEY,
    body: rule,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
};

const createCustomers = async (server: RunningServer, ids: string[]) => {
  const response = await api(server.url, '/api/v1/customers', {
    key: ADMIN_KEY,
    body: ids.map((externalId) => ({ externalId, name: `Customer ${externalId}` })),
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
};

/** Every case of the workspace (all pages). */
const listCases = async (server: RunningServer): Promise<CaseItem[]> => {
  const all: CaseItem[] = [];
  let before: number | null = null;
  do {
    const response: { status: number; body: { items: CaseItem[]; nextBefore: number | null } } = await api(
      server.url,
      `/api/v1/cases?limit=500${before === null ? '' : `&before=${before}`}`,
      { key: ADMIN_KEY },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    all.push(...response.body.items);
    before = response.body.nextBefore;
  } while (before !== null);
  return all;
};

/** Polls the cases until their alerts add up to `expected` (or the deadline passes); returns the last sum. */
const waitForAlerts = async (server: RunningServer, expected: number, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  let sum = -1;
  while (Date.now() < deadline) {
    sum = (await listCases(server)).reduce((total, item) => total + item.alertCount, 0);
    if (sum >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return sum;
};

/** Every case with its alerts, through the API (a few requests at a time). */
const casesWithAlerts = async (server: RunningServer): Promise<CaseDetail[]> => {
  const items = await listCases(server);
  const details: CaseDetail[] = [];
  for (let i = 0; i < items.length; i += 8) {
    const chunk = await Promise.all(
      items.slice(i, i + 8).map(async (item) => {
        const response = await api<CaseDetail>(server.url, `/api/v1/cases/${item.id}`, { key: ADMIN_KEY });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        return response.body;
      }),
    );
    details.push(...chunk);
  }
  return details;
};

/**
 * Through the API: each matching record has exactly one alert of `ruleId`, on a case of its own
 * customer; no other record has one; each customer with matching records has exactly one open case
 * of the rule, each anonymous matching record its own case; a case's alertCount is its alerts.
 */
const expectAlertsThroughApi = async (server: RunningServer, expected: Expected, ruleId: number) => {
  const cases = await casesWithAlerts(server);
  const alertsOf = new Map<string, number>();
  const wrongCustomer: string[] = [];
  const countMismatch: number[] = [];
  for (const item of cases) {
    expect(item.rule.id).toBe(ruleId);
    if (item.alertCount !== item.alerts.length) countMismatch.push(item.id);
    for (const alert of item.alerts) {
      const id = alert.record.externalId ?? '(unknown record)';
      alertsOf.set(id, (alertsOf.get(id) ?? 0) + 1);
      const owner = expected.get(id)?.customer;
      if (owner !== (item.customer?.externalId ?? null)) wrongCustomer.push(id);
    }
  }
  const matching = [...expected].filter(([, e]) => e.matching).map(([id]) => id);
  const withoutAlert = matching.filter((id) => !alertsOf.has(id));
  const duplicated = [...alertsOf].filter(([, count]) => count > 1).map(([id, count]) => `${id} ×${count}`);
  const unexpected = [...alertsOf.keys()].filter((id) => !expected.get(id)?.matching);
  expect(
    { withoutAlert, duplicated, unexpected, wrongCustomer, countMismatch },
    'alerts per record, through the API',
  ).toEqual({ withoutAlert: [], duplicated: [], unexpected: [], wrongCustomer: [], countMismatch: [] });
  expect([...alertsOf.values()].reduce((a, b) => a + b, 0)).toBe(matching.length);

  // One open case per customer (and rule); one case per anonymous matching record.
  const openPerCustomer = new Map<string, number>();
  let anonymousCases = 0;
  for (const item of cases) {
    expect(item.status).toBe('open');
    if (item.customer) {
      openPerCustomer.set(item.customer.externalId, (openPerCustomer.get(item.customer.externalId) ?? 0) + 1);
    } else {
      anonymousCases++;
      expect(item.alerts).toHaveLength(1);
    }
  }
  const customersWithMatches = new Set(
    [...expected.values()].filter((e) => e.matching && e.customer !== null).map((e) => e.customer as string),
  );
  expect(Object.fromEntries([...openPerCustomer].sort())).toEqual(
    Object.fromEntries([...customersWithMatches].sort().map((customer) => [customer, 1])),
  );
  expect(anonymousCases).toBe([...expected.values()].filter((e) => e.matching && e.customer === null).length);
  return cases;
};

/**
 * In the database: the outbox is empty, every alert is unique per rule and record, lies on a case of
 * the record's customer, and the case counts are right; the number of alerts is the number of
 * matching records and every written record is there.
 */
const expectAlertsInDatabase = async (db: Db, expected: Expected, ruleIds: number[]) => {
  const one = async <T>(query: RawBuilder<T>) => (await query.execute(db)).rows[0] as T;
  const matching = [...expected.values()].filter((e) => e.matching).length;
  expect(await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM alert_outbox`)).toEqual({ n: 0 });
  expect(await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM feedback`)).toEqual({
    n: expected.size,
  });
  expect(await one(sql<{ n: number }>`SELECT count(*)::int AS n FROM alert`)).toEqual({
    n: matching * ruleIds.length,
  });
  const problems = await one(sql<Record<string, number>>`
    SELECT
      (SELECT count(*)::int FROM (SELECT 1 FROM alert GROUP BY rule_id, record_kind, record_id
        HAVING count(*) > 1) d) AS duplicated,
      (SELECT count(*)::int FROM alert a JOIN feedback f ON f.id = a.record_id
        WHERE a.customer_id IS DISTINCT FROM f.customer_id) AS alert_not_of_record_customer,
      (SELECT count(*)::int FROM alert a JOIN cx_case c ON c.id = a.case_id
        WHERE c.customer_id IS DISTINCT FROM a.customer_id OR c.rule_id <> a.rule_id) AS alert_on_other_case,
      (SELECT count(*)::int FROM alert a LEFT JOIN feedback f ON f.id = a.record_id
        WHERE a.record_kind <> 'feedback' OR f.id IS NULL) AS alert_without_record,
      (SELECT count(*)::int FROM cx_case c
        WHERE c.alert_count <> (SELECT count(*) FROM alert a WHERE a.case_id = c.id)) AS wrong_alert_count,
      (SELECT count(*)::int FROM (SELECT 1 FROM cx_case
        WHERE customer_id IS NOT NULL AND status IN ('open', 'in_progress', 'customer_contacted')
        GROUP BY rule_id, customer_id HAVING count(*) > 1) d) AS several_open_cases,
      (SELECT count(*)::int FROM cx_case c
        WHERE NOT EXISTS (SELECT 1 FROM alert a WHERE a.case_id = c.id)) AS case_without_alert`);
  expect(problems).toEqual({
    duplicated: 0,
    alert_not_of_record_customer: 0,
    alert_on_other_case: 0,
    alert_without_record: 0,
    wrong_alert_count: 0,
    several_open_cases: 0,
    case_without_alert: 0,
  });
  // The matching records, by external id, each exactly once per rule.
  const perRecord = await sql<{ external_id: string; n: number }>`
    SELECT f.external_id, count(*)::int AS n FROM alert a JOIN feedback f ON f.id = a.record_id
    GROUP BY f.external_id`.execute(db);
  const alerted = new Map(perRecord.rows.map((row) => [row.external_id, row.n]));
  const wrong = [...expected]
    .filter(([id, e]) => (alerted.get(id) ?? 0) !== (e.matching ? ruleIds.length : 0))
    .map(([id, e]) => `${id}: ${alerted.get(id) ?? 0} alerts, matching ${e.matching}`);
  expect(wrong).toEqual([]);
};

/** The errors the server's closed-loop worker logged (retried work: deadlocks, unique violations), in short. */
const workerErrors = (server: RunningServer) => {
  const messages = server
    .stderr()
    .split('\n')
    .filter((line) => line.includes('closed loop'))
    .map((line) => {
      try {
        const entry = JSON.parse(line) as { err?: { code?: string; message?: string } };
        return `${entry.err?.code ?? ''} ${entry.err?.message ?? line}`.trim().slice(0, 160);
      } catch {
        return line.slice(0, 160);
      }
    });
  return messages.length === 0 ? '0' : `${messages.length} (${[...new Set(messages)].join('; ')})`;
};

/** Outbox rows and alerts as a killed server left them (diagnostics: did the kill land mid-way?). */
const backlog = async (db: Db) =>
  (
    await sql<{ outbox: number; alerts: number }>`
      SELECT (SELECT count(*)::int FROM alert_outbox) AS outbox, (SELECT count(*)::int FROM alert) AS alerts`.execute(
      db,
    )
  ).rows[0];

// ---------------------------------------------------------------------------------------------
// 1. SIGKILL between the write and the alert processing
// ---------------------------------------------------------------------------------------------

const CUSTOMERS = 12;
const BATCHES = 3;
const BATCH = 200;

/**
 * One wave of new feedback: `BATCHES` batches of `BATCH` records. Mixed: detractors (nps 0–6, match),
 * passives and promoters (7–10), csat-only feedback (no nps: no match), anonymous detractors (each
 * opens its own case) and a quiet customer who only ever gives good scores.
 */
const wave = (prefix: string, name: string, expected: Expected): Feedback[][] =>
  Array.from({ length: BATCHES }, (_, b) =>
    Array.from({ length: BATCH }, (_, i) => {
      const externalId = `${prefix}-${name}-b${b}-${i}`;
      let record: Feedback;
      let matching: boolean;
      let customer: string | null = `${prefix}-c-${(i + b) % CUSTOMERS}`;
      if (i % 100 === 7) {
        customer = null;
        record = feedback(externalId, null, { nps: 1 });
        matching = true;
      } else if (i % 13 === 5) {
        customer = `${prefix}-quiet`;
        record = feedback(externalId, customer, { nps: 9 + (i % 2) });
        matching = false;
      } else if (i % 17 === 3) {
        record = feedback(externalId, customer, { csat: 1 });
        matching = false;
      } else {
        const nps = (i * 7 + b) % 11;
        record = feedback(externalId, customer, { nps });
        matching = nps <= 6;
      }
      expected.set(externalId, { matching, customer });
      return record;
    }),
  );

for (const kind of ['embedded', 'postgres'] as const) {
  const unavailable = kind === 'postgres' && !pgUrl;
  describe.skipIf(unavailable)(
    `closed loop: SIGKILL between the acknowledged write and the alert processing [${kind}]${unavailable ? SKIPPED : ''}`,
    () => {
      let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
      beforeAll(async () => {
        if (kind === 'postgres') postgres = await createPostgresDatabase();
      });
      afterAll(async () => {
        await killChildren();
        await postgres?.drop();
      });

      test('after a SIGKILL right after the last 2xx and a restart, every acknowledged matching record has exactly one alert and every customer one open case', async () => {
        const started = Date.now();
        const data = kind === 'embedded' ? templateDataDir() : undefined;
        const env: Env = { TOUCHPOINT_ADMIN_KEY: ADMIN_KEY, DATABASE_URL: postgres?.url };
        const p = `kill-${kind}`;
        const expected: Expected = new Map();

        const first = await startServer({ data, env });
        const firstReadyAt = Date.now();
        const rule = await createRule(first);
        expect(rule.kinds).toEqual(['feedback']);
        await createCustomers(first, [
          ...Array.from({ length: CUSTOMERS }, (_, c) => `${p}-c-${c}`),
          `${p}-quiet`,
        ]);

        // Wave 1: new records, in concurrent batches.
        const wave1 = wave(p, 'w1', expected);
        for (const summary of await Promise.all(wave1.map((batch) => postFeedback(first, batch)))) {
          expect(summary).toMatchObject({ created: BATCH, updated: 0 });
        }
        // Wave 2: more new records, plus updates of wave 1: good scores turned bad (they match now,
        // whenever the first version was evaluated) and detractors re-sent with a new text (still one alert).
        const wave2 = wave(p, 'w2', expected);
        const turned = wave1
          .flat()
          .filter((f) => f.customerId !== `${p}-quiet` && f.nps !== undefined && f.nps >= 7)
          .slice(0, 100)
          .map((f) => ({ ...f, nps: 3, text: `${f.text}, changed to a detractor` }));
        const resent = wave1
          .flat()
          .filter((f) => expected.get(f.externalId)?.matching)
          .slice(0, 100)
          .map((f) => ({ ...f, text: `${f.text}, edited` }));
        for (const f of turned)
          expected.set(f.externalId, { matching: true, customer: f.customerId ?? null });
        const summaries = await Promise.all([
          ...wave2.map((batch) => postFeedback(first, batch)),
          postFeedback(first, [...turned, ...resent]),
        ]);
        // No graceful stop: the closed-loop worker is killed with whatever it had not processed.
        await first.kill9();
        const killedAt = Date.now();
        for (const summary of summaries.slice(0, BATCHES)) expect(summary).toMatchObject({ created: BATCH });
        expect(summaries[BATCHES]).toMatchObject({ created: 0, updated: turned.length + resent.length });

        // What the kill left behind (for the report; the assertions below hold whatever the timing).
        let leftBehind: { outbox: number; alerts: number } | undefined;
        let snapshot: string | undefined;
        if (data) {
          // The embedded directory is copied and inspected later, so the restart does its own recovery.
          snapshot = tempDir('touchpoint-killed-');
          cpSync(data, snapshot, { recursive: true });
        } else if (postgres) {
          leftBehind = await withDatabase({ url: postgres.url }, ({ db }) => backlog(db));
        }

        const matching = [...expected.values()].filter((e) => e.matching).length;
        const second = await startServer({ data, env });
        const secondReadyAt = Date.now();
        const sum = await waitForAlerts(second, matching, 40_000);
        const drainedAt = Date.now();
        expect(sum, 'alerts raised after the restart').toBe(matching);
        await expectAlertsThroughApi(second, expected, rule.id);
        // Nothing more arrives: the outbox was drained exactly once.
        await new Promise((resolve) => setTimeout(resolve, 600));
        expect((await listCases(second)).reduce((total, item) => total + item.alertCount, 0)).toBe(matching);

        if (data) {
          expect(await second.stop()).toBe(0);
          await withDatabase({ data }, ({ db }) => expectAlertsInDatabase(db, expected, [rule.id]));
          if (snapshot) leftBehind = await withDatabase({ data: snapshot }, ({ db }) => backlog(db));
        } else if (postgres) {
          await withDatabase({ url: postgres.url }, ({ db }) =>
            expectAlertsInDatabase(db, expected, [rule.id]),
          );
          expect(await second.stop()).toBe(0);
        }
        console.info(
          `[${kind}] ${expected.size} records (${matching} matching); at the kill: ${leftBehind?.outbox} outbox rows ` +
            `pending, ${leftBehind?.alerts} alerts raised. Start ${firstReadyAt - started} ms, writes ` +
            `${killedAt - firstReadyAt} ms, restart ${secondReadyAt - killedAt} ms, drained ${drainedAt - secondReadyAt} ms ` +
            `after it, checks ${Date.now() - drainedAt} ms; test ${Date.now() - started} ms; worker errors logged: ` +
            `${workerErrors(first)} before the kill, ${workerErrors(second)} after`,
        );
      });
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Two servers on one PostgreSQL database
// ---------------------------------------------------------------------------------------------

interface Received {
  eventId: string;
  type: string;
  signed: boolean;
  body: { id: string; type: string; data: { case: { id: number }; alert?: { id: number } } };
}

/** A webhook receiver in this process: answers 200 to everything and keeps what it got. */
const startReceiver = async (secret: () => string) => {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const timestamp = String(request.headers['touchpoint-timestamp']);
      const expectedSignature = `v1=${createHmac('sha256', secret()).update(`${timestamp}.${body}`).digest('hex')}`;
      received.push({
        eventId: String(request.headers['touchpoint-event-id']),
        type: String(request.headers['touchpoint-event']),
        signed: request.headers['touchpoint-signature'] === expectedSignature,
        body: JSON.parse(body),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const describeTwoServers = describe.skipIf(!pgUrl);
describeTwoServers(`closed loop: two servers on one PostgreSQL database${pgUrl ? '' : SKIPPED}`, () => {
  let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
  let secret = '';
  beforeAll(async () => {
    postgres = await createPostgresDatabase();
    receiver = await startReceiver(() => secret);
  });
  afterAll(async () => {
    await killChildren();
    await receiver?.close();
    await postgres?.drop();
  });

  test('records sent concurrently to both servers: exactly one alert per matching record, one open case per customer and rule, each webhook event delivered once', async () => {
    const started = Date.now();
    if (!postgres || !receiver) throw new Error('not set up');
    const { received } = receiver;
    const env: Env = { TOUCHPOINT_ADMIN_KEY: ADMIN_KEY, DATABASE_URL: postgres.url };
    const a = await startServer({ env });
    const b = await startServer({ env });
    expect(a.url).not.toBe(b.url);

    const rule = await createRule(a);
    const hook = await api<{ id: number; secret: string }>(b.url, '/api/v1/webhooks', {
      key: ADMIN_KEY,
      body: { url: receiver.url, events: ['alert.raised', 'case.opened'] },
    });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    secret = hook.body.secret;

    const p = 'two';
    // Few records per batch: one webhook's deliveries go out one at a time, about one per worker poll.
    const PER_BATCH = 4;
    const customers = Array.from({ length: 8 }, (_, c) => `${p}-c-${c}`);
    await createCustomers(a, customers);
    const expected: Expected = new Map();
    const batches: { server: RunningServer; batch: Feedback[] }[] = [];
    const fresh = (name: string, n: number) =>
      Array.from({ length: PER_BATCH }, (_, i) => {
        const externalId = `${p}-${name}-b${n}-${i}`;
        const customer = customers[(n * PER_BATCH + i + (name === 'b' ? 3 : 0)) % customers.length] as string;
        const nps = i === PER_BATCH - 1 ? 8 + (n % 3) : (n + i) % 7;
        expected.set(externalId, { matching: nps <= 6, customer });
        return feedback(externalId, customer, { nps });
      });
    for (let n = 0; n < 20; n++) {
      for (const [name, server, other] of [
        ['a', a, 'b'],
        ['b', b, 'a'],
      ] as const) {
        // Each batch also re-sends, edited, two detractors of the other server's previous batch: the
        // same record written through both servers, evaluated once per write, alerted once.
        const resent = n === 0 ? [] : fresh(other, n - 1).slice(0, 2);
        batches.push({
          server,
          batch: [
            ...fresh(name, n),
            ...resent.map((f) => ({ ...f, text: `${f.text}, sent again to ${name}` })),
          ],
        });
      }
    }
    const sentAt = Date.now();
    const summaries = await Promise.all(batches.map(({ server, batch }) => postFeedback(server, batch)));
    // The two copies of a re-sent record: one creates it, the other updates it (its text differs).
    summaries.forEach((summary, i) => {
      expect(summary.created + summary.updated).toBe(batches[i]?.batch.length);
    });
    expect(summaries.reduce((total, summary) => total + summary.created, 0)).toBe(expected.size);

    // Wait until the outbox is drained and every notification delivered, then look at everything.
    const matching = [...expected.values()].filter((e) => e.matching).length;
    const timings = await withDatabase({ url: postgres.url }, async ({ db }) => {
      const state = async () =>
        (
          await sql<{ outbox: number; alerts: number; pending: number; notifications: number }>`
            SELECT (SELECT count(*)::int FROM alert_outbox) AS outbox, (SELECT count(*)::int FROM alert) AS alerts,
              (SELECT count(*)::int FROM notification WHERE status = 'pending') AS pending,
              (SELECT count(*)::int FROM notification) AS notifications`.execute(db)
        ).rows[0] as { outbox: number; alerts: number; pending: number; notifications: number };
      let now = await state();
      let drainedAt = 0;
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline) {
        if (now.outbox === 0 && now.alerts >= matching && !drainedAt) drainedAt = Date.now();
        if (drainedAt && now.pending === 0 && received.length >= now.notifications) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
        now = await state();
      }
      const deliveredAt = Date.now();
      expect(now, 'outbox drained and notifications delivered').toMatchObject({ outbox: 0, pending: 0 });

      const cases = await expectAlertsThroughApi(b, expected, rule.id);
      await expectAlertsInDatabase(db, expected, [rule.id]);

      // Webhooks: every queued event arrived exactly once, signed, and nothing else arrived.
      const queued = await sql<{
        id: number;
        event_id: string;
        case_id: number;
        attempts: number;
        status: string;
      }>`
        SELECT id, event_id::text, case_id, attempts, status FROM notification WHERE channel = 'webhook'
        ORDER BY id`.execute(db);
      const arrivals = new Map<string, number>();
      for (const item of received) arrivals.set(item.eventId, (arrivals.get(item.eventId) ?? 0) + 1);
      const queuedIds = new Set(queued.rows.map((row) => row.event_id));
      const twice = [...arrivals].filter(([, count]) => count > 1);
      const notQueued = [...arrivals.keys()].filter((id) => !queuedIds.has(id));
      const notArrived = [...queuedIds].filter((id) => !arrivals.has(id));
      expect({ twice, notQueued, notArrived }).toEqual({ twice: [], notQueued: [], notArrived: [] });
      expect(queued.rows.filter((row) => row.status !== 'delivered' || row.attempts !== 1)).toEqual([]);
      expect(received.filter((item) => !item.signed || item.eventId !== item.body.id)).toEqual([]);

      // The events of one case arrive in the order they were queued.
      const notificationOf = new Map(queued.rows.map((row) => [row.event_id, row]));
      const arrivalsOfCase = new Map<number, number[]>();
      for (const item of received) {
        const row = notificationOf.get(item.eventId);
        if (row) arrivalsOfCase.set(row.case_id, [...(arrivalsOfCase.get(row.case_id) ?? []), row.id]);
      }
      const outOfOrder = [...arrivalsOfCase].filter(([, ids]) =>
        ids.some((id, i) => i > 0 && id < (ids[i - 1] ?? 0)),
      );
      expect(outOfOrder, 'cases whose events arrived out of order').toEqual([]);
      // Across cases, for the report: arrivals after an event queued later (rows committed out of id order).
      let overtaken = 0;
      let highest = 0;
      for (const item of received) {
        const id = notificationOf.get(item.eventId)?.id ?? 0;
        if (id < highest) overtaken++;
        highest = Math.max(highest, id);
      }

      // One alert.raised per alert, one case.opened per case.
      const alertIds = await sql<{ id: number }>`SELECT id FROM alert ORDER BY id`.execute(db);
      const raised = received
        .filter((item) => item.type === 'alert.raised')
        .map((item) => item.body.data.alert?.id ?? 0)
        .sort((x, y) => x - y);
      expect(raised).toEqual(alertIds.rows.map((row) => row.id));
      const opened = received
        .filter((item) => item.type === 'case.opened')
        .map((item) => item.body.data.case.id)
        .sort((x, y) => x - y);
      expect(opened).toEqual(cases.map((item) => item.id).sort((x, y) => x - y));
      expect(received).toHaveLength(matching + customers.length);
      return { drainedAt, deliveredAt, overtaken };
    });

    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    console.info(
      `[two servers] ${expected.size} records (${matching} matching) in ${batches.length} batches; outbox drained ` +
        `${timings.drainedAt - sentAt} ms after the batches were sent, ${received.length} webhook events ` +
        `delivered ${timings.deliveredAt - sentAt} ms after (${timings.overtaken} after an event queued later); ` +
        `test ${Date.now() - started} ms; worker errors logged: A ${workerErrors(a)}, B ${workerErrors(b)}`,
    );
  });
});
