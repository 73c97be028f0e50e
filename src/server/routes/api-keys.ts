import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type ApiKeyInfo, createApiKey, listApiKeys, revokeApiKey } from '../../auth/api-keys.js';
import type { Db } from '../../db/index.js';
import { API_KEY_ROLES } from '../../domain/vocabulary.js';
import { principalOf } from '../auth.js';
import { errorResponses } from '../openapi.js';

const keyOut = z.object({
  id: z.int(),
  name: z.string(),
  role: z.enum(API_KEY_ROLES),
  prefix: z.string().describe('The first characters of the key, to recognise it.'),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const toOut = (info: ApiKeyInfo) => ({
  ...info,
  createdAt: info.createdAt.toISOString(),
  lastUsedAt: info.lastUsedAt?.toISOString() ?? null,
  revokedAt: info.revokedAt?.toISOString() ?? null,
});

export const apiKeyRoutes = async (instance: FastifyInstance, { db }: { db: Db }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const tags = ['admin'];

  app.get(
    '/api/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "The workspace's API keys",
        response: { 200: z.object({ items: z.array(keyOut) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ items: (await listApiKeys(db, principalOf(request).workspaceId)).map(toOut) }),
  );

  app.post(
    '/api/v1/api-keys',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Create an API key',
        description: 'The key is in the response and never shown again; only its hash is stored.',
        body: z.strictObject({ role: z.enum(API_KEY_ROLES), name: z.string().min(1).max(200).optional() }),
        response: { 201: keyOut.extend({ key: z.string() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { role, name } = request.body;
      const { key, info } = await createApiKey(
        db,
        principalOf(request).workspaceId,
        role,
        name ?? `${role} key`,
      );
      return reply.status(201).send({ ...toOut(info), key });
    },
  );

  app.delete(
    '/api/v1/api-keys/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Revoke an API key',
        params: z.object({ id: z.coerce.number().int().positive() }),
        response: { 200: keyOut, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => toOut(await revokeApiKey(db, principalOf(request).workspaceId, request.params.id)),
  );
};
