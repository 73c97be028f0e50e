import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import {
  api,
  createPostgresDatabase,
  type Env,
  killChildren,
  type RunningServer,
  removeTempDirs,
  startServer,
  templateDataDir,
} from './helpers/cli.js';
import { postgresUrl } from './helpers/databases.js';

/**
 * Crash safety: whatever the server acknowledged (2xx) before a SIGKILL is there after a restart,
 * a batch is all or nothing, and the lock left behind by the killed process does not block the restart.
 */

afterEach(killChildren);
afterAll(removeTempDirs);

interface Summary {
  created: number;
  updated: number;
  unchanged: number;
  customersCreated: number;
}
interface Profile {
  summary: { interactions: number; feedback: number; events: number };
}

const ADMIN_KEY = `tp_${randomBytes(24).toString('hex')}`;
const day = (i: number) => new Date(Date.UTC(2026, 0, 1) + (i % 300) * 86_400_000).toISOString();

const feedbackBatch = (prefix: string, count: number, customers: number) =>
  Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}-f-${i}`,
    customerId: `${prefix}-c-${i % customers}`,
    source: 'survey',
    channel: 'phone',
    touchpoint: 'billing',
    occurredAt: day(i),
    nps: i % 11,
    text: `Feedback ${i} of ${prefix}`,
  }));

const interactionBatch = (prefix: string, count: number, customers: number) =>
  Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}-i-${i}`,
    customerId: `${prefix}-c-${i % customers}`,
    channel: 'chat',
    touchpoint: 'delivery',
    occurredAt: day(i),
    waitSeconds: i,
    transfers: i % 3,
    resolved: i % 2 === 0,
  }));

const eventBatch = (prefix: string, count: number, customers: number) =>
  Array.from({ length: count }, (_, i) => ({
    externalId: `${prefix}-e-${i}`,
    customerId: `${prefix}-c-${i % customers}`,
    type: 'purchase',
    occurredAt: day(i),
    amount: i + 0.5,
  }));

const post = async (server: RunningServer, type: string, body: unknown[]) => {
  const response = await api<Summary>(server.url, `/api/v1/${type}`, { key: ADMIN_KEY, body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
};

/** GETs every record by its external id (a few at a time); returns the ids that are missing. */
const missing = async (server: RunningServer, path: string, ids: string[]): Promise<string[]> => {
  const absent: string[] = [];
  for (let i = 0; i < ids.length; i += 16) {
    const statuses = await Promise.all(
      ids
        .slice(i, i + 16)
        .map(
          async (id) =>
            [id, (await api(server.url, `/api/v1/${path}/${id}`, { key: ADMIN_KEY })).status] as const,
        ),
    );
    for (const [id, status] of statuses) {
      if (status === 404) absent.push(id);
      else expect(status).toBe(200);
    }
  }
  return absent;
};

const profile = async (server: RunningServer, customerId: string) => {
  const response = await api<Profile>(server.url, `/api/v1/customers/${customerId}`, { key: ADMIN_KEY });
  expect(response.status).toBe(200);
  return response.body.summary;
};

const STREAM_BATCH = 200;

/**
 * Sends batches of feedback one after another (batch b for customer `${prefix}${b}-c-0`) and
 * SIGKILLs the server shortly after the second acknowledgement, so the kill lands while a batch is
 * being written. Returns how many batches were sent and which were acknowledged.
 */
const sendUntilKilled = async (server: RunningServer, prefix: string) => {
  const acknowledged: number[] = [];
  let sent = 0;
  let failed = false;
  const sending = (async () => {
    for (let b = 0; b < 50 && !failed; b++) {
      sent = b + 1;
      try {
        const response = await api(server.url, '/api/v1/feedback', {
          key: ADMIN_KEY,
          body: feedbackBatch(`${prefix}${b}`, STREAM_BATCH, 1),
        });
        if (response.status === 200) acknowledged.push(b);
        else failed = true;
      } catch {
        failed = true; // the connection died with the server
      }
    }
  })();
  const deadline = Date.now() + 60_000;
  while (acknowledged.length < 2 && !failed && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 30)));
  await server.kill9();
  await sending;
  expect(acknowledged.length).toBeGreaterThanOrEqual(2);
  return { sent, acknowledged };
};

/** Every acknowledged batch is complete; every other batch is complete or absent, never partial. */
const expectAllOrNothing = async (
  server: RunningServer,
  prefix: string,
  { sent, acknowledged }: { sent: number; acknowledged: number[] },
) => {
  for (let b = 0; b < sent; b++) {
    const response = await api<Profile>(server.url, `/api/v1/customers/${prefix}${b}-c-0`, {
      key: ADMIN_KEY,
    });
    const stored = response.status === 404 ? 0 : response.body.summary.feedback;
    if (acknowledged.includes(b)) expect(stored, `acknowledged batch ${b}`).toBe(STREAM_BATCH);
    else expect([0, STREAM_BATCH], `unacknowledged batch ${b}`).toContain(stored);
  }
};

const pgUrl = postgresUrl();

for (const kind of ['embedded', 'postgres'] as const) {
  const unavailable = kind === 'postgres' && !pgUrl;
  describe.skipIf(unavailable)(
    `SIGKILL right after acknowledged writes [${kind}]${unavailable ? ' — skipped: no PostgreSQL server; install PostgreSQL (initdb, pg_ctl) or set TEST_DATABASE_URL' : ''}`,
    () => {
      let postgres: Awaited<ReturnType<typeof createPostgresDatabase>> | undefined;
      beforeAll(async () => {
        if (kind === 'postgres') postgres = await createPostgresDatabase();
      });
      afterAll(async () => {
        await killChildren();
        await postgres?.drop();
      });

      /** Where the server keeps its data: a fresh embedded directory per test, or the suite's database. */
      const place = (): { data?: string; env: Env } =>
        kind === 'embedded'
          ? { data: templateDataDir(), env: { TOUCHPOINT_ADMIN_KEY: ADMIN_KEY } }
          : { env: { DATABASE_URL: postgres?.url, TOUCHPOINT_ADMIN_KEY: ADMIN_KEY } };

      /** After the kill the lock names a process that is gone; the restart takes it over. */
      const expectStaleLock = (data: string | undefined, deadPid: number) => {
        if (!data) return;
        const lockFile = join(data, 'touchpoint.lock');
        expect(existsSync(lockFile)).toBe(true);
        expect(JSON.parse(readFileSync(lockFile, 'utf8'))).toMatchObject({ pid: deadPid, command: 'serve' });
      };
      const expectLockHeldBy = (data: string | undefined, pid: number) => {
        if (!data) return;
        expect(JSON.parse(readFileSync(join(data, 'touchpoint.lock'), 'utf8'))).toMatchObject({ pid });
      };

      test('SIGKILL right after a 2xx, twice: every acknowledged record is there after each restart, the stale lock does not block it, and no batch is half-written', async () => {
        const { data, env } = place();

        // 1. One batch of 500 feedback records, killed right after the 200.
        const one = `one-${kind}`;
        const batch = feedbackBatch(one, 500, 5);
        const first = await startServer({ data, env });
        const summary = await post(first, 'feedback', batch);
        await first.kill9();
        expect(summary).toMatchObject({ created: 500, updated: 0, unchanged: 0, customersCreated: 5 });
        expectStaleLock(data, first.pid);

        const second = await startServer({ data, env });
        expectLockHeldBy(data, second.pid);
        for (let c = 0; c < 5; c++) expect((await profile(second, `${one}-c-${c}`)).feedback).toBe(100);
        expect(
          await missing(
            second,
            'feedback',
            batch.map((f) => f.externalId),
          ),
        ).toEqual([]);
        const last = await api<{ nps: number; text: string; customerId: string }>(
          second.url,
          `/api/v1/feedback/${one}-f-499`,
          { key: ADMIN_KEY },
        );
        expect(last.body).toMatchObject({
          nps: 499 % 11,
          text: `Feedback 499 of ${one}`,
          customerId: `${one}-c-4`,
        });
        // Sending the batch again changes nothing: the first write was complete.
        expect(await post(second, 'feedback', batch)).toMatchObject({
          created: 0,
          updated: 0,
          unchanged: 500,
        });

        // 2. Several acknowledged requests in a row, then a stream of batches killed mid-way.
        const many = `many-${kind}`;
        const interactions = interactionBatch(many, 300, 10);
        const feedbackA = feedbackBatch(`${many}-a`, 400, 10).map((f, i) => ({
          ...f,
          customerId: `${many}-c-${i % 10}`,
          interactionId: `${many}-i-${i % 300}`,
        }));
        const feedbackB = feedbackBatch(`${many}-b`, 400, 10).map((f, i) => ({
          ...f,
          customerId: `${many}-c-${i % 10}`,
        }));
        const events = eventBatch(many, 200, 10);
        const updatedInteractions = interactions
          .slice(0, 50)
          .map((x) => ({ ...x, resolved: true, transfers: 7 }));
        expect((await post(second, 'interactions', interactions)).created).toBe(300);
        expect((await post(second, 'feedback', feedbackA)).created).toBe(400);
        expect((await post(second, 'events', events)).created).toBe(200);
        expect((await post(second, 'feedback', feedbackB)).created).toBe(400);
        expect((await post(second, 'interactions', updatedInteractions)).updated).toBe(50);
        const stream = await sendUntilKilled(second, `${many}-x`);
        expectStaleLock(data, second.pid);

        const third = await startServer({ data, env });
        try {
          expectLockHeldBy(data, third.pid);
          const totals = { feedback: 0, interactions: 0, events: 0 };
          for (let c = 0; c < 10; c++) {
            const counts = await profile(third, `${many}-c-${c}`);
            totals.feedback += counts.feedback;
            totals.interactions += counts.interactions;
            totals.events += counts.events;
          }
          expect(totals).toEqual({ feedback: 800, interactions: 300, events: 200 });
          await expectAllOrNothing(third, `${many}-x`, stream);
          expect(
            await missing(
              third,
              'interactions',
              interactions.map((x) => x.externalId),
            ),
          ).toEqual([]);
          expect(
            await missing(
              third,
              'events',
              events.map((x) => x.externalId),
            ),
          ).toEqual([]);
          expect(
            await missing(
              third,
              'feedback',
              [...feedbackA, ...feedbackB].map((x) => x.externalId),
            ),
          ).toEqual([]);
          for (let c = 0; c < 5; c++) expect((await profile(third, `${one}-c-${c}`)).feedback).toBe(100);
          const updated = await api<{ resolved: boolean; transfers: number }>(
            third.url,
            `/api/v1/interactions/${many}-i-1`,
            { key: ADMIN_KEY },
          );
          expect(updated.body).toMatchObject({ resolved: true, transfers: 7 });
          const linked = await api<{ interactionId: string }>(third.url, `/api/v1/feedback/${many}-a-f-7`, {
            key: ADMIN_KEY,
          });
          expect(linked.body.interactionId).toBe(`${many}-i-7`);

          // The restarted server takes writes again.
          expect((await post(third, 'feedback', feedbackBatch(`${many}-after`, 10, 1))).created).toBe(10);
        } finally {
          expect(await third.stop()).toBe(0);
        }
      });
    },
  );
}
