import { sql } from 'kysely';
import { authenticate, createApiKey } from '../auth/api-keys.js';
import type { Db } from '../db/index.js';
import { DEFAULT_WORKSPACE } from './workspaces.js';

export interface BootstrapResult {
  /** The admin key created on the first start, to be shown once; null on later starts. */
  adminKey: string | null;
  /** True when the key came from TOUCHPOINT_ADMIN_KEY (so there is no need to print it). */
  keyFromEnvironment: boolean;
  warning: string | null;
}

const BOOTSTRAP_LOCK = 7_482_302;

/**
 * On a fresh database: creates workspace `default` and its first admin API key, either the given
 * one (TOUCHPOINT_ADMIN_KEY) or a generated one. Later starts change nothing.
 */
export const bootstrap = async (db: Db, configuredKey?: string): Promise<BootstrapResult> => {
  const result = await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx);
    const existing = await trx.selectFrom('workspace').select('id').limit(1).executeTakeFirst();
    if (existing) return null;
    const workspace = await trx
      .insertInto('workspace')
      .values({ slug: DEFAULT_WORKSPACE, name: 'Default' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { key } = await createApiKey(
      trx,
      workspace.id,
      'admin',
      'first admin key',
      configuredKey || undefined,
    );
    return key;
  });
  if (result) return { adminKey: result, keyFromEnvironment: Boolean(configuredKey), warning: null };
  if (configuredKey && !(await authenticate(db, configuredKey))) {
    return {
      adminKey: null,
      keyFromEnvironment: false,
      warning:
        'TOUCHPOINT_ADMIN_KEY is not a key of this database: it only becomes the admin key on the first start. ' +
        'Create another key with: npx touchpoint keys create --role admin',
    };
  }
  return { adminKey: null, keyFromEnvironment: false, warning: null };
};
