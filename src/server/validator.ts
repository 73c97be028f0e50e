import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../errors.js';
import { issuesToDetails } from '../validation.js';

/** Schemas that only document a request part; the handler validates it itself (ingest batches). */
const documentationOnly = new WeakSet<object>();

export const documentOnly = <T extends z.ZodType>(schema: T): T => {
  documentationOnly.add(schema);
  return schema;
};

const PART_PREFIX: Record<string, string | undefined> = {
  querystring: 'query',
  params: 'params',
  headers: 'headers',
};

/**
 * Validates a request part with its Zod schema and fails with the project's error shape, every bad
 * field listed (`query.limit: must be at most 200, got 500`).
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  if (documentationOnly.has(schema)) return (data) => ({ value: data });
  const prefix = httpPart ? PART_PREFIX[httpPart] : undefined;
  return (data) => {
    const result = schema.safeParse(data);
    if (result.success) return { value: result.data };
    const details = issuesToDetails(result.error.issues, prefix ? [prefix] : []);
    return {
      error: new AppError(
        400,
        'validation_failed',
        `Invalid request: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}`,
        details,
      ),
    };
  };
};
