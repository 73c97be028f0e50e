import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import { invitationLinks } from './dispatch.js';
import { issuedNow, requireSurvey } from './surveys.js';
import { linkSecret, signToken } from './tokens.js';

export const INVITATION_STATUSES = ['scheduled', 'sending', 'sent', 'failed', 'suppressed'] as const;
export const INVITATION_CHANNELS = ['email', 'sms', 'voice', 'webhook', 'link'] as const;

export interface InvitationOut {
  id: string;
  surveyId: number;
  surveyVersion: number | null;
  triggerId: number | null;
  customerId: string | null;
  interactionId: string | null;
  channel: string;
  touchpoint: string | null;
  status: (typeof INVITATION_STATUSES)[number];
  reason: string | null;
  reasonDetail: string | null;
  dueAt: string;
  sentAt: string | null;
  openedAt: string | null;
  startedAt: string | null;
  completedAt: string | null;
  expiresAt: string | null;
  remindedAt: string | null;
  createdAt: string;
}

const iso = (value: Date | null) => (value ? value.toISOString() : null);

const selectInvitations = (db: Db, workspaceId: number) =>
  db
    .selectFrom('invitation as i')
    .leftJoin('customer as c', 'c.id', 'i.customer_id')
    .leftJoin('interaction as x', 'x.id', 'i.interaction_id')
    .selectAll('i')
    .select(['c.external_id as customer_external_id', 'x.external_id as interaction_external_id'])
    .where('i.workspace_id', '=', workspaceId);

type Row = Awaited<ReturnType<ReturnType<typeof selectInvitations>['execute']>>[number];

const invitationOut = (row: Row): InvitationOut => ({
  id: row.public_id,
  surveyId: row.survey_id,
  surveyVersion: row.survey_version,
  triggerId: row.trigger_id,
  customerId: row.customer_external_id,
  interactionId: row.interaction_external_id,
  channel: row.channel,
  touchpoint: row.touchpoint,
  status: row.status as InvitationOut['status'],
  reason: row.reason,
  reasonDetail: row.reason_detail,
  dueAt: row.due_at.toISOString(),
  sentAt: iso(row.sent_at),
  openedAt: iso(row.opened_at),
  startedAt: iso(row.started_at),
  completedAt: iso(row.completed_at),
  expiresAt: iso(row.expires_at),
  remindedAt: iso(row.reminded_at),
  createdAt: row.created_at.toISOString(),
});

export interface InvitationFilter {
  surveyId?: number | undefined;
  status?: string | undefined;
  reason?: string | undefined;
  customerId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** Invitations of the workspace, newest first, with why each was suppressed or failed. */
export const listInvitations = async (
  db: Db,
  workspaceId: number,
  filter: InvitationFilter,
): Promise<{ items: InvitationOut[]; nextCursor: string | null }> => {
  let query = selectInvitations(db, workspaceId);
  if (filter.surveyId !== undefined) query = query.where('i.survey_id', '=', filter.surveyId);
  if (filter.status) query = query.where('i.status', '=', filter.status);
  if (filter.reason) query = query.where('i.reason', '=', filter.reason);
  if (filter.customerId) query = query.where('c.external_id', '=', filter.customerId);
  if (filter.cursor) {
    const before = /^[1-9]\d{0,15}$/.test(filter.cursor) ? Number(filter.cursor) : Number.NaN;
    if (!Number.isSafeInteger(before)) {
      throw new AppError(400, 'validation_failed', 'cursor is not one this API returned', [
        { path: 'cursor', message: 'must be a nextCursor from a previous page' },
      ]);
    }
    query = query.where('i.id', '<', before);
  }
  const rows = await query
    .orderBy('i.id', 'desc')
    .limit(filter.limit + 1)
    .execute();
  const page = rows.slice(0, filter.limit);
  return {
    items: page.map(invitationOut),
    nextCursor: rows.length > filter.limit ? String(page[page.length - 1]?.id) : null,
  };
};

export interface InvitationRequest {
  customerId: string;
  interactionId?: string | undefined;
  channel: (typeof INVITATION_CHANNELS)[number];
  sendAt?: string | undefined;
}

/**
 * Invites a customer now (or at `sendAt`) through the API. E-mail, SMS, voice and webhook
 * invitations are queued and go through the same fatigue rules as triggered ones. A `link`
 * invitation is for the caller to hand over (printed on a receipt, as a QR code, in an app): it is
 * issued at once, bypasses the fatigue rules (the customer asks for it), and its URL is returned.
 */
export const createInvitation = async (
  db: Db,
  workspaceId: number,
  surveyId: number,
  request: InvitationRequest,
  publicUrl: string,
  now = new Date(),
): Promise<InvitationOut & { url: string | null }> => {
  const survey = await requireSurvey(db, workspaceId, surveyId, { active: true });
  const customer = await db
    .selectFrom('customer')
    .select(['id', 'locale'])
    .where('workspace_id', '=', workspaceId)
    .where('external_id', '=', request.customerId)
    .executeTakeFirst();
  if (!customer) throw new AppError(404, 'not_found', `No customer with externalId "${request.customerId}"`);
  let interaction: { id: number; touchpoint: string | null; channel: string } | undefined;
  if (request.interactionId) {
    interaction = await db
      .selectFrom('interaction')
      .select(['id', 'touchpoint', 'channel'])
      .where('workspace_id', '=', workspaceId)
      .where('external_id', '=', request.interactionId)
      .where('customer_id', '=', customer.id)
      .executeTakeFirst();
    if (!interaction) {
      throw new AppError(
        404,
        'not_found',
        `No interaction "${request.interactionId}" of customer "${request.customerId}"`,
      );
    }
  }
  const link = request.channel === 'link';
  if (link && request.sendAt) {
    throw new AppError(400, 'validation_failed', 'A link invitation is issued at once; leave out sendAt', [
      { path: 'sendAt', message: 'is not allowed with channel "link"' },
    ]);
  }
  const row = await db
    .insertInto('invitation')
    .values({
      workspace_id: workspaceId,
      survey_id: surveyId,
      customer_id: customer.id,
      interaction_id: interaction?.id ?? null,
      channel: request.channel,
      touchpoint: interaction?.touchpoint ?? null,
      contact_channel: interaction?.channel ?? null,
      due_at: request.sendAt ? new Date(request.sendAt) : now,
      ...(link ? await issuedNow(db, survey, customer.locale, now) : {}),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const created = await selectInvitations(db, workspaceId)
    .where('i.id', '=', row.id)
    .executeTakeFirstOrThrow();
  const url = link
    ? invitationLinks(publicUrl, signToken(await linkSecret(db), created.public_id)).surveyUrl
    : null;
  return { ...invitationOut(created), url };
};
