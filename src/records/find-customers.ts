import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { type CustomerOut, toCustomerOut } from './api-shapes.js';

export const findCustomersQuerySchema = z
  .object({
    q: z
      .string()
      .trim()
      .max(200)
      .optional()
      .describe('Words each found in the external id, name, e-mail or phone (case-insensitive).'),
    segment: z.string().max(200).optional(),
    lifecycleStage: z.string().max(50).optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().max(500).optional().describe('nextCursor of the previous page.'),
  })
  .strict();

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Customers of a workspace matching a search, by external id: for finding a customer to open in
 * the customer view. A scan of the workspace's customers (no extra index slows ingestion down).
 */
export const findCustomers = async (
  db: Db,
  workspaceId: number,
  query: z.output<typeof findCustomersQuerySchema>,
): Promise<{ items: CustomerOut[]; nextCursor: string | null }> => {
  const words = (query.q ?? '').split(/\s+/).filter(Boolean).slice(0, 5);
  let select = db.selectFrom('customer').selectAll().where('workspace_id', '=', workspaceId);
  for (const word of words) {
    const pattern = `%${escapeLike(word)}%`;
    select = select.where(sql<boolean>`concat_ws(' ', external_id, name, email, phone) ILIKE ${pattern}`);
  }
  if (query.segment) select = select.where('segment', '=', query.segment);
  if (query.lifecycleStage) select = select.where('lifecycle_stage', '=', query.lifecycleStage);
  if (query.cursor) select = select.where('external_id', '>', query.cursor);
  const rows = await select
    .orderBy('external_id')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map(toCustomerOut);
  return { items, nextCursor: rows.length > query.limit ? (items.at(-1)?.externalId ?? null) : null };
};
