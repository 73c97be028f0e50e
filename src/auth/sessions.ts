import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { UserRole } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { verifyPassword } from './passwords.js';
import { normaliseEmail } from './users.js';

/** The cookie that carries a browser's session. */
export const SESSION_COOKIE = 'tp_session';
/** The header that carries the session's CSRF token on every request that changes something. */
export const CSRF_HEADER = 'x-csrf-token';

/** A session lasts 12 hours from its last use, and at most 7 days. */
export const SESSION_IDLE_MS = 12 * 3600_000;
export const SESSION_MAX_MS = 7 * 24 * 3600_000;

/** A signed-in person: who, in which workspace, with which role. */
export interface UserSession {
  sessionId: number;
  workspaceId: number;
  userId: number;
  email: string;
  name: string | null;
  role: UserRole;
  csrfToken: string;
  expiresAt: Date;
}

const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// Failed logins per e-mail address and per client address: after 10 within 15 minutes, further
// attempts are refused until the window has passed. Memory only: a restart forgives.
const FAILURE_WINDOW_MS = 15 * 60_000;
const MAX_FAILURES = 10;
const MAX_TRACKED = 100_000;
const failures = new Map<string, number[]>();

const recentFailures = (key: string, now: number) => {
  const times = (failures.get(key) ?? []).filter((t) => now - t < FAILURE_WINDOW_MS);
  if (times.length) failures.set(key, times);
  else failures.delete(key);
  return times;
};

const throttle = (keys: string[], now: number) => {
  for (const key of keys) {
    const times = recentFailures(key, now);
    if (times.length >= MAX_FAILURES) {
      const waitMinutes = Math.ceil((FAILURE_WINDOW_MS - (now - (times[0] ?? now))) / 60_000);
      throw new AppError(
        429,
        'too_many_attempts',
        `Too many failed logins; try again in ${waitMinutes} minute${waitMinutes === 1 ? '' : 's'}`,
      );
    }
  }
};

const invalidCredentials = () => new AppError(401, 'invalid_credentials', 'E-mail or password is wrong');

/**
 * Checks an e-mail and password and opens a session. With several workspaces under the same
 * e-mail and password, `workspace` (a slug) chooses one, else the oldest workspace is used.
 */
export const login = async (
  db: Db,
  input: { email: string; password: string; workspace?: string; client?: string },
  now = new Date(),
): Promise<{ token: string; session: UserSession }> => {
  const email = normaliseEmail(input.email);
  const keys = [`email:${email}`, ...(input.client ? [`client:${input.client}`] : [])];
  throttle(keys, now.getTime());
  const candidates = await db
    .selectFrom('app_user')
    .innerJoin('workspace', 'workspace.id', 'app_user.workspace_id')
    .select(['app_user.id', 'app_user.workspace_id', 'app_user.password_hash', 'workspace.slug'])
    .where(sql`lower(app_user.email)`, '=', email)
    .$if(input.workspace !== undefined, (q) => q.where('workspace.slug', '=', input.workspace as string))
    .orderBy('app_user.workspace_id')
    .execute();
  let user: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) {
    if (await verifyPassword(input.password, candidate.password_hash)) {
      user = candidate;
      break;
    }
  }
  if (!candidates.length) await verifyPassword(input.password, undefined);
  if (!user) {
    // Bounded memory: guesses at ever-new addresses would otherwise pile up for good.
    if (failures.size > MAX_TRACKED) {
      for (const key of [...failures.keys()]) recentFailures(key, now.getTime());
      if (failures.size > MAX_TRACKED) failures.clear();
    }
    for (const key of keys) failures.set(key, [...recentFailures(key, now.getTime()), now.getTime()]);
    throw invalidCredentials();
  }
  // The address keeps its count: signing in to one's own account must not forgive guesses at others.
  failures.delete(`email:${email}`);
  const token = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_IDLE_MS);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('user_session')
      .values({
        workspace_id: user.workspace_id,
        user_id: user.id,
        token_hash: hashToken(token),
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
      })
      .execute();
    await trx.updateTable('app_user').set({ last_login_at: now }).where('id', '=', user.id).execute();
    // Expired sessions are cleared as new ones begin, so the table never grows without bound.
    await trx.deleteFrom('user_session').where('expires_at', '<', now).execute();
  });
  const session = await sessionOf(db, token, now);
  if (!session) throw invalidCredentials();
  return { token, session };
};

// A session is looked up once per request; its expiry is pushed forward at most once a minute.
const EXTEND_INTERVAL_MS = 60_000;

/** The session a cookie token stands for, or null (unknown, expired, or user removed). */
export const sessionOf = async (db: Db, token: string, now = new Date()): Promise<UserSession | null> => {
  if (!TOKEN_PATTERN.test(token)) return null;
  const row = await db
    .selectFrom('user_session')
    .innerJoin('app_user', 'app_user.id', 'user_session.user_id')
    .select([
      'user_session.id',
      'user_session.workspace_id',
      'user_session.user_id',
      'user_session.csrf_token',
      'user_session.created_at',
      'user_session.last_seen_at',
      'user_session.expires_at',
      'app_user.email',
      'app_user.name',
      'app_user.role',
    ])
    .where('user_session.token_hash', '=', hashToken(token))
    .where('user_session.expires_at', '>', now)
    .executeTakeFirst();
  if (!row) return null;
  let expiresAt = row.expires_at;
  if (now.getTime() - row.last_seen_at.getTime() > EXTEND_INTERVAL_MS) {
    expiresAt = new Date(
      Math.min(now.getTime() + SESSION_IDLE_MS, row.created_at.getTime() + SESSION_MAX_MS),
    );
    await db
      .updateTable('user_session')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('id', '=', row.id)
      .execute();
  }
  return {
    sessionId: row.id,
    workspaceId: row.workspace_id,
    userId: row.user_id,
    email: row.email,
    name: row.name,
    role: row.role as UserRole,
    csrfToken: row.csrf_token,
    expiresAt,
  };
};

/** Whether a request's CSRF header matches its session (constant time). */
export const csrfMatches = (session: UserSession, header: string | undefined): boolean => {
  if (!header) return false;
  const given = Buffer.from(header);
  const expected = Buffer.from(session.csrfToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
};

/** Ends one session (logout). */
export const logout = async (db: Db, sessionId: number): Promise<void> => {
  await db.deleteFrom('user_session').where('id', '=', sessionId).execute();
};
