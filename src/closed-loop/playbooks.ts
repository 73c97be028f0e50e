import { sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { LIFECYCLE_STAGES, PERSONALITY_TYPES } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { type PlaybookMatch, recoveryRate } from './policy.js';
import { SEVERITIES } from './settings.js';

const list = <T extends z.ZodType>(item: T) => z.array(item).min(1).max(100).optional();

export const playbookInputSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(4000).nullable().optional(),
    match: z
      .object({
        touchpoints: list(z.string().min(1).max(200)),
        rootCauses: list(z.string().min(1).max(64)),
        personalityTypes: list(z.enum(PERSONALITY_TYPES)),
        lifecycleStages: list(z.enum(LIFECYCLE_STAGES)),
        severities: list(z.enum(SEVERITIES)),
      })
      .strict()
      .default({})
      .describe(
        'The situation the playbook is for; each list that is given must contain the case’s value. The playbook ' +
          'naming the most criteria wins; ties go to the oldest.',
      ),
    steps: z.array(z.string().trim().min(1).max(1000)).min(1).max(50).describe('The steps, in order.'),
    active: z.boolean().default(true),
  })
  .strict();

export interface Playbook {
  id: number;
  name: string;
  description: string | null;
  match: PlaybookMatch;
  steps: string[];
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PlaybookEffectiveness {
  cases: number;
  resolved: number;
  recovered: number;
  notRecovered: number;
  unknown: number;
  /** recovered / (recovered + notRecovered); null while none is decided. */
  recoveryRate: number | null;
  /** Median hours from opening to resolution of its resolved cases. */
  medianHoursToResolve: number | null;
}

const COLUMNS = [
  'id',
  'name',
  'description',
  'match',
  'steps',
  'active',
  'created_at',
  'updated_at',
] as const;
type Row = {
  id: number;
  name: string;
  description: string | null;
  match: Record<string, unknown>;
  steps: string[];
  active: boolean;
  created_at: Date;
  updated_at: Date;
};

const toPlaybook = (row: Row): Playbook => ({
  id: row.id,
  name: row.name,
  description: row.description,
  match: row.match as PlaybookMatch,
  steps: row.steps,
  active: row.active,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

type Input = z.output<typeof playbookInputSchema>;
const values = (input: Input) => ({
  name: input.name,
  description: input.description ?? null,
  match: JSON.stringify(input.match) as never,
  steps: JSON.stringify(input.steps) as never,
  active: input.active,
});

export const createPlaybook = async (db: Db, workspaceId: number, input: Input): Promise<Playbook> =>
  toPlaybook(
    (await db
      .insertInto('playbook')
      .values({ workspace_id: workspaceId, ...values(input) })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow()) as Row,
  );

export const updatePlaybook = async (
  db: Db,
  workspaceId: number,
  id: number,
  input: Input,
): Promise<Playbook> => {
  const row = await db
    .updateTable('playbook')
    .set({ ...values(input), updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returning(COLUMNS)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No playbook ${id}`);
  return toPlaybook(row as Row);
};

export const deactivatePlaybook = async (db: Db, workspaceId: number, id: number): Promise<void> => {
  const result = await db
    .updateTable('playbook')
    .set({ active: false, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw new AppError(404, 'not_found', `No playbook ${id}`);
};

/** Each playbook's effectiveness, from the cases it was attached to. */
const effectiveness = async (db: Db, workspaceId: number, ids: number[]) => {
  const result = new Map<number, PlaybookEffectiveness>();
  if (ids.length === 0) return result;
  const rows = await sql<{
    playbook_id: number;
    cases: number;
    resolved: number;
    recovered: number;
    not_recovered: number;
    unknown: number;
    median_hours: number | null;
  }>`
    SELECT playbook_id, count(*)::int AS cases,
      count(resolved_at)::int AS resolved,
      count(*) FILTER (WHERE recovery = 'recovered')::int AS recovered,
      count(*) FILTER (WHERE recovery = 'not_recovered')::int AS not_recovered,
      count(*) FILTER (WHERE recovery = 'unknown')::int AS unknown,
      (percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 3600)
        FILTER (WHERE resolved_at IS NOT NULL))::float8 AS median_hours
    FROM cx_case WHERE workspace_id = ${workspaceId} AND playbook_id = ANY (${ids}::bigint[])
    GROUP BY playbook_id`.execute(db);
  for (const row of rows.rows) {
    result.set(row.playbook_id, {
      cases: row.cases,
      resolved: row.resolved,
      recovered: row.recovered,
      notRecovered: row.not_recovered,
      unknown: row.unknown,
      recoveryRate: recoveryRate(row.recovered, row.not_recovered),
      medianHoursToResolve: row.median_hours === null ? null : Math.round(row.median_hours * 100) / 100,
    });
  }
  return result;
};

const NONE: PlaybookEffectiveness = {
  cases: 0,
  resolved: 0,
  recovered: 0,
  notRecovered: 0,
  unknown: 0,
  recoveryRate: null,
  medianHoursToResolve: null,
};

/** The workspace's playbooks with their effectiveness. */
export const listPlaybooks = async (db: Db, workspaceId: number) => {
  const rows = (await db
    .selectFrom('playbook')
    .select(COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .orderBy('id')
    .execute()) as Row[];
  const measured = await effectiveness(
    db,
    workspaceId,
    rows.map((row) => row.id),
  );
  return rows.map((row) => ({ ...toPlaybook(row), effectiveness: measured.get(row.id) ?? NONE }));
};

export const getPlaybook = async (db: Db, workspaceId: number, id: number) => {
  const row = await db
    .selectFrom('playbook')
    .select(COLUMNS)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No playbook ${id}`);
  const measured = await effectiveness(db, workspaceId, [id]);
  return { ...toPlaybook(row as Row), effectiveness: measured.get(id) ?? NONE };
};
