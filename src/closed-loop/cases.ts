import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { enqueueNotifications, type LoopEvent, type OwnerEmail } from './notifications.js';
import {
  ACTIVE_STATUSES,
  bestPlaybook,
  type CaseSituation,
  casePriority,
  decideRecovery,
  type Evidence,
  type PlaybookMatch,
  slaDueDates,
} from './policy.js';
import type { RoutingStep } from './rules.js';
import { type ClosedLoopSettings, readClosedLoopSettings, type Severity } from './settings.js';

/** The customer of a record, as routing, priority and playbooks need them. */
export interface CaseCustomer {
  id: number;
  externalId: string;
  name: string | null;
  value: number | null;
  lifecycleStage: string | null;
  personalityType: string | null;
  attributes: Record<string, unknown>;
}

export interface Matched {
  workspaceId: number;
  rule: { id: number; name: string; severity: Severity; routing: RoutingStep[] };
  record: {
    kind: 'feedback' | 'interaction' | 'event';
    id: number;
    externalId: string;
    occurredAt: Date;
    touchpoint: string | null;
    channel: string | null;
  };
  customer: CaseCustomer | null;
}

/** What the case engine reads once per batch and workspace. */
export interface WorkspaceContext {
  settings: ClosedLoopSettings;
  playbooks: { id: number; name: string; match: PlaybookMatch; steps: string[] }[];
  /** Link to a case for people (e-mails, Slack), from PUBLIC_URL. */
  caseLink(caseId: number): string | undefined;
}

export const SYSTEM_ACTOR = 'touchpoint';

/** The owner and team a rule's routing gives a case; both null: the unassigned queue. */
export const routeCase = async (
  trx: Db,
  matched: Matched,
  settings: ClosedLoopSettings,
): Promise<{ owner: string | null; team: string | null; via: string }> => {
  const roundRobin = async (team: string) => {
    const members = settings.teams[team]?.members ?? [];
    if (members.length === 0) return null;
    const row = await sql<{ position: number }>`
      INSERT INTO routing_cursor (workspace_id, team, position) VALUES (${matched.workspaceId}, ${team}, 0)
      ON CONFLICT (workspace_id, team) DO UPDATE SET position = routing_cursor.position + 1
      RETURNING position`.execute(trx);
    return members[Number(row.rows[0]?.position ?? 0) % members.length] ?? null;
  };
  for (const step of matched.rule.routing) {
    switch (step.to) {
      case 'person':
        return { owner: step.owner, team: null, via: 'person' };
      case 'team':
        if (!settings.teams[step.team]) continue;
        return { owner: await roundRobin(step.team), team: step.team, via: `team ${step.team}` };
      case 'touchpointTeam': {
        const team = matched.record.touchpoint
          ? settings.touchpointTeams[matched.record.touchpoint]
          : undefined;
        if (!team || !settings.teams[team]) continue;
        return { owner: await roundRobin(team), team, via: `touchpoint ${matched.record.touchpoint}` };
      }
      case 'accountOwner': {
        const owner = matched.customer?.attributes[step.attribute];
        if (typeof owner !== 'string' || owner.trim() === '') continue;
        return { owner: owner.trim(), team: null, via: 'account owner' };
      }
    }
  }
  return { owner: null, team: null, via: 'unassigned queue' };
};

/** The case as events and e-mails describe it. */
export const caseSummary = async (trx: Db, caseId: number) => {
  const row = await trx
    .selectFrom('cx_case')
    .leftJoin('customer', 'customer.id', 'cx_case.customer_id')
    .select([
      'cx_case.id',
      'cx_case.title',
      'cx_case.status',
      'cx_case.severity',
      'cx_case.priority',
      'cx_case.owner',
      'cx_case.team',
      'cx_case.touchpoint',
      'cx_case.rule_id',
      'cx_case.root_cause',
      'cx_case.first_response_due_at',
      'cx_case.resolve_due_at',
      'cx_case.escalation_level',
      'cx_case.recovery',
      'customer.external_id as customer_external_id',
      'customer.name as customer_name',
    ])
    .where('cx_case.id', '=', caseId)
    .executeTakeFirstOrThrow();
  return {
    id: row.id,
    title: row.title,
    status: row.status as string,
    severity: row.severity,
    priority: row.priority,
    owner: row.owner,
    team: row.team,
    touchpoint: row.touchpoint,
    ruleId: row.rule_id,
    rootCause: row.root_cause,
    firstResponseDueAt: row.first_response_due_at?.toISOString() ?? null,
    resolveDueAt: row.resolve_due_at?.toISOString() ?? null,
    escalationLevel: row.escalation_level as number,
    recovery: row.recovery,
    customer: row.customer_external_id
      ? { externalId: row.customer_external_id, name: row.customer_name }
      : null,
  };
};
export type CaseSummary = Awaited<ReturnType<typeof caseSummary>>;

export const ownerEmail = (
  to: string,
  subject: string,
  summary: CaseSummary,
  lines: string[],
  link: string | undefined,
): OwnerEmail => ({
  to,
  subject,
  text: [
    ...lines,
    '',
    `Case #${summary.id}: ${summary.title}`,
    `Severity ${summary.severity}, priority ${summary.priority}${summary.touchpoint ? `, touchpoint ${summary.touchpoint}` : ''}`,
    summary.customer
      ? `Customer: ${summary.customer.name ?? summary.customer.externalId} (${summary.customer.externalId})`
      : '',
    summary.firstResponseDueAt ? `First response due: ${summary.firstResponseDueAt}` : '',
    summary.resolveDueAt ? `Resolution due: ${summary.resolveDueAt}` : '',
    link ? `\n${link}` : '',
  ]
    .filter((line, index, all) => line !== '' || all[index - 1] !== '')
    .join('\n'),
});

/** Records one entry of a case's history. */
export const logCase = (
  trx: Db,
  workspaceId: number,
  caseId: number,
  type: string,
  actor: string,
  detail: Record<string, unknown> = {},
) =>
  trx
    .insertInto('case_event')
    .values({
      workspace_id: workspaceId,
      case_id: caseId,
      type,
      actor,
      detail: JSON.stringify(detail) as never,
    })
    .execute();

const alertData = (matched: Matched, alertId: number) => ({
  id: alertId,
  ruleId: matched.rule.id,
  ruleName: matched.rule.name,
  severity: matched.rule.severity,
  record: { kind: matched.record.kind, externalId: matched.record.externalId },
  occurredAt: matched.record.occurredAt.toISOString(),
});

/**
 * Raises the alert of a matched record and opens its case, or attaches the alert to the customer's
 * open case of the same rule. Runs in the caller's transaction. Returns null when the record
 * already has its alert of this rule (a record re-sent and evaluated again).
 */
export const raiseAlert = async (
  trx: Db,
  matched: Matched,
  context: () => Promise<WorkspaceContext>,
  now: Date,
): Promise<{ alertId: number; caseId: number; opened: boolean } | null> => {
  const { workspaceId, rule, record, customer } = matched;
  const seen = await trx
    .selectFrom('alert')
    .select('id')
    .where('rule_id', '=', rule.id)
    .where('record_kind', '=', record.kind)
    .where('record_id', '=', record.id)
    .executeTakeFirst();
  if (seen) return null;

  const findOpen = () =>
    customer
      ? trx
          .selectFrom('cx_case')
          .select('id')
          .where('rule_id', '=', rule.id)
          .where('customer_id', '=', customer.id)
          .where('status', 'in', ACTIVE_STATUSES)
          .forUpdate()
          .executeTakeFirst()
      : Promise.resolve(undefined);

  let caseId = (await findOpen())?.id;
  let opened = false;
  const { settings, playbooks, caseLink } = await context();
  let route: Awaited<ReturnType<typeof routeCase>> | undefined;
  if (caseId === undefined) {
    route = await routeCase(trx, matched, settings);
    const priority = casePriority(rule.severity, customer?.value, settings.valueTiers);
    const due = slaDueDates(now, rule.severity, settings);
    const situation: CaseSituation = {
      touchpoint: record.touchpoint,
      rootCause: null,
      personalityType: customer?.personalityType ?? null,
      lifecycleStage: customer?.lifecycleStage ?? null,
      severity: rule.severity,
    };
    const playbook = bestPlaybook(playbooks, situation);
    const inserted = await sql<{ id: number }>`
      INSERT INTO cx_case (workspace_id, rule_id, customer_id, title, severity, priority, priority_score, owner,
        team, touchpoint, channel, playbook_id, first_response_due_at, resolve_due_at, alert_count, last_alert_at,
        created_at, updated_at)
      VALUES (${workspaceId}, ${rule.id}, ${customer?.id ?? null},
        ${`${rule.name}: ${customer ? (customer.name ?? customer.externalId) : record.externalId}`},
        ${rule.severity}, ${priority.priority}, ${priority.score}, ${route.owner}, ${route.team}, ${record.touchpoint},
        ${record.channel}, ${playbook?.id ?? null}, ${due.firstResponseDueAt}, ${due.resolveDueAt}, 1, ${now},
        ${now}, ${now})
      ON CONFLICT (rule_id, customer_id) WHERE status IN ('open', 'in_progress', 'customer_contacted') DO NOTHING
      RETURNING id`.execute(trx);
    caseId = inserted.rows[0]?.id;
    if (caseId !== undefined) {
      opened = true;
      await logCase(trx, workspaceId, caseId, 'opened', SYSTEM_ACTOR, {
        ruleId: rule.id,
        severity: rule.severity,
        priority: priority.priority,
        owner: route.owner,
        team: route.team,
        routedVia: route.via,
        playbookId: playbook?.id ?? null,
      });
      if (playbook) {
        await trx
          .insertInto('case_step')
          .values(
            playbook.steps.map((text, index) => ({
              case_id: caseId as number,
              position: index + 1,
              workspace_id: workspaceId,
              text,
            })),
          )
          .execute();
      }
    } else {
      // Another process opened it meanwhile: attach to that one.
      caseId = (await findOpen())?.id;
      if (caseId === undefined) throw new Error('the open case of this customer and rule vanished');
    }
  }
  if (!opened) {
    await trx
      .updateTable('cx_case')
      .set({ alert_count: sql`alert_count + 1`, last_alert_at: now, updated_at: now })
      .where('id', '=', caseId)
      .execute();
  }
  const alert = await trx
    .insertInto('alert')
    .values({
      workspace_id: workspaceId,
      rule_id: rule.id,
      case_id: caseId,
      record_kind: record.kind,
      record_id: record.id,
      customer_id: customer?.id ?? null,
      severity: rule.severity,
      occurred_at: record.occurredAt,
      raised_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (!opened) {
    await logCase(trx, workspaceId, caseId, 'alert_attached', SYSTEM_ACTOR, {
      alertId: alert.id,
      record: { kind: record.kind, externalId: record.externalId },
    });
  }

  const summary = await caseSummary(trx, caseId);
  const link = caseLink(caseId);
  const data = { case: summary, alert: alertData(matched, alert.id) };
  const who = customer ? (customer.name ?? customer.externalId) : 'an anonymous customer';
  await enqueueNotifications(trx, workspaceId, {
    type: 'alert.raised',
    caseId,
    data,
    summary: `${rule.severity.toUpperCase()} alert "${rule.name}" for ${who}`,
    link,
  });
  if (opened && route) {
    const event: LoopEvent = {
      type: 'case.opened',
      caseId,
      data,
      summary: `Case #${caseId} opened (${summary.priority}): ${summary.title} → ${route.owner ?? route.team ?? 'unassigned queue'}`,
      link,
    };
    const emails =
      settings.notifyOwners && route.owner
        ? [
            ownerEmail(
              route.owner,
              `[Touchpoint ${summary.priority}] New case #${caseId}: ${summary.title}`,
              summary,
              [`A case was assigned to you (${route.via}).`],
              link,
            ),
          ]
        : [];
    await enqueueNotifications(trx, workspaceId, event, emails);
  }
  return { alertId: alert.id, caseId, opened };
};

// ---------------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------------

/** Each workspace's settings, read once per sweep through the sweep's own transaction. */
const settingsReader = (trx: Db) => {
  const read = new Map<number, Promise<ClosedLoopSettings>>();
  return (workspaceId: number) => {
    let settings = read.get(workspaceId);
    if (!settings) {
      settings = readClosedLoopSettings(trx, workspaceId);
      read.set(workspaceId, settings);
    }
    return settings;
  };
};

export interface SweepOptions {
  /** Only this workspace (tests share a database). */
  workspaceId?: number;
  limit?: number;
  caseLink?: (workspaceId: number, caseId: number) => string | undefined;
}

/**
 * Escalates the cases whose SLA is breached at `now`: level 1 when the first response is overdue,
 * level 2 when the resolution is. The case goes to its team's lead, else the workspace's escalateTo,
 * else stays with its owner; the new and the previous owner are e-mailed and webhooks get
 * `case.escalated`. Each level happens once per case.
 */
export const escalateDue = async (db: Db, now: Date, options: SweepOptions = {}): Promise<number> =>
  db.transaction().execute(async (trx) => {
    const settingsOf = settingsReader(trx);
    const due = await sql<{
      id: number;
      workspace_id: number;
      owner: string | null;
      team: string | null;
      escalation_level: number;
      level: number;
    }>`
      SELECT id, workspace_id, owner, team, escalation_level,
        CASE WHEN resolve_due_at <= ${now} THEN 2 ELSE 1 END AS level
      FROM cx_case
      WHERE status IN ('open', 'in_progress', 'customer_contacted')
        ${options.workspaceId === undefined ? sql`` : sql`AND workspace_id = ${options.workspaceId}`}
        AND ((escalation_level < 2 AND resolve_due_at <= ${now})
          OR (escalation_level = 0 AND status = 'open' AND first_response_at IS NULL AND first_response_due_at <= ${now}))
      ORDER BY id LIMIT ${options.limit ?? 200}
      FOR UPDATE SKIP LOCKED`.execute(trx);
    for (const row of due.rows) {
      const settings = await settingsOf(row.workspace_id);
      const lead = row.team ? settings.teams[row.team]?.lead : undefined;
      const target = lead ?? settings.escalateTo ?? row.owner;
      await trx
        .updateTable('cx_case')
        .set({ escalation_level: row.level, escalated_at: now, owner: target, updated_at: now })
        .where('id', '=', row.id)
        .execute();
      const breach = row.level === 2 ? 'resolution' : 'first response';
      await logCase(trx, row.workspace_id, row.id, 'escalated', SYSTEM_ACTOR, {
        level: row.level,
        breach,
        from: row.owner,
        to: target,
      });
      const summary = await caseSummary(trx, row.id);
      const link = options.caseLink?.(row.workspace_id, row.id);
      const recipients = [...new Set([target, row.owner].filter((who): who is string => !!who))];
      await enqueueNotifications(
        trx,
        row.workspace_id,
        {
          type: 'case.escalated',
          caseId: row.id,
          data: { case: summary, escalation: { level: row.level, breach, from: row.owner, to: target } },
          summary: `Case #${row.id} escalated: ${breach} SLA breached (${summary.title})${target ? ` → ${target}` : ''}`,
          link,
        },
        settings.notifyOwners
          ? recipients.map((to) =>
              ownerEmail(
                to,
                `[Touchpoint ${summary.priority}] Escalated: case #${row.id} ${breach} overdue`,
                summary,
                [
                  `The ${breach} SLA of this case is breached.`,
                  target && target !== row.owner
                    ? `It was reassigned from ${row.owner ?? 'the unassigned queue'} to ${target}.`
                    : 'It stays with its owner.',
                ],
                link,
              ),
            )
          : [],
      );
    }
    return due.rows.length;
  });

// ---------------------------------------------------------------------------------------------
// Recovery
// ---------------------------------------------------------------------------------------------

/**
 * Decides the recovery of closed cases from what their customers did after closing: the next
 * rated feedback, a renewal/purchase or a churn/cancellation, or a contact at the same touchpoint
 * (decideRecovery); `unknown` when the window passes without evidence.
 */
export const decideRecoveries = async (db: Db, now: Date, options: SweepOptions = {}): Promise<number> =>
  db.transaction().execute(async (trx) => {
    const settingsOf = settingsReader(trx);
    const pending = await sql<{
      id: number;
      workspace_id: number;
      customer_id: number | null;
      touchpoint: string | null;
      closed_at: Date;
    }>`
      SELECT id, workspace_id, customer_id, touchpoint, closed_at FROM cx_case
      WHERE status = 'closed' AND recovery IS NULL
        ${options.workspaceId === undefined ? sql`` : sql`AND workspace_id = ${options.workspaceId}`}
      ORDER BY closed_at LIMIT ${options.limit ?? 500}
      FOR UPDATE SKIP LOCKED`.execute(trx);
    let decided = 0;
    for (const row of pending.rows) {
      const settings = await settingsOf(row.workspace_id);
      const windowEnd = new Date(row.closed_at.getTime() + settings.recoveryWindowDays * 86_400_000);
      const evidence: Evidence[] = [];
      if (row.customer_id !== null) {
        const found = await sql<{
          kind: Evidence['kind'];
          at: Date;
          rating: number | null;
          type: string | null;
          touchpoint: string | null;
        }>`
          (SELECT 'feedback' AS kind, occurred_at AS at, experience_rating::int AS rating, NULL AS type, NULL AS touchpoint
            FROM feedback WHERE customer_id = ${row.customer_id} AND occurred_at > ${row.closed_at}
              AND occurred_at <= ${windowEnd} AND experience_rating IS NOT NULL
            ORDER BY occurred_at LIMIT 1)
          UNION ALL
          (SELECT 'event', occurred_at, NULL, type, NULL FROM event
            WHERE customer_id = ${row.customer_id} AND occurred_at > ${row.closed_at} AND occurred_at <= ${windowEnd}
              AND type IN ('renewal', 'purchase', 'upgrade', 'churn', 'cancellation', 'downgrade', 'contract_end')
            ORDER BY occurred_at LIMIT 1)
          UNION ALL
          (SELECT 'interaction', occurred_at, NULL, NULL, touchpoint FROM interaction
            WHERE customer_id = ${row.customer_id} AND occurred_at > ${row.closed_at} AND occurred_at <= ${windowEnd}
              AND touchpoint = ${row.touchpoint}
            ORDER BY occurred_at LIMIT 1)`.execute(trx);
        for (const item of found.rows) {
          if (item.kind === 'feedback')
            evidence.push({ kind: 'feedback', at: item.at, experienceRating: item.rating });
          else if (item.kind === 'event')
            evidence.push({ kind: 'event', at: item.at, type: item.type as string });
          else evidence.push({ kind: 'interaction', at: item.at, touchpoint: item.touchpoint });
        }
      }
      const decision =
        row.customer_id === null
          ? { recovery: 'unknown' as const, reason: 'the case has no customer to follow', at: now }
          : decideRecovery({
              closedAt: row.closed_at,
              now,
              windowDays: settings.recoveryWindowDays,
              touchpoint: row.touchpoint,
              evidence,
            });
      if (!decision) continue;
      decided++;
      await trx
        .updateTable('cx_case')
        .set({
          recovery: decision.recovery,
          recovery_reason: decision.reason,
          recovery_decided_at: now,
          updated_at: now,
        })
        .where('id', '=', row.id)
        .execute();
      await logCase(trx, row.workspace_id, row.id, 'recovery', SYSTEM_ACTOR, {
        recovery: decision.recovery,
        reason: decision.reason,
        evidenceAt: decision.at.toISOString(),
      });
      const summary = await caseSummary(trx, row.id);
      await enqueueNotifications(trx, row.workspace_id, {
        type: 'case.recovery_decided',
        caseId: row.id,
        data: { case: summary, recovery: { outcome: decision.recovery, reason: decision.reason } },
        summary: `Case #${row.id} ${decision.recovery.replace('_', ' ')}: ${decision.reason}`,
        link: options.caseLink?.(row.workspace_id, row.id),
      });
    }
    return decided;
  });
