import { z } from 'zod';
import type { Db } from '../db/index.js';
import { type Condition, conditionKinds, parseCondition } from '../domain/alert-conditions.js';
import { AppError, type ErrorDetail } from '../errors.js';
import { issuesToDetails } from '../validation.js';
import { rewriteOutboxTriggers } from './outbox-filter.js';
import { SEVERITIES, type Severity } from './settings.js';

/**
 * Who gets a rule's cases: the first step that names somebody (or a team) wins; with no step, or
 * none that applies, the case waits in the workspace's unassigned queue.
 * - `person`: that person;
 * - `team`: the next member of the team, round-robin (the team's queue when it has no members);
 * - `touchpointTeam`: the team owning the record's touchpoint (settings.touchpointTeams), round-robin;
 * - `accountOwner`: the customer's account owner, from `attributes.<attribute>` (default accountOwner).
 */
export const routingStepSchema = z.discriminatedUnion('to', [
  z.object({ to: z.literal('person'), owner: z.string().trim().min(1).max(200) }).strict(),
  z.object({ to: z.literal('team'), team: z.string().trim().min(1).max(100) }).strict(),
  z.object({ to: z.literal('touchpointTeam') }).strict(),
  z
    .object({
      to: z.literal('accountOwner'),
      attribute: z.string().min(1).max(100).default('accountOwner'),
    })
    .strict(),
]);
export type RoutingStep = z.infer<typeof routingStepSchema>;

export const ruleInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(2000).nullable().optional(),
    condition: z
      .unknown()
      .describe(
        'A JSON tree: {"all":[…]}, {"any":[…]}, {"not":…}, field leaves {"field":"nps","op":"lte","value":6} ' +
          '(ops eq, ne, lt, lte, gt, gte, in, contains, matches) and pattern leaves {"pattern":"repeatContact",' +
          '"count":3,"withinDays":7}, {"pattern":"transfers","atLeast":2}, {"pattern":"longWait","overSeconds":600}, ' +
          '{"pattern":"promoterTurnedDetractor"}. See docs/closed-loop.md.',
      ),
    severity: z.enum(SEVERITIES),
    routing: z
      .array(routingStepSchema)
      .max(10)
      .default([])
      .describe('Owner routing; [] → the unassigned queue.'),
    maxAgeHours: z
      .number()
      .gte(1 / 3600, 'must be at least one second (1/3600 hours)')
      .max(24 * 3650)
      .default(168)
      .describe('Records that occurred longer ago than this when ingested (history imports) raise nothing.'),
    active: z.boolean().default(true),
  })
  .strict();
export type RuleInput = z.input<typeof ruleInputSchema>;

export interface Rule {
  id: number;
  name: string;
  description: string | null;
  condition: Condition;
  kinds: string[];
  severity: Severity;
  routing: RoutingStep[];
  maxAgeHours: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

type RuleRow = {
  id: number;
  name: string;
  description: string | null;
  condition: Record<string, unknown>;
  kinds: string[];
  severity: string;
  routing: unknown[];
  max_age_seconds: number;
  active: boolean;
  created_at: Date;
  updated_at: Date;
};

export const toRule = (row: RuleRow): Rule => ({
  id: row.id,
  name: row.name,
  description: row.description,
  condition: row.condition as unknown as Condition,
  kinds: row.kinds,
  severity: row.severity as Severity,
  routing: row.routing as RoutingStep[],
  maxAgeHours: row.max_age_seconds / 3600,
  active: row.active,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** Validates a rule into its stored columns; every problem, the condition's included, with its path. */
const columns = (input: unknown) => {
  const parsed = ruleInputSchema.safeParse(input);
  const details: ErrorDetail[] = parsed.success
    ? []
    : issuesToDetails(parsed.error.issues.filter((issue) => issue.path[0] !== 'condition'));
  let condition: Condition | undefined;
  try {
    condition = parseCondition((input as { condition?: unknown } | null)?.condition);
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    details.push(...error.details);
  }
  if (!parsed.success || condition === undefined || details.length > 0) {
    const count = `${details.length} problem${details.length === 1 ? '' : 's'}`;
    throw new AppError(400, 'invalid_rule', `The alert rule is not valid: ${count}`, details);
  }
  const rule = parsed.data;
  return {
    name: rule.name,
    description: rule.description ?? null,
    condition: condition as unknown as Record<string, unknown>,
    kinds: [...conditionKinds(condition)].sort(),
    severity: rule.severity,
    routing: JSON.stringify(rule.routing) as unknown as unknown[],
    max_age_seconds: Math.round(rule.maxAgeHours * 3600),
    active: rule.active,
  };
};

const RULE_COLUMNS = [
  'id',
  'name',
  'description',
  'condition',
  'kinds',
  'severity',
  'routing',
  'max_age_seconds',
  'active',
  'created_at',
  'updated_at',
] as const;

/**
 * Runs a change to alert rules and rewrites the outbox triggers for it, in one transaction: a
 * record written after the change commits is queued by the rules as changed.
 */
const changingRules = <T>(db: Db, change: (trx: Db) => Promise<T>): Promise<T> => {
  const run = async (trx: Db) => {
    const result = await change(trx);
    await rewriteOutboxTriggers(trx);
    return result;
  };
  return db.isTransaction ? run(db) : db.transaction().execute(run);
};

export const createRule = async (db: Db, workspaceId: number, input: unknown): Promise<Rule> => {
  const values = columns(input);
  const row = await changingRules(db, (trx) =>
    trx
      .insertInto('alert_rule')
      .values({ workspace_id: workspaceId, ...values })
      .returning(RULE_COLUMNS)
      .executeTakeFirstOrThrow(),
  );
  return toRule(row);
};

export const listRules = async (db: Db, workspaceId: number): Promise<Rule[]> =>
  (
    await db
      .selectFrom('alert_rule')
      .select(RULE_COLUMNS)
      .where('workspace_id', '=', workspaceId)
      .orderBy('id')
      .execute()
  ).map(toRule);

export const getRule = async (db: Db, workspaceId: number, id: number): Promise<Rule> => {
  const row = await db
    .selectFrom('alert_rule')
    .select(RULE_COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No alert rule ${id}`);
  return toRule(row);
};

/** Replaces a rule; its open cases keep going. */
export const updateRule = async (db: Db, workspaceId: number, id: number, input: unknown): Promise<Rule> => {
  const values = columns(input);
  const row = await changingRules(db, (trx) =>
    trx
      .updateTable('alert_rule')
      .set({ ...values, updated_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .returning(RULE_COLUMNS)
      .executeTakeFirst(),
  );
  if (!row) throw new AppError(404, 'not_found', `No alert rule ${id}`);
  return toRule(row);
};

/** Deactivates a rule (kept, since its alerts and cases refer to it). */
export const deactivateRule = async (db: Db, workspaceId: number, id: number): Promise<void> => {
  const result = await changingRules(db, (trx) =>
    trx
      .updateTable('alert_rule')
      .set({ active: false, updated_at: new Date() })
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .executeTakeFirst(),
  );
  if (result.numUpdatedRows === 0n) throw new AppError(404, 'not_found', `No alert rule ${id}`);
};
