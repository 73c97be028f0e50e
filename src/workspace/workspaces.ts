import { sql } from 'kysely';
import type { z } from 'zod';
import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';

export interface Workspace {
  id: number;
  slug: string;
  name: string;
}

export const DEFAULT_WORKSPACE = 'default';

export const findWorkspace = async (db: Db, slug: string): Promise<Workspace | undefined> =>
  db.selectFrom('workspace').select(['id', 'slug', 'name']).where('slug', '=', slug).executeTakeFirst();

/** The workspace named `slug`, or a clear error listing how to create it. */
export const getWorkspace = async (db: Db, slug: string): Promise<Workspace> => {
  const workspace = await findWorkspace(db, slug);
  if (!workspace) {
    throw new AppError(
      404,
      'workspace_not_found',
      `No workspace "${slug}". Create it with: touchpoint workspaces create ${slug}`,
    );
  }
  return workspace;
};

export const listWorkspaces = async (db: Db): Promise<Workspace[]> =>
  db.selectFrom('workspace').select(['id', 'slug', 'name']).orderBy('id').execute();

export const createWorkspace = async (db: Db, slug: string, name = slug): Promise<Workspace> => {
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(slug)) {
    throw new AppError(
      400,
      'bad_workspace_slug',
      `Workspace names are lowercase letters, digits and dashes (got "${slug}")`,
    );
  }
  const created = await db
    .insertInto('workspace')
    .values({ slug, name })
    .onConflict((oc) => oc.column('slug').doNothing())
    .returning(['id', 'slug', 'name'])
    .executeTakeFirst();
  if (!created) throw new AppError(409, 'workspace_exists', `Workspace "${slug}" already exists`);
  return created;
};

/**
 * One section of a workspace's settings (e.g. `surveys`, `closedLoop`), checked against its schema;
 * the defaults when it is missing or no longer valid.
 */
export const readSettingsSection = async <T>(
  db: Db,
  workspaceId: number,
  section: string,
  schema: z.ZodType<T>,
  defaults: T,
): Promise<T> => {
  const row = await db
    .selectFrom('workspace')
    .select('settings')
    .where('id', '=', workspaceId)
    .executeTakeFirst();
  const stored = schema.safeParse(row?.settings?.[section] ?? {});
  return stored.success ? stored.data : defaults;
};

/** Replaces one section of a workspace's settings (already validated). */
export const writeSettingsSection = async (
  db: Db,
  workspaceId: number,
  section: string,
  value: unknown,
): Promise<void> => {
  await db
    .updateTable('workspace')
    .set({ settings: sql`jsonb_set(settings, ${`{${section}}`}::text[], ${JSON.stringify(value)}::jsonb)` })
    .where('id', '=', workspaceId)
    .execute();
};
