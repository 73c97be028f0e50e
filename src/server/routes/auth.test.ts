import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { expect, test } from 'vitest';
import { createPostgresDatabase } from '../../../test/helpers/cli.js';
import {
  copyPgliteTemplate,
  type DatabaseKind,
  describeEachDatabase,
} from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace } from '../../../test/helpers/workspace.js';
import { login, sessionOf } from '../../auth/sessions.js';
import { createUser } from '../../auth/users.js';
import { type Database, openDatabase } from '../../db/index.js';
import type { UserRole } from '../../domain/vocabulary.js';
import { bootstrap } from '../../workspace/bootstrap.js';
import { createWorkspace } from '../../workspace/workspaces.js';
import { buildApp } from '../app.js';

// People signing in: login and its cookie, the session, CSRF, logout, password change, login
// throttling, the users of a workspace (admins), and the first admin created by bootstrap.
// Expected values are written out here from the policy, not read from the code under test.

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Json = Record<string, unknown>;

interface SessionBody {
  user: { id: number; email: string; name: string | null };
  workspace: { id: number; slug: string; name: string };
  role: UserRole;
  permissions: { read: boolean; write: boolean; admin: boolean; workCases: boolean };
  csrfToken: string;
  expiresAt: string;
  workspaces: Array<{ slug: string; name: string; role: UserRole }>;
}

interface UserBody {
  id: number;
  email: string;
  name: string | null;
  role: UserRole;
  createdAt: string;
  lastLoginAt: string | null;
}

/** What each role may do, as the dashboard is told (the policy: see PRODUCT.md / the brief). */
const PERMISSIONS: Record<UserRole, SessionBody['permissions']> = {
  admin: { read: true, write: true, admin: true, workCases: true },
  analyst: { read: true, write: false, admin: false, workCases: false },
  manager: { read: true, write: false, admin: false, workCases: true },
  agent: { read: false, write: false, admin: false, workCases: true },
};

const HOUR = 3600_000;
/** A session lasts at most 7 days from the login, however busy. */
const SESSION_MAX = 7 * 24 * HOUR;

// Failed logins are throttled per e-mail and per client address, in memory for the whole process:
// every test signs in from its own address so that one test's failures never throttle another's.
let addressCount = 0;
const newAddress = () => {
  addressCount += 1;
  return `10.77.${addressCount >> 8}.${addressCount & 255}`;
};

const uniqueEmail = (name: string) => `${name}-${randomUUID().slice(0, 8)}@example.com`;
const PASSWORD = 'a good long password';

/** A database that no test has touched yet (bootstrap only acts on an empty one). */
const freshDatabase = async (kind: DatabaseKind): Promise<{ database: Database; drop(): Promise<void> }> => {
  if (kind === 'postgres') {
    const created = await createPostgresDatabase();
    const database = await openDatabase({ kind: 'server', url: created.url }, { command: 'test' });
    return {
      database,
      drop: async () => {
        await database.close();
        await created.drop();
      },
    };
  }
  const dir = copyPgliteTemplate();
  const database = await openDatabase({ kind: 'embedded', dataDir: dir }, { command: 'test' });
  return {
    database,
    drop: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

describeEachDatabase('sign-in, sessions and users', (database, kind) => {
  const app = useApp(database);

  const db = () => database().db;

  /** A user made directly in the database (the routes that make users are tested on their own). */
  const addUser = async (
    ws: { id: number },
    role: UserRole,
    email = uniqueEmail(role),
    password = PASSWORD,
  ) => {
    const { user } = await createUser(db(), ws.id, { email, role, password, name: `The ${role}` });
    return { ...user, password };
  };

  const loginRequest = (body: Json, remoteAddress: string) =>
    app().inject({ method: 'POST', url: '/api/v1/auth/login', payload: body, remoteAddress });

  const sessionCookie = (res: LightMyRequestResponse) => res.cookies.find((c) => c.name === 'tp_session');

  /** A signed-in browser: its cookie and CSRF token, and requests made with them. */
  const signIn = async (email: string, password: string, remoteAddress = newAddress(), extra: Json = {}) => {
    const res = await loginRequest({ email, password, ...extra }, remoteAddress);
    expect(res.statusCode, res.body).toBe(200);
    const cookie = sessionCookie(res);
    expect(cookie?.value).toBeTruthy();
    const body = res.json() as SessionBody;
    const token = cookie?.value as string;
    return {
      token,
      body,
      csrf: body.csrfToken,
      /** A request as this browser: the cookie, and the CSRF token unless `csrf` says otherwise. */
      call: (method: Method, url: string, payload?: unknown, csrf: string | null = body.csrfToken) =>
        app().inject({
          method,
          url,
          headers: { cookie: `tp_session=${token}`, ...(csrf === null ? {} : { 'x-csrf-token': csrf }) },
          ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
        }),
    };
  };
  type Browser = Awaited<ReturnType<typeof signIn>>;

  const withKey = (key: string, method: Method, url: string, payload?: unknown) =>
    app().inject({
      method,
      url,
      headers: auth(key),
      ...(payload === undefined ? {} : { payload: payload as InjectOptions['payload'] }),
    });

  const sessionStatus = async (browser: Browser) =>
    (await browser.call('GET', '/api/v1/auth/session')).statusCode;

  const usersOf = async (key: string) => {
    const res = await withKey(key, 'GET', '/api/v1/users');
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as { items: UserBody[] }).items;
  };

  // ------------------------------------------------------------------------------- login

  test('login → 200 with an HttpOnly SameSite=Strict session cookie, the CSRF token, role and permissions', async () => {
    const ws = await createTestWorkspace(db());
    for (const role of ['admin', 'analyst', 'manager', 'agent'] as const) {
      const user = await addUser(ws, role);
      const before = Date.now();
      const res = await loginRequest({ email: user.email, password: PASSWORD }, newAddress());
      expect(res.statusCode, res.body).toBe(200);

      const cookie = sessionCookie(res);
      expect(cookie).toMatchObject({ name: 'tp_session', path: '/', httpOnly: true, sameSite: 'Strict' });
      expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie?.maxAge).toBe(12 * 3600);
      // Served over plain http (PUBLIC_URL http://…): a Secure cookie would never come back.
      expect(cookie?.secure).toBeFalsy();

      const body = res.json() as SessionBody;
      expect(body).toEqual({
        user: { id: user.id, email: user.email, name: `The ${role}` },
        workspace: { id: ws.id, slug: ws.slug, name: ws.name },
        role,
        permissions: PERMISSIONS[role],
        csrfToken: expect.any(String),
        expiresAt: expect.any(String),
        workspaces: [{ slug: ws.slug, name: ws.name, role }],
      });
      expect(body.csrfToken.length).toBeGreaterThanOrEqual(24);
      expect(body.csrfToken).not.toBe(cookie?.value);
      const expires = Date.parse(body.expiresAt);
      expect(expires).toBeGreaterThanOrEqual(before + 12 * HOUR - 1000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 12 * HOUR + 1000);

      // The database keeps a hash of the token, never the token itself.
      const rows = await db()
        .selectFrom('user_session')
        .select(['token_hash', 'csrf_token'])
        .where('user_id', '=', user.id)
        .execute();
      expect(rows).toHaveLength(1);
      expect(Buffer.from(rows[0]?.token_hash as Uint8Array).toString('utf8')).not.toContain(
        cookie?.value as string,
      );
      expect(rows[0]?.csrf_token).toBe(body.csrfToken);
    }
    // The last login is recorded.
    const listed = await usersOf(ws.keys.admin);
    expect(listed).toHaveLength(4);
    for (const user of listed) expect(Date.parse(user.lastLoginAt as string)).not.toBeNaN();
  });

  test('behind HTTPS (PUBLIC_URL https://…) the session cookie is also Secure', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'analyst');
    const secureApp = await buildApp({ database: database(), publicUrl: () => 'https://cx.example.com' });
    try {
      const res = await secureApp.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: PASSWORD },
        remoteAddress: newAddress(),
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(sessionCookie(res)).toMatchObject({
        secure: true,
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
      });
    } finally {
      await secureApp.close();
    }
  });

  test('wrong password and unknown e-mail: both 401 invalid_credentials with the same message, no cookie', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'agent');
    const address = newAddress();
    const wrong = await loginRequest({ email: user.email, password: 'not the password' }, address);
    const unknown = await loginRequest({ email: uniqueEmail('nobody'), password: PASSWORD }, address);
    const wrongError = expectError(wrong, 401, 'invalid_credentials');
    const unknownError = expectError(unknown, 401, 'invalid_credentials');
    expect(wrongError.message).toBe(unknownError.message);
    expect(wrongError.message).not.toContain(user.email);
    expect(sessionCookie(wrong)).toBeUndefined();
    expect(sessionCookie(unknown)).toBeUndefined();
    // The right password still works afterwards.
    await signIn(user.email, PASSWORD, address);
  });

  test('login body: missing or extra fields → 400 validation_failed', async () => {
    const address = newAddress();
    for (const body of [
      {},
      { email: 'a@example.com' },
      { password: PASSWORD },
      { email: '', password: PASSWORD },
      { email: 'a@example.com', password: '' },
      { email: 'a@example.com', password: PASSWORD, remember: true },
    ]) {
      expectError(await loginRequest(body, address), 400, 'validation_failed');
    }
  });

  test('the e-mail address is case-insensitive (and trimmed), at creation and at login', async () => {
    const ws = await createTestWorkspace(db());
    const local = `Mixed.Case-${randomUUID().slice(0, 8)}`;
    const created = await withKey(ws.keys.admin, 'POST', '/api/v1/users', {
      email: `  ${local}@Example.COM `,
      role: 'analyst',
      password: PASSWORD,
    });
    expect(created.statusCode, created.body).toBe(201);
    const email = `${local.toLowerCase()}@example.com`;
    expect((created.json() as { user: UserBody }).user.email).toBe(email);
    for (const given of [email, email.toUpperCase(), `${local}@EXAMPLE.com`, `  ${email}  `]) {
      const browser = await signIn(given, PASSWORD);
      expect(browser.body.user.email).toBe(email);
      expect(browser.body.role).toBe('analyst');
    }
    // The same address in other letters is the same user.
    expectError(
      await withKey(ws.keys.admin, 'POST', '/api/v1/users', { email: email.toUpperCase(), role: 'agent' }),
      409,
      'user_exists',
    );
  });

  test('the 11th failure within the window → 429, and then the right password is refused too', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'manager');
    const other = await addUser(ws, 'agent');
    const address = newAddress();
    for (let attempt = 1; attempt <= 10; attempt++) {
      expectError(
        await loginRequest({ email: user.email, password: `wrong ${attempt}` }, address),
        401,
        'invalid_credentials',
      );
    }
    const throttled = expectError(
      await loginRequest({ email: user.email, password: 'wrong 11' }, address),
      429,
      'too_many_attempts',
    );
    expect(throttled.message).toMatch(/minute/);
    expectError(
      await loginRequest({ email: user.email, password: PASSWORD }, address),
      429,
      'too_many_attempts',
    );
    // The address is throttled for every e-mail, and the e-mail from every address.
    expectError(
      await loginRequest({ email: other.email, password: PASSWORD }, address),
      429,
      'too_many_attempts',
    );
    expectError(
      await loginRequest({ email: user.email.toUpperCase(), password: PASSWORD }, newAddress()),
      429,
      'too_many_attempts',
    );
    // Other people from other addresses are not affected; sessions already open stay open.
    const browser = await signIn(other.email, PASSWORD);
    expect(await sessionStatus(browser)).toBe(200);
  });

  test('failures are counted in a 15-minute window: ten failures spread out longer than that do not throttle', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'agent');
    const start = Date.now();
    for (let attempt = 0; attempt < 12; attempt++) {
      // One failure every 2 minutes: never more than 8 within 15 minutes.
      const at = new Date(start + attempt * 2 * 60_000);
      await expect(login(db(), { email: user.email, password: 'wrong one' }, at)).rejects.toMatchObject({
        status: 401,
        code: 'invalid_credentials',
      });
    }
    const { session } = await login(
      db(),
      { email: user.email, password: PASSWORD },
      new Date(start + 24 * 60_000),
    );
    expect(session.userId).toBe(user.id);
  });

  test('a user of two workspaces: the password chooses, `workspace` chooses, the session lists both', async () => {
    const [first, second] = [await createTestWorkspace(db()), await createTestWorkspace(db())];
    const email = uniqueEmail('twice');
    await addUser(first, 'analyst', email, 'password of the first');
    await addUser(second, 'agent', email, 'password of the second');
    const one = await signIn(email, 'password of the first');
    expect(one.body).toMatchObject({ workspace: { id: first.id }, role: 'analyst' });
    const two = await signIn(email, 'password of the second');
    expect(two.body).toMatchObject({ workspace: { id: second.id }, role: 'agent' });
    expect(two.body.workspaces).toEqual([
      { slug: first.slug, name: first.name, role: 'analyst' },
      { slug: second.slug, name: second.name, role: 'agent' },
    ]);
    // The same password in both: the oldest workspace, unless `workspace` names one.
    const shared = uniqueEmail('shared');
    await addUser(first, 'manager', shared);
    await addUser(second, 'admin', shared);
    expect((await signIn(shared, PASSWORD)).body.workspace.id).toBe(first.id);
    const chosen = await signIn(shared, PASSWORD, newAddress(), { workspace: second.slug });
    expect(chosen.body).toMatchObject({ workspace: { id: second.id }, role: 'admin' });
    // Another workspace's password does not open this one.
    expectError(
      await loginRequest({ email, password: 'password of the second', workspace: first.slug }, newAddress()),
      401,
      'invalid_credentials',
    );
  });

  // ------------------------------------------------------------------------------- session, CSRF, logout

  test('GET /api/v1/auth/session: with the cookie 200, without or with a bad one 401, with an API key 403', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'manager');
    const browser = await signIn(user.email, PASSWORD);
    const res = await browser.call('GET', '/api/v1/auth/session', undefined, null);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ ...browser.body, expiresAt: expect.any(String) });

    expectError(await app().inject({ method: 'GET', url: '/api/v1/auth/session' }), 401, 'unauthorized');
    for (const cookie of [
      'tp_session=',
      'tp_session=nonsense',
      `tp_session=${browser.token.slice(0, -1)}x`,
      `tp_session=${'A'.repeat(43)}`,
      `other=${browser.token}`,
    ]) {
      expectError(
        await app().inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } }),
        401,
        'unauthorized',
      );
    }
    expectError(await withKey(ws.keys.admin, 'GET', '/api/v1/auth/session'), 403, 'forbidden');
  });

  test('a request that changes something with the cookie needs the right X-CSRF-Token (403 csrf_failed), reads do not', async () => {
    const ws = await createTestWorkspace(db());
    const admin = await addUser(ws, 'admin');
    const browser = await signIn(admin.email, PASSWORD);
    const otherBrowser = await signIn(admin.email, PASSWORD);
    expect(otherBrowser.csrf).not.toBe(browser.csrf);

    const newUser = (email: string) => ({ email, role: 'agent', password: PASSWORD });
    const refused = uniqueEmail('refused');
    for (const csrf of [
      null,
      '',
      'wrong',
      browser.csrf.slice(0, -1),
      `${browser.csrf}x`,
      otherBrowser.csrf,
    ]) {
      const res = await browser.call('POST', '/api/v1/users', newUser(refused), csrf);
      expectError(res, 403, 'csrf_failed');
    }
    for (const method of ['PATCH', 'DELETE'] as const) {
      expectError(
        await browser.call(
          method,
          `/api/v1/users/${admin.id}`,
          method === 'PATCH' ? { name: 'X' } : undefined,
          null,
        ),
        403,
        'csrf_failed',
      );
    }
    expectError(await browser.call('POST', '/api/v1/auth/logout', undefined, null), 403, 'csrf_failed');
    // Nothing happened.
    expect((await usersOf(ws.keys.admin)).map((u) => u.email)).toEqual([admin.email]);
    expect(await sessionStatus(browser)).toBe(200);

    // Reads need no token; the right token passes.
    expect((await browser.call('GET', '/api/v1/users', undefined, null)).statusCode).toBe(200);
    const created = await browser.call('POST', '/api/v1/users', newUser(uniqueEmail('accepted')));
    expect(created.statusCode, created.body).toBe(201);
    // An API key needs no CSRF token (it is not sent by browsers on their own).
    expect(
      (await withKey(ws.keys.admin, 'POST', '/api/v1/users', newUser(uniqueEmail('key')))).statusCode,
    ).toBe(201);
  });

  test('logout → 204, clears the cookie and ends that session only', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'agent');
    const browser = await signIn(user.email, PASSWORD);
    const elsewhere = await signIn(user.email, PASSWORD);
    const res = await browser.call('POST', '/api/v1/auth/logout');
    expect(res.statusCode, res.body).toBe(204);
    const cleared = sessionCookie(res);
    expect(cleared?.value).toBe('');
    expect(cleared?.maxAge).toBe(0);
    expectError(await browser.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    expectError(await browser.call('POST', '/api/v1/auth/logout'), 401, 'unauthorized');
    expect(await sessionStatus(elsewhere)).toBe(200);
    const left = await db().selectFrom('user_session').select('id').where('user_id', '=', user.id).execute();
    expect(left).toHaveLength(1);
  });

  test('an expired session is 401; use extends it, up to at most 7 days', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'analyst');
    const browser = await signIn(user.email, PASSWORD);
    await db()
      .updateTable('user_session')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expectError(await browser.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');

    // With the clock moved: idle for more than 12 hours ends it ...
    const start = new Date();
    const idle = await login(db(), { email: user.email, password: PASSWORD }, start);
    expect(await sessionOf(db(), idle.token, new Date(start.getTime() + 11 * HOUR))).not.toBeNull();
    expect(
      await sessionOf(db(), idle.token, new Date(start.getTime() + 11 * HOUR + 12 * HOUR + 1000)),
    ).toBeNull();

    // ... used every 11 hours it lasts, but not beyond 7 days from the login.
    const busy = await login(db(), { email: user.email, password: PASSWORD }, start);
    let at = start.getTime();
    for (;;) {
      at += 11 * HOUR;
      if (at >= start.getTime() + SESSION_MAX) break;
      const session = await sessionOf(db(), busy.token, new Date(at));
      expect(session, `${(at - start.getTime()) / HOUR} hours after login`).not.toBeNull();
      expect(session?.expiresAt.getTime()).toBeLessThanOrEqual(start.getTime() + SESSION_MAX);
    }
    expect(await sessionOf(db(), busy.token, new Date(start.getTime() + SESSION_MAX + 1000))).toBeNull();
  });

  // ------------------------------------------------------------------------------- password change

  test('password change: wrong current 401, short new 400, success 204; other sessions end, this one continues', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'manager');
    const browser = await signIn(user.email, PASSWORD);
    const other = await signIn(user.email, PASSWORD);
    const change = (body: unknown) => browser.call('POST', '/api/v1/auth/password', body);

    expectError(
      await change({ currentPassword: 'not my password', newPassword: 'a brand new password' }),
      401,
      'invalid_credentials',
    );
    const weak = expectError(
      await change({ currentPassword: PASSWORD, newPassword: 'short' }),
      400,
      'weak_password',
    );
    expect(weak.details.map((d) => d.path)).toEqual(['password']);
    expectError(await change({ currentPassword: PASSWORD }), 400, 'validation_failed');
    expectError(await change({ currentPassword: PASSWORD, newPassword: 'x'.repeat(201) }), 400);
    // Refused changes end nothing.
    expect(await sessionStatus(other)).toBe(200);
    // Without the CSRF token: refused.
    expectError(
      await browser.call(
        'POST',
        '/api/v1/auth/password',
        { currentPassword: PASSWORD, newPassword: 'a brand new password' },
        null,
      ),
      403,
      'csrf_failed',
    );

    const res = await change({ currentPassword: PASSWORD, newPassword: 'a brand new password' });
    expect(res.statusCode, res.body).toBe(204);
    expect(await sessionStatus(browser)).toBe(200);
    expectError(await other.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    expectError(
      await loginRequest({ email: user.email, password: PASSWORD }, newAddress()),
      401,
      'invalid_credentials',
    );
    const again = await signIn(user.email, 'a brand new password');
    expect(again.body.user.id).toBe(user.id);
    // An API key has no password to change.
    expectError(
      await withKey(ws.keys.admin, 'POST', '/api/v1/auth/password', {
        currentPassword: PASSWORD,
        newPassword: 'a brand new password',
      }),
      403,
      'forbidden',
    );
  });

  // ------------------------------------------------------------------------------- users (admins)

  test('users CRUD with an admin API key: generated password shown once and usable, list, change, remove', async () => {
    const ws = await createTestWorkspace(db());
    const email = uniqueEmail('new.agent');
    const created = await withKey(ws.keys.admin, 'POST', '/api/v1/users', {
      email,
      name: '  Ann Agent ',
      role: 'agent',
    });
    expect(created.statusCode, created.body).toBe(201);
    const body = created.json() as { user: UserBody; password: string | null };
    expect(body).toEqual({
      user: {
        id: expect.any(Number),
        email,
        name: 'Ann Agent',
        role: 'agent',
        createdAt: expect.any(String),
        lastLoginAt: null,
      },
      password: expect.any(String),
    });
    const generated = body.password as string;
    expect(generated.length).toBeGreaterThanOrEqual(10);
    const browser = await signIn(email, generated);
    expect(browser.body).toMatchObject({ role: 'agent', user: { id: body.user.id, name: 'Ann Agent' } });

    // A given password is not echoed.
    const withPassword = await withKey(ws.keys.admin, 'POST', '/api/v1/users', {
      email: uniqueEmail('given'),
      role: 'analyst',
      password: 'chosen by the admin',
    });
    expect(withPassword.statusCode, withPassword.body).toBe(201);
    expect(withPassword.json().password).toBeNull();
    expect(withPassword.body).not.toContain('chosen by the admin');
    await signIn(withPassword.json().user.email, 'chosen by the admin');

    // The list: both users, in e-mail order, never a password or its hash.
    const listRes = await withKey(ws.keys.admin, 'GET', '/api/v1/users');
    expect(listRes.body).not.toMatch(/scrypt|password/i);
    const listed = (listRes.json() as { items: UserBody[] }).items;
    expect(listed.map((u) => u.email)).toEqual([email, withPassword.json().user.email].sort());
    expect(listed.find((u) => u.email === email)?.lastLoginAt).not.toBeNull();

    // A name change keeps the sessions; a role change ends them.
    const renamed = await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${body.user.id}`, {
      name: 'Ann A.',
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Ann A.', role: 'agent' });
    expect(await sessionStatus(browser)).toBe(200);
    const sameRole = await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${body.user.id}`, {
      role: 'agent',
    });
    expect(sameRole.statusCode).toBe(200);
    expect(await sessionStatus(browser)).toBe(200);
    const promoted = await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${body.user.id}`, {
      role: 'manager',
    });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ id: body.user.id, role: 'manager', name: 'Ann A.' });
    expectError(await browser.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    const again = await signIn(email, generated);
    expect(again.body).toMatchObject({ role: 'manager', permissions: PERMISSIONS.manager });

    // Removing a user ends their sessions and their login.
    const removed = await withKey(ws.keys.admin, 'DELETE', `/api/v1/users/${body.user.id}`);
    expect(removed.statusCode, removed.body).toBe(204);
    expectError(await again.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    expectError(await loginRequest({ email, password: generated }, newAddress()), 401, 'invalid_credentials');
    expect((await usersOf(ws.keys.admin)).map((u) => u.email)).toEqual([withPassword.json().user.email]);
    expectError(await withKey(ws.keys.admin, 'DELETE', `/api/v1/users/${body.user.id}`), 404, 'not_found');
    expectError(
      await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${body.user.id}`, { name: 'x' }),
      404,
      'not_found',
    );
  });

  test('users: duplicate 409, bad e-mail 400, weak password 400, unknown role or field 400', async () => {
    const ws = await createTestWorkspace(db());
    const email = uniqueEmail('dup');
    const create = (payload: Json) => withKey(ws.keys.admin, 'POST', '/api/v1/users', payload);
    expect((await create({ email, role: 'agent' })).statusCode).toBe(201);
    const duplicate = expectError(await create({ email, role: 'admin' }), 409, 'user_exists');
    expect(duplicate.message).toContain(email);

    for (const bad of [
      'not-an-address',
      'two@@example.com',
      'with space@example.com',
      '@example.com',
      'ann@',
    ]) {
      const error = expectError(await create({ email: bad, role: 'agent' }), 400);
      expect(['invalid_email', 'validation_failed']).toContain(error.code);
      expect(error.details.map((d) => d.path)).toEqual(['email']);
    }
    expectError(
      await create({ email: uniqueEmail('weak'), role: 'agent', password: 'short' }),
      400,
      'weak_password',
    );
    expectError(await create({ email: uniqueEmail('role'), role: 'owner' }), 400, 'validation_failed');
    expectError(await create({ email: uniqueEmail('role') }), 400, 'validation_failed');
    expectError(
      await create({ email: uniqueEmail('x'), role: 'agent', admin: true }),
      400,
      'validation_failed',
    );
    const [user] = await usersOf(ws.keys.admin);
    expectError(
      await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${user?.id}`, { role: 'root' }),
      400,
      'validation_failed',
    );
    expectError(
      await withKey(ws.keys.admin, 'PATCH', '/api/v1/users/abc', { name: 'x' }),
      400,
      'validation_failed',
    );
    // Nothing but the first user was created.
    expect((await usersOf(ws.keys.admin)).map((u) => u.email)).toEqual([email]);
  });

  test('users CRUD in an admin session; the last admin can be neither demoted nor removed (409)', async () => {
    const ws = await createTestWorkspace(db());
    const first = await addUser(ws, 'admin');
    const browser = await signIn(first.email, PASSWORD);

    // The only admin: demoting or removing them is refused, also by themselves, also with an API key.
    for (const role of ['analyst', 'manager', 'agent'] as const) {
      expectError(await browser.call('PATCH', `/api/v1/users/${first.id}`, { role }), 409, 'last_admin');
    }
    expectError(await browser.call('DELETE', `/api/v1/users/${first.id}`), 409, 'last_admin');
    expectError(await withKey(ws.keys.admin, 'DELETE', `/api/v1/users/${first.id}`), 409, 'last_admin');
    expect(await sessionStatus(browser)).toBe(200);

    // A second admin, made in the session: then the first may step down ...
    const created = await browser.call('POST', '/api/v1/users', {
      email: uniqueEmail('second.admin'),
      role: 'admin',
    });
    expect(created.statusCode, created.body).toBe(201);
    const second = created.json() as { user: UserBody; password: string };
    const secondBrowser = await signIn(second.user.email, second.password);
    const listed = await browser.call('GET', '/api/v1/users');
    expect((listed.json() as { items: UserBody[] }).items.map((u) => u.role).sort()).toEqual([
      'admin',
      'admin',
    ]);
    const stepDown = await browser.call('PATCH', `/api/v1/users/${first.id}`, { role: 'analyst' });
    expect(stepDown.statusCode, stepDown.body).toBe(200);
    // ... which ends the first's session (the role changed) ...
    expectError(await browser.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    // ... and now the second is the last admin.
    expectError(
      await secondBrowser.call('PATCH', `/api/v1/users/${second.user.id}`, { role: 'agent' }),
      409,
      'last_admin',
    );
    expectError(await secondBrowser.call('DELETE', `/api/v1/users/${second.user.id}`), 409, 'last_admin');
    // The second removes the first (now an analyst), whose sessions end with them.
    const firstAgain = await signIn(first.email, PASSWORD);
    expect(firstAgain.body.role).toBe('analyst');
    const removed = await secondBrowser.call('DELETE', `/api/v1/users/${first.id}`);
    expect(removed.statusCode, removed.body).toBe(204);
    expectError(await firstAgain.call('GET', '/api/v1/auth/session'), 401, 'unauthorized');
    const left = await db().selectFrom('user_session').select('id').where('user_id', '=', first.id).execute();
    expect(left).toEqual([]);
  });

  test("an admin resets a user's password: a new one shown once (or the given one), the old one and the user's sessions end", async () => {
    const ws = await createTestWorkspace(db());
    const agent = await addUser(ws, 'agent');
    const browser = await signIn(agent.email, agent.password);

    const reset = await withKey(ws.keys.admin, 'POST', `/api/v1/users/${agent.id}/password`, {});
    expect(reset.statusCode, reset.body).toBe(200);
    const { password } = reset.json() as { password: string };
    expect(password.length).toBeGreaterThanOrEqual(10);
    expect(await sessionStatus(browser)).toBe(401);
    expectError(await loginRequest({ email: agent.email, password: agent.password }, newAddress()), 401);
    await signIn(agent.email, password);

    // A chosen password is set and not echoed; a weak one is refused; another workspace's user is 404.
    const chosen = await withKey(ws.keys.admin, 'POST', `/api/v1/users/${agent.id}/password`, {
      password: 'a chosen password',
    });
    expect(chosen.json()).toEqual({ password: null });
    await signIn(agent.email, 'a chosen password');
    expectError(
      await withKey(ws.keys.admin, 'POST', `/api/v1/users/${agent.id}/password`, { password: 'short' }),
      400,
      'weak_password',
    );
    const other = await createTestWorkspace(db());
    expectError(await withKey(other.keys.admin, 'POST', `/api/v1/users/${agent.id}/password`, {}), 404);
  });

  test('non-admins cannot manage users', async () => {
    const ws = await createTestWorkspace(db());
    const target = await addUser(ws, 'agent');
    for (const role of ['analyst', 'manager', 'agent'] as const) {
      const user = await addUser(ws, role);
      const browser = await signIn(user.email, PASSWORD);
      expectError(await browser.call('GET', '/api/v1/users'), 403, 'forbidden');
      expectError(
        await browser.call('POST', '/api/v1/users', { email: uniqueEmail('x'), role: 'admin' }),
        403,
        'forbidden',
      );
      // Not even to make themselves admin.
      expectError(
        await browser.call('PATCH', `/api/v1/users/${user.id}`, { role: 'admin' }),
        403,
        'forbidden',
      );
      expectError(await browser.call('DELETE', `/api/v1/users/${target.id}`), 403, 'forbidden');
    }
    for (const key of [ws.keys.read, ws.keys.write]) {
      expectError(await withKey(key, 'GET', '/api/v1/users'), 403, 'forbidden');
      expectError(await withKey(key, 'DELETE', `/api/v1/users/${target.id}`), 403, 'forbidden');
    }
    const roles = (await usersOf(ws.keys.admin)).map((u) => u.role).sort();
    expect(roles).toEqual(['agent', 'agent', 'analyst', 'manager']);
  });

  test("another workspace's admin sees none of these users and cannot change them (404)", async () => {
    const ws = await createTestWorkspace(db());
    const other = await createTestWorkspace(db());
    const admin = await addUser(ws, 'admin');
    const agent = await addUser(ws, 'agent');
    const agentBrowser = await signIn(agent.email, PASSWORD);
    const otherAdmin = await addUser(other, 'admin');
    const otherBrowser = await signIn(otherAdmin.email, PASSWORD);

    expect((await usersOf(other.keys.admin)).map((u) => u.email)).toEqual([otherAdmin.email]);
    const listed = await otherBrowser.call('GET', '/api/v1/users');
    expect((listed.json() as { items: UserBody[] }).items.map((u) => u.id)).toEqual([otherAdmin.id]);
    for (const target of [admin, agent]) {
      expectError(
        await withKey(other.keys.admin, 'PATCH', `/api/v1/users/${target.id}`, { role: 'admin' }),
        404,
        'not_found',
      );
      expectError(await withKey(other.keys.admin, 'DELETE', `/api/v1/users/${target.id}`), 404, 'not_found');
      expectError(
        await otherBrowser.call('PATCH', `/api/v1/users/${target.id}`, { name: 'Mine' }),
        404,
        'not_found',
      );
      expectError(await otherBrowser.call('DELETE', `/api/v1/users/${target.id}`), 404, 'not_found');
    }
    // Untouched: same users, roles and names; the agent's session goes on.
    const mine = await usersOf(ws.keys.admin);
    expect(mine.map((u) => [u.email, u.role, u.name]).sort()).toEqual(
      [
        [admin.email, 'admin', 'The admin'],
        [agent.email, 'agent', 'The agent'],
      ].sort(),
    );
    expect(await sessionStatus(agentBrowser)).toBe(200);
    // The same address may be a user of another workspace too.
    const again = await withKey(other.keys.admin, 'POST', '/api/v1/users', {
      email: agent.email,
      role: 'manager',
    });
    expect(again.statusCode, again.body).toBe(201);
  });

  test('a successful login does not forgive the address its failures on other e-mails (password spraying)', async () => {
    const ws = await createTestWorkspace(db());
    const mine = await addUser(ws, 'agent');
    const address = newAddress();
    const guess = () => loginRequest({ email: uniqueEmail('target'), password: 'Summer2024!' }, address);
    for (let attempt = 1; attempt <= 9; attempt++) expectError(await guess(), 401, 'invalid_credentials');
    // The attacker signs in to an account of their own from the same address ...
    expect((await loginRequest({ email: mine.email, password: PASSWORD }, address)).statusCode).toBe(200);
    // ... which must not wipe the address's count: the 10th failure is the last one allowed.
    expectError(await guess(), 401, 'invalid_credentials');
    expectError(await guess(), 429, 'too_many_attempts');
  });

  // Concurrent requests need a database with several connections (PGlite has one).
  (kind === 'postgres' ? test : () => {})(
    'two admins demoted or removed at the same time: one of them stays admin (409 for the other)',
    async () => {
      for (const method of ['PATCH', 'DELETE'] as const) {
        for (let round = 0; round < 3; round++) {
          const ws = await createTestWorkspace(db());
          const admins = [await addUser(ws, 'admin'), await addUser(ws, 'admin')];
          const results = await Promise.all(
            admins.map((admin) =>
              withKey(
                ws.keys.admin,
                method,
                `/api/v1/users/${admin.id}`,
                method === 'PATCH' ? { role: 'agent' } : undefined,
              ),
            ),
          );
          expect(results.map((r) => r.statusCode).sort(), `${method}, round ${round}`).toEqual([
            method === 'PATCH' ? 200 : 204,
            409,
          ]);
          const left = (await usersOf(ws.keys.admin)).filter((u) => u.role === 'admin');
          expect(left).toHaveLength(1);
        }
      }
    },
  );

  test('PATCH a user with nothing to change → 400 validation_failed, not 500', async () => {
    const ws = await createTestWorkspace(db());
    const user = await addUser(ws, 'agent');
    expectError(
      await withKey(ws.keys.admin, 'PATCH', `/api/v1/users/${user.id}`, {}),
      400,
      'validation_failed',
    );
    const [listed] = await usersOf(ws.keys.admin);
    expect(listed).toMatchObject({ id: user.id, role: 'agent' });
  });

  // ------------------------------------------------------------------------------- bootstrap

  test('bootstrap on an empty database: one admin user admin@localhost with a generated password, once', async () => {
    const fresh = await freshDatabase(kind);
    try {
      const freshDb = fresh.database.db;
      const first = await bootstrap(freshDb);
      expect(first.adminKey).toEqual(expect.any(String));
      expect(first.firstUser).toEqual({ email: 'admin@localhost', password: expect.any(String) });
      const password = first.firstUser?.password as string;
      expect(password.length).toBeGreaterThanOrEqual(10);
      const users = await freshDb.selectFrom('app_user').select(['email', 'role', 'workspace_id']).execute();
      expect(users).toHaveLength(1);
      expect(users[0]).toMatchObject({ email: 'admin@localhost', role: 'admin' });
      const { session } = await login(freshDb, { email: 'admin@localhost', password });
      expect(session.role).toBe('admin');

      // Later starts create nobody, whatever they are given.
      const second = await bootstrap(freshDb, undefined, {
        email: 'someone@example.com',
        password: PASSWORD,
      });
      expect(second).toMatchObject({ firstUser: null, adminKey: null });
      expect(await freshDb.selectFrom('app_user').select('email').execute()).toEqual([
        { email: 'admin@localhost' },
      ]);
    } finally {
      await fresh.drop();
    }
  });

  test('bootstrap honours the given e-mail and password, and adds the first admin to a workspace made before users existed', async () => {
    const fresh = await freshDatabase(kind);
    try {
      const freshDb = fresh.database.db;
      const older = await createWorkspace(freshDb, 'older');
      const result = await bootstrap(freshDb, undefined, {
        email: '  Boss@Example.COM ',
        password: 'the boss password',
      });
      // The workspace existed: no new key, and the user belongs to it.
      expect(result.adminKey).toBeNull();
      expect(result.firstUser).toEqual({ email: 'boss@example.com', password: null });
      const users = await freshDb.selectFrom('app_user').select(['email', 'role', 'workspace_id']).execute();
      expect(users).toEqual([{ email: 'boss@example.com', role: 'admin', workspace_id: older.id }]);
      const { session } = await login(freshDb, { email: 'BOSS@example.com', password: 'the boss password' });
      expect(session).toMatchObject({ workspaceId: older.id, role: 'admin' });
      await expect(
        login(freshDb, { email: 'admin@localhost', password: 'the boss password' }),
      ).rejects.toMatchObject({
        status: 401,
      });
      // Started twice at once (two processes on one server): still one user.
      await Promise.all([bootstrap(freshDb), bootstrap(freshDb)]);
      expect(await freshDb.selectFrom('app_user').select('email').execute()).toHaveLength(1);
    } finally {
      await fresh.drop();
    }
  });
});
