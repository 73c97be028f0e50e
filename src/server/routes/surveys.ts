import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import { CHANNELS } from '../../domain/vocabulary.js';
import { AppError } from '../../errors.js';
import { externalIdSchema } from '../../ingest/schemas.js';
import { SUPPRESSION_REASONS } from '../../surveys/fatigue.js';
import {
  createInvitation,
  INVITATION_CHANNELS,
  INVITATION_STATUSES,
  listInvitations,
} from '../../surveys/invitations.js';
import { recordIvrAnswers } from '../../surveys/ivr.js';
import { invitationUrl, qrCode, surveyOpenLink } from '../../surveys/links.js';
import { addOptOut, listOptOuts, OPT_OUT_CHANNELS, removeOptOut } from '../../surveys/opt-outs.js';
import {
  RESPONSE_RATE_DIMENSIONS,
  responseRateQuerySchema,
  responseRates,
} from '../../surveys/response-rates.js';
import {
  readSurveySettings,
  redactSurveySettings,
  surveySettingsSchema,
  writeSurveySettings,
} from '../../surveys/settings.js';
import {
  createSurvey,
  getSurvey,
  getSurveyVersion,
  listSurveys,
  SURVEY_STATUSES,
  setSurveyStatus,
  updateSurvey,
} from '../../surveys/surveys.js';
import { templateSummaries } from '../../surveys/templates.js';
import { createTrigger, listTriggers, triggerInputSchema, updateTrigger } from '../../surveys/triggers.js';
import { widgetSecret } from '../../surveys/widget.js';
import { issuesToDetails } from '../../validation.js';
import { principalOf } from '../auth.js';
import { errorResponses } from '../openapi.js';
import { documentOnly } from '../validator.js';

const idParams = z.object({ id: z.coerce.number().int().positive() });

const surveySummary = z.object({
  id: z.int(),
  name: z.string(),
  status: z.enum(SURVEY_STATUSES),
  version: z.int().describe('The current version; every change of the definition makes a new one.'),
  template: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const definitionDoc = z
  .record(z.string(), z.unknown())
  .describe(
    'A survey definition: {name, languages, intro?, questions[], thankYou, followUp?, invitation:{subject, body}, ' +
      'reminderAfterDays?, expiresAfterDays?}. Questions: {id, type: rating|single|multiple|text, text, help?, ' +
      'required?, branches?: [{when:{min?, max?, values?, answered?}, goto}], …}; rating: {min, max, metric?: ' +
      'nps|csat|ces, lowLabel?, highLabel?}; single/multiple: {options:[{value, label}]}; text: {maxLength?}. ' +
      'Every text is an object with one string per language. See docs/surveys.md.',
  );
const surveyDetail = surveySummary.extend({
  definition: definitionDoc,
  versions: z.array(z.object({ version: z.int(), createdAt: z.string() })),
});
const createBody = z.union([
  z.object({ definition: definitionDoc }).strict(),
  z
    .object({
      template: z.string().describe('A template id from GET /api/v1/survey-templates.'),
      name: z.string().min(1).max(200).optional(),
      languages: z.array(z.string()).min(1).max(20).optional(),
    })
    .strict(),
]);

const triggerOut = z.object({
  id: z.int(),
  surveyId: z.int(),
  kind: z.enum(['interaction', 'relationship']),
  channel: z.string(),
  active: z.boolean(),
  match: z.record(z.string(), z.union([z.array(z.string()), z.boolean()])),
  delaySeconds: z.int(),
  samplePercent: z.number(),
  maxAgeHours: z.number(),
  everyDays: z.int().nullable(),
  createdAt: z.string(),
});

const invitationOut = z.object({
  id: z.string().describe('Public id of the invitation (also in its link).'),
  surveyId: z.int(),
  surveyVersion: z.int().nullable().describe('The version sent; null until sent.'),
  triggerId: z.int().nullable(),
  customerId: z.string().nullable(),
  interactionId: z.string().nullable(),
  channel: z.string(),
  touchpoint: z.string().nullable(),
  status: z.enum(INVITATION_STATUSES),
  reason: z
    .string()
    .nullable()
    .describe(`Why it was suppressed (${SUPPRESSION_REASONS.join(', ')}), deferred (quiet_hours) or failed.`),
  reasonDetail: z.string().nullable(),
  dueAt: z.string(),
  sentAt: z.string().nullable(),
  openedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  remindedAt: z.string().nullable(),
  createdAt: z.string(),
});

export interface SurveyRouteOptions {
  db: Db;
  /** Base URL survey links point to. */
  publicUrl: () => string;
}

/** Survey definitions, triggers, invitations, fatigue settings and opt-outs. */
export const surveyRoutes = async (instance: FastifyInstance, { db, publicUrl }: SurveyRouteOptions) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const tags = ['surveys'];

  app.get(
    '/api/v1/survey-templates',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Survey templates',
        description:
          'Relationship NPS, transactional NPS, CSAT and CES after a contact, with branching by score.',
        response: {
          200: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              description: z.string(),
              languages: z.array(z.string()),
            }),
          ),
          ...errorResponses(401, 403),
        },
      },
    },
    async () => templateSummaries(),
  );

  app.post(
    '/api/v1/surveys',
    {
      schema: {
        tags,
        summary: 'Create a survey',
        description:
          'From a definition, or from a template (`{"template":"relationship-nps","languages":["en","de"]}`). ' +
          'A malformed definition (unknown question type, missing translation, a branch that would loop) is ' +
          'refused with every problem and its path.',
        body: createBody,
        response: { 201: surveyDetail, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return createSurvey(db, principalOf(request).workspaceId, request.body);
    },
  );

  app.get(
    '/api/v1/surveys',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'List surveys',
        response: { 200: z.array(surveySummary), ...errorResponses(401, 403) },
      },
    },
    async (request) => listSurveys(db, principalOf(request).workspaceId),
  );

  app.get(
    '/api/v1/surveys/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'A survey with its current definition and versions',
        params: idParams,
        response: { 200: surveyDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getSurvey(db, principalOf(request).workspaceId, request.params.id),
  );

  app.get(
    '/api/v1/surveys/:id/versions/:version',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'One version of a survey, as answered by the invitations sent with it',
        params: idParams.extend({ version: z.coerce.number().int().positive() }),
        response: {
          200: z.object({ version: z.int(), definition: definitionDoc }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) =>
      getSurveyVersion(db, principalOf(request).workspaceId, request.params.id, request.params.version),
  );

  app.put(
    '/api/v1/surveys/:id',
    {
      schema: {
        tags,
        summary: 'Change a survey’s definition',
        description:
          'A changed definition becomes a new version; invitations already sent keep the version they were sent ' +
          'with, so past answers keep their meaning. Sending the same definition again changes nothing.',
        params: idParams,
        body: z.object({ definition: definitionDoc }).strict(),
        response: { 200: surveyDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      updateSurvey(db, principalOf(request).workspaceId, request.params.id, request.body.definition),
  );

  app.patch(
    '/api/v1/surveys/:id',
    {
      schema: {
        tags,
        summary: 'Pause, resume or archive a survey',
        description:
          'Only active surveys send invitations; invitations falling due while paused are suppressed.',
        params: idParams,
        body: z.object({ status: z.enum(SURVEY_STATUSES) }).strict(),
        response: { 200: surveyDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      setSurveyStatus(db, principalOf(request).workspaceId, request.params.id, request.body.status),
  );

  app.post(
    '/api/v1/surveys/:id/triggers',
    {
      schema: {
        tags,
        summary: 'Add a trigger: when to invite whom',
        description:
          'interaction: after each ingested interaction matching `match`, wait `delaySeconds`, then invite on ' +
          '`channel`, sampling `samplePercent`. relationship: invite each customer every `everyDays` days. ' +
          'Invitations are kept in the database and survive restarts; contact-fatigue rules apply when they fall due.',
        params: idParams,
        body: triggerInputSchema,
        response: { 201: triggerOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return createTrigger(db, principalOf(request).workspaceId, request.params.id, request.body);
    },
  );

  app.get(
    '/api/v1/surveys/:id/triggers',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'The triggers of a survey',
        params: idParams,
        response: { 200: z.array(triggerOut), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => listTriggers(db, principalOf(request).workspaceId, request.params.id),
  );

  app.put(
    '/api/v1/survey-triggers/:id',
    {
      schema: {
        tags,
        summary: 'Replace a trigger (e.g. `"active": false` to stop it)',
        params: idParams,
        body: triggerInputSchema,
        response: { 200: triggerOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => updateTrigger(db, principalOf(request).workspaceId, request.params.id, request.body),
  );

  app.post(
    '/api/v1/surveys/:id/invitations',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Invite a customer',
        description:
          'email, sms, voice and webhook invitations are queued (at `sendAt`, default now) and pass the ' +
          'contact-fatigue rules like triggered ones. `link` issues a survey link at once for you to hand over ' +
          '(receipt, QR code, app); it bypasses the fatigue rules and is returned in `url`.',
        params: idParams,
        body: z
          .object({
            customerId: externalIdSchema,
            interactionId: externalIdSchema.optional().describe('The contact the survey is about.'),
            channel: z.enum(INVITATION_CHANNELS),
            sendAt: z.iso.datetime({ offset: true }).optional(),
          })
          .strict(),
        response: {
          201: invitationOut.extend({ url: z.string().nullable() }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return createInvitation(
        db,
        principalOf(request).workspaceId,
        request.params.id,
        request.body,
        publicUrl(),
      );
    },
  );

  app.get(
    '/api/v1/invitations',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Invitations, with why each was suppressed or failed',
        description: 'Newest first. Filter by survey, status (e.g. suppressed), reason and customer.',
        querystring: z.object({
          surveyId: z.coerce.number().int().positive().optional(),
          status: z.enum(INVITATION_STATUSES).optional(),
          reason: z.string().max(100).optional(),
          customerId: externalIdSchema.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
          cursor: z.string().max(40).optional(),
        }),
        response: {
          200: z.object({ items: z.array(invitationOut), nextCursor: z.string().nullable() }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => listInvitations(db, principalOf(request).workspaceId, request.query),
  );

  app.get(
    '/api/v1/survey-settings',
    {
      schema: {
        tags,
        summary: 'Contact-fatigue rules and channel providers',
        response: { 200: surveySettingsSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => redactSurveySettings(await readSurveySettings(db, principalOf(request).workspaceId)),
  );

  app.put(
    '/api/v1/survey-settings',
    {
      schema: {
        tags,
        summary: 'Set contact-fatigue rules and channel providers',
        description:
          'Applies to every survey of the workspace. Fields left out take their defaults; a credential sent ' +
          'back as "***" (as GET shows it) keeps its stored value.',
        body: documentOnly(surveySettingsSchema),
        response: { 200: surveySettingsSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { workspaceId } = principalOf(request);
      const stored = await readSurveySettings(db, workspaceId);
      const body = restoreSecrets(request.body, stored);
      const parsed = surveySettingsSchema.safeParse(body);
      if (!parsed.success) {
        const details = issuesToDetails(parsed.error.issues);
        throw new AppError(
          400,
          'validation_failed',
          `Invalid settings: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
          details,
        );
      }
      await writeSurveySettings(db, workspaceId, parsed.data);
      return redactSurveySettings(parsed.data);
    },
  );

  const funnel = {
    invited: z.int().describe('Invitations that were to go out (all but the suppressed).'),
    delivered: z.int().describe('Handed to the channel, or issued as a link.'),
    opened: z.int(),
    started: z.int().describe('At least one answer.'),
    completed: z.int(),
    suppressed: z.int().describe('Stopped by a contact-fatigue rule, an opt-out or a missing address.'),
    failed: z.int(),
    responseRate: z.number().nullable().describe('completed / delivered, in percent.'),
  };
  app.get(
    '/api/v1/surveys/response-rates',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Response rates: the invitation funnel by survey, channel, touchpoint or segment',
        querystring: responseRateQuerySchema,
        response: {
          200: z.object({
            by: z.array(z.enum(RESPONSE_RATE_DIMENSIONS)),
            total: z.object(funnel),
            rows: z.array(z.object({ group: z.record(z.string(), z.string().nullable()), ...funnel })),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => responseRates(db, principalOf(request).workspaceId, request.query),
  );

  app.post(
    '/api/v1/surveys/:id/ivr',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Record a post-call IVR survey from the keys pressed',
        description:
          'After a call, the IVR asks the survey’s questions and sends the keys: one entry per question on the ' +
          'caller’s path (branching applies), a rating as its score, a single choice as the option’s number ' +
          '(1 = first), an empty entry for a skipped question; or one string with each answer ended by # ' +
          '("3#2#"). The answers become the feedback record of the interaction; sending the keys of the same ' +
          'call again replaces them.',
        params: idParams,
        body: z
          .object({
            interactionId: externalIdSchema.describe('The call the survey is about.'),
            digits: z.union([z.string().max(200), z.array(z.string().max(10)).max(50)]),
          })
          .strict(),
        response: {
          200: z.object({
            invitationId: z.string(),
            feedbackId: z.string().nullable(),
            answers: z.record(z.string(), z.union([z.number(), z.string(), z.array(z.string()), z.null()])),
            complete: z.boolean(),
          }),
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request) =>
      recordIvrAnswers(
        db,
        principalOf(request).workspaceId,
        request.params.id,
        request.body.interactionId,
        request.body.digits,
      ),
  );

  const openLinkQuery = z
    .object({
      touchpoint: z
        .string()
        .min(1)
        .max(100)
        .optional()
        .describe('The touchpoint answers are about, e.g. store-berlin.'),
      channel: z.enum(CHANNELS).default('store').describe('The channel answers are about (default store).'),
    })
    .strict();
  app.get(
    '/api/v1/surveys/:id/open-link',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary:
          'An open link to a survey for a touchpoint (store counter, receipt, newsletter), with its QR codes',
        description:
          'Anyone may use an open link; each visit starts a new anonymous response whose answers become a ' +
          'feedback record for the touchpoint and channel. For a survey tied to a known customer, create a ' +
          '`link` invitation instead.',
        params: idParams,
        querystring: openLinkQuery,
        response: {
          200: z.object({ url: z.string(), qrSvg: z.string(), qrPng: z.string() }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { touchpoint = null, channel } = request.query;
      const url = await surveyOpenLink(
        db,
        principalOf(request).workspaceId,
        id,
        touchpoint,
        channel,
        publicUrl(),
      );
      const query = new URLSearchParams({ channel, ...(touchpoint ? { touchpoint } : {}) }).toString();
      return {
        url,
        qrSvg: `/api/v1/surveys/${id}/qr.svg?${query}`,
        qrPng: `/api/v1/surveys/${id}/qr.png?${query}`,
      };
    },
  );
  for (const format of ['svg', 'png'] as const) {
    const type = format === 'svg' ? 'image/svg+xml' : 'image/png';
    app.get(
      `/api/v1/surveys/:id/qr.${format}`,
      {
        config: { access: 'read' },
        schema: {
          tags,
          summary: `QR code (${format.toUpperCase()}) of a survey's open link, for print`,
          params: idParams,
          querystring: openLinkQuery,
          response: errorResponses(400, 401, 403, 404),
        },
      },
      async (request, reply) => {
        const { touchpoint = null, channel } = request.query;
        const url = await surveyOpenLink(
          db,
          principalOf(request).workspaceId,
          request.params.id,
          touchpoint,
          channel,
          publicUrl(),
        );
        return reply.type(type).send((await qrCode(url, format)) as never);
      },
    );
    app.get(
      `/api/v1/invitations/:id/qr.${format}`,
      {
        config: { access: 'read' },
        schema: {
          tags,
          summary: `QR code (${format.toUpperCase()}) of a link invitation, e.g. for a receipt or letter`,
          params: z.object({ id: z.string().max(100) }),
          response: errorResponses(400, 401, 403, 404, 409),
        },
      },
      async (request, reply) => {
        const url = await invitationUrl(db, principalOf(request).workspaceId, request.params.id, publicUrl());
        return reply.type(type).send((await qrCode(url, format)) as never);
      },
    );
  }

  app.get(
    '/api/v1/widget',
    {
      schema: {
        tags,
        summary: 'The web/app widget: its script tag and the secret that signs customer ids',
        description:
          'Put the snippet in pages of identified customers, with `data-signature` the hex HMAC-SHA256 of the ' +
          "customer's externalId under `secret`, computed by your backend (the secret never goes to the browser). " +
          'The widget shows a survey when a rule of `widgetRules` (PUT /api/v1/survey-settings) fires for the page ' +
          'path or for `Touchpoint.track("event")`, within the contact-fatigue rules.',
        response: {
          200: z.object({ workspace: z.string(), secret: z.string(), snippet: z.string() }),
          ...errorResponses(401, 403),
        },
      },
    },
    async (request) => {
      const { workspaceId } = principalOf(request);
      const workspace = await db
        .selectFrom('workspace')
        .select('slug')
        .where('id', '=', workspaceId)
        .executeTakeFirstOrThrow();
      return {
        workspace: workspace.slug,
        secret: await widgetSecret(db, workspaceId),
        snippet:
          `<script src="${publicUrl()}/widget.js" data-workspace="${workspace.slug}" ` +
          'data-customer="CUSTOMER_EXTERNAL_ID" data-signature="HEX_HMAC_SHA256_OF_CUSTOMER_EXTERNAL_ID" async></script>',
      };
    },
  );

  const optOutParams = z.object({ externalId: externalIdSchema });
  const optOutOut = z.object({ channel: z.string(), source: z.string(), createdAt: z.string() });
  app.get(
    '/api/v1/customers/:externalId/opt-outs',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Channels a customer opted out of',
        params: optOutParams,
        response: { 200: z.array(optOutOut), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => listOptOuts(db, principalOf(request).workspaceId, request.params.externalId),
  );
  app.post(
    '/api/v1/customers/:externalId/opt-outs',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Record an opt-out',
        description: '`all` stops every survey invitation to the customer.',
        params: optOutParams,
        body: z.object({ channel: z.enum(OPT_OUT_CHANNELS) }).strict(),
        response: { 200: z.array(optOutOut), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      addOptOut(db, principalOf(request).workspaceId, request.params.externalId, request.body.channel, 'api'),
  );
  app.delete(
    '/api/v1/customers/:externalId/opt-outs/:channel',
    {
      config: { access: 'write' },
      schema: {
        tags,
        summary: 'Withdraw an opt-out',
        params: optOutParams.extend({ channel: z.enum(OPT_OUT_CHANNELS) }),
        response: { 200: z.array(optOutOut), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) =>
      removeOptOut(db, principalOf(request).workspaceId, request.params.externalId, request.params.channel),
  );
};

/** A PUT of settings as GET showed them: "***" stands for the stored credential. */
const restoreSecrets = (body: unknown, stored: Awaited<ReturnType<typeof readSurveySettings>>): unknown => {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [key, field] of [
    ['sms', 'authorization'],
    ['voice', 'authorization'],
    ['webhook', 'secret'],
  ] as const) {
    const value = copy[key];
    if (value && typeof value === 'object' && (value as Record<string, unknown>)[field] === '***') {
      // The stored credential goes only to the address it was given for.
      const before = stored[key] as Record<string, unknown> | null;
      const sameUrl = before?.url === (value as Record<string, unknown>).url;
      copy[key] = { ...(value as Record<string, unknown>), [field]: sameUrl ? before?.[field] : undefined };
    }
  }
  return copy;
};
