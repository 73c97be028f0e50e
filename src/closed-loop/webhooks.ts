import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import { httpUrlSchema } from '../validation.js';

/** The events a webhook can subscribe to. */
export const WEBHOOK_EVENTS = [
  'alert.raised',
  'case.opened',
  'case.assigned',
  'case.status_changed',
  'case.escalated',
  'case.note_added',
  'case.message_sent',
  'case.recovery_decided',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const WEBHOOK_FORMATS = ['json', 'slack'] as const;

const url = httpUrlSchema;

const webhookFields = {
  url,
  events: z
    .array(z.enum(WEBHOOK_EVENTS))
    .min(1)
    .max(WEBHOOK_EVENTS.length)
    .describe('The events to send; all by default.'),
  format: z
    .enum(WEBHOOK_FORMATS)
    .describe('json: the event as JSON; slack: a Slack-compatible {"text", "blocks"} message.'),
  active: z.boolean().describe('false pauses deliveries (they wait, in order) until it is true again.'),
};

export const webhookInputSchema = z
  .object({
    url: webhookFields.url,
    events: webhookFields.events.default([...WEBHOOK_EVENTS]),
    format: webhookFields.format.default('json'),
    active: webhookFields.active.default(true),
  })
  .strict();

/** A change of some fields; the others keep their values (no defaults here). */
export const webhookPatchSchema = z
  .object({
    url: webhookFields.url.optional(),
    events: webhookFields.events.optional(),
    format: webhookFields.format.optional(),
    active: webhookFields.active.optional(),
  })
  .strict();

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  format: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  /** Only when created: the signing secret. */
  secret?: string;
}

type Row = {
  id: number;
  url: string;
  events: string[];
  format: string;
  active: boolean;
  created_at: Date;
  updated_at: Date;
};
const COLUMNS = ['id', 'url', 'events', 'format', 'active', 'created_at', 'updated_at'] as const;

const toWebhook = (row: Row): Webhook => ({
  id: row.id,
  url: row.url,
  events: row.events,
  format: row.format,
  active: row.active,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** A new webhook; the answer carries its signing secret, shown this once. */
export const createWebhook = async (
  db: Db,
  workspaceId: number,
  input: z.output<typeof webhookInputSchema>,
): Promise<Webhook & { secret: string }> => {
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const row = await db
    .insertInto('webhook')
    .values({ workspace_id: workspaceId, ...input, secret })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return { ...toWebhook(row as Row), secret };
};

export const listWebhooks = async (db: Db, workspaceId: number): Promise<Webhook[]> =>
  (
    await db
      .selectFrom('webhook')
      .select(COLUMNS)
      .where('workspace_id', '=', workspaceId)
      .orderBy('id')
      .execute()
  ).map((row) => toWebhook(row as Row));

export const updateWebhook = async (
  db: Db,
  workspaceId: number,
  id: number,
  patch: z.output<typeof webhookPatchSchema>,
): Promise<Webhook> => {
  const row = await db
    .updateTable('webhook')
    .set({ ...patch, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No webhook ${id}`);
  return toWebhook(row as Row);
};

/** Removes a webhook: it is deactivated and its pending deliveries are dropped (marked failed). */
export const deleteWebhook = async (db: Db, workspaceId: number, id: number): Promise<void> => {
  await db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('webhook')
      .set({ active: false, updated_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new AppError(404, 'not_found', `No webhook ${id}`);
    await trx
      .updateTable('notification')
      .set({ status: 'failed', last_error: 'the webhook was deleted' })
      .where('webhook_id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  });
};

/** The delivery log of a webhook, newest first, with every attempt. */
export const webhookDeliveries = async (db: Db, workspaceId: number, id: number, limit: number) => {
  const hook = await db
    .selectFrom('webhook')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!hook) throw new AppError(404, 'not_found', `No webhook ${id}`);
  const rows = await db
    .selectFrom('notification')
    .selectAll()
    .where('webhook_id', '=', id)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  const attempts = rows.length
    ? await db
        .selectFrom('notification_attempt')
        .selectAll()
        .where(
          'notification_id',
          'in',
          rows.map((row) => row.id),
        )
        .orderBy('attempt')
        .execute()
    : [];
  return rows.map((row) => ({
    id: row.id,
    eventId: row.event_id as string,
    eventType: row.event_type,
    caseId: row.case_id,
    status: row.status as string,
    attempts: row.attempts as number,
    nextAttemptAt: row.status === 'pending' ? (row.next_attempt_at as Date).toISOString() : null,
    lastStatus: row.last_status,
    lastError: row.last_error,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: (row.created_at as Date).toISOString(),
    log: attempts
      .filter((attempt) => attempt.notification_id === row.id)
      .map((attempt) => ({
        attempt: attempt.attempt,
        at: (attempt.at as Date).toISOString(),
        statusCode: attempt.status_code,
        error: attempt.error,
        durationMs: attempt.duration_ms,
      })),
  }));
};
