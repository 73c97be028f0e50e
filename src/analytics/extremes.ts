import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { EXPERIENCE_RATINGS, experienceRatingName } from '../domain/experience-rating.js';
import { AppError } from '../errors.js';
import { selection } from './cells.js';
import type { Filter } from './params.js';

/** Which end of the scale: bottom box (disastrous), poor, or top box (fabulous). */
export const BOXES = { bottom: 1, poor: 2, top: 5 } as const;
export type Box = keyof typeof BOXES;

export interface ExtremeEncounter {
  feedbackId: string;
  occurredAt: string;
  experienceRating: string;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  text: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  interactionId: string | null;
  /** The case this encounter raised (the latest, when several rules matched), or null. */
  caseId: number | null;
  customer: {
    externalId: string;
    name: string | null;
    segment: string | null;
    lifecycleStage: string | null;
    personalityType: string | null;
  } | null;
}

export interface ExtremesQuery {
  workspaceId: number;
  box: Box;
  from: Date | null;
  to: Date | null;
  filters: readonly Filter[];
  limit: number;
  cursor?: string | undefined;
}

const encodeCursor = (at: Date, id: number) => Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
const decodeCursor = (cursor: string): { at: Date; id: number } => {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const date = new Date(at ?? '');
  const number = /^[1-9]\d{0,15}$/.test(id ?? '') ? Number(id) : Number.NaN;
  const year = date.getUTCFullYear();
  // A cursor is written by this list: an ISO time in years 1–9999 and a positive id.
  if (Number.isNaN(date.getTime()) || year < 1 || year > 9999 || !Number.isSafeInteger(number)) {
    throw new AppError(
      400,
      'validation_failed',
      'Invalid request: query.cursor is not a cursor from this list',
      [{ path: 'query.cursor', message: 'is not a cursor from this list' }],
    );
  }
  return { at: date, id: number };
};

/** The case each feedback record raised (the latest). */
const casesRaisedBy = async (db: Db, workspaceId: number, feedbackIds: number[]) => {
  if (feedbackIds.length === 0) return new Map<number, number>();
  const rows = await db
    .selectFrom('alert')
    .select(['record_id', (eb) => eb.fn.max('case_id').as('case_id')])
    .where('workspace_id', '=', workspaceId)
    .where('record_kind', '=', 'feedback')
    .where('record_id', 'in', feedbackIds)
    .groupBy('record_id')
    .execute();
  return new Map(rows.map((row) => [Number(row.record_id), Number(row.case_id)]));
};

/**
 * The individual extreme encounters in a period and segment, newest first: the work list for
 * following up each one. The snapshot of the customer (stage, personality, segment) is the one at
 * the time of the encounter.
 */
export const listExtremes = async (db: Db, query: ExtremesQuery) => {
  const rating = { kind: 'field', name: 'experienceRating' } as const;
  const filters = [
    ...query.filters,
    { dimension: rating, values: [EXPERIENCE_RATINGS[BOXES[query.box] - 1] as string] },
  ];
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  const inner = selection(
    { workspaceId: query.workspaceId, by: [], filters, from: query.from, to: query.to },
    'feedback',
    sql`f.id, f.external_id, f.occurred_at, f.experience_rating, f.nps, f.csat, f.ces, f.text, f.source, f.channel,
      f.touchpoint, f.interaction_external_id, f.lifecycle_stage, f.personality_type, f.segment,
      c.external_id AS customer_external_id, c.name AS customer_name`,
    true,
  );
  const { rows } = await sql<Record<string, unknown>>`
    SELECT * FROM (${inner}) x
    ${after ? sql`WHERE (occurred_at, id) < (${after.at}::timestamptz, ${after.id}::bigint)` : sql``}
    ORDER BY occurred_at DESC, id DESC LIMIT ${query.limit + 1}`.execute(db);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const caseOf = await casesRaisedBy(
    db,
    query.workspaceId,
    page.map((row) => Number(row.id)),
  );
  const items: ExtremeEncounter[] = page.map((row) => ({
    feedbackId: row.external_id as string,
    occurredAt: (row.occurred_at as Date).toISOString(),
    experienceRating: experienceRatingName(row.experience_rating as number) as string,
    nps: (row.nps as number | null) ?? null,
    csat: (row.csat as number | null) ?? null,
    ces: (row.ces as number | null) ?? null,
    text: (row.text as string | null) ?? null,
    source: row.source as string,
    channel: (row.channel as string | null) ?? null,
    touchpoint: (row.touchpoint as string | null) ?? null,
    interactionId: (row.interaction_external_id as string | null) ?? null,
    caseId: caseOf.get(Number(row.id)) ?? null,
    customer:
      row.customer_external_id == null
        ? null
        : {
            externalId: row.customer_external_id as string,
            name: (row.customer_name as string | null) ?? null,
            segment: (row.segment as string | null) ?? null,
            lifecycleStage: (row.lifecycle_stage as string | null) ?? null,
            personalityType: (row.personality_type as string | null) ?? null,
          },
  }));
  return {
    items,
    nextCursor:
      rows.length > query.limit && last ? encodeCursor(last.occurred_at as Date, Number(last.id)) : null,
  };
};
