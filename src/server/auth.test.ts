import { randomBytes } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { expectError, useApp } from '../../test/helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from '../../test/helpers/workspace.js';

type Role = 'admin' | 'write' | 'read';
type Method = 'GET' | 'HEAD' | 'POST' | 'DELETE';

interface Route {
  method: Method;
  /** The route as documented; `:id` is filled with a key id of the workspace. */
  path: string;
  /** Which roles may call it (PRODUCT.md / auth.ts: admin everything, write ingest, read GET). */
  roles: readonly Role[];
  payload?: unknown;
  /** The status an allowed caller gets with the data set up by `setup`. */
  ok: number;
}

const INGEST: Role[] = ['admin', 'write'];
const READ: Role[] = ['admin', 'read'];
const ADMIN: Role[] = ['admin'];

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/customers',
    roles: INGEST,
    payload: { externalId: 'C-1', name: 'Ada' },
    ok: 200,
  },
  {
    method: 'POST',
    path: '/api/v1/interactions',
    roles: INGEST,
    payload: [{ externalId: 'I-1', customerId: 'C-1', channel: 'phone', occurredAt: '2026-03-01T10:00:00Z' }],
    ok: 200,
  },
  {
    method: 'POST',
    path: '/api/v1/feedback',
    roles: INGEST,
    payload: { externalId: 'F-1', customerId: 'C-1', occurredAt: '2026-03-01T10:05:00Z', nps: 9 },
    ok: 200,
  },
  {
    method: 'POST',
    path: '/api/v1/events',
    roles: INGEST,
    payload: { externalId: 'E-1', customerId: 'C-1', type: 'purchase', occurredAt: '2026-03-02', amount: 10 },
    ok: 200,
  },
  { method: 'GET', path: '/api/v1/customers/C-1', roles: READ, ok: 200 },
  { method: 'GET', path: '/api/v1/interactions/I-1', roles: READ, ok: 200 },
  { method: 'GET', path: '/api/v1/feedback/F-1', roles: READ, ok: 200 },
  { method: 'GET', path: '/api/v1/events/E-1', roles: READ, ok: 200 },
  { method: 'HEAD', path: '/api/v1/customers/C-1', roles: READ, ok: 200 },
  { method: 'HEAD', path: '/api/v1/feedback/F-1', roles: READ, ok: 200 },
  { method: 'GET', path: '/api/v1/api-keys', roles: ADMIN, ok: 200 },
  {
    method: 'POST',
    path: '/api/v1/api-keys',
    roles: ADMIN,
    payload: { role: 'read', name: 'probe' },
    ok: 201,
  },
  { method: 'DELETE', path: '/api/v1/api-keys/:id', roles: ADMIN, ok: 200 },
];

const SEED = ROUTES.filter((route) => route.method === 'POST' && route.path !== '/api/v1/api-keys');

const routeOf = (method: Method, path: string): Route => {
  const found = ROUTES.find((route) => route.method === method && route.path === path);
  if (!found) throw new Error(`no route ${method} ${path}`);
  return found;
};

const nameOf = (route: Route) => `${route.method} ${route.path}`;

/** Asserts the one error shape of the contract and returns the error. */

describeEachDatabase('authentication and roles', (database) => {
  const app = useApp(database);

  interface Context {
    ws: TestWorkspace;
    /** A key id of the workspace that the DELETE route may revoke. */
    spareKeyId: number;
  }

  /** A workspace with the records the GET routes read, and a spare key for the DELETE route. */
  const setup = async (): Promise<Context> => {
    const ws = await createTestWorkspace(database().db);
    for (const route of SEED) {
      const res = await call(ws.keys.admin, route, { ws, spareKeyId: 0 });
      expect(res.statusCode, res.body).toBe(200);
    }
    const spare = await app().inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { authorization: `Bearer ${ws.keys.admin}` },
      payload: { role: 'read', name: 'spare' },
    });
    expect(spare.statusCode).toBe(201);
    return { ws, spareKeyId: spare.json().id };
  };

  const call = (
    authorization: string | undefined,
    route: Route,
    ctx: Context,
    options: { raw?: boolean; payload?: string; contentType?: string } = {},
  ) =>
    app().inject({
      method: route.method,
      url: route.path.replace(':id', String(ctx.spareKeyId)),
      headers: {
        ...(authorization === undefined
          ? {}
          : { authorization: options.raw ? authorization : `Bearer ${authorization}` }),
        ...(options.contentType ? { 'content-type': options.contentType } : {}),
      },
      ...(options.payload !== undefined
        ? { payload: options.payload }
        : route.payload !== undefined
          ? { payload: route.payload as InjectOptions['payload'] }
          : {}),
    });

  for (const route of ROUTES) {
    test(`${nameOf(route)}: no Authorization header → 401`, async () => {
      const ctx = await setup();
      expectError(await call(undefined, route, ctx), 401, 'unauthorized');
    });

    test(`${nameOf(route)}: malformed Authorization headers → 401`, async () => {
      const ctx = await setup();
      const key = ctx.ws.keys.admin;
      const malformed = [
        '',
        'Bearer',
        'Bearer ',
        key,
        `Basic ${Buffer.from(`user:${key}`).toString('base64')}`,
        `Token ${key}`,
        `Bearer ${key} extra`,
        `Bearer${key}`,
        `Bearer "${key}"`,
      ];
      for (const header of malformed) {
        const res = await call(header, route, ctx, { raw: true });
        expect(res.statusCode, JSON.stringify(header)).toBe(401);
        expectError(res, 401, 'unauthorized');
      }
    });

    test(`${nameOf(route)}: unknown key → 401`, async () => {
      const ctx = await setup();
      const unknown = [
        `tp_${randomBytes(32).toString('base64url')}`,
        `${ctx.ws.keys.admin}x`,
        ctx.ws.keys.admin.slice(0, -1),
        'sk_live_0123456789abcdef',
      ];
      for (const key of unknown) expectError(await call(key, route, ctx), 401, 'unauthorized');
    });

    test(`${nameOf(route)}: revoked key → 401`, async () => {
      const ctx = await setup();
      // An admin key would be allowed everywhere; once revoked it is refused everywhere.
      const created = await app().inject({
        method: 'POST',
        url: '/api/v1/api-keys',
        headers: { authorization: `Bearer ${ctx.ws.keys.admin}` },
        payload: { role: 'admin', name: 'to revoke' },
      });
      const { id, key } = created.json();
      expect((await call(key, routeOf('GET', '/api/v1/api-keys'), ctx)).statusCode).toBe(200);
      const revoked = await app().inject({
        method: 'DELETE',
        url: `/api/v1/api-keys/${id}`,
        headers: { authorization: `Bearer ${ctx.ws.keys.admin}` },
      });
      expect(revoked.statusCode).toBe(200);
      expectError(await call(key, route, ctx), 401, 'unauthorized');
    });

    for (const role of ['admin', 'write', 'read'] as const) {
      const allowed = route.roles.includes(role);
      test(`${nameOf(route)}: ${role} key → ${allowed ? route.ok : '403'}`, async () => {
        const ctx = await setup();
        const res = await call(ctx.ws.keys[role], route, ctx);
        if (allowed) expect(res.statusCode, res.body.slice(0, 300)).toBe(route.ok);
        else expectError(res, 403, 'forbidden');
      });
    }
  }

  test('the key is checked before the body: no key → 401 and a read key → 403 even for invalid JSON', async () => {
    const ctx = await setup();
    const feedback = routeOf('POST', '/api/v1/feedback');
    const options = { payload: '{"nps": ', contentType: 'application/json' };
    expectError(await call(undefined, feedback, ctx, options), 401, 'unauthorized');
    expectError(await call(ctx.ws.keys.read, feedback, ctx, options), 403, 'forbidden');
    expectError(await call(ctx.ws.keys.write, feedback, ctx, options), 400, 'invalid_json');
    const profile = { ...routeOf('GET', '/api/v1/customers/C-1'), path: '/api/v1/customers/C-1?limit=0' };
    expectError(await call(ctx.ws.keys.write, profile, ctx), 403, 'forbidden');
    expectError(await call(ctx.ws.keys.read, profile, ctx), 400, 'validation_failed');
  });

  test('a refused request writes nothing', async () => {
    const ctx = await setup();
    const customers = routeOf('POST', '/api/v1/customers');
    const payload = JSON.stringify({ externalId: 'C-refused' });
    const options = { payload, contentType: 'application/json' };
    expectError(await call(ctx.ws.keys.read, customers, ctx, options), 403, 'forbidden');
    expectError(await call('tp_unknownunknown', customers, ctx, options), 401, 'unauthorized');
    expectError(await call(undefined, customers, ctx, options), 401, 'unauthorized');
    const res = await call(
      ctx.ws.keys.read,
      { ...routeOf('GET', '/api/v1/customers/C-1'), path: '/api/v1/customers/C-refused' },
      ctx,
    );
    expectError(res, 404, 'not_found');
  });

  test('public: GET /healthz, GET /api/v1/openapi.json and GET /docs need no key, and ignore a bad one', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer tp_not_a_real_key_at_all' },
      { authorization: 'Basic x' },
    ]) {
      const health = await app().inject({ method: 'GET', url: '/healthz', headers });
      expect(health.statusCode).toBe(200);
      expect(health.json()).toMatchObject({ status: 'ok' });

      const openapi = await app().inject({ method: 'GET', url: '/api/v1/openapi.json', headers });
      expect(openapi.statusCode).toBe(200);
      expect(openapi.headers['content-type']).toMatch(/^application\/json/);
      expect(openapi.json().openapi).toMatch(/^3\.1/);

      const docs = await app().inject({ method: 'GET', url: '/docs', headers });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-type']).toMatch(/^text\/html/);
      expect(docs.body).toMatch(/<html/i);
    }
  });

  test('an unknown route → 404 not_found in the error shape, with or without a key', async () => {
    const ws = await createTestWorkspace(database().db);
    for (const headers of [{}, { authorization: `Bearer ${ws.keys.admin}` }]) {
      const res = await app().inject({ method: 'GET', url: '/api/v1/nothing-here', headers });
      expectError(res, 404, 'not_found');
    }
  });
});
