import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, type Principal, touchApiKey } from '../auth/api-keys.js';
import type { Db } from '../db/index.js';
import type { ApiKeyRole } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';

/** Who may call a route: anyone, or a key whose role grants it. Routes default to admin. */
export type Access = 'public' | 'read' | 'write' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

const GRANTS: Record<ApiKeyRole, ReadonlySet<Access>> = {
  admin: new Set(['read', 'write', 'admin']),
  write: new Set(['write']),
  read: new Set(['read']),
};

/** The principal of an authenticated request (routes with access other than public). */
export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw new AppError(401, 'unauthorized', 'This route needs an API key');
  return request.principal;
};

export const registerAuth = (app: FastifyInstance, db: Db): void => {
  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined) return; // unknown route: the 404 handler answers
    const access: Access =
      request.routeOptions.config.access ?? (url.startsWith('/docs') ? 'public' : 'admin');
    if (access === 'public') return;
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      throw new AppError(
        401,
        'unauthorized',
        'Send an API key in the header Authorization: Bearer <api key>',
      );
    }
    const principal = await authenticate(db, match[1]);
    if (!principal) throw new AppError(401, 'unauthorized', 'The API key is unknown or revoked');
    if (!GRANTS[principal.role].has(access)) {
      throw new AppError(
        403,
        'forbidden',
        `This route needs a key with ${access === 'admin' ? 'the admin' : `the ${access} or admin`} role; this key has the ${principal.role} role`,
      );
    }
    request.principal = principal;
    void touchApiKey(db, principal.keyId);
  });
};
