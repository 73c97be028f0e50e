import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { readRecord } from '../records/read-records.js';
import type { RecordInputs } from './schemas.js';
import { validateBatch } from './validate.js';
import { WriteCoalescer } from './write-coalescer.js';

const valid = <T extends RecordType>(type: T, records: unknown[]) =>
  validateBatch(type, records) as RecordInputs[T][];

/** The database, counting the statements run through it (and optionally failing some). */
const counting = (db: Db, fail?: (sql: string) => boolean) => {
  const seen: string[] = [];
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      if (property === 'executeQuery') {
        return (query: { sql: string }) => {
          seen.push(query.sql);
          if (fail?.(query.sql)) return Promise.reject(new Error('injected failure'));
          return target.executeQuery(query as never);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
  return { db: proxy as Db, seen };
};

describeEachDatabase('WriteCoalescer', (database) => {
  const db = () => database().db;

  test('a burst of single-record writes goes in a few statements, each answered with its own summary', async () => {
    const ws = await createTestWorkspace(db());
    const { db: watched, seen } = counting(db());
    const writes = new WriteCoalescer(watched);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        writes.write(
          ws.id,
          'feedback',
          valid('feedback', [
            { externalId: `F-${i}`, customerId: `C-${i % 4}`, occurredAt: '2026-07-01', nps: i % 11 },
          ]),
        ),
      ),
    );
    expect(results.every((r) => r.created === 1 && r.updated === 0 && r.unchanged === 0)).toBe(true);
    // Four new customers, each counted once, by the first request that named it.
    expect(results.reduce((sum, r) => sum + r.customersCreated, 0)).toBe(4);
    expect(results.slice(0, 4).map((r) => r.customersCreated)).toEqual([1, 1, 1, 1]);
    // The first went alone; the 29 that arrived meanwhile went together.
    expect(seen.length).toBeLessThanOrEqual(3);
    for (let i = 0; i < 30; i++)
      expect((await readRecord(db(), ws.id, 'feedback', `F-${i}`)).nps).toBe(i % 11);
  });

  test('requests with the same externalId keep their order: the later one wins, and says it updated', async () => {
    const ws = await createTestWorkspace(db());
    const writes = new WriteCoalescer(db());
    const record = (nps: number) =>
      valid('feedback', [{ externalId: 'F-1', customerId: 'C-1', occurredAt: '2026-07-01', nps }]);
    const [first, second, third, again] = await Promise.all([
      writes.write(ws.id, 'feedback', record(1)),
      writes.write(ws.id, 'feedback', record(5)),
      writes.write(ws.id, 'feedback', record(9)),
      writes.write(ws.id, 'feedback', record(9)),
    ]);
    expect(first).toMatchObject({ created: 1 });
    expect(second).toMatchObject({ created: 0, updated: 1 });
    expect(third).toMatchObject({ created: 0, updated: 1 });
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect((await readRecord(db(), ws.id, 'feedback', 'F-1')).nps).toBe(9);
  });

  test('grouped writes report unchanged records, and customers merge as alone', async () => {
    const ws = await createTestWorkspace(db());
    const writes = new WriteCoalescer(db());
    await writes.write(
      ws.id,
      'customers',
      valid('customers', [{ externalId: 'C-1', name: 'Ada', segment: 'smb' }]),
    );
    const results = await Promise.all([
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-0', name: 'Zed' }])),
      writes.write(
        ws.id,
        'customers',
        valid('customers', [{ externalId: 'C-1', lifecycleStage: 'advocate' }]),
      ),
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-2', name: 'Bo' }])),
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-3', name: 'Cy' }])),
    ]);
    expect(results.map((r) => [r.created, r.updated])).toEqual([
      [1, 0],
      [0, 1],
      [1, 0],
      [1, 0],
    ]);
    const again = await Promise.all([
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-2', name: 'Bo' }])),
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-3', name: 'Cy' }])),
      writes.write(ws.id, 'customers', valid('customers', [{ externalId: 'C-3', name: 'Cy' }])),
    ]);
    expect(again.map((r) => r.unchanged)).toEqual([1, 1, 1]);
    const c1 = await db()
      .selectFrom('customer')
      .selectAll()
      .where('workspace_id', '=', ws.id)
      .where('external_id', '=', 'C-1')
      .executeTakeFirstOrThrow();
    expect(c1).toMatchObject({ name: 'Ada', segment: 'smb', lifecycle_stage: 'advocate' });
  });

  test('when the grouped statement fails, each request is written on its own', async () => {
    const ws = await createTestWorkspace(db());
    let failures = 0;
    const { db: flaky } = counting(db(), (sql) => {
      // Fail the first statement that carries more than one request's records.
      if (failures === 0 && sql.includes('written AS') && pendingGroup) {
        failures++;
        return true;
      }
      return false;
    });
    let pendingGroup = false;
    const writes = new WriteCoalescer(flaky);
    const first = writes.write(
      ws.id,
      'events',
      valid('events', [
        { externalId: 'E-0', customerId: 'C-1', type: 'purchase', occurredAt: '2026-07-01', amount: 5 },
      ]),
    );
    pendingGroup = true;
    const rest = Array.from({ length: 5 }, (_, i) =>
      writes.write(
        ws.id,
        'events',
        valid('events', [
          {
            externalId: `E-${i + 1}`,
            customerId: 'C-1',
            type: 'purchase',
            occurredAt: '2026-07-01',
            amount: i,
          },
        ]),
      ),
    );
    const results = await Promise.all([first, ...rest]);
    expect(failures).toBe(1);
    expect(results.map((r) => r.created)).toEqual([1, 1, 1, 1, 1, 1]);
    for (let i = 0; i <= 5; i++)
      expect((await readRecord(db(), ws.id, 'event', `E-${i}`)).customerId).toBe('C-1');
  });
});
