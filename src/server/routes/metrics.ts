import { stringify } from 'csv-stringify/sync';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BOXES, type Box, listExtremes } from '../../analytics/extremes.js';
import { computeMetrics } from '../../analytics/metrics.js';
import { metricsQuerySchema, parseMetricsRequest, parseSelection } from '../../analytics/params.js';
import { metricsTable } from '../../analytics/table.js';
import type { Db } from '../../db/index.js';
import { MEASURES } from '../../domain/metrics.js';
import { principalOf } from '../auth.js';
import { errorResponses } from '../openapi.js';

const measureResult = z.object({
  value: z
    .number()
    .nullable()
    .describe('NPS −100…100; shares in percent; means in their unit; null when n = 0.'),
  n: z.int().describe('Answers (or contacts) the value is computed from.'),
  moe: z.number().nullable().describe('Half-width of the 95% interval.'),
  low: z.number().nullable(),
  high: z.number().nullable(),
  lowSample: z.boolean().describe('n is below minN: show it, but do not trust it.'),
  distribution: z.record(z.string(), z.int()).optional().describe('Counts per score or per group.'),
  mean: z.object({ value: z.number().nullable(), moe: z.number().nullable() }).optional(),
  p90: z.number().nullable().optional(),
  comparison: z
    .object({
      against: z.enum(['rest', 'previousPeriod']),
      value: z.number().nullable(),
      p: z.number().nullable(),
      pAdjusted: z.number().nullable(),
      direction: z.enum(['higher', 'lower', 'same']).nullable(),
    })
    .optional(),
});
const metricsRow = z.object({
  group: z
    .record(z.string(), z.string().nullable())
    .describe('The value of each `by` dimension (null: none).'),
  measures: z.partialRecord(z.enum(MEASURES), measureResult).describe('The requested measures.'),
});
const metricsResponse = z.object({
  measures: z.array(z.enum(MEASURES)),
  by: z.array(z.string()),
  from: z.string().nullable(),
  to: z.string().nullable(),
  minN: z.int(),
  compare: z.enum(['rest', 'previousPeriod']).nullable(),
  method: z.object({
    confidence: z.number(),
    margins: z.record(z.string(), z.string()),
    tests: z.record(z.string(), z.string()),
    multipleComparisons: z.string().nullable(),
  }),
  total: metricsRow,
  rows: z.array(metricsRow),
});

const METRICS_DESCRIPTION =
  'Every value carries its n and 95% margin (NPS per PRODUCT.md, shares Wilson, means t); cells below minN are ' +
  'flagged lowSample. With `compare`, each cell is tested against the rest or the previous period with a test ' +
  "suited to the measure (NPS difference z, two-proportion z, Welch's t), corrected for multiple comparisons " +
  '(Benjamini–Hochberg) and marked higher, lower or same; a cell or comparison group below minN is not tested ' +
  '(p and direction null). Time buckets (day, week = ISO week from Monday, month, ' +
  'quarter) are in UTC and named by their first day.';

const extremesQuerySchema = metricsQuerySchema.pick({ from: true, to: true, filter: true }).extend({
  box: z
    .enum(Object.keys(BOXES) as [Box, ...Box[]])
    .default('bottom')
    .describe('bottom: disastrous encounters; poor; top: fabulous ones.'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
});

/** Analytics: the metrics cube, its CSV export, and the extreme encounters behind it. */
export const metricsRoutes = async (instance: FastifyInstance, { db }: { db: Db }) => {
  const app = instance.withTypeProvider<ZodTypeProvider>();

  app.get(
    '/api/v1/metrics',
    {
      config: { access: 'read' },
      schema: {
        tags: ['analytics'],
        summary: 'Experience metrics by any dimensions, with margins and significance',
        description: METRICS_DESCRIPTION,
        querystring: metricsQuerySchema,
        response: { 200: metricsResponse, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) =>
      computeMetrics(db, principalOf(request).workspaceId, parseMetricsRequest(request.query)),
  );

  app.get(
    '/api/v1/metrics/export.csv',
    {
      config: { access: 'read' },
      schema: {
        tags: ['analytics'],
        summary: 'The same metrics as a CSV table',
        description:
          'One row per cell and a last row "(all)" for the total; per measure its value, n, moe, low, high, lowSample, distribution and comparison columns.',
        querystring: metricsQuerySchema,
        response: {
          200: z.string().describe('CSV (text/csv) with a header row.'),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request, reply) => {
      const result = await computeMetrics(
        db,
        principalOf(request).workspaceId,
        parseMetricsRequest(request.query),
      );
      const { header, rows } = metricsTable(result);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="metrics.csv"')
        .send(stringify([header, ...rows], { cast: { boolean: (value) => String(value) } }));
    },
  );

  app.get(
    '/api/v1/extremes',
    {
      config: { access: 'read' },
      schema: {
        tags: ['analytics'],
        summary: 'The individual extreme encounters, newest first',
        description:
          'Bottom-box (disastrous), poor or top-box (fabulous) feedback in a period and segment, with the customer, ' +
          'the contact point and the comment: the work list for following up each encounter. Filters as for metrics.',
        querystring: extremesQuerySchema,
        response: {
          200: z.object({
            items: z.array(
              z.object({
                feedbackId: z.string(),
                occurredAt: z.string(),
                experienceRating: z.string(),
                nps: z.int().nullable(),
                csat: z.int().nullable(),
                ces: z.int().nullable(),
                text: z.string().nullable(),
                source: z.string(),
                channel: z.string().nullable(),
                touchpoint: z.string().nullable(),
                interactionId: z.string().nullable(),
                caseId: z.int().nullable().describe('The case this encounter raised (the latest), or null.'),
                customer: z
                  .object({
                    externalId: z.string(),
                    name: z.string().nullable(),
                    segment: z.string().nullable(),
                    lifecycleStage: z.string().nullable(),
                    personalityType: z.string().nullable(),
                  })
                  .nullable(),
              }),
            ),
            nextCursor: z.string().nullable(),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { query } = request;
      // Period and filters are read exactly as for metrics.
      const { from, to, filters } = parseSelection(query);
      return listExtremes(db, {
        workspaceId: principalOf(request).workspaceId,
        box: query.box,
        from,
        to,
        filters,
        limit: query.limit,
        cursor: query.cursor,
      });
    },
  );
};
