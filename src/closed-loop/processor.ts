import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { PREPARED } from '../db/prepared.js';
import {
  type Condition,
  type ConditionContext,
  evaluateCondition,
  type RecordKind,
  usesPatterns,
} from '../domain/alert-conditions.js';
import { type CaseCustomer, type Matched, raiseAlerts, type WorkspaceContext } from './cases.js';
import { type ActiveWebhook, activeWebhooks, sendableNow } from './notifications.js';
import type { PlaybookMatch } from './policy.js';
import type { RoutingStep } from './rules.js';
import { readClosedLoopSettings, type Severity } from './settings.js';

interface LoadedRule {
  id: number;
  workspaceId: number;
  name: string;
  severity: Severity;
  routing: RoutingStep[];
  condition: Condition;
  kinds: Set<string>;
  repeatDays: number;
  previousNps: boolean;
  maxAgeMs: number;
}

const maxRepeatDays = (condition: Condition): number => {
  if ('all' in condition) return Math.max(0, ...condition.all.map(maxRepeatDays));
  if ('any' in condition) return Math.max(0, ...condition.any.map(maxRepeatDays));
  if ('not' in condition) return maxRepeatDays(condition.not);
  if ('pattern' in condition && condition.pattern === 'repeatContact') return condition.withinDays;
  return 0;
};

/** What the processor needs of a workspace: its active rules, settings, playbooks and webhooks. */
interface WorkspaceConfig {
  version: string;
  rules: LoadedRule[];
  context: Omit<WorkspaceContext, 'caseLink'> & { webhooks: ActiveWebhook[] };
}

/**
 * Each workspace's configuration, kept while its version (a digest of the settings and of every
 * rule, playbook and webhook id with its updated_at) is unchanged: one query per batch instead of
 * four, and conditions (with their compiled expressions) are parsed once.
 */
const configs = new Map<number, WorkspaceConfig>();

const loadConfig = async (trx: Db, workspaceId: number, version: string): Promise<WorkspaceConfig> => {
  const rules = await trx
    .selectFrom('alert_rule')
    .select(['id', 'workspace_id', 'name', 'severity', 'routing', 'condition', 'kinds', 'max_age_seconds'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .orderBy('id')
    .execute();
  const playbooks = await trx
    .selectFrom('playbook')
    .select(['id', 'name', 'match', 'steps'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .orderBy('id')
    .execute();
  return {
    version,
    rules: rules.map((row) => {
      const condition = row.condition as unknown as Condition;
      const patterns = usesPatterns(condition);
      return {
        id: row.id,
        workspaceId: row.workspace_id,
        name: row.name,
        severity: row.severity as Severity,
        routing: row.routing as RoutingStep[],
        condition,
        kinds: new Set(row.kinds),
        repeatDays: patterns.has('repeatContact') ? maxRepeatDays(condition) : 0,
        previousNps: patterns.has('promoterTurnedDetractor'),
        maxAgeMs: (row.max_age_seconds as number) * 1000,
      };
    }),
    context: {
      settings: await readClosedLoopSettings(trx, workspaceId),
      playbooks: playbooks.map((row) => ({
        id: row.id,
        name: row.name,
        match: row.match as PlaybookMatch,
        steps: row.steps,
      })),
      webhooks: await activeWebhooks(trx, workspaceId),
    },
  };
};

const loadConfigs = async (trx: Db, workspaceIds: number[]): Promise<Map<number, WorkspaceConfig>> => {
  const versions = await sql<{ id: number; version: string }>`${sql.raw(PREPARED)}
    SELECT w.id, md5(concat_ws('|', w.settings::text,
      (SELECT string_agg(r.id || ':' || r.updated_at, ',' ORDER BY r.id) FROM alert_rule r WHERE r.workspace_id = w.id),
      (SELECT string_agg(p.id || ':' || p.updated_at, ',' ORDER BY p.id) FROM playbook p WHERE p.workspace_id = w.id),
      (SELECT string_agg(h.id || ':' || h.updated_at, ',' ORDER BY h.id) FROM webhook h WHERE h.workspace_id = w.id)
    )) AS version
    FROM workspace w WHERE w.id = ANY (${workspaceIds}::bigint[])`.execute(trx);
  const loaded = new Map<number, WorkspaceConfig>();
  for (const { id, version } of versions.rows) {
    let config = configs.get(id);
    if (config?.version !== version) {
      config = await loadConfig(trx, id, version);
      configs.set(id, config);
    }
    loaded.set(id, config);
  }
  return loaded;
};

/** The columns conditions look at, named as the API names them (events carry no snapshot). */
const RECORD_SELECT = {
  feedback: sql`SELECT id, external_id AS "externalId", source, channel, touchpoint, nps, csat, ces,
    experience_rating AS "experienceRating", text, segment, lifecycle_stage AS "lifecycleStage",
    personality_type AS "personalityType" FROM feedback`,
  interaction: sql`SELECT id, external_id AS "externalId", channel, touchpoint, wait_seconds AS "waitSeconds",
    handle_seconds AS "handleSeconds", transfers, resolved, outcome, team, agent, segment,
    lifecycle_stage AS "lifecycleStage", personality_type AS "personalityType" FROM interaction`,
  event: sql`SELECT id, external_id AS "externalId", type, amount FROM event`,
};

/**
 * The records of one kind with the fields conditions can name (the API's names), by id; the
 * segment, life-cycle stage and personality type recorded at the encounter kept apart.
 */
export const readConditionRecords = async (
  db: Db,
  kind: RecordKind,
  ids: number[],
): Promise<Map<number, Record<string, unknown>>> => {
  const found = await sql<
    Record<string, unknown> & { id: number }
  >`${sql.raw(PREPARED)}${RECORD_SELECT[kind]} WHERE id = ANY (${ids}::bigint[])`.execute(db);
  const records = new Map<number, Record<string, unknown>>();
  for (const row of found.rows) {
    const { id, segment, lifecycleStage, personalityType, ...fields } = row;
    records.set(id, {
      ...fields,
      atEncounter: {
        segment: segment ?? null,
        lifecycleStage: lifecycleStage ?? null,
        personalityType: personalityType ?? null,
      },
    });
  }
  return records;
};

/**
 * A record as conditions see it: its own snapshot of segment, stage and personality type wins over
 * the customer's current ones (the experience is judged as it was at the encounter), and the
 * customer's value.
 */
export const conditionRecord = (
  record: Record<string, unknown>,
  customer: {
    segment: string | null;
    value: number | null;
    lifecycleStage: string | null;
    personalityType: string | null;
  } | null,
): Record<string, unknown> => {
  const snapshot = (record.atEncounter ?? {}) as Record<string, string | null>;
  return {
    ...record,
    segment: snapshot.segment ?? customer?.segment ?? null,
    lifecycleStage: snapshot.lifecycleStage ?? customer?.lifecycleStage ?? null,
    personalityType: snapshot.personalityType ?? customer?.personalityType ?? null,
    value: customer?.value ?? null,
  };
};

interface OutboxRow {
  id: number;
  workspace_id: number;
  record_kind: RecordKind;
  record_id: number;
  customer_id: number | null;
  occurred_at: Date;
  created_at: Date;
  /** The record's customer, read with the row. */
  external_id: string | null;
  name: string | null;
  segment: string | null;
  value: number | null;
  lifecycle_stage: string | null;
  personality_type: string | null;
  attributes: Record<string, unknown> | null;
}

export interface ProcessOptions {
  limit?: number;
  /** Only this workspace's outbox (tests share a database). */
  workspaceId?: number;
  caseLink?: (workspaceId: number, caseId: number) => string | undefined;
  /**
   * No other process or batch uses the outbox (the embedded database's worker): no row or advisory
   * locks, and only the writes form a transaction (see {@link processOutbox}).
   */
  exclusive?: boolean;
}

export interface ProcessResult {
  /** Outbox rows taken. */
  processed: number;
  alerts: number;
  casesOpened: number;
}

const DAY = 86_400_000;

/** Runs `write` in a transaction and returns what it returns. */
type Writing = <T>(write: (trx: Db) => Promise<T>) => Promise<T>;

/**
 * Takes the oldest outbox rows (locked with SKIP LOCKED, so several processes share the work),
 * evaluates every active rule of the record's workspace on each record, raises alerts and opens
 * or updates cases, queues their notifications, and deletes the rows: all in one transaction, so
 * each written record is evaluated exactly once, even across crashes.
 *
 * `exclusive` (the embedded database): no other process or batch takes outbox rows, so the rows,
 * records and configuration are read by statements of their own and only the writes form a
 * transaction. That one connection is then held only while the alerts are written, not while the
 * batch is evaluated, and requests waiting for it run in between.
 */
export const processOutbox = async (
  db: Db,
  now: Date,
  options: ProcessOptions = {},
): Promise<ProcessResult> =>
  options.exclusive
    ? evaluateBatch(db, (write) => db.transaction().execute(write), now, options)
    : db.transaction().execute((trx) => evaluateBatch(trx, (write) => write(trx), now, options));

/** One batch: `reader` is the batch's transaction on a server, the database itself when exclusive. */
const evaluateBatch = async (
  reader: Db,
  writing: Writing,
  now: Date,
  options: ProcessOptions,
): Promise<ProcessResult> => {
  const { limit = 200, workspaceId, caseLink, exclusive = false } = options;
  const taken = await sql<OutboxRow>`${sql.raw(PREPARED)}
      SELECT o.id, o.workspace_id, o.record_kind, o.record_id, o.customer_id, o.occurred_at, o.created_at,
        c.external_id, c.name, c.segment, c.value, c.lifecycle_stage, c.personality_type, c.attributes
      FROM alert_outbox o LEFT JOIN customer c ON c.id = o.customer_id
      ${workspaceId === undefined ? sql`` : sql`WHERE o.workspace_id = ${workspaceId}`}
      ORDER BY o.id LIMIT ${limit}
      ${exclusive ? sql`` : sql`FOR UPDATE OF o SKIP LOCKED`}`.execute(reader);
  const rows = taken.rows;
  const result: ProcessResult = { processed: rows.length, alerts: 0, casesOpened: 0 };
  if (rows.length === 0) return result;

  // Another process may hold an outbox row of the same record (its insert and a later update):
  // wait for it, so that what it raised is seen here and nothing is raised twice. Locks are taken
  // in one order, so two processes never wait for each other.
  if (!exclusive)
    await sql`${sql.raw(PREPARED)}
      SELECT pg_advisory_xact_lock(key) FROM (
        SELECT DISTINCT hashtextextended(kind || ':' || id, 5) AS key
        FROM unnest(${rows.map((row) => row.record_kind)}::text[], ${rows.map((row) => row.record_id)}::bigint[]) AS r(kind, id)
        ORDER BY key) AS keys`.execute(reader);
  const workspaceIds = [...new Set(rows.map((row) => row.workspace_id))];
  const loaded = await loadConfigs(reader, workspaceIds);
  const rules = [...loaded.values()].flatMap((config) => config.rules);
  const rulesOf = (ws: number, kind: string, row: OutboxRow) =>
    rules.filter(
      (rule) =>
        rule.workspaceId === ws &&
        rule.kinds.has(kind) &&
        row.created_at.getTime() - row.occurred_at.getTime() < rule.maxAgeMs,
    );

  // The records, with the fields conditions can name (in the API's names), by kind and id.
  const records = new Map<string, Record<string, unknown>>();
  for (const kind of ['feedback', 'interaction', 'event'] as const) {
    const ids = [
      ...new Set(
        rows
          .filter((row) => row.record_kind === kind && rulesOf(row.workspace_id, kind, row).length > 0)
          .map((row) => row.record_id),
      ),
    ];
    if (ids.length === 0) continue;
    for (const [id, record] of await readConditionRecords(reader, kind, ids))
      records.set(`${kind}:${id}`, record);
  }

  // Customers of those records.
  const customerIds = [
    ...new Set(rows.map((row) => row.customer_id).filter((id): id is number => id !== null)),
  ];
  const customers = new Map<number, CaseCustomer & { segment: string | null }>();
  for (const row of rows) {
    if (row.customer_id === null || row.external_id === null || customers.has(row.customer_id)) continue;
    customers.set(row.customer_id, {
      id: row.customer_id,
      externalId: row.external_id,
      name: row.name,
      segment: row.segment,
      value: row.value,
      lifecycleStage: row.lifecycle_stage,
      personalityType: row.personality_type,
      attributes: row.attributes ?? {},
    });
  }

  // History for the pattern leaves, only as far as the rules need it.
  const repeatDays = Math.max(0, ...rules.map((rule) => rule.repeatDays));
  const contactTimes = new Map<number, number[]>();
  if (repeatDays > 0 && customerIds.length > 0) {
    const earliest = Math.min(...rows.map((row) => row.occurred_at.getTime())) - repeatDays * DAY;
    const latest = Math.max(...rows.map((row) => row.occurred_at.getTime()));
    const found = await sql<{ customer_id: number; occurred_at: Date }>`${sql.raw(PREPARED)}
        SELECT customer_id, occurred_at FROM interaction
        WHERE customer_id = ANY (${customerIds}::bigint[])
          AND occurred_at > ${new Date(earliest)} AND occurred_at <= ${new Date(latest)}`.execute(reader);
    for (const row of found.rows) {
      const list = contactTimes.get(row.customer_id) ?? [];
      list.push(row.occurred_at.getTime());
      contactTimes.set(row.customer_id, list);
    }
  }
  const previousNps = new Map<number, number | null>();
  const feedbackIds = rows.filter((row) => row.record_kind === 'feedback').map((row) => row.record_id);
  if (rules.some((rule) => rule.previousNps) && feedbackIds.length > 0) {
    const found = await sql<{ id: number; previous: number | null }>`${sql.raw(PREPARED)}
        SELECT f.id, (SELECT p.nps FROM feedback p
          WHERE p.customer_id = f.customer_id AND p.nps IS NOT NULL AND (p.occurred_at, p.id) < (f.occurred_at, f.id)
          ORDER BY p.occurred_at DESC, p.id DESC LIMIT 1)::int AS previous
        FROM feedback f WHERE f.id = ANY (${feedbackIds}::bigint[]) AND f.customer_id IS NOT NULL`.execute(
      reader,
    );
    for (const row of found.rows) previousNps.set(row.id, row.previous);
  }

  const contextOf = (ws: number): WorkspaceContext & { webhooks: ActiveWebhook[] } => ({
    ...(loaded.get(ws) as WorkspaceConfig).context,
    caseLink: (caseId: number) => caseLink?.(ws, caseId),
  });

  const matchesOf = new Map<number, Matched[]>();
  for (const row of rows) {
    const applicable = rulesOf(row.workspace_id, row.record_kind, row);
    const record = records.get(`${row.record_kind}:${row.record_id}`);
    if (applicable.length === 0 || !record) continue;
    const customer = row.customer_id === null ? null : (customers.get(row.customer_id) ?? null);
    const evaluated = conditionRecord(record, customer);
    const at = row.occurred_at.getTime();
    const times = row.customer_id === null ? [] : (contactTimes.get(row.customer_id) ?? []);
    const context: ConditionContext = {
      kind: row.record_kind,
      record: evaluated,
      patterns: {
        contactsWithin: (days) => times.filter((time) => time > at - days * DAY && time <= at).length,
        previousNps: previousNps.get(row.record_id) ?? null,
      },
    };
    for (const rule of applicable) {
      if (!evaluateCondition(rule.condition, context)) continue;
      const list = matchesOf.get(row.workspace_id) ?? [];
      list.push({
        workspaceId: row.workspace_id,
        rule,
        record: {
          kind: row.record_kind,
          id: row.record_id,
          externalId: String(record.externalId),
          occurredAt: row.occurred_at,
          touchpoint: typeof record.touchpoint === 'string' ? record.touchpoint : null,
          channel: typeof record.channel === 'string' ? record.channel : null,
        },
        customer,
      });
      matchesOf.set(row.workspace_id, list);
    }
  }
  return writing(async (writer) => {
    for (const [ws, matches] of matchesOf) {
      const raised = await raiseAlerts(writer, ws, matches, contextOf(ws), now, { exclusive });
      result.alerts += raised.alerts;
      result.casesOpened += raised.opened;
    }
    await sql`${sql.raw(PREPARED)}DELETE FROM alert_outbox WHERE id = ANY (${rows.map((row) => row.id)}::bigint[])`.execute(
      writer,
    );
    return result;
  });
};

/** Whether there is closed-loop work waiting: outbox rows or notifications due. One cheap query. */
export const closedLoopPending = async (
  db: Db,
  now: Date,
): Promise<{ outbox: boolean; notifications: boolean }> => {
  const row = await sql<{ outbox: boolean; notifications: boolean }>`${sql.raw(PREPARED)}
    SELECT EXISTS (SELECT 1 FROM alert_outbox) AS outbox,
      EXISTS (SELECT 1 FROM notification n WHERE ${sendableNow('n', now)}) AS notifications`.execute(db);
  return row.rows[0] ?? { outbox: false, notifications: false };
};
