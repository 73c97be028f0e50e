import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  api,
  createPostgresDatabase,
  keysIn,
  killChildren,
  type RunningServer,
  removeTempDirs,
  runCli,
  startServer,
  tempDir,
  templateDataDir,
} from './helpers/cli.js';
import { postgresUrl } from './helpers/databases.js';

interface KeyList {
  items: { id: number; name: string; role: string; prefix: string }[];
}
interface ErrorBody {
  error: { code: string; message: string };
}
interface CustomerProfile {
  customer: { externalId: string; name: string | null };
}

afterEach(killChildren);
afterAll(removeTempDirs);

const customer = (externalId: string, name: string) => ({ externalId, name, segment: 'consumer' });

describe('serve on the embedded database', () => {
  // One --data directory goes through the life of an installation: first start, commands, restart.
  let data = '';
  let adminKey = '';
  beforeAll(() => {
    data = join(tempDir(), 'data');
  });

  test('first start on a fresh --data: workspace default and its admin key, printed; a command on the same --data while it runs is refused, naming it', async () => {
    const server = await startServer({ data });
    try {
      const printed = keysIn(server.stdout());
      expect(printed).toHaveLength(1);
      adminKey = printed[0] as string;
      expect(server.stdout()).toContain('Created workspace "default"');
      expect(server.stdout()).toContain('shown only this once');
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

      const keys = await api<KeyList>(server.url, '/api/v1/api-keys', { key: adminKey });
      expect(keys.status).toBe(200);
      expect(keys.body.items).toHaveLength(1);
      expect(keys.body.items[0]?.role).toBe('admin');
      expect(adminKey.startsWith(keys.body.items[0]?.prefix ?? '?')).toBe(true);
      expect((await api(server.url, '/api/v1/api-keys')).status).toBe(401);
      expect((await api(server.url, '/api/v1/api-keys', { key: 'tp_not-a-real-key-123' })).status).toBe(401);

      const health = await api<{ status: string; database: string }>(server.url, '/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'ok', database: 'embedded' });
      const docs = await api<string>(server.url, '/docs');
      expect(docs.status).toBe(200);
      expect(docs.body).toMatch(/<html/i);
      const openapi = await api<{ openapi: string; paths: Record<string, unknown> }>(
        server.url,
        '/api/v1/openapi.json',
      );
      expect(openapi.status).toBe(200);
      expect(openapi.body.openapi).toMatch(/^3\./);
      expect(Object.keys(openapi.body.paths)).toContain('/api/v1/feedback');

      // The lock names the server; a second process on the same --data is refused with that name.
      const lock = JSON.parse(readFileSync(join(data, 'touchpoint.lock'), 'utf8')) as {
        pid: number;
        url?: string;
      };
      expect(lock).toMatchObject({ pid: server.pid, url: server.url });
      const refused = await runCli(['keys', 'create', '--role', 'read', '--data', data]);
      expect(refused.code).not.toBe(0);
      expect(refused.code).not.toBeNull();
      expect(keysIn(refused.stdout)).toEqual([]);
      expect(refused.stderr).toContain('in use by another Touchpoint process');
      expect(refused.stderr).toContain(`pid ${server.pid}`);
      expect(refused.stderr).toContain('touchpoint serve');
      expect(refused.stderr).toContain(server.url);
      expect(refused.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace

      // The server, its data and its lock are untouched by the refused command.
      const after = await api<KeyList>(server.url, '/api/v1/api-keys', { key: adminKey });
      expect(after.status).toBe(200);
      expect(after.body.items).toHaveLength(1);
      const written = await api(server.url, '/api/v1/customers', {
        key: adminKey,
        body: customer('C-1', 'Ada Lovelace'),
      });
      expect(written.status).toBe(200);
      expect((await api(server.url, '/healthz')).status).toBe(200);
      expect(JSON.parse(readFileSync(join(data, 'touchpoint.lock'), 'utf8'))).toMatchObject({
        pid: server.pid,
      });
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(existsSync(join(data, 'touchpoint.lock'))).toBe(false);
  });

  test('with the server stopped: keys create --role read and workspaces create other; the restarted server prints no key and honours both', async () => {
    expect(adminKey).not.toBe('');
    const created = await runCli(['keys', 'create', '--role', 'read', '--data', data]);
    expect(created.code, created.stderr).toBe(0);
    expect(keysIn(created.stdout)).toHaveLength(1);
    const readKey = keysIn(created.stdout)[0] as string;
    expect(created.stderr).toContain('Created read key');
    expect(created.stdout).not.toContain('Created workspace'); // not a first start

    const other = await runCli(['workspaces', 'create', 'other', '--data', data]);
    expect(other.code, other.stderr).toBe(0);
    expect(keysIn(other.stdout)).toHaveLength(1);
    const otherKey = keysIn(other.stdout)[0] as string;

    const server = await startServer({ data });
    try {
      expect(keysIn(server.stdout())).toEqual([]);
      expect(server.stdout()).not.toContain('Created workspace');
      expect((await api(server.url, '/api/v1/api-keys', { key: adminKey })).status).toBe(200);

      // The read key reads, and may not write or administer.
      const profile = await api<CustomerProfile>(server.url, '/api/v1/customers/C-1', { key: readKey });
      expect(profile.status).toBe(200);
      expect(profile.body.customer).toMatchObject({ externalId: 'C-1', name: 'Ada Lovelace' });
      const post = await api<ErrorBody>(server.url, '/api/v1/customers', {
        key: readKey,
        body: customer('C-2', 'Not Allowed'),
      });
      expect(post.status).toBe(403);
      expect(post.body.error.code).toBe('forbidden');
      expect((await api(server.url, '/api/v1/customers/C-2', { key: readKey })).status).toBe(404);
      expect((await api(server.url, '/api/v1/api-keys', { key: readKey })).status).toBe(403);
      const keys = await api<KeyList>(server.url, '/api/v1/api-keys', { key: adminKey });
      expect(keys.body.items.map((k) => k.role).sort()).toEqual(['admin', 'read']);

      // The other workspace's key sees nothing of default; the same externalId there is another customer.
      expect((await api(server.url, '/api/v1/customers/C-1', { key: otherKey })).status).toBe(404);
      const otherKeys = await api<KeyList>(server.url, '/api/v1/api-keys', { key: otherKey });
      expect(otherKeys.status).toBe(200);
      expect(otherKeys.body.items).toHaveLength(1);
      expect(otherKey.startsWith(otherKeys.body.items[0]?.prefix ?? '?')).toBe(true);
      const written = await api<{ created: number }>(server.url, '/api/v1/customers', {
        key: otherKey,
        body: customer('C-1', 'Someone Else'),
      });
      expect(written.status).toBe(200);
      expect(written.body.created).toBe(1);
      const mine = await api<CustomerProfile>(server.url, '/api/v1/customers/C-1', { key: adminKey });
      expect(mine.body.customer.name).toBe('Ada Lovelace');
      const theirs = await api<CustomerProfile>(server.url, '/api/v1/customers/C-1', { key: otherKey });
      expect(theirs.body.customer.name).toBe('Someone Else');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('serve: first start with TOUCHPOINT_ADMIN_KEY', () => {
  test('the configured value becomes the admin key and is not printed', async () => {
    const data = templateDataDir();
    const configured = `tp_${randomBytes(24).toString('hex')}`;
    const server = await startServer({ data, env: { TOUCHPOINT_ADMIN_KEY: configured } });
    try {
      expect(server.stdout()).not.toContain(configured);
      expect(keysIn(server.stdout())).toEqual([]);
      expect(server.stdout()).toContain('TOUCHPOINT_ADMIN_KEY is its admin API key');
      const keys = await api<KeyList>(server.url, '/api/v1/api-keys', { key: configured });
      expect(keys.status).toBe(200);
      expect(keys.body.items).toHaveLength(1);
      expect(keys.body.items[0]?.role).toBe('admin');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('serve: port in use', () => {
  let blocker: Server | undefined;
  afterAll(async () => {
    await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  });

  test('a clear error and a non-zero exit, and the --data directory is left unlocked', async () => {
    const listening = createServer();
    blocker = listening;
    const port = await new Promise<number>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(0, '127.0.0.1', () => resolve((listening.address() as { port: number }).port));
    });
    const data = templateDataDir();
    const result = await runCli(['serve', '--port', String(port), '--data', data]);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBeNull();
    expect(result.stderr).toContain(`Port ${port} is in use`);
    expect(result.stderr).toContain('--port');
    expect(result.stdout).not.toContain('Touchpoint listening');
    expect(existsSync(join(data, 'touchpoint.lock'))).toBe(false);
  });
});

const pgUrl = postgresUrl();
describe.skipIf(!pgUrl)(
  `serve on PostgreSQL (DATABASE_URL)${pgUrl ? '' : ' — skipped: no PostgreSQL server; install PostgreSQL (initdb, pg_ctl) or set TEST_DATABASE_URL'}`,
  () => {
    let database: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
    let env: { DATABASE_URL: string } = { DATABASE_URL: '' };
    beforeAll(async () => {
      database = await createPostgresDatabase();
      env = { DATABASE_URL: database.url };
    });
    afterAll(async () => {
      await killChildren();
      await database?.drop();
    });

    test('admin key on first start; keys and workspaces created while the server runs work at once', async () => {
      // --data points at a directory that must stay untouched: DATABASE_URL wins.
      const unused = join(tempDir(), 'unused');
      let server: RunningServer | undefined = await startServer({ data: unused, env });
      try {
        const printed = keysIn(server.stdout());
        expect(printed).toHaveLength(1);
        const adminKey = printed[0] as string;
        const health = await api<{ database: string }>(server.url, '/healthz');
        expect(health.body.database).toBe('server');
        expect(existsSync(unused)).toBe(false);
        expect((await api(server.url, '/api/v1/api-keys', { key: adminKey })).status).toBe(200);
        expect(
          (
            await api(server.url, '/api/v1/customers', {
              key: adminKey,
              body: customer('P-1', 'Grace Hopper'),
            })
          ).status,
        ).toBe(200);

        const created = await runCli(['keys', 'create', '--role', 'read', '--data', unused], { env });
        expect(created.code, created.stderr).toBe(0);
        const readKey = keysIn(created.stdout)[0] as string;
        expect(readKey).toBeDefined();
        const profile = await api<CustomerProfile>(server.url, '/api/v1/customers/P-1', { key: readKey });
        expect(profile.status).toBe(200);
        expect(profile.body.customer.name).toBe('Grace Hopper');
        expect(
          (await api(server.url, '/api/v1/customers', { key: readKey, body: customer('P-2', 'No') })).status,
        ).toBe(403);

        const other = await runCli(['workspaces', 'create', 'other'], { env });
        expect(other.code, other.stderr).toBe(0);
        const otherKey = keysIn(other.stdout)[0] as string;
        expect(otherKey).toBeDefined();
        expect((await api(server.url, '/api/v1/customers/P-1', { key: otherKey })).status).toBe(404);
        const otherKeys = await api<KeyList>(server.url, '/api/v1/api-keys', { key: otherKey });
        expect(otherKeys.body.items).toHaveLength(1);

        expect(await server.stop()).toBe(0);
        server = await startServer({ env });
        expect(keysIn(server.stdout())).toEqual([]);
        expect((await api(server.url, '/api/v1/customers/P-1', { key: readKey })).status).toBe(200);
      } finally {
        expect(await server?.stop()).toBe(0);
      }
    });
  },
);
