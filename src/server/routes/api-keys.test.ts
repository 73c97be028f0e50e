import type { InjectOptions } from 'fastify';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../../test/helpers/databases.js';
import { auth, expectError, useApp } from '../../../test/helpers/http.js';
import { createTestWorkspace, type TestWorkspace } from '../../../test/helpers/workspace.js';

type Role = 'admin' | 'write' | 'read';

interface KeyOut {
  id: number;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const isoTime = (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value));

describeEachDatabase('API key routes', (database) => {
  const app = useApp(database);

  const workspace = () => createTestWorkspace(database().db);

  const create = (adminKey: string, payload: unknown, headers: Record<string, string> = {}) =>
    app().inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...auth(adminKey), ...headers },
      payload: payload as InjectOptions['payload'],
    });

  const list = async (adminKey: string) => {
    const res = await app().inject({ method: 'GET', url: '/api/v1/api-keys', headers: auth(adminKey) });
    expect(res.statusCode).toBe(200);
    return res;
  };

  const revoke = (adminKey: string, id: number | string) =>
    app().inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: auth(adminKey) });

  /** What a key may do: one probe per role's privilege (ingest, read, administer). */
  const privileges = async (key: string) => {
    const ingest = await app().inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: auth(key),
      payload: { externalId: 'C-probe' },
    });
    const read = await app().inject({ method: 'GET', url: '/api/v1/customers/C-probe', headers: auth(key) });
    const administer = await app().inject({ method: 'GET', url: '/api/v1/api-keys', headers: auth(key) });
    return { ingest: ingest.statusCode, read: read.statusCode, administer: administer.statusCode };
  };

  const seedProbeCustomer = async (ws: TestWorkspace) => {
    const res = await app().inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: auth(ws.keys.admin),
      payload: { externalId: 'C-probe' },
    });
    expect(res.statusCode).toBe(200);
  };

  test('create → 201 with the key, shown once; it works at once with its role and only that role', async () => {
    const ws = await workspace();
    await seedProbeCustomer(ws);
    const expected: Record<Role, { ingest: number; read: number; administer: number }> = {
      admin: { ingest: 200, read: 200, administer: 200 },
      write: { ingest: 200, read: 403, administer: 403 },
      read: { ingest: 403, read: 200, administer: 403 },
    };
    for (const role of ['admin', 'write', 'read'] as const) {
      const res = await create(ws.keys.admin, { role, name: `${role} for the CRM connector` });
      expect(res.statusCode, res.body).toBe(201);
      const body = res.json() as KeyOut & { key: string };
      expect(body).toMatchObject({
        id: expect.any(Number),
        name: `${role} for the CRM connector`,
        role,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(isoTime(body.createdAt)).toBe(true);
      expect(body.key).toMatch(/^tp_[A-Za-z0-9_-]{8,128}$/);
      expect(body.key.startsWith(body.prefix)).toBe(true);
      // The prefix identifies a key; it must not give the key away.
      expect(body.prefix.length).toBeLessThan(body.key.length - 16);
      expect(await privileges(body.key), role).toEqual(expected[role]);
    }
  });

  test('every created key is different, and the name is optional', async () => {
    const ws = await workspace();
    const keys = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const res = await create(ws.keys.admin, { role: 'write' });
      expect(res.statusCode).toBe(201);
      expect(typeof res.json().name).toBe('string');
      keys.add(res.json().key);
    }
    expect(keys.size).toBe(5);
  });

  test('list shows every key of the workspace, never the key itself', async () => {
    const ws = await workspace();
    const created = [];
    for (const role of ['read', 'write'] as const) {
      const res = await create(ws.keys.admin, { role, name: `listed ${role}` });
      created.push(res.json() as KeyOut & { key: string });
    }
    const res = await list(ws.keys.admin);
    const { items } = res.json() as { items: KeyOut[] };
    // The three keys of the test workspace and the two created here.
    expect(items).toHaveLength(5);
    expect(items.map((k) => k.role).sort()).toEqual(['admin', 'read', 'read', 'write', 'write']);
    for (const key of created) {
      const { key: secret, ...info } = key;
      expect(items).toContainEqual(info);
      expect(res.body).not.toContain(secret);
    }
    for (const secret of Object.values(ws.keys)) expect(res.body).not.toContain(secret);
    for (const item of items) {
      expect(item).not.toHaveProperty('key');
      expect(item).toMatchObject({
        id: expect.any(Number),
        name: expect.any(String),
        prefix: expect.any(String),
      });
    }
  });

  test('lastUsedAt tells when a key was last used; an unused key has none', async () => {
    const ws = await workspace();
    await seedProbeCustomer(ws);
    const used = (await create(ws.keys.admin, { role: 'read', name: 'used' })).json() as KeyOut & {
      key: string;
    };
    const unused = (await create(ws.keys.admin, { role: 'read', name: 'unused' })).json() as KeyOut;
    expect((await privileges(used.key)).read).toBe(200);
    // The use is recorded after the response, without holding it up: on a PostgreSQL server the
    // list may run on another connection first, so it is read until the use shows (2 s at most).
    const listed = async () => ((await list(ws.keys.admin)).json() as { items: KeyOut[] }).items;
    let items = await listed();
    for (let i = 0; i < 40 && !items.find((k) => k.id === used.id)?.lastUsedAt; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      items = await listed();
    }
    expect(items.find((k) => k.id === unused.id)?.lastUsedAt).toBeNull();
    const lastUsedAt = items.find((k) => k.id === used.id)?.lastUsedAt;
    expect(isoTime(lastUsedAt), `lastUsedAt of a used key: ${lastUsedAt}`).toBe(true);
    expect(Date.parse(lastUsedAt as string)).toBeGreaterThanOrEqual(Date.parse(used.createdAt));
  });

  test('revoke → 200 with revokedAt; the key is refused from then on, the others keep working', async () => {
    const ws = await workspace();
    await seedProbeCustomer(ws);
    const doomed = (await create(ws.keys.admin, { role: 'read', name: 'doomed' })).json() as KeyOut & {
      key: string;
    };
    const kept = (await create(ws.keys.admin, { role: 'read', name: 'kept' })).json() as KeyOut & {
      key: string;
    };
    expect((await privileges(doomed.key)).read).toBe(200);

    const res = await revoke(ws.keys.admin, doomed.id);
    expect(res.statusCode).toBe(200);
    const revoked = res.json() as KeyOut;
    expect(revoked).toMatchObject({ id: doomed.id, name: 'doomed', role: 'read' });
    expect(isoTime(revoked.revokedAt)).toBe(true);
    expect(res.body).not.toContain(doomed.key);

    const refused = await app().inject({
      method: 'GET',
      url: '/api/v1/customers/C-probe',
      headers: auth(doomed.key),
    });
    expectError(refused, 401, 'unauthorized');
    expect((await privileges(kept.key)).read).toBe(200);
    expect((await privileges(ws.keys.read)).read).toBe(200);

    const { items } = (await list(ws.keys.admin)).json() as { items: KeyOut[] };
    expect(items.find((k) => k.id === doomed.id)?.revokedAt).toBe(revoked.revokedAt);
    expect(items.find((k) => k.id === kept.id)?.revokedAt).toBeNull();
  });

  test('an admin key can revoke itself, and is refused right after', async () => {
    const ws = await workspace();
    const admin = (await create(ws.keys.admin, { role: 'admin' })).json() as KeyOut & { key: string };
    expect((await revoke(admin.key, admin.id)).statusCode).toBe(200);
    const after = await app().inject({ method: 'GET', url: '/api/v1/api-keys', headers: auth(admin.key) });
    expectError(after, 401, 'unauthorized');
    // The workspace's other admin key is unaffected.
    await list(ws.keys.admin);
  });

  test("revoking another workspace's key id → 404, and that key keeps working", async () => {
    const a = await workspace();
    const b = await workspace();
    await seedProbeCustomer(a);
    const keyOfA = (await create(a.keys.admin, { role: 'read', name: 'A reader' })).json() as KeyOut & {
      key: string;
    };
    expectError(await revoke(b.keys.admin, keyOfA.id), 404, 'not_found');
    expect((await privileges(keyOfA.key)).read).toBe(200);
    const { items } = (await list(a.keys.admin)).json() as { items: KeyOut[] };
    expect(items.find((k) => k.id === keyOfA.id)?.revokedAt).toBeNull();
  });

  test("each workspace lists only its own keys, and a new key acts in its creator's workspace", async () => {
    const a = await workspace();
    const b = await workspace();
    const keyOfA = (await create(a.keys.admin, { role: 'admin', name: 'only in A' })).json() as KeyOut & {
      key: string;
    };
    const itemsOfB = ((await list(b.keys.admin)).json() as { items: KeyOut[] }).items;
    expect(itemsOfB).toHaveLength(3);
    expect(itemsOfB.map((k) => k.id)).not.toContain(keyOfA.id);
    expect(itemsOfB.map((k) => k.name)).not.toContain('only in A');

    // Data written with A's new key is in A, not in B.
    const written = await app().inject({
      method: 'POST',
      url: '/api/v1/customers',
      headers: auth(keyOfA.key),
      payload: { externalId: 'C-from-new-key' },
    });
    expect(written.statusCode).toBe(200);
    const inA = await app().inject({
      method: 'GET',
      url: '/api/v1/customers/C-from-new-key',
      headers: auth(a.keys.read),
    });
    expect(inA.statusCode).toBe(200);
    const inB = await app().inject({
      method: 'GET',
      url: '/api/v1/customers/C-from-new-key',
      headers: auth(b.keys.read),
    });
    expectError(inB, 404, 'not_found');
    // And A's new admin key lists A's keys.
    const itemsSeenByNewKey = ((await list(keyOfA.key)).json() as { items: KeyOut[] }).items;
    expect(itemsSeenByNewKey.map((k) => k.id)).toContain(keyOfA.id);
    expect(itemsSeenByNewKey).toHaveLength(4);
  });

  test('revoking an unknown id → 404; an id that is not a positive integer → 400 at "params.id"', async () => {
    const ws = await workspace();
    expectError(await revoke(ws.keys.admin, 2_000_000_000), 404, 'not_found');
    for (const id of ['abc', '0', '-3', '1.5']) {
      const error = expectError(await revoke(ws.keys.admin, id), 400, 'validation_failed');
      expect(
        error.details.map((d) => d.path),
        id,
      ).toEqual(['params.id']);
    }
  });

  test('bad bodies → 400 with the field named', async () => {
    const ws = await workspace();
    const cases: [unknown, string][] = [
      [{ role: 'superuser' }, 'role'],
      [{ role: 'ADMIN' }, 'role'],
      [{}, 'role'],
      [{ role: null }, 'role'],
      [{ role: 'read', scopes: ['all'] }, 'scopes'],
      [{ role: 'read', name: '' }, 'name'],
      [{ role: 'read', name: 'x'.repeat(201) }, 'name'],
      [{ role: 'read', name: 42 }, 'name'],
    ];
    for (const [payload, path] of cases) {
      const error = expectError(await create(ws.keys.admin, payload), 400, 'validation_failed');
      expect(
        error.details.map((d) => d.path),
        JSON.stringify(payload),
      ).toContain(path);
    }
    for (const text of ['[]', '"read"', 'null']) {
      const res = await create(ws.keys.admin, text, { 'content-type': 'application/json' });
      expectError(res, 400, 'validation_failed');
    }
    expectError(
      await create(ws.keys.admin, '{"role": "read"', { 'content-type': 'application/json' }),
      400,
      'invalid_json',
    );
    expectError(await create(ws.keys.admin, '', { 'content-type': 'application/json' }), 400, 'invalid_json');
    // None of these created a key.
    expect(((await list(ws.keys.admin)).json() as { items: KeyOut[] }).items).toHaveLength(3);
  });
});
