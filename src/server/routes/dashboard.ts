import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { packageRoot } from '../../paths.js';

/** Where `npm run build` puts the dashboard (web/, built by Vite). */
export const dashboardDir = join(packageRoot, 'dist', 'web');

const NOT_BUILT =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Touchpoint</title></head><body><main>' +
  '<h1>The dashboard is not built</h1><p>Run <code>npm run build</code> (or <code>npm install</code>, which ' +
  'builds it) and restart the server. The API works without it: <a href="/docs">/docs</a>.</p></main></body></html>';

/**
 * The dashboard: its files under /app/, and index.html for every other /app/ path so that links
 * into the single-page app (e.g. /app/cases/12 in an e-mail) open the right page.
 */
export const dashboardRoutes = async (app: FastifyInstance) => {
  const indexFile = join(dashboardDir, 'index.html');
  const built = existsSync(indexFile);
  app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    reply.redirect('/app/'),
  );
  if (!built) {
    app.get('/app/*', { schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/html').send(NOT_BUILT),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: dashboardDir,
    prefix: '/app/',
    wildcard: false,
    index: false,
    schemaHide: true,
    // File names under assets/ carry a content hash: they never change.
    setHeaders: (reply, path) => {
      reply.header(
        'cache-control',
        path.includes(`${join(dashboardDir, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  // Read on every request (it is small): after a rebuild it names the new files at once.
  const page = async (_request: unknown, reply: FastifyReply) =>
    reply
      .type('text/html')
      .header('cache-control', 'no-cache')
      .send(await readFile(indexFile));
  app.get('/app', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));
  app.get('/app/*', { schema: { hide: true } }, page);
};
