import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect } from 'vitest';
import type { Database } from '../../src/db/index.js';
import { type App, buildApp } from '../../src/server/app.js';
import type { ErrorBody } from '../../src/server/errors.js';

/** One in-process app per suite, driven with `app().inject(…)`. */
export const useApp = (database: () => Database): (() => App) => {
  let app: App | undefined;
  beforeAll(async () => {
    app = await buildApp({ database: database() });
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => {
    if (!app) throw new Error('app not built yet');
    return app;
  };
};

export const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Asserts the one error shape of PRODUCT.md — `{"error":{"code","message","details":[{"path","message"}]}}`
 * — with the given status (and code), and returns the error.
 */
export const expectError = (
  res: LightMyRequestResponse,
  status: number,
  code?: string,
): ErrorBody['error'] => {
  expect(res.statusCode, res.body.slice(0, 500)).toBe(status);
  if (res.raw.req.method === 'HEAD') return { code: code ?? '', message: '', details: [] };
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json() as ErrorBody;
  expect(body).toEqual({
    error: { code: code ?? expect.any(String), message: expect.any(String), details: expect.any(Array) },
  });
  expect(body.error.message.length).toBeGreaterThan(0);
  for (const detail of body.error.details) {
    expect(detail).toEqual({ path: expect.any(String), message: expect.any(String) });
    expect(detail.message.length).toBeGreaterThan(0);
  }
  return body.error;
};
