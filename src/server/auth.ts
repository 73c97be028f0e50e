import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, type KeyPrincipal, touchApiKey } from '../auth/api-keys.js';
import { CSRF_HEADER, csrfMatches, SESSION_COOKIE, sessionOf, type UserSession } from '../auth/sessions.js';
import type { Db } from '../db/index.js';
import { API_KEY_ROLES, type ApiKeyRole, type UserRole } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';

/**
 * Who may call a route. Routes default to admin.
 * - public: anyone; session: any signed-in person (their own session and password);
 * - read: analytics and every other read; cases: read cases; customers: the customer view;
 * - workCases: change cases (status, notes, steps, messages); write: ingest; admin: configuration.
 */
export type Access = 'public' | 'session' | 'read' | 'cases' | 'customers' | 'workCases' | 'write' | 'admin';

/** A signed-in person, by session cookie. */
export interface UserPrincipal extends UserSession {
  kind: 'user';
}

/** The caller behind a request: a program with an API key, or a person with a session. */
export type Principal = KeyPrincipal | UserPrincipal;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const ALL: Access[] = ['read', 'cases', 'customers', 'workCases', 'write', 'admin'];

/** What each API key role may do. */
export const KEY_GRANTS: Record<ApiKeyRole, ReadonlySet<Access>> = {
  admin: new Set(ALL),
  write: new Set(['write']),
  read: new Set(['read', 'cases', 'customers']),
};

/**
 * What each person's role may do. Managers and agents work cases only within their scope
 * (see case-access.ts): their own teams' cases, or their own.
 */
export const USER_GRANTS: Record<UserRole, ReadonlySet<Access>> = {
  admin: new Set<Access>(['session', ...ALL]),
  analyst: new Set(['session', 'read', 'cases', 'customers']),
  manager: new Set(['session', 'read', 'cases', 'customers', 'workCases']),
  agent: new Set(['session', 'cases', 'customers', 'workCases']),
};

export const grantsOf = (principal: Principal): ReadonlySet<Access> =>
  principal.kind === 'key' ? KEY_GRANTS[principal.role] : USER_GRANTS[principal.role];

/** The principal of an authenticated request (routes with access other than public). */
export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw new AppError(401, 'unauthorized', 'This route needs an API key or a session');
  return request.principal;
};

/** The signed-in person of a request (routes with access session). */
export const userOf = (request: FastifyRequest): UserPrincipal => {
  const principal = principalOf(request);
  if (principal.kind !== 'user') {
    throw new AppError(403, 'forbidden', 'This route is for people signed in to the dashboard, not API keys');
  }
  return principal;
};

/** Who did something, for histories: the person's e-mail or the API key. */
export const actorOf = (principal: Principal): string =>
  principal.kind === 'user' ? principal.email : `api-key:${principal.keyId}`;

/** The documentation and the dashboard's files (the dashboard signs in through the API). */
const PUBLIC_PREFIXES = ['/docs', '/app/'];

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const forbidden = (access: Access, principal: Principal) => {
  if (principal.kind === 'user') {
    return new AppError(403, 'forbidden', `Your role (${principal.role}) does not allow this`);
  }
  const roles = API_KEY_ROLES.filter((role) => KEY_GRANTS[role].has(access));
  return new AppError(
    403,
    'forbidden',
    roles.length === 0
      ? 'This route is for people signed in to the dashboard, not API keys'
      : `This route needs a key with the ${roles.join(' or ')} role; this key has the ${principal.role} role`,
  );
};

/**
 * Authenticates every non-public request: `Authorization: Bearer <api key>` for programs, the
 * session cookie for people. A request with a session that changes something must also carry the
 * session's CSRF token in `X-CSRF-Token` (another site can make a browser send the cookie, but
 * cannot read the token).
 */
export const registerAuth = (app: FastifyInstance, db: Db): void => {
  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined) return; // unknown route: the 404 handler answers
    const access: Access =
      request.routeOptions.config.access ??
      (url === '/app' || PUBLIC_PREFIXES.some((p) => url.startsWith(p)) ? 'public' : 'admin');
    if (access === 'public') return;
    const principal = await identify(db, request);
    if (!grantsOf(principal).has(access)) throw forbidden(access, principal);
    request.principal = principal;
    if (principal.kind === 'key') void touchApiKey(db, principal.keyId);
  });
};

const identify = async (db: Db, request: FastifyRequest): Promise<Principal> => {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) {
      throw new AppError(401, 'unauthorized', 'Send the API key as Authorization: Bearer <api key>');
    }
    const principal = await authenticate(db, match[1]);
    if (!principal) throw new AppError(401, 'unauthorized', 'The API key is unknown or revoked');
    return principal;
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) {
    throw new AppError(
      401,
      'unauthorized',
      'Sign in (POST /api/v1/auth/login) or send an API key in the header Authorization: Bearer <api key>',
    );
  }
  const session = await sessionOf(db, token);
  if (!session) throw new AppError(401, 'unauthorized', 'Your session has ended; sign in again');
  if (!SAFE_METHODS.has(request.method)) {
    const given = request.headers[CSRF_HEADER];
    if (!csrfMatches(session, Array.isArray(given) ? given[0] : given)) {
      throw new AppError(
        403,
        'csrf_failed',
        'This request needs the session’s CSRF token in the X-CSRF-Token header (reload the page)',
      );
    }
  }
  return { kind: 'user', ...session };
};
