import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { type Channels, DeliveryError } from '../surveys/channels.js';
import {
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  MAX_ATTEMPTS,
  retryDelayMs,
  SIGNATURE_HEADER,
  signWebhook,
  TIMESTAMP_HEADER,
} from './policy.js';
import type { WebhookEvent } from './webhooks.js';

/** An event of the closed loop, as webhooks receive it. */
export interface LoopEvent {
  type: WebhookEvent;
  caseId: number;
  /** The event's data: `{ case, alert?, … }`. */
  data: Record<string, unknown>;
  /** One line for people (Slack messages, e-mail subjects). */
  summary: string;
  /** A link to the case, when known. */
  link?: string;
}

export interface OwnerEmail {
  to: string;
  subject: string;
  text: string;
}

const slackMessage = (event: LoopEvent) => ({
  text: event.summary,
  blocks: [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${event.type}* · case #${event.caseId}\n${event.summary}${event.link ? `\n<${event.link}|Open the case>` : ''}`,
      },
    },
  ],
});

/**
 * Queues an event for every active webhook of the workspace subscribed to it, and e-mails for
 * `emails`, in the caller's transaction: they go out only if what caused them commits.
 */
export const enqueueNotifications = async (
  trx: Db,
  workspaceId: number,
  event: LoopEvent,
  emails: readonly OwnerEmail[] = [],
): Promise<number> => {
  const hooks = await trx
    .selectFrom('webhook')
    .select(['id', 'format'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .where(sql<boolean>`${event.type} = ANY (events)`)
    .execute();
  const eventId = randomUUID();
  const createdAt = new Date().toISOString();
  const json = { id: eventId, type: event.type, createdAt, data: event.data };
  const rows = [
    ...hooks.map((hook) => ({
      workspace_id: workspaceId,
      channel: 'webhook',
      webhook_id: hook.id,
      recipient: null,
      event_id: eventId,
      event_type: event.type,
      case_id: event.caseId,
      payload: JSON.stringify(hook.format === 'slack' ? slackMessage(event) : json) as unknown as Record<
        string,
        unknown
      >,
    })),
    ...emails.map((email) => ({
      workspace_id: workspaceId,
      channel: 'email',
      webhook_id: null,
      recipient: email.to,
      event_id: eventId,
      event_type: event.type,
      case_id: event.caseId,
      payload: JSON.stringify({ subject: email.subject, text: email.text }) as unknown as Record<
        string,
        unknown
      >,
    })),
  ];
  if (rows.length > 0) await trx.insertInto('notification').values(rows).execute();
  return rows.length;
};

export interface DeliveryRuntime {
  db: Db;
  channels: Channels;
}

export interface DeliveryOptions {
  limit?: number;
  /** Only this workspace's notifications (tests share a database). */
  workspaceId?: number;
  /** How long a claimed delivery is reserved for this process. */
  leaseMs?: number;
}

const TIMEOUT_MS = 10_000;

interface Claimed {
  id: number;
  channel: string;
  webhook_id: number | null;
  recipient: string | null;
  event_id: string;
  event_type: string;
  payload: Record<string, unknown>;
  attempts: number;
  url: string | null;
  secret: string | null;
}

/** A webhook call; resolves to the HTTP status, throws DeliveryError when it failed. */
const callWebhook = async (item: Claimed, now: Date): Promise<number> => {
  const body = JSON.stringify(item.payload);
  const timestamp = Math.floor(now.getTime() / 1000);
  let response: Response;
  try {
    response = await fetch(item.url as string, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Touchpoint-Webhooks/1',
        [EVENT_TYPE_HEADER]: item.event_type,
        [EVENT_ID_HEADER]: item.event_id,
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(item.secret as string, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new DeliveryError(`POST failed: ${(error as Error).message}`);
  }
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) {
    const status = response.status;
    const error = new DeliveryError(
      `the receiver answered ${status}`,
      status >= 400 && status < 500 && status !== 408 && status !== 429,
    );
    (error as DeliveryError & { status?: number }).status = status;
    throw error;
  }
  return response.status;
};

/**
 * Delivers the notifications that are due: each webhook's deliveries strictly in order (only its
 * oldest pending one is tried; a failing one holds the later ones back until it is delivered or
 * given up), e-mails in any order. Claims are made with row locks (FOR UPDATE SKIP LOCKED) and a
 * lease, so several processes share the work without sending anything twice, and a process that
 * dies mid-send leaves its claims to be retried when the lease ends. A failure is retried after
 * 1 s, 4 s, 16 s … and marked failed after the last attempt; a 4xx other than 408/429 is not
 * retried.
 */
export const deliverNotifications = async (
  runtime: DeliveryRuntime,
  now: Date,
  options: DeliveryOptions = {},
): Promise<{ delivered: number; retrying: number; failed: number }> => {
  const { limit = 50, workspaceId, leaseMs = 60_000 } = options;
  const claimed = await runtime.db.transaction().execute(async (trx) => {
    const ids = await sql<{ id: number }>`
      SELECT n.id FROM notification n
      WHERE n.status = 'pending' AND n.next_attempt_at <= ${now}
        AND (n.lease_until IS NULL OR n.lease_until <= ${now})
        ${workspaceId === undefined ? sql`` : sql`AND n.workspace_id = ${workspaceId}`}
        AND (n.webhook_id IS NULL OR NOT EXISTS (
          SELECT 1 FROM notification e WHERE e.webhook_id = n.webhook_id AND e.status = 'pending' AND e.id < n.id))
      ORDER BY n.id LIMIT ${limit}
      FOR UPDATE OF n SKIP LOCKED`.execute(trx);
    if (ids.rows.length === 0) return [];
    const rows = await sql<Claimed>`
      UPDATE notification n SET lease_until = ${new Date(now.getTime() + leaseMs)}, attempts = n.attempts + 1
      FROM (SELECT unnest(${ids.rows.map((row) => row.id)}::bigint[]) AS id) c
      WHERE n.id = c.id
      RETURNING n.id, n.channel, n.webhook_id, n.recipient, n.event_id, n.event_type, n.payload, n.attempts,
        (SELECT url FROM webhook w WHERE w.id = n.webhook_id) AS url,
        (SELECT secret FROM webhook w WHERE w.id = n.webhook_id) AS secret`.execute(trx);
    return rows.rows;
  });
  if (claimed.length === 0) return { delivered: 0, retrying: 0, failed: 0 };

  const results = await Promise.all(
    claimed.map(async (item) => {
      const started = performance.now();
      try {
        let status: number | null = null;
        if (item.channel === 'webhook') {
          if (!item.url) throw new DeliveryError('the webhook no longer exists', true);
          status = await callWebhook(item, now);
        } else {
          const mail = item.payload as { subject: string; text: string };
          await runtime.channels.sendMail({
            to: item.recipient as string,
            subject: mail.subject,
            text: mail.text,
          });
        }
        return { item, ok: true as const, status, error: null, ms: performance.now() - started };
      } catch (error) {
        const failure = error instanceof DeliveryError ? error : new DeliveryError(String(error));
        return {
          item,
          ok: false as const,
          status: (failure as DeliveryError & { status?: number }).status ?? null,
          error: failure.message,
          permanent: failure.permanent,
          ms: performance.now() - started,
        };
      }
    }),
  );

  const counts = { delivered: 0, retrying: 0, failed: 0 };
  const finished = new Date();
  await runtime.db.transaction().execute(async (trx) => {
    for (const result of results) {
      const { item } = result;
      let update: Record<string, unknown>;
      if (result.ok) {
        counts.delivered++;
        update = {
          status: 'delivered',
          delivered_at: finished,
          last_status: result.status,
          last_error: null,
        };
      } else {
        const delay = result.permanent ? null : retryDelayMs(item.attempts, MAX_ATTEMPTS);
        if (delay === null) {
          counts.failed++;
          update = { status: 'failed', last_status: result.status, last_error: result.error };
        } else {
          counts.retrying++;
          update = {
            next_attempt_at: new Date(now.getTime() + delay),
            last_status: result.status,
            last_error: result.error,
          };
        }
      }
      await trx
        .updateTable('notification')
        .set({ ...update, lease_until: null })
        .where('id', '=', item.id)
        .execute();
      await trx
        .insertInto('notification_attempt')
        .values({
          notification_id: item.id,
          attempt: item.attempts,
          status_code: result.status,
          error: result.error,
          duration_ms: Math.round(result.ms * 100) / 100,
        })
        .execute();
    }
  });
  return counts;
};
