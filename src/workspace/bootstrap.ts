import { sql } from 'kysely';
import { authenticate, createApiKey } from '../auth/api-keys.js';
import { createUser } from '../auth/users.js';
import type { Db } from '../db/index.js';
import { DEFAULT_WORKSPACE } from './workspaces.js';

export interface BootstrapResult {
  /** The first dashboard user, created when the database had none; password null when configured. */
  firstUser: { email: string; password: string | null } | null;
  /** The admin key created on the first start, to be shown once; null on later starts. */
  adminKey: string | null;
  /** True when the key came from TOUCHPOINT_ADMIN_KEY (so there is no need to print it). */
  keyFromEnvironment: boolean;
  warning: string | null;
}

const BOOTSTRAP_LOCK = 7_482_302;

/** The first admin's e-mail unless TOUCHPOINT_ADMIN_EMAIL says otherwise. */
export const FIRST_USER_EMAIL = 'admin@localhost';

/**
 * On a fresh database: creates workspace `default` and its first admin API key, either the given
 * one (TOUCHPOINT_ADMIN_KEY) or a generated one; and, while there is no user, the first admin user
 * (TOUCHPOINT_ADMIN_EMAIL / TOUCHPOINT_ADMIN_PASSWORD, else admin@localhost and a generated
 * password). Later starts change nothing.
 */
export const bootstrap = async (
  db: Db,
  configuredKey?: string,
  firstUser: { email?: string; password?: string } = {},
): Promise<BootstrapResult> => {
  const result = await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    let workspace = await trx.selectFrom('workspace').select('id').orderBy('id').limit(1).executeTakeFirst();
    let key: string | null = null;
    if (!workspace) {
      workspace = await trx
        .insertInto('workspace')
        .values({ slug: DEFAULT_WORKSPACE, name: 'Default' })
        .returning('id')
        .executeTakeFirstOrThrow();
      key = (await createApiKey(trx, workspace.id, 'admin', 'first admin key', configuredKey || undefined))
        .key;
    }
    // People sign in to the dashboard: a database without any user gets its first admin, also
    // when it was created before there were users.
    const anyUser = await trx.selectFrom('app_user').select('id').limit(1).executeTakeFirst();
    const user = anyUser
      ? null
      : await createUser(trx, workspace.id, {
          email: firstUser.email || FIRST_USER_EMAIL,
          name: 'Administrator',
          role: 'admin',
          ...(firstUser.password ? { password: firstUser.password } : {}),
        });
    return {
      key,
      firstUser: user ? { email: user.user.email, password: user.password } : null,
    };
  });
  const base = { firstUser: result.firstUser };
  if (result.key)
    return { ...base, adminKey: result.key, keyFromEnvironment: Boolean(configuredKey), warning: null };
  if (configuredKey && !(await authenticate(db, configuredKey))) {
    return {
      ...base,
      adminKey: null,
      keyFromEnvironment: false,
      warning:
        'TOUCHPOINT_ADMIN_KEY is not a key of this database: it only becomes the admin key on the first start. ' +
        'Create another key with: npx touchpoint keys create --role admin',
    };
  }
  return { ...base, adminKey: null, keyFromEnvironment: false, warning: null };
};

/** {@link bootstrap} with the operator's choices from the environment. */
export const bootstrapFromEnvironment = (db: Db): Promise<BootstrapResult> =>
  bootstrap(db, process.env.TOUCHPOINT_ADMIN_KEY?.trim(), {
    email: process.env.TOUCHPOINT_ADMIN_EMAIL?.trim(),
    password: process.env.TOUCHPOINT_ADMIN_PASSWORD,
  });

/** What to tell the operator after {@link bootstrap}: secrets shown once, and warnings. */
export const firstStartLines = (first: BootstrapResult): string[] => [
  ...(first.adminKey && !first.keyFromEnvironment
    ? [
        `Created workspace "${DEFAULT_WORKSPACE}" and its admin API key (shown only this once):`,
        `  ${first.adminKey}`,
      ]
    : first.adminKey
      ? [`Created workspace "${DEFAULT_WORKSPACE}"; TOUCHPOINT_ADMIN_KEY is its admin API key.`]
      : []),
  ...(first.firstUser?.password
    ? [
        `Created the dashboard user ${first.firstUser.email} (admin); its password (shown only this once, change it after signing in):`,
        `  ${first.firstUser.password}`,
      ]
    : first.firstUser
      ? [`Created the dashboard user ${first.firstUser.email} (admin) with TOUCHPOINT_ADMIN_PASSWORD.`]
      : []),
  ...(first.warning ? [`Warning: ${first.warning}`] : []),
];
