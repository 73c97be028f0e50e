import { randomUUID } from 'node:crypto';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { expectError, useApp } from '../../test/helpers/http.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { createUser } from '../auth/users.js';
import type { UserRole } from '../domain/vocabulary.js';
import type { App } from './app.js';

// The role matrix on every route: each route is called by every kind of caller — no credentials,
// API keys admin / write / read, and people signed in as admin / analyst / manager / agent — and
// the answer must follow the policy written out below (not the grants in auth.ts):
//   people:   admin everything; analyst reads everything; manager reads everything and works cases;
//             agent only cases, the customer view and their own session;
//   API keys: admin everything except the routes of a person's own session; write ingests only;
//             read reads.
// Configuration (API keys, users, webhooks, survey settings, the widget secret, alert rules,
// playbooks, surveys) is read and changed by admins only. Which routes exist is read from the
// app itself, so a new route without an entry here fails the completeness test.

type Level = 'public' | 'session' | 'read' | 'customers' | 'cases' | 'workCases' | 'write' | 'admin';
type Caller =
  | 'none'
  | 'key:admin'
  | 'key:write'
  | 'key:read'
  | 'user:admin'
  | 'user:analyst'
  | 'user:manager'
  | 'user:agent';
type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

const CALLERS: Caller[] = [
  'none',
  'key:admin',
  'key:write',
  'key:read',
  'user:admin',
  'user:analyst',
  'user:manager',
  'user:agent',
];

const PEOPLE: Caller[] = ['user:admin', 'user:analyst', 'user:manager', 'user:agent'];
const READERS: Caller[] = ['key:admin', 'key:read', 'user:admin', 'user:analyst', 'user:manager'];

/** Who may call a route of each level: the policy above. */
const ALLOWED: Record<Level, readonly Caller[]> = {
  public: CALLERS,
  session: PEOPLE,
  read: READERS,
  customers: [...READERS, 'user:agent'],
  cases: [...READERS, 'user:agent'],
  workCases: ['key:admin', 'user:admin', 'user:manager', 'user:agent'],
  write: ['key:admin', 'key:write', 'user:admin'],
  admin: ['key:admin', 'user:admin'],
};

/**
 * Every route of the API with the level the policy gives it (GET stands for HEAD too). Routes
 * under /docs and /app (documentation, dashboard files) are public and checked by samples.
 */
const ROUTES: Record<string, Level> = {
  // people's sign-in and own session
  'POST /api/v1/auth/login': 'public',
  'GET /api/v1/auth/session': 'session',
  'POST /api/v1/auth/logout': 'session',
  'POST /api/v1/auth/password': 'session',
  // users and API keys: configuration
  'GET /api/v1/users': 'admin',
  'POST /api/v1/users': 'admin',
  'PATCH /api/v1/users/:id': 'admin',
  'POST /api/v1/users/:id/password': 'admin',
  'DELETE /api/v1/users/:id': 'admin',
  'GET /api/v1/api-keys': 'admin',
  'POST /api/v1/api-keys': 'admin',
  'DELETE /api/v1/api-keys/:id': 'admin',
  // system
  'GET /': 'public',
  'GET /healthz': 'public',
  'GET /api/v1/openapi.json': 'public',
  // ingest
  'POST /api/v1/customers': 'write',
  'POST /api/v1/interactions': 'write',
  'POST /api/v1/feedback': 'write',
  'POST /api/v1/events': 'write',
  // the customer view
  'GET /api/v1/customers/:externalId': 'customers',
  'GET /api/v1/customers': 'customers',
  'GET /api/v1/interactions/:externalId': 'customers',
  'GET /api/v1/feedback/:externalId': 'customers',
  'GET /api/v1/events/:externalId': 'customers',
  // analytics
  'GET /api/v1/metrics': 'read',
  'GET /api/v1/metrics/export.csv': 'read',
  'GET /api/v1/extremes': 'read',
  // surveys: reading is a read, defining is configuration, inviting and IVR answers come from
  // source systems (ingest), as do opt-outs
  'GET /api/v1/survey-templates': 'read',
  'GET /api/v1/surveys': 'read',
  'POST /api/v1/surveys': 'admin',
  'GET /api/v1/surveys/:id': 'read',
  'PUT /api/v1/surveys/:id': 'admin',
  'PATCH /api/v1/surveys/:id': 'admin',
  'GET /api/v1/surveys/:id/versions/:version': 'read',
  'GET /api/v1/surveys/:id/triggers': 'read',
  'POST /api/v1/surveys/:id/triggers': 'admin',
  'PUT /api/v1/survey-triggers/:id': 'admin',
  'POST /api/v1/surveys/:id/invitations': 'write',
  'GET /api/v1/invitations': 'read',
  'GET /api/v1/invitations/:id/qr.svg': 'read',
  'GET /api/v1/invitations/:id/qr.png': 'read',
  'GET /api/v1/survey-settings': 'admin',
  'PUT /api/v1/survey-settings': 'admin',
  'GET /api/v1/surveys/response-rates': 'read',
  'POST /api/v1/surveys/:id/ivr': 'write',
  'GET /api/v1/surveys/:id/open-link': 'read',
  'GET /api/v1/surveys/:id/qr.svg': 'read',
  'GET /api/v1/surveys/:id/qr.png': 'read',
  'GET /api/v1/widget': 'admin',
  'GET /api/v1/customers/:externalId/opt-outs': 'read',
  'POST /api/v1/customers/:externalId/opt-outs': 'write',
  'DELETE /api/v1/customers/:externalId/opt-outs/:channel': 'write',
  // closed loop: rules, playbooks, webhooks and settings are configuration; everyone who works
  // cases reads the settings (teams, root causes, templates)
  'POST /api/v1/alert-rules': 'admin',
  'GET /api/v1/alert-rules': 'read',
  'GET /api/v1/alert-rules/:id': 'read',
  'PUT /api/v1/alert-rules/:id': 'admin',
  'DELETE /api/v1/alert-rules/:id': 'admin',
  'GET /api/v1/cases': 'cases',
  'GET /api/v1/cases/recovery': 'read',
  'GET /api/v1/cases/:id': 'cases',
  'PATCH /api/v1/cases/:id': 'workCases',
  'POST /api/v1/cases/:id/notes': 'workCases',
  'PUT /api/v1/cases/:id/steps/:position': 'workCases',
  'POST /api/v1/cases/:id/messages': 'workCases',
  'POST /api/v1/playbooks': 'admin',
  'GET /api/v1/playbooks': 'read',
  'GET /api/v1/playbooks/:id': 'read',
  'PUT /api/v1/playbooks/:id': 'admin',
  'DELETE /api/v1/playbooks/:id': 'admin',
  'POST /api/v1/webhooks': 'admin',
  'GET /api/v1/webhooks': 'admin',
  'PATCH /api/v1/webhooks/:id': 'admin',
  'DELETE /api/v1/webhooks/:id': 'admin',
  'GET /api/v1/webhooks/:id/deliveries': 'admin',
  'GET /api/v1/closed-loop/settings': 'cases',
  'PUT /api/v1/closed-loop/settings': 'admin',
  // what respondents and customers' sites reach
  'GET /s/open/:token': 'public',
  'GET /s/:token': 'public',
  'POST /s/:token': 'public',
  'GET /s/:token/score/:score': 'public',
  'GET /s/:token/open.gif': 'public',
  'GET /s/:token/opt-out': 'public',
  'POST /s/:token/opt-out': 'public',
  'GET /widget.js': 'public',
  'OPTIONS /w/:workspace/check': 'public',
  'POST /w/:workspace/check': 'public',
};

/** Public by prefix: the documentation and the dashboard's files (their names change with each build). */
const PUBLIC_PREFIXES = ['/docs', '/app'];
const PUBLIC_SAMPLES = ['/docs', '/docs/json', '/app/', '/app/index.html', '/app/cases/12'];

/** Placeholders for path parameters: nothing of these exists, which is fine (404) for allowed callers. */
const PARAMS: Record<string, string> = {
  id: '999999',
  externalId: 'NO-SUCH-RECORD',
  channel: 'email',
  version: '1',
  position: '1',
  token: 'no-such-token',
  score: '5',
  workspace: 'no-such-workspace',
};

const urlOf = (path: string) =>
  path.replace(/:(\w+)/g, (_match, name: string) => {
    const value = PARAMS[name];
    if (value === undefined) throw new Error(`no placeholder for :${name} in ${path}`);
    return value;
  });

/** The entries of ROUTES with HEAD added for every GET (Fastify answers HEAD with the GET route). */
interface RouteCase {
  method: Method;
  path: string;
  level: Level;
}
const CASES: RouteCase[] = Object.entries(ROUTES).flatMap(([route, level]): RouteCase[] => {
  const [method, path] = route.split(' ') as [Method, string];
  return method === 'GET'
    ? [
        { method, path, level },
        { method: 'HEAD', path, level },
      ]
    : [{ method, path, level }];
});

/**
 * Every route the app registered, from its route tree (`printRoutes({ commonPrefix: false })`:
 * one node per line, indented by four characters per level, with its methods in parentheses).
 */
const registeredRoutes = (app: App): Array<{ method: string; path: string }> => {
  const stack: string[] = [];
  const routes: Array<{ method: string; path: string }> = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const at = line.search(/[├└]── /);
    if (at < 0) continue;
    const match = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line.slice(at + 4));
    if (!match) throw new Error(`cannot read the route line ${JSON.stringify(line)}`);
    stack.length = at / 4;
    stack.push(match[1] as string);
    const path = stack.join('');
    for (const method of (match[2] ?? '').split(',').map((m) => m.trim())) {
      if (method) routes.push({ method, path });
    }
  }
  return routes;
};

const PASSWORD = 'roles test password';

describeEachDatabase('roles on every route', (database) => {
  const app = useApp(database);

  interface Signed {
    cookie: string;
    csrf: string;
  }
  let keys: { admin: string; write: string; read: string };
  const sessions = new Map<UserRole, Signed>();
  const emails = new Map<UserRole, string>();

  const signIn = async (role: UserRole): Promise<Signed> => {
    const res = await app().inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: emails.get(role), password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'tp_session')?.value as string;
    return { cookie, csrf: (res.json() as { csrfToken: string }).csrfToken };
  };

  beforeAll(async () => {
    const ws = await createTestWorkspace(database().db);
    keys = ws.keys;
    for (const role of ['admin', 'analyst', 'manager', 'agent'] as const) {
      const email = `${role}-${randomUUID().slice(0, 8)}@example.com`;
      await createUser(database().db, ws.id, { email, role, password: PASSWORD });
      emails.set(role, email);
      sessions.set(role, await signIn(role));
    }
  });

  const headersOf = (caller: Caller, method: Method, session?: Signed): Record<string, string> => {
    if (caller === 'none') return {};
    const [kind, role] = caller.split(':') as ['key' | 'user', string];
    if (kind === 'key') return { authorization: `Bearer ${keys[role as keyof typeof keys]}` };
    const signed = session ?? (sessions.get(role as UserRole) as Signed);
    return {
      cookie: `tp_session=${signed.cookie}`,
      // Every request that changes something carries the CSRF token, as the dashboard sends it.
      ...(method === 'GET' || method === 'HEAD' ? {} : { 'x-csrf-token': signed.csrf }),
    };
  };

  const send = async (caller: Caller, method: Method, path: string): Promise<LightMyRequestResponse> => {
    // Logging out ends the session: that route gets a session of its own.
    const session =
      path === '/api/v1/auth/logout' && caller.startsWith('user:')
        ? await signIn(caller.slice(5) as UserRole)
        : undefined;
    const withBody = method === 'POST' || method === 'PUT' || method === 'PATCH';
    return app().inject({
      method,
      url: urlOf(path),
      headers: headersOf(caller, method, session),
      ...(withBody ? { payload: {} as InjectOptions['payload'] } : {}),
    });
  };

  const describeRes = (caller: Caller, method: Method, path: string, res: LightMyRequestResponse) =>
    `${caller} ${method} ${path} → ${res.statusCode} ${res.body.slice(0, 300)}`;

  const expectAnswered = (caller: Caller, method: Method, path: string, res: LightMyRequestResponse) => {
    const what = describeRes(caller, method, path, res);
    expect([401, 403], what).not.toContain(res.statusCode);
    // Bad input (an empty body, ids that do not exist) is a 4xx, never a 500.
    expect(res.statusCode, what).not.toBe(500);
  };

  for (const { method, path, level } of CASES) {
    test(`${method} ${path} (${level})`, async () => {
      for (const caller of CALLERS) {
        const res = await send(caller, method, path);
        if (ALLOWED[level].includes(caller)) {
          expectAnswered(caller, method, path, res);
        } else if (caller === 'none') {
          expect(res.statusCode, describeRes(caller, method, path, res)).toBe(401);
          expectError(res, 401, 'unauthorized');
        } else {
          expect(res.statusCode, describeRes(caller, method, path, res)).toBe(403);
          expectError(res, 403, 'forbidden');
        }
      }
    });
  }

  test('the documentation and the dashboard are public', async () => {
    for (const path of PUBLIC_SAMPLES) {
      for (const caller of CALLERS) {
        const res = await send(caller, 'GET', path);
        const what = describeRes(caller, 'GET', path, res);
        expect([401, 403], what).not.toContain(res.statusCode);
        // The dashboard answers 503 "not built" when `npm run build` has not run; nothing else fails.
        if (!(path.startsWith('/app') && res.statusCode === 503))
          expect(res.statusCode, what).toBeLessThan(500);
      }
    }
  });

  test('every registered route has an entry in the role table, and every entry is a registered route', async () => {
    const registered = registeredRoutes(app());
    const keyOf = (method: string, path: string) => `${method === 'HEAD' ? 'GET' : method} ${path}`;
    const missing = registered
      .filter(({ path }) => !PUBLIC_PREFIXES.some((prefix) => path.startsWith(prefix)))
      .map(({ method, path }) => keyOf(method, path))
      .filter((route) => !(route in ROUTES));
    expect([...new Set(missing)], 'routes without an entry in ROUTES').toEqual([]);
    const present = new Set(registered.map(({ method, path }) => `${method} ${path}`));
    const stale = CASES.map(({ method, path }) => `${method} ${path}`).filter((route) => !present.has(route));
    expect(stale, 'entries of ROUTES that are not registered').toEqual([]);

    // The route tree was read right: every documented operation is among the registered routes.
    const doc = (await app().inject({ method: 'GET', url: '/api/v1/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect(documented.length).toBeGreaterThan(50);
    expect(documented.filter((route) => !present.has(route))).toEqual([]);
  });

  test('a person whose role changes gets the new role’s rights at once (the old session ends)', async () => {
    const ws = await createTestWorkspace(database().db);
    const email = `changing-${randomUUID().slice(0, 8)}@example.com`;
    const { user } = await createUser(database().db, ws.id, { email, role: 'agent', password: PASSWORD });
    const login = async () => {
      const res = await app().inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email, password: PASSWORD },
      });
      expect(res.statusCode, res.body).toBe(200);
      return `tp_session=${res.cookies.find((c) => c.name === 'tp_session')?.value}`;
    };
    const metrics = (cookie: string) =>
      app().inject({ method: 'GET', url: '/api/v1/metrics?measures=nps', headers: { cookie } });
    const agentCookie = await login();
    expectError(await metrics(agentCookie), 403, 'forbidden');
    const changed = await app().inject({
      method: 'PATCH',
      url: `/api/v1/users/${user.id}`,
      headers: { authorization: `Bearer ${ws.keys.admin}` },
      payload: { role: 'analyst' },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expectError(await metrics(agentCookie), 401, 'unauthorized');
    const analystCookie = await login();
    expect((await metrics(analystCookie)).statusCode).toBe(200);
  });
});
