import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError } from '../../../test/helpers/http.js';
import { startMailbox, type TestMailbox } from '../../../test/helpers/smtp.js';
import { createTestWorkspace } from '../../../test/helpers/workspace.js';
import { decideRecoveries } from '../../closed-loop/cases.js';
import { deliverNotifications } from '../../closed-loop/notifications.js';
import { verifyWebhook } from '../../closed-loop/policy.js';
import { processOutbox } from '../../closed-loop/processor.js';
import { Channels } from '../../surveys/channels.js';
import { type App, buildApp } from '../app.js';
import type { ErrorBody } from '../errors.js';

// The closed-loop API through HTTP: alert rules and their validation, roles and workspace
// isolation, cases (list filters, detail, workflow, owner e-mail, root cause and playbook choice,
// notes, steps, follow-up messages), playbooks with their effectiveness, webhooks with their
// delivery log, settings and the recovery report. Expected values are written out here, not taken
// from the code under test.

type Json = Record<string, unknown>;
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type RecordType = 'customers' | 'feedback' | 'interactions' | 'events';

interface RuleBody {
  id: number;
  name: string;
  description: string | null;
  condition: unknown;
  kinds: string[];
  severity: string;
  routing: Json[];
  maxAgeHours: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

interface CaseBody {
  id: number;
  title: string;
  status: string;
  severity: string;
  priority: string;
  priorityScore: number;
  owner: string | null;
  team: string | null;
  touchpoint: string | null;
  channel: string | null;
  rootCause: string | null;
  rule: { id: number; name: string | null };
  playbookId: number | null;
  customer: { externalId: string; name: string | null } | null;
  alertCount: number;
  lastAlertAt: string | null;
  sla: {
    firstResponseDueAt: string | null;
    resolveDueAt: string | null;
    firstResponseAt: string | null;
    firstResponseBreached: boolean;
    resolveBreached: boolean;
  };
  escalationLevel: number;
  escalatedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  recovery: string | null;
  recoveryReason: string | null;
  recoveryDecidedAt: string | null;
  allowedStatuses: string[];
  createdAt: string;
  updatedAt: string;
}

interface MessageBody {
  id: number;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  error: string | null;
  actor: string;
  occurredAt: string;
}

interface StepBody {
  position: number;
  text: string;
  done: boolean;
  doneAt: string | null;
  doneBy: string | null;
}

interface HistoryEntry {
  at: string;
  type: string;
  actor: string;
  detail: Json;
}

interface CaseDetail extends CaseBody {
  playbook: { id: number; name: string } | null;
  alerts: Array<{
    id: number;
    ruleId: number;
    record: { kind: string; externalId: string | null };
    severity: string;
    occurredAt: string;
    raisedAt: string;
  }>;
  steps: StepBody[];
  messages: MessageBody[];
  history: HistoryEntry[];
}

interface CasePage {
  items: CaseBody[];
  nextBefore: number | null;
}

interface Effectiveness {
  cases: number;
  resolved: number;
  recovered: number;
  notRecovered: number;
  unknown: number;
  recoveryRate: number | null;
  medianHoursToResolve: number | null;
}

interface PlaybookBody {
  id: number;
  name: string;
  description: string | null;
  match: Json;
  steps: string[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
  effectiveness: Effectiveness;
}

interface WebhookBody {
  id: number;
  url: string;
  events: string[];
  format: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  secret?: string;
}

interface DeliveryBody {
  id: number;
  eventId: string;
  eventType: string;
  caseId: number | null;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  log: Json[];
}

interface RecoveryRow {
  key: string | null;
  label: string | null;
  closed: number;
  recovered: number;
  notRecovered: number;
  unknown: number;
  pending: number;
  recoveryRate: number | null;
}

interface RecoveryReport {
  by: string;
  rows: RecoveryRow[];
  total: RecoveryRow;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

const DETRACTOR = { field: 'nps', op: 'lte', value: 6 };
const ALL_KINDS = ['event', 'feedback', 'interaction'];
const ROOT_CAUSES = [
  'process',
  'people',
  'product',
  'policy',
  'system',
  'communication',
  'third_party',
  'customer_expectation',
  'other',
];
const DEFAULT_SLA = {
  low: { firstResponseMinutes: 2880, resolveMinutes: 10080 },
  medium: { firstResponseMinutes: 480, resolveMinutes: 4320 },
  high: { firstResponseMinutes: 120, resolveMinutes: 1440 },
  critical: { firstResponseMinutes: 30, resolveMinutes: 480 },
};
const ALL_EVENTS = [
  'alert.raised',
  'case.opened',
  'case.assigned',
  'case.status_changed',
  'case.escalated',
  'case.note_added',
  'case.message_sent',
  'case.recovery_decided',
];
const UNKNOWN_FIELD = 'is not a known field';
const NO_EFFECT: Effectiveness = {
  cases: 0,
  resolved: 0,
  recovered: 0,
  notRecovered: 0,
  unknown: 0,
  recoveryRate: null,
  medianHoursToResolve: null,
};
const SMTP_MISSING = 'e-mail is not configured: set SMTP_URL (and SMTP_FROM)';

const paths = (error: ErrorBody['error']) => error.details.map((detail) => detail.path);

/** A detractor's feedback at the billing touchpoint, now. */
const feedback = (externalId: string, customerId: string, extra: Json = {}) => ({
  externalId,
  customerId,
  source: 'survey',
  touchpoint: 'billing',
  channel: 'email',
  occurredAt: new Date().toISOString(),
  nps: 2,
  ...extra,
});

/** A local HTTP server that answers 200 to every webhook call and keeps them. */
const startReceiver = async () => {
  const calls: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => {
      body += chunk;
    });
    request.on('end', () => {
      calls.push({ headers: request.headers, body });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const addresses = (mail: ParsedMail): string[] => {
  const to = mail.to === undefined ? [] : Array.isArray(mail.to) ? mail.to : [mail.to];
  return to.flatMap((group) => group.value.map((address) => address.address ?? ''));
};

describeEachDatabase('closed-loop routes', (database) => {
  let app: App;
  let noMailApp: App;
  let mailbox: TestMailbox;
  let channels: Channels;

  beforeAll(async () => {
    mailbox = await startMailbox();
    channels = new Channels({ url: mailbox.url, from: 'x <x@example.com>' });
    app = await buildApp({ database: database(), channels });
    noMailApp = await buildApp({ database: database(), channels: new Channels(null) });
  });
  afterAll(async () => {
    await app?.close();
    await noMailApp?.close();
    channels?.close();
    await mailbox?.close();
  });

  const send = (target: App, key: string | null, method: Method, url: string, payload?: unknown) =>
    target.inject({
      method,
      url,
      headers: key === null ? {} : auth(key),
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });

  const expectStatus = (res: LightMyRequestResponse, status: number) => {
    expect(res.statusCode, `${res.raw.req.method} ${res.raw.req.url}: ${res.body.slice(0, 800)}`).toBe(
      status,
    );
  };

  const ok = async <T>(res: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const done = await res;
    expectStatus(done, status);
    return done.json() as T;
  };

  /** A fresh workspace and shortcuts for its admin key. */
  const setup = async (target: App = app) => {
    const ws = await createTestWorkspace(database().db);
    const call = (method: Method, url: string, payload?: unknown) =>
      send(target, ws.keys.admin, method, url, payload);
    const key = await database()
      .db.selectFrom('api_key')
      .select('id')
      .where('workspace_id', '=', ws.id)
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    return {
      ws,
      call,
      /** The default actor of the admin key. */
      apiActor: `api-key:${key.id}`,
      as: (keyOf: string | null, method: Method, url: string, payload?: unknown) =>
        send(target, keyOf, method, url, payload),
      ingest: async (type: RecordType, payload: unknown) => {
        await ok(send(target, ws.keys.write, 'POST', `/api/v1/${type}`, payload));
      },
      process: (now = new Date()) => processOutbox(database().db, now, { workspaceId: ws.id }),
      rule: (body: Json = {}) =>
        ok<RuleBody>(
          call('POST', '/api/v1/alert-rules', {
            name: 'Detractor',
            condition: DETRACTOR,
            severity: 'high',
            ...body,
          }),
          201,
        ),
      playbook: (body: Json) => ok<PlaybookBody>(call('POST', '/api/v1/playbooks', body), 201),
      settings: (body: Json) => ok<Json>(call('PUT', '/api/v1/closed-loop/settings', body)),
      cases: (query = '') => ok<CasePage>(call('GET', `/api/v1/cases${query}`)),
      caseOf: (id: number) => ok<CaseDetail>(call('GET', `/api/v1/cases/${id}`)),
      patch: (id: number, body: unknown) => call('PATCH', `/api/v1/cases/${id}`, body),
      message: (id: number, body: unknown) => call('POST', `/api/v1/cases/${id}/messages`, body),
    };
  };
  type Ctx = Awaited<ReturnType<typeof setup>>;

  /** Opens one case per customer (a detractor's feedback each); their ids, in the customers' order. */
  const openCases = async (t: Ctx, customerIds: string[], extra: Json = {}, now = new Date()) => {
    await t.ingest(
      'feedback',
      customerIds.map((customerId) => feedback(`F-${customerId}`, customerId, extra)),
    );
    const processed = await t.process(now);
    expect(processed.casesOpened).toBe(customerIds.length);
    const page = await t.cases('?status=active&limit=500');
    return customerIds.map((customerId) => {
      const found = page.items.find((item) => item.customer?.externalId === customerId);
      expect(found, `a case of ${customerId}`).toBeDefined();
      return (found as CaseBody).id;
    });
  };

  const mailsTo = async (address: string, count = 1): Promise<ParsedMail[]> => {
    const start = Date.now();
    for (;;) {
      const found = mailbox.messages.filter((mail) => addresses(mail).includes(address));
      if (found.length >= count) return found;
      if (Date.now() - start > 10_000) throw new Error(`expected ${count} e-mails to ${address}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  // ------------------------------------------------------------------------------- alert rules

  test('alert rules: create, list, get, replace and deactivate; kinds follow the condition', async () => {
    const t = await setup();
    const detractor = await t.rule({ name: '  Detractor  ', description: 'NPS 0 to 6' });
    expect(detractor).toEqual({
      id: expect.any(Number),
      name: 'Detractor',
      description: 'NPS 0 to 6',
      condition: { field: 'nps', op: 'lte', value: 6 },
      kinds: ['feedback'],
      severity: 'high',
      routing: [],
      maxAgeHours: 168,
      active: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    const segment = await t.rule({
      name: 'Gold customers',
      condition: { field: 'segment', op: 'eq', value: 'gold' },
      severity: 'low',
      routing: [{ to: 'accountOwner' }, { to: 'team', team: 'vip' }],
      maxAgeHours: 0.5,
    });
    expect(segment).toMatchObject({
      description: null,
      kinds: ['event', 'feedback', 'interaction'],
      severity: 'low',
      routing: [
        { to: 'accountOwner', attribute: 'accountOwner' },
        { to: 'team', team: 'vip' },
      ],
      maxAgeHours: 0.5,
    });

    // Kinds of other shapes: any (union), all (intersection), not (every kind), event fields.
    const kindsOf = async (condition: unknown) => (await t.rule({ name: 'Kinds', condition })).kinds;
    expect(await kindsOf({ any: [DETRACTOR, { pattern: 'longWait', overSeconds: 600 }] })).toEqual([
      'feedback',
      'interaction',
    ]);
    expect(await kindsOf({ all: [DETRACTOR, { field: 'segment', op: 'eq', value: 'gold' }] })).toEqual([
      'feedback',
    ]);
    expect(await kindsOf({ not: DETRACTOR })).toEqual(ALL_KINDS);
    expect(await kindsOf({ field: 'eventType', op: 'in', value: ['churn', 'cancellation'] })).toEqual([
      'event',
    ]);
    expect(await kindsOf({ pattern: 'transfers', atLeast: 2 })).toEqual(['interaction']);

    const list = await ok<RuleBody[]>(t.call('GET', '/api/v1/alert-rules'));
    expect(list.map((rule) => rule.name)).toEqual([
      'Detractor',
      'Gold customers',
      'Kinds',
      'Kinds',
      'Kinds',
      'Kinds',
      'Kinds',
    ]);
    expect(list[0]).toEqual(detractor);
    expect(await ok<RuleBody>(t.call('GET', `/api/v1/alert-rules/${segment.id}`))).toEqual(segment);

    // PUT replaces the whole rule: what is left out takes its default again.
    const replaced = await ok<RuleBody>(
      t.call('PUT', `/api/v1/alert-rules/${detractor.id}`, {
        name: 'Strong detractor',
        condition: { field: 'nps', op: 'lte', value: 3 },
        severity: 'critical',
        routing: [{ to: 'person', owner: 'ann@example.com' }],
      }),
    );
    expect(replaced).toEqual({
      id: detractor.id,
      name: 'Strong detractor',
      description: null,
      condition: { field: 'nps', op: 'lte', value: 3 },
      kinds: ['feedback'],
      severity: 'critical',
      routing: [{ to: 'person', owner: 'ann@example.com' }],
      maxAgeHours: 168,
      active: true,
      createdAt: detractor.createdAt,
      updatedAt: expect.any(String),
    });
    expect(Date.parse(replaced.updatedAt)).toBeGreaterThanOrEqual(Date.parse(detractor.updatedAt));

    // DELETE deactivates: 204, and the rule stays listed, inactive.
    const deleted = await t.call('DELETE', `/api/v1/alert-rules/${detractor.id}`);
    expectStatus(deleted, 204);
    expect(deleted.body).toBe('');
    expect(await ok<RuleBody>(t.call('GET', `/api/v1/alert-rules/${detractor.id}`))).toMatchObject({
      name: 'Strong detractor',
      active: false,
    });
    const after = await ok<RuleBody[]>(t.call('GET', '/api/v1/alert-rules'));
    expect(after).toHaveLength(7);
    expect(after.map((rule) => rule.active)).toEqual([false, true, true, true, true, true, true]);

    expectError(await t.call('GET', '/api/v1/alert-rules/999999999'), 404, 'not_found');
    expectError(await t.call('DELETE', '/api/v1/alert-rules/999999999'), 404, 'not_found');
    expectError(
      await t.call('PUT', '/api/v1/alert-rules/999999999', {
        name: 'x',
        condition: DETRACTOR,
        severity: 'low',
      }),
      404,
      'not_found',
    );
    const badId = expectError(await t.call('GET', '/api/v1/alert-rules/abc'), 400, 'validation_failed');
    expect(paths(badId)).toEqual(['params.id']);
  });

  test('invalid alert rules are refused with invalid_rule and every problem with its path', async () => {
    const t = await setup();
    const refuse = async (body: unknown, method: Method = 'POST', url = '/api/v1/alert-rules') =>
      expectError(await t.call(method, url, body), 400, 'invalid_rule');

    // Several problems at once: top-level fields, routing and the condition tree.
    let error = await refuse({
      condition: {
        all: [
          { field: 'nps', op: 'lte', value: 6 },
          { field: 'channel', op: 'eq', value: 'fax' },
        ],
      },
      severity: 'urgent',
      routing: [{ to: 'team' }],
    });
    expect(error.message).toBe('The alert rule is not valid: 4 problems');
    expect(error.details).toEqual([
      { path: 'name', message: 'is required' },
      { path: 'severity', message: 'must be one of low, medium, high, critical; got "urgent"' },
      { path: 'routing[0].team', message: 'is required' },
      {
        path: 'condition.all[1].value',
        message:
          '"fax" is not a known channel; use one of phone, ivr, email, chat, sms, web, app, social, store, mail, video, field, other',
      },
    ]);

    // A misspelled field gets a suggestion.
    error = await refuse({
      name: 'Typo',
      condition: { field: 'nsp', op: 'lte', value: 6 },
      severity: 'high',
    });
    expect(error.message).toBe('The alert rule is not valid: 1 problem');
    expect(error.details).toEqual([
      { path: 'condition.field', message: '"nsp" is not a known field; did you mean nps?' },
    ]);

    // Every problem of a condition tree, each at its own path.
    error = await refuse({
      name: 'Many',
      condition: {
        any: [
          { field: 'NPS', op: 'lte', value: 6 },
          { field: 'nps', op: 'lte', value: 11 },
          { field: 'nps', op: 'contains', value: 'x' },
          { pattern: 'longWait' },
          {},
        ],
        extra: true,
      },
      severity: 'high',
      routing: [{ to: 'person', owner: 'ann@example.com', team: 'billing' }],
    });
    expect(error.details).toEqual([
      { path: 'routing[0].team', message: UNKNOWN_FIELD },
      { path: 'condition.extra', message: 'is not allowed next to "any"' },
      { path: 'condition.any[0].field', message: '"NPS" is not a known field; did you mean nps?' },
      { path: 'condition.any[1].value', message: "must be within nps's scale 0–10, got number 11" },
      {
        path: 'condition.any[2].op',
        message: '"contains" does not apply to nps, a number field; use eq, ne, lt, lte, gt, gte or in',
      },
      { path: 'condition.any[3].overSeconds', message: 'is required' },
      {
        path: 'condition.any[4]',
        message: 'must have one of all, any, not, field or pattern; got an empty object',
      },
    ]);

    // A body that is not an object.
    const raw = await app.inject({
      method: 'POST',
      url: '/api/v1/alert-rules',
      headers: { ...auth(t.ws.keys.admin), 'content-type': 'application/json' },
      payload: '"a rule"',
    });
    error = expectError(raw, 400, 'invalid_rule');
    expect(error.details).toEqual([
      { path: '', message: 'must be an object, got "a rule"' },
      {
        path: 'condition',
        message:
          'must be a condition: {"all": […]}, {"any": […]}, {"not": …}, a field leaf {"field", "op", "value"} or a pattern leaf {"pattern", …}; got nothing',
      },
    ]);

    // An unknown routing step.
    error = await refuse({ name: 'x', condition: DETRACTOR, severity: 'high', routing: [{ to: 'manager' }] });
    expect(error.details).toEqual([
      {
        path: 'routing[0].to',
        message:
          "Invalid discriminator value. Expected 'person' | 'team' | 'touchpointTeam' | 'accountOwner'",
      },
    ]);

    // An unknown top-level key.
    const valid = { name: 'Valid', condition: DETRACTOR, severity: 'high' };
    error = await refuse({ ...valid, priority: 'p1' });
    expect(error.details).toEqual([{ path: 'priority', message: UNKNOWN_FIELD }]);

    // maxAgeHours: positive, at most ten years.
    error = await refuse({ ...valid, maxAgeHours: 0 });
    expect(error.details).toEqual([
      { path: 'maxAgeHours', message: 'must be at least one second (1/3600 hours)' },
    ]);
    error = await refuse({ ...valid, maxAgeHours: 87_601 });
    expect(error.details).toEqual([
      { path: 'maxAgeHours', message: 'must be at most 87600, got number 87601' },
    ]);
    error = await refuse({ ...valid, maxAgeHours: '24' });
    expect(error.details).toEqual([{ path: 'maxAgeHours', message: 'must be a number, got "24"' }]);
    expect((await t.rule({ ...valid, maxAgeHours: 87_600 })).maxAgeHours).toBe(87_600);

    // PUT validates the same way, before looking the rule up.
    const rule = await t.rule();
    error = await refuse({ ...valid, severity: 'urgent' }, 'PUT', `/api/v1/alert-rules/${rule.id}`);
    expect(paths(error)).toEqual(['severity']);
    expect(await ok<RuleBody>(t.call('GET', `/api/v1/alert-rules/${rule.id}`))).toEqual(rule);
  });

  test('a tiny positive maxAgeHours is refused as an invalid rule, not by the database', async () => {
    const t = await setup();
    // 0.0001 hours is positive, so the schema accepts it, but it rounds to 0 stored seconds.
    const res = await t.call('POST', '/api/v1/alert-rules', {
      name: 'Tiny window',
      condition: DETRACTOR,
      severity: 'high',
      maxAgeHours: 0.0001,
    });
    const error = expectError(res, 400);
    expect(error.code).toBe('invalid_rule');
    expect(paths(error)).toEqual(['maxAgeHours']);
  });

  // ------------------------------------------------------------------------------- roles, isolation

  test('roles: read keys read (settings too), write keys only ingest, webhooks and settings changes are admin-only; workspaces are isolated', async () => {
    const t = await setup();
    const rule = await t.rule();
    const playbook = await t.playbook({ name: 'Billing', steps: ['Call the customer'] });
    const webhook = await ok<WebhookBody>(
      t.call('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/a' }),
      201,
    );
    const [caseId] = await openCases(t, ['C-1']);
    const { read, write } = t.ws.keys;

    // Read key: GETs of rules, cases and playbooks.
    for (const url of [
      '/api/v1/alert-rules',
      `/api/v1/alert-rules/${rule.id}`,
      '/api/v1/cases',
      `/api/v1/cases/${caseId}`,
      '/api/v1/cases/recovery',
      '/api/v1/playbooks',
      `/api/v1/playbooks/${playbook.id}`,
      // Everyone who works cases needs the root causes, templates and teams.
      '/api/v1/closed-loop/settings',
    ]) {
      expectStatus(await t.as(read, 'GET', url), 200);
    }
    const ruleBody = { name: 'x', condition: DETRACTOR, severity: 'low' };
    const changes: Array<[Method, string, unknown?]> = [
      ['POST', '/api/v1/alert-rules', ruleBody],
      ['PUT', `/api/v1/alert-rules/${rule.id}`, ruleBody],
      ['DELETE', `/api/v1/alert-rules/${rule.id}`],
      ['PATCH', `/api/v1/cases/${caseId}`, { status: 'in_progress' }],
      ['POST', `/api/v1/cases/${caseId}/notes`, { text: 'hello' }],
      ['PUT', `/api/v1/cases/${caseId}/steps/1`, { done: true }],
      ['POST', `/api/v1/cases/${caseId}/messages`, { channel: 'call', body: 'hi' }],
      ['POST', '/api/v1/playbooks', { name: 'x', steps: ['y'] }],
      ['PUT', `/api/v1/playbooks/${playbook.id}`, { name: 'x', steps: ['y'] }],
      ['DELETE', `/api/v1/playbooks/${playbook.id}`],
      ['POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/b' }],
      ['PATCH', `/api/v1/webhooks/${webhook.id}`, { active: false }],
      ['DELETE', `/api/v1/webhooks/${webhook.id}`],
      ['PUT', '/api/v1/closed-loop/settings', {}],
    ];
    const adminOnlyReads = ['/api/v1/webhooks', `/api/v1/webhooks/${webhook.id}/deliveries`];
    for (const [method, url, body] of changes) {
      const error = expectError(await t.as(read, method, url, body), 403, 'forbidden');
      expect(error.message).toContain('this key has the read role');
    }
    for (const url of adminOnlyReads) expectError(await t.as(read, 'GET', url), 403, 'forbidden');

    // Write key (ingest only): neither reads nor changes of the closed loop.
    for (const [method, url, body] of changes) {
      expectError(await t.as(write, method, url, body), 403, 'forbidden');
    }
    for (const url of [
      '/api/v1/alert-rules',
      '/api/v1/cases',
      `/api/v1/cases/${caseId}`,
      '/api/v1/closed-loop/settings',
      ...adminOnlyReads,
    ]) {
      expectError(await t.as(write, 'GET', url), 403, 'forbidden');
    }
    expectError(await t.as(null, 'GET', '/api/v1/cases'), 401, 'unauthorized');

    // Nothing changed.
    expect(await t.caseOf(caseId)).toMatchObject({ status: 'open', owner: null });
    expect(await ok<RuleBody>(t.call('GET', `/api/v1/alert-rules/${rule.id}`))).toEqual(rule);

    // Another workspace's admin key sees none of it.
    const other = await setup();
    const notFound: Array<[Method, string, unknown?]> = [
      ['GET', `/api/v1/alert-rules/${rule.id}`],
      ['PUT', `/api/v1/alert-rules/${rule.id}`, ruleBody],
      ['DELETE', `/api/v1/alert-rules/${rule.id}`],
      ['GET', `/api/v1/cases/${caseId}`],
      ['PATCH', `/api/v1/cases/${caseId}`, { status: 'in_progress' }],
      ['POST', `/api/v1/cases/${caseId}/notes`, { text: 'hello' }],
      ['PUT', `/api/v1/cases/${caseId}/steps/1`, { done: true }],
      ['POST', `/api/v1/cases/${caseId}/messages`, { channel: 'call', body: 'hi' }],
      ['GET', `/api/v1/playbooks/${playbook.id}`],
      ['PUT', `/api/v1/playbooks/${playbook.id}`, { name: 'x', steps: ['y'] }],
      ['DELETE', `/api/v1/playbooks/${playbook.id}`],
      ['PATCH', `/api/v1/webhooks/${webhook.id}`, { active: false }],
      ['DELETE', `/api/v1/webhooks/${webhook.id}`],
      ['GET', `/api/v1/webhooks/${webhook.id}/deliveries`],
    ];
    for (const [method, url, body] of notFound) {
      expectError(await other.call(method, url, body), 404, 'not_found');
    }
    expect(await ok(other.call('GET', '/api/v1/alert-rules'))).toEqual([]);
    expect(await other.cases()).toEqual({ items: [], nextBefore: null });
    expect(await ok(other.call('GET', '/api/v1/playbooks'))).toEqual([]);
    expect(await ok(other.call('GET', '/api/v1/webhooks'))).toEqual([]);
    expect(await ok<RecoveryReport>(other.call('GET', '/api/v1/cases/recovery'))).toMatchObject({
      rows: [],
      total: { closed: 0 },
    });

    // …and the first workspace's things are untouched.
    expect(await t.caseOf(caseId)).toMatchObject({ status: 'open', history: [{ type: 'opened' }] });
    expect(await ok<PlaybookBody>(t.call('GET', `/api/v1/playbooks/${playbook.id}`))).toMatchObject({
      active: true,
    });
    expect(await ok<WebhookBody[]>(t.call('GET', '/api/v1/webhooks'))).toMatchObject([{ active: true }]);
  });

  // ------------------------------------------------------------------------------- cases

  test('case list: every filter, breached flags and paging', async () => {
    const t = await setup();
    await t.settings({
      teams: { billing: { members: ['ann@example.com'] } },
      sla: { ...DEFAULT_SLA, critical: { firstResponseMinutes: 1, resolveMinutes: 600 } },
    });
    const detractor = await t.rule({
      severity: 'critical',
      routing: [{ to: 'team', team: 'billing' }],
    });
    const longWait = await t.rule({
      name: 'Long wait',
      condition: { field: 'waitSeconds', op: 'gt', value: 600 },
      severity: 'low',
    });
    const churn = await t.rule({
      name: 'Churn',
      condition: { field: 'eventType', op: 'eq', value: 'churn' },
      severity: 'high',
      routing: [{ to: 'person', owner: 'bob@example.com' }],
    });
    await t.ingest('customers', { externalId: 'C-1', name: 'Carla Jones', value: 20_000 });
    const now = new Date().toISOString();
    // One request each, so the outbox (and the case ids) follow this order: A, B, C, D.
    await t.ingest('feedback', feedback('F-1', 'C-1'));
    await t.ingest('interactions', {
      externalId: 'I-1',
      customerId: 'C-2',
      channel: 'phone',
      touchpoint: 'support',
      occurredAt: now,
      waitSeconds: 900,
    });
    await t.ingest('events', { externalId: 'E-1', customerId: 'C-3', type: 'churn', occurredAt: now });
    await t.ingest('feedback', feedback('F-2', 'C-2', { nps: 0 }));
    // The cases open ten minutes ago: the critical ones' first response (1 minute) is overdue.
    const opened = Date.now() - 10 * MINUTE;
    expect(await t.process(new Date(opened))).toEqual({ processed: 4, alerts: 4, casesOpened: 4 });

    const all = await t.cases();
    expect(all.nextBefore).toBeNull();
    expect(all.items.map((item) => item.title)).toEqual([
      'Detractor: C-2',
      'Churn: C-3',
      'Long wait: C-2',
      'Detractor: Carla Jones',
    ]);
    const [D, C, B, A] = all.items.map((item) => item.id) as [number, number, number, number];
    expect(A < B && B < C && C < D).toBe(true);
    expect(all.items[3]).toEqual({
      id: A,
      title: 'Detractor: Carla Jones',
      status: 'open',
      severity: 'critical',
      priority: 'p1',
      priorityScore: 12,
      owner: 'ann@example.com',
      team: 'billing',
      touchpoint: 'billing',
      channel: 'email',
      rootCause: null,
      rule: { id: detractor.id, name: 'Detractor' },
      playbookId: null,
      customer: { externalId: 'C-1', name: 'Carla Jones' },
      alertCount: 1,
      lastAlertAt: iso(opened),
      sla: {
        firstResponseDueAt: iso(opened + MINUTE),
        resolveDueAt: iso(opened + 600 * MINUTE),
        firstResponseAt: null,
        firstResponseBreached: true,
        resolveBreached: false,
      },
      escalationLevel: 0,
      escalatedAt: null,
      resolvedAt: null,
      closedAt: null,
      recovery: null,
      recoveryReason: null,
      recoveryDecidedAt: null,
      allowedStatuses: ['in_progress', 'customer_contacted', 'resolved'],
      createdAt: iso(opened),
      updatedAt: iso(opened),
    });
    expect(all.items[2]).toMatchObject({
      id: B,
      severity: 'low',
      priority: 'p4',
      priorityScore: 1,
      owner: null,
      team: null,
      touchpoint: 'support',
      channel: 'phone',
      rule: { id: longWait.id, name: 'Long wait' },
      customer: { externalId: 'C-2', name: null },
      sla: {
        firstResponseDueAt: iso(opened + 2880 * MINUTE),
        resolveDueAt: iso(opened + 10080 * MINUTE),
        firstResponseBreached: false,
        resolveBreached: false,
      },
    });
    expect(all.items[1]).toMatchObject({
      id: C,
      severity: 'high',
      priority: 'p3',
      priorityScore: 3,
      owner: 'bob@example.com',
      team: null,
      touchpoint: null,
      channel: null,
      rule: { id: churn.id, name: 'Churn' },
      customer: { externalId: 'C-3', name: null },
    });
    expect(all.items[0]).toMatchObject({
      id: D,
      severity: 'critical',
      priority: 'p3',
      priorityScore: 4,
      owner: 'ann@example.com',
      team: 'billing',
      sla: { firstResponseBreached: true, resolveBreached: false },
    });

    // D gets its first response (late), C is resolved.
    expectStatus(await t.patch(D, { status: 'in_progress' }), 200);
    expectStatus(await t.patch(C, { status: 'resolved' }), 200);

    const ids = async (query: string) => (await t.cases(query)).items.map((item) => item.id);
    expect(await ids('?status=open')).toEqual([B, A]);
    expect(await ids('?status=in_progress')).toEqual([D]);
    expect(await ids('?status=resolved')).toEqual([C]);
    expect(await ids('?status=open,in_progress')).toEqual([D, B, A]);
    expect(await ids(`?status=${encodeURIComponent(' open , resolved ')}`)).toEqual([C, B, A]);
    expect(await ids('?status=active')).toEqual([D, B, A]);
    expect(await ids('?status=closed')).toEqual([]);
    let error = expectError(await t.call('GET', '/api/v1/cases?status=open,bogus'), 400, 'validation_failed');
    expect(error.details).toEqual([
      {
        path: 'query.status',
        message:
          '"bogus" is not a status; use open, in_progress, customer_contacted, resolved, closed or active',
      },
    ]);

    expect(await ids('?owner=ann@example.com')).toEqual([D, A]);
    expect(await ids('?owner=bob@example.com')).toEqual([C]);
    expect(await ids('?owner=none')).toEqual([B]);
    expect(await ids('?owner=nobody@example.com')).toEqual([]);
    expect(await ids('?team=billing')).toEqual([D, A]);
    expect(await ids('?team=support')).toEqual([]);
    expect(await ids(`?ruleId=${detractor.id}`)).toEqual([D, A]);
    expect(await ids(`?ruleId=${longWait.id}`)).toEqual([B]);
    expect(await ids(`?ruleId=${churn.id}`)).toEqual([C]);
    expect(await ids('?customerId=C-2')).toEqual([D, B]);
    expect(await ids('?customerId=C-1')).toEqual([A]);
    expect(await ids('?priority=p1')).toEqual([A]);
    expect(await ids('?priority=p3')).toEqual([D, C]);
    expect(await ids('?priority=p4')).toEqual([B]);
    expect(await ids('?priority=p2')).toEqual([]);
    expect(await ids('?severity=critical')).toEqual([D, A]);
    expect(await ids('?severity=low')).toEqual([B]);
    expect(await ids('?severity=critical&owner=ann@example.com&status=open')).toEqual([A]);

    // breached=true: active cases with an SLA due time passed and still outstanding. A waits for
    // its first response; D got it (late) and its resolution is not due yet; C is resolved.
    const breached = await t.cases('?breached=true');
    expect(breached.items.map((item) => item.id)).toEqual([A]);
    expect(breached.items[0]?.sla).toMatchObject({ firstResponseBreached: true, resolveBreached: false });
    const notBreached = await t.cases('?breached=false');
    expect(notBreached.items.map((item) => item.id)).toEqual([D, C, B]);
    const flags = Object.fromEntries(
      notBreached.items.map((item) => [
        item.id,
        [item.sla.firstResponseBreached, item.sla.resolveBreached, item.sla.firstResponseAt !== null],
      ]),
    );
    expect(flags).toEqual({
      // D's first response came after its due time: the flag keeps that on record.
      [D]: [true, false, true],
      [C]: [false, false, true],
      [B]: [false, false, false],
    });
    error = expectError(await t.call('GET', '/api/v1/cases?breached=yes'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['query.breached']);
    error = expectError(await t.call('GET', '/api/v1/cases?priority=p5'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['query.priority']);
    error = expectError(await t.call('GET', '/api/v1/cases?severity=urgent'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['query.severity']);
    error = expectError(await t.call('GET', '/api/v1/cases?limit=0'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['query.limit']);
    error = expectError(await t.call('GET', '/api/v1/cases?colour=red'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['query.colour']);

    // Paging: no overlap, no gap.
    const page1 = await t.cases('?limit=1');
    expect(page1).toEqual({ items: [expect.objectContaining({ id: D })], nextBefore: D });
    const page2 = await t.cases(`?limit=2&before=${page1.nextBefore}`);
    expect(page2.items.map((item) => item.id)).toEqual([C, B]);
    expect(page2.nextBefore).toBe(B);
    const page3 = await t.cases(`?limit=2&before=${page2.nextBefore}`);
    expect(page3).toEqual({ items: [expect.objectContaining({ id: A })], nextBefore: null });
    const exact = await t.cases('?limit=4');
    expect(exact.nextBefore).toBeNull();
    expect(await ids(`?owner=ann@example.com&limit=1&before=${D}`)).toEqual([A]);
  });

  test('case detail: alerts with their records, playbook steps, messages and the history in order', async () => {
    const t = await setup();
    const rule = await t.rule({ routing: [{ to: 'person', owner: 'ann@example.com' }] });
    const playbook = await t.playbook({
      name: 'Billing recovery',
      match: { touchpoints: ['billing'] },
      steps: ['Call the customer', 'Refund the fee'],
    });
    await t.ingest('customers', {
      externalId: 'C-1',
      name: 'Carla Jones',
      email: 'carla@example.com',
      value: 5000,
    });
    await t.ingest('feedback', [feedback('F-1', 'C-1'), feedback('F-2', 'C-1', { nps: 4 })]);
    expect(await t.process()).toEqual({ processed: 2, alerts: 2, casesOpened: 1 });
    const [listed] = (await t.cases()).items;
    const id = (listed as CaseBody).id;

    // The extremes list links each encounter to the case it raised.
    type Extremes = { items: { feedbackId: string; caseId: number | null }[] };
    const bottom = await ok<Extremes>(t.call('GET', '/api/v1/extremes?box=bottom'));
    expect(bottom.items.map((item) => [item.feedbackId, item.caseId])).toEqual([['F-1', id]]);
    const poor = await ok<Extremes>(t.call('GET', '/api/v1/extremes?box=poor'));
    expect(poor.items.map((item) => [item.feedbackId, item.caseId])).toEqual([['F-2', id]]);

    const opened = await t.caseOf(id);
    expect(opened).toMatchObject({
      title: 'Detractor: Carla Jones',
      severity: 'high',
      priority: 'p2',
      priorityScore: 6,
      owner: 'ann@example.com',
      playbookId: playbook.id,
      playbook: { id: playbook.id, name: 'Billing recovery' },
      alertCount: 2,
    });
    expect(opened.alerts).toEqual([
      {
        id: expect.any(Number),
        ruleId: rule.id,
        record: { kind: 'feedback', externalId: 'F-1' },
        severity: 'high',
        occurredAt: expect.any(String),
        raisedAt: expect.any(String),
      },
      {
        id: expect.any(Number),
        ruleId: rule.id,
        record: { kind: 'feedback', externalId: 'F-2' },
        severity: 'high',
        occurredAt: expect.any(String),
        raisedAt: expect.any(String),
      },
    ]);
    expect(opened.steps).toEqual([
      { position: 1, text: 'Call the customer', done: false, doneAt: null, doneBy: null },
      { position: 2, text: 'Refund the fee', done: false, doneAt: null, doneBy: null },
    ]);
    expect(opened.messages).toEqual([]);

    // One PATCH with status, owner and root cause logs them in that order.
    expectStatus(
      await t.patch(id, {
        status: 'in_progress',
        owner: 'bob@example.com',
        rootCause: 'product',
        actor: 'ann@example.com',
      }),
      200,
    );
    expectStatus(await t.call('POST', `/api/v1/cases/${id}/notes`, { text: 'Refund approved' }), 201);
    expectStatus(
      await t.call('PUT', `/api/v1/cases/${id}/steps/1`, { done: true, actor: 'bob@example.com' }),
      200,
    );
    const message = await ok<MessageBody>(
      t.message(id, { channel: 'call', body: 'Left a voicemail', outcome: 'voicemail' }),
      201,
    );

    const detail = await t.caseOf(id);
    expect(detail).toMatchObject({
      status: 'in_progress',
      owner: 'bob@example.com',
      rootCause: 'product',
      playbookId: playbook.id,
    });
    expect(detail.messages).toEqual([
      {
        id: message.id,
        channel: 'call',
        subject: null,
        body: 'Left a voicemail',
        outcome: 'voicemail',
        status: 'logged',
        error: null,
        actor: t.apiActor,
        occurredAt: message.occurredAt,
      },
    ]);
    expect(detail.steps[0]).toMatchObject({ position: 1, done: true, doneBy: 'bob@example.com' });
    expect(detail.history.map(({ type, actor, detail: d }) => ({ type, actor, detail: d }))).toEqual([
      {
        type: 'opened',
        actor: 'touchpoint',
        // The engine may add more (e.g. the alert's id); these are what the route promises.
        detail: expect.objectContaining({
          ruleId: rule.id,
          severity: 'high',
          priority: 'p2',
          owner: 'ann@example.com',
          team: null,
          routedVia: 'person',
          playbookId: playbook.id,
        }),
      },
      {
        type: 'alert_attached',
        actor: 'touchpoint',
        detail: { alertId: opened.alerts[1]?.id, record: { kind: 'feedback', externalId: 'F-2' } },
      },
      { type: 'status', actor: 'ann@example.com', detail: { from: 'open', to: 'in_progress' } },
      {
        type: 'assigned',
        actor: 'ann@example.com',
        detail: {
          from: { owner: 'ann@example.com', team: null },
          to: { owner: 'bob@example.com', team: null },
        },
      },
      { type: 'root_cause', actor: 'ann@example.com', detail: { from: null, to: 'product' } },
      { type: 'note', actor: t.apiActor, detail: { text: 'Refund approved' } },
      {
        type: 'step',
        actor: 'bob@example.com',
        detail: { position: 1, text: 'Call the customer', done: true },
      },
      {
        type: 'message',
        actor: t.apiActor,
        detail: { messageId: message.id, channel: 'call', status: 'logged' },
      },
    ]);
    const times = detail.history.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));

    expectError(await t.call('GET', '/api/v1/cases/999999999'), 404, 'not_found');
    const error = expectError(await t.call('GET', '/api/v1/cases/0'), 400, 'validation_failed');
    expect(paths(error)).toEqual(['params.id']);
  });

  test('case workflow: every allowed move, the refused ones, first response, resolution and closing', async () => {
    const t = await setup();
    await t.rule();
    const [one, two, three, four] = (await openCases(t, ['C-1', 'C-2', 'C-3', 'C-4'])) as [
      number,
      number,
      number,
      number,
    ];
    const move = async (id: number, status: string) => ok<CaseDetail>(t.patch(id, { status }));
    const refuse = async (id: number, status: string, message: string) => {
      const error = expectError(await t.patch(id, { status }), 409, 'invalid_transition');
      expect(error.message).toBe(message);
    };

    // open → in_progress: leaving open is the first response.
    let c = await move(one, 'in_progress');
    expect(c).toMatchObject({
      status: 'in_progress',
      resolvedAt: null,
      closedAt: null,
      recovery: null,
      allowedStatuses: ['customer_contacted', 'resolved'],
    });
    const firstResponse = c.sla.firstResponseAt as string;
    expect(firstResponse).toEqual(expect.any(String));
    expect(firstResponse).toBe(c.updatedAt);
    await refuse(
      one,
      'open',
      'A case that is in_progress cannot become open; it can become customer_contacted or resolved',
    );
    await refuse(
      one,
      'closed',
      'A case that is in_progress cannot become closed; it can become customer_contacted or resolved',
    );
    // in_progress → customer_contacted → in_progress (more work needed).
    c = await move(one, 'customer_contacted');
    expect(c).toMatchObject({ status: 'customer_contacted', allowedStatuses: ['in_progress', 'resolved'] });
    expect(c.sla.firstResponseAt).toBe(firstResponse);
    await refuse(
      one,
      'open',
      'A case that is customer_contacted cannot become open; it can become in_progress or resolved',
    );
    await refuse(
      one,
      'closed',
      'A case that is customer_contacted cannot become closed; it can become in_progress or resolved',
    );
    c = await move(one, 'in_progress');
    expect(c.status).toBe('in_progress');
    // in_progress → resolved sets resolvedAt; reopening clears it.
    c = await move(one, 'resolved');
    expect(c).toMatchObject({
      status: 'resolved',
      closedAt: null,
      allowedStatuses: ['in_progress', 'closed'],
    });
    expect(c.resolvedAt).toBe(c.updatedAt);
    await refuse(
      one,
      'customer_contacted',
      'A case that is resolved cannot become customer_contacted; it can become in_progress or closed',
    );
    await refuse(
      one,
      'open',
      'A case that is resolved cannot become open; it can become in_progress or closed',
    );
    c = await move(one, 'in_progress');
    expect(c).toMatchObject({ status: 'in_progress', resolvedAt: null });
    c = await move(one, 'resolved');
    const resolvedAt = c.resolvedAt as string;
    expect(resolvedAt).toEqual(expect.any(String));
    // resolved → closed: closedAt set, recovery pending, final.
    c = await move(one, 'closed');
    expect(c).toMatchObject({
      status: 'closed',
      resolvedAt,
      closedAt: c.updatedAt,
      recovery: 'pending',
      recoveryReason: null,
      recoveryDecidedAt: null,
      allowedStatuses: [],
    });
    expect(c.sla.firstResponseAt).toBe(firstResponse);
    for (const status of ['in_progress', 'resolved', 'open', 'customer_contacted']) {
      await refuse(one, status, `A case that is closed cannot become ${status}; a closed case is final`);
    }
    // The same status again changes nothing.
    const before = await t.caseOf(one);
    c = await move(one, 'closed');
    expect(c.history).toHaveLength(before.history.length);
    expect(c.updatedAt).toBe(before.updatedAt);
    expect(c.history.filter((entry) => entry.type === 'status').map((entry) => entry.detail)).toEqual([
      { from: 'open', to: 'in_progress' },
      { from: 'in_progress', to: 'customer_contacted' },
      { from: 'customer_contacted', to: 'in_progress' },
      { from: 'in_progress', to: 'resolved' },
      { from: 'resolved', to: 'in_progress' },
      { from: 'in_progress', to: 'resolved' },
      { from: 'resolved', to: 'closed' },
    ]);

    // Closed is final for the owner, the team, the playbook steps and messages (409 case_closed);
    // notes and the root cause may still be added.
    for (const [method, url, body] of [
      ['PATCH', `/api/v1/cases/${one}`, { owner: 'someone@example.com' }],
      ['PATCH', `/api/v1/cases/${one}`, { team: 'billing' }],
      ['PUT', `/api/v1/cases/${one}/steps/1`, { done: true }],
      ['POST', `/api/v1/cases/${one}/messages`, { channel: 'call', body: 'Called again' }],
    ] as const) {
      expectError(await t.call(method, url, body), 409, 'case_closed');
    }
    expect((await ok<CaseDetail>(t.patch(one, { rootCause: 'process' }))).rootCause).toBe('process');
    expect((await t.call('POST', `/api/v1/cases/${one}/notes`, { text: 'Learnt later' })).statusCode).toBe(
      201,
    );

    // open → customer_contacted → resolved → closed.
    c = await move(two, 'customer_contacted');
    expect(c.sla.firstResponseAt).toBe(c.updatedAt);
    c = await move(two, 'resolved');
    c = await move(two, 'closed');
    expect(c).toMatchObject({ status: 'closed', recovery: 'pending' });

    // open → resolved directly: first response and resolution at once.
    c = await move(three, 'resolved');
    expect(c.status).toBe('resolved');
    expect(c.sla.firstResponseAt).toBe(c.resolvedAt);

    // open → closed is refused, and a refused move changes nothing.
    await refuse(
      four,
      'closed',
      'A case that is open cannot become closed; it can become in_progress or customer_contacted or resolved',
    );
    expect(await t.caseOf(four)).toMatchObject({
      status: 'open',
      sla: { firstResponseAt: null },
      history: [{ type: 'opened' }],
    });
    const error = expectError(await t.patch(four, { status: 'done' }), 400, 'validation_failed');
    expect(paths(error)).toEqual(['status']);
  });

  test('case changes: validation, teams, root-cause taxonomy, actor and owner e-mail', async () => {
    const t = await setup();
    await t.settings({ teams: { billing: { members: ['ann@example.com'] } } });
    await t.rule();
    await t.ingest('customers', { externalId: 'C-1', name: 'Carla Jones' });
    const [id] = (await openCases(t, ['C-1'])) as [number];

    // Nothing to change.
    let error = expectError(await t.patch(id, {}), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: '', message: 'give at least one of status, owner, team, rootCause' },
    ]);
    error = expectError(await t.patch(id, { actor: 'ann@example.com' }), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: '', message: 'give at least one of status, owner, team, rootCause' },
    ]);
    error = expectError(await t.patch(id, { priority: 'p1' }), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: 'priority', message: UNKNOWN_FIELD },
      { path: '', message: 'give at least one of status, owner, team, rootCause' },
    ]);

    // A root cause outside the taxonomy: refused, and the status in the same change is not applied.
    error = expectError(
      await t.patch(id, { status: 'in_progress', rootCause: 'bogus' }),
      400,
      'validation_failed',
    );
    expect(error.details).toEqual([
      {
        path: 'rootCause',
        message:
          '"bogus" is not in the root-cause taxonomy; use one of process, people, product, policy, system, communication, third_party, customer_expectation, other (PUT /api/v1/closed-loop/settings to change it)',
      },
    ]);
    // A team that is not configured.
    error = expectError(await t.patch(id, { team: 'nowhere' }), 400, 'validation_failed');
    expect(error.details).toEqual([{ path: 'team', message: '"nowhere" is not a team; use one of billing' }]);
    let c = await t.caseOf(id);
    expect(c).toMatchObject({ status: 'open', rootCause: null, team: null, sla: { firstResponseAt: null } });
    expect(c.history.map((entry) => entry.type)).toEqual(['opened']);

    // Root cause from the taxonomy, and back to none.
    c = await ok<CaseDetail>(t.patch(id, { rootCause: 'process' }));
    expect(c.rootCause).toBe('process');
    c = await ok<CaseDetail>(t.patch(id, { rootCause: null, actor: 'lea@example.com' }));
    expect(c.rootCause).toBeNull();
    expect(c.history.at(-1)).toMatchObject({
      type: 'root_cause',
      actor: 'lea@example.com',
      detail: { from: 'process', to: null },
    });

    // A new owner is e-mailed.
    c = await ok<CaseDetail>(t.patch(id, { owner: 'olga@example.com', actor: 'ann@example.com' }));
    expect(c.owner).toBe('olga@example.com');
    expect(c.history.at(-1)).toMatchObject({
      type: 'assigned',
      actor: 'ann@example.com',
      detail: { from: { owner: null, team: null }, to: { owner: 'olga@example.com', team: null } },
    });
    const runtime = { db: database().db, channels };
    expect(await deliverNotifications(runtime, new Date(), { workspaceId: t.ws.id })).toEqual({
      delivered: 1,
      retrying: 0,
      failed: 0,
    });
    const [mail] = await mailsTo('olga@example.com');
    expect(mail?.subject).toBe(`[Touchpoint] Case #${id} was assigned to you`);
    expect(mail?.text).toContain('ann@example.com assigned this case to you.');
    expect(mail?.text).toContain(`Case #${id}: Detractor: Carla Jones`);
    expect(mail?.text).toContain(`http://localhost:3000/app/cases/${id}`);

    // A configured team; the owner stays; the default actor is the API key.
    c = await ok<CaseDetail>(t.patch(id, { team: 'billing' }));
    expect(c).toMatchObject({ owner: 'olga@example.com', team: 'billing' });
    expect(c.history.at(-1)).toEqual({
      at: expect.any(String),
      type: 'assigned',
      actor: t.apiActor,
      detail: {
        from: { owner: 'olga@example.com', team: null },
        to: { owner: 'olga@example.com', team: 'billing' },
      },
    });
    expect(await deliverNotifications(runtime, new Date(), { workspaceId: t.ws.id })).toEqual({
      delivered: 0,
      retrying: 0,
      failed: 0,
    });

    // With notifyOwners off, nobody is e-mailed.
    await t.settings({ teams: { billing: { members: ['ann@example.com'] } }, notifyOwners: false });
    c = await ok<CaseDetail>(t.patch(id, { owner: 'pete@example.com' }));
    expect(c.owner).toBe('pete@example.com');
    expect(await deliverNotifications(runtime, new Date(), { workspaceId: t.ws.id })).toEqual({
      delivered: 0,
      retrying: 0,
      failed: 0,
    });

    // Without teams configured, the message says so.
    const bare = await setup();
    await bare.rule();
    const [bareId] = (await openCases(bare, ['C-9'])) as [number];
    error = expectError(await bare.patch(bareId, { team: 'billing' }), 400, 'validation_failed');
    expect(error.details).toEqual([
      {
        path: 'team',
        message: '"billing" is not a team; use one of (none configured: PUT /api/v1/closed-loop/settings)',
      },
    ]);
  });

  test('sending a case back to the queue (owner null) records the new owner as null in the history', async () => {
    const t = await setup();
    await t.rule({ routing: [{ to: 'person', owner: 'ann@example.com' }] });
    const [id] = (await openCases(t, ['C-1'])) as [number];
    const c = await ok<CaseDetail>(t.patch(id, { owner: null }));
    expect(c.owner).toBeNull();
    expect(c.history.at(-1)).toMatchObject({
      type: 'assigned',
      detail: { from: { owner: 'ann@example.com', team: null }, to: { owner: null, team: null } },
    });
  });

  test('a root cause re-chooses the playbook while no step is checked, not after', async () => {
    const t = await setup();
    await t.rule();
    const general = await t.playbook({
      name: 'Billing',
      match: { touchpoints: ['billing'] },
      steps: ['Call the customer', 'Refund the fee'],
    });
    const system = await t.playbook({
      name: 'Billing system fault',
      match: { touchpoints: ['billing'], rootCauses: ['system'] },
      steps: ['Check the billing system', 'Apologise for the fault', 'Confirm the fix'],
    });
    const [x, y] = (await openCases(t, ['C-1', 'C-2'])) as [number, number];
    const stepTexts = (c: CaseDetail) => c.steps.map((step) => step.text);
    for (const id of [x, y]) {
      const c = await t.caseOf(id);
      expect(c.playbook).toEqual({ id: general.id, name: 'Billing' });
      expect(stepTexts(c)).toEqual(['Call the customer', 'Refund the fee']);
    }

    // No step checked: the more specific playbook takes over, with fresh steps.
    let c = await ok<CaseDetail>(t.patch(x, { rootCause: 'system' }));
    expect(c.playbookId).toBe(system.id);
    expect(c.playbook).toEqual({ id: system.id, name: 'Billing system fault' });
    expect(c.steps).toEqual([
      { position: 1, text: 'Check the billing system', done: false, doneAt: null, doneBy: null },
      { position: 2, text: 'Apologise for the fault', done: false, doneAt: null, doneBy: null },
      { position: 3, text: 'Confirm the fix', done: false, doneAt: null, doneBy: null },
    ]);
    expect(c.history.slice(-2).map(({ type, actor, detail }) => ({ type, actor, detail }))).toEqual([
      { type: 'root_cause', actor: t.apiActor, detail: { from: null, to: 'system' } },
      { type: 'playbook', actor: t.apiActor, detail: { from: general.id, to: system.id } },
    ]);
    // Another root cause rules the specific playbook out again.
    c = await ok<CaseDetail>(t.patch(x, { rootCause: 'process' }));
    expect(c.playbookId).toBe(general.id);
    expect(stepTexts(c)).toEqual(['Call the customer', 'Refund the fee']);

    // A step checked: the playbook stays.
    expectStatus(await t.call('PUT', `/api/v1/cases/${y}/steps/1`, { done: true }), 200);
    c = await ok<CaseDetail>(t.patch(y, { rootCause: 'system' }));
    expect(c.rootCause).toBe('system');
    expect(c.playbookId).toBe(general.id);
    expect(c.steps.map((step) => [step.text, step.done])).toEqual([
      ['Call the customer', true],
      ['Refund the fee', false],
    ]);
    expect(c.history.map((entry) => entry.type)).not.toContain('playbook');
  });

  test('notes and playbook steps', async () => {
    const t = await setup();
    await t.rule();
    await t.playbook({ name: 'Billing', steps: ['Call the customer', 'Refund the fee'] });
    const [id] = (await openCases(t, ['C-1'])) as [number];

    let c = await ok<CaseDetail>(
      t.call('POST', `/api/v1/cases/${id}/notes`, {
        text: '  Customer called back  ',
        actor: 'ann@example.com',
      }),
      201,
    );
    expect(c.history.at(-1)).toEqual({
      at: expect.any(String),
      type: 'note',
      actor: 'ann@example.com',
      detail: { text: 'Customer called back' },
    });
    c = await ok<CaseDetail>(t.call('POST', `/api/v1/cases/${id}/notes`, { text: 'Second note' }), 201);
    expect(c.history.at(-1)).toMatchObject({
      type: 'note',
      actor: t.apiActor,
      detail: { text: 'Second note' },
    });
    // A note is not a first response.
    expect(c).toMatchObject({ status: 'open', sla: { firstResponseAt: null } });
    let error = expectError(
      await t.call('POST', `/api/v1/cases/${id}/notes`, { text: '   ' }),
      400,
      'validation_failed',
    );
    expect(error.details).toEqual([{ path: 'text', message: 'must not be empty' }]);
    error = expectError(await t.call('POST', `/api/v1/cases/${id}/notes`, {}), 400, 'validation_failed');
    expect(error.details).toEqual([{ path: 'text', message: 'is required' }]);
    expectError(await t.call('POST', '/api/v1/cases/999999999/notes', { text: 'x' }), 404, 'not_found');

    c = await ok<CaseDetail>(
      t.call('PUT', `/api/v1/cases/${id}/steps/2`, { done: true, actor: 'bob@example.com' }),
    );
    expect(c.steps).toEqual([
      { position: 1, text: 'Call the customer', done: false, doneAt: null, doneBy: null },
      {
        position: 2,
        text: 'Refund the fee',
        done: true,
        doneAt: expect.any(String),
        doneBy: 'bob@example.com',
      },
    ]);
    expect(c.history.at(-1)).toMatchObject({
      type: 'step',
      actor: 'bob@example.com',
      detail: { position: 2, text: 'Refund the fee', done: true },
    });
    c = await ok<CaseDetail>(t.call('PUT', `/api/v1/cases/${id}/steps/2`, { done: false }));
    expect(c.steps[1]).toEqual({
      position: 2,
      text: 'Refund the fee',
      done: false,
      doneAt: null,
      doneBy: null,
    });
    expect(c.history.at(-1)).toMatchObject({
      type: 'step',
      actor: t.apiActor,
      detail: { position: 2, text: 'Refund the fee', done: false },
    });

    error = expectError(await t.call('PUT', `/api/v1/cases/${id}/steps/3`, { done: true }), 404, 'not_found');
    expect(error.message).toBe(`Case ${id} has no step 3`);
    error = expectError(await t.call('PUT', `/api/v1/cases/${id}/steps/0`, { done: true }), 400);
    expect(paths(error)).toEqual(['params.position']);
    error = expectError(await t.call('PUT', `/api/v1/cases/${id}/steps/1`, {}), 400, 'validation_failed');
    expect(error.details).toEqual([{ path: 'done', message: 'is required' }]);
    expectError(await t.call('PUT', '/api/v1/cases/999999999/steps/1', { done: true }), 404, 'not_found');
  });

  // ------------------------------------------------------------------------------- messages

  test('messages: e-mails from templates or written, their errors, and logged calls', async () => {
    const t = await setup();
    await t.settings({
      messageTemplates: {
        followup: {
          subject: 'About case #{{case.id}}',
          body: 'Dear {{customer.name}},\n\nCase {{ case.id }} ({{case.title}}) is in the hands of {{owner}}. {{unknown}}',
        },
      },
    });
    await t.rule({ routing: [{ to: 'person', owner: 'ann@example.com' }] });
    await t.ingest('customers', { externalId: 'C-1', name: 'Carla Jones', email: 'carla@example.com' });
    const [one, two, three] = (await openCases(t, ['C-1', 'C-2', 'C-3'])) as [number, number, number];

    // A template, its placeholders filled in.
    const sent = await ok<MessageBody>(t.message(one, { channel: 'email', template: 'followup' }), 201);
    const expectedBody = `Dear Carla Jones,\n\nCase ${one} (Detractor: Carla Jones) is in the hands of ann@example.com. {{unknown}}`;
    expect(sent).toEqual({
      id: expect.any(Number),
      channel: 'email',
      subject: `About case #${one}`,
      body: expectedBody,
      outcome: null,
      status: 'sent',
      error: null,
      actor: t.apiActor,
      occurredAt: expect.any(String),
    });
    const [mail] = await mailsTo('carla@example.com');
    expect(mail?.subject).toBe(`About case #${one}`);
    expect(mail?.text?.trim()).toBe(expectedBody);
    let c = await t.caseOf(one);
    expect(c).toMatchObject({ status: 'customer_contacted', sla: { firstResponseAt: sent.occurredAt } });
    expect(c.history.slice(-2).map(({ type, detail }) => ({ type, detail }))).toEqual([
      { type: 'status', detail: { from: 'open', to: 'customer_contacted' } },
      { type: 'message', detail: { messageId: sent.id, channel: 'email', status: 'sent' } },
    ]);

    // Written: subject and body, placeholders filled in too.
    const written = await ok<MessageBody>(
      t.message(one, {
        channel: 'email',
        subject: 'Your refund, {{customer.name}}',
        body: 'The refund for case {{case.id}} is on its way.',
        actor: 'ann@example.com',
      }),
      201,
    );
    expect(written).toMatchObject({
      subject: 'Your refund, Carla Jones',
      body: `The refund for case ${one} is on its way.`,
      status: 'sent',
      actor: 'ann@example.com',
    });
    const mails = await mailsTo('carla@example.com', 2);
    expect(mails.map((m) => m.subject)).toEqual([`About case #${one}`, 'Your refund, Carla Jones']);

    // Refused before sending.
    let error = expectError(await t.message(one, { channel: 'email', template: 'apology' }), 400);
    expect(error.details).toEqual([
      { path: 'template', message: '"apology" is not a template; use one of followup' },
    ]);
    error = expectError(await t.message(one, { channel: 'email' }), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: 'template', message: 'give a template, or a subject and a body' },
    ]);
    error = expectError(await t.message(one, { channel: 'email', subject: 'Only a subject' }), 400);
    expect(error.details).toEqual([
      { path: 'template', message: 'give a template, or a subject and a body' },
    ]);
    error = expectError(await t.message(one, { channel: 'call', body: 'x', outcome: 'hung_up' }), 400);
    expect(paths(error)).toEqual(['outcome']);
    error = expectError(await t.message(one, { channel: 'fax', body: 'x' }), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: 'channel', message: "Invalid discriminator value. Expected 'email' | 'call'" },
    ]);
    c = await t.caseOf(one);
    expect(c.messages.map((m) => [m.channel, m.status])).toEqual([
      ['email', 'sent'],
      ['email', 'sent'],
    ]);
    expect(mailbox.messages.filter((m) => addresses(m).includes('carla@example.com'))).toHaveLength(2);

    // A customer without an e-mail address: 409; a call instead reaches them.
    error = expectError(await t.message(two, { channel: 'email', template: 'followup' }), 409, 'no_email');
    expect(error.message).toBe(
      `The customer of case ${two} has no e-mail address; log a call instead, or add the address to the customer`,
    );
    const call = await ok<MessageBody>(t.message(two, { channel: 'call', body: 'Talked it through' }), 201);
    expect(call).toEqual({
      id: expect.any(Number),
      channel: 'call',
      subject: null,
      body: 'Talked it through',
      outcome: 'reached',
      status: 'logged',
      error: null,
      actor: t.apiActor,
      occurredAt: expect.any(String),
    });
    c = await t.caseOf(two);
    expect(c).toMatchObject({ status: 'customer_contacted', sla: { firstResponseAt: call.occurredAt } });
    expect(c.messages).toEqual([call]);

    // A call nobody answered: first response, but the status stays.
    const missed = await ok<MessageBody>(
      t.message(three, {
        channel: 'call',
        body: 'No one picked up',
        outcome: 'no_answer',
        actor: 'ann@example.com',
      }),
      201,
    );
    expect(missed).toMatchObject({ outcome: 'no_answer', status: 'logged', actor: 'ann@example.com' });
    c = await t.caseOf(three);
    expect(c).toMatchObject({ status: 'open', sla: { firstResponseAt: missed.occurredAt } });
    expect(c.history.map((entry) => entry.type)).toEqual(['opened', 'message']);
    expect(c.history.at(-1)).toMatchObject({
      actor: 'ann@example.com',
      detail: { messageId: missed.id, channel: 'call', status: 'logged' },
    });

    expectError(await t.message(999_999_999, { channel: 'call', body: 'x' }), 404, 'not_found');
  });

  test('an e-mail that cannot be sent (no SMTP) is kept as failed and answered 502', async () => {
    const t = await setup(noMailApp);
    await t.rule();
    await t.ingest('customers', { externalId: 'C-1', name: 'Dora Diaz', email: 'dora@example.com' });
    const [id] = (await openCases(t, ['C-1'])) as [number];

    const error = expectError(
      await t.message(id, { channel: 'email', template: 'apology' }),
      502,
      'message_not_sent',
    );
    expect(error.message).toBe(
      `The e-mail could not be sent (${SMTP_MISSING}); it is kept on the case as failed. Check SMTP_URL, then send it again`,
    );
    const c = await t.caseOf(id);
    expect(c).toMatchObject({ status: 'open', sla: { firstResponseAt: null } });
    expect(c.messages).toEqual([
      {
        id: expect.any(Number),
        channel: 'email',
        subject: 'We are sorry about your recent experience',
        body: expect.stringMatching(
          /^Dear Dora Diaz,\n\nThank you for telling us about your recent experience\./,
        ),
        outcome: null,
        status: 'failed',
        error: SMTP_MISSING,
        actor: t.apiActor,
        occurredAt: expect.any(String),
      },
    ]);
    expect(c.history.map((entry) => entry.type)).toEqual(['opened', 'message']);
    expect(c.history.at(-1)?.detail).toEqual({
      messageId: c.messages[0]?.id,
      channel: 'email',
      status: 'failed',
      error: SMTP_MISSING,
    });
  });

  // ------------------------------------------------------------------------------- playbooks

  test('playbooks: create, list, get, replace, deactivate and validation', async () => {
    const t = await setup();
    const billing = await t.playbook({
      name: 'Billing recovery',
      description: 'For billing complaints',
      match: { touchpoints: ['billing'], severities: ['high', 'critical'] },
      steps: ['Call the customer', 'Refund the fee'],
    });
    expect(billing).toEqual({
      id: expect.any(Number),
      name: 'Billing recovery',
      description: 'For billing complaints',
      match: { touchpoints: ['billing'], severities: ['high', 'critical'] },
      steps: ['Call the customer', 'Refund the fee'],
      active: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      effectiveness: NO_EFFECT,
    });
    const generic = await t.playbook({ name: 'Generic', steps: ['  Apologise  '] });
    expect(generic).toMatchObject({ description: null, match: {}, steps: ['Apologise'], active: true });

    expect(await ok<PlaybookBody[]>(t.call('GET', '/api/v1/playbooks'))).toEqual([billing, generic]);
    expect(await ok<PlaybookBody>(t.call('GET', `/api/v1/playbooks/${billing.id}`))).toEqual(billing);

    const replaced = await ok<PlaybookBody>(
      t.call('PUT', `/api/v1/playbooks/${generic.id}`, {
        name: 'Prompt customers',
        match: { personalityTypes: ['prompt'], lifecycleStages: ['new', 'current'] },
        steps: ['Apologise', 'Follow up within a day'],
      }),
    );
    expect(replaced).toEqual({
      id: generic.id,
      name: 'Prompt customers',
      description: null,
      match: { personalityTypes: ['prompt'], lifecycleStages: ['new', 'current'] },
      steps: ['Apologise', 'Follow up within a day'],
      active: true,
      createdAt: generic.createdAt,
      updatedAt: expect.any(String),
      effectiveness: NO_EFFECT,
    });

    const deleted = await t.call('DELETE', `/api/v1/playbooks/${generic.id}`);
    expectStatus(deleted, 204);
    expect(deleted.body).toBe('');
    const list = await ok<PlaybookBody[]>(t.call('GET', '/api/v1/playbooks'));
    expect(list.map((p) => [p.id, p.active])).toEqual([
      [billing.id, true],
      [generic.id, false],
    ]);

    // Validation: every problem with its path.
    let error = expectError(
      await t.call('POST', '/api/v1/playbooks', {
        name: '',
        match: { personalityTypes: ['grumpy'], touchpoints: [] },
        steps: [],
      }),
      400,
      'validation_failed',
    );
    expect(error.details).toEqual([
      { path: 'name', message: 'must not be empty' },
      { path: 'match.touchpoints', message: 'must have at least 1 items' },
      {
        path: 'match.personalityTypes[0]',
        message: 'must be one of prompt, relationship, unknown; got "grumpy"',
      },
      { path: 'steps', message: 'must have at least 1 items' },
    ]);
    error = expectError(
      await t.call('POST', '/api/v1/playbooks', { name: 'x', steps: ['y'], match: { colours: ['red'] } }),
      400,
      'validation_failed',
    );
    expect(error.details).toEqual([{ path: 'match.colours', message: UNKNOWN_FIELD }]);
    error = expectError(
      await t.call('POST', '/api/v1/playbooks', {
        name: 'x',
        steps: ['y', '  '],
        match: { severities: ['urgent'] },
      }),
      400,
      'validation_failed',
    );
    expect(paths(error)).toEqual(['match.severities[0]', 'steps[1]']);
    error = expectError(
      await t.call('PUT', `/api/v1/playbooks/${billing.id}`, { name: 'x', steps: [] }),
      400,
      'validation_failed',
    );
    expect(paths(error)).toEqual(['steps']);
    for (const method of ['GET', 'DELETE'] as const) {
      expectError(await t.call(method, '/api/v1/playbooks/999999999'), 404, 'not_found');
    }
    expectError(
      await t.call('PUT', '/api/v1/playbooks/999999999', { name: 'x', steps: ['y'] }),
      404,
      'not_found',
    );
    expect(await ok<PlaybookBody>(t.call('GET', `/api/v1/playbooks/${billing.id}`))).toEqual(billing);
  });

  test('playbook effectiveness counts the cases it was given, resolved and recovered', async () => {
    const t = await setup();
    await t.rule();
    const billing = await t.playbook({
      name: 'Billing',
      match: { touchpoints: ['billing'], severities: ['high'] },
      steps: ['Call the customer'],
    });
    const unused = await t.playbook({ name: 'Unused', match: { touchpoints: ['shop'] }, steps: ['Nothing'] });
    // Opened two hours ago.
    const [one, two] = (await openCases(t, ['C-1', 'C-2'], {}, new Date(Date.now() - 2 * HOUR))) as [
      number,
      number,
    ];
    for (const id of [one, two]) expect((await t.caseOf(id)).playbookId).toBe(billing.id);

    const effectiveness = async (id: number) =>
      (await ok<PlaybookBody>(t.call('GET', `/api/v1/playbooks/${id}`))).effectiveness;
    expect(await effectiveness(billing.id)).toEqual({ ...NO_EFFECT, cases: 2 });

    expectStatus(await t.patch(one, { status: 'resolved' }), 200);
    const afterResolve = await effectiveness(billing.id);
    expect(afterResolve).toEqual({
      cases: 2,
      resolved: 1,
      recovered: 0,
      notRecovered: 0,
      unknown: 0,
      recoveryRate: null,
      medianHoursToResolve: expect.any(Number),
    });
    expect(afterResolve.medianHoursToResolve).toBeCloseTo(2, 1);

    // Closed, and the customer's next feedback (NPS 9: good) says recovered.
    expectStatus(await t.patch(one, { status: 'closed' }), 200);
    await t.ingest(
      'feedback',
      feedback('F-next', 'C-1', { nps: 9, occurredAt: new Date(Date.now() + MINUTE).toISOString() }),
    );
    expect(await decideRecoveries(database().db, new Date(), { workspaceId: t.ws.id })).toBe(1);
    expect(await effectiveness(billing.id)).toEqual({
      cases: 2,
      resolved: 1,
      recovered: 1,
      notRecovered: 0,
      unknown: 0,
      recoveryRate: 1,
      medianHoursToResolve: afterResolve.medianHoursToResolve,
    });
    // Reopening the other one and resolving it later counts it once.
    expectStatus(await t.patch(two, { status: 'resolved' }), 200);
    expectStatus(await t.patch(two, { status: 'in_progress' }), 200);
    expect((await effectiveness(billing.id)).resolved).toBe(1);
    expectStatus(await t.patch(two, { status: 'resolved' }), 200);
    expect((await effectiveness(billing.id)).resolved).toBe(2);
    expect(await effectiveness(unused.id)).toEqual(NO_EFFECT);
    const listed = await ok<PlaybookBody[]>(t.call('GET', '/api/v1/playbooks'));
    expect(listed.map((p) => p.effectiveness.cases)).toEqual([2, 0]);
  });

  // ------------------------------------------------------------------------------- webhooks

  test('webhooks: the secret once, validation, changes, the delivery log, and deleting', async () => {
    const t = await setup();
    const all = await ok<WebhookBody>(
      t.call('POST', '/api/v1/webhooks', { url: 'https://hooks.example.com/cx' }),
      201,
    );
    expect(all).toEqual({
      id: expect.any(Number),
      url: 'https://hooks.example.com/cx',
      events: ALL_EVENTS,
      format: 'json',
      active: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{32}$/),
    });
    const slack = await ok<WebhookBody>(
      t.call('POST', '/api/v1/webhooks', {
        url: 'http://hooks.example.com/slack',
        events: ['case.opened', 'case.escalated'],
        format: 'slack',
      }),
      201,
    );
    expect(slack).toMatchObject({ events: ['case.opened', 'case.escalated'], format: 'slack', active: true });
    expect(slack.secret).not.toBe(all.secret);

    // The list never shows a secret.
    const { secret: _a, ...allListed } = all;
    const { secret: _s, ...slackListed } = slack;
    const listRes = await t.call('GET', '/api/v1/webhooks');
    expectStatus(listRes, 200);
    expect(listRes.json()).toEqual([allListed, slackListed]);
    expect(listRes.body).not.toContain('whsec_');

    // Validation.
    const refuse = async (body: unknown, method: Method = 'POST', url = '/api/v1/webhooks') =>
      expectError(await t.call(method, url, body), 400, 'validation_failed');
    expect((await refuse({ url: 'ftp://hooks.example.com/x' })).details).toEqual([
      { path: 'url', message: 'must be an http(s) URL' },
    ]);
    expect((await refuse({ url: 'not a url' })).details).toEqual([
      { path: 'url', message: 'must be an http(s) URL' },
    ]);
    expect((await refuse({ url: 'https://hooks.example.com/x', events: ['case.deleted'] })).details).toEqual([
      {
        path: 'events[0]',
        message: `must be one of ${ALL_EVENTS.join(', ')}; got "case.deleted"`,
      },
    ]);
    expect((await refuse({ url: 'https://hooks.example.com/x', events: [] })).details).toEqual([
      { path: 'events', message: 'must have at least 1 items' },
    ]);
    expect(
      paths(await refuse({ url: 'ftp://x.example', events: ['nope'], format: 'xml', secret: 'mine' })),
    ).toEqual(['url', 'events[0]', 'format', 'secret']);
    expect(paths(await refuse({}))).toEqual(['url']);

    // PATCH.
    const moved = await ok<WebhookBody>(
      t.call('PATCH', `/api/v1/webhooks/${all.id}`, { url: 'https://hooks.example.com/v2' }),
    );
    expect(moved).toEqual({
      ...allListed,
      url: 'https://hooks.example.com/v2',
      updatedAt: expect.any(String),
    });
    expect(paths(await refuse({ url: 'ftp://x.example' }, 'PATCH', `/api/v1/webhooks/${all.id}`))).toEqual([
      'url',
    ]);
    expect(paths(await refuse({ secret: 'mine' }, 'PATCH', `/api/v1/webhooks/${all.id}`))).toEqual([
      'secret',
    ]);
    expectError(
      await t.call('PATCH', '/api/v1/webhooks/999999999', { url: 'https://hooks.example.com/x' }),
      404,
      'not_found',
    );

    // A case opens: each subscribed webhook gets its deliveries, pending, newest first.
    await t.rule();
    const [caseId] = (await openCases(t, ['C-1'])) as [number];
    const deliveries = async (id: number, query = '') =>
      ok<DeliveryBody[]>(t.call('GET', `/api/v1/webhooks/${id}/deliveries${query}`));
    const pending = (eventType: string) => ({
      id: expect.any(Number),
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      eventType,
      caseId,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: expect.any(String),
      lastStatus: null,
      lastError: null,
      deliveredAt: null,
      createdAt: expect.any(String),
      log: [],
    });
    const log = await deliveries(all.id);
    expect(log).toEqual([pending('case.opened'), pending('alert.raised')]);
    expect((log[0] as DeliveryBody).id).toBeGreaterThan((log[1] as DeliveryBody).id);
    expect(await deliveries(all.id, '?limit=1')).toEqual([pending('case.opened')]);
    expect(await deliveries(slack.id)).toEqual([pending('case.opened')]);
    let error = expectError(await t.call('GET', `/api/v1/webhooks/${all.id}/deliveries?limit=0`), 400);
    expect(paths(error)).toEqual(['query.limit']);
    expectError(await t.call('GET', '/api/v1/webhooks/999999999/deliveries'), 404, 'not_found');

    // DELETE: the webhook is deactivated and its pending deliveries fail.
    const deleted = await t.call('DELETE', `/api/v1/webhooks/${all.id}`);
    expectStatus(deleted, 204);
    expect(deleted.body).toBe('');
    const dropped = {
      status: 'failed',
      nextAttemptAt: null,
      lastError: 'the webhook was deleted',
      deliveredAt: null,
    };
    expect(await deliveries(all.id)).toEqual([
      { ...pending('case.opened'), ...dropped },
      { ...pending('alert.raised'), ...dropped },
    ]);
    expect(await deliveries(slack.id)).toEqual([pending('case.opened')]);
    expect((await ok<WebhookBody[]>(t.call('GET', '/api/v1/webhooks'))).map((w) => [w.id, w.active])).toEqual(
      [
        [all.id, false],
        [slack.id, true],
      ],
    );
    // New events go to the remaining webhook only.
    expectStatus(await t.patch(caseId, { status: 'in_progress' }), 200);
    expect((await deliveries(all.id)).length).toBe(2);
    expect((await deliveries(slack.id)).map((d) => d.eventType)).toEqual(['case.opened']);
    error = expectError(await t.call('DELETE', '/api/v1/webhooks/999999999'), 404, 'not_found');
    expect(error.message).toBe('No webhook 999999999');
  });

  test('PATCH of a webhook changes only the fields given', async () => {
    const t = await setup();
    const hook = await ok<WebhookBody>(
      t.call('POST', '/api/v1/webhooks', {
        url: 'https://hooks.example.com/slack',
        events: ['case.opened'],
        format: 'slack',
        active: false,
      }),
      201,
    );
    expect(hook).toMatchObject({ events: ['case.opened'], format: 'slack', active: false });
    const patched = await ok<WebhookBody>(
      t.call('PATCH', `/api/v1/webhooks/${hook.id}`, { url: 'https://hooks.example.com/new' }),
    );
    expect(patched).toMatchObject({
      url: 'https://hooks.example.com/new',
      events: ['case.opened'],
      format: 'slack',
      active: false,
    });
  });

  /** Delivers every due notification of the workspace (a webhook's one at a time, in order). */
  const deliverAll = async (t: Ctx) => {
    const total = { delivered: 0, retrying: 0, failed: 0 };
    for (let round = 0; round < 20; round++) {
      const done = await deliverNotifications({ db: database().db, channels }, new Date(), {
        workspaceId: t.ws.id,
      });
      if (done.delivered + done.retrying + done.failed === 0) break;
      total.delivered += done.delivered;
      total.retrying += done.retrying;
      total.failed += done.failed;
    }
    return total;
  };

  test('webhook calls reach the receiver signed and in order; the delivery log records each attempt', async () => {
    const receiver = await startReceiver();
    try {
      const t = await setup();
      await t.settings({ notifyOwners: false });
      const hook = await ok<WebhookBody>(
        t.call('POST', '/api/v1/webhooks', {
          url: receiver.url,
          events: ['alert.raised', 'case.opened', 'case.assigned'],
        }),
        201,
      );
      await t.rule();
      const [caseId] = (await openCases(t, ['C-1'])) as [number];
      expectStatus(await t.patch(caseId, { owner: 'olga@example.com' }), 200);
      expect(await deliverAll(t)).toEqual({ delivered: 3, retrying: 0, failed: 0 });

      expect(receiver.calls.map((call) => call.headers['touchpoint-event'])).toEqual([
        'alert.raised',
        'case.opened',
        'case.assigned',
      ]);
      for (const call of receiver.calls) {
        expect(
          verifyWebhook({
            secret: hook.secret as string,
            body: call.body,
            signature: call.headers['touchpoint-signature'] as string,
            timestamp: call.headers['touchpoint-timestamp'] as string,
          }),
        ).toBe(true);
        const event = JSON.parse(call.body) as { id: string; type: string; data: { case: { id: number } } };
        expect(event.id).toBe(call.headers['touchpoint-event-id']);
        expect(event.type).toBe(call.headers['touchpoint-event']);
        expect(event.data.case.id).toBe(caseId);
      }
      const assigned = JSON.parse(receiver.calls[2]?.body ?? '{}') as { data: Json };
      expect(assigned.data.change).toEqual({ from: null, to: 'olga@example.com', by: t.apiActor });

      const log = await ok<DeliveryBody[]>(t.call('GET', `/api/v1/webhooks/${hook.id}/deliveries`));
      expect(log.map((d) => d.eventType)).toEqual(['case.assigned', 'case.opened', 'alert.raised']);
      for (const delivery of log) {
        expect(delivery).toMatchObject({
          caseId,
          status: 'delivered',
          attempts: 1,
          nextAttemptAt: null,
          lastStatus: 200,
          lastError: null,
          deliveredAt: expect.any(String),
          log: [
            {
              attempt: 1,
              at: expect.any(String),
              statusCode: 200,
              error: null,
              durationMs: expect.any(Number),
            },
          ],
        });
      }
    } finally {
      await receiver.close();
    }
  });

  test('the case.assigned event of a team-only change keeps the unchanged owner', async () => {
    const receiver = await startReceiver();
    try {
      const t = await setup();
      await t.settings({ teams: { billing: { members: [] } }, notifyOwners: false });
      await ok(t.call('POST', '/api/v1/webhooks', { url: receiver.url, events: ['case.assigned'] }), 201);
      await t.rule({ routing: [{ to: 'person', owner: 'olga@example.com' }] });
      const [caseId] = (await openCases(t, ['C-1'])) as [number];
      const c = await ok<CaseDetail>(t.patch(caseId, { team: 'billing' }));
      expect(c).toMatchObject({ owner: 'olga@example.com', team: 'billing' });
      expect(await deliverAll(t)).toEqual({ delivered: 1, retrying: 0, failed: 0 });
      const event = JSON.parse(receiver.calls[0]?.body ?? '{}') as { data: Json };
      // The owner did not change: the event must not say it went to nobody.
      expect(event.data.change).toEqual({ from: 'olga@example.com', to: 'olga@example.com', by: t.apiActor });
    } finally {
      await receiver.close();
    }
  });

  // ------------------------------------------------------------------------------- settings

  test('closed-loop settings: defaults, a valid replacement, refused ones, round trip', async () => {
    const t = await setup();
    const defaults = await ok<Json>(t.call('GET', '/api/v1/closed-loop/settings'));
    expect(defaults).toEqual({
      teams: {},
      touchpointTeams: {},
      rootCauses: ROOT_CAUSES,
      sla: DEFAULT_SLA,
      businessHours: null,
      escalateTo: null,
      valueTiers: [1000, 10000],
      recoveryWindowDays: 90,
      notifyOwners: true,
      messageTemplates: {
        apology: {
          subject: 'We are sorry about your recent experience',
          body: expect.stringMatching(/^Dear \{\{customer\.name\}\},/),
        },
        resolved: {
          subject: 'Your issue has been resolved',
          body: expect.stringMatching(/^Dear \{\{customer\.name\}\},/),
        },
      },
    });
    expect(defaults.messageTemplates).toMatchObject({
      apology: { body: expect.stringContaining('{{owner}} will take care of it personally') },
    });

    const put = await t.settings({
      teams: {
        billing: { members: ['ann@example.com', 'bob@example.com'], lead: 'lea@example.com' },
        support: {},
      },
      touchpointTeams: { billing: 'billing' },
      rootCauses: ['billing_error', 'other'],
      businessHours: { timeZone: 'Europe/Berlin', start: '09:00', end: '17:30' },
      escalateTo: 'head@example.com',
      valueTiers: [500, 5000],
      recoveryWindowDays: 30,
      notifyOwners: false,
    });
    const expected = {
      teams: {
        billing: { members: ['ann@example.com', 'bob@example.com'], lead: 'lea@example.com' },
        support: { members: [] },
      },
      touchpointTeams: { billing: 'billing' },
      rootCauses: ['billing_error', 'other'],
      sla: DEFAULT_SLA,
      businessHours: { timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:30' },
      escalateTo: 'head@example.com',
      valueTiers: [500, 5000],
      recoveryWindowDays: 30,
      notifyOwners: false,
      messageTemplates: defaults.messageTemplates,
    };
    expect(put).toEqual(expected);
    expect(await ok<Json>(t.call('GET', '/api/v1/closed-loop/settings'))).toEqual(expected);

    // Refused, every problem with its path; nothing is written.
    const refuse = async (body: unknown) =>
      expectError(await t.call('PUT', '/api/v1/closed-loop/settings', body), 400, 'validation_failed')
        .details;
    expect(
      await refuse({
        businessHours: { timeZone: 'Europe/Berlin', start: '18:00', end: '09:00' },
        valueTiers: [5000, 1000],
        colour: 'blue',
      }),
    ).toEqual([
      { path: 'businessHours.end', message: 'start must be before end' },
      { path: 'valueTiers', message: 'the first tier must be below the second' },
      { path: 'colour', message: UNKNOWN_FIELD },
    ]);
    expect(
      await refuse({ businessHours: { timeZone: 'Mars/Olympus_Mons', start: '09:00', end: '17:00' } }),
    ).toEqual([
      { path: 'businessHours.timeZone', message: 'must be an IANA time zone such as Europe/Berlin' },
    ]);
    expect(
      await refuse({ businessHours: { timeZone: 'UTC', days: [0], start: '07:60', end: '17:00' } }),
    ).toEqual([
      { path: 'businessHours.days[0]', message: 'must be at least 1, got number 0' },
      { path: 'businessHours.start', message: 'must be a time of day as HH:MM (00:00–23:59)' },
    ]);
    expect(await refuse({ sla: { critical: { firstResponseMinutes: 0, resolveMinutes: 600 } } })).toEqual([
      { path: 'sla.low', message: 'is required' },
      { path: 'sla.medium', message: 'is required' },
      { path: 'sla.high', message: 'is required' },
      { path: 'sla.critical.firstResponseMinutes', message: 'must be at least 1, got number 0' },
    ]);
    expect(await refuse({ rootCauses: ['Bad Code'] })).toEqual([
      { path: 'rootCauses[0]', message: 'must be a code of a-z, 0-9, _ . -' },
    ]);
    expect(await refuse({ rootCauses: [] })).toEqual([
      { path: 'rootCauses', message: 'must have at least 1 items' },
    ]);
    expect(await refuse({ recoveryWindowDays: 731 })).toEqual([
      { path: 'recoveryWindowDays', message: 'must be at most 730, got number 731' },
    ]);
    expect(await ok<Json>(t.call('GET', '/api/v1/closed-loop/settings'))).toEqual(expected);

    // An empty body puts every default back.
    expect(await t.settings({})).toEqual(defaults);
    expect(await ok<Json>(t.call('GET', '/api/v1/closed-loop/settings'))).toEqual(defaults);
  });

  // ------------------------------------------------------------------------------- recovery report

  test('recovery report by team, rule, root cause, owner and playbook, within from/to', async () => {
    const t = await setup();
    await t.settings({
      teams: { billing: { members: ['ann@example.com'] }, support: { members: ['sam@example.com'] } },
    });
    const rule = await t.rule({ routing: [{ to: 'team', team: 'billing' }] });
    const playbook = await t.playbook({
      name: 'Billing',
      match: { touchpoints: ['billing'] },
      steps: ['Call'],
    });
    const [one, two, three, open] = (await openCases(t, ['C-1', 'C-2', 'C-3', 'C-4'])) as [
      number,
      number,
      number,
      number,
    ];
    const start = new Date(Date.now() - 1000).toISOString();
    expectStatus(await t.patch(two, { team: 'support', owner: 'sam@example.com' }), 200);
    const causes: Array<[number, string]> = [
      [one, 'process'],
      [two, 'people'],
      [three, 'process'],
    ];
    for (const [id, rootCause] of causes) {
      expectStatus(await t.patch(id, { status: 'resolved', rootCause }), 200);
      expectStatus(await t.patch(id, { status: 'closed' }), 200);
    }
    expectStatus(await t.patch(open, { status: 'resolved', rootCause: 'policy' }), 200);
    const end = new Date(Date.now() + 1000).toISOString();
    // C-1 rates the next encounter good (recovered), C-2 disastrous (not recovered), C-3 says nothing.
    const later = new Date(Date.now() + MINUTE).toISOString();
    await t.ingest('feedback', [
      feedback('F-1-next', 'C-1', { nps: 9, occurredAt: later }),
      feedback('F-2-next', 'C-2', { nps: 1, occurredAt: later }),
    ]);
    expect(await decideRecoveries(database().db, new Date(), { workspaceId: t.ws.id })).toBe(2);
    expect(await t.caseOf(two)).toMatchObject({
      recovery: 'not_recovered',
      recoveryReason: 'next feedback: rated 1',
    });

    const report = (query: string) => ok<RecoveryReport>(t.call('GET', `/api/v1/cases/recovery${query}`));
    const row = (
      key: string | null,
      label: string | null,
      closed: number,
      recovered: number,
      notRecovered: number,
      pending: number,
      recoveryRate: number | null,
    ): RecoveryRow => ({ key, label, closed, recovered, notRecovered, unknown: 0, pending, recoveryRate });
    const total = row(null, 'all', 3, 1, 1, 1, 0.5);

    expect(await report('?by=team')).toEqual({
      by: 'team',
      rows: [row('billing', 'billing', 2, 1, 0, 1, 1), row('support', 'support', 1, 0, 1, 0, 0)],
      total,
    });
    expect(await report('?by=rootCause')).toEqual({
      by: 'rootCause',
      rows: [row('process', 'process', 2, 1, 0, 1, 1), row('people', 'people', 1, 0, 1, 0, 0)],
      total,
    });
    expect(await report('?by=owner')).toEqual({
      by: 'owner',
      rows: [
        row('ann@example.com', 'ann@example.com', 2, 1, 0, 1, 1),
        row('sam@example.com', 'sam@example.com', 1, 0, 1, 0, 0),
      ],
      total,
    });
    const byRule = { by: 'rule', rows: [row(String(rule.id), 'Detractor', 3, 1, 1, 1, 0.5)], total };
    expect(await report('?by=rule')).toEqual(byRule);
    expect(await report('')).toEqual(byRule);
    expect(await report('?by=playbook')).toEqual({
      by: 'playbook',
      rows: [row(String(playbook.id), 'Billing', 3, 1, 1, 1, 0.5)],
      total,
    });

    // from (inclusive) and to (exclusive) bound the closing time.
    expect(await report(`?by=team&from=${start}&to=${end}`)).toMatchObject({ total: { closed: 3 } });
    const none = { by: 'team', rows: [], total: row(null, 'all', 0, 0, 0, 0, null) };
    expect(await report(`?by=team&from=${end}`)).toEqual(none);
    expect(await report(`?by=team&to=${start}`)).toEqual(none);

    let error = expectError(await t.call('GET', '/api/v1/cases/recovery?by=bogus'), 400, 'validation_failed');
    expect(error.details).toEqual([
      { path: 'query.by', message: 'must be one of rule, playbook, team, rootCause, owner; got "bogus"' },
    ]);
    error = expectError(
      await t.call('GET', '/api/v1/cases/recovery?from=yesterday'),
      400,
      'validation_failed',
    );
    expect(paths(error)).toEqual(['query.from']);
  });
});
