import { type Expression, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import { type Channels, DeliveryError } from '../surveys/channels.js';
import type { CaseScope } from './case-access.js';
import { caseSummary, logCase, ownerEmail, stepRows } from './cases.js';
import { enqueueNotifications } from './notifications.js';
import {
  ACTIVE_STATUSES,
  bestPlaybook,
  CASE_STATUSES,
  type CaseStatus,
  canMove,
  type PlaybookMatch,
  PRIORITIES,
  recoveryRate,
  TRANSITIONS,
} from './policy.js';
import { readClosedLoopSettings, SEVERITIES } from './settings.js';

/** The people-facing side of cases: reading, working, messaging the customer, recovery reports. */

export interface CaseRuntime {
  db: Db;
  channels: Channels;
  caseLink?: (workspaceId: number, caseId: number) => string | undefined;
  now?: () => Date;
}

const actorSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .optional()
  .describe('Who did it (e.g. their e-mail); defaults to the API key.');

export const casePatchSchema = z
  .object({
    status: z.enum(CASE_STATUSES).optional(),
    owner: z.string().trim().min(1).max(200).nullable().optional().describe('null: back to the queue.'),
    team: z.string().trim().min(1).max(100).nullable().optional(),
    rootCause: z
      .string()
      .nullable()
      .optional()
      .describe('A code of the root-cause taxonomy (settings.rootCauses).'),
    actor: actorSchema,
  })
  .strict()
  .refine(
    (patch) => Object.keys(patch).some((key) => key !== 'actor'),
    'give at least one of status, owner, team, rootCause',
  );
export type CasePatch = z.output<typeof casePatchSchema>;

export const noteSchema = z
  .object({ text: z.string().trim().min(1).max(10_000), actor: actorSchema })
  .strict();
export const stepSchema = z.object({ done: z.boolean(), actor: actorSchema }).strict();
export const messageSchema = z.discriminatedUnion('channel', [
  z
    .object({
      channel: z.literal('email'),
      template: z
        .string()
        .optional()
        .describe('A template of settings.messageTemplates; or subject and body.'),
      subject: z.string().trim().min(1).max(300).optional(),
      body: z.string().trim().min(1).max(20_000).optional(),
      actor: actorSchema,
    })
    .strict()
    .refine((m) => m.template !== undefined || (m.subject !== undefined && m.body !== undefined), {
      message: 'give a template, or a subject and a body',
      path: ['template'],
    }),
  z
    .object({
      channel: z.literal('call'),
      body: z.string().trim().min(1).max(20_000).describe('What was said.'),
      outcome: z.enum(['reached', 'voicemail', 'no_answer']).default('reached'),
      actor: actorSchema,
    })
    .strict(),
]);

export const caseListQuerySchema = z
  .object({
    status: z
      .string()
      .optional()
      .describe(`Comma-separated statuses (${CASE_STATUSES.join(', ')}), or "active" for the first three.`),
    owner: z.string().optional().describe('An owner; "none" for the unassigned queue.'),
    team: z.string().optional(),
    ruleId: z.coerce.number().int().positive().optional(),
    customerId: z.string().optional().describe("The customer's externalId."),
    priority: z.enum(PRIORITIES).optional(),
    severity: z.enum(SEVERITIES).optional(),
    breached: z
      .enum(['true', 'false'])
      .transform((value) => value === 'true')
      .optional()
      .describe('true: only active cases past an SLA due time.'),
    assigned: z
      .enum(['me', 'myTeams'])
      .optional()
      .describe('For people signed in: me = cases I own; myTeams = cases of my teams and their people.'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce
      .number()
      .int()
      .positive()
      .optional()
      .describe('Page on: nextBefore from the previous page.'),
  })
  .strict();

const CASE_COLUMNS = [
  'cx_case.id',
  'cx_case.title',
  'cx_case.status',
  'cx_case.severity',
  'cx_case.priority',
  'cx_case.priority_score',
  'cx_case.owner',
  'cx_case.team',
  'cx_case.touchpoint',
  'cx_case.channel',
  'cx_case.root_cause',
  'cx_case.rule_id',
  'cx_case.playbook_id',
  'cx_case.first_response_due_at',
  'cx_case.resolve_due_at',
  'cx_case.first_response_at',
  'cx_case.resolved_at',
  'cx_case.closed_at',
  'cx_case.escalation_level',
  'cx_case.escalated_at',
  'cx_case.alert_count',
  'cx_case.last_alert_at',
  'cx_case.recovery',
  'cx_case.recovery_reason',
  'cx_case.recovery_decided_at',
  'cx_case.created_at',
  'cx_case.updated_at',
  'cx_case.workspace_id',
  'cx_case.customer_id',
] as const;

const selectCases = (db: Db, workspaceId: number) =>
  db
    .selectFrom('cx_case')
    .leftJoin('customer', 'customer.id', 'cx_case.customer_id')
    .leftJoin('alert_rule', 'alert_rule.id', 'cx_case.rule_id')
    .select(CASE_COLUMNS)
    .select([
      'customer.external_id as customer_external_id',
      'customer.name as customer_name',
      'customer.email as customer_email',
      'alert_rule.name as rule_name',
    ])
    .where('cx_case.workspace_id', '=', workspaceId);
type CaseRow = Awaited<ReturnType<ReturnType<typeof selectCases>['executeTakeFirstOrThrow']>>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

export const toCaseOut = (row: CaseRow, now: Date) => ({
  id: row.id,
  title: row.title,
  status: row.status as CaseStatus,
  severity: row.severity,
  priority: row.priority,
  priorityScore: row.priority_score,
  owner: row.owner,
  team: row.team,
  touchpoint: row.touchpoint,
  channel: row.channel,
  rootCause: row.root_cause,
  rule: { id: row.rule_id, name: row.rule_name },
  playbookId: row.playbook_id,
  customer: row.customer_external_id
    ? { externalId: row.customer_external_id, name: row.customer_name }
    : null,
  alertCount: row.alert_count as number,
  lastAlertAt: iso(row.last_alert_at),
  sla: {
    firstResponseDueAt: iso(row.first_response_due_at),
    resolveDueAt: iso(row.resolve_due_at),
    firstResponseAt: iso(row.first_response_at),
    // Leaving open is the first response and closing needs resolving first, so a missing time
    // means the clock still runs.
    firstResponseBreached:
      row.first_response_due_at !== null && (row.first_response_at ?? now) > row.first_response_due_at,
    resolveBreached: row.resolve_due_at !== null && (row.resolved_at ?? now) > row.resolve_due_at,
  },
  escalationLevel: row.escalation_level as number,
  escalatedAt: iso(row.escalated_at),
  resolvedAt: iso(row.resolved_at),
  closedAt: iso(row.closed_at),
  recovery: row.recovery ?? (row.status === 'closed' ? 'pending' : null),
  recoveryReason: row.recovery_reason,
  recoveryDecidedAt: iso(row.recovery_decided_at),
  allowedStatuses: [...TRANSITIONS[row.status as CaseStatus]],
  createdAt: (row.created_at as Date).toISOString(),
  updatedAt: (row.updated_at as Date).toISOString(),
});
export type CaseOut = ReturnType<typeof toCaseOut>;

export const listCases = async (
  db: Db,
  workspaceId: number,
  query: z.output<typeof caseListQuerySchema>,
  now: Date,
  within: { scope?: CaseScope; assigned?: CaseScope } = {},
): Promise<{ items: CaseOut[]; nextBefore: number | null }> => {
  let statuses: string[] | undefined;
  if (query.status) {
    statuses =
      query.status === 'active' ? [...ACTIVE_STATUSES] : query.status.split(',').map((s) => s.trim());
    const unknown = statuses.filter((status) => !(CASE_STATUSES as readonly string[]).includes(status));
    if (unknown.length > 0) {
      throw new AppError(400, 'validation_failed', 'The query is not valid', [
        {
          path: 'query.status',
          message: `${unknown.map((s) => JSON.stringify(s)).join(', ')} is not a status; use ${CASE_STATUSES.join(', ')} or active`,
        },
      ]);
    }
  }
  let select = selectCases(db, workspaceId);
  if (statuses) select = select.where('cx_case.status', 'in', statuses);
  if (query.owner === 'none') select = select.where('cx_case.owner', 'is', null);
  else if (query.owner) select = select.where('cx_case.owner', '=', query.owner);
  if (query.team) select = select.where('cx_case.team', '=', query.team);
  if (query.ruleId) select = select.where('cx_case.rule_id', '=', query.ruleId);
  if (query.customerId) select = select.where('customer.external_id', '=', query.customerId);
  if (query.priority) select = select.where('cx_case.priority', '=', query.priority);
  if (query.severity) select = select.where('cx_case.severity', '=', query.severity);
  if (query.before) select = select.where('cx_case.id', '<', query.before);
  for (const scope of [within.scope, within.assigned]) {
    if (!scope || scope.all) continue;
    const owners = scope.owners.map((owner) => owner.toLowerCase());
    select = select.where((eb) =>
      eb.or([
        ...(owners.length ? [eb(sql`lower(cx_case.owner)`, 'in', owners)] : []),
        ...(scope.teams.length ? [eb('cx_case.team', 'in', scope.teams)] : []),
        eb.val(false),
      ]),
    );
  }
  if (query.breached !== undefined) {
    const breached: Expression<SqlBool> = sql<boolean>`(cx_case.status IN ('open', 'in_progress', 'customer_contacted')
      AND (cx_case.resolve_due_at <= ${now}
        OR (cx_case.first_response_at IS NULL AND cx_case.first_response_due_at <= ${now})))`;
    select = select.where(query.breached ? breached : sql<boolean>`NOT ${breached}`);
  }
  const rows = await select
    .orderBy('cx_case.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const items = rows.slice(0, query.limit).map((row) => toCaseOut(row, now));
  return { items, nextBefore: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
};

/** Who owns a case and its team (for access checks). */
export const caseOwnership = async (db: Db, workspaceId: number, id: number) => {
  const row = await db
    .selectFrom('cx_case')
    .select(['owner', 'team'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No case ${id}`);
  return row;
};

const findCase = async (db: Db, workspaceId: number, id: number) => {
  const row = await selectCases(db, workspaceId).where('cx_case.id', '=', id).executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No case ${id}`);
  return row;
};

/** A case with its alerts, playbook steps, messages and full history. */
export const getCase = async (db: Db, workspaceId: number, id: number, now: Date) => {
  const row = await findCase(db, workspaceId, id);
  const [alerts, steps, messages, history, playbook] = await Promise.all([
    sql<{
      id: number;
      rule_id: number;
      record_kind: string;
      external_id: string | null;
      severity: string;
      occurred_at: Date;
      raised_at: Date;
    }>`
      SELECT a.id, a.rule_id, a.record_kind, a.severity, a.occurred_at, a.raised_at,
        coalesce(f.external_id, i.external_id, e.external_id) AS external_id
      FROM alert a
      LEFT JOIN feedback f ON a.record_kind = 'feedback' AND f.id = a.record_id
      LEFT JOIN interaction i ON a.record_kind = 'interaction' AND i.id = a.record_id
      LEFT JOIN event e ON a.record_kind = 'event' AND e.id = a.record_id
      WHERE a.case_id = ${id} ORDER BY a.id`.execute(db),
    db.selectFrom('case_step').selectAll().where('case_id', '=', id).orderBy('position').execute(),
    db.selectFrom('case_message').selectAll().where('case_id', '=', id).orderBy('id').execute(),
    db.selectFrom('case_event').selectAll().where('case_id', '=', id).orderBy('id').execute(),
    row.playbook_id === null
      ? undefined
      : db.selectFrom('playbook').select(['id', 'name']).where('id', '=', row.playbook_id).executeTakeFirst(),
  ]);
  return {
    ...toCaseOut(row, now),
    playbook: playbook ? { id: playbook.id, name: playbook.name } : null,
    alerts: alerts.rows.map((alert) => ({
      id: alert.id,
      ruleId: alert.rule_id,
      record: { kind: alert.record_kind, externalId: alert.external_id },
      severity: alert.severity,
      occurredAt: alert.occurred_at.toISOString(),
      raisedAt: alert.raised_at.toISOString(),
    })),
    steps: steps.map((step) => ({
      position: step.position,
      text: step.text,
      done: step.done_at !== null,
      doneAt: iso(step.done_at),
      doneBy: step.done_by,
    })),
    messages: messages.map(toMessageOut),
    history: history.map((entry) => ({
      at: (entry.at as Date).toISOString(),
      type: entry.type,
      actor: entry.actor,
      detail: entry.detail as Record<string, unknown>,
    })),
  };
};

type MessageRow = {
  id: number;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  error: string | null;
  actor: string;
  occurred_at: Date;
};
export const toMessageOut = (message: MessageRow) => ({
  id: message.id,
  channel: message.channel,
  subject: message.subject,
  body: message.body,
  outcome: message.outcome,
  status: message.status,
  error: message.error,
  actor: message.actor,
  occurredAt: message.occurred_at.toISOString(),
});

/**
 * A closed case is final: its owner, team, playbook steps and messages stay as they were. Notes and
 * the root cause may still be added (what was learnt often comes later).
 */
const assertNotClosed = (kase: { status: string }, id: number, what: string) => {
  if (kase.status === 'closed') {
    throw new AppError(
      409,
      'case_closed',
      `Case ${id} is closed, which is final: ${what} cannot change any more`,
    );
  }
};

/** Locks a case of the workspace for a change. */
const lockCase = async (trx: Db, workspaceId: number, id: number) => {
  const row = await trx
    .selectFrom('cx_case')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No case ${id}`);
  return row;
};

const notifyChange = async (
  runtime: CaseRuntime,
  trx: Db,
  workspaceId: number,
  caseId: number,
  type: 'case.assigned' | 'case.status_changed' | 'case.note_added' | 'case.message_sent',
  summaryLine: (title: string) => string,
  extra: Record<string, unknown>,
  emails: { to: string; subject: string; lines: string[] }[] = [],
) => {
  const summary = await caseSummary(trx, caseId);
  const link = runtime.caseLink?.(workspaceId, caseId);
  await enqueueNotifications(
    trx,
    workspaceId,
    { type, caseId, data: { case: summary, ...extra }, summary: summaryLine(summary.title), link },
    emails.map((email) => ownerEmail(email.to, email.subject, summary, email.lines, link)),
  );
};

/**
 * Changes a case's status (along the workflow), owner, team or root cause; every change is in the
 * history and sent to webhooks, and a new owner is e-mailed.
 */
export const updateCase = async (
  runtime: CaseRuntime,
  workspaceId: number,
  id: number,
  patch: CasePatch,
  actor: string,
): Promise<void> => {
  const now = runtime.now?.() ?? new Date();
  const settings = await readClosedLoopSettings(runtime.db, workspaceId);
  await runtime.db.transaction().execute(async (trx) => {
    const current = await lockCase(trx, workspaceId, id);
    const set: Record<string, unknown> = {};
    const from = current.status as CaseStatus;
    if (patch.status !== undefined && patch.status !== from) {
      if (!canMove(from, patch.status)) {
        const allowed = TRANSITIONS[from];
        throw new AppError(
          409,
          'invalid_transition',
          `A case that is ${from} cannot become ${patch.status}; ${allowed.length ? `it can become ${allowed.join(' or ')}` : 'a closed case is final'}`,
        );
      }
      set.status = patch.status;
      if (from === 'open' && current.first_response_at === null) set.first_response_at = now;
      if (patch.status === 'resolved') set.resolved_at = now;
      if (patch.status === 'closed') set.closed_at = now;
      if (patch.status === 'in_progress' && from === 'resolved') set.resolved_at = null;
    }
    if (patch.rootCause !== undefined && patch.rootCause !== current.root_cause) {
      if (patch.rootCause !== null && !settings.rootCauses.includes(patch.rootCause)) {
        throw new AppError(400, 'validation_failed', 'The case change is not valid', [
          {
            path: 'rootCause',
            message: `${JSON.stringify(patch.rootCause)} is not in the root-cause taxonomy; use one of ${settings.rootCauses.join(', ')} (PUT /api/v1/closed-loop/settings to change it)`,
          },
        ]);
      }
      set.root_cause = patch.rootCause;
    }
    if (
      (patch.owner !== undefined && patch.owner !== current.owner) ||
      (patch.team !== undefined && patch.team !== current.team)
    ) {
      assertNotClosed(current, id, 'its owner and team');
    }
    if (patch.owner !== undefined && patch.owner !== current.owner) set.owner = patch.owner;
    if (patch.team !== undefined && patch.team !== current.team) {
      if (patch.team !== null && !settings.teams[patch.team]) {
        throw new AppError(400, 'validation_failed', 'The case change is not valid', [
          {
            path: 'team',
            message: `${JSON.stringify(patch.team)} is not a team; use one of ${Object.keys(settings.teams).join(', ') || '(none configured: PUT /api/v1/closed-loop/settings)'}`,
          },
        ]);
      }
      set.team = patch.team;
    }
    if (Object.keys(set).length === 0) return;
    await trx
      .updateTable('cx_case')
      .set({ ...set, updated_at: now })
      .where('id', '=', id)
      .execute();

    if ('status' in set) {
      await logCase(trx, workspaceId, id, 'status', actor, { from, to: set.status });
      await notifyChange(
        runtime,
        trx,
        workspaceId,
        id,
        'case.status_changed',
        (title) => `Case #${id} is now ${String(set.status).replace('_', ' ')}: ${title}`,
        {
          change: { from, to: set.status, by: actor },
        },
      );
    }
    if ('owner' in set || 'team' in set) {
      await logCase(trx, workspaceId, id, 'assigned', actor, {
        from: { owner: current.owner, team: current.team },
        to: {
          owner: 'owner' in set ? set.owner : current.owner,
          team: 'team' in set ? set.team : current.team,
        },
      });
      const owner = ('owner' in set ? set.owner : current.owner) as string | null;
      await notifyChange(
        runtime,
        trx,
        workspaceId,
        id,
        'case.assigned',
        (title) =>
          `Case #${id} assigned to ${owner ?? (set.team as string | undefined) ?? 'the unassigned queue'}: ${title}`,
        { change: { from: current.owner, to: owner, by: actor } },
        settings.notifyOwners && owner && 'owner' in set
          ? [
              {
                to: owner,
                subject: `[Touchpoint] Case #${id} was assigned to you`,
                lines: [`${actor} assigned this case to you.`],
              },
            ]
          : [],
      );
    }
    if ('root_cause' in set) {
      await logCase(trx, workspaceId, id, 'root_cause', actor, {
        from: current.root_cause,
        to: set.root_cause,
      });
      await rechoosePlaybook(trx, workspaceId, id, actor);
    }
  });
};

/**
 * With a root cause known, a better playbook may fit: it replaces the current one as long as no
 * step has been checked off.
 */
const rechoosePlaybook = async (trx: Db, workspaceId: number, caseId: number, actor: string) => {
  const done = await trx
    .selectFrom('case_step')
    .select('position')
    .where('case_id', '=', caseId)
    .where('done_at', 'is not', null)
    .executeTakeFirst();
  if (done) return;
  const row = await sql<{
    touchpoint: string | null;
    root_cause: string | null;
    severity: string;
    playbook_id: number | null;
    personality_type: string | null;
    lifecycle_stage: string | null;
  }>`
    SELECT c.touchpoint, c.root_cause, c.severity, c.playbook_id, cu.personality_type, cu.lifecycle_stage
    FROM cx_case c LEFT JOIN customer cu ON cu.id = c.customer_id WHERE c.id = ${caseId}`.execute(trx);
  const current = row.rows[0];
  if (!current) return;
  const playbooks = await trx
    .selectFrom('playbook')
    .select(['id', 'match', 'steps'])
    .where('workspace_id', '=', workspaceId)
    .where('active', '=', true)
    .orderBy('id')
    .execute();
  const best = bestPlaybook(
    playbooks.map((p) => ({ ...p, match: p.match as PlaybookMatch })),
    {
      touchpoint: current.touchpoint,
      rootCause: current.root_cause,
      personalityType: current.personality_type,
      lifecycleStage: current.lifecycle_stage,
      severity: current.severity,
    },
  );
  if (!best || best.id === current.playbook_id) return;
  await trx.updateTable('cx_case').set({ playbook_id: best.id }).where('id', '=', caseId).execute();
  await trx.deleteFrom('case_step').where('case_id', '=', caseId).execute();
  await trx
    .insertInto('case_step')
    .values(stepRows(workspaceId, caseId, best.steps))
    .execute();
  await logCase(trx, workspaceId, caseId, 'playbook', actor, { from: current.playbook_id, to: best.id });
};

export const addNote = async (
  runtime: CaseRuntime,
  workspaceId: number,
  id: number,
  text: string,
  actor: string,
): Promise<void> => {
  await runtime.db.transaction().execute(async (trx) => {
    await lockCase(trx, workspaceId, id);
    await logCase(trx, workspaceId, id, 'note', actor, { text });
    await trx
      .updateTable('cx_case')
      .set({ updated_at: runtime.now?.() ?? new Date() })
      .where('id', '=', id)
      .execute();
    await notifyChange(
      runtime,
      trx,
      workspaceId,
      id,
      'case.note_added',
      (title) => `Note on case #${id} (${title}) by ${actor}`,
      {
        note: { text, by: actor },
      },
    );
  });
};

export const setStep = async (
  runtime: CaseRuntime,
  workspaceId: number,
  id: number,
  position: number,
  done: boolean,
  actor: string,
): Promise<void> => {
  const now = runtime.now?.() ?? new Date();
  await runtime.db.transaction().execute(async (trx) => {
    assertNotClosed(await lockCase(trx, workspaceId, id), id, 'its playbook steps');
    const step = await trx
      .updateTable('case_step')
      .set({ done_at: done ? now : null, done_by: done ? actor : null })
      .where('case_id', '=', id)
      .where('position', '=', position)
      .returning('text')
      .executeTakeFirst();
    if (!step) throw new AppError(404, 'not_found', `Case ${id} has no step ${position}`);
    await logCase(trx, workspaceId, id, 'step', actor, { position, text: step.text, done });
  });
};

const fill = (template: string, values: Record<string, string>) =>
  template.replace(/\{\{\s*([a-z.]+)\s*\}\}/gi, (whole, key: string) => values[key] ?? whole);

/**
 * Closes the loop with the customer from a case: sends a follow-up e-mail (a template or a written
 * one) or logs a call. It is kept on the case and the customer's timeline, counts as the case's
 * first response, and moves an open or in-progress case to customer_contacted (an e-mail sent, a
 * call that reached them). An e-mail that cannot be sent is kept as failed and answered with 502.
 */
export const sendMessage = async (
  runtime: CaseRuntime,
  workspaceId: number,
  id: number,
  input: z.output<typeof messageSchema>,
  actor: string,
) => {
  const now = runtime.now?.() ?? new Date();
  const settings = await readClosedLoopSettings(runtime.db, workspaceId);
  const row = await findCase(runtime.db, workspaceId, id);
  assertNotClosed(row, id, 'its messages');
  let subject: string | null = null;
  let body = input.body ?? '';
  if (input.channel === 'email') {
    if (!row.customer_email) {
      throw new AppError(
        409,
        'no_email',
        `The customer of case ${id} has no e-mail address; log a call instead, or add the address to the customer`,
      );
    }
    const values = {
      'customer.name': row.customer_name ?? 'customer',
      'case.id': String(id),
      'case.title': row.title,
      // The person the customer may answer to: the owner, else whoever sends it (not an API key).
      owner: row.owner ?? (actor.startsWith('api-key:') ? 'our customer care team' : actor),
    };
    if (input.template !== undefined) {
      const template = settings.messageTemplates[input.template];
      if (!template) {
        throw new AppError(400, 'validation_failed', 'The message is not valid', [
          {
            path: 'template',
            message: `${JSON.stringify(input.template)} is not a template; use one of ${Object.keys(settings.messageTemplates).join(', ')}`,
          },
        ]);
      }
      subject = fill(input.subject ?? template.subject, values);
      body = fill(input.body ?? template.body, values);
    } else {
      subject = fill(input.subject as string, values);
      body = fill(body, values);
    }
  }
  let status = input.channel === 'call' ? 'logged' : 'sent';
  let error: string | null = null;
  if (input.channel === 'email') {
    try {
      await runtime.channels.sendMail({
        to: row.customer_name
          ? { name: row.customer_name, address: row.customer_email as string }
          : (row.customer_email as string),
        subject: subject as string,
        text: body,
      });
    } catch (failure) {
      status = 'failed';
      error = failure instanceof DeliveryError ? failure.message : String(failure);
    }
  }
  const reached = status === 'sent' || (input.channel === 'call' && input.outcome === 'reached');
  const message = await runtime.db.transaction().execute(async (trx) => {
    const current = await lockCase(trx, workspaceId, id);
    const inserted = await trx
      .insertInto('case_message')
      .values({
        workspace_id: workspaceId,
        case_id: id,
        customer_id: current.customer_id,
        channel: input.channel,
        subject,
        body,
        outcome: input.channel === 'call' ? input.outcome : null,
        status,
        error,
        actor,
        occurred_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (status !== 'failed') {
      const set: Record<string, unknown> = { updated_at: now };
      if (current.first_response_at === null) set.first_response_at = now;
      const from = current.status as string;
      if (reached && (from === 'open' || from === 'in_progress')) set.status = 'customer_contacted';
      await trx.updateTable('cx_case').set(set).where('id', '=', id).execute();
      if (set.status) await logCase(trx, workspaceId, id, 'status', actor, { from, to: set.status });
    }
    await logCase(trx, workspaceId, id, 'message', actor, {
      messageId: inserted.id,
      channel: input.channel,
      status,
      ...(error ? { error } : {}),
    });
    if (status !== 'failed') {
      await notifyChange(
        runtime,
        trx,
        workspaceId,
        id,
        'case.message_sent',
        (title) =>
          `${input.channel === 'call' ? 'Call logged' : 'Follow-up e-mail sent'} on case #${id} (${title})`,
        { message: { channel: input.channel, status, outcome: inserted.outcome, by: actor } },
      );
    }
    return inserted;
  });
  if (status === 'failed') {
    throw new AppError(
      502,
      'message_not_sent',
      `The e-mail could not be sent (${error}); it is kept on the case as failed. Check SMTP_URL, then send it again`,
    );
  }
  return toMessageOut(message);
};

// ---------------------------------------------------------------------------------------------
// Recovery report
// ---------------------------------------------------------------------------------------------

export const RECOVERY_DIMENSIONS = ['rule', 'playbook', 'team', 'rootCause', 'owner'] as const;
export type RecoveryDimension = (typeof RECOVERY_DIMENSIONS)[number];

const DIMENSION_SQL: Record<RecoveryDimension, ReturnType<typeof sql>> = {
  rule: sql`c.rule_id::text`,
  playbook: sql`c.playbook_id::text`,
  team: sql`c.team`,
  rootCause: sql`c.root_cause`,
  owner: sql`c.owner`,
};
const LABEL_SQL: Record<RecoveryDimension, ReturnType<typeof sql>> = {
  rule: sql`(SELECT name FROM alert_rule r WHERE r.id = c.rule_id)`,
  playbook: sql`(SELECT name FROM playbook p WHERE p.id = c.playbook_id)`,
  team: sql`c.team`,
  rootCause: sql`c.root_cause`,
  owner: sql`c.owner`,
};

export const recoveryQuerySchema = z
  .object({
    by: z.enum(RECOVERY_DIMENSIONS).default('rule'),
    from: z.string().datetime({ offset: true }).optional().describe('Cases closed from this time.'),
    to: z.string().datetime({ offset: true }).optional().describe('Cases closed before this time.'),
  })
  .strict();

export interface RecoveryRow {
  key: string | null;
  label: string | null;
  closed: number;
  recovered: number;
  notRecovered: number;
  unknown: number;
  pending: number;
  recoveryRate: number | null;
}

/**
 * Recovery of closed cases by rule, playbook, team, root cause or owner: counts of each outcome
 * and the recovery rate (recovered / decided, unknown and pending left out).
 */
export const recoveryReport = async (
  db: Db,
  workspaceId: number,
  query: z.output<typeof recoveryQuerySchema>,
): Promise<{ by: RecoveryDimension; rows: RecoveryRow[]; total: RecoveryRow }> => {
  const rows = await sql<{
    key: string | null;
    label: string | null;
    closed: number;
    recovered: number;
    not_recovered: number;
    unknown: number;
  }>`
    SELECT ${DIMENSION_SQL[query.by]} AS key, min(${LABEL_SQL[query.by]}) AS label, count(*)::int AS closed,
      count(*) FILTER (WHERE recovery = 'recovered')::int AS recovered,
      count(*) FILTER (WHERE recovery = 'not_recovered')::int AS not_recovered,
      count(*) FILTER (WHERE recovery = 'unknown')::int AS unknown
    FROM cx_case c
    WHERE c.workspace_id = ${workspaceId} AND c.status = 'closed'
      ${query.from ? sql`AND c.closed_at >= ${new Date(query.from)}` : sql``}
      ${query.to ? sql`AND c.closed_at < ${new Date(query.to)}` : sql``}
    GROUP BY 1 ORDER BY 3 DESC, 1`.execute(db);
  const shape = (row: {
    key: string | null;
    label: string | null;
    closed: number;
    recovered: number;
    not_recovered: number;
    unknown: number;
  }): RecoveryRow => ({
    key: row.key,
    label: row.label,
    closed: row.closed,
    recovered: row.recovered,
    notRecovered: row.not_recovered,
    unknown: row.unknown,
    pending: row.closed - row.recovered - row.not_recovered - row.unknown,
    recoveryRate: recoveryRate(row.recovered, row.not_recovered),
  });
  const sum = (key: 'closed' | 'recovered' | 'not_recovered' | 'unknown') =>
    rows.rows.reduce((total, row) => total + row[key], 0);
  return {
    by: query.by,
    rows: rows.rows.map(shape),
    total: shape({
      key: null,
      label: 'all',
      closed: sum('closed'),
      recovered: sum('recovered'),
      not_recovered: sum('not_recovered'),
      unknown: sum('unknown'),
    }),
  };
};
