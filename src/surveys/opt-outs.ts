import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';

/** Channels a customer can opt out of; `all` stops every survey invitation. */
export const OPT_OUT_CHANNELS = ['email', 'sms', 'voice', 'webhook', 'widget', 'all'] as const;
export type OptOutChannel = (typeof OPT_OUT_CHANNELS)[number];

const customerId = async (db: Db, workspaceId: number, externalId: string): Promise<number> => {
  const row = await db
    .selectFrom('customer')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No customer with externalId "${externalId}"`);
  return row.id;
};

const optOutsOf = async (db: Db, id: number) =>
  (
    await db
      .selectFrom('contact_opt_out')
      .select(['channel', 'source', 'created_at'])
      .where('customer_id', '=', id)
      .orderBy('channel')
      .execute()
  ).map((row) => ({ channel: row.channel, source: row.source, createdAt: row.created_at.toISOString() }));

export const listOptOuts = async (db: Db, workspaceId: number, externalId: string) =>
  optOutsOf(db, await customerId(db, workspaceId, externalId));

/** Records an opt-out (idempotent); `source` says where it came from (api, link). */
export const addOptOut = async (
  db: Db,
  workspaceId: number,
  externalId: string,
  channel: OptOutChannel,
  source: string,
) => {
  const id = await customerId(db, workspaceId, externalId);
  await db
    .insertInto('contact_opt_out')
    .values({ customer_id: id, channel, workspace_id: workspaceId, source })
    .onConflict((conflict) => conflict.columns(['customer_id', 'channel']).doNothing())
    .execute();
  return optOutsOf(db, id);
};

export const removeOptOut = async (
  db: Db,
  workspaceId: number,
  externalId: string,
  channel: OptOutChannel,
) => {
  const id = await customerId(db, workspaceId, externalId);
  await db
    .deleteFrom('contact_opt_out')
    .where('customer_id', '=', id)
    .where('channel', '=', channel)
    .execute();
  return optOutsOf(db, id);
};
