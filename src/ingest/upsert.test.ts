import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { readRecord } from '../records/read-records.js';
import type { RecordInputs } from './schemas.js';
import { SINGLE_STATEMENT_MAX, upsertRecords } from './upsert.js';
import { validateBatch } from './validate.js';
import { onRecordsWritten } from './written.js';

const countFeedback = async (db: Db, workspaceId: number): Promise<number> => {
  const { count } = await db
    .selectFrom('feedback')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(count);
};

const valid = <T extends RecordType>(type: T, records: unknown[]) =>
  validateBatch(type, records) as RecordInputs[T][];

describeEachDatabase('upsertRecords', (database) => {
  const db = () => database().db;
  /** Validates records as the API does and upserts them into the workspace. */
  const put = <T extends RecordType>(ws: { id: number }, type: T, records: unknown[]) =>
    upsertRecords(db(), ws.id, type, valid(type, records));

  test('a write of records signals the closed loop; customers and unchanged resends do not', async () => {
    const ws = await createTestWorkspace(db());
    let signals = 0;
    const stop = onRecordsWritten(() => {
      signals++;
    });
    try {
      const feedback = (count: number) =>
        Array.from({ length: count }, (_, i) => ({
          externalId: `F-${i}`,
          customerId: 'C-1',
          occurredAt: '2026-03-01T10:00:00Z',
          nps: 3,
        }));
      await put(ws, 'customers', [{ externalId: 'C-9', name: 'Nobody' }]);
      expect(signals).toBe(0);
      await put(ws, 'feedback', feedback(2)); // one statement
      expect(signals).toBe(1);
      await put(ws, 'feedback', feedback(2)); // the same again: nothing written
      expect(signals).toBe(1);
      await put(ws, 'feedback', feedback(SINGLE_STATEMENT_MAX + 1)); // the transactional path
      expect(signals).toBe(2);
    } finally {
      stop();
    }
  });

  test('creates, then reports a resent batch as unchanged and a changed record as updated', async () => {
    const ws = await createTestWorkspace(db());
    const batch = valid('feedback', [
      { externalId: 'F-1', customerId: 'C-1', occurredAt: '2026-03-01T10:00:00Z', nps: 9, text: 'Great' },
      { externalId: 'F-2', customerId: 'C-1', occurredAt: '2026-03-02T10:00:00Z', csat: 2 },
      {
        externalId: 'F-3',
        customerId: 'C-2',
        occurredAt: '2026-03-03T10:00:00Z',
        ces: 6,
        answers: { wifi: 3 },
      },
    ]);
    expect(await upsertRecords(db(), ws.id, 'feedback', batch)).toEqual({
      created: 3,
      updated: 0,
      unchanged: 0,
      customersCreated: 2,
    });
    expect(await upsertRecords(db(), ws.id, 'feedback', batch)).toEqual({
      created: 0,
      updated: 0,
      unchanged: 3,
      customersCreated: 0,
    });
    const changed = valid('feedback', [
      {
        externalId: 'F-1',
        customerId: 'C-1',
        occurredAt: '2026-03-01T10:00:00Z',
        nps: 3,
        text: 'Changed my mind',
      },
      { externalId: 'F-2', customerId: 'C-1', occurredAt: '2026-03-02T10:00:00Z', csat: 2 },
    ]);
    expect(await upsertRecords(db(), ws.id, 'feedback', changed)).toEqual({
      created: 0,
      updated: 1,
      unchanged: 1,
      customersCreated: 0,
    });
    const stored = await readRecord(db(), ws.id, 'feedback', 'F-1');
    expect(stored).toMatchObject({
      nps: 3,
      text: 'Changed my mind',
      experienceRating: 'disastrous',
      customerId: 'C-1',
    });
  });

  test('an unchanged resend keeps updatedAt; a change moves it', async () => {
    const ws = await createTestWorkspace(db());
    const record = {
      externalId: 'I-1',
      customerId: 'C-1',
      channel: 'phone',
      occurredAt: '2026-03-01T10:00:00Z',
      transfers: 1,
    };
    await put(ws, 'interactions', [record]);
    const first = await readRecord(db(), ws.id, 'interaction', 'I-1');
    await put(ws, 'interactions', [record]);
    expect((await readRecord(db(), ws.id, 'interaction', 'I-1')).updatedAt).toBe(first.updatedAt);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await put(ws, 'interactions', [{ ...record, transfers: 2 }]);
    const second = await readRecord(db(), ws.id, 'interaction', 'I-1');
    expect(second.transfers).toBe(2);
    expect(second.updatedAt > first.updatedAt).toBe(true);
  });

  test('customers merge: omitted fields are kept, null clears, attributes merge by key', async () => {
    const ws = await createTestWorkspace(db());
    await put(ws, 'customers', [
      {
        externalId: 'C-1',
        name: 'Ada Lovelace',
        email: 'ada@example.com',
        segment: 'enterprise',
        lifecycleStage: 'new',
        personalityType: 'relationship',
        value: 1200.5,
        attributes: { plan: 'gold', region: 'north' },
      },
    ]);
    const summary = await put(ws, 'customers', [
      { externalId: 'C-1', email: null, lifecycleStage: 'current', attributes: { region: null, tier: 2 } },
    ]);
    expect(summary).toMatchObject({ created: 0, updated: 1 });
    const [row] = await db().selectFrom('customer').selectAll().where('workspace_id', '=', ws.id).execute();
    expect(row).toMatchObject({
      name: 'Ada Lovelace',
      email: null,
      segment: 'enterprise',
      lifecycle_stage: 'current',
      personality_type: 'relationship',
      value: 1200.5,
      attributes: { plan: 'gold', tier: 2 },
    });
    // attributes: null removes them all; an absent personality type is kept.
    await put(ws, 'customers', [{ externalId: 'C-1', attributes: null }]);
    const after = await db()
      .selectFrom('customer')
      .selectAll()
      .where('workspace_id', '=', ws.id)
      .executeTakeFirstOrThrow();
    expect(after.attributes).toEqual({});
    expect(after.personality_type).toBe('relationship');
  });

  test('every change of life-cycle stage is kept with its date', async () => {
    const ws = await createTestWorkspace(db());
    for (const lifecycleStage of ['new', 'new', 'current', 'ending']) {
      await put(ws, 'customers', [{ externalId: 'C-1', lifecycleStage }]);
    }
    await put(ws, 'customers', [{ externalId: 'C-1', name: 'No stage change' }]);
    const history = await db()
      .selectFrom('customer_stage_history')
      .select('lifecycle_stage')
      .where('workspace_id', '=', ws.id)
      .orderBy('id')
      .execute();
    expect(history.map((h) => h.lifecycle_stage)).toEqual(['new', 'current', 'ending']);
  });

  test('a reference to an unknown customer creates it, and the later customer record fills it in', async () => {
    const ws = await createTestWorkspace(db());
    const s = await put(ws, 'events', [
      { externalId: 'E-1', customerId: 'C-9', type: 'purchase', occurredAt: '2026-01-05', amount: 99.95 },
    ]);
    expect(s).toEqual({ created: 1, updated: 0, unchanged: 0, customersCreated: 1 });
    const c = await put(ws, 'customers', [{ externalId: 'C-9', name: 'Late Arrival' }]);
    expect(c).toEqual({ created: 0, updated: 1, unchanged: 0, customersCreated: 0 });
    expect(await readRecord(db(), ws.id, 'event', 'E-1')).toMatchObject({
      customerId: 'C-9',
      amount: 99.95,
      type: 'purchase',
    });
  });

  test('interactions and feedback keep the customer context of the encounter', async () => {
    const ws = await createTestWorkspace(db());
    await put(ws, 'customers', [
      { externalId: 'C-1', lifecycleStage: 'renewing', personalityType: 'prompt', segment: 'smb' },
    ]);
    await put(ws, 'interactions', [
      {
        externalId: 'I-1',
        customerId: 'C-1',
        channel: 'chat',
        touchpoint: 'billing',
        occurredAt: '2026-02-01T09:00:00Z',
      },
    ]);
    await put(ws, 'customers', [{ externalId: 'C-1', lifecycleStage: 'ending' }]);
    await put(ws, 'feedback', [
      { externalId: 'F-1', interactionId: 'I-1', occurredAt: '2026-02-01T10:00:00Z', csat: 1 },
    ]);
    const interaction = await readRecord(db(), ws.id, 'interaction', 'I-1');
    expect(interaction.atEncounter).toEqual({
      lifecycleStage: 'renewing',
      personalityType: 'prompt',
      segment: 'smb',
    });
    // Feedback naming only its interaction takes customer, channel and touchpoint from it.
    const feedback = await readRecord(db(), ws.id, 'feedback', 'F-1');
    expect(feedback).toMatchObject({
      customerId: 'C-1',
      channel: 'chat',
      touchpoint: 'billing',
      interactionId: 'I-1',
      experienceRating: 'disastrous',
      atEncounter: { lifecycleStage: 'ending', personalityType: 'prompt', segment: 'smb' },
    });
  });

  test('feedback about an interaction that has not arrived yet is kept, and anonymous reviews are allowed', async () => {
    const ws = await createTestWorkspace(db());
    const s = await put(ws, 'feedback', [
      { externalId: 'F-1', interactionId: 'I-later', occurredAt: '2026-02-01T10:00:00Z', nps: 10 },
      {
        externalId: 'R-1',
        source: 'review',
        channel: 'web',
        occurredAt: '2026-02-02',
        text: 'Lovely shop',
      },
    ]);
    expect(s).toEqual({ created: 2, updated: 0, unchanged: 0, customersCreated: 0 });
    expect(await readRecord(db(), ws.id, 'feedback', 'F-1')).toMatchObject({
      customerId: null,
      interactionId: 'I-later',
      experienceRating: 'fabulous',
    });
    expect(await readRecord(db(), ws.id, 'feedback', 'R-1')).toMatchObject({
      source: 'review',
      experienceRating: null,
    });
  });

  test('within one batch, the last record with an externalId wins', async () => {
    const ws = await createTestWorkspace(db());
    const s = await put(ws, 'interactions', [
      {
        externalId: 'I-1',
        customerId: 'C-1',
        channel: 'phone',
        occurredAt: '2026-02-01T09:00:00Z',
        transfers: 1,
      },
      {
        externalId: 'I-1',
        customerId: 'C-1',
        channel: 'phone',
        occurredAt: '2026-02-01T09:00:00Z',
        transfers: 4,
      },
    ]);
    expect(s.created).toBe(1);
    expect((await readRecord(db(), ws.id, 'interaction', 'I-1')).transfers).toBe(4);
  });

  test('timestamps with offsets are stored as the same instant', async () => {
    const ws = await createTestWorkspace(db());
    await put(ws, 'events', [
      {
        externalId: 'E-1',
        customerId: 'C-1',
        type: 'renewal',
        occurredAt: '2026-03-01T14:05:09.123+02:00',
      },
    ]);
    expect((await readRecord(db(), ws.id, 'event', 'E-1')).occurredAt).toBe('2026-03-01T12:05:09.123Z');
    // The same instant written differently is unchanged.
    const again = await put(ws, 'events', [
      { externalId: 'E-1', customerId: 'C-1', type: 'renewal', occurredAt: '2026-03-01T12:05:09.123Z' },
    ]);
    expect(again.unchanged).toBe(1);
  });

  test('the same externalId in two workspaces is two records', async () => {
    const a = await createTestWorkspace(db());
    const b = await createTestWorkspace(db());
    const record = { externalId: 'F-1', customerId: 'C-1', occurredAt: '2026-03-01', nps: 1 };
    await put(a, 'feedback', [record]);
    expect(await put(b, 'feedback', [{ ...record, nps: 10 }])).toMatchObject({
      created: 1,
      customersCreated: 1,
    });
    expect((await readRecord(db(), a.id, 'feedback', 'F-1')).nps).toBe(1);
    expect((await readRecord(db(), b.id, 'feedback', 'F-1')).nps).toBe(10);
  });

  test('a batch of 10,000 records is written in one go', async () => {
    const ws = await createTestWorkspace(db());
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      externalId: `F-${i}`,
      customerId: `C-${i % 700}`,
      occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
      nps: i % 11,
      channel: 'email',
    }));
    expect(await put(ws, 'feedback', records)).toEqual({
      created: 10_000,
      updated: 0,
      unchanged: 0,
      customersCreated: 700,
    });
    expect(await countFeedback(db(), ws.id)).toBe(10_000);
  });

  test('the same new records sent twice at once are stored once, and reported created once', async () => {
    const ws = await createTestWorkspace(db());
    const batch = valid(
      'feedback',
      Array.from({ length: 300 }, (_, i) => ({
        externalId: `F-${i}`,
        customerId: `C-${i % 40}`,
        occurredAt: '2026-05-01',
        nps: i % 11,
      })),
    );
    const results = await Promise.all([0, 1, 2].map(() => upsertRecords(db(), ws.id, 'feedback', batch)));
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(300);
    expect(results.reduce((sum, r) => sum + r.unchanged, 0)).toBe(600);
    expect(results.reduce((sum, r) => sum + r.customersCreated, 0)).toBe(40);
    expect(await countFeedback(db(), ws.id)).toBe(300);
  });

  test('many single records naming the same new customer at once: one customer, every record linked to it', async () => {
    const ws = await createTestWorkspace(db());
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        upsertRecords(
          db(),
          ws.id,
          i % 2 ? 'interactions' : 'feedback',
          valid(i % 2 ? 'interactions' : 'feedback', [
            i % 2
              ? {
                  externalId: `X-${i}`,
                  customerId: 'C-new',
                  channel: 'chat',
                  occurredAt: '2026-06-01T10:00:00Z',
                }
              : { externalId: `X-${i}`, customerId: 'C-new', occurredAt: '2026-06-01T10:00:00Z', csat: 4 },
          ]),
        ),
      ),
    );
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(24);
    expect(results.reduce((sum, r) => sum + r.customersCreated, 0)).toBe(1);
    const linked = await db()
      .selectFrom('customer')
      .innerJoin('interaction', 'interaction.customer_id', 'customer.id')
      .select('customer.external_id')
      .where('customer.workspace_id', '=', ws.id)
      .execute();
    expect(linked.map((row) => row.external_id)).toEqual(Array(12).fill('C-new'));
    const feedback = await db()
      .selectFrom('feedback')
      .select('customer_id')
      .where('workspace_id', '=', ws.id)
      .execute();
    expect(feedback).toHaveLength(12);
    expect(feedback.every((row) => row.customer_id !== null)).toBe(true);
  });

  test('concurrent batches touching the same customers all land, once', async () => {
    const ws = await createTestWorkspace(db());
    const batches = Array.from({ length: 6 }, (_, b) =>
      valid(
        'interactions',
        Array.from({ length: 200 }, (_, i) => ({
          externalId: `I-${b}-${i}`,
          customerId: `C-${(i * 7 + b) % 50}`,
          channel: 'phone',
          occurredAt: '2026-04-01T10:00:00Z',
        })),
      ),
    );
    const results = await Promise.all(
      batches.map((batch) => upsertRecords(db(), ws.id, 'interactions', batch)),
    );
    expect(results.reduce((sum, r) => sum + r.created, 0)).toBe(1200);
    expect(results.reduce((sum, r) => sum + r.customersCreated, 0)).toBe(50);
  });
});
