import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { parseTimestamp } from '../domain/timestamp.js';
import { AppError } from '../errors.js';
import {
  type CustomerOut,
  type EventOut,
  type FeedbackOut,
  type InteractionOut,
  toCustomerOut,
} from './api-shapes.js';
import { type EncounterKind, readRecordsByIds } from './read-records.js';

/** A follow-up from a case (closed loop): an e-mail sent to the customer or a call logged. */
export interface FollowUpOut {
  id: number;
  caseId: number;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  actor: string;
  occurredAt: string;
}

export type TimelineItem =
  | ({ kind: 'interaction' } & InteractionOut)
  | ({ kind: 'feedback' } & FeedbackOut)
  | ({ kind: 'event' } & EventOut)
  | ({ kind: 'followUp' } & FollowUpOut);

export interface CustomerProfile {
  customer: CustomerOut;
  summary: { interactions: number; feedback: number; events: number; lastContactAt: string | null };
  lifecycleHistory: { lifecycleStage: string | null; changedAt: string }[];
  timeline: { items: TimelineItem[]; nextCursor: string | null };
}

// Timeline order: newest first; ties broken by kind, then by id, so pages never overlap or skip.
type TimelineKind = EncounterKind | 'followUp';
const KIND_ORDER: Record<TimelineKind, number> = { interaction: 1, feedback: 2, event: 3, followUp: 4 };
const KINDS = Object.keys(KIND_ORDER) as TimelineKind[];
const TABLES: Record<TimelineKind, string> = {
  interaction: 'interaction',
  feedback: 'feedback',
  event: 'event',
  followUp: 'case_message',
};

interface Cursor {
  at: string;
  kind: number;
  id: number;
}

const encodeCursor = (cursor: Cursor) =>
  Buffer.from(JSON.stringify([cursor.at, cursor.kind, cursor.id])).toString('base64url');

const decodeCursor = (text: string): Cursor => {
  try {
    const [at, kind, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    const instant = typeof at === 'string' ? parseTimestamp(at) : null;
    if (
      !instant ||
      (kind !== 1 && kind !== 2 && kind !== 3 && kind !== 4) ||
      !Number.isSafeInteger(id) ||
      (id as number) < 1
    ) {
      throw new Error('bad cursor');
    }
    return { at: instant.toISOString(), kind, id: id as number };
  } catch {
    throw new AppError(
      400,
      'validation_failed',
      'The cursor is not valid; use nextCursor from the previous page',
      [{ path: 'query.cursor', message: 'is not a cursor returned by this endpoint' }],
    );
  }
};

const readFollowUps = async (
  db: Db,
  workspaceId: number,
  ids: number[],
): Promise<Map<number, FollowUpOut>> => {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('case_message')
    .select(['id', 'case_id', 'channel', 'subject', 'body', 'outcome', 'status', 'actor', 'occurred_at'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  return new Map(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        caseId: row.case_id,
        channel: row.channel,
        subject: row.subject,
        body: row.body,
        outcome: row.outcome,
        status: row.status,
        actor: row.actor,
        occurredAt: (row.occurred_at as Date).toISOString(),
      },
    ]),
  );
};

/**
 * A customer's profile with the full cross-channel timeline (interactions, feedback, events and
 * follow-ups from cases, newest first), one page at a time.
 */
export const readCustomerProfile = async (
  db: Db,
  workspaceId: number,
  externalId: string,
  page: { limit: number; cursor?: string },
): Promise<CustomerProfile> => {
  const customer = await db
    .selectFrom('customer')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (!customer)
    throw new AppError(404, 'not_found', `No customer with externalId ${JSON.stringify(externalId)}`);
  const after = page.cursor ? decodeCursor(page.cursor) : null;
  // The customer was found within the workspace, and customer ids are global: the queries below
  // select by customer id alone, so that they always use the (customer_id, occurred_at) indexes.

  const branch = (kind: TimelineKind) =>
    sql`SELECT ${sql.lit(KIND_ORDER[kind])}::int AS kind, id, occurred_at FROM ${sql.table(TABLES[kind])}
        WHERE customer_id = ${customer.id}
        ${after ? sql`AND (occurred_at, ${sql.lit(-KIND_ORDER[kind])}::int, id) < (${after.at}::timestamptz, ${-after.kind}::int, ${after.id}::bigint)` : sql``}
        ORDER BY occurred_at DESC, id DESC LIMIT ${page.limit + 1}`;
  // The order (occurred_at DESC, kind ASC, id DESC) is (occurred_at, -kind, id) descending, so the
  // next page is every row whose (occurred_at, -kind, id) is below the last one shown.
  const keys = await sql<{ kind: number; id: number; occurred_at: Date }>`
    SELECT * FROM (${sql.join(
      KINDS.map((kind) => sql`(${branch(kind)})`),
      sql` UNION ALL `,
    )}) AS u
    ORDER BY occurred_at DESC, kind ASC, id DESC LIMIT ${page.limit + 1}`.execute(db);

  const pageKeys = keys.rows.slice(0, page.limit);
  const idsOf = (kind: TimelineKind) =>
    pageKeys.filter((key) => key.kind === KIND_ORDER[kind]).map((key) => key.id);
  const byKind = await Promise.all(
    KINDS.map(
      (kind): Promise<Map<number, object>> =>
        kind === 'followUp'
          ? readFollowUps(db, workspaceId, idsOf(kind))
          : readRecordsByIds(db, workspaceId, kind, idsOf(kind)),
    ),
  );
  const items = pageKeys.map((key) => {
    const index = key.kind - 1;
    const kind = KINDS[index] as TimelineKind;
    return { kind, ...(byKind[index]?.get(key.id) as object) } as TimelineItem;
  });
  const last = pageKeys.at(-1);
  const nextCursor =
    keys.rows.length > page.limit && last
      ? encodeCursor({ at: last.occurred_at.toISOString(), kind: last.kind, id: last.id })
      : null;

  const [counts, history] = await Promise.all([
    sql<{ interactions: number; feedback: number; events: number; last_contact_at: Date | null }>`
      SELECT
        (SELECT count(*)::int FROM interaction WHERE customer_id = ${customer.id}) AS interactions,
        (SELECT count(*)::int FROM feedback WHERE customer_id = ${customer.id}) AS feedback,
        (SELECT count(*)::int FROM event WHERE customer_id = ${customer.id}) AS events,
        (SELECT max(occurred_at) FROM interaction WHERE customer_id = ${customer.id}) AS last_contact_at`.execute(
      db,
    ),
    db
      .selectFrom('customer_stage_history')
      .select(['lifecycle_stage', 'changed_at'])
      .where('workspace_id', '=', workspaceId)
      .where('customer_id', '=', customer.id)
      .orderBy('changed_at', 'desc')
      .orderBy('id', 'desc')
      .execute(),
  ]);
  const summary = counts.rows[0];
  return {
    customer: toCustomerOut(customer),
    summary: {
      interactions: summary?.interactions ?? 0,
      feedback: summary?.feedback ?? 0,
      events: summary?.events ?? 0,
      lastContactAt: summary?.last_contact_at?.toISOString() ?? null,
    },
    lifecycleHistory: history.map((row) => ({
      lifecycleStage: row.lifecycle_stage,
      changedAt: row.changed_at.toISOString(),
    })),
    timeline: { items, nextCursor },
  };
};
