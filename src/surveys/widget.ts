import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import { contactHistory, invitationLinks } from './dispatch.js';
import { decideInvitation, lookbackMs } from './fatigue.js';
import { readSurveySettings, type WidgetRule } from './settings.js';
import { issuedNow } from './surveys.js';
import { linkSecret, signToken } from './tokens.js';

/**
 * The key a site's backend signs customer ids with (hex HMAC-SHA256 of the customer's external id),
 * so that only customers the site identified can be shown a survey. Derived from the
 * installation's secret: nothing to store.
 */
export const widgetSecret = async (db: Db, workspaceId: number): Promise<string> =>
  createHmac('sha256', await linkSecret(db))
    .update(`widget:${workspaceId}`)
    .digest('hex');

/** What the site's backend puts in its pages for a customer. */
export const customerSignature = (secret: string, customerId: string): string =>
  createHmac('sha256', secret).update(customerId).digest('hex');

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** The first rule that fires for an event or page. */
export const matchingRule = (
  rules: readonly WidgetRule[],
  signal: { event?: string | null; page?: string | null },
): WidgetRule | undefined =>
  rules.find(
    (rule) =>
      (rule.event !== undefined && signal.event === rule.event) ||
      (rule.page !== undefined && signal.page != null && globToRegExp(rule.page).test(signal.page)),
  );

/** A stable draw in [0, 1) per customer and survey: the same visitor is not re-drawn on every page. */
const draw = (customerId: string, surveyId: number) =>
  createHash('sha256').update(`${surveyId}/${customerId}`).digest().readUInt32BE(0) / 2 ** 32;

export const widgetCheckSchema = z
  .object({
    customerId: z.string().min(1).max(200),
    signature: z.string().max(200),
    event: z.string().max(100).nullish(),
    page: z.string().max(2000).nullish(),
  })
  .strict();
export type WidgetCheck = z.infer<typeof widgetCheckSchema>;

const HEX = /^[0-9a-f]{64}$/;

/**
 * Whether the widget should show a survey now, to this customer, on this event or page. Applies
 * the workspace's contact-fatigue rules (not quiet hours: the customer is on the site); a
 * suppression is recorded with its reason once a day. Returns the survey link when it shows one.
 */
export const checkWidget = async (
  db: Db,
  workspaceSlug: string,
  check: WidgetCheck,
  now = new Date(),
): Promise<{ show: false } | { show: true; url: string; invitationId: string }> => {
  const workspace = await db
    .selectFrom('workspace')
    .select('id')
    .where('slug', '=', workspaceSlug)
    .executeTakeFirst();
  if (!workspace) throw new AppError(404, 'not_found', `No workspace "${workspaceSlug}"`);
  const expected = customerSignature(await widgetSecret(db, workspace.id), check.customerId);
  if (
    !HEX.test(check.signature) ||
    !timingSafeEqual(Buffer.from(check.signature, 'hex'), Buffer.from(expected, 'hex'))
  ) {
    throw new AppError(403, 'bad_signature', 'The customer signature is not valid for this workspace');
  }
  const settings = await readSurveySettings(db, workspace.id);
  const rule = matchingRule(settings.widgetRules, check);
  if (!rule || draw(check.customerId, rule.surveyId) * 100 >= rule.samplePercent) return { show: false };
  const survey = await db
    .selectFrom('survey')
    .select(['id', 'version', 'status'])
    .where('workspace_id', '=', workspace.id)
    .where('id', '=', rule.surveyId)
    .executeTakeFirst();
  const customer = await db
    .selectFrom('customer')
    .select(['id', 'locale', 'email', 'phone'])
    .where('workspace_id', '=', workspace.id)
    .where('external_id', '=', check.customerId)
    .executeTakeFirst();
  if (survey?.status !== 'active' || !customer) return { show: false };

  const { history, optedOut } = await contactHistory(
    db,
    [customer.id],
    new Date(now.getTime() - lookbackMs(settings)),
  );
  const decision = decideInvitation({
    now,
    settings: { ...settings, quietHours: null },
    invitation: { surveyId: survey.id, touchpoint: null, channel: 'widget' },
    customer: { email: customer.email, phone: customer.phone, timeZone: null },
    optedOut: optedOut.get(customer.id) ?? new Set(),
    history: history.get(customer.id) ?? [],
  });
  if (decision.action !== 'send') {
    const day = now.toISOString().slice(0, 10);
    const reason = decision.action === 'suppress' ? decision.reason : 'quiet_hours';
    await db
      .insertInto('invitation')
      .values({
        workspace_id: workspace.id,
        survey_id: survey.id,
        subject_key: `widget:${customer.id}:${day}`,
        customer_id: customer.id,
        channel: 'widget',
        status: 'suppressed',
        reason,
        reason_detail: decision.detail,
        due_at: now,
      })
      .onConflict((conflict) =>
        conflict
          .columns(['survey_id', 'subject_key'])
          .where('trigger_id', 'is', null)
          .where('subject_key', 'is not', null)
          .doNothing(),
      )
      .execute();
    return { show: false };
  }
  const row = await db
    .insertInto('invitation')
    .values({
      workspace_id: workspace.id,
      survey_id: survey.id,
      customer_id: customer.id,
      channel: 'widget',
      opened_at: now,
      ...(await issuedNow(db, survey, customer.locale, now)),
    })
    .returning('public_id')
    .executeTakeFirstOrThrow();
  const url = invitationLinks('', signToken(await linkSecret(db), row.public_id)).surveyUrl;
  return { show: true, url, invitationId: row.public_id };
};
