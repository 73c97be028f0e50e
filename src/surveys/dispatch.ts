import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { type Channels, DeliveryError, type Outgoing } from './channels.js';
import { pickLanguage } from './definition.js';
import { decideInvitation, isTimeZone, lookbackMs, type PastInvitation, quietUntil } from './fatigue.js';
import { readSurveySettings, type SurveySettings } from './settings.js';
import { linkExpiry, surveyVersion } from './surveys.js';
import { linkSecret, signToken } from './tokens.js';
import type { SurveyDefinition } from './types.js';

/** What sending needs: the database, the channels, and the public address links point to. */
export interface SurveyRuntime {
  db: Db;
  channels: Channels;
  /** Base URL of the survey pages as respondents reach them, e.g. https://cx.example.com. */
  publicUrl: string;
}

/** The links of one invitation. */
export const invitationLinks = (publicUrl: string, token: string) => {
  const base = `${publicUrl.replace(/\/+$/, '')}/s/${token}`;
  return {
    surveyUrl: base,
    scoreUrl: (score: number) => `${base}/score/${score}`,
    optOutUrl: `${base}/opt-out`,
    openPixelUrl: `${base}/open.gif`,
  };
};

export interface DispatchResult {
  sent: number;
  suppressed: number;
  deferred: number;
  failed: number;
  retrying: number;
}

export interface DispatchOptions {
  /** Most invitations handled in one call. */
  limit: number;
  /** Only this workspace's invitations (all when left out). */
  workspaceId?: number | undefined;
}

const inWorkspace = (workspaceId: number | undefined) =>
  workspaceId === undefined ? sql`` : sql`AND i.workspace_id = ${workspaceId}`;

// Which invitations the dispatcher takes at `now` (each condition served by a partial index), in
// one place for the queries that take them and for the scheduler's look whether any are there.
const sendDue = (now: Date) => sql`i.status = 'scheduled' AND i.due_at <= ${now}`;
const leaseLapsed = (now: Date) => sql`i.status = 'sending' AND i.lease_until < ${now}`;
const reminderDue = (now: Date) =>
  sql`i.reminder_due_at <= ${now} AND i.reminded_at IS NULL AND i.completed_at IS NULL
    AND i.status = 'sent' AND i.expires_at > ${now}`;

/** Whether anything is due at `now`: one cheap look, so an idle tick holds the database briefly. */
export const pendingWork = async (
  db: Db,
  now: Date,
): Promise<{ invitations: boolean; reminders: boolean }> => {
  const { rows } = await sql<{ invitations: boolean; reminders: boolean }>`
    SELECT EXISTS (SELECT 1 FROM invitation i WHERE ${sendDue(now)})
        OR EXISTS (SELECT 1 FROM invitation i WHERE ${leaseLapsed(now)}) AS invitations,
      EXISTS (SELECT 1 FROM invitation i WHERE ${reminderDue(now)}) AS reminders`.execute(db);
  return rows[0] ?? { invitations: true, reminders: true };
};

const LEASE_MS = 5 * 60_000;
const MAX_ATTEMPTS = 3;
const DAY = 86_400_000;

interface Claimed {
  id: number;
  settings: SurveySettings;
  publicId: string;
  surveyId: number;
  surveyVersion: number;
  channel: string;
  attempts: number;
  language: string;
  definition: SurveyDefinition;
  customer: Outgoing['customer'];
  interactionId: string | null;
}

const settingsCache = async (db: Db, workspaceIds: number[]) => {
  const settings = new Map<number, SurveySettings>();
  for (const id of new Set(workspaceIds)) settings.set(id, await readSurveySettings(db, id));
  return settings;
};

/**
 * What the fatigue rules need to know of customers: the invitations sent to them since `since`
 * (any survey, any channel) and the channels they opted out of.
 */
export const contactHistory = async (db: Db, customerIds: number[], since: Date) => {
  const history = new Map<number, PastInvitation[]>();
  const optedOut = new Map<number, Set<string>>();
  if (customerIds.length === 0) return { history, optedOut };
  const past = await db
    .selectFrom('invitation')
    .select(['customer_id', 'survey_id', 'touchpoint', 'sent_at'])
    .where('customer_id', 'in', customerIds)
    .where('sent_at', '>', since)
    .where('status', 'in', ['sending', 'sent'])
    .execute();
  const add = (customerId: number, past: PastInvitation) => {
    const list = history.get(customerId) ?? [];
    list.push(past);
    history.set(customerId, list);
  };
  for (const row of past) {
    add(row.customer_id as number, {
      surveyId: row.survey_id,
      touchpoint: row.touchpoint,
      sentAt: row.sent_at as Date,
    });
  }
  // Follow-ups from cases (closed loop) are contacts too: they count towards the contact budget.
  const followUps = await db
    .selectFrom('case_message')
    .select(['customer_id', 'case_id', 'occurred_at'])
    .where('customer_id', 'in', customerIds)
    .where('occurred_at', '>', since)
    .where('status', 'in', ['sent', 'logged'])
    .execute();
  for (const row of followUps) {
    add(row.customer_id as number, {
      surveyId: null,
      touchpoint: null,
      sentAt: row.occurred_at as Date,
      caseId: row.case_id,
    });
  }
  const outs = await db
    .selectFrom('contact_opt_out')
    .select(['customer_id', 'channel'])
    .where('customer_id', 'in', customerIds)
    .execute();
  for (const row of outs) {
    const set = optedOut.get(row.customer_id) ?? new Set<string>();
    set.add(row.channel);
    optedOut.set(row.customer_id, set);
  }
  return { history, optedOut };
};

/**
 * Claims the invitations due at `now` and decides each against the contact-fatigue rules, in one
 * transaction: suppressed ones get their reason, ones in quiet hours wait, and the rest are leased
 * for sending (a crashed send is retried when its lease runs out).
 */
const claimDue = async (db: Db, now: Date, { limit, workspaceId }: DispatchOptions) =>
  db.transaction().execute(async (trx) => {
    const due = await sql<{
      id: number;
      public_id: string;
      workspace_id: number;
      survey_id: number;
      touchpoint: string | null;
      channel: string;
      attempts: number;
      customer_id: number | null;
      survey_status: string;
      version: number;
      external_id: string | null;
      name: string | null;
      email: string | null;
      phone: string | null;
      locale: string | null;
      time_zone: string | null;
      interaction_external_id: string | null;
    }>`
      SELECT i.id, i.public_id::text AS public_id, i.workspace_id, i.survey_id, i.touchpoint, i.channel, i.attempts,
        i.customer_id, s.status AS survey_status, s.version, c.external_id, c.name, c.email, c.phone, c.locale,
        c.attributes->>'timeZone' AS time_zone, x.external_id AS interaction_external_id
      FROM invitation i
      JOIN survey s ON s.id = i.survey_id
      LEFT JOIN customer c ON c.id = i.customer_id
      LEFT JOIN interaction x ON x.id = i.interaction_id
      WHERE ${sendDue(now)} ${inWorkspace(workspaceId)}
      ORDER BY i.due_at, i.id
      LIMIT ${limit}
      FOR UPDATE OF i SKIP LOCKED`.execute(trx);
    if (due.rows.length === 0) return { claimed: [] as Claimed[], suppressed: 0, deferred: 0 };

    const settings = await settingsCache(
      trx,
      due.rows.map((row) => row.workspace_id),
    );
    const lookback = Math.max(...[...settings.values()].map(lookbackMs));
    const customerIds = [
      ...new Set(due.rows.flatMap((row) => (row.customer_id === null ? [] : [row.customer_id]))),
    ];
    const { history, optedOut } = await contactHistory(trx, customerIds, new Date(now.getTime() - lookback));

    const claimed: Claimed[] = [];
    let suppressed = 0;
    let deferred = 0;
    for (const row of due.rows) {
      const workspaceSettings = settings.get(row.workspace_id) as SurveySettings;
      const customerHistory = row.customer_id === null ? [] : (history.get(row.customer_id) ?? []);
      const decision =
        row.survey_status !== 'active'
          ? ({
              action: 'suppress',
              reason: 'survey_inactive',
              detail: `the survey is ${row.survey_status}`,
            } as const)
          : decideInvitation({
              now,
              settings: workspaceSettings,
              invitation: { surveyId: row.survey_id, touchpoint: row.touchpoint, channel: row.channel },
              customer:
                row.customer_id === null
                  ? null
                  : {
                      email: row.email,
                      phone: row.phone,
                      timeZone: row.time_zone && isTimeZone(row.time_zone) ? row.time_zone : null,
                    },
              optedOut: (row.customer_id !== null && optedOut.get(row.customer_id)) || new Set(),
              history: customerHistory,
            });
      if (decision.action === 'suppress') {
        suppressed++;
        await trx
          .updateTable('invitation')
          .set({
            status: 'suppressed',
            reason: decision.reason,
            reason_detail: decision.detail,
            updated_at: now,
          })
          .where('id', '=', row.id)
          .execute();
        continue;
      }
      if (decision.action === 'defer') {
        deferred++;
        await trx
          .updateTable('invitation')
          .set({
            due_at: decision.until,
            reason: 'quiet_hours',
            reason_detail: decision.detail,
            updated_at: now,
          })
          .where('id', '=', row.id)
          .execute();
        continue;
      }
      const definition = await surveyVersion(trx, row.survey_id, row.version, db);
      const language = pickLanguage(definition.languages, row.locale);
      customerHistory.push({ surveyId: row.survey_id, touchpoint: row.touchpoint, sentAt: now });
      if (row.customer_id !== null) history.set(row.customer_id, customerHistory);
      await trx
        .updateTable('invitation')
        .set({
          status: 'sending',
          lease_until: new Date(now.getTime() + LEASE_MS),
          sent_at: now,
          attempts: row.attempts + 1,
          survey_version: row.version,
          language,
          expires_at: linkExpiry(definition, now),
          reminder_due_at:
            definition.reminderAfterDays === null
              ? null
              : new Date(now.getTime() + definition.reminderAfterDays * DAY),
          reason: null,
          reason_detail: null,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      claimed.push({
        id: row.id,
        settings: workspaceSettings,
        publicId: row.public_id,
        surveyId: row.survey_id,
        surveyVersion: row.version,
        channel: row.channel,
        attempts: row.attempts + 1,
        language,
        definition,
        customer: {
          externalId: row.external_id as string,
          name: row.name,
          email: row.email,
          phone: row.phone,
        },
        interactionId: row.interaction_external_id,
      });
    }
    return { claimed, suppressed, deferred };
  });

const outgoing = async (runtime: SurveyRuntime, claimed: Claimed, reminder: boolean): Promise<Outgoing> => {
  const token = signToken(await linkSecret(runtime.db), claimed.publicId);
  return {
    channel: claimed.channel,
    reminder,
    definition: claimed.definition,
    language: claimed.language,
    ...invitationLinks(runtime.publicUrl, token),
    invitation: { id: claimed.publicId, surveyId: claimed.surveyId, surveyVersion: claimed.surveyVersion },
    customer: claimed.customer,
    interactionId: claimed.interactionId,
  };
};

/** Sends one leased invitation and records the outcome: sent, retried later, or failed. */
const deliver = async (
  runtime: SurveyRuntime,
  claimed: Claimed,
  now: Date,
): Promise<'sent' | 'retrying' | 'failed'> => {
  const { db } = runtime;
  try {
    await runtime.channels.send(await outgoing(runtime, claimed, false), claimed.settings);
    await db
      .updateTable('invitation')
      .set({ status: 'sent', lease_until: null })
      .where('id', '=', claimed.id)
      .where('status', '=', 'sending')
      .execute();
    return 'sent';
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const permanent =
      !(error instanceof DeliveryError) || error.permanent || claimed.attempts >= MAX_ATTEMPTS;
    // Not sent: no reminder either (the claim set one).
    const unsent = { lease_until: null, sent_at: null, reminder_due_at: null, reason_detail: message };
    await db
      .updateTable('invitation')
      .set(
        permanent
          ? { ...unsent, status: 'failed', reason: 'delivery_failed' }
          : {
              ...unsent,
              status: 'scheduled',
              due_at: new Date(now.getTime() + 60_000 * 5 ** (claimed.attempts - 1)),
              reason: 'retrying',
            },
      )
      .where('id', '=', claimed.id)
      .execute();
    return permanent ? 'failed' : 'retrying';
  }
};

/**
 * Sends what is due at `now`: returns sends whose lease ran out (a crash mid-send) to the queue,
 * then claims, decides and delivers up to `limit` invitations.
 */
export const dispatchDue = async (
  runtime: SurveyRuntime,
  now = new Date(),
  options: Partial<DispatchOptions> = {},
): Promise<DispatchResult> => {
  const { db } = runtime;
  const { limit = 100, workspaceId } = options;
  await sql`
    UPDATE invitation i SET status = 'scheduled', lease_until = NULL, sent_at = NULL, due_at = ${now}, reason = 'retrying'
    WHERE ${leaseLapsed(now)} ${inWorkspace(workspaceId)}`.execute(db);
  const { claimed, suppressed, deferred } = await claimDue(db, now, { limit, workspaceId });
  const result: DispatchResult = { sent: 0, suppressed, deferred, failed: 0, retrying: 0 };
  for (const item of claimed) result[await deliver(runtime, item, now)]++;
  return result;
};

/**
 * Sends the one reminder of invitations not completed by their reminder time (still valid, not
 * opted out since; quiet hours make it wait). A reminder is marked before it is sent, so a crash
 * loses it rather than sending it twice.
 */
export const sendReminders = async (
  runtime: SurveyRuntime,
  now = new Date(),
  options: Partial<DispatchOptions> = {},
): Promise<number> => {
  const { db } = runtime;
  const { limit = 100, workspaceId } = options;
  const claimed = await db.transaction().execute(async (trx) => {
    const due = await sql<{
      id: number;
      public_id: string;
      workspace_id: number;
      survey_id: number;
      survey_version: number;
      channel: string;
      language: string;
      external_id: string;
      name: string | null;
      email: string | null;
      phone: string | null;
      time_zone: string | null;
      opted_out: boolean;
      interaction_external_id: string | null;
    }>`
      SELECT i.id, i.public_id::text AS public_id, i.workspace_id, i.survey_id, i.survey_version, i.channel, i.language,
        c.external_id, c.name, c.email, c.phone, c.attributes->>'timeZone' AS time_zone,
        EXISTS (SELECT 1 FROM contact_opt_out o WHERE o.customer_id = i.customer_id AND o.channel IN (i.channel, 'all')) AS opted_out,
        x.external_id AS interaction_external_id
      FROM invitation i
      JOIN customer c ON c.id = i.customer_id
      LEFT JOIN interaction x ON x.id = i.interaction_id
      WHERE ${reminderDue(now)} ${inWorkspace(workspaceId)}
      ORDER BY i.reminder_due_at
      LIMIT ${limit}
      FOR UPDATE OF i SKIP LOCKED`.execute(trx);
    const settings = await settingsCache(
      trx,
      due.rows.map((row) => row.workspace_id),
    );
    const claimed: Claimed[] = [];
    for (const row of due.rows) {
      const workspaceSettings = settings.get(row.workspace_id) as SurveySettings;
      const quiet = workspaceSettings.quietHours;
      const timeZone =
        row.time_zone && isTimeZone(row.time_zone) ? row.time_zone : workspaceSettings.defaultTimeZone;
      const until = quiet ? quietUntil(now, timeZone, quiet) : null;
      if (until && !row.opted_out) {
        await trx
          .updateTable('invitation')
          .set({ reminder_due_at: until })
          .where('id', '=', row.id)
          .execute();
        continue;
      }
      await trx.updateTable('invitation').set({ reminded_at: now }).where('id', '=', row.id).execute();
      if (row.opted_out) continue;
      claimed.push({
        id: row.id,
        settings: workspaceSettings,
        publicId: row.public_id,
        surveyId: row.survey_id,
        surveyVersion: row.survey_version,
        channel: row.channel,
        attempts: MAX_ATTEMPTS,
        language: row.language,
        definition: await surveyVersion(trx, row.survey_id, row.survey_version, db),
        customer: { externalId: row.external_id, name: row.name, email: row.email, phone: row.phone },
        interactionId: row.interaction_external_id,
      });
    }
    return claimed;
  });
  let sent = 0;
  for (const item of claimed) {
    try {
      await runtime.channels.send(await outgoing(runtime, item, true), item.settings);
      sent++;
    } catch {
      // A reminder is a courtesy: a failed one is not retried.
    }
  }
  return sent;
};
