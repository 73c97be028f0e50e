import { afterAll, beforeAll, expect, test } from 'vitest';
import { CONTRACT_FIELDS } from '../../test/helpers/contract.js';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { type App, buildApp } from './app.js';

/** A JSON Schema node as the OpenAPI document carries it. */
interface Schema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  format?: string;
  additionalProperties?: boolean | Schema;
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: Schema }> }>;
}

interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
  security?: Record<string, string[]>[];
}

// The public contract of PRODUCT.md.
const PUBLIC_OPERATIONS: [string, string][] = [
  ['post', '/api/v1/customers'],
  ['post', '/api/v1/interactions'],
  ['post', '/api/v1/feedback'],
  ['post', '/api/v1/events'],
  ['get', '/api/v1/customers/{externalId}'],
  ['get', '/api/v1/feedback/{externalId}'],
  ['get', '/api/v1/interactions/{externalId}'],
  ['get', '/api/v1/events/{externalId}'],
  ['get', '/api/v1/api-keys'],
  ['post', '/api/v1/api-keys'],
  ['delete', '/api/v1/api-keys/{id}'],
  ['get', '/api/v1/metrics'],
  ['get', '/api/v1/metrics/export.csv'],
  ['get', '/api/v1/extremes'],
  ['get', '/healthz'],
];

const CORE_FIELDS: Record<string, string[]> = Object.fromEntries(
  Object.entries(CONTRACT_FIELDS).map(([type, fields]) => [`/api/v1/${type}`, fields]),
);

const REQUIRED: Record<string, string[]> = {
  '/api/v1/customers': ['externalId'],
  '/api/v1/interactions': ['externalId', 'customerId', 'channel', 'occurredAt'],
  '/api/v1/feedback': ['externalId', 'occurredAt'],
  '/api/v1/events': ['externalId', 'customerId', 'type', 'occurredAt'],
};

/**
 * The non-null variant of a nullable field (`anyOf: [T, {type: "null"}]` or `type: [T, "null"]`),
 * or the field itself.
 */
const nonNull = (schema: Schema | undefined): Schema => {
  expect(schema).toBeDefined();
  const field = schema as Schema;
  if (Array.isArray(field.type)) {
    const types = field.type.filter((t) => t !== 'null');
    return { ...field, type: types.length === 1 ? types[0] : types };
  }
  const variants = field.anyOf?.filter((s) => s.type !== 'null');
  if (variants && variants.length === 1) return variants[0] as Schema;
  return field;
};

/** The single-record variant of an ingest body (one object or an array of them). */
const recordSchemaOf = (operation: Operation | undefined): Schema => {
  const body = operation?.requestBody?.content['application/json']?.schema;
  expect(body?.anyOf, 'body is one object or an array').toHaveLength(2);
  const object = body?.anyOf?.find((s) => s.type === 'object') as Schema;
  const array = body?.anyOf?.find((s) => s.type === 'array') as Schema;
  expect(object.properties).toBeDefined();
  expect(array).toMatchObject({ minItems: 1, maxItems: 10_000 });
  expect(array.items).toEqual(object);
  return object;
};

/** Checks a documented error response against the error shape of PRODUCT.md. */
const expectErrorSchema = (schema: Schema | undefined) => {
  const error = schema?.properties?.error;
  expect(schema?.required).toContain('error');
  expect(error?.required).toEqual(expect.arrayContaining(['code', 'message', 'details']));
  expect(error?.properties?.code?.type).toBe('string');
  expect(error?.properties?.message?.type).toBe('string');
  const details = error?.properties?.details;
  expect(details?.type).toBe('array');
  expect(details?.items?.required).toEqual(expect.arrayContaining(['path', 'message']));
  expect(details?.items?.properties?.path?.type).toBe('string');
  expect(details?.items?.properties?.message?.type).toBe('string');
};

describeEachDatabase('OpenAPI document and health', (database, kind) => {
  let app: App;
  let doc: Document;
  beforeAll(async () => {
    app = await buildApp({ database: database() });
    const res = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json() as Document;
  });
  afterAll(async () => {
    await app.close();
  });

  const op = (method: string, path: string): Operation => {
    const operation = doc.paths[path]?.[method];
    expect(operation, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
    return operation as Operation;
  };

  test('is OpenAPI 3.1 and documents every public path', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toMatch(/Touchpoint/);
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    for (const [method, path] of PUBLIC_OPERATIONS) op(method, path);
  });

  test('documents a bearer security scheme, required everywhere except /healthz', () => {
    const schemes = Object.entries(doc.components?.securitySchemes ?? {}).filter(
      ([, scheme]) => scheme.type === 'http' && scheme.scheme?.toLowerCase() === 'bearer',
    );
    expect(schemes).toHaveLength(1);
    const [name] = schemes[0] as [string, unknown];
    for (const [method, path] of PUBLIC_OPERATIONS) {
      const security = op(method, path).security ?? doc.security;
      if (path === '/healthz') expect(security).toEqual([]);
      else expect(security, `${method} ${path}`).toContainEqual({ [name]: [] });
    }
  });

  test('ingest bodies list the fields of PRODUCT.md, one object or an array of up to 10,000', () => {
    for (const [path, fields] of Object.entries(CORE_FIELDS)) {
      const record = recordSchemaOf(op('post', path));
      expect(Object.keys(record.properties ?? {}), path).toEqual(expect.arrayContaining(fields));
      expect(record.required, path).toEqual(expect.arrayContaining(REQUIRED[path] as string[]));
      // Unknown fields are refused, so the document says so.
      expect(record.additionalProperties, path).toBe(false);
      if (record.properties?.occurredAt) {
        expect(record.properties.occurredAt).toMatchObject({ type: 'string', format: 'date-time' });
      }
    }
  });

  test('feedback scores carry their ranges and sources their vocabulary', () => {
    const feedback = recordSchemaOf(op('post', '/api/v1/feedback')).properties ?? {};
    expect(nonNull(feedback.nps)).toMatchObject({ type: 'integer', minimum: 0, maximum: 10 });
    expect(nonNull(feedback.csat)).toMatchObject({ type: 'integer', minimum: 1, maximum: 5 });
    expect(nonNull(feedback.ces)).toMatchObject({ type: 'integer', minimum: 1, maximum: 7 });
    expect(nonNull(feedback.source).enum?.slice().sort()).toEqual(
      ['survey', 'review', 'social', 'complaint', 'email', 'chat', 'call'].sort(),
    );
    expect(nonNull(feedback.answers).type).toBe('object');
    expect(nonNull(feedback.text).type).toBe('string');
  });

  test('customers: the five life-cycle stages and the personality types', () => {
    const customer = recordSchemaOf(op('post', '/api/v1/customers')).properties ?? {};
    expect(nonNull(customer.lifecycleStage).enum?.slice().sort()).toEqual(
      ['new', 'current', 'advocate', 'ending', 'renewing'].sort(),
    );
    expect(nonNull(customer.personalityType).enum?.slice().sort()).toEqual(
      ['prompt', 'relationship', 'unknown'].sort(),
    );
    expect(nonNull(customer.attributes).type).toBe('object');
  });

  test('events: the business event types of PRODUCT.md; interactions: a channel vocabulary', () => {
    const event = recordSchemaOf(op('post', '/api/v1/events')).properties ?? {};
    expect(nonNull(event.type).enum).toEqual(
      expect.arrayContaining(['purchase', 'renewal', 'cancellation', 'plan_change', 'churn']),
    );
    const interaction = recordSchemaOf(op('post', '/api/v1/interactions')).properties ?? {};
    expect(nonNull(interaction.channel).enum).toEqual(
      expect.arrayContaining(['phone', 'email', 'chat', 'web']),
    );
    expect(nonNull(interaction.transfers).type).toBe('integer');
    expect(nonNull(interaction.resolved).type).toBe('boolean');
  });

  test('every documented 4xx response has the error shape', () => {
    let checked = 0;
    for (const [method, path] of PUBLIC_OPERATIONS) {
      for (const [status, response] of Object.entries(op(method, path).responses)) {
        if (!/^4\d\d$/.test(status)) continue;
        expectErrorSchema(response.content?.['application/json']?.schema);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  test('each route documents the errors it returns', () => {
    const statuses = (method: string, path: string) => Object.keys(op(method, path).responses);
    for (const [method, path] of PUBLIC_OPERATIONS) {
      if (path === '/healthz') continue;
      expect(statuses(method, path), `${method} ${path}`).toEqual(expect.arrayContaining(['401', '403']));
    }
    for (const path of Object.keys(CORE_FIELDS)) {
      expect(statuses('post', path), path).toEqual(expect.arrayContaining(['200', '400', '413', '415']));
    }
    for (const path of ['customers', 'feedback', 'interactions', 'events']) {
      expect(statuses('get', `/api/v1/${path}/{externalId}`), path).toEqual(
        expect.arrayContaining(['200', '404']),
      );
    }
    expect(statuses('get', '/api/v1/customers/{externalId}')).toContain('400');
    expect(statuses('post', '/api/v1/api-keys')).toEqual(expect.arrayContaining(['201', '400']));
    expect(statuses('delete', '/api/v1/api-keys/{id}')).toEqual(expect.arrayContaining(['200', '404']));
  });

  test('the single-record routes document the 400 they return for a bad externalId', async () => {
    const ws = await createTestWorkspace(database().db);
    for (const path of ['feedback', 'interactions', 'events']) {
      const params = op('get', `/api/v1/${path}/{externalId}`).parameters ?? [];
      const externalId = params.find((p) => p.name === 'externalId');
      expect(externalId).toMatchObject({ in: 'path', required: true, schema: { maxLength: 200 } });
      const res = await app.inject({
        method: 'GET',
        // A NUL character cannot be an external id.
        url: `/api/v1/${path}/F-1%00`,
        headers: { authorization: `Bearer ${ws.keys.read}` },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect(Object.keys(op('get', `/api/v1/${path}/{externalId}`).responses), path).toContain('400');
    }
  });

  test('the customer profile documents limit (1–200) and cursor', () => {
    const params = op('get', '/api/v1/customers/{externalId}').parameters ?? [];
    expect(params.find((p) => p.name === 'externalId')).toMatchObject({ in: 'path', required: true });
    expect(params.find((p) => p.name === 'limit')).toMatchObject({
      in: 'query',
      schema: { type: 'integer', minimum: 1, maximum: 200 },
    });
    expect(params.find((p) => p.name === 'cursor')).toMatchObject({
      in: 'query',
      schema: { type: 'string' },
    });
    const profile = op('get', '/api/v1/customers/{externalId}').responses['200']?.content?.[
      'application/json'
    ]?.schema as Schema;
    expect(Object.keys(profile.properties ?? {})).toEqual(
      expect.arrayContaining(['customer', 'summary', 'lifecycleHistory', 'timeline']),
    );
    expect(Object.keys(profile.properties?.timeline?.properties ?? {})).toEqual(
      expect.arrayContaining(['items', 'nextCursor']),
    );
  });

  test('the feedback response documents the five experience ratings', () => {
    const feedback = op('get', '/api/v1/feedback/{externalId}').responses['200']?.content?.[
      'application/json'
    ]?.schema as Schema;
    expect(nonNull(feedback.properties?.experienceRating).enum).toEqual([
      'disastrous',
      'poor',
      'neutral',
      'good',
      'fabulous',
    ]);
  });

  test('creating an API key documents the three roles', () => {
    const body = op('post', '/api/v1/api-keys').requestBody?.content['application/json']?.schema as Schema;
    expect(body.required).toContain('role');
    expect(body.properties?.role?.enum?.slice().sort()).toEqual(['admin', 'read', 'write']);
  });

  test(`/healthz returns {status: "ok", database: "${kind === 'pglite' ? 'embedded' : 'server'}"}`, async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      database: kind === 'pglite' ? 'embedded' : 'server',
      version: doc.info.version,
    });
    expect(op('get', '/healthz').responses['200']).toBeDefined();
  });
});
