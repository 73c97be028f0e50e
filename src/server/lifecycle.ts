import type { FastifyInstance, FastifyRequest } from 'fastify';
import secureJson from 'secure-json-parse';
import { AppError } from '../errors.js';

/** JSON bodies only (anything else is a 415), parsed by a parser that says where the JSON breaks. */
export const registerJsonBody = (app: FastifyInstance): void => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') {
      done(
        new AppError(400, 'invalid_json', 'The body is empty; send a JSON object or an array of objects.'),
        undefined,
      );
      return;
    }
    try {
      done(
        null,
        secureJson.parse(text as string, undefined, { protoAction: 'remove', constructorAction: 'remove' }),
      );
    } catch (error) {
      done(
        new AppError(400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`),
        undefined,
      );
    }
  });
};

/**
 * Graceful shutdown: once `close()` starts, new requests are refused with 503 and `close()` waits
 * (up to 10 s) for the requests in flight, so that none of them meets a closed database.
 */
export const registerDrain = (app: FastifyInstance): void => {
  let closing = false;
  const inFlight = new Set<FastifyRequest>();
  let drained: (() => void) | null = null;
  const done = async (request: FastifyRequest) => {
    if (inFlight.delete(request) && inFlight.size === 0) drained?.();
  };
  app.addHook('onRequest', async (request, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      throw new AppError(503, 'shutting_down', 'Touchpoint is shutting down; retry in a moment');
    }
    inFlight.add(request);
  });
  app.addHook('onResponse', done);
  app.addHook('onRequestAbort', done);
  app.addHook('preClose', async () => {
    closing = true;
    if (inFlight.size > 0) {
      await Promise.race([
        new Promise<void>((resolve) => {
          drained = resolve;
        }),
        new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
      ]);
    }
  });
};
