import { sql } from 'kysely';
import { expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { foldRollups, foldWhenIdle, scheduleRollupFolding } from '../db/maintenance.js';
import { CHANNELS, LIFECYCLE_STAGES } from '../domain/vocabulary.js';
import { upsertRecords } from '../ingest/upsert.js';
import { validateBatch } from '../ingest/validate.js';
import { type CellQuery, feedbackCells, rollupCovers, rollupGrain } from './cells.js';
import { metricsQuerySchema, parseMetricsRequest } from './params.js';

// The pre-aggregates must give exactly what the feedback table gives, after every kind of write
// (insert, update that moves a record to another cell, resent batch), before and after a fold.

/** A cell query from the API's query-string form. */
const cellQuery = (workspaceId: number, query: Record<string, string | string[]>): CellQuery => {
  const request = parseMetricsRequest(metricsQuerySchema.parse({ measures: 'nps', ...query }));
  return { workspaceId, by: request.by, filters: request.filters, from: request.from, to: request.to };
};

const QUERIES: Record<string, string | string[]>[] = [
  {},
  { by: 'touchpoint' },
  { by: 'lifecycleStage,personalityType,touchpoint' },
  { by: 'segment,channel,source' },
  { by: 'day' },
  { by: 'week,touchpoint' },
  { by: 'month' },
  { by: 'quarter,lifecycleStage' },
  { by: 'touchpoint', filter: 'channel:phone|chat' },
  {
    by: 'channel',
    filter: ['lifecycleStage:new|ending', 'segment:smb'],
    from: '2026-03-02',
    to: '2026-03-20',
  },
  { by: 'day', from: '2026-03-05', to: '2026-03-05' },
  { by: 'touchpoint,month', from: '2026-03-01', to: '2026-03-31' },
  { by: 'week', filter: 'touchpoint:billing' },
];

describeEachDatabase('feedback pre-aggregates', (database, kind) => {
  const db = () => database().db;

  const feedback = (i: number, patch: Record<string, unknown> = {}) => ({
    externalId: `F-${i}`,
    customerId: `C-${i % 7}`,
    source: i % 5 === 0 ? 'review' : 'survey',
    channel: i % 9 === 0 ? undefined : CHANNELS[i % 4],
    touchpoint: i % 6 === 0 ? undefined : ['billing', 'delivery', 'onboarding'][i % 3],
    occurredAt: new Date(Date.UTC(2026, 2, 1 + (i % 25), (i * 7) % 24, i % 60)).toISOString(),
    nps: i % 4 === 3 ? undefined : (i * 3) % 11,
    csat: i % 3 === 0 ? 1 + (i % 5) : undefined,
    ces: i % 2 === 0 ? 1 + (i % 7) : undefined,
    text: 'ok',
    ...patch,
  });
  const put = (workspaceId: number, type: 'customers' | 'feedback', records: unknown[]) =>
    upsertRecords(db(), workspaceId, type, validateBatch(type, records));

  const pendingDeltas = async (workspaceId: number) =>
    (
      await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM feedback_rollup_delta WHERE workspace_id = ${workspaceId}`.execute(
        db(),
      )
    ).rows[0]?.n;
  const expectSame = async (workspaceId: number) => {
    for (const query of QUERIES) {
      const q = cellQuery(workspaceId, query);
      expect(rollupCovers(q), JSON.stringify(query)).toBe(true);
      const fromRollup = await feedbackCells(db(), q);
      const fromTable = await feedbackCells(db(), q, { rollup: false });
      const sorted = (cells: typeof fromRollup) => ({
        total: cells.total,
        groups: [...cells.groups].sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1)),
      });
      expect(sorted(fromRollup), JSON.stringify(query)).toEqual(sorted(fromTable));
    }
  };

  test('equal to the feedback table after inserts, moving updates and resends, before and after a fold', async () => {
    const ws = await createTestWorkspace(db());
    const other = await createTestWorkspace(db());
    await put(
      ws.id,
      'customers',
      Array.from({ length: 7 }, (_, i) => ({
        externalId: `C-${i}`,
        lifecycleStage: i === 6 ? undefined : LIFECYCLE_STAGES[i % 5],
        personalityType: ['prompt', 'relationship'][i % 2],
        segment: i % 3 === 0 ? 'smb' : 'consumer',
      })),
    );
    await put(
      ws.id,
      'feedback',
      Array.from({ length: 300 }, (_, i) => feedback(i)),
    );
    // Another workspace's feedback never counts.
    await put(
      other.id,
      'feedback',
      Array.from({ length: 50 }, (_, i) => feedback(i)),
    );
    await expectSame(ws.id);

    // Updates that move records to another day, touchpoint and score; a small batch (one statement)
    // and a large one (the transaction path) both count.
    await put(ws.id, 'feedback', [
      feedback(3, { touchpoint: 'returns', nps: 0 }),
      feedback(4, { occurredAt: '2026-03-30T10:00:00Z' }),
    ]);
    await put(
      ws.id,
      'feedback',
      Array.from({ length: 250 }, (_, i) => feedback(i, i % 2 === 0 ? { nps: 10, channel: 'store' } : {})),
    );
    // A resent batch changes nothing.
    await put(
      ws.id,
      'feedback',
      Array.from({ length: 250 }, (_, i) => feedback(i, i % 2 === 0 ? { nps: 10, channel: 'store' } : {})),
    );
    await expectSame(ws.id);

    // Other test files share the PostgreSQL database and fold too: what counts is that this
    // workspace's deltas are folded, whoever folded them.
    await foldRollups(db());
    expect(await pendingDeltas(ws.id)).toBe(0);
    await expectSame(ws.id);

    // After the fold, more writes land in the deltas and still count.
    await put(ws.id, 'feedback', [feedback(1000), feedback(5, { nps: 6, touchpoint: undefined })]);
    await expectSame(ws.id);
    await foldRollups(db());
    expect(await pendingDeltas(ws.id)).toBe(0);
    await expectSame(ws.id);
    await expectSame(other.id);
  });

  test('deleted feedback leaves the aggregates (a cell emptied by a move or a delete disappears)', async () => {
    const ws = await createTestWorkspace(db());
    await put(ws.id, 'feedback', [feedback(1, { touchpoint: 'only-here' }), feedback(2)]);
    await foldRollups(db());
    await put(ws.id, 'feedback', [feedback(1, { touchpoint: 'billing' })]);
    await sql`DELETE FROM feedback WHERE workspace_id = ${ws.id} AND external_id = 'F-2'`.execute(db());
    await expectSame(ws.id);
    await foldRollups(db());
    const cells = await feedbackCells(db(), cellQuery(ws.id, { by: 'touchpoint' }));
    expect(cells.groups.map((g) => g.key)).toEqual([['billing']]);
    expect(cells.total.responses).toBe(1);
    await expectSame(ws.id);
  });

  test('the server folds the deltas on a timer', async () => {
    const ws = await createTestWorkspace(db());
    await put(ws.id, 'feedback', [feedback(1), feedback(2)]);
    const pending = async () =>
      Number(
        (
          await sql<{
            n: number;
          }>`SELECT count(*) AS n FROM feedback_rollup_delta WHERE workspace_id = ${ws.id}`.execute(db())
        ).rows[0]?.n,
      );
    expect(await pending()).toBeGreaterThan(0);
    const stop = scheduleRollupFolding(database(), 20);
    try {
      const deadline = Date.now() + 5_000;
      while ((await pending()) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(await pending()).toBe(0);
    } finally {
      await stop();
    }
    const folded = await sql<{
      n: number;
    }>`SELECT sum(responses) AS n FROM feedback_rollup_day WHERE workspace_id = ${ws.id}`.execute(db());
    expect(Number(folded.rows[0]?.n)).toBe(2);
    await expectSame(ws.id);
  });

  // The embedded database's folds: small ones when its connection is free, a full one when overdue.
  if (kind === 'pglite')
    test('embedded folds wait for an idle connection, move small steps, and run anyway when overdue', async () => {
      const ws = await createTestWorkspace(db());
      const allPending = async () =>
        Number(
          (await sql<{ n: number }>`SELECT count(*) AS n FROM feedback_rollup_delta`.execute(db())).rows[0]
            ?.n,
        );
      const waitFor = async (done: () => Promise<boolean>, ms: number) => {
        const deadline = Date.now() + ms;
        while (!(await done()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        return done();
      };
      const batch = (from: number) =>
        put(
          ws.id,
          'feedback',
          Array.from({ length: 200 }, (_, i) => feedback(from + i)),
        );
      let busy = true;
      const stop = foldWhenIdle(db(), () => busy, {
        tickMs: 10,
        idleStep: 5,
        overdueMs: 3_000,
        overdueStep: 1_000,
        anywayMs: 60_000,
      });
      try {
        // The first fold is overdue (none ran yet): all at once, busy or not.
        await batch(0);
        expect(await waitFor(async () => (await allPending()) === 0, 3_000)).toBe(true);
        // A write while the connection is busy: nothing folds before the overdue time...
        await batch(200);
        const pending = await allPending();
        expect(pending).toBeGreaterThan(100);
        await new Promise((r) => setTimeout(r, 200));
        expect(await allPending()).toBe(pending);
        // ...once it is free, steps of 5 rows.
        busy = false;
        expect(await waitFor(async () => (await allPending()) < pending, 2_000)).toBe(true);
        busy = true;
        await new Promise((r) => setTimeout(r, 50));
        const left = await allPending();
        expect(left).toBeGreaterThan(0);
        expect((pending - left) % 5).toBe(0);
        // Busy for good: the overdue fold takes the rest.
        expect(await waitFor(async () => (await allPending()) === 0, 6_000)).toBe(true);
      } finally {
        await stop();
      }
      await expectSame(ws.id);
    });

  test('each query reads the smallest grain that answers it', () => {
    const grain = (query: Record<string, string>) => rollupGrain(cellQuery(1, query));
    expect(grain({})).toBe('day');
    expect(grain({ by: 'week', from: '2026-03-04' })).toBe('day');
    expect(grain({ by: 'touchpoint' })).toBe('month');
    expect(
      grain({ by: 'lifecycleStage,personalityType,touchpoint', from: '2025-01-01', to: '2025-12-31' }),
    ).toBe('month');
    expect(grain({ by: 'quarter,segment' })).toBe('month');
    expect(grain({ by: 'touchpoint', from: '2026-03-02' })).toBe('full');
    expect(grain({ by: 'week,touchpoint' })).toBe('full');
    expect(grain({ by: 'day', filter: 'channel:phone' })).toBe('full');
  });

  test('queries the aggregates cannot answer exactly go to the feedback table', () => {
    const uncovered: Record<string, string>[] = [
      { by: 'team' },
      { by: 'experienceRating' },
      { by: 'customer.attributes.plan' },
      { by: 'answers.q1' },
      { by: 'touchpoint', filter: 'transfers:0' },
      { from: '2026-03-02T12:00:00Z' },
    ];
    for (const query of uncovered)
      expect(rollupCovers(cellQuery(1, query)), JSON.stringify(query)).toBe(false);
  });
});
