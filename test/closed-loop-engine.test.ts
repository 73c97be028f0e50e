import { sql } from 'kysely';
import { beforeAll, expect, test } from 'vitest';
import { updateCase } from '../src/closed-loop/case-work.js';
import { decideRecoveries, escalateDue } from '../src/closed-loop/cases.js';
import { processOutbox } from '../src/closed-loop/processor.js';
import { createRule, deactivateRule } from '../src/closed-loop/rules.js';
import { closedLoopSettingsSchema, writeClosedLoopSettings } from '../src/closed-loop/settings.js';
import { createWebhook } from '../src/closed-loop/webhooks.js';
import type { Db } from '../src/db/index.js';
import { loadDemo } from '../src/demo/load.js';
import type { RecordType } from '../src/domain/vocabulary.js';
import { upsertRecords } from '../src/ingest/upsert.js';
import { validateRecord } from '../src/ingest/validate.js';
import { Channels } from '../src/surveys/channels.js';
import { describeEachDatabase } from './helpers/databases.js';
import { createTestWorkspace } from './helpers/workspace.js';

// The closed-loop engine on real records written like the API writes them: the outbox triggers,
// rule evaluation (every field leaf, the patterns, all/any/not), dedupe into cases, max age,
// workspace isolation, routing, priority and SLA clocks, escalation, recovery, and the demo data set.
// Expected values are worked out by hand from the records each test writes.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The default SLA minutes by severity (settings.ts). */
const DEFAULT_SLA = {
  low: { firstResponseMinutes: 2880, resolveMinutes: 10080 },
  medium: { firstResponseMinutes: 480, resolveMinutes: 4320 },
  high: { firstResponseMinutes: 120, resolveMinutes: 1440 },
  critical: { firstResponseMinutes: 30, resolveMinutes: 480 },
};

/** Validates records like the API does and upserts them. */
const ingest = async (db: Db, workspaceId: number, type: RecordType, records: Record<string, unknown>[]) => {
  const valid = records.map((record) => {
    const result = validateRecord(type, record);
    if (!result.ok)
      throw new Error(`invalid ${type} ${JSON.stringify(record)}: ${JSON.stringify(result.details)}`);
    return result.value;
  });
  return upsertRecords(db, workspaceId, type, valid as never[]);
};

/** As served: on the embedded database the worker runs exclusive (no row locks); set per suite. */
let exclusive = false;

/** Processes the workspace's outbox until it is empty; the sums of the batches. */
const drain = async (db: Db, workspaceId: number, now = new Date()) => {
  const total = { processed: 0, alerts: 0, casesOpened: 0 };
  for (let guard = 0; guard < 1000; guard++) {
    const result = await processOutbox(db, now, { workspaceId, limit: 500, exclusive });
    if (result.processed === 0) return total;
    total.processed += result.processed;
    total.alerts += result.alerts;
    total.casesOpened += result.casesOpened;
  }
  throw new Error('the outbox never emptied');
};

const outboxRows = async (db: Db, workspaceId: number) => {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM alert_outbox WHERE workspace_id = ${workspaceId}`.execute(db);
  return Number(rows[0]?.n);
};

const setSettings = (db: Db, workspaceId: number, settings: Record<string, unknown>) =>
  writeClosedLoopSettings(db, workspaceId, closedLoopSettingsSchema.parse(settings));

/** Creates rules; returns their ids by name. */
const createRules = async (db: Db, workspaceId: number, rules: Record<string, unknown>[]) => {
  const ids: Record<string, number> = {};
  for (const rule of rules) ids[rule.name as string] = (await createRule(db, workspaceId, rule)).id;
  return ids;
};

/** The external ids of the records each rule alerted on, sorted; every named rule present. */
const alertedRecords = async (db: Db, workspaceId: number, ruleNames: string[]) => {
  const { rows } = await sql<{ rule: string; external_id: string }>`
    SELECT r.name AS rule, coalesce(f.external_id, i.external_id, e.external_id) AS external_id
    FROM alert a JOIN alert_rule r ON r.id = a.rule_id
    LEFT JOIN feedback f ON a.record_kind = 'feedback' AND f.id = a.record_id
    LEFT JOIN interaction i ON a.record_kind = 'interaction' AND i.id = a.record_id
    LEFT JOIN event e ON a.record_kind = 'event' AND e.id = a.record_id
    WHERE a.workspace_id = ${workspaceId}`.execute(db);
  const out: Record<string, string[]> = Object.fromEntries(ruleNames.map((name) => [name, []]));
  for (const row of rows) out[row.rule] = [...(out[row.rule] ?? []), row.external_id];
  for (const list of Object.values(out)) list.sort();
  return out;
};

const casesOf = (db: Db, workspaceId: number) =>
  db
    .selectFrom('cx_case')
    .leftJoin('customer', 'customer.id', 'cx_case.customer_id')
    .innerJoin('alert_rule', 'alert_rule.id', 'cx_case.rule_id')
    .select([
      'cx_case.id',
      'cx_case.title',
      'cx_case.status',
      'cx_case.severity',
      'cx_case.priority',
      'cx_case.priority_score',
      'cx_case.owner',
      'cx_case.team',
      'cx_case.touchpoint',
      'cx_case.alert_count',
      'cx_case.first_response_due_at',
      'cx_case.resolve_due_at',
      'cx_case.escalation_level',
      'cx_case.escalated_at',
      'cx_case.recovery',
      'cx_case.recovery_reason',
      'cx_case.created_at',
      'customer.external_id as customer',
      'alert_rule.name as rule',
    ])
    .where('cx_case.workspace_id', '=', workspaceId)
    .orderBy('cx_case.id')
    .execute();

const historyOf = async (db: Db, caseId: number) =>
  db
    .selectFrom('case_event')
    .select(['type', 'actor', 'detail'])
    .where('case_id', '=', caseId)
    .orderBy('id')
    .execute();

const alertsOfCase = async (db: Db, caseId: number) => {
  const { rows } = await sql<{ external_id: string }>`
    SELECT coalesce(f.external_id, i.external_id, e.external_id) AS external_id
    FROM alert a
    LEFT JOIN feedback f ON a.record_kind = 'feedback' AND f.id = a.record_id
    LEFT JOIN interaction i ON a.record_kind = 'interaction' AND i.id = a.record_id
    LEFT JOIN event e ON a.record_kind = 'event' AND e.id = a.record_id
    WHERE a.case_id = ${caseId} ORDER BY a.id`.execute(db);
  return rows.map((row) => row.external_id);
};

/** `channel:recipient` of a case's notifications of one event type, sorted. */
const notificationsOf = async (db: Db, caseId: number, eventType: string) =>
  (
    await db
      .selectFrom('notification')
      .select(['channel', 'recipient'])
      .where('case_id', '=', caseId)
      .where('event_type', '=', eventType)
      .execute()
  )
    .map((row) => `${row.channel}:${row.recipient ?? '-'}`)
    .sort();

describeEachDatabase('closed-loop engine', (database, kind) => {
  beforeAll(() => {
    exclusive = kind === 'pglite';
  });
  // ---------------------------------------------------------------------------------------------
  // 1. Field leaves end to end
  // ---------------------------------------------------------------------------------------------

  test('feedback leaves: nps, csat, ces, experienceRating, text contains/matches, source, channel and touchpoint in, all/any/not', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const nps6 = { field: 'nps', op: 'lte', value: 6 };
    const lawyer = { field: 'text', op: 'matches', value: '\\blawyers?\\b' };
    const rules = [
      { name: 'nps ≤ 6', condition: nps6 },
      { name: 'nps = 10', condition: { field: 'nps', op: 'eq', value: 10 } },
      { name: 'csat ≤ 2', condition: { field: 'csat', op: 'lte', value: 2 } },
      { name: 'ces ≤ 2', condition: { field: 'ces', op: 'lte', value: 2 } },
      { name: 'disastrous', condition: { field: 'experienceRating', op: 'lte', value: 1 } },
      { name: 'poor', condition: { field: 'experienceRating', op: 'eq', value: 2 } },
      { name: 'cancel', condition: { field: 'text', op: 'contains', value: 'cancel' } },
      { name: 'lawyer', condition: lawyer },
      { name: 'complaint', condition: { field: 'source', op: 'eq', value: 'complaint' } },
      { name: 'phone or chat', condition: { field: 'channel', op: 'in', value: ['phone', 'chat'] } },
      {
        name: 'billing or payment',
        condition: { field: 'touchpoint', op: 'in', value: ['billing', 'payment'] },
      },
      {
        name: 'detractor not by email',
        condition: { all: [nps6, { not: { field: 'channel', op: 'eq', value: 'email' } }] },
      },
      {
        name: 'bad csat or ces',
        condition: {
          any: [
            { field: 'csat', op: 'lte', value: 2 },
            { field: 'ces', op: 'lte', value: 2 },
          ],
        },
      },
      {
        name: 'billing disaster',
        condition: {
          all: [
            { field: 'touchpoint', op: 'eq', value: 'billing' },
            { any: [{ field: 'nps', op: 'lte', value: 3 }, lawyer] },
          ],
        },
      },
      {
        name: 'not a promoter, neutral or worse',
        condition: {
          all: [
            { not: { field: 'nps', op: 'gte', value: 9 } },
            { field: 'experienceRating', op: 'lte', value: 3 },
          ],
        },
      },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'medium' })),
    );
    const at = new Date(Date.now() - HOUR).toISOString();
    const base = { customerId: 'C-F', occurredAt: at };
    await ingest(db, ws.id, 'feedback', [
      // rating 2 (poor)
      { ...base, externalId: 'F-1', channel: 'phone', touchpoint: 'billing', nps: 6 },
      // nps 7 → 3, csat 2 → 2: the worst, 2
      { ...base, externalId: 'F-2', channel: 'email', touchpoint: 'payment', nps: 7, csat: 2 },
      // csat 4 → 4, ces 2 → 1: 1 (disastrous)
      { ...base, externalId: 'F-3', channel: 'chat', touchpoint: 'delivery', csat: 4, ces: 2 },
      // 5 (fabulous)
      { ...base, externalId: 'F-4', channel: 'web', touchpoint: 'sales', nps: 10, csat: 5 },
      // no score: no rating
      { ...base, externalId: 'F-5', source: 'complaint', text: 'I want to CANCEL my subscription' },
      // 1 (disastrous)
      {
        ...base,
        externalId: 'F-6',
        channel: 'email',
        touchpoint: 'billing',
        nps: 0,
        text: 'My Lawyer will call you',
      },
      // 4 (good)
      {
        ...base,
        externalId: 'F-7',
        channel: 'phone',
        touchpoint: 'cancellation',
        nps: 9,
        text: 'Cancellation was smooth',
      },
      // 3 (neutral)
      { ...base, externalId: 'F-8', channel: 'sms', nps: 8, text: 'We spoke to lawyers about it, lawyerly.' },
    ]);
    expect(await outboxRows(db, ws.id)).toBe(8);
    const result = await drain(db, ws.id);
    expect(result.processed).toBe(8);
    expect(await outboxRows(db, ws.id)).toBe(0);
    const alerted = await alertedRecords(
      db,
      ws.id,
      rules.map((rule) => rule.name),
    );
    expect(alerted).toEqual({
      'nps ≤ 6': ['F-1', 'F-6'],
      'nps = 10': ['F-4'],
      'csat ≤ 2': ['F-2'],
      'ces ≤ 2': ['F-3'],
      disastrous: ['F-3', 'F-6'],
      poor: ['F-1', 'F-2'],
      cancel: ['F-5', 'F-7'],
      lawyer: ['F-6', 'F-8'],
      complaint: ['F-5'],
      'phone or chat': ['F-1', 'F-3', 'F-7'],
      'billing or payment': ['F-1', 'F-2', 'F-6'],
      'detractor not by email': ['F-1'],
      'bad csat or ces': ['F-2', 'F-3'],
      'billing disaster': ['F-6'],
      'not a promoter, neutral or worse': ['F-1', 'F-2', 'F-3', 'F-6', 'F-8'],
    });
    const alerts = Object.values(alerted).reduce((sum, list) => sum + list.length, 0);
    expect(result.alerts).toBe(alerts);
    // One customer: one case per rule that matched, every alert of the rule on it.
    const cases = await casesOf(db, ws.id);
    expect(cases).toHaveLength(15);
    for (const item of cases) {
      expect(item.alert_count, item.rule).toBe(alerted[item.rule].length);
      expect((await alertsOfCase(db, item.id)).sort(), item.rule).toEqual(alerted[item.rule]);
      // Alerts raised together: the first opens the case, the others attach to it.
      expect(
        (await historyOf(db, item.id)).map((entry) => entry.type),
        item.rule,
      ).toEqual(['opened', ...Array(item.alert_count - 1).fill('alert_attached')]);
    }
    expect(result.casesOpened).toBe(15);
  });

  test('interaction leaves: waitSeconds, transfers, resolved, outcome, team, channel and touchpoint; all/any/not', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'wait > 600', condition: { field: 'waitSeconds', op: 'gt', value: 600 } },
      { name: 'transfers ≥ 2', condition: { field: 'transfers', op: 'gte', value: 2 } },
      { name: 'unresolved', condition: { field: 'resolved', op: 'eq', value: false } },
      { name: 'resolved ne false', condition: { field: 'resolved', op: 'ne', value: false } },
      { name: 'not resolved', condition: { not: { field: 'resolved', op: 'eq', value: true } } },
      { name: 'escalated', condition: { field: 'outcome', op: 'eq', value: 'escalated' } },
      {
        name: 'resolved or callback',
        condition: { field: 'outcome', op: 'in', value: ['resolved', 'callback'] },
      },
      { name: 'team Billing', condition: { field: 'team', op: 'eq', value: 'Billing' } },
      { name: 'team contains logis', condition: { field: 'team', op: 'contains', value: 'logis' } },
      { name: 'phone or chat', condition: { field: 'channel', op: 'in', value: ['phone', 'chat'] } },
      {
        name: 'delivery or order status',
        condition: { field: 'touchpoint', op: 'in', value: ['delivery', 'order_status'] },
      },
      {
        name: 'long wait or resolved',
        condition: {
          any: [
            { field: 'waitSeconds', op: 'gt', value: 600 },
            { field: 'outcome', op: 'eq', value: 'resolved' },
          ],
        },
      },
      {
        name: 'clean chat',
        condition: {
          all: [
            { field: 'channel', op: 'eq', value: 'chat' },
            { field: 'resolved', op: 'eq', value: true },
            { field: 'transfers', op: 'eq', value: 0 },
          ],
        },
      },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'low' })),
    );
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    await ingest(db, ws.id, 'interactions', [
      {
        externalId: 'I-1',
        customerId: 'C-I',
        occurredAt,
        channel: 'phone',
        touchpoint: 'billing',
        waitSeconds: 700,
        transfers: 2,
        resolved: false,
        outcome: 'escalated',
        team: 'Billing',
      },
      {
        externalId: 'I-2',
        customerId: 'C-I',
        occurredAt,
        channel: 'chat',
        touchpoint: 'delivery',
        waitSeconds: 30,
        transfers: 0,
        resolved: true,
        outcome: 'resolved',
        team: 'Logistics',
      },
      { externalId: 'I-3', customerId: 'C-I', occurredAt, channel: 'web', touchpoint: 'order_status' },
    ]);
    const result = await drain(db, ws.id);
    expect(result.processed).toBe(3);
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({
      'wait > 600': ['I-1'],
      'transfers ≥ 2': ['I-1'],
      unresolved: ['I-1'],
      // I-3 has no resolved flag: a missing field matches no op, ne included.
      'resolved ne false': ['I-2'],
      'not resolved': ['I-1', 'I-3'],
      escalated: ['I-1'],
      'resolved or callback': ['I-2'],
      'team Billing': ['I-1'],
      'team contains logis': ['I-2'],
      'phone or chat': ['I-1', 'I-2'],
      'delivery or order status': ['I-2', 'I-3'],
      'long wait or resolved': ['I-1', 'I-2'],
      'clean chat': ['I-2'],
    });
  });

  test('event leaves: eventType eq/in/ne, amount; customer value on events', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'churn', condition: { field: 'eventType', op: 'eq', value: 'churn' } },
      {
        name: 'renewal or purchase',
        condition: { field: 'eventType', op: 'in', value: ['renewal', 'purchase'] },
      },
      { name: 'amount ≥ 1000', condition: { field: 'amount', op: 'gte', value: 1000 } },
      { name: 'negative amount', condition: { field: 'amount', op: 'lt', value: 0 } },
      {
        name: 'small purchase',
        condition: {
          all: [
            { field: 'eventType', op: 'eq', value: 'purchase' },
            { field: 'amount', op: 'lt', value: 1000 },
          ],
        },
      },
      {
        name: 'no purchase, nothing gained',
        condition: {
          all: [
            { field: 'eventType', op: 'ne', value: 'purchase' },
            { not: { field: 'amount', op: 'gt', value: 0 } },
          ],
        },
      },
      { name: 'valuable customer', condition: { field: 'value', op: 'gte', value: 10000 } },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'high' })),
    );
    await ingest(db, ws.id, 'customers', [{ externalId: 'C-E', segment: 'enterprise', value: 15000 }]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    await ingest(db, ws.id, 'events', [
      { externalId: 'E-1', customerId: 'C-E', occurredAt, type: 'churn', amount: -500 },
      { externalId: 'E-2', customerId: 'C-E', occurredAt, type: 'renewal', amount: 1200 },
      { externalId: 'E-3', customerId: 'C-E', occurredAt, type: 'purchase', amount: 999.99 },
      { externalId: 'E-4', customerId: 'C-E', occurredAt, type: 'purchase' },
    ]);
    expect((await drain(db, ws.id)).processed).toBe(4);
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({
      churn: ['E-1'],
      'renewal or purchase': ['E-2', 'E-3', 'E-4'],
      'amount ≥ 1000': ['E-2'],
      'negative amount': ['E-1'],
      'small purchase': ['E-3'],
      'no purchase, nothing gained': ['E-1'],
      'valuable customer': ['E-1', 'E-2', 'E-3', 'E-4'],
    });
  });

  test('customer leaves on every kind: segment, value, lifecycleStage, personalityType', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'small business', condition: { field: 'segment', op: 'eq', value: 'small_business' } },
      {
        name: 'enterprise or consumer',
        condition: { field: 'segment', op: 'in', value: ['enterprise', 'consumer'] },
      },
      {
        name: 'segment contains BUSINESS',
        condition: { field: 'segment', op: 'contains', value: 'BUSINESS' },
      },
      { name: 'valuable', condition: { field: 'value', op: 'gte', value: 10000 } },
      {
        name: 'mid value',
        condition: {
          all: [
            { field: 'value', op: 'gte', value: 1000 },
            { field: 'value', op: 'lt', value: 10000 },
          ],
        },
      },
      { name: 'no value', condition: { not: { field: 'value', op: 'gte', value: 0 } } },
      { name: 'ending or new', condition: { field: 'lifecycleStage', op: 'in', value: ['ending', 'new'] } },
      { name: 'relationship', condition: { field: 'personalityType', op: 'eq', value: 'relationship' } },
      { name: 'unknown personality', condition: { field: 'personalityType', op: 'eq', value: 'unknown' } },
      {
        name: 'small business, ending, prompt',
        condition: {
          all: [
            { field: 'segment', op: 'eq', value: 'small_business' },
            { field: 'lifecycleStage', op: 'eq', value: 'ending' },
            { field: 'personalityType', op: 'eq', value: 'prompt' },
          ],
        },
      },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'medium' })),
    );
    await ingest(db, ws.id, 'customers', [
      {
        externalId: 'K-A',
        segment: 'small_business',
        value: 5000,
        lifecycleStage: 'ending',
        personalityType: 'prompt',
      },
      {
        externalId: 'K-B',
        segment: 'enterprise',
        value: 50000,
        lifecycleStage: 'current',
        personalityType: 'relationship',
      },
      // No value; personality type defaults to unknown.
      { externalId: 'K-C', segment: 'consumer', lifecycleStage: 'new' },
    ]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'F-A', customerId: 'K-A', occurredAt, nps: 5 },
      { externalId: 'F-B', customerId: 'K-B', occurredAt, nps: 9 },
      { externalId: 'F-C', customerId: 'K-C', occurredAt, csat: 3 },
    ]);
    await ingest(db, ws.id, 'events', [
      { externalId: 'E-B', customerId: 'K-B', occurredAt, type: 'purchase', amount: 100 },
    ]);
    await ingest(db, ws.id, 'interactions', [
      { externalId: 'I-C', customerId: 'K-C', occurredAt, channel: 'web' },
    ]);
    expect((await drain(db, ws.id)).processed).toBe(5);
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({
      'small business': ['F-A'],
      'enterprise or consumer': ['E-B', 'F-B', 'F-C', 'I-C'],
      'segment contains BUSINESS': ['F-A'],
      valuable: ['E-B', 'F-B'],
      'mid value': ['F-A'],
      'no value': ['F-C', 'I-C'],
      'ending or new': ['F-A', 'F-C', 'I-C'],
      relationship: ['E-B', 'F-B'],
      'unknown personality': ['F-C', 'I-C'],
      'small business, ending, prompt': ['F-A'],
    });
  });

  test("the record's own snapshot of segment, stage and personality type wins over the customer's current one", async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'was small business', condition: { field: 'segment', op: 'eq', value: 'small_business' } },
      { name: 'was ending', condition: { field: 'lifecycleStage', op: 'eq', value: 'ending' } },
      { name: 'was prompt', condition: { field: 'personalityType', op: 'eq', value: 'prompt' } },
      { name: 'is enterprise', condition: { field: 'segment', op: 'eq', value: 'enterprise' } },
      { name: 'is advocate', condition: { field: 'lifecycleStage', op: 'eq', value: 'advocate' } },
      { name: 'is relationship', condition: { field: 'personalityType', op: 'eq', value: 'relationship' } },
      // value has no snapshot: the customer's current value.
      { name: 'valuable now', condition: { field: 'value', op: 'gte', value: 10000 } },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'medium' })),
    );
    await ingest(db, ws.id, 'customers', [
      {
        externalId: 'K-S',
        segment: 'small_business',
        lifecycleStage: 'ending',
        personalityType: 'prompt',
        value: 5000,
      },
    ]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    await ingest(db, ws.id, 'feedback', [{ externalId: 'F-S', customerId: 'K-S', occurredAt, nps: 5 }]);
    await ingest(db, ws.id, 'interactions', [
      { externalId: 'I-S', customerId: 'K-S', occurredAt, channel: 'phone' },
    ]);
    // The customer changes after the encounters, before the outbox is processed.
    await ingest(db, ws.id, 'customers', [
      {
        externalId: 'K-S',
        segment: 'enterprise',
        lifecycleStage: 'advocate',
        personalityType: 'relationship',
        value: 20000,
      },
    ]);
    const stored = await sql<{ segment: string; lifecycle_stage: string; personality_type: string }>`
      SELECT segment, lifecycle_stage, personality_type FROM feedback WHERE workspace_id = ${ws.id}
      UNION ALL
      SELECT segment, lifecycle_stage, personality_type FROM interaction WHERE workspace_id = ${ws.id}`.execute(
      db,
    );
    expect(stored.rows).toEqual([
      { segment: 'small_business', lifecycle_stage: 'ending', personality_type: 'prompt' },
      { segment: 'small_business', lifecycle_stage: 'ending', personality_type: 'prompt' },
    ]);
    expect((await drain(db, ws.id)).processed).toBe(2);
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({
      'was small business': ['F-S', 'I-S'],
      'was ending': ['F-S', 'I-S'],
      'was prompt': ['F-S', 'I-S'],
      'is enterprise': [],
      'is advocate': [],
      'is relationship': [],
      'valuable now': ['F-S', 'I-S'],
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 2. Patterns
  // ---------------------------------------------------------------------------------------------

  test('repeatContact counts the customer’s own interactions within the window, the current one included', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'three in a week', condition: { pattern: 'repeatContact', count: 3, withinDays: 7 } },
      { name: 'two in a day', condition: { pattern: 'repeatContact', count: 2, withinDays: 1 } },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'medium', maxAgeHours: 24 * 30 })),
    );
    const now = Date.now();
    const contact = (externalId: string, customerId: string, before: number) => ({
      externalId,
      customerId,
      channel: 'phone',
      touchpoint: 'support',
      occurredAt: new Date(now - before).toISOString(),
    });
    await ingest(db, ws.id, 'interactions', [
      contact('R-1', 'K-R', 20 * DAY),
      contact('R-2', 'K-R', 5 * DAY),
      contact('R-3', 'K-R', 3 * DAY),
      contact('R-4', 'K-R', HOUR),
      contact('R-5', 'K-R', 30 * MINUTE),
      // Two customers whose contacts interleave: together they would be four within a week.
      contact('S-1', 'K-S', 2 * DAY),
      contact('S-2', 'K-S', 1.5 * DAY),
      contact('T-1', 'K-T', 1.8 * DAY),
      contact('T-2', 'K-T', 0.2 * DAY),
    ]);
    const result = await drain(db, ws.id);
    expect(result.processed).toBe(9);
    // three in a week: R-1 1, R-2 1 (R-1 is 15 days older), R-3 2, R-4 3, R-5 4; S and T at most 2.
    // two in a day: R-5 (R-4 half an hour before), S-2 (S-1 half a day before); T-2 is 1.6 days after T-1.
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({ 'three in a week': ['R-4', 'R-5'], 'two in a day': ['R-5', 'S-2'] });
    expect(result).toMatchObject({ alerts: 4, casesOpened: 3 });
    const cases = await casesOf(db, ws.id);
    expect(cases.map((item) => [item.rule, item.customer, item.alert_count])).toEqual(
      expect.arrayContaining([
        ['three in a week', 'K-R', 2],
        ['two in a day', 'K-R', 1],
        ['two in a day', 'K-S', 1],
      ]),
    );
  });

  test('transfers atLeast and longWait overSeconds', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const rules = [
      { name: 'transferred', condition: { pattern: 'transfers', atLeast: 2 } },
      { name: 'long wait', condition: { pattern: 'longWait', overSeconds: 600 } },
    ];
    await createRules(
      db,
      ws.id,
      rules.map((rule) => ({ ...rule, severity: 'medium' })),
    );
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    const contact = (externalId: string, fields: Record<string, unknown>) => ({
      externalId,
      customerId: 'K-U',
      channel: 'phone',
      occurredAt,
      ...fields,
    });
    await ingest(db, ws.id, 'interactions', [
      contact('U-1', { transfers: 1, waitSeconds: 600 }),
      contact('U-2', { transfers: 2, waitSeconds: 601 }),
      contact('U-3', { transfers: 3 }),
      contact('U-4', { waitSeconds: 5000 }),
      contact('U-5', { transfers: 0, waitSeconds: 0 }),
    ]);
    // Only the contacts the rules may match are queued (not U-1 and U-5).
    expect(await drain(db, ws.id)).toEqual({ processed: 3, alerts: 4, casesOpened: 2 });
    expect(
      await alertedRecords(
        db,
        ws.id,
        rules.map((rule) => rule.name),
      ),
    ).toEqual({ transferred: ['U-2', 'U-3'], 'long wait': ['U-2', 'U-4'] });
  });

  test('promoterTurnedDetractor: the previous feedback with an NPS was 9 or 10 and this one is 0–6', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await createRule(db, ws.id, {
      name: 'turned',
      condition: { pattern: 'promoterTurnedDetractor' },
      severity: 'high',
      maxAgeHours: 24 * 30,
    });
    const now = Date.now();
    const fb = (externalId: string, customerId: string, before: number, scores: Record<string, number>) => ({
      externalId,
      customerId,
      occurredAt: new Date(now - before).toISOString(),
      ...scores,
    });
    await ingest(db, ws.id, 'feedback', [
      // 9, then a feedback without NPS, then 6: the previous NPS is 9.
      fb('P-1', 'K-P', 10 * DAY, { nps: 9 }),
      fb('P-2', 'K-P', 5 * DAY, { csat: 4 }),
      fb('P-3', 'K-P', DAY, { nps: 6 }),
      // A previous 8 is no promoter.
      fb('Q-1', 'K-Q', 10 * DAY, { nps: 8 }),
      fb('Q-2', 'K-Q', DAY, { nps: 2 }),
      // The first feedback ever.
      fb('R-1', 'K-R', DAY, { nps: 3 }),
      // 10, 7, 4: the previous one is 7.
      fb('S-1', 'K-S', 10 * DAY, { nps: 10 }),
      fb('S-2', 'K-S', 5 * DAY, { nps: 7 }),
      fb('S-3', 'K-S', DAY, { nps: 4 }),
      // 10, 6, 5: only the 6 turned.
      fb('T-1', 'K-T', 3 * DAY, { nps: 10 }),
      fb('T-2', 'K-T', 2 * DAY, { nps: 6 }),
      fb('T-3', 'K-T', DAY, { nps: 5 }),
    ]);
    // Only the detractors are queued: the pattern needs one now.
    expect((await drain(db, ws.id)).processed).toBe(6);
    expect(await alertedRecords(db, ws.id, ['turned'])).toEqual({ turned: ['P-3', 'T-2'] });
  });

  // ---------------------------------------------------------------------------------------------
  // 3. Dedupe
  // ---------------------------------------------------------------------------------------------

  test('one open case per customer and rule; re-sent records never alert twice; a resolved case lets a new one open; no customer: a case per record', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const ids = await createRules(db, ws.id, [
      { name: 'Detractor', condition: { field: 'nps', op: 'lte', value: 6 }, severity: 'high' },
      { name: 'Refund', condition: { field: 'text', op: 'contains', value: 'refund' }, severity: 'medium' },
    ]);
    const now = Date.now();
    const fb = (externalId: string, fields: Record<string, unknown>, customerId: string | null = 'C-1') => ({
      externalId,
      ...(customerId ? { customerId } : {}),
      touchpoint: 'billing',
      occurredAt: new Date(now - 3 * HOUR).toISOString(),
      ...fields,
    });

    await ingest(db, ws.id, 'feedback', [fb('F-1', { nps: 3 })]);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    let cases = await casesOf(db, ws.id);
    expect(cases).toHaveLength(1);
    const first = cases[0];
    expect(first).toMatchObject({ rule: 'Detractor', customer: 'C-1', status: 'open', alert_count: 1 });

    // A second detractor feedback attaches; a promoter raises nothing (it is not even queued).
    await ingest(db, ws.id, 'feedback', [fb('F-2', { nps: 5 }), fb('F-3', { nps: 9 })]);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 0 });
    cases = await casesOf(db, ws.id);
    expect(cases).toHaveLength(1);
    expect(cases[0].alert_count).toBe(2);
    expect(await alertsOfCase(db, first.id)).toEqual(['F-1', 'F-2']);
    const history = await historyOf(db, first.id);
    expect(history.map((entry) => entry.type)).toEqual(['opened', 'alert_attached']);
    expect(history[1].detail).toMatchObject({ record: { kind: 'feedback', externalId: 'F-2' } });

    // A record matching both rules: attaches to the Detractor case, opens the Refund case.
    await ingest(db, ws.id, 'feedback', [fb('F-4', { nps: 2, text: 'I want a REFUND now' })]);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 2, casesOpened: 1 });
    cases = await casesOf(db, ws.id);
    expect(cases.map((item) => [item.rule, item.customer, item.alert_count])).toEqual([
      ['Detractor', 'C-1', 3],
      ['Refund', 'C-1', 1],
    ]);

    // Re-sent unchanged: nothing written, no outbox row.
    expect(await ingest(db, ws.id, 'feedback', [fb('F-1', { nps: 3 })])).toMatchObject({
      created: 0,
      updated: 0,
      unchanged: 1,
    });
    expect(await outboxRows(db, ws.id)).toBe(0);
    expect(await drain(db, ws.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
    // Re-sent changed: evaluated again, but its alert exists.
    expect(await ingest(db, ws.id, 'feedback', [fb('F-1', { nps: 2, text: 'still bad' })])).toMatchObject({
      updated: 1,
    });
    expect(await outboxRows(db, ws.id)).toBe(1);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 0, casesOpened: 0 });
    expect((await casesOf(db, ws.id))[0].alert_count).toBe(3);

    // Resolved: re-sent records still raise nothing; a new detractor opens a new case.
    await updateCase(
      { db, channels: new Channels(null) },
      ws.id,
      first.id,
      { status: 'resolved' },
      'ann@example.com',
    );
    await ingest(db, ws.id, 'feedback', [fb('F-2', { nps: 4 })]);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 0, casesOpened: 0 });
    await ingest(db, ws.id, 'feedback', [fb('F-5', { nps: 1 })]);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    cases = await casesOf(db, ws.id);
    expect(cases.map((item) => [item.rule, item.customer, item.status, item.alert_count])).toEqual([
      ['Detractor', 'C-1', 'resolved', 3],
      ['Refund', 'C-1', 'open', 1],
      ['Detractor', 'C-1', 'open', 1],
    ]);
    expect(await alertsOfCase(db, cases[2].id)).toEqual(['F-5']);
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM alert WHERE rule_id = ${ids.Detractor}`.execute(db);
    expect(rows[0].n).toBe(4);

    // Without a customer there is nothing to group by: a case per record.
    await ingest(db, ws.id, 'feedback', [fb('A-1', { nps: 0 }, null), fb('A-2', { nps: 0 }, null)]);
    expect(await drain(db, ws.id)).toEqual({ processed: 2, alerts: 2, casesOpened: 2 });
    const anonymous = (await casesOf(db, ws.id)).filter((item) => item.customer === null);
    expect(anonymous.map((item) => [item.title, item.alert_count]).sort()).toEqual([
      ['Detractor: A-1', 1],
      ['Detractor: A-2', 1],
    ]);
    for (const item of anonymous) expect(await alertsOfCase(db, item.id)).toEqual([item.title.slice(11)]);
  });

  // ---------------------------------------------------------------------------------------------
  // 4. Max age, inactive rules, workspaces
  // ---------------------------------------------------------------------------------------------

  test("maxAgeHours: older records write no outbox row and raise nothing; each rule's own age applies", async () => {
    const { db } = database();
    const now = Date.now();
    const ws = await createTestWorkspace(db);
    await createRule(db, ws.id, {
      name: 'Day',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'low',
      maxAgeHours: 24,
    });
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'OLD', customerId: 'C-1', occurredAt: new Date(now - 25 * HOUR).toISOString(), nps: 1 },
    ]);
    expect(await outboxRows(db, ws.id)).toBe(0);
    expect(await drain(db, ws.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'NEW', customerId: 'C-1', occurredAt: new Date(now - 23 * HOUR).toISOString(), nps: 1 },
    ]);
    expect(await outboxRows(db, ws.id)).toBe(1);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    expect(await alertedRecords(db, ws.id, ['Day'])).toEqual({ Day: ['NEW'] });

    // Two rules: the outbox keeps what the oldest-reaching rule may match; each rule judges by its own age.
    const two = await createTestWorkspace(db);
    await createRules(db, two.id, [
      { name: 'Day', condition: { field: 'nps', op: 'lte', value: 6 }, severity: 'low', maxAgeHours: 24 },
      { name: 'Week', condition: { field: 'csat', op: 'lte', value: 2 }, severity: 'low', maxAgeHours: 168 },
    ]);
    await ingest(db, two.id, 'feedback', [
      {
        externalId: 'TWO-DAYS',
        customerId: 'C-1',
        occurredAt: new Date(now - 48 * HOUR).toISOString(),
        nps: 1,
        csat: 1,
      },
      {
        externalId: 'NINE-DAYS',
        customerId: 'C-1',
        occurredAt: new Date(now - 9 * DAY).toISOString(),
        nps: 1,
        csat: 1,
      },
    ]);
    expect(await outboxRows(db, two.id)).toBe(1);
    expect(await drain(db, two.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    expect(await alertedRecords(db, two.id, ['Day', 'Week'])).toEqual({ Day: [], Week: ['TWO-DAYS'] });
  });

  test('inactive rules raise nothing; a workspace without rules gets no outbox rows', async () => {
    const { db } = database();
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    const ws = await createTestWorkspace(db);
    const gone = await createRule(db, ws.id, {
      name: 'Gone',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'low',
    });
    await deactivateRule(db, ws.id, gone.id);
    await createRule(db, ws.id, {
      name: 'Never',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'low',
      active: false,
    });
    await ingest(db, ws.id, 'feedback', [{ externalId: 'F-1', customerId: 'C-1', occurredAt, nps: 1 }]);
    expect(await outboxRows(db, ws.id)).toBe(0);
    expect(await drain(db, ws.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
    await createRule(db, ws.id, {
      name: 'Live',
      condition: { field: 'csat', op: 'lte', value: 2 },
      severity: 'low',
    });
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'F-2', customerId: 'C-1', occurredAt, nps: 1, csat: 1 },
    ]);
    expect(await outboxRows(db, ws.id)).toBe(1);
    expect(await drain(db, ws.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    expect(await alertedRecords(db, ws.id, ['Gone', 'Never', 'Live'])).toEqual({
      Gone: [],
      Never: [],
      Live: ['F-2'],
    });

    const bare = await createTestWorkspace(db);
    await ingest(db, bare.id, 'customers', [{ externalId: 'C-1', value: 1 }]);
    await ingest(db, bare.id, 'interactions', [
      { externalId: 'I-1', customerId: 'C-1', occurredAt, channel: 'phone', transfers: 5 },
    ]);
    await ingest(db, bare.id, 'feedback', [{ externalId: 'F-1', customerId: 'C-1', occurredAt, nps: 0 }]);
    await ingest(db, bare.id, 'events', [
      { externalId: 'E-1', customerId: 'C-1', occurredAt, type: 'churn' },
    ]);
    expect(await outboxRows(db, bare.id)).toBe(0);
    expect(await drain(db, bare.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
  });

  test("records of workspace A never raise alerts of workspace B's rules", async () => {
    const { db } = database();
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    const a = await createTestWorkspace(db);
    const b = await createTestWorkspace(db);
    const ruleA = await createRule(db, a.id, {
      name: 'A: csat ≤ 1',
      condition: { field: 'csat', op: 'lte', value: 1 },
      severity: 'low',
    });
    const ruleB = await createRule(db, b.id, {
      name: 'B: nps ≤ 6',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'low',
    });
    // The same ids in both workspaces; A's record matches B's rule only.
    await ingest(db, a.id, 'feedback', [
      { externalId: 'F-1', customerId: 'C-1', occurredAt, nps: 2, csat: 3 },
    ]);
    // A's rule cannot match it, so it is not even queued; B's rule is never asked.
    expect(await outboxRows(db, a.id)).toBe(0);
    expect(await outboxRows(db, b.id)).toBe(0);
    expect(await drain(db, b.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
    expect(await drain(db, a.id)).toEqual({ processed: 0, alerts: 0, casesOpened: 0 });
    await ingest(db, b.id, 'feedback', [
      { externalId: 'F-1', customerId: 'C-1', occurredAt, nps: 2, csat: 1 },
    ]);
    expect(await drain(db, b.id)).toEqual({ processed: 1, alerts: 1, casesOpened: 1 });
    const { rows } = await sql<{ rule_id: number; workspace_id: number; record_workspace: number }>`
      SELECT a.rule_id, a.workspace_id, f.workspace_id AS record_workspace
      FROM alert a JOIN feedback f ON f.id = a.record_id AND a.record_kind = 'feedback'
      WHERE a.rule_id IN (${ruleA.id}, ${ruleB.id})`.execute(db);
    expect(rows).toEqual([{ rule_id: ruleB.id, workspace_id: b.id, record_workspace: b.id }]);
    expect(await casesOf(db, a.id)).toEqual([]);
  });

  // ---------------------------------------------------------------------------------------------
  // 5. Routing
  // ---------------------------------------------------------------------------------------------

  test('routing: person, team round-robin, touchpoint team, account owner, fallbacks, unassigned queue', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await setSettings(db, ws.id, {
      teams: {
        billing: { members: ['ann@example.com', 'bob@example.com'], lead: 'lea@example.com' },
        support: { members: ['sue@example.com'] },
        empty: { members: [] },
      },
      touchpointTeams: { payment: 'support', delivery: 'ghost' },
    });
    const marker = (value: string) => ({ field: 'text', op: 'contains', value });
    await createRules(
      db,
      ws.id,
      [
        {
          name: 'to person',
          condition: marker('#person'),
          routing: [{ to: 'person', owner: 'pat@example.com' }],
        },
        { name: 'to team', condition: marker('#team'), routing: [{ to: 'team', team: 'billing' }] },
        {
          name: 'to touchpoint team',
          condition: marker('#tp'),
          routing: [{ to: 'touchpointTeam' }, { to: 'person', owner: 'fallback@example.com' }],
        },
        {
          name: 'to account owner',
          condition: marker('#acct'),
          routing: [
            { to: 'accountOwner' },
            { to: 'accountOwner', attribute: 'csm' },
            { to: 'team', team: 'nope' },
            { to: 'team', team: 'support' },
          ],
        },
        { name: 'to nobody', condition: marker('#none') },
        { name: 'to empty team', condition: marker('#empty'), routing: [{ to: 'team', team: 'empty' }] },
        {
          name: 'nothing applies',
          condition: marker('#fail'),
          routing: [{ to: 'team', team: 'nope' }, { to: 'touchpointTeam' }, { to: 'accountOwner' }],
        },
      ].map((rule) => ({ ...rule, severity: 'medium' })),
    );
    await ingest(db, ws.id, 'customers', [
      { externalId: 'K-A1', attributes: { accountOwner: ' kam@example.com ' } },
      { externalId: 'K-A2', attributes: { csm: 'csm@example.com' } },
      { externalId: 'K-A3', attributes: { accountOwner: '   ', region: 'north' } },
    ]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    const say = async (externalId: string, customerId: string, text: string, touchpoint?: string) => {
      await ingest(db, ws.id, 'feedback', [
        { externalId, customerId, occurredAt, text, ...(touchpoint ? { touchpoint } : {}) },
      ]);
      return drain(db, ws.id);
    };
    // One at a time, so the round-robin order is the order written here.
    for (const n of [1, 2, 3, 4]) await say(`T-${n}`, `K-T${n}`, 'help #team');
    // Several new cases in one batch continue the rotation in the order the records were written.
    await ingest(
      db,
      ws.id,
      'feedback',
      [5, 6, 7].map((n) => ({ externalId: `T-${n}`, customerId: `K-T${n}`, occurredAt, text: 'help #team' })),
    );
    expect(await drain(db, ws.id)).toEqual({ processed: 3, alerts: 3, casesOpened: 3 });
    await say('P-1', 'K-P', 'help #person');
    await say('TP-1', 'K-TP1', 'help #tp', 'payment');
    await say('TP-2', 'K-TP2', 'help #tp', 'delivery');
    await say('TP-3', 'K-TP3', 'help #tp', 'sales');
    await say('TP-4', 'K-TP4', 'help #tp');
    // Feedback that names only its interaction takes the customer and touchpoint from it.
    await ingest(db, ws.id, 'interactions', [
      { externalId: 'I-TP5', customerId: 'K-TP5', occurredAt, channel: 'phone', touchpoint: 'payment' },
    ]);
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'TP-5', interactionId: 'I-TP5', occurredAt, text: '#tp' },
    ]);
    await drain(db, ws.id);
    await say('A-1', 'K-A1', 'help #acct');
    await say('A-2', 'K-A2', 'help #acct');
    await say('A-3', 'K-A3', 'help #acct');
    await say('N-1', 'K-N', 'help #none');
    await say('E-1', 'K-E', 'help #empty');
    await say('X-1', 'K-X', 'help #fail', 'sales');

    const cases = await casesOf(db, ws.id);
    const byCustomer = Object.fromEntries(cases.map((item) => [item.customer, [item.owner, item.team]]));
    expect(byCustomer).toEqual({
      'K-T1': ['ann@example.com', 'billing'],
      'K-T2': ['bob@example.com', 'billing'],
      'K-T3': ['ann@example.com', 'billing'],
      'K-T4': ['bob@example.com', 'billing'],
      'K-T5': ['ann@example.com', 'billing'],
      'K-T6': ['bob@example.com', 'billing'],
      'K-T7': ['ann@example.com', 'billing'],
      'K-P': ['pat@example.com', null],
      'K-TP1': ['sue@example.com', 'support'],
      'K-TP2': ['fallback@example.com', null],
      'K-TP3': ['fallback@example.com', null],
      'K-TP4': ['fallback@example.com', null],
      'K-TP5': ['sue@example.com', 'support'],
      'K-A1': ['kam@example.com', null],
      'K-A2': ['csm@example.com', null],
      'K-A3': ['sue@example.com', 'support'],
      'K-N': [null, null],
      'K-E': [null, 'empty'],
      'K-X': [null, null],
    });
    const via = async (customer: string) => {
      const item = cases.find((row) => row.customer === customer);
      const opened = (await historyOf(db, item?.id as number))[0];
      return (opened.detail as { routedVia: string }).routedVia;
    };
    expect(await via('K-T1')).toBe('team billing');
    expect(await via('K-P')).toBe('person');
    expect(await via('K-TP1')).toBe('touchpoint payment');
    expect(await via('K-A1')).toBe('account owner');
    expect(await via('K-N')).toBe('unassigned queue');
    // Owners are e-mailed about their new case; the unassigned queue is not.
    const caseOf = (customer: string) => cases.find((row) => row.customer === customer)?.id as number;
    expect(await notificationsOf(db, caseOf('K-P'), 'case.opened')).toEqual(['email:pat@example.com']);
    expect(await notificationsOf(db, caseOf('K-T2'), 'case.opened')).toEqual(['email:bob@example.com']);
    expect(await notificationsOf(db, caseOf('K-N'), 'case.opened')).toEqual([]);
    expect(await notificationsOf(db, caseOf('K-E'), 'case.opened')).toEqual([]);
  });

  // ---------------------------------------------------------------------------------------------
  // 6. Priority and SLA clocks
  // ---------------------------------------------------------------------------------------------

  test('priority is severity × value tier; SLA due dates are the opening time plus the settings minutes', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await setSettings(db, ws.id, {
      sla: { ...DEFAULT_SLA, critical: { firstResponseMinutes: 15, resolveMinutes: 60 } },
    });
    const marker = (value: string) => ({ field: 'text', op: 'contains', value });
    await createRules(db, ws.id, [
      { name: 'crit', condition: marker('#crit'), severity: 'critical' },
      { name: 'high', condition: marker('#high'), severity: 'high' },
      { name: 'med', condition: marker('#med'), severity: 'medium' },
      { name: 'low', condition: marker('#low'), severity: 'low' },
    ]);
    await ingest(db, ws.id, 'customers', [
      { externalId: 'V-20000', value: 20000 },
      { externalId: 'V-none' },
      { externalId: 'V-5000', value: 5000 },
      { externalId: 'V-999', value: 999 },
      { externalId: 'V-1000', value: 1000 },
      { externalId: 'V-10000', value: 10000 },
    ]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    const records: [string, string | null, string][] = [
      ['Q-1', 'V-20000', '#crit'],
      ['Q-2', 'V-none', '#low'],
      ['Q-3', 'V-5000', '#med'],
      ['Q-4', 'V-999', '#high'],
      ['Q-5', 'V-1000', '#high'],
      ['Q-6', 'V-10000', '#med'],
      ['Q-7', 'V-10000', '#high'],
      ['Q-8', 'V-none', '#crit'],
      ['Q-9', 'V-20000', '#low'],
      ['Q-10', 'V-5000', '#crit'],
      ['Q-11', null, '#med'],
    ];
    await ingest(
      db,
      ws.id,
      'feedback',
      records.map(([externalId, customerId, text]) => ({
        externalId,
        ...(customerId ? { customerId } : {}),
        occurredAt,
        text,
      })),
    );
    const now = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
    expect(await drain(db, ws.id, now)).toEqual({ processed: 11, alerts: 11, casesOpened: 11 });
    const cases = await casesOf(db, ws.id);
    const key = (item: (typeof cases)[number]) => `${item.rule} ${item.customer ?? 'anonymous'}`;
    expect(
      Object.fromEntries(cases.map((item) => [key(item), [item.priority_score, item.priority]])),
    ).toEqual({
      'crit V-20000': [12, 'p1'],
      'low V-none': [1, 'p4'],
      'med V-5000': [4, 'p3'],
      'high V-999': [3, 'p3'],
      'high V-1000': [6, 'p2'],
      'med V-10000': [6, 'p2'],
      'high V-10000': [9, 'p1'],
      'crit V-none': [4, 'p3'],
      'low V-20000': [3, 'p3'],
      'crit V-5000': [8, 'p2'],
      'med anonymous': [2, 'p4'],
    });
    const minutes = { crit: [15, 60], high: [120, 1440], med: [480, 4320], low: [2880, 10080] } as const;
    for (const item of cases) {
      const [first, resolve] = minutes[item.rule as keyof typeof minutes];
      expect(item.created_at.toISOString(), key(item)).toBe(now.toISOString());
      expect(item.first_response_due_at?.toISOString(), key(item)).toBe(
        new Date(now.getTime() + first * MINUTE).toISOString(),
      );
      expect(item.resolve_due_at?.toISOString(), key(item)).toBe(
        new Date(now.getTime() + resolve * MINUTE).toISOString(),
      );
    }
  });

  test('with business hours, a case opened on a Saturday is due from Monday 09:00 in the hours’ time zone', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await setSettings(db, ws.id, {
      sla: { ...DEFAULT_SLA, high: { firstResponseMinutes: 60, resolveMinutes: 600 } },
      businessHours: { timeZone: 'Europe/Berlin', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
    });
    await createRule(db, ws.id, {
      name: 'Detractor',
      condition: { field: 'nps', op: 'lte', value: 6 },
      severity: 'high',
    });
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    // Saturday 7 March 2026, 13:00 in Berlin (UTC+1 until the end of March).
    await ingest(db, ws.id, 'feedback', [{ externalId: 'F-SAT', customerId: 'K-SAT', occurredAt, nps: 2 }]);
    await drain(db, ws.id, new Date('2026-03-07T12:00:00Z'));
    // Friday 6 March 2026, 16:30 in Berlin: 30 minutes on Friday, the rest from Monday 09:00.
    await ingest(db, ws.id, 'feedback', [{ externalId: 'F-FRI', customerId: 'K-FRI', occurredAt, nps: 2 }]);
    await drain(db, ws.id, new Date('2026-03-06T15:30:00Z'));
    const cases = await casesOf(db, ws.id);
    const due = Object.fromEntries(
      cases.map((item) => [
        item.customer,
        [item.first_response_due_at?.toISOString(), item.resolve_due_at?.toISOString()],
      ]),
    );
    expect(due).toEqual({
      // Monday 09:00 Berlin (08:00Z) + 60 min; + 600 min = Monday 480 + Tuesday 120 → Tuesday 11:00 Berlin.
      'K-SAT': ['2026-03-09T09:00:00.000Z', '2026-03-10T10:00:00.000Z'],
      // 30 min Friday + 30 min Monday → Monday 09:30 Berlin; 30 + 480 (Monday) + 90 → Tuesday 10:30 Berlin.
      'K-FRI': ['2026-03-09T08:30:00.000Z', '2026-03-10T09:30:00.000Z'],
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 7. Escalation
  // ---------------------------------------------------------------------------------------------

  test('escalation: first response overdue → level 1 to the team lead or escalateTo; resolution overdue → level 2; once each', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await setSettings(db, ws.id, {
      teams: {
        billing: { members: ['ann@example.com'], lead: 'lea@example.com' },
        support: { members: ['sue@example.com'] },
      },
      escalateTo: 'boss@example.com',
    });
    await createWebhook(db, ws.id, {
      url: 'http://127.0.0.1:9/hook',
      events: ['case.escalated'],
      format: 'json',
      active: true,
    });
    const marker = (value: string) => ({ field: 'text', op: 'contains', value });
    // high: first response 120 minutes, resolution 1440 minutes.
    await createRules(db, ws.id, [
      {
        name: 'billing',
        condition: marker('#b'),
        severity: 'high',
        routing: [{ to: 'team', team: 'billing' }],
      },
      {
        name: 'support',
        condition: marker('#s'),
        severity: 'high',
        routing: [{ to: 'team', team: 'support' }],
      },
      {
        name: 'person',
        condition: marker('#p'),
        severity: 'high',
        routing: [{ to: 'person', owner: 'pat@example.com' }],
      },
    ]);
    const occurredAt = new Date(Date.now() - HOUR).toISOString();
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'B-1', customerId: 'K-B1', occurredAt, text: '#b' },
      { externalId: 'B-2', customerId: 'K-B2', occurredAt, text: '#b' },
      { externalId: 'B-3', customerId: 'K-B3', occurredAt, text: '#b' },
      { externalId: 'S-1', customerId: 'K-S', occurredAt, text: '#s' },
      { externalId: 'P-1', customerId: 'K-P', occurredAt, text: '#p' },
    ]);
    const t0 = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);
    const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);
    expect(await drain(db, ws.id, t0)).toMatchObject({ casesOpened: 5 });
    const caseOf = async (customer: string) =>
      (await casesOf(db, ws.id)).find((item) => item.customer === customer) as Awaited<
        ReturnType<typeof casesOf>
      >[number];
    const runtime = { db, channels: new Channels(null), now: () => at(10) };
    // B-2 gets its first response; B-3 is resolved.
    await updateCase(runtime, ws.id, (await caseOf('K-B2')).id, { status: 'in_progress' }, 'ann@example.com');
    await updateCase(runtime, ws.id, (await caseOf('K-B3')).id, { status: 'resolved' }, 'ann@example.com');

    expect(await escalateDue(db, at(119), { workspaceId: ws.id })).toBe(0);
    expect(await escalateDue(db, at(121), { workspaceId: ws.id })).toBe(3);
    const b1 = await caseOf('K-B1');
    expect(b1).toMatchObject({ escalation_level: 1, owner: 'lea@example.com', team: 'billing' });
    expect(b1.escalated_at?.toISOString()).toBe(at(121).toISOString());
    expect((await historyOf(db, b1.id)).at(-1)).toMatchObject({
      type: 'escalated',
      detail: { level: 1, breach: 'first response', from: 'ann@example.com', to: 'lea@example.com' },
    });
    expect(await notificationsOf(db, b1.id, 'case.escalated')).toEqual([
      'email:ann@example.com',
      'email:lea@example.com',
      'webhook:-',
    ]);
    // No lead: the workspace's escalateTo.
    const s = await caseOf('K-S');
    expect(s).toMatchObject({ escalation_level: 1, owner: 'boss@example.com' });
    expect(await notificationsOf(db, s.id, 'case.escalated')).toEqual([
      'email:boss@example.com',
      'email:sue@example.com',
      'webhook:-',
    ]);
    const p = await caseOf('K-P');
    expect(p).toMatchObject({ escalation_level: 1, owner: 'boss@example.com' });
    expect(await caseOf('K-B2')).toMatchObject({ escalation_level: 0, owner: 'ann@example.com' });
    expect(await caseOf('K-B3')).toMatchObject({ escalation_level: 0, owner: 'ann@example.com' });

    // Once per level.
    expect(await escalateDue(db, at(121), { workspaceId: ws.id })).toBe(0);
    expect(await escalateDue(db, at(1439), { workspaceId: ws.id })).toBe(0);
    // Resolution overdue: level 2 for every active case, the one that had its first response too.
    expect(await escalateDue(db, at(1441), { workspaceId: ws.id })).toBe(4);
    expect(await caseOf('K-B1')).toMatchObject({ escalation_level: 2, owner: 'lea@example.com' });
    expect((await historyOf(db, b1.id)).at(-1)).toMatchObject({
      type: 'escalated',
      detail: { level: 2, breach: 'resolution', from: 'lea@example.com', to: 'lea@example.com' },
    });
    const b2 = await caseOf('K-B2');
    expect(b2).toMatchObject({ escalation_level: 2, owner: 'lea@example.com' });
    expect(await notificationsOf(db, b2.id, 'case.escalated')).toEqual([
      'email:ann@example.com',
      'email:lea@example.com',
      'webhook:-',
    ]);
    expect(await caseOf('K-S')).toMatchObject({ escalation_level: 2 });
    expect(await caseOf('K-P')).toMatchObject({ escalation_level: 2 });
    // Resolved cases never.
    expect(await caseOf('K-B3')).toMatchObject({ escalation_level: 0, status: 'resolved' });
    expect(await escalateDue(db, at(5000), { workspaceId: ws.id })).toBe(0);
    expect(await notificationsOf(db, (await caseOf('K-B3')).id, 'case.escalated')).toEqual([]);

    // Without a lead or escalateTo the owner keeps the case (e-mailed once); the unassigned queue stays unassigned.
    const plain = await createTestWorkspace(db);
    await createRules(db, plain.id, [
      {
        name: 'person',
        condition: marker('#p'),
        severity: 'critical',
        routing: [{ to: 'person', owner: 'pat@example.com' }],
      },
      { name: 'queue', condition: marker('#q'), severity: 'critical' },
    ]);
    await ingest(db, plain.id, 'feedback', [
      { externalId: 'P-1', customerId: 'K-P', occurredAt, text: '#p' },
      { externalId: 'Q-1', customerId: 'K-Q', occurredAt, text: '#q' },
    ]);
    await drain(db, plain.id, t0);
    // critical: first response after 30 minutes.
    expect(await escalateDue(db, at(29), { workspaceId: plain.id })).toBe(0);
    expect(await escalateDue(db, at(31), { workspaceId: plain.id })).toBe(2);
    const plainCases = await casesOf(db, plain.id);
    expect(plainCases.map((item) => [item.customer, item.escalation_level, item.owner])).toEqual([
      ['K-P', 1, 'pat@example.com'],
      ['K-Q', 1, null],
    ]);
    expect(await notificationsOf(db, plainCases[0].id, 'case.escalated')).toEqual(['email:pat@example.com']);
    expect(await notificationsOf(db, plainCases[1].id, 'case.escalated')).toEqual([]);
    expect((await historyOf(db, plainCases[1].id)).at(-1)).toMatchObject({
      type: 'escalated',
      detail: { level: 1, from: null, to: null },
    });
  });

  // ---------------------------------------------------------------------------------------------
  // 8. Recovery
  // ---------------------------------------------------------------------------------------------

  test('recovery: the earliest evidence after closing decides; none within the window → unknown', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    await setSettings(db, ws.id, { recoveryWindowDays: 30 });
    await createRule(db, ws.id, {
      name: 'Opened',
      condition: { field: 'text', op: 'contains', value: '#open' },
      severity: 'medium',
      maxAgeHours: 24 * 60,
    });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const recent = now - 20 * DAY; // closed 20 days ago: the window runs 10 more days
    const longAgo = now - 40 * DAY; // closed 40 days ago: the window ended 10 days ago
    const closedAt: Record<string, number> = {};
    const customers = ['a', 'a2', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'h2', 'i', 'j', 'k', 'l'];
    for (const name of customers) closedAt[name] = name === 'i' || name === 'j' ? longAgo : recent;
    // Each case opens from a feedback at billing a day before it closes.
    await ingest(
      db,
      ws.id,
      'feedback',
      customers.map((name) => ({
        externalId: `OPEN-${name}`,
        customerId: `K-${name}`,
        touchpoint: 'billing',
        occurredAt: iso(closedAt[name] - DAY),
        nps: 1,
        text: '#open',
      })),
    );
    expect(await drain(db, ws.id)).toMatchObject({ casesOpened: customers.length });
    const caseIds = Object.fromEntries(
      (await casesOf(db, ws.id)).map((item) => [String(item.customer).slice(2), item.id]),
    );
    for (const name of customers) {
      if (name === 'k') continue;
      await sql`UPDATE cx_case SET status = 'closed', resolved_at = ${new Date(closedAt[name])},
        closed_at = ${new Date(closedAt[name])} WHERE id = ${caseIds[name]}`.execute(db);
    }
    // k is closed through the workflow.
    const runtime = (at: number) => ({ db, channels: new Channels(null), now: () => new Date(at) });
    await updateCase(runtime(recent - HOUR), ws.id, caseIds.k, { status: 'resolved' }, 'ann@example.com');
    await updateCase(runtime(recent), ws.id, caseIds.k, { status: 'closed' }, 'ann@example.com');

    const after = (name: string, ms: number) => iso(closedAt[name] + ms);
    await ingest(db, ws.id, 'feedback', [
      { externalId: 'a', customerId: 'K-a', occurredAt: after('a', DAY), csat: 4 },
      { externalId: 'a2', customerId: 'K-a2', occurredAt: after('a2', DAY), csat: 3 },
      { externalId: 'b', customerId: 'K-b', occurredAt: after('b', DAY), nps: 5 },
      { externalId: 'g', customerId: 'K-g', occurredAt: after('g', -2 * HOUR), csat: 5 },
      { externalId: 'h', customerId: 'K-h', occurredAt: after('h', DAY), csat: 5 },
      { externalId: 'j', customerId: 'K-j', occurredAt: after('j', 35 * DAY), csat: 5 },
      { externalId: 'k', customerId: 'K-k', occurredAt: after('k', DAY), csat: 1 },
      { externalId: 'l', customerId: 'K-l', occurredAt: after('l', DAY), text: 'no score, says nothing' },
    ]);
    await ingest(db, ws.id, 'events', [
      { externalId: 'c', customerId: 'K-c', occurredAt: after('c', 2 * DAY), type: 'renewal' },
      { externalId: 'd', customerId: 'K-d', occurredAt: after('d', 2 * DAY), type: 'churn' },
      { externalId: 'g', customerId: 'K-g', occurredAt: after('g', -HOUR), type: 'churn' },
      { externalId: 'h', customerId: 'K-h', occurredAt: after('h', 3 * DAY), type: 'churn' },
      { externalId: 'h2', customerId: 'K-h2', occurredAt: after('h2', 2 * DAY), type: 'renewal' },
      { externalId: 'l', customerId: 'K-l', occurredAt: after('l', 2 * DAY), type: 'plan_change' },
    ]);
    await ingest(db, ws.id, 'interactions', [
      {
        externalId: 'e',
        customerId: 'K-e',
        occurredAt: after('e', DAY),
        channel: 'phone',
        touchpoint: 'billing',
      },
      {
        externalId: 'f',
        customerId: 'K-f',
        occurredAt: after('f', DAY),
        channel: 'phone',
        touchpoint: 'sales',
      },
      {
        externalId: 'h2',
        customerId: 'K-h2',
        occurredAt: after('h2', DAY),
        channel: 'chat',
        touchpoint: 'billing',
      },
    ]);

    expect(await decideRecoveries(db, new Date(now), { workspaceId: ws.id })).toBe(11);
    const outcome = async () =>
      Object.fromEntries(
        (await casesOf(db, ws.id)).map((item) => [
          String(item.customer).slice(2),
          item.recovery === null ? null : `${item.recovery}: ${item.recovery_reason}`,
        ]),
      );
    const unknown = 'unknown: no feedback or behaviour within 30 days of closing';
    expect(await outcome()).toEqual({
      a: 'recovered: next feedback: rated 4',
      a2: 'recovered: next feedback: rated 3',
      b: 'not_recovered: next feedback: rated 2',
      c: 'recovered: next business event: renewal',
      d: 'not_recovered: next business event: churn',
      e: 'not_recovered: contacted again at the same touchpoint: billing',
      // An interaction elsewhere says nothing: pending.
      f: null,
      // Evidence from before closing is ignored: pending.
      g: null,
      // The feedback a day after closing comes before the churn three days after.
      h: 'recovered: next feedback: rated 5',
      // The contact at billing a day after closing comes before the renewal.
      h2: 'not_recovered: contacted again at the same touchpoint: billing',
      i: unknown,
      // Feedback 35 days after closing is outside the 30-day window.
      j: unknown,
      k: 'not_recovered: next feedback: rated 1',
      // Neither a feedback without a score nor a plan change says anything.
      l: null,
    });
    expect((await historyOf(db, caseIds.a)).at(-1)).toMatchObject({
      type: 'recovery',
      detail: { recovery: 'recovered', reason: 'next feedback: rated 4' },
    });
    expect(await decideRecoveries(db, new Date(now), { workspaceId: ws.id })).toBe(0);
    // Once their window has passed, the pending ones are unknown.
    expect(await decideRecoveries(db, new Date(now + 9 * DAY), { workspaceId: ws.id })).toBe(0);
    expect(await decideRecoveries(db, new Date(now + 11 * DAY), { workspaceId: ws.id })).toBe(3);
    const final = await outcome();
    expect([final.f, final.g, final.l]).toEqual([unknown, unknown, unknown]);
    expect(final.a).toBe('recovered: next feedback: rated 4');
  });

  // ---------------------------------------------------------------------------------------------
  // 9. The demo data set
  // ---------------------------------------------------------------------------------------------

  test('demo data: alerts per rule equal the matching records exactly, and the planted billing × small_business effect shows', async () => {
    const { db } = database();
    const ws = await createTestWorkspace(db);
    const maxAgeHours = 24 * 400;
    const ids = await createRules(
      db,
      ws.id,
      [
        {
          name: 'small-business billing detractor',
          condition: {
            all: [
              { field: 'nps', op: 'lte', value: 6 },
              { field: 'touchpoint', op: 'eq', value: 'billing' },
              { field: 'segment', op: 'eq', value: 'small_business' },
            ],
          },
        },
        { name: 'transferred twice', condition: { pattern: 'transfers', atLeast: 2 } },
        { name: 'complaint', condition: { field: 'source', op: 'eq', value: 'complaint' } },
        { name: 'detractor', condition: { field: 'nps', op: 'lte', value: 6 } },
      ].map((rule) => ({ ...rule, severity: 'medium', maxAgeHours })),
    );
    await loadDemo(db, ws.id, { customers: 400, seed: 20261122 });
    const total = await drain(db, ws.id);
    expect(await outboxRows(db, ws.id)).toBe(0);

    // The matching records, by plain SQL.
    const matching = {
      'small-business billing detractor': sql<{ id: number; customer_id: number }>`
        SELECT f.id, f.customer_id FROM feedback f JOIN customer c ON c.id = f.customer_id
        WHERE f.workspace_id = ${ws.id} AND f.nps <= 6 AND f.touchpoint = 'billing' AND c.segment = 'small_business'`,
      'transferred twice': sql<{ id: number; customer_id: number }>`
        SELECT id, customer_id FROM interaction WHERE workspace_id = ${ws.id} AND transfers >= 2`,
      complaint: sql<{ id: number; customer_id: number }>`
        SELECT id, customer_id FROM feedback WHERE workspace_id = ${ws.id} AND source = 'complaint'`,
      detractor: sql<{ id: number; customer_id: number }>`
        SELECT id, customer_id FROM feedback WHERE workspace_id = ${ws.id} AND nps <= 6`,
    };
    const kinds = {
      'small-business billing detractor': 'feedback',
      'transferred twice': 'interaction',
      complaint: 'feedback',
      detractor: 'feedback',
    };
    let alerts = 0;
    for (const [name, query] of Object.entries(matching)) {
      const expected = (await query.execute(db)).rows;
      expect(expected.length, name).toBeGreaterThan(0);
      const raised = await db
        .selectFrom('alert')
        .select(['record_id', 'record_kind'])
        .where('rule_id', '=', ids[name])
        .execute();
      expect(raised.length, name).toBe(expected.length);
      expect(new Set(raised.map((row) => row.record_kind)), name).toEqual(
        new Set([kinds[name as keyof typeof kinds]]),
      );
      expect(
        raised.map((row) => row.record_id).sort((x, y) => x - y),
        name,
      ).toEqual(expected.map((row) => row.id).sort((x, y) => x - y));
      // All cases stay open: one per customer, holding all of the customer's alerts.
      const cases = await db
        .selectFrom('cx_case')
        .select(['customer_id', 'alert_count'])
        .where('rule_id', '=', ids[name])
        .execute();
      expect(cases.length, name).toBe(new Set(expected.map((row) => row.customer_id)).size);
      expect(
        cases.reduce((sum, item) => sum + (item.alert_count as number), 0),
        name,
      ).toBe(expected.length);
      alerts += expected.length;
    }
    expect(total.alerts).toBe(alerts);

    // The planted effect: the detractor alert rate per touchpoint × segment cell.
    const { rows: cells } = await sql<{
      touchpoint: string;
      segment: string;
      rated: number;
      alerted: number;
    }>`
      SELECT f.touchpoint, c.segment, count(*)::int AS rated, count(a.id)::int AS alerted
      FROM feedback f JOIN customer c ON c.id = f.customer_id
      LEFT JOIN alert a ON a.rule_id = ${ids.detractor} AND a.record_kind = 'feedback' AND a.record_id = f.id
      WHERE f.workspace_id = ${ws.id} AND f.nps IS NOT NULL AND f.touchpoint <> 'relationship'
      GROUP BY f.touchpoint, c.segment`.execute(db);
    const rate = (list: typeof cells) =>
      list.reduce((sum, cell) => sum + cell.alerted, 0) / list.reduce((sum, cell) => sum + cell.rated, 0);
    const broken = cells.filter((cell) => cell.touchpoint === 'billing' && cell.segment === 'small_business');
    const others = cells.filter(
      (cell) => !(cell.touchpoint === 'billing' && cell.segment === 'small_business'),
    );
    expect(broken[0].rated).toBeGreaterThanOrEqual(10);
    const brokenRate = rate(broken);
    const billingOthers = rate(others.filter((cell) => cell.touchpoint === 'billing'));
    const smallBusinessOthers = rate(others.filter((cell) => cell.segment === 'small_business'));
    const rest = rate(others);
    // −3.5 points on a baseline of 7.6: nearly every such encounter is a detractor.
    expect(brokenRate).toBeGreaterThan(0.75);
    expect(brokenRate - billingOthers).toBeGreaterThan(0.3);
    expect(brokenRate - smallBusinessOthers).toBeGreaterThan(0.3);
    expect(brokenRate).toBeGreaterThan(1.8 * rest);
    // And it is the worst cell among those with enough ratings.
    for (const cell of others.filter((item) => item.rated >= 15)) {
      expect(cell.alerted / cell.rated, `${cell.touchpoint} × ${cell.segment}`).toBeLessThan(brokenRate);
    }
  });
});
