import { z } from 'zod';
import type { Db } from '../db/index.js';
import { httpUrlSchema, timeOfDaySchema } from '../validation.js';
import { readSettingsSection, writeSettingsSection } from '../workspace/workspaces.js';
import { isTimeZone } from './fatigue.js';

/**
 * An SMS or voice provider reached by HTTP POST with a Twilio-compatible form body
 * (`To`, `From`, `Body`), e.g. Twilio's Messages endpoint or a gateway of your own.
 */
const providerSchema = z
  .object({
    url: httpUrlSchema.describe(
      'Where to POST, e.g. https://api.twilio.com/2010-04-01/Accounts/AC…/Messages.json',
    ),
    from: z.string().min(1).max(100).describe('Sender number or id (`From`).'),
    authorization: z
      .string()
      .max(2000)
      .optional()
      .describe('Value of the Authorization header, e.g. "Basic base64(sid:token)". Never returned by GET.'),
  })
  .strict();

const webhookSchema = z
  .object({
    url: httpUrlSchema.describe('Receives a JSON POST per invitation with the survey link.'),
    secret: z
      .string()
      .min(16)
      .max(200)
      .optional()
      .describe('Signs the body: header `X-Touchpoint-Signature: sha256=<hex HMAC>`. Never returned by GET.'),
  })
  .strict();

/**
 * When the web/app widget shows a survey: on an event the page reports (`Touchpoint.track("checkout")`)
 * or on pages whose path matches a pattern (`*` matches anything, e.g. `/orders/*`).
 */
export const widgetRuleSchema = z
  .object({
    surveyId: z.int().positive(),
    event: z.string().min(1).max(100).optional().describe('Show on this event.'),
    page: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe('Show on pages whose path matches; * matches any characters.'),
    samplePercent: z.number().gt(0).max(100).default(100),
  })
  .strict()
  .refine((rule) => rule.event !== undefined || rule.page !== undefined, {
    message: 'needs an event or a page pattern',
  });
export type WidgetRule = z.infer<typeof widgetRuleSchema>;

/** A workspace's survey settings: contact-fatigue rules and channel providers. */
export const surveySettingsSchema = z
  .object({
    minDaysBetweenInvitations: z
      .int()
      .min(0)
      .max(365)
      .default(30)
      .describe('At most one invitation per customer in this many days, across all surveys (0: no limit).'),
    touchpointQuarantineDays: z
      .int()
      .min(0)
      .max(365)
      .default(90)
      .describe('No invitation about a touchpoint the customer was asked about in this many days (0: off).'),
    duplicateWindowHours: z
      .int()
      .min(0)
      .max(168)
      .default(12)
      .describe('No second invitation to the same survey within this many hours (0: off).'),
    quietHours: z
      .object({ start: timeOfDaySchema, end: timeOfDaySchema })
      .strict()
      .nullable()
      .default({ start: '21:00', end: '08:00' })
      .describe(
        "Nobody is contacted between these local times (the customer's attributes.timeZone, else defaultTimeZone); invitations wait. null: off.",
      ),
    defaultTimeZone: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
      .default('UTC')
      .describe('Time zone of customers without attributes.timeZone.'),
    sms: providerSchema.nullable().default(null).describe('SMS provider; null: SMS invitations fail.'),
    voice: providerSchema
      .nullable()
      .default(null)
      .describe('Voice provider (the call reads the invitation).'),
    webhook: webhookSchema.nullable().default(null).describe('Generic outbound webhook channel.'),
    widgetRules: z
      .array(widgetRuleSchema)
      .max(50)
      .default([])
      .describe('When the web/app widget shows which survey (GET /api/v1/widget for the snippet).'),
  })
  .strict();

export type SurveySettings = z.infer<typeof surveySettingsSchema>;

export const DEFAULT_SURVEY_SETTINGS: SurveySettings = surveySettingsSchema.parse({});

/** The workspace's survey settings, defaults filled in. */
export const readSurveySettings = (db: Db, workspaceId: number): Promise<SurveySettings> =>
  readSettingsSection(db, workspaceId, 'surveys', surveySettingsSchema, DEFAULT_SURVEY_SETTINGS);

/** Replaces the workspace's survey settings (already validated). */
export const writeSurveySettings = (db: Db, workspaceId: number, settings: SurveySettings): Promise<void> =>
  writeSettingsSection(db, workspaceId, 'surveys', settings);

/** The settings as GET shows them: provider credentials are replaced by "***". */
export const redactSurveySettings = (settings: SurveySettings): SurveySettings => {
  const hide = <T extends { authorization?: string; secret?: string } | null>(value: T): T => {
    if (!value) return value;
    const copy = { ...value };
    if (copy.authorization) copy.authorization = '***';
    if (copy.secret) copy.secret = '***';
    return copy;
  };
  return {
    ...settings,
    sms: hide(settings.sms),
    voice: hide(settings.voice),
    webhook: hide(settings.webhook),
  };
};
