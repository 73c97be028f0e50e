import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/index.js';
import { VERSION } from '../../version.js';

export const healthRoutes = async (instance: FastifyInstance, { database }: { database: Database }) => {
  instance.withTypeProvider<ZodTypeProvider>().get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Liveness and database check',
        security: [],
        response: {
          200: z.object({
            status: z.literal('ok'),
            version: z.string(),
            database: z.enum(['embedded', 'server']),
          }),
          503: z.object({ status: z.literal('unavailable'), message: z.string() }),
        },
      },
    },
    async (_request, reply) => {
      try {
        await sql`SELECT 1`.execute(database.db);
        return { status: 'ok' as const, version: VERSION, database: database.kind };
      } catch (error) {
        return reply.status(503).send({ status: 'unavailable' as const, message: (error as Error).message });
      }
    },
  );
};
