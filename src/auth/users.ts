import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { UserRole } from '../domain/vocabulary.js';
import { AppError, isUniqueViolation } from '../errors.js';
import { checkPasswordStrength, generatePassword, hashPassword } from './passwords.js';

/** A person who logs in to the dashboard, as listed (never the password hash). */
export interface UserInfo {
  id: number;
  email: string;
  name: string | null;
  role: UserRole;
  createdAt: Date;
  lastLoginAt: Date | null;
}

const USER_COLUMNS = ['id', 'email', 'name', 'role', 'created_at', 'last_login_at'] as const;

const toInfo = (row: {
  id: number;
  email: string;
  name: string | null;
  role: string;
  created_at: Date;
  last_login_at: Date | null;
}): UserInfo => ({
  id: row.id,
  email: row.email,
  name: row.name,
  role: row.role as UserRole,
  createdAt: row.created_at,
  lastLoginAt: row.last_login_at,
});

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/**
 * Creates a user of the workspace. Without a password one is generated and returned — the only
 * time it is shown.
 */
export const createUser = async (
  db: Db,
  workspaceId: number,
  input: { email: string; name?: string | null; role: UserRole; password?: string },
): Promise<{ user: UserInfo; password: string | null }> => {
  const email = normaliseEmail(input.email);
  if (!EMAIL.test(email) || email.length > 320) {
    throw new AppError(400, 'invalid_email', `"${input.email}" is not an e-mail address`, [
      { path: 'email', message: 'must be an e-mail address' },
    ]);
  }
  const password = input.password ?? generatePassword();
  checkPasswordStrength(password);
  try {
    const row = await db
      .insertInto('app_user')
      .values({
        workspace_id: workspaceId,
        email,
        name: input.name?.trim() || null,
        role: input.role,
        password_hash: await hashPassword(password),
        last_login_at: null,
      })
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
    return { user: toInfo(row), password: input.password === undefined ? password : null };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new AppError(409, 'user_exists', `${email} is already a user of this workspace`);
    }
    throw error;
  }
};

export const listUsers = async (db: Db, workspaceId: number): Promise<UserInfo[]> =>
  (
    await db
      .selectFrom('app_user')
      .select(USER_COLUMNS)
      .where('workspace_id', '=', workspaceId)
      .orderBy('email')
      .execute()
  ).map(toInfo);

const notFound = (id: number | string) => new AppError(404, 'not_found', `No user ${id} in this workspace`);

/** The users of a workspace by e-mail, or id. */
export const findUser = async (
  db: Db,
  workspaceId: number,
  who: { id: number } | { email: string },
): Promise<UserInfo & { passwordHash: string }> => {
  const row = await db
    .selectFrom('app_user')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('workspace_id', '=', workspaceId)
    .$if('id' in who, (q) => q.where('id', '=', (who as { id: number }).id))
    .$if('email' in who, (q) =>
      q.where(sql`lower(email)`, '=', normaliseEmail((who as { email: string }).email)),
    )
    .executeTakeFirst();
  if (!row) throw notFound('id' in who ? who.id : who.email);
  return { ...toInfo(row), passwordHash: row.password_hash };
};

/**
 * How many admins the workspace has besides the given user: the last admin cannot be removed. The
 * workspace row is locked first, so two admins changed at once cannot both count on the other.
 */
const otherAdmins = async (db: Db, workspaceId: number, userId: number): Promise<number> => {
  await db.selectFrom('workspace').select('id').where('id', '=', workspaceId).forUpdate().execute();
  const row = await db
    .selectFrom('app_user')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'admin')
    .where('id', '<>', userId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

const lastAdmin = () =>
  new AppError(409, 'last_admin', 'This is the workspace’s last admin user; make another user admin first');

/** Changes a user's role or name; the last admin keeps the admin role. */
export const updateUser = async (
  db: Db,
  workspaceId: number,
  id: number,
  change: { role?: UserRole; name?: string | null },
): Promise<UserInfo> =>
  db.transaction().execute(async (trx) => {
    const user = await findUser(trx, workspaceId, { id });
    if (
      change.role &&
      change.role !== 'admin' &&
      user.role === 'admin' &&
      (await otherAdmins(trx, workspaceId, id)) === 0
    ) {
      throw lastAdmin();
    }
    const row = await trx
      .updateTable('app_user')
      .set({
        ...(change.role ? { role: change.role } : {}),
        ...(change.name !== undefined ? { name: change.name?.trim() || null } : {}),
      })
      .where('id', '=', id)
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
    if (change.role && change.role !== user.role) await endSessions(trx, id);
    return toInfo(row);
  });

/** Removes a user (their sessions end with them); the last admin stays. */
export const deleteUser = async (db: Db, workspaceId: number, id: number): Promise<void> =>
  db.transaction().execute(async (trx) => {
    const user = await findUser(trx, workspaceId, { id });
    if (user.role === 'admin' && (await otherAdmins(trx, workspaceId, id)) === 0) throw lastAdmin();
    await trx.deleteFrom('app_user').where('id', '=', id).execute();
  });

/** Sets a new password; every session of the user ends except `keepSession`. */
export const setPassword = async (
  db: Db,
  userId: number,
  password: string,
  keepSession?: number,
): Promise<void> => {
  checkPasswordStrength(password);
  const passwordHash = await hashPassword(password);
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('app_user')
      .set({ password_hash: passwordHash, password_changed_at: new Date() })
      .where('id', '=', userId)
      .execute();
    await endSessions(trx, userId, keepSession);
  });
};

/** Ends the user's sessions (all, or all but one). */
export const endSessions = async (db: Db, userId: number, except?: number): Promise<void> => {
  await db
    .deleteFrom('user_session')
    .where('user_id', '=', userId)
    .$if(except !== undefined, (q) => q.where('id', '<>', except as number))
    .execute();
};
