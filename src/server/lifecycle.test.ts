import { describe, expect, inject, test } from 'vitest';
import { type DatabaseKind, openTestDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { readRecord } from '../records/read-records.js';
import { buildApp } from './app.js';

const kinds: DatabaseKind[] = inject('postgresUrl') ? ['pglite', 'postgres'] : ['pglite'];

describe.each(kinds)('closing the server [%s]', (kind) => {
  test('requests in flight finish before the database closes; later ones get 503; none gets a 500', async () => {
    const { database, cleanup } = await openTestDatabase(kind);
    const check = await openTestDatabase(kind);
    try {
      const ws = await createTestWorkspace(database.db);
      const app = await buildApp({ database });
      const post = (i: number, records: number) =>
        app.inject({
          method: 'POST',
          url: '/api/v1/feedback',
          headers: { authorization: `Bearer ${ws.keys.write}`, 'content-type': 'application/json' },
          payload: JSON.stringify(
            Array.from({ length: records }, (_, k) => ({
              externalId: `F-${i}-${k}`,
              customerId: `C-${k % 50}`,
              occurredAt: '2026-08-01T10:00:00Z',
              nps: k % 11,
            })),
          ),
        });
      const requests = [post(0, 2000), ...Array.from({ length: 8 }, (_, i) => post(i + 1, 1))];
      await new Promise((resolve) => setTimeout(resolve, 1));
      // As `serve` does: close the app, then the database.
      const closed = app.close().then(() => cleanup());
      const responses = await Promise.all(requests);
      await closed;
      const statuses = responses.map((r) => r.statusCode);
      expect(
        statuses.every((s) => s === 200 || s === 503),
        JSON.stringify(statuses),
      ).toBe(true);
      // Every acknowledged request is stored.
      for (const [i, response] of responses.entries()) {
        if (response.statusCode !== 200) continue;
        if (kind === 'pglite') continue; // the closed copy is gone; PostgreSQL keeps the data to check
        await expect(readRecord(check.database.db, ws.id, 'feedback', `F-${i}-0`)).resolves.toMatchObject({
          nps: 0,
        });
      }
    } finally {
      await check.cleanup();
    }
  });
});
