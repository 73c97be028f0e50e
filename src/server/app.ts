import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { Database } from '../db/index.js';
import { Channels } from '../surveys/channels.js';
import { VERSION } from '../version.js';
import { registerAuth } from './auth.js';
import { registerErrorHandling } from './errors.js';
import { registerDrain, registerJsonBody } from './lifecycle.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { authRoutes } from './routes/auth.js';
import { closedLoopRoutes } from './routes/closed-loop.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { recordRoutes } from './routes/records.js';
import { surveyPageRoutes } from './routes/survey-pages.js';
import { surveyRoutes } from './routes/surveys.js';
import { zodValidatorCompiler } from './validator.js';

export type App = FastifyInstance;

/** Where people find a case (used in owner e-mails and Slack messages). */
export const caseLink = (publicUrl: string, caseId: number): string => `${publicUrl}/app/cases/${caseId}`;

export interface AppOptions {
  database: Database;
  logger?: Logger | false;
  /** Base URL of survey links (PUBLIC_URL, else where the server listens). */
  publicUrl?: () => string;
  /** Where e-mail and other messages go out (follow-ups from cases); none configured by default. */
  channels?: Channels;
  /** The clock of case work (tests move it). */
  now?: () => Date;
}

/** Largest request body: a batch of 10,000 records with long comments fits comfortably. */
export const BODY_LIMIT = 64 * 1024 * 1024;

const FASTIFY_OPTIONS = {
  bodyLimit: BODY_LIMIT,
  logController: new LogController({ disableRequestLogging: true }),
  // External ids are up to 200 characters, which URL-encoded can be several times longer.
  routerOptions: { ignoreTrailingSlash: true, maxParamLength: 4096 },
  // Errors raised before routing (a malformed URL) get the same shape as every other error.
  frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
    reply
      .status(400)
      .send({ error: { code: 'bad_url', message: `The URL is not valid: ${error.message}`, details: [] } });
  },
};

/**
 * The HTTP application: API, OpenAPI document and docs page. Listening is left to the caller, so
 * tests drive it with `app.inject()` and `serve` binds it to a port.
 */
export const buildApp = async ({
  database,
  logger = false,
  publicUrl = () => 'http://localhost:3000',
  channels = new Channels(null),
  now,
}: AppOptions): Promise<App> => {
  const app = (logger
    ? Fastify({ loggerInstance: logger as FastifyBaseLogger, ...FASTIFY_OPTIONS })
    : Fastify({ logger: false, ...FASTIFY_OPTIONS })) as unknown as FastifyInstance;

  app.setValidatorCompiler(zodValidatorCompiler);
  // Responses are built by our own mappers; their schemas document the API, not re-check it.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerErrorHandling(app);
  registerJsonBody(app);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Touchpoint API',
        version: VERSION,
        description:
          'Customer experience management: ingest customers, interactions, feedback and business events; ' +
          'read customer profiles with their cross-channel timeline. All requests except /healthz and the ' +
          'documentation need `Authorization: Bearer <api key>` (programs) or a session cookie from ' +
          'POST /api/v1/auth/login (people, in the dashboard at /app/). Errors have the shape ' +
          '`{"error":{"code","message","details":[{"path","message"}]}}`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
      tags: [
        {
          name: 'ingest',
          description: 'Write records: one object or an array of up to 10,000, upserted by externalId.',
        },
        { name: 'records', description: 'Read customer profiles, timelines and single records.' },
        {
          name: 'analytics',
          description:
            'Metrics by any dimension with margins and significance, their CSV export, and the extreme encounters.',
        },
        {
          name: 'surveys',
          description:
            'Survey definitions (versioned, multilingual, with branching), triggers, invitations with their ' +
            'suppression reasons, contact-fatigue settings and opt-outs. Respondents answer at /s/{token}.',
        },
        {
          name: 'closed loop',
          description:
            'Alert rules evaluated on every ingested record, the cases they open (owner, SLA, workflow, notes, ' +
            'root cause, playbook steps, follow-ups to the customer, history, recovery), playbooks with their ' +
            'effectiveness, signed webhooks with their delivery log, and the settings (teams, SLAs, taxonomy).',
        },
        {
          name: 'users',
          description:
            'People: sign in with e-mail and password (session cookie; requests that change something carry ' +
            'X-CSRF-Token), change the password; admins manage the workspace’s users and their roles.',
        },
        { name: 'admin', description: 'API keys of the workspace (admin keys only).' },
        { name: 'system', description: 'Health and documentation.' },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await app.register(fastifyCookie);
  registerDrain(app);
  registerAuth(app, database.db);
  await app.register(authRoutes, { db: database.db, publicUrl });
  await app.register(healthRoutes, { database });
  await app.register(recordRoutes, { db: database.db });
  await app.register(apiKeyRoutes, { db: database.db });
  await app.register(metricsRoutes, { db: database.db });
  await app.register(surveyRoutes, { db: database.db, publicUrl });
  await app.register(surveyPageRoutes, { db: database.db });
  await app.register(closedLoopRoutes, {
    db: database.db,
    channels,
    caseLink: (_workspaceId, caseId) => caseLink(publicUrl(), caseId),
    ...(now ? { now } : {}),
  });

  app.get('/api/v1/openapi.json', { schema: { hide: true }, config: { access: 'public' } }, async () =>
    app.swagger(),
  );
  await app.register(dashboardRoutes);
  await app.ready();
  return app;
};
