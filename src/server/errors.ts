import type { FastifyError, FastifyInstance } from 'fastify';
import { type AppError, type ErrorDetail, isAppError } from '../errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

const body = (code: string, message: string, details: ErrorDetail[] = []): ErrorBody => ({
  error: { code, message, details },
});

/** Fastify's own request errors, turned into messages that say what to do. */
const FASTIFY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'The request body is too large (limit 64 MB). Send the records in smaller batches.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send the body as JSON with the header Content-Type: application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'The body is empty; send a JSON object or an array of objects.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'The body is not valid JSON' },
};

/** PostgreSQL data exceptions (22…) and integrity violations (23…) are caused by the input. */
const isInputRejectedByDatabase = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
};

/**
 * One error shape everywhere: `{"error":{"code","message","details":[{"path","message"}]}}`.
 * AppErrors and request errors are 4xx; anything else is a bug, logged, and a plain 500.
 */
export const registerErrorHandling = (app: FastifyInstance): void => {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (isAppError(error)) {
      return reply.status(error.status).send(body(error.code, error.message, error.details));
    }
    const fastifyError = error as FastifyError;
    const known = fastifyError.code ? FASTIFY_ERRORS[fastifyError.code] : undefined;
    if (known) {
      const message =
        known.code === 'invalid_json' && fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY'
          ? `The body is not valid JSON: ${fastifyError.message.replace(/^Body is not valid JSON but content-type is set to 'application\/json'\s*/, '')}`.trim()
          : known.message;
      return reply.status(known.status).send(body(known.code, message));
    }
    if (error instanceof SyntaxError) {
      return reply.status(400).send(body('invalid_json', `The body is not valid JSON: ${error.message}`));
    }
    if (isInputRejectedByDatabase(error)) {
      request.log.warn({ err: error }, 'input rejected by the database');
      return reply
        .status(400)
        .send(body('invalid_data', `The database rejected the input: ${error.message}`));
    }
    const status = fastifyError.statusCode;
    if (status && status >= 400 && status < 500) {
      return reply
        .status(status)
        .send(body((fastifyError.code ?? 'bad_request').toLowerCase(), error.message));
    }
    request.log.error({ err: error, url: request.url, method: request.method }, 'request failed');
    return reply
      .status(500)
      .send(body('internal_error', 'Something went wrong on our side; the error has been logged.'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .send(body('not_found', `No route ${request.method} ${request.url.split('?')[0]}; see /docs`)),
  );
};
