import { type Insertable, sql } from 'kysely';
import type { Db } from '../db/index.js';
import { insertMany, PREPARED } from '../db/prepared.js';
import type { CaseTable } from '../db/schema.js';
import {
  type ActiveWebhook,
  enqueueNotifications,
  insertNotifications,
  type NotificationRow,
  notificationRows,
  type OwnerEmail,
} from './notifications.js';
import {
  bestPlaybook,
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

type OpenCaseRow = {
  id: number;
  rule_id: number;
  customer_id: number | null;
  title: string;
  status: string;
  severity: string;
  priority: string;
  owner: string | null;
  team: string | null;
  touchpoint: string | null;
  root_cause: string | null;
  first_response_due_at: Date | null;
  resolve_due_at: Date | null;
  escalation_level: number;
  recovery: string | null;
};
const OPEN_CASE_COLUMNS = sql`c.id, c.rule_id, c.customer_id, c.title, c.status, c.severity, c.priority, c.owner,
  c.team, c.touchpoint, c.root_cause, c.first_response_due_at, c.resolve_due_at, c.escalation_level, c.recovery`;

export interface CaseSummary {
  id: number;
  title: string;
  status: string;
  severity: string;
  priority: string;
  owner: string | null;
  team: string | null;
  touchpoint: string | null;
  ruleId: number;
  rootCause: string | null;
  firstResponseDueAt: string | null;
  resolveDueAt: string | null;
  escalationLevel: number;
  recovery: string | null;
  customer: { externalId: string; name: string | null } | null;
}

const summaryOf = (
  row: OpenCaseRow,
  customer: { externalId: string; name: string | null } | null,
): CaseSummary => ({
  id: row.id,
  title: row.title,
  status: row.status,
  severity: row.severity,
  priority: row.priority,
  owner: row.owner,
  team: row.team,
  touchpoint: row.touchpoint,
  ruleId: row.rule_id,
  rootCause: row.root_cause,
  firstResponseDueAt: row.first_response_due_at?.toISOString() ?? null,
  resolveDueAt: row.resolve_due_at?.toISOString() ?? null,
  escalationLevel: row.escalation_level,
  recovery: row.recovery,
  customer: customer ? { externalId: customer.externalId, name: customer.name } : null,
});

/** The case as events and e-mails describe it. */
export const caseSummary = async (trx: Db, caseId: number): Promise<CaseSummary> => {
  const found = await sql<
    OpenCaseRow & { customer_external_id: string | null; customer_name: string | null }
  >`
    SELECT ${OPEN_CASE_COLUMNS}, cu.external_id AS customer_external_id, cu.name AS customer_name
    FROM cx_case c LEFT JOIN customer cu ON cu.id = c.customer_id WHERE c.id = ${caseId}`.execute(trx);
  const row = found.rows[0];
  if (!row) throw new Error(`case ${caseId} does not exist`);
  return summaryOf(
    row,
    row.customer_external_id ? { externalId: row.customer_external_id, name: row.customer_name } : null,
  );
};

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

/** The case_step rows of a playbook's steps, numbered from 1. */
export const stepRows = (workspaceId: number, caseId: number, steps: readonly string[]) =>
  steps.map((text, index) => ({ case_id: caseId, position: index + 1, workspace_id: workspaceId, text }));

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

const ACTIVE_SQL = sql`status IN ('open', 'in_progress', 'customer_contacted')`;

/** The case a match belongs to: the customer's open case of the rule, or its own without customer. */
const caseKey = (matched: Matched) =>
  matched.customer
    ? `${matched.rule.id}:${matched.customer.id}`
    : `${matched.rule.id}:${matched.record.kind}:${matched.record.id}`;

/** The customers' open cases of the rules, locked for the update (unless `exclusive`: nothing else runs). */
const lockOpenCases = async (
  trx: Db,
  pairs: { ruleId: number; customerId: number }[],
  exclusive: boolean,
) => {
  if (pairs.length === 0) return [];
  const found = await sql<OpenCaseRow>`${sql.raw(PREPARED)}
    SELECT ${OPEN_CASE_COLUMNS} FROM cx_case c
    WHERE (rule_id, customer_id) IN (SELECT * FROM unnest(${pairs.map((p) => p.ruleId)}::bigint[], ${pairs.map((p) => p.customerId)}::bigint[]))
      AND ${ACTIVE_SQL}
    ORDER BY id ${exclusive ? sql`` : sql`FOR UPDATE`}`.execute(trx);
  return found.rows;
};

/** The columns (and types) of the rows raising alerts writes, for {@link insertMany}. */
const NEW_CASE_COLUMNS = {
  workspace_id: 'bigint',
  rule_id: 'bigint',
  customer_id: 'bigint',
  title: 'text',
  severity: 'text',
  priority: 'text',
  priority_score: 'integer',
  owner: 'text',
  team: 'text',
  touchpoint: 'text',
  channel: 'text',
  playbook_id: 'bigint',
  first_response_due_at: 'timestamptz',
  resolve_due_at: 'timestamptz',
  alert_count: 'integer',
  last_alert_at: 'timestamptz',
  created_at: 'timestamptz',
  updated_at: 'timestamptz',
};
const STEP_COLUMNS = { case_id: 'bigint', position: 'integer', workspace_id: 'bigint', text: 'text' };
const ALERT_COLUMNS = {
  workspace_id: 'bigint',
  rule_id: 'bigint',
  case_id: 'bigint',
  record_kind: 'text',
  record_id: 'bigint',
  customer_id: 'bigint',
  severity: 'text',
  occurred_at: 'timestamptz',
  raised_at: 'timestamptz',
};
const CASE_EVENT_COLUMNS = {
  workspace_id: 'bigint',
  case_id: 'bigint',
  type: 'text',
  actor: 'text',
  detail: 'jsonb',
  at: 'timestamptz',
};

/**
 * Raises the alerts of a workspace's matched records, in the caller's transaction: each match
 * opens a case, or attaches to the customer's open case of the same rule (one open case per
 * customer and rule); a record already alerted by a rule (sent again) raises nothing. The work is
 * done in a handful of statements for the whole batch, whatever its number of matches, so the
 * outbox keeps up with ingestion. `exclusive`: no other transaction can run meanwhile (the
 * embedded database's one connection), so open cases are read without row locks.
 */
export const raiseAlerts = async (
  trx: Db,
  workspaceId: number,
  matches: readonly Matched[],
  context: WorkspaceContext & { webhooks: readonly ActiveWebhook[] },
  now: Date,
  { exclusive = false }: { exclusive?: boolean } = {},
): Promise<{ alerts: number; opened: number }> => {
  if (matches.length === 0) return { alerts: 0, opened: 0 };
  // 1. Records already alerted by the rule (sent again), and repeats within the batch.
  const seen = await sql<{ rule_id: number; record_kind: string; record_id: number }>`${sql.raw(PREPARED)}
    SELECT rule_id, record_kind, record_id FROM alert
    WHERE record_id = ANY (${[...new Set(matches.map((m) => m.record.id))]}::bigint[])
      AND rule_id = ANY (${[...new Set(matches.map((m) => m.rule.id))]}::bigint[])`.execute(trx);
  const done = new Set(seen.rows.map((row) => `${row.rule_id}:${row.record_kind}:${row.record_id}`));
  const fresh: Matched[] = [];
  for (const match of matches) {
    const key = `${match.rule.id}:${match.record.kind}:${match.record.id}`;
    if (done.has(key)) continue;
    done.add(key);
    fresh.push(match);
  }
  if (fresh.length === 0) return { alerts: 0, opened: 0 };

  // 2. The open cases they attach to.
  const byCase = new Map<string, Matched[]>();
  for (const match of fresh) {
    const key = caseKey(match);
    const list = byCase.get(key) ?? [];
    list.push(match);
    byCase.set(key, list);
  }
  const pairsOf = (keys: Iterable<string>) =>
    [...keys]
      .map((key) => byCase.get(key)?.[0] as Matched)
      .filter((m) => m.customer)
      .map((m) => ({ ruleId: m.rule.id, customerId: (m.customer as CaseCustomer).id }));
  const cases = new Map<string, OpenCaseRow>();
  for (const row of await lockOpenCases(trx, pairsOf(byCase.keys()), exclusive))
    cases.set(`${row.rule_id}:${row.customer_id}`, row);

  // 3. New cases for the others: routed, prioritised, with SLA clocks and the best playbook.
  const { settings, playbooks } = context;
  const newKeys = [...byCase.keys()].filter((key) => !cases.has(key));
  const planned = new Map<
    string,
    { route: Awaited<ReturnType<typeof routeCase>>; playbook: (typeof playbooks)[number] | null }
  >();
  const rows: Insertable<CaseTable>[] = [];
  for (const key of newKeys) {
    const first = byCase.get(key)?.[0] as Matched;
    const { rule, record, customer } = first;
    const route = await routeCase(trx, first, settings);
    const priority = casePriority(rule.severity, customer?.value, settings.valueTiers);
    const due = slaDueDates(now, rule.severity, settings);
    const playbook = bestPlaybook(playbooks, {
      touchpoint: record.touchpoint,
      rootCause: null,
      personalityType: customer?.personalityType ?? null,
      lifecycleStage: customer?.lifecycleStage ?? null,
      severity: rule.severity,
    });
    planned.set(key, { route, playbook });
    rows.push({
      workspace_id: workspaceId,
      rule_id: rule.id,
      customer_id: customer?.id ?? null,
      title: `${rule.name}: ${customer ? (customer.name ?? customer.externalId) : record.externalId}`,
      severity: rule.severity,
      priority: priority.priority,
      priority_score: priority.score,
      owner: route.owner,
      team: route.team,
      touchpoint: record.touchpoint,
      channel: record.channel,
      playbook_id: playbook?.id ?? null,
      first_response_due_at: due.firstResponseDueAt,
      resolve_due_at: due.resolveDueAt,
      alert_count: byCase.get(key)?.length ?? 1,
      last_alert_at: now,
      created_at: now,
      updated_at: now,
    });
  }
  const opened = new Set<string>();
  if (rows.length > 0) {
    const inserted = await insertMany<OpenCaseRow>(
      'cx_case AS c',
      NEW_CASE_COLUMNS,
      rows,
      sql`ON CONFLICT (rule_id, customer_id) WHERE ${ACTIVE_SQL} DO NOTHING RETURNING ${OPEN_CASE_COLUMNS}`,
    ).execute(trx);
    // Cases without a customer are one per record: match them back by rule and title.
    const byPair = new Map<string, OpenCaseRow>();
    const anonymous = new Map<string, OpenCaseRow[]>();
    for (const row of inserted.rows) {
      if (row.customer_id === null) {
        const list = anonymous.get(`${row.rule_id}|${row.title}`) ?? [];
        list.push(row);
        anonymous.set(`${row.rule_id}|${row.title}`, list);
      } else byPair.set(`${row.rule_id}:${row.customer_id}`, row);
    }
    newKeys.forEach((key, index) => {
      const first = byCase.get(key)?.[0] as Matched;
      const row = first.customer
        ? byPair.get(key)
        : anonymous.get(`${first.rule.id}|${rows[index]?.title}`)?.shift();
      if (row) {
        cases.set(key, row);
        opened.add(key);
      }
    });
    // Another process opened some of them meanwhile: attach to those.
    const raced = newKeys.filter((key) => !cases.has(key));
    for (const row of await lockOpenCases(trx, pairsOf(raced), exclusive))
      cases.set(`${row.rule_id}:${row.customer_id}`, row);
    if (raced.some((key) => !cases.has(key)))
      throw new Error('an open case vanished while alerts were raised');
    // Playbook steps of the new cases.
    const steps = [...opened].flatMap((key) => {
      const playbook = planned.get(key)?.playbook;
      const caseId = (cases.get(key) as OpenCaseRow).id;
      return stepRows(workspaceId, caseId, playbook?.steps ?? []);
    });
    if (steps.length > 0) await insertMany('case_step', STEP_COLUMNS, steps).execute(trx);
  }

  // 4. The alerts, the attached cases' counts, the history and the notifications.
  const alertRows = fresh.map((match) => ({
    workspace_id: workspaceId,
    rule_id: match.rule.id,
    case_id: (cases.get(caseKey(match)) as OpenCaseRow).id,
    record_kind: match.record.kind,
    record_id: match.record.id,
    customer_id: match.customer?.id ?? null,
    severity: match.rule.severity,
    occurred_at: match.record.occurredAt,
    raised_at: now,
  }));
  const alertIds = (
    await insertMany<{ id: number }>('alert', ALERT_COLUMNS, alertRows, sql`RETURNING id`).execute(trx)
  ).rows.map((row) => row.id);
  const attached = [...byCase.keys()].filter((key) => !opened.has(key));
  if (attached.length > 0) {
    const ids = attached.map((key) => (cases.get(key) as OpenCaseRow).id);
    const counts = attached.map((key) => byCase.get(key)?.length ?? 1);
    await sql`${sql.raw(PREPARED)}
      UPDATE cx_case c SET alert_count = c.alert_count + u.n, last_alert_at = ${now}, updated_at = ${now}
      FROM unnest(${ids}::bigint[], ${counts}::int[]) AS u(id, n) WHERE c.id = u.id`.execute(trx);
  }
  const history: {
    workspace_id: number;
    case_id: number;
    type: string;
    actor: string;
    detail: never;
    at: Date;
  }[] = [];
  const notifications: NotificationRow[] = [];
  fresh.forEach((match, index) => {
    const key = caseKey(match);
    const row = cases.get(key) as OpenCaseRow;
    const alertId = alertIds[index] as number;
    const summary = summaryOf(row, match.customer);
    const data = { case: summary, alert: alertData(match, alertId) };
    const link = context.caseLink(row.id);
    const isOpening = opened.has(key) && byCase.get(key)?.[0] === match;
    if (isOpening) {
      const plan = planned.get(key);
      history.push({
        workspace_id: workspaceId,
        case_id: row.id,
        type: 'opened',
        actor: SYSTEM_ACTOR,
        detail: JSON.stringify({
          ruleId: match.rule.id,
          alertId,
          severity: match.rule.severity,
          priority: row.priority,
          owner: row.owner,
          team: row.team,
          routedVia: plan?.route.via,
          playbookId: plan?.playbook?.id ?? null,
        }) as never,
        at: now,
      });
    } else {
      history.push({
        workspace_id: workspaceId,
        case_id: row.id,
        type: 'alert_attached',
        actor: SYSTEM_ACTOR,
        detail: JSON.stringify({
          alertId,
          record: { kind: match.record.kind, externalId: match.record.externalId },
        }) as never,
        at: now,
      });
    }
    const who = match.customer ? (match.customer.name ?? match.customer.externalId) : 'an anonymous customer';
    notifications.push(
      ...notificationRows(context.webhooks, workspaceId, {
        type: 'alert.raised',
        caseId: row.id,
        data,
        summary: `${match.rule.severity.toUpperCase()} alert "${match.rule.name}" for ${who}`,
        link,
      }),
    );
    if (isOpening) {
      const via = planned.get(key)?.route.via ?? '';
      notifications.push(
        ...notificationRows(
          context.webhooks,
          workspaceId,
          {
            type: 'case.opened',
            caseId: row.id,
            data,
            summary: `Case #${row.id} opened (${row.priority}): ${row.title} → ${row.owner ?? row.team ?? 'unassigned queue'}`,
            link,
          },
          settings.notifyOwners && row.owner
            ? [
                ownerEmail(
                  row.owner,
                  `[Touchpoint ${row.priority}] New case #${row.id}: ${row.title}`,
                  summary,
                  [`A case was assigned to you (${via}).`],
                  link,
                ),
              ]
            : [],
        ),
      );
    }
  });
  await insertMany('case_event', CASE_EVENT_COLUMNS, history).execute(trx);
  await insertNotifications(trx, notifications);
  return { alerts: fresh.length, opened: opened.size };
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
 * (decideRecovery); `unknown` when the window passes without evidence. Every pending case is
 * looked at, a page at a time, each page's evidence found in one statement (the earliest record of
 * each kind after closing, by the customer indexes).
 */
export const decideRecoveries = async (db: Db, now: Date, options: SweepOptions = {}): Promise<number> => {
  const page = options.limit ?? 500;
  let after = 0;
  let decided = 0;
  for (;;) {
    const result = await db.transaction().execute(async (trx) => {
      const settingsOf = settingsReader(trx);
      const pending = await sql<{
        id: number;
        workspace_id: number;
        customer_id: number | null;
        touchpoint: string | null;
        closed_at: Date;
        feedback_at: Date | null;
        rating: number | null;
        event_at: Date | null;
        event_type: string | null;
        contact_at: Date | null;
      }>`
        SELECT c.id, c.workspace_id, c.customer_id, c.touchpoint, c.closed_at,
          f.occurred_at AS feedback_at, f.experience_rating::int AS rating,
          e.occurred_at AS event_at, e.type AS event_type, i.occurred_at AS contact_at
        FROM cx_case c
        LEFT JOIN LATERAL (
          SELECT occurred_at, experience_rating FROM feedback
          WHERE customer_id = c.customer_id AND occurred_at > c.closed_at AND experience_rating IS NOT NULL
          ORDER BY occurred_at LIMIT 1) f ON true
        LEFT JOIN LATERAL (
          SELECT occurred_at, type FROM event
          WHERE customer_id = c.customer_id AND occurred_at > c.closed_at
            AND type IN ('renewal', 'purchase', 'upgrade', 'churn', 'cancellation', 'downgrade', 'contract_end')
          ORDER BY occurred_at LIMIT 1) e ON true
        LEFT JOIN LATERAL (
          SELECT occurred_at FROM interaction
          WHERE customer_id = c.customer_id AND occurred_at > c.closed_at AND touchpoint = c.touchpoint
          ORDER BY occurred_at LIMIT 1) i ON true
        WHERE c.status = 'closed' AND c.recovery IS NULL AND c.id > ${after}
          ${options.workspaceId === undefined ? sql`` : sql`AND c.workspace_id = ${options.workspaceId}`}
        ORDER BY c.id LIMIT ${page}
        FOR UPDATE OF c SKIP LOCKED`.execute(trx);
      let count = 0;
      for (const row of pending.rows) {
        const settings = await settingsOf(row.workspace_id);
        const evidence: Evidence[] = [];
        if (row.feedback_at)
          evidence.push({ kind: 'feedback', at: row.feedback_at, experienceRating: row.rating });
        if (row.event_at) evidence.push({ kind: 'event', at: row.event_at, type: row.event_type as string });
        if (row.contact_at)
          evidence.push({ kind: 'interaction', at: row.contact_at, touchpoint: row.touchpoint });
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
        count++;
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
      return { count, last: pending.rows.at(-1)?.id, full: pending.rows.length === page };
    });
    decided += result.count;
    if (!result.full || result.last === undefined) return decided;
    after = result.last;
  }
};
