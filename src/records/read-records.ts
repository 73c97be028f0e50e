import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import {
  type EventOut,
  type FeedbackOut,
  type InteractionOut,
  toEventOut,
  toFeedbackOut,
  toInteractionOut,
} from './api-shapes.js';

/** The three kinds of record on a customer's timeline. */
export type EncounterKind = 'interaction' | 'feedback' | 'event';

interface KindMap {
  interaction: InteractionOut;
  feedback: FeedbackOut;
  event: EventOut;
}

const mappers = { interaction: toInteractionOut, feedback: toFeedbackOut, event: toEventOut } as const;

/** Rows of one table with the customer's external id, selected by external ids or internal ids. */
const selectRows = (
  db: Db,
  workspaceId: number,
  kind: EncounterKind,
  where: { ids: number[] } | { externalId: string },
) =>
  db
    .selectFrom(kind)
    .leftJoin('customer', (join) =>
      join.onRef('customer.id', '=', `${kind}.customer_id`).on('customer.workspace_id', '=', workspaceId),
    )
    .selectAll(kind)
    .select('customer.external_id as customer_external_id')
    .where(`${kind}.workspace_id`, '=', workspaceId)
    .where(
      'ids' in where
        ? sql<boolean>`${sql.ref(`${kind}.id`)} = ANY(${sql.val(where.ids)})`
        : sql<boolean>`${sql.ref(`${kind}.external_id`)} = ${where.externalId}`,
    );

export const readRecordsByIds = async <K extends EncounterKind>(
  db: Db,
  workspaceId: number,
  kind: K,
  ids: number[],
): Promise<Map<number, KindMap[K]>> => {
  if (ids.length === 0) return new Map();
  const rows = await selectRows(db, workspaceId, kind, { ids }).execute();
  const map = mappers[kind] as (row: unknown) => KindMap[K];
  return new Map(rows.map((row) => [row.id, map(row)]));
};

/** One record by its external id, or a 404 that names it. */
export const readRecord = async <K extends EncounterKind>(
  db: Db,
  workspaceId: number,
  kind: K,
  externalId: string,
): Promise<KindMap[K]> => {
  const row = await selectRows(db, workspaceId, kind, { externalId }).executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No ${kind} with externalId ${JSON.stringify(externalId)}`);
  return (mappers[kind] as (row: unknown) => KindMap[K])(row);
};
