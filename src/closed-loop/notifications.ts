import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { insertMany, PREPARED } from '../db/prepared.js';
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

/** The notification table's columns that {@link notificationRows} fills, with their types. */
const NOTIFICATION_COLUMNS = {
  workspace_id: 'bigint',
  channel: 'text',
  webhook_id: 'bigint',
  recipient: 'text',
  event_id: 'uuid',
  event_type: 'text',
  case_id: 'bigint',
  payload: 'jsonb',
};

/** Writes notification rows (several events at once). */
export const insertNotifications = async (trx: Db, rows: readonly NotificationRow[]): Promise<void> => {
  if (rows.length > 0) await insertMany('notification', NOTIFICATION_COLUMNS, rows).execute(trx);
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

/** A notification's attempt is due and no process holds it. */
const dueNow = (alias: string, now: Date) => {
  const lease = sql.ref(`${alias}.lease_until`);
  return sql`${sql.ref(`${alias}.next_attempt_at`)} <= ${now} AND (${lease} IS NULL OR ${lease} <= ${now})`;
};

/**
 * A notification that can be sent now: pending, due and not held; a webhook's only when its
 * webhook is active and it heads the webhook's queue (deliveries go in order).
 */
export const sendableNow = (alias: string, now: Date) => {
  const n = (column: string) => sql.ref(`${alias}.${column}`);
  return sql`${n('status')} = 'pending' AND ${dueNow(alias, now)} AND (${n('webhook_id')} IS NULL OR (
    EXISTS (SELECT 1 FROM webhook sw WHERE sw.id = ${n('webhook_id')} AND sw.active)
    AND NOT EXISTS (SELECT 1 FROM notification se
      WHERE se.webhook_id = ${n('webhook_id')} AND se.status = 'pending' AND se.id < ${n('id')})))`;
};

/** How many consecutive deliveries of one webhook one claim takes (sent one after another). */
export const WEBHOOK_RUN = 100;

/**
 * Claims the notifications that are due, with a lease, in one statement. Each webhook's deliveries
 * go strictly in order: its row is locked while claiming (FOR UPDATE SKIP LOCKED, so several
 * processes share the work and never claim one webhook's queue at once), and only a run of its
 * oldest pending deliveries is taken, stopping before the first one that is not due or still
 * leased — a failing delivery holds the later ones back until it is delivered or given up.
 * Deliveries of deactivated webhooks wait. E-mails are claimed in any order. A process that dies
 * mid-send leaves its claims to be retried when the lease ends. `busyWebhooks` (runs this process
 * is sending) are skipped. Returns runs to send in order (one per webhook) and e-mails.
 */
export const claimNotifications = async (
  db: Db,
  now: Date,
  options: DeliveryOptions & { busyWebhooks?: readonly number[] } = {},
): Promise<{ runs: Claimed[][]; emails: Claimed[] }> => {
  const { limit = 50, workspaceId, leaseMs = 60_000, busyWebhooks = [] } = options;
  const scope = (alias: string) =>
    workspaceId === undefined ? sql`` : sql`AND ${sql.ref(`${alias}.workspace_id`)} = ${workspaceId}`;
  const due = (alias: string) => dueNow(alias, now);
  const claimed = await sql<Claimed>`${sql.raw(PREPARED)}
    WITH hooks AS (
      SELECT w.id FROM webhook w
      WHERE w.active ${scope('w')} AND w.id <> ALL (${[...busyWebhooks]}::bigint[])
        AND EXISTS (SELECT 1 FROM notification p WHERE p.webhook_id = w.id AND ${sendableNow('p', now)})
      ORDER BY w.id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ), queued AS (
      SELECT q.id, q.webhook_id, ${due('q')} AS ready,
        row_number() OVER (PARTITION BY q.webhook_id ORDER BY q.id) AS position
      FROM notification q WHERE q.webhook_id IN (SELECT id FROM hooks) AND q.status = 'pending'
    ), runs AS (
      SELECT q.id FROM queued q
      WHERE q.position <= ${WEBHOOK_RUN} AND NOT EXISTS (
        SELECT 1 FROM queued b WHERE b.webhook_id = q.webhook_id AND NOT b.ready AND b.position <= q.position)
    ), emails AS (
      SELECT e.id FROM notification e
      WHERE e.channel = 'email' AND e.status = 'pending' AND ${due('e')} ${scope('e')}
      ORDER BY e.id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE notification n SET lease_until = ${new Date(now.getTime() + leaseMs)}, attempts = n.attempts + 1
    WHERE n.id IN (SELECT id FROM runs UNION ALL SELECT id FROM emails)
      -- Checked again on the newest row version: a claim by another process that committed after
      -- this statement's snapshot was taken is seen here, and those rows are left to it.
      AND n.status = 'pending' AND (n.lease_until IS NULL OR n.lease_until <= ${now})
    RETURNING n.id, n.channel, n.webhook_id, n.recipient, n.event_id, n.event_type, n.payload, n.attempts,
      (SELECT url FROM webhook w WHERE w.id = n.webhook_id) AS url,
      (SELECT secret FROM webhook w WHERE w.id = n.webhook_id) AS secret`.execute(db);
  const runs = new Map<number, Claimed[]>();
  const emails: Claimed[] = [];
  for (const row of claimed.rows.sort((a, b) => a.id - b.id)) {
    if (row.webhook_id === null) emails.push(row);
    else runs.set(row.webhook_id, [...(runs.get(row.webhook_id) ?? []), row]);
  }
  return { runs: [...runs.values()], emails };
};

export type SendOutcome = 'delivered' | 'retrying' | 'failed';

interface Attempted {
  item: Claimed;
  outcome: SendOutcome;
  status: number | null;
  error: string | null;
  ms: number;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

/** One attempt at a claimed notification: delivered, to retry after the backoff, or failed. */
const attempt = async (runtime: DeliveryRuntime, item: Claimed, now: Date): Promise<Attempted> => {
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
  const ms = Math.round((performance.now() - started) * 100) / 100;
  const delay = error === null || permanent ? null : retryDelayMs(item.attempts, MAX_ATTEMPTS);
  const outcome: SendOutcome = error === null ? 'delivered' : delay === null ? 'failed' : 'retrying';
  return {
    item,
    outcome,
    status,
    error,
    ms,
    nextAttemptAt: delay === null ? null : new Date(now.getTime() + delay),
    deliveredAt: outcome === 'delivered' ? new Date(now.getTime() + ms) : null,
  };
};

/**
 * Records attempts and hands back claims that were not tried (lease and attempt undone), in one
 * statement: each notification's outcome, and each attempt in the log.
 */
const record = async (db: Db, attempted: readonly Attempted[], released: readonly number[]) => {
  const column = <T>(pick: (a: Attempted) => T) => attempted.map(pick);
  await sql`${sql.raw(PREPARED)}
    WITH input AS (
      SELECT * FROM unnest(
        ${column((a) => a.item.id)}::bigint[], ${column((a) => a.outcome)}::text[],
        ${column((a) => a.nextAttemptAt)}::timestamptz[], ${column((a) => a.deliveredAt)}::timestamptz[],
        ${column((a) => a.status)}::int[], ${column((a) => a.error)}::text[], ${column((a) => a.item.attempts)}::int[],
        ${column((a) => a.ms)}::float8[]
      ) AS t(id, outcome, next_attempt_at, delivered_at, status_code, error, attempt, ms)
    ), updated AS (
      UPDATE notification n
      SET status = CASE WHEN i.outcome = 'retrying' THEN 'pending' ELSE i.outcome END,
        next_attempt_at = coalesce(i.next_attempt_at, n.next_attempt_at), delivered_at = i.delivered_at,
        last_status = i.status_code, last_error = i.error, lease_until = NULL
      FROM input i WHERE n.id = i.id
      RETURNING n.id
    ), released AS (
      UPDATE notification SET lease_until = NULL, attempts = attempts - 1
      WHERE id = ANY (${[...released]}::bigint[])
      RETURNING id
    )
    INSERT INTO notification_attempt (notification_id, attempt, status_code, error, duration_ms)
    SELECT id, attempt, status_code, error, ms FROM input`.execute(db);
};

/**
 * Sends a webhook's claimed run in order and records the outcomes together (a crash before the
 * record means the run is sent again when its lease ends: delivery is at least once, and receivers
 * drop event ids they have seen). When one is to be retried, the rest of the run is handed back
 * unsent to wait behind it; a delivery given up (failed) no longer holds the others back. Outcomes:
 * delivered; retried after 1 s, 4 s, 16 s … and failed after the last attempt; a redirect or a 4xx
 * other than 408/429 is not retried.
 */
export const sendRun = async (
  runtime: DeliveryRuntime,
  run: readonly Claimed[],
  now: Date,
  leaseMs = 60_000,
): Promise<SendOutcome[]> => {
  const attempted: Attempted[] = [];
  const started = performance.now();
  for (const item of run) {
    const result = await attempt(runtime, item, now);
    attempted.push(result);
    if (result.outcome === 'retrying') break;
    // Hand the rest back well before the lease ends, so no other process sends it meanwhile.
    if (performance.now() - started > leaseMs / 2) break;
  }
  await record(
    runtime.db,
    attempted,
    run.slice(attempted.length).map((item) => item.id),
  );
  return attempted.map((result) => result.outcome);
};

/** Sends one claimed notification (an e-mail) and records its outcome. */
export const sendClaimed = async (runtime: DeliveryRuntime, item: Claimed, now: Date): Promise<SendOutcome> =>
  (await sendRun(runtime, [item], now))[0] as SendOutcome;

/**
 * Claims the notifications due at `now` and sends them all (see claimNotifications and sendRun);
 * resolves when every one sent has its outcome recorded.
 */
export const deliverNotifications = async (
  runtime: DeliveryRuntime,
  now: Date,
  options: DeliveryOptions = {},
): Promise<{ delivered: number; retrying: number; failed: number }> => {
  const { runs, emails } = await claimNotifications(runtime.db, now, options);
  const counts = { delivered: 0, retrying: 0, failed: 0 };
  const outcomes = await Promise.all([
    ...runs.map((run) => sendRun(runtime, run, now)),
    ...emails.map(async (item) => [await sendClaimed(runtime, item, now)]),
  ]);
  for (const outcome of outcomes.flat()) counts[outcome]++;
  return counts;
};
