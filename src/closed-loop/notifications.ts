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

/** Slack's escaping of &, < and > in message text, so names and comments are never markup. */
const slackEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const slackMessage = (event: LoopEvent) => ({
  text: slackEscape(event.summary),
  blocks: [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${event.type}* · case #${event.caseId}\n${slackEscape(event.summary)}${event.link ? `\n<${event.link}|Open the case>` : ''}`,
      },
    },
  ],
});

/** A workspace's active webhooks with the events they take. */
export interface ActiveWebhook {
  id: number;
  format: string;
  events: string[];
}

export const activeWebhooks = async (trx: Db, workspaceId: number): Promise<ActiveWebhook[]> =>
  trx
    .selectFrom('webhook')
    .select(['id', 'format', 'events'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .execute();

/** The notification rows of one event: a delivery per subscribed webhook, an e-mail per recipient. */
export const notificationRows = (
  hooks: readonly ActiveWebhook[],
  workspaceId: number,
  event: LoopEvent,
  emails: readonly OwnerEmail[] = [],
) => {
  const eventId = randomUUID();
  const json = { id: eventId, type: event.type, createdAt: new Date().toISOString(), data: event.data };
  const row = (channel: string, webhookId: number | null, recipient: string | null, payload: unknown) => ({
    workspace_id: workspaceId,
    channel,
    webhook_id: webhookId,
    recipient,
    event_id: eventId,
    event_type: event.type,
    case_id: event.caseId,
    payload: JSON.stringify(payload) as unknown as Record<string, unknown>,
  });
  return [
    ...hooks
      .filter((hook) => hook.events.includes(event.type))
      .map((hook) => row('webhook', hook.id, null, hook.format === 'slack' ? slackMessage(event) : json)),
    ...emails.map((email) => row('email', null, email.to, { subject: email.subject, text: email.text })),
  ];
};
export type NotificationRow = ReturnType<typeof notificationRows>[number];

/** Writes notification rows (several events at once). */
export const insertNotifications = async (trx: Db, rows: readonly NotificationRow[]): Promise<void> => {
  if (rows.length > 0)
    await trx
      .insertInto('notification')
      .values([...rows])
      .execute();
};

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
  const rows = notificationRows(await activeWebhooks(trx, workspaceId), workspaceId, event, emails);
  await insertNotifications(trx, rows);
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

/** A claimed notification, ready to send. */
export interface Claimed {
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
      // A redirect would be followed as a GET without the body: refuse it instead.
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new DeliveryError(`POST failed: ${(error as Error).message}`);
  }
  await response.arrayBuffer().catch(() => undefined);
  const status = response.status;
  if (status >= 200 && status < 300) return status;
  const error =
    status >= 300 && status < 400
      ? new DeliveryError(
          `the receiver redirected (${status}${response.headers.get('location') ? ` to ${response.headers.get('location')}` : ''}); set the webhook's URL to the final address`,
          true,
        )
      : new DeliveryError(
          `the receiver answered ${status}`,
          status >= 400 && status < 500 && status !== 408 && status !== 429,
        );
  (error as DeliveryError & { status?: number }).status = status;
  throw error;
};

/**
 * Claims the notifications that are due: each webhook's deliveries strictly in order (only its
 * oldest pending one can be claimed; a failing one holds the later ones back until it is delivered
 * or given up), e-mails in any order; deliveries of deactivated webhooks wait. Claims are made with
 * row locks (FOR UPDATE SKIP LOCKED) and a lease, so several processes share the work without
 * sending anything twice, and a process that dies mid-send leaves its claims to be retried when
 * the lease ends.
 */
export const claimNotifications = async (
  db: Db,
  now: Date,
  options: DeliveryOptions = {},
): Promise<Claimed[]> => {
  const { limit = 50, workspaceId, leaseMs = 60_000 } = options;
  return db.transaction().execute(async (trx) => {
    const ids = await sql<{ id: number }>`
      SELECT n.id FROM notification n
      WHERE n.status = 'pending' AND n.next_attempt_at <= ${now}
        AND (n.lease_until IS NULL OR n.lease_until <= ${now})
        ${workspaceId === undefined ? sql`` : sql`AND n.workspace_id = ${workspaceId}`}
        AND (n.webhook_id IS NULL OR (
          EXISTS (SELECT 1 FROM webhook w WHERE w.id = n.webhook_id AND w.active)
          AND NOT EXISTS (
            SELECT 1 FROM notification e WHERE e.webhook_id = n.webhook_id AND e.status = 'pending' AND e.id < n.id)))
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
    return rows.rows.sort((a, b) => a.id - b.id);
  });
};

export type SendOutcome = 'delivered' | 'retrying' | 'failed';

/**
 * Sends one claimed notification and records the outcome and the attempt at once (so other
 * deliveries never wait for a slow receiver): delivered; or retried after 1 s, 4 s, 16 s … and
 * marked failed after the last attempt; a redirect or a 4xx other than 408/429 is not retried.
 */
export const sendClaimed = async (
  runtime: DeliveryRuntime,
  item: Claimed,
  now: Date,
): Promise<SendOutcome> => {
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  let permanent = false;
  try {
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
  } catch (failure) {
    const delivery = failure instanceof DeliveryError ? failure : new DeliveryError(String(failure));
    status = (delivery as DeliveryError & { status?: number }).status ?? null;
    error = delivery.message;
    permanent = delivery.permanent;
  }
  const ms = performance.now() - started;
  let outcome: SendOutcome;
  let update: Record<string, unknown>;
  if (error === null) {
    outcome = 'delivered';
    update = {
      status: 'delivered',
      delivered_at: new Date(now.getTime() + ms),
      last_status: status,
      last_error: null,
    };
  } else {
    const delay = permanent ? null : retryDelayMs(item.attempts, MAX_ATTEMPTS);
    outcome = delay === null ? 'failed' : 'retrying';
    update =
      delay === null
        ? { status: 'failed', last_status: status, last_error: error }
        : { next_attempt_at: new Date(now.getTime() + delay), last_status: status, last_error: error };
  }
  await runtime.db.transaction().execute(async (trx) => {
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
        status_code: status,
        error,
        duration_ms: Math.round(ms * 100) / 100,
      })
      .execute();
  });
  return outcome;
};

/**
 * Claims the notifications due at `now` and sends them all (see claimNotifications and
 * sendClaimed); resolves when every one has its outcome recorded.
 */
export const deliverNotifications = async (
  runtime: DeliveryRuntime,
  now: Date,
  options: DeliveryOptions = {},
): Promise<{ delivered: number; retrying: number; failed: number }> => {
  const claimed = await claimNotifications(runtime.db, now, options);
  const counts = { delivered: 0, retrying: 0, failed: 0 };
  for (const outcome of await Promise.all(claimed.map((item) => sendClaimed(runtime, item, now)))) {
    counts[outcome]++;
  }
  return counts;
};
