import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ALL_CASES,
  assertCaseAccess,
  type CaseScope,
  caseScopeOf,
  inScope,
  teamScope,
} from '../../closed-loop/case-access.js';
import {
  addNote,
  type CaseRuntime,
  caseListQuerySchema,
  caseOwnership,
  casePatchSchema,
  getCase,
  listCases,
  messageSchema,
  noteSchema,
  RECOVERY_DIMENSIONS,
  recoveryQuerySchema,
  recoveryReport,
  sendMessage,
  setStep,
  stepSchema,
  updateCase,
} from '../../closed-loop/case-work.js';
import {
  createPlaybook,
  deactivatePlaybook,
  getPlaybook,
  listPlaybooks,
  playbookInputSchema,
  updatePlaybook,
} from '../../closed-loop/playbooks.js';
import { CASE_STATUSES, PRIORITIES } from '../../closed-loop/policy.js';
import {
  createRule,
  deactivateRule,
  getRule,
  listRules,
  ruleInputSchema,
  updateRule,
} from '../../closed-loop/rules.js';
import {
  closedLoopSettingsSchema,
  readClosedLoopSettings,
  SEVERITIES,
  writeClosedLoopSettings,
} from '../../closed-loop/settings.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  updateWebhook,
  WEBHOOK_EVENTS,
  WEBHOOK_FORMATS,
  webhookDeliveries,
  webhookInputSchema,
  webhookPatchSchema,
} from '../../closed-loop/webhooks.js';
import type { Db } from '../../db/index.js';
import { AppError } from '../../errors.js';
import { issuesToDetails } from '../../validation.js';
import { actorOf, principalOf } from '../auth.js';
import { errorResponses } from '../openapi.js';
import { documentOnly } from '../validator.js';

const idParams = z.object({ id: z.coerce.number().int().positive() });
const json = z.record(z.string(), z.unknown());

const ruleOut = z.object({
  id: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  condition: z.unknown().describe('The condition tree as stored.'),
  kinds: z.array(z.string()).describe('The record kinds the condition can match.'),
  severity: z.string().describe(`One of ${SEVERITIES.join(', ')}.`),
  routing: z.array(z.unknown()),
  maxAgeHours: z.number(),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const sla = z.object({
  firstResponseDueAt: z.string().nullable(),
  resolveDueAt: z.string().nullable(),
  firstResponseAt: z.string().nullable(),
  firstResponseBreached: z.boolean(),
  resolveBreached: z.boolean(),
});
const caseOut = z.object({
  id: z.int(),
  title: z.string(),
  status: z.string().describe(`One of ${CASE_STATUSES.join(', ')}.`),
  severity: z.string().describe(`One of ${SEVERITIES.join(', ')}.`),
  priority: z
    .string()
    .describe(`One of ${PRIORITIES.join(', ')}, from severity × customer value; p1 most urgent.`),
  priorityScore: z.int(),
  owner: z.string().nullable().describe('null: in the unassigned queue.'),
  team: z.string().nullable(),
  touchpoint: z.string().nullable(),
  channel: z.string().nullable(),
  rootCause: z.string().nullable(),
  rule: z.object({ id: z.int(), name: z.string().nullable() }),
  playbookId: z.int().nullable(),
  customer: z.object({ externalId: z.string(), name: z.string().nullable() }).nullable(),
  alertCount: z.int(),
  lastAlertAt: z.string().nullable(),
  sla,
  escalationLevel: z.int().describe('0 none, 1 first response overdue, 2 resolution overdue.'),
  escalatedAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  closedAt: z.string().nullable(),
  recovery: z
    .string()
    .describe('One of recovered, not_recovered, unknown, pending.')
    .nullable()
    .describe('After closing: pending until the customer’s next feedback or behaviour decides.'),
  recoveryReason: z.string().nullable(),
  recoveryDecidedAt: z.string().nullable(),
  allowedStatuses: z.array(z.string()).describe('Where the status may go next.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const messageOut = z.object({
  id: z.int(),
  channel: z.string().describe('One of email, call.'),
  subject: z.string().nullable(),
  body: z.string(),
  outcome: z.string().nullable(),
  status: z.string().describe('One of pending, sent, failed, logged.'),
  error: z.string().nullable(),
  actor: z.string(),
  occurredAt: z.string(),
});
const caseDetail = caseOut.extend({
  playbook: z.object({ id: z.int(), name: z.string() }).nullable(),
  alerts: z.array(
    z.object({
      id: z.int(),
      ruleId: z.int(),
      record: z.object({ kind: z.string(), externalId: z.string().nullable() }),
      severity: z.string(),
      occurredAt: z.string(),
      raisedAt: z.string(),
    }),
  ),
  steps: z.array(
    z.object({
      position: z.int(),
      text: z.string(),
      done: z.boolean(),
      doneAt: z.string().nullable(),
      doneBy: z.string().nullable(),
    }),
  ),
  messages: z.array(messageOut),
  history: z.array(z.object({ at: z.string(), type: z.string(), actor: z.string(), detail: json })),
});
const effectivenessOut = z.object({
  cases: z.int(),
  resolved: z.int(),
  recovered: z.int(),
  notRecovered: z.int(),
  unknown: z.int(),
  recoveryRate: z.number().nullable(),
  medianHoursToResolve: z.number().nullable(),
});
const playbookOut = z.object({
  id: z.int(),
  name: z.string(),
  description: z.string().nullable(),
  match: json,
  steps: z.array(z.string()),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  effectiveness: effectivenessOut,
});
const webhookOut = z.object({
  id: z.int(),
  url: z.string(),
  events: z.array(z.string()).describe(`Of ${WEBHOOK_EVENTS.join(', ')}.`),
  format: z.string().describe(`One of ${WEBHOOK_FORMATS.join(', ')}.`),
  active: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const recoveryRow = z.object({
  key: z.string().nullable(),
  label: z.string().nullable(),
  closed: z.int(),
  recovered: z.int(),
  notRecovered: z.int(),
  unknown: z.int(),
  pending: z.int(),
  recoveryRate: z.number().nullable().describe('recovered / (recovered + notRecovered).'),
});

/**
 * Who did something: a signed-in person is always themselves; a program (API key) may name the
 * person it acts for in `actor`.
 */
const actorFor = (request: FastifyRequest, given: string | undefined) => {
  const principal = principalOf(request);
  return principal.kind === 'user' ? actorOf(principal) : (given ?? actorOf(principal));
};

/** The cases the caller may read or work (API keys: all that their role allows). */
const scopeFor = (db: Db, request: FastifyRequest, intent: 'read' | 'work'): Promise<CaseScope> => {
  const principal = principalOf(request);
  return principal.kind === 'key'
    ? Promise.resolve(ALL_CASES)
    : caseScopeOf(db, principal.workspaceId, principal, intent);
};

/** `assigned=me` or `assigned=myTeams`: the signed-in person's own cases, or their teams'. */
const assignedScope = async (
  db: Db,
  request: FastifyRequest,
  assigned: 'me' | 'myTeams',
): Promise<CaseScope> => {
  const principal = principalOf(request);
  if (principal.kind !== 'user') {
    throw new AppError(400, 'validation_failed', 'The query is not valid', [
      {
        path: 'query.assigned',
        message: 'is for people signed in to the dashboard; API keys filter by owner or team',
      },
    ]);
  }
  return assigned === 'me'
    ? { all: false, owners: [principal.email], teams: [] }
    : teamScope(db, principal.workspaceId, principal.email);
};

/** Refuses to show or change a case outside the caller's scope (see case-access.ts). */
const guardCase = async (db: Db, request: FastifyRequest, caseId: number, intent: 'read' | 'work') => {
  const principal = principalOf(request);
  if (principal.kind === 'key' || principal.role === 'admin') return;
  const kase = await caseOwnership(db, principal.workspaceId, caseId);
  const readable = inScope(await scopeFor(db, request, 'read'), kase);
  assertCaseAccess(readable, intent === 'read' || inScope(await scopeFor(db, request, 'work'), kase), caseId);
};

export interface ClosedLoopRouteOptions extends CaseRuntime {}

/** Alert rules, cases, playbooks, webhooks and closed-loop settings. */
export const closedLoopRoutes = async (instance: FastifyInstance, runtime: ClosedLoopRouteOptions) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const { db } = runtime;
  const now = () => runtime.now?.() ?? new Date();
  const tags = ['closed loop'];

  // ------------------------------------------------------------------ alert rules
  app.post(
    '/api/v1/alert-rules',
    {
      schema: {
        tags,
        summary: 'Create an alert rule',
        description:
          'Evaluated on every ingested feedback, interaction and event of the workspace (as of the next write). ' +
          'A matching record raises an alert and opens a case, one open case per customer and rule. Invalid ' +
          'conditions are refused with `invalid_rule` and every problem with its path.',
        body: documentOnly(ruleInputSchema),
        response: { 201: ruleOut, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return createRule(db, principalOf(request).workspaceId, request.body);
    },
  );
  app.get(
    '/api/v1/alert-rules',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'List alert rules',
        response: { 200: z.array(ruleOut), ...errorResponses(401, 403) },
      },
    },
    async (request) => listRules(db, principalOf(request).workspaceId),
  );
  app.get(
    '/api/v1/alert-rules/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'One alert rule',
        params: idParams,
        response: { 200: ruleOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getRule(db, principalOf(request).workspaceId, request.params.id),
  );
  app.put(
    '/api/v1/alert-rules/:id',
    {
      schema: {
        tags,
        summary: 'Replace an alert rule',
        params: idParams,
        body: documentOnly(ruleInputSchema),
        response: { 200: ruleOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => updateRule(db, principalOf(request).workspaceId, request.params.id, request.body),
  );
  app.delete(
    '/api/v1/alert-rules/:id',
    {
      schema: {
        tags,
        summary: 'Deactivate an alert rule',
        description: 'The rule stops matching; its alerts and cases stay.',
        params: idParams,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deactivateRule(db, principalOf(request).workspaceId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  // ------------------------------------------------------------------ cases
  app.get(
    '/api/v1/cases',
    {
      config: { access: 'cases' },
      schema: {
        tags,
        summary: 'List cases, newest first',
        querystring: caseListQuerySchema,
        response: {
          200: z.object({ items: z.array(caseOut), nextBefore: z.int().nullable() }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) =>
      listCases(db, principalOf(request).workspaceId, request.query, now(), {
        scope: await scopeFor(db, request, 'read'),
        ...(request.query.assigned
          ? { assigned: await assignedScope(db, request, request.query.assigned) }
          : {}),
      }),
  );
  app.get(
    '/api/v1/cases/recovery',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Recovery rate of closed cases',
        description: `By ${RECOVERY_DIMENSIONS.join(', ')}. Recovery rate = recovered / (recovered + not recovered).`,
        querystring: recoveryQuerySchema,
        response: {
          200: z.object({ by: z.enum(RECOVERY_DIMENSIONS), rows: z.array(recoveryRow), total: recoveryRow }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => recoveryReport(db, principalOf(request).workspaceId, request.query),
  );
  app.get(
    '/api/v1/cases/:id',
    {
      config: { access: 'cases' },
      schema: {
        tags,
        summary: 'A case with its alerts, playbook steps, messages and history',
        params: idParams,
        response: { 200: caseDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      await guardCase(db, request, request.params.id, 'read');
      return getCase(db, principalOf(request).workspaceId, request.params.id, now());
    },
  );
  app.patch(
    '/api/v1/cases/:id',
    {
      config: { access: 'workCases' },
      schema: {
        tags,
        summary: 'Work a case: status, owner, team, root cause',
        description:
          'Status follows open → in_progress → customer_contacted → resolved → closed (resolved may reopen to ' +
          'in_progress; closed is final); a move the workflow does not allow is 409 `invalid_transition`. ' +
          'Leaving open counts as the first response. Closing starts recovery tracking. A closed case is final: ' +
          'its owner and team no longer change (409 `case_closed`); the root cause may still be set.',
        params: idParams,
        body: casePatchSchema,
        response: { 200: caseDetail, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await guardCase(db, request, request.params.id, 'work');
      const { workspaceId } = principalOf(request);
      await updateCase(
        runtime,
        workspaceId,
        request.params.id,
        request.body,
        actorFor(request, request.body.actor),
      );
      return getCase(db, workspaceId, request.params.id, now());
    },
  );
  app.post(
    '/api/v1/cases/:id/notes',
    {
      config: { access: 'workCases' },
      schema: {
        tags,
        summary: 'Add a note to a case',
        params: idParams,
        body: noteSchema,
        response: { 201: caseDetail, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await guardCase(db, request, request.params.id, 'work');
      const { workspaceId } = principalOf(request);
      await addNote(
        runtime,
        workspaceId,
        request.params.id,
        request.body.text,
        actorFor(request, request.body.actor),
      );
      reply.status(201);
      return getCase(db, workspaceId, request.params.id, now());
    },
  );
  app.put(
    '/api/v1/cases/:id/steps/:position',
    {
      config: { access: 'workCases' },
      schema: {
        tags,
        summary: 'Check off (or uncheck) a playbook step',
        description: 'A closed case is final: 409 `case_closed`.',
        params: idParams.extend({ position: z.coerce.number().int().positive() }),
        body: stepSchema,
        response: { 200: caseDetail, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => {
      await guardCase(db, request, request.params.id, 'work');
      const { workspaceId } = principalOf(request);
      await setStep(
        runtime,
        workspaceId,
        request.params.id,
        request.params.position,
        request.body.done,
        actorFor(request, request.body.actor),
      );
      return getCase(db, workspaceId, request.params.id, now());
    },
  );
  app.post(
    '/api/v1/cases/:id/messages',
    {
      config: { access: 'workCases' },
      schema: {
        tags,
        summary: 'Close the loop: e-mail the customer or log a call',
        description:
          'E-mail from a template of the closed-loop settings (`{"channel":"email","template":"apology"}`) or ' +
          'written (`subject`, `body`), sent through SMTP; or a call logged (`{"channel":"call","body":"…",' +
          '"outcome":"reached"}`). It shows on the customer’s timeline, counts as first response and toward the ' +
          'survey contact budget, and moves the case to customer_contacted. A failed e-mail is kept and answered 502.',
        params: idParams,
        body: messageSchema,
        response: { 201: messageOut, ...errorResponses(400, 401, 403, 404, 409, 502) },
      },
    },
    async (request, reply) => {
      await guardCase(db, request, request.params.id, 'work');
      const message = await sendMessage(
        runtime,
        principalOf(request).workspaceId,
        request.params.id,
        request.body,
        actorFor(request, request.body.actor),
      );
      reply.status(201);
      return message;
    },
  );

  // ------------------------------------------------------------------ playbooks
  app.post(
    '/api/v1/playbooks',
    {
      schema: {
        tags,
        summary: 'Create a playbook',
        description:
          'Best-practice steps for a situation (touchpoints, root causes, personality types, life-cycle stages, ' +
          'severities). Each new case gets the best-matching active playbook; setting a root cause may choose a ' +
          'better one while no step is checked.',
        body: playbookInputSchema,
        response: { 201: playbookOut, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { workspaceId } = principalOf(request);
      const created = await createPlaybook(db, workspaceId, request.body);
      reply.status(201);
      return getPlaybook(db, workspaceId, created.id);
    },
  );
  app.get(
    '/api/v1/playbooks',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'List playbooks with their effectiveness',
        description:
          'Cases, recovery rate and median time to resolve of the cases each playbook was attached to.',
        response: { 200: z.array(playbookOut), ...errorResponses(401, 403) },
      },
    },
    async (request) => listPlaybooks(db, principalOf(request).workspaceId),
  );
  app.get(
    '/api/v1/playbooks/:id',
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'One playbook with its effectiveness',
        params: idParams,
        response: { 200: playbookOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => getPlaybook(db, principalOf(request).workspaceId, request.params.id),
  );
  app.put(
    '/api/v1/playbooks/:id',
    {
      schema: {
        tags,
        summary: 'Replace a playbook',
        description: 'Cases already opened keep the steps they were given.',
        params: idParams,
        body: playbookInputSchema,
        response: { 200: playbookOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { workspaceId } = principalOf(request);
      await updatePlaybook(db, workspaceId, request.params.id, request.body);
      return getPlaybook(db, workspaceId, request.params.id);
    },
  );
  app.delete(
    '/api/v1/playbooks/:id',
    {
      schema: {
        tags,
        summary: 'Deactivate a playbook',
        params: idParams,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deactivatePlaybook(db, principalOf(request).workspaceId, request.params.id);
      return reply.status(204).send(null);
    },
  );

  // ------------------------------------------------------------------ webhooks
  app.post(
    '/api/v1/webhooks',
    {
      schema: {
        tags,
        summary: 'Subscribe a URL to alert and case events',
        description:
          'Each call is a POST with `Touchpoint-Event`, `Touchpoint-Event-Id`, `Touchpoint-Timestamp` (Unix ' +
          'seconds) and `Touchpoint-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>`. ' +
          'Refuse timestamps older than 5 minutes and event ids already seen. A webhook’s calls go out in order; ' +
          'failures are retried after 1 s, 4 s, 16 s … (10 attempts, about a day). The answer holds the secret, ' +
          'shown only this once. `format: "slack"` sends a Slack-compatible message.',
        body: webhookInputSchema,
        response: { 201: webhookOut.extend({ secret: z.string() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      reply.status(201);
      return createWebhook(db, principalOf(request).workspaceId, request.body);
    },
  );
  app.get(
    '/api/v1/webhooks',
    {
      schema: {
        tags,
        summary: 'List webhooks',
        response: { 200: z.array(webhookOut), ...errorResponses(401, 403) },
      },
    },
    async (request) => listWebhooks(db, principalOf(request).workspaceId),
  );
  app.patch(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Change a webhook (URL, events, format, active)',
        params: idParams,
        body: webhookPatchSchema,
        response: { 200: webhookOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => updateWebhook(db, principalOf(request).workspaceId, request.params.id, request.body),
  );
  app.delete(
    '/api/v1/webhooks/:id',
    {
      schema: {
        tags,
        summary: 'Remove a webhook; its pending deliveries are dropped',
        params: idParams,
        response: { 204: z.null(), ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      await deleteWebhook(db, principalOf(request).workspaceId, request.params.id);
      return reply.status(204).send(null);
    },
  );
  app.get(
    '/api/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'The delivery log of a webhook, newest first, with every attempt',
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(),
        response: {
          200: z.array(
            z.object({
              id: z.int(),
              eventId: z.string(),
              eventType: z.string(),
              caseId: z.int().nullable(),
              status: z.string().describe('pending, delivered or failed.'),
              attempts: z.int(),
              nextAttemptAt: z.string().nullable(),
              lastStatus: z.int().nullable(),
              lastError: z.string().nullable(),
              deliveredAt: z.string().nullable(),
              createdAt: z.string(),
              log: z.array(
                z.object({
                  attempt: z.int(),
                  at: z.string(),
                  statusCode: z.int().nullable(),
                  error: z.string().nullable(),
                  durationMs: z.number().nullable(),
                }),
              ),
            }),
          ),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) =>
      webhookDeliveries(db, principalOf(request).workspaceId, request.params.id, request.query.limit),
  );

  // ------------------------------------------------------------------ settings
  app.get(
    '/api/v1/closed-loop/settings',
    {
      // Everyone who works cases needs the root causes, templates and teams.
      config: { access: 'cases' },
      schema: {
        tags,
        summary: 'Teams, routing tables, SLAs, root causes, business hours, templates',
        response: { 200: closedLoopSettingsSchema, ...errorResponses(401, 403) },
      },
    },
    async (request) => readClosedLoopSettings(db, principalOf(request).workspaceId),
  );
  app.put(
    '/api/v1/closed-loop/settings',
    {
      schema: {
        tags,
        summary: 'Set teams, routing tables, SLAs, root causes, business hours, templates',
        description: 'Fields left out take their defaults. SLAs apply to cases opened afterwards.',
        body: documentOnly(closedLoopSettingsSchema),
        response: { 200: closedLoopSettingsSchema, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const parsed = closedLoopSettingsSchema.safeParse(request.body);
      if (!parsed.success) {
        const details = issuesToDetails(parsed.error.issues);
        throw new AppError(
          400,
          'validation_failed',
          `Invalid settings: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
          details,
        );
      }
      await writeClosedLoopSettings(db, principalOf(request).workspaceId, parsed.data);
      return parsed.data;
    },
  );
};
