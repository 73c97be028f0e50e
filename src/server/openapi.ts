import { z } from 'zod';

export const errorSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .describe('Stable machine-readable code, e.g. validation_failed, not_found, unauthorized.'),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })),
    }),
  })
  .describe('Every error has this shape.');

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; every problem is listed in details.',
  401: 'Missing, unknown or revoked API key.',
  403: "The key's role does not allow this.",
  404: 'Not found in this workspace.',
  409: 'Conflict.',
  413: 'Too many records or too large a body.',
  415: 'The body is not JSON.',
};

/** The documented error responses of a route. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, errorSchema.describe(DESCRIPTIONS[status] ?? 'Error')]),
  );
