import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import type { Db } from './index.js';
import { migrate } from './migrate.js';

const insertCustomer = (db: Db, workspaceId: number, externalId: string) =>
  sql`INSERT INTO customer (workspace_id, external_id) VALUES (${workspaceId}, ${externalId})`.execute(db);

describeEachDatabase('database', (database, kind) => {
  const db = () => database().db;

  if (kind === 'pglite')
    test('the embedded connection says when a statement runs on it or waits for it', async () => {
      const busy = database().busy;
      if (!busy) throw new Error('the embedded database reports whether its connection is busy');
      expect(busy()).toBe(false);
      // A transaction holds the connection between its statements; a query waits behind it.
      let waiting: Promise<unknown> | undefined;
      await db()
        .transaction()
        .execute(async (trx) => {
          await sql`SELECT 1`.execute(trx);
          expect(busy()).toBe(true);
          waiting = sql`SELECT 2`.execute(db());
          await new Promise((resolve) => setTimeout(resolve, 20));
        });
      expect(busy()).toBe(true);
      await waiting;
      expect(busy()).toBe(false);
    });

  test('concurrent transactions do not interleave: a rolled-back one leaves no trace, the other commits', async () => {
    const ws = await createTestWorkspace(db());
    const failing = db()
      .transaction()
      .execute(async (trx) => {
        await insertCustomer(trx, ws.id, 'rolled-back');
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('abort');
      });
    const succeeding = db()
      .transaction()
      .execute(async (trx) => {
        await insertCustomer(trx, ws.id, 'committed');
        await new Promise((resolve) => setTimeout(resolve, 10));
        await insertCustomer(trx, ws.id, 'committed-2');
      });
    await expect(failing).rejects.toThrow('abort');
    await succeeding;
    const rows = await db()
      .selectFrom('customer')
      .select('external_id')
      .where('workspace_id', '=', ws.id)
      .orderBy('external_id')
      .execute();
    expect(rows.map((r) => r.external_id)).toEqual(['committed', 'committed-2']);
  });

  test('a failing statement inside a transaction rolls back the statements before it', async () => {
    const ws = await createTestWorkspace(db());
    await expect(
      db()
        .transaction()
        .execute(async (trx) => {
          await sql`INSERT INTO customer (workspace_id, external_id) VALUES (${ws.id}, 'first')`.execute(trx);
          await sql`INSERT INTO customer (workspace_id, external_id, lifecycle_stage) VALUES (${ws.id}, 'second', 'nonsense')`.execute(
            trx,
          );
        }),
    ).rejects.toThrow();
    const rows = await db()
      .selectFrom('customer')
      .select('external_id')
      .where('workspace_id', '=', ws.id)
      .execute();
    expect(rows).toEqual([]);
  });

  test('types come back the same on both databases: bigint and numeric as numbers, timestamps as Date, json as objects', async () => {
    const { rows } = await sql<{ big: number; num: number; at: Date; doc: { a: number[] } }>`
      SELECT 9007199254740::bigint AS big, 12.75::numeric AS num, timestamptz '2026-01-02T03:04:05.678Z' AS at, '{"a":[1,2]}'::jsonb AS doc`.execute(
      db(),
    );
    expect(rows[0]).toEqual({
      big: 9007199254740,
      num: 12.75,
      at: new Date('2026-01-02T03:04:05.678Z'),
      doc: { a: [1, 2] },
    });
  });

  test('migrations are applied once: running them again, even concurrently, applies nothing', async () => {
    const results = await Promise.all([migrate(db()), migrate(db())]);
    expect(results).toEqual([[], []]);
    const applied = await db()
      .selectFrom('schema_migration')
      .select(['version', 'name'])
      .orderBy('version')
      .execute();
    expect(applied[0]).toEqual({ version: 1, name: '0001_core' });
    expect(new Set(applied.map((m) => m.version)).size).toBe(applied.length);
  });
});
