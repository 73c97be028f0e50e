import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace } from '../../../test/helpers/workspace.js';
import { createUser } from '../../auth/users.js';
import { processOutbox } from '../../closed-loop/processor.js';
import type { UserRole } from '../../domain/vocabulary.js';

// Which cases people see and work. Agents see and work only the cases they own (others: 404, as if
// they did not exist). Managers read every case and work those of their teams (closed-loop settings:
// team lead or member) and those owned by their teams' people (else 403). Analysts read every case
// and work none. `assigned=me|myTeams` narrows a person's list; API keys cannot use it.

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface CaseBody {
  id: number;
  owner: string | null;
  team: string | null;
  status: string;
  customer: { externalId: string } | null;
}
interface CaseDetail extends CaseBody {
  history: Array<{ type: string; actor: string; detail: Record<string, unknown> }>;
  messages: Array<{ actor: string; channel: string }>;
}

const PASSWORD = 'case access password';

/** The cases of the scenario, by the customer whose bad feedback opened them. */
const CUSTOMERS = ['C-ann', 'C-bob', 'C-carl', 'C-billing', 'C-mia', 'C-queue', 'C-carl-billing'] as const;
type Customer = (typeof CUSTOMERS)[number];

describeEachDatabase('case access by person', (database) => {
  const app = useApp(database);
  const db = () => database().db;

  const inject = (headers: Record<string, string>, method: Method, url: string, payload?: unknown) =>
    app().inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });

  const ok = async <T>(res: Promise<LightMyRequestResponse>, status = 200): Promise<T> => {
    const done = await res;
    expect(done.statusCode, `${done.raw.req.method} ${done.raw.req.url}: ${done.body.slice(0, 500)}`).toBe(
      status,
    );
    return done.json() as T;
  };

  /**
   * A workspace with teams billing (lead mia; members ann, bob) and support (lead sam; member
   * carl), the users mia (manager), ann and carl (agents), ivy (analyst) and ada (admin), and one
   * case per customer:
   *   C-ann: owner ann (written in capitals) · C-bob: owner bob (not a user) · C-carl: owner carl,
   *   team support · C-billing: team billing, no owner · C-mia: owner mia · C-queue: nobody's ·
   *   C-carl-billing: owner carl, team billing.
   */
  const scenario = async () => {
    const ws = await createTestWorkspace(db());
    const tag = randomUUID().slice(0, 8);
    const email = (name: string) => `${name}-${tag}@example.com`;
    const admin = (method: Method, url: string, payload?: unknown) =>
      inject(auth(ws.keys.admin), method, url, payload);

    await ok(
      admin('PUT', '/api/v1/closed-loop/settings', {
        teams: {
          // Settings may spell addresses in other letters: they are still the same people.
          billing: { lead: email('Mia').toUpperCase(), members: [email('ann'), email('bob')] },
          support: { lead: email('sam'), members: [email('carl')] },
        },
        notifyOwners: false,
      }),
    );
    await ok(
      admin('POST', '/api/v1/alert-rules', {
        name: 'Detractor',
        condition: { field: 'nps', op: 'lte', value: 6 },
        severity: 'high',
      }),
      201,
    );
    await ok(
      inject(
        auth(ws.keys.write),
        'POST',
        '/api/v1/feedback',
        CUSTOMERS.map((customerId) => ({
          externalId: `F-${customerId}`,
          customerId,
          source: 'survey',
          touchpoint: 'billing',
          channel: 'email',
          occurredAt: new Date().toISOString(),
          nps: 2,
        })),
      ),
    );
    const processed = await processOutbox(db(), new Date(), { workspaceId: ws.id });
    expect(processed.casesOpened).toBe(CUSTOMERS.length);
    const page = await ok<{ items: CaseBody[] }>(admin('GET', '/api/v1/cases?limit=500'));
    const ids = Object.fromEntries(
      CUSTOMERS.map((customer) => [
        customer,
        page.items.find((c) => c.customer?.externalId === customer)?.id,
      ]),
    ) as Record<Customer, number>;
    for (const customer of CUSTOMERS) expect(ids[customer], customer).toEqual(expect.any(Number));

    const assignments: Array<[Customer, Record<string, string>]> = [
      ['C-ann', { owner: email('ann').toUpperCase() }],
      ['C-bob', { owner: email('bob') }],
      ['C-carl', { owner: email('carl'), team: 'support' }],
      ['C-billing', { team: 'billing' }],
      ['C-mia', { owner: email('mia') }],
      ['C-carl-billing', { owner: email('carl'), team: 'billing' }],
    ];
    for (const [customer, change] of assignments)
      await ok(admin('PATCH', `/api/v1/cases/${ids[customer]}`, change));

    const people: Record<string, UserRole> = {
      mia: 'manager',
      ann: 'agent',
      carl: 'agent',
      ivy: 'analyst',
      ada: 'admin',
    };
    const browsers: Record<
      string,
      (method: Method, url: string, payload?: unknown) => Promise<LightMyRequestResponse>
    > = {};
    for (const [name, role] of Object.entries(people)) {
      await createUser(db(), ws.id, { email: email(name), role, password: PASSWORD });
      const res = await app().inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: email(name), password: PASSWORD },
      });
      expect(res.statusCode, res.body).toBe(200);
      const cookie = `tp_session=${res.cookies.find((c) => c.name === 'tp_session')?.value}`;
      const csrf = (res.json() as { csrfToken: string }).csrfToken;
      browsers[name] = (method, url, payload) =>
        inject({ cookie, ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }) }, method, url, payload);
    }
    const as = (name: string) => browsers[name] as (typeof browsers)[string];

    /** The customers of the cases a person lists (sorted), with an optional query. */
    const listed = async (name: string, query = '') => {
      const res = await ok<{ items: CaseBody[] }>(as(name)('GET', `/api/v1/cases?limit=500${query}`));
      return res.items.map((c) => c.customer?.externalId).sort();
    };
    return { ws, ids, email, admin, as, listed };
  };

  const sorted = (customers: Customer[]) => [...customers].sort();
  const ALL = sorted([...CUSTOMERS]);

  test('an agent lists, reads and works only their own cases; others are 404; the history names them', async () => {
    const t = await scenario();
    const ann = t.as('ann');
    expect(await t.listed('ann')).toEqual(['C-ann']);
    expect(await t.listed('carl')).toEqual(sorted(['C-carl', 'C-carl-billing']));

    const own = await ok<CaseDetail>(ann('GET', `/api/v1/cases/${t.ids['C-ann']}`));
    expect(own.customer?.externalId).toBe('C-ann');
    for (const other of ['C-carl', 'C-bob', 'C-billing', 'C-queue', 'C-carl-billing'] as const) {
      const id = t.ids[other];
      expectError(await ann('GET', `/api/v1/cases/${id}`), 404, 'not_found');
      expectError(await ann('PATCH', `/api/v1/cases/${id}`, { status: 'in_progress' }), 404, 'not_found');
      expectError(await ann('POST', `/api/v1/cases/${id}/notes`, { text: 'not mine' }), 404, 'not_found');
      expectError(await ann('PUT', `/api/v1/cases/${id}/steps/1`, { done: true }), 404, 'not_found');
      expectError(
        await ann('POST', `/api/v1/cases/${id}/messages`, {
          channel: 'call',
          body: 'Called',
          outcome: 'reached',
        }),
        404,
        'not_found',
      );
    }
    // The 404 of someone else's case reads like that of a case that does not exist.
    const missing = expectError(await ann('GET', '/api/v1/cases/999999'), 404, 'not_found');
    const hidden = expectError(await ann('GET', `/api/v1/cases/${t.ids['C-carl']}`), 404, 'not_found');
    expect(hidden.message.replace(/\d+/g, 'N')).toBe(missing.message.replace(/\d+/g, 'N'));

    // Her own case: she works it, and she is the actor whatever `actor` says.
    const worked = await ok<CaseDetail>(
      ann('PATCH', `/api/v1/cases/${t.ids['C-ann']}`, { status: 'in_progress', actor: 'boss@example.com' }),
    );
    expect(worked.status).toBe('in_progress');
    expect(worked.history.at(-1)).toMatchObject({ type: 'status', actor: t.email('ann') });
    const noted = await ok<CaseDetail>(
      ann('POST', `/api/v1/cases/${t.ids['C-ann']}/notes`, { text: 'Called back, waiting for the refund' }),
      201,
    );
    expect(noted.history.at(-1)).toMatchObject({ type: 'note', actor: t.email('ann') });
    const message = await ok<{ actor: string }>(
      ann('POST', `/api/v1/cases/${t.ids['C-ann']}/messages`, {
        channel: 'call',
        body: 'Apologised',
        outcome: 'reached',
      }),
      201,
    );
    expect(message.actor).toBe(t.email('ann'));

    // Nothing happened to the cases she could not reach.
    const carlCase = await ok<CaseDetail>(t.admin('GET', `/api/v1/cases/${t.ids['C-carl']}`));
    expect(carlCase.status).toBe('open');
    expect(carlCase.history.map((h) => h.type)).toEqual(['opened', 'assigned']);

    // Handing her case to someone else: it leaves her view.
    await ok(ann('PATCH', `/api/v1/cases/${t.ids['C-ann']}`, { owner: t.email('carl') }));
    expect(await t.listed('ann')).toEqual([]);
    expectError(await ann('GET', `/api/v1/cases/${t.ids['C-ann']}`), 404, 'not_found');
    expect(await t.listed('carl')).toEqual(sorted(['C-ann', 'C-carl', 'C-carl-billing']));
  });

  test('a manager reads every case and works those of their team and its people; other cases are 403', async () => {
    const t = await scenario();
    const mia = t.as('mia');
    expect(await t.listed('mia')).toEqual(ALL);
    for (const customer of CUSTOMERS) await ok(mia('GET', `/api/v1/cases/${t.ids[customer]}`));

    // Team billing's people (ann, bob, mia herself) and team billing's cases, also carl's there.
    for (const customer of ['C-ann', 'C-bob', 'C-billing', 'C-mia', 'C-carl-billing'] as const) {
      const worked = await ok<CaseDetail>(
        mia('PATCH', `/api/v1/cases/${t.ids[customer]}`, { status: 'in_progress' }),
      );
      expect(worked.history.at(-1), customer).toMatchObject({ type: 'status', actor: t.email('mia') });
      await ok(mia('POST', `/api/v1/cases/${t.ids[customer]}/notes`, { text: `Looked at ${customer}` }), 201);
    }
    // Carl's case of team support, and the unassigned queue: readable, not workable.
    for (const customer of ['C-carl', 'C-queue'] as const) {
      const id = t.ids[customer];
      expectError(await mia('PATCH', `/api/v1/cases/${id}`, { status: 'in_progress' }), 403, 'forbidden');
      expectError(await mia('POST', `/api/v1/cases/${id}/notes`, { text: 'not mine' }), 403, 'forbidden');
      expectError(await mia('PUT', `/api/v1/cases/${id}/steps/1`, { done: true }), 403, 'forbidden');
      expectError(
        await mia('POST', `/api/v1/cases/${id}/messages`, {
          channel: 'call',
          body: 'Called',
          outcome: 'reached',
        }),
        403,
        'forbidden',
      );
      const untouched = await ok<CaseDetail>(mia('GET', `/api/v1/cases/${id}`));
      expect(untouched.status).toBe('open');
    }
  });

  test('an analyst reads every case and works none (403)', async () => {
    const t = await scenario();
    const ivy = t.as('ivy');
    expect(await t.listed('ivy')).toEqual(ALL);
    for (const customer of CUSTOMERS) {
      const id = t.ids[customer];
      await ok(ivy('GET', `/api/v1/cases/${id}`));
      expectError(await ivy('PATCH', `/api/v1/cases/${id}`, { status: 'in_progress' }), 403, 'forbidden');
      expectError(await ivy('POST', `/api/v1/cases/${id}/notes`, { text: 'a thought' }), 403, 'forbidden');
    }
    // An admin user works any case.
    const ada = t.as('ada');
    expect(await t.listed('ada')).toEqual(ALL);
    const worked = await ok<CaseDetail>(
      ada('PATCH', `/api/v1/cases/${t.ids['C-queue']}`, { owner: t.email('ann') }),
    );
    expect(worked.history.at(-1)).toMatchObject({ type: 'assigned', actor: t.email('ada') });
    expect(await t.listed('ann')).toEqual(sorted(['C-ann', 'C-queue']));
  });

  test('assigned=me and assigned=myTeams narrow a person’s list; with an API key → 400', async () => {
    const t = await scenario();
    expect(await t.listed('mia', '&assigned=me')).toEqual(['C-mia']);
    expect(await t.listed('mia', '&assigned=myTeams')).toEqual(
      sorted(['C-ann', 'C-bob', 'C-billing', 'C-mia', 'C-carl-billing']),
    );
    expect(await t.listed('ann', '&assigned=me')).toEqual(['C-ann']);
    // An agent's list stays within their own cases.
    expect(await t.listed('ann', '&assigned=myTeams')).toEqual(['C-ann']);
    expect(await t.listed('carl', '&assigned=myTeams')).toEqual(sorted(['C-carl', 'C-carl-billing']));
    // Nobody's cases, no team.
    expect(await t.listed('ivy', '&assigned=me')).toEqual([]);
    expect(await t.listed('ivy', '&assigned=myTeams')).toEqual([]);
    expect(await t.listed('ada', '&assigned=me')).toEqual([]);
    // Combined with the other filters.
    expect(await t.listed('mia', '&assigned=myTeams&team=billing')).toEqual(
      sorted(['C-billing', 'C-carl-billing']),
    );
    expectError(await t.as('mia')('GET', '/api/v1/cases?assigned=everyone'), 400, 'validation_failed');

    for (const key of [t.ws.keys.admin, t.ws.keys.read]) {
      for (const assigned of ['me', 'myTeams']) {
        const error = expectError(
          await inject(auth(key), 'GET', `/api/v1/cases?assigned=${assigned}`),
          400,
          'validation_failed',
        );
        expect(error.details.map((d) => d.path)).toEqual(['query.assigned']);
      }
    }
    // Without `assigned`, keys list every case.
    const all = await ok<{ items: CaseBody[] }>(
      inject(auth(t.ws.keys.read), 'GET', '/api/v1/cases?limit=500'),
    );
    expect(all.items.map((c) => c.customer?.externalId).sort()).toEqual(ALL);
  });

  test('a manager’s reach follows the team settings as they change', async () => {
    const t = await scenario();
    const mia = t.as('mia');
    const carlCase = `/api/v1/cases/${t.ids['C-carl']}`;
    expectError(await mia('PATCH', carlCase, { status: 'in_progress' }), 403, 'forbidden');
    // Carl moves to billing and ann to support: carl's cases come within mia's reach, ann's leave it.
    await ok(
      t.admin('PUT', '/api/v1/closed-loop/settings', {
        teams: {
          billing: { lead: t.email('mia'), members: [t.email('carl')] },
          support: { lead: t.email('sam'), members: [t.email('ann')] },
        },
        notifyOwners: false,
      }),
    );
    await ok(mia('PATCH', carlCase, { status: 'in_progress' }));
    expectError(
      await mia('PATCH', `/api/v1/cases/${t.ids['C-ann']}`, { status: 'in_progress' }),
      403,
      'forbidden',
    );
    expect(await t.listed('mia', '&assigned=myTeams')).toEqual(
      sorted(['C-carl', 'C-billing', 'C-mia', 'C-carl-billing']),
    );
  });
});
