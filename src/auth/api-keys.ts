import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';
import type { ApiKeyRole } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';

/** An API key as listed: never the key itself, only its recognisable prefix. */
export interface ApiKeyInfo {
  id: number;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A program calling with an API key: a workspace and what the key may do there. */
export interface KeyPrincipal {
  kind: 'key';
  workspaceId: number;
  keyId: number;
  role: ApiKeyRole;
}

const KEY_PATTERN = /^tp_[A-Za-z0-9_-]{8,128}$/;

export const hashKey = (key: string): Buffer => createHash('sha256').update(key).digest();

/** A new random key: `tp_` + 43 characters of base64url (256 bits). */
export const generateKey = (): string => `tp_${randomBytes(32).toString('base64url')}`;

/**
 * Stores a key (hashed) for a workspace and returns it in clear text — the only time it is shown.
 * `key` lets an operator choose the first admin key (TOUCHPOINT_ADMIN_KEY).
 */
export const createApiKey = async (
  db: Db,
  workspaceId: number,
  role: ApiKeyRole,
  name: string,
  key: string = generateKey(),
): Promise<{ key: string; info: ApiKeyInfo }> => {
  if (!KEY_PATTERN.test(key)) {
    throw new AppError(
      400,
      'bad_api_key',
      'An API key must start with "tp_" followed by 8 to 128 letters, digits, "-" or "_" (generate one with: openssl rand -hex 24)',
    );
  }
  const row = await db
    .insertInto('api_key')
    .values({
      workspace_id: workspaceId,
      name,
      role,
      key_prefix: key.slice(0, 10),
      key_hash: hashKey(key),
      last_used_at: null,
      revoked_at: null,
    })
    .onConflict((oc) => oc.column('key_hash').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError(409, 'api_key_exists', 'This API key is already registered');
  return { key, info: toInfo(row) };
};

const toInfo = (row: {
  id: number;
  name: string;
  role: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}): ApiKeyInfo => ({
  id: row.id,
  name: row.name,
  role: row.role as ApiKeyRole,
  prefix: row.key_prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

export const listApiKeys = async (db: Db, workspaceId: number): Promise<ApiKeyInfo[]> =>
  (
    await db.selectFrom('api_key').selectAll().where('workspace_id', '=', workspaceId).orderBy('id').execute()
  ).map(toInfo);

/** Revokes a key of the workspace; a revoked key is refused from then on. */
export const revokeApiKey = async (db: Db, workspaceId: number, id: number): Promise<ApiKeyInfo> => {
  const row = await db
    .updateTable('api_key')
    .set({ revoked_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new AppError(404, 'not_found', `No API key ${id} in this workspace`);
  const cache = cacheOf(db);
  for (const [hash, entry] of cache) if (entry.principal.keyId === id) cache.delete(hash);
  return toInfo(row);
};

// last_used_at is written at most once a minute per key: a write on every request would cost more
// than the request itself.
const TOUCH_INTERVAL_MS = 60_000;
const touchedByDb = new WeakMap<Db, Map<number, number>>();

/** Records that a key was used (throttled; never fails the request). */
export const touchApiKey = (db: Db, keyId: number, now = Date.now()): Promise<void> => {
  let touched = touchedByDb.get(db);
  if (!touched) {
    touched = new Map();
    touchedByDb.set(db, touched);
  }
  const last = touched.get(keyId);
  if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return Promise.resolve();
  touched.set(keyId, now);
  return db
    .updateTable('api_key')
    .set({ last_used_at: new Date(now) })
    .where('id', '=', keyId)
    .execute()
    .then(
      () => undefined,
      () => {
        touched.delete(keyId);
      },
    );
};

// Known keys are remembered for a few seconds, so that a burst of requests costs one lookup. A key
// revoked in this process is forgotten at once; one revoked by another process sharing a PostgreSQL
// server is refused at the latest after KEY_CACHE_MS.
const KEY_CACHE_MS = 5_000;
const keyCache = new WeakMap<Db, Map<string, { principal: KeyPrincipal; until: number }>>();
const cacheOf = (db: Db) => {
  let cache = keyCache.get(db);
  if (!cache) {
    cache = new Map();
    keyCache.set(db, cache);
  }
  return cache;
};

/** The principal a key stands for, or null for an unknown or revoked key. */
export const authenticate = async (db: Db, key: string, now = Date.now()): Promise<KeyPrincipal | null> => {
  if (!KEY_PATTERN.test(key)) return null;
  const hash = hashKey(key);
  const cache = cacheOf(db);
  const cached = cache.get(hash.toString('base64'));
  if (cached && cached.until > now) return cached.principal;
  const row = await db
    .selectFrom('api_key')
    .select(['id', 'workspace_id', 'role'])
    .where('key_hash', '=', hash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  if (!row) return null;
  const principal: KeyPrincipal = {
    kind: 'key',
    workspaceId: row.workspace_id,
    keyId: row.id,
    role: row.role as ApiKeyRole,
  };
  if (cache.size > 10_000) cache.clear();
  cache.set(hash.toString('base64'), { principal, until: now + KEY_CACHE_MS });
  return principal;
};
