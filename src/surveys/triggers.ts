import { type Selectable, sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import type { SurveyTriggerTable } from '../db/schema.js';
import { CHANNELS, LIFECYCLE_STAGES, PERSONALITY_TYPES } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { requireSurvey } from './surveys.js';

/** Channels an invitation can be sent on by a trigger. */
export const SEND_CHANNELS = ['email', 'sms', 'voice', 'webhook'] as const;

const oneOrMany = <T extends z.ZodType<string>>(item: T) =>
  z
    .union([item, z.array(item).min(1).max(100)])
    .transform((value) => (Array.isArray(value) ? [...new Set(value)] : [value]));

const label = z.string().min(1).max(200);

export const triggerMatchSchema = z
  .object({
    channel: oneOrMany(z.enum(CHANNELS)).optional(),
    touchpoint: oneOrMany(label).optional(),
    outcome: oneOrMany(label).optional(),
    segment: oneOrMany(label).optional(),
    lifecycleStage: oneOrMany(z.enum(LIFECYCLE_STAGES)).optional(),
    personalityType: oneOrMany(z.enum(PERSONALITY_TYPES)).optional(),
    team: oneOrMany(label).optional(),
    resolved: z.boolean().optional(),
  })
  .strict()
  .describe(
    'Which interactions fire the trigger: every field given must match (a list: any of its values). ' +
      'lifecycleStage, personalityType and segment are the customer’s at the time of the contact.',
  );

const DAY = 86_400;

export const triggerInputSchema = z
  .object({
    kind: z
      .enum(['interaction', 'relationship'])
      .default('interaction')
      .describe('interaction: after each matching contact; relationship: every everyDays days per customer.'),
    channel: z.enum(SEND_CHANNELS).describe('How the invitation is sent.'),
    match: triggerMatchSchema.optional(),
    delaySeconds: z
      .int()
      .min(0)
      .max(90 * DAY)
      .default(0)
      .describe('Wait this long after the interaction before inviting (interaction triggers).'),
    samplePercent: z
      .number()
      .gt(0)
      .max(100)
      .default(100)
      .describe('Share of matching interactions (or customers) invited, decided by a stable hash.'),
    maxAgeHours: z
      .int()
      .min(1)
      .max(24 * 90)
      .default(168)
      .describe(
        'Interactions older than this when ingested fire nothing (so historical imports ask nobody).',
      ),
    everyDays: z
      .int()
      .min(1)
      .max(3650)
      .optional()
      .describe('Relationship triggers: ask each customer this often.'),
    active: z.boolean().default(true),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.kind === 'relationship' && input.everyDays === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['everyDays'],
        message: 'is required for a relationship trigger',
      });
    }
    if (input.kind === 'interaction' && input.everyDays !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['everyDays'], message: 'applies only to relationship triggers' });
    }
    if (input.kind === 'relationship' && input.match) {
      ctx.addIssue({ code: 'custom', path: ['match'], message: 'applies only to interaction triggers' });
    }
  });

export type TriggerInput = z.infer<typeof triggerInputSchema>;
export type TriggerMatch = z.infer<typeof triggerMatchSchema>;

export interface TriggerOut {
  id: number;
  surveyId: number;
  kind: 'interaction' | 'relationship';
  channel: (typeof SEND_CHANNELS)[number];
  active: boolean;
  match: Record<string, string[] | boolean>;
  delaySeconds: number;
  samplePercent: number;
  maxAgeHours: number;
  everyDays: number | null;
  createdAt: string;
}

const MATCH_COLUMNS = {
  channel: 'match_channel',
  touchpoint: 'match_touchpoint',
  outcome: 'match_outcome',
  segment: 'match_segment',
  lifecycleStage: 'match_lifecycle_stage',
  personalityType: 'match_personality_type',
  team: 'match_team',
} as const;

type TriggerRow = Selectable<SurveyTriggerTable>;

const triggerOut = (row: TriggerRow): TriggerOut => {
  const match: Record<string, string[] | boolean> = {};
  for (const [key, column] of Object.entries(MATCH_COLUMNS)) {
    const values = row[column];
    if (values) match[key] = values;
  }
  if (row.match_resolved !== null) match.resolved = row.match_resolved;
  return {
    id: row.id,
    surveyId: row.survey_id,
    kind: row.kind as TriggerOut['kind'],
    channel: row.channel as TriggerOut['channel'],
    active: row.active,
    match,
    delaySeconds: row.delay_seconds,
    samplePercent: Number((row.sample_rate * 100).toPrecision(12)),
    maxAgeHours: row.max_age_seconds / 3600,
    everyDays: row.every_days,
    createdAt: row.created_at.toISOString(),
  };
};

const columnsOf = (input: TriggerInput) => {
  const match = input.match ?? {};
  return {
    kind: input.kind,
    channel: input.channel,
    active: input.active,
    sample_rate: input.samplePercent / 100,
    match_channel: match.channel ?? null,
    match_touchpoint: match.touchpoint ?? null,
    match_outcome: match.outcome ?? null,
    match_segment: match.segment ?? null,
    match_lifecycle_stage: match.lifecycleStage ?? null,
    match_personality_type: match.personalityType ?? null,
    match_team: match.team ?? null,
    match_resolved: match.resolved ?? null,
    delay_seconds: input.delaySeconds,
    max_age_seconds: input.maxAgeHours * 3600,
    every_days: input.everyDays ?? null,
  };
};

export const createTrigger = async (
  db: Db,
  workspaceId: number,
  surveyId: number,
  input: TriggerInput,
): Promise<TriggerOut> => {
  await requireSurvey(db, workspaceId, surveyId);
  const row = await db
    .insertInto('survey_trigger')
    .values({ workspace_id: workspaceId, survey_id: surveyId, ...columnsOf(input) })
    .returningAll()
    .executeTakeFirstOrThrow();
  return triggerOut(row);
};

/** The triggers of a survey, oldest first. */
export const listTriggers = async (db: Db, workspaceId: number, surveyId: number): Promise<TriggerOut[]> => {
  await requireSurvey(db, workspaceId, surveyId);
  const rows = await db
    .selectFrom('survey_trigger')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('survey_id', '=', surveyId)
    .orderBy('id')
    .execute();
  return rows.map(triggerOut);
};

/** Replaces a trigger's settings; invitations it already scheduled stay scheduled. */
export const updateTrigger = async (
  db: Db,
  workspaceId: number,
  id: number,
  input: TriggerInput,
): Promise<TriggerOut> => {
  const row = await db
    .updateTable('survey_trigger')
    .set({ ...columnsOf(input), updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No survey trigger with id ${id} in this workspace`);
  return triggerOut(row);
};

/**
 * Schedules the relationship surveys that came due up to `now`: each customer of the workspace is
 * asked every `every_days` days, at an offset within the period drawn from a hash of customer and
 * trigger, so a new trigger spreads its invitations over the period instead of sending them all
 * at once. Returns the invitations created.
 */
export const scheduleRelationshipSurveys = async (
  db: Db,
  now: Date,
  workspaceId?: number,
): Promise<number> => {
  const { rows } = await sql<{ created: number }>`
    WITH due AS MATERIALIZED (
      SELECT t.id, t.workspace_id, t.survey_id, t.channel, t.sample_rate, t.every_days * ${DAY}::bigint AS period,
        extract(epoch FROM t.created_at)::bigint AS origin,
        extract(epoch FROM coalesce(t.scheduled_through, t.created_at - interval '1 second'))::bigint AS since
      FROM survey_trigger t
      JOIN survey s ON s.id = t.survey_id
      WHERE t.kind = 'relationship' AND t.active AND s.status = 'active'
        AND (t.scheduled_through IS NULL OR t.scheduled_through < ${now})
        ${workspaceId === undefined ? sql`` : sql`AND t.workspace_id = ${workspaceId}`}
      FOR UPDATE OF t
    ), moved AS (
      UPDATE survey_trigger SET scheduled_through = ${now} FROM due WHERE survey_trigger.id = due.id
    ), slots AS (
      SELECT d.*, c.id AS customer_id,
        floor((extract(epoch FROM ${now}::timestamptz) - d.origin
          - (hashtextextended(c.id::text || '/' || d.id::text, 0) & 9007199254740991) % d.period) / d.period)::bigint AS cycle,
        floor((d.since - d.origin
          - (hashtextextended(c.id::text || '/' || d.id::text, 0) & 9007199254740991) % d.period)::numeric / d.period)::bigint AS cycle_before
      FROM due d JOIN customer c ON c.workspace_id = d.workspace_id
    ), created AS (
      INSERT INTO invitation (workspace_id, survey_id, trigger_id, subject_key, customer_id, channel, due_at)
      SELECT workspace_id, survey_id, id, 'customer:' || customer_id || '/cycle:' || cycle, customer_id, channel, ${now}
      FROM slots
      WHERE cycle >= 0 AND cycle > cycle_before
        AND tp_sampled(id, 'customer:' || customer_id || '/cycle:' || cycle, sample_rate)
      ON CONFLICT (trigger_id, subject_key) DO NOTHING
      RETURNING 1
    )
    SELECT count(*)::int AS created FROM created`.execute(db);
  return rows[0]?.created ?? 0;
};
