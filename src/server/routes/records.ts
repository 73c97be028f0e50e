import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Db } from '../../db/index.js';
import type { RecordType } from '../../domain/vocabulary.js';
import { externalIdSchema, MAX_BATCH, recordSchemas } from '../../ingest/schemas.js';
import { validateBatch } from '../../ingest/validate.js';
import { WriteCoalescer } from '../../ingest/write-coalescer.js';
import { customerOut, eventOut, feedbackOut, interactionOut } from '../../records/api-shapes.js';
import { readCustomerProfile } from '../../records/customer-profile.js';
import { findCustomers, findCustomersQuerySchema } from '../../records/find-customers.js';
import { type EncounterKind, readRecord } from '../../records/read-records.js';
import { principalOf } from '../auth.js';
import { errorResponses } from '../openapi.js';
import { documentOnly } from '../validator.js';

const summarySchema = z.object({
  created: z.int().describe('Records whose externalId was new.'),
  updated: z.int().describe('Existing records whose content changed.'),
  unchanged: z.int().describe('Records already stored with the same content (e.g. a resent batch).'),
  customersCreated: z.int().describe('Customers created because a record referred to an unknown customerId.'),
});

const INGEST: Record<RecordType, string> = {
  customers: 'Upsert customers',
  interactions: 'Upsert interactions (contacts)',
  feedback: 'Upsert feedback (survey answers, reviews, social posts, complaints)',
  events: 'Upsert business events',
};

const externalIdParams = z.object({ externalId: externalIdSchema });

/** Ingestion and reading of the core records. Handlers stay thin: validate → call → respond. */
export const recordRoutes = async (instance: FastifyInstance, { db }: { db: Db }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const writes = new WriteCoalescer(db);

  for (const type of Object.keys(INGEST) as RecordType[]) {
    const item = recordSchemas[type];
    app.post(
      `/api/v1/${type}`,
      {
        config: { access: 'write' },
        schema: {
          tags: ['ingest'],
          summary: INGEST[type],
          description:
            `One object or an array of 1 to ${MAX_BATCH.toLocaleString('en')} objects, written in one transaction: ` +
            'if any item is invalid nothing is written and every problem is listed with its path (e.g. `[3].nps`). ' +
            'Records are upserted by externalId, so sending the same batch again changes nothing.',
          body: documentOnly(z.union([item, z.array(item).min(1).max(MAX_BATCH)])),
          response: { 200: summarySchema, ...errorResponses(400, 401, 403, 413, 415) },
        },
      },
      async (request) => {
        const { workspaceId } = principalOf(request);
        return writes.write(workspaceId, type, validateBatch(type, request.body));
      },
    );
  }

  app.get(
    '/api/v1/customers',
    {
      config: { access: 'customers' },
      schema: {
        tags: ['records'],
        summary: 'Find customers',
        description:
          'Customers whose external id, name, e-mail or phone contain every word of `q`, by external id; ' +
          'optionally of one segment or life-cycle stage. Pass `nextCursor` as `cursor` for the next page.',
        querystring: findCustomersQuerySchema,
        response: {
          200: z.object({ items: z.array(customerOut), nextCursor: z.string().nullable() }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => findCustomers(db, principalOf(request).workspaceId, request.query),
  );

  app.get(
    '/api/v1/customers/:externalId',
    {
      config: { access: 'customers' },
      schema: {
        tags: ['records'],
        summary: 'A customer profile with its cross-channel timeline',
        description:
          'The profile, counts, life-cycle history and one page of the timeline (interactions, feedback, ' +
          'events and follow-ups sent from cases, newest first). Pass `nextCursor` as `cursor` for the next page.',
        params: externalIdParams,
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(500).optional(),
        }),
        response: {
          200: z.object({
            customer: customerOut,
            summary: z.object({
              interactions: z.int(),
              feedback: z.int(),
              events: z.int(),
              lastContactAt: z.string().nullable(),
            }),
            lifecycleHistory: z.array(
              z.object({ lifecycleStage: z.string().nullable(), changedAt: z.string() }),
            ),
            timeline: z.object({
              items: z.array(
                z.union([
                  interactionOut.extend({ kind: z.literal('interaction') }),
                  feedbackOut.extend({ kind: z.literal('feedback') }),
                  eventOut.extend({ kind: z.literal('event') }),
                  z.object({
                    kind: z.literal('followUp'),
                    id: z.int(),
                    caseId: z.int(),
                    channel: z.string().describe('email or call'),
                    subject: z.string().nullable(),
                    body: z.string(),
                    outcome: z.string().nullable(),
                    status: z.string().describe('sent, failed or logged'),
                    actor: z.string(),
                    occurredAt: z.string(),
                  }),
                ]),
              ),
              nextCursor: z.string().nullable(),
            }),
          }),
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request) =>
      readCustomerProfile(db, principalOf(request).workspaceId, request.params.externalId, request.query),
  );

  const single: [string, EncounterKind, z.ZodType, string][] = [
    ['interactions', 'interaction', interactionOut, 'An interaction'],
    ['feedback', 'feedback', feedbackOut, 'A feedback record with its experience rating'],
    ['events', 'event', eventOut, 'A business event'],
  ];
  for (const [path, kind, out, summary] of single) {
    app.get(
      `/api/v1/${path}/:externalId`,
      {
        config: { access: 'customers' },
        schema: {
          tags: ['records'],
          summary,
          params: externalIdParams,
          response: { 200: out, ...errorResponses(400, 401, 403, 404) },
        },
      },
      async (request) => readRecord(db, principalOf(request).workspaceId, kind, request.params.externalId),
    );
  }
};
