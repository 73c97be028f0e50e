import type { Db } from '../db/index.js';
import { AppError } from '../errors.js';
import { parseSurveyDefinition, pickLanguage } from './definition.js';
import { surveyFromTemplate } from './templates.js';
import type { SurveyDefinition } from './types.js';

export const SURVEY_STATUSES = ['active', 'paused', 'archived'] as const;
export type SurveyStatus = (typeof SURVEY_STATUSES)[number];

export interface SurveySummary {
  id: number;
  name: string;
  status: SurveyStatus;
  version: number;
  template: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SurveyDetail extends SurveySummary {
  /** The current definition, as JSON. */
  definition: Record<string, unknown>;
  versions: { version: number; createdAt: string }[];
}

/** What creates a survey: a definition, or a template with optional name and languages. */
export type SurveySource =
  | { definition: unknown }
  | { template: string; name?: string | undefined; languages?: string[] | undefined };

const summaryOf = (row: {
  id: number;
  name: string;
  status: string;
  version: number;
  template: string | null;
  created_at: Date;
  updated_at: Date;
}): SurveySummary => ({
  id: row.id,
  name: row.name,
  status: row.status as SurveyStatus,
  version: row.version,
  template: row.template,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** JSON with object keys sorted: jsonb keeps its own key order, so compare this way. */
const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

const asJson = (definition: SurveyDefinition) => definition as unknown as Record<string, unknown>;

const notFound = (id: number) => new AppError(404, 'not_found', `No survey with id ${id} in this workspace`);

/** Creates a survey (version 1) from a definition or a template. */
export const createSurvey = async (
  db: Db,
  workspaceId: number,
  source: SurveySource,
): Promise<SurveyDetail> => {
  const definition =
    'template' in source
      ? surveyFromTemplate(source.template, { name: source.name, languages: source.languages })
      : parseSurveyDefinition(source.definition);
  const id = await db.transaction().execute(async (trx) => {
    const survey = await trx
      .insertInto('survey')
      .values({
        workspace_id: workspaceId,
        name: definition.name,
        template: 'template' in source ? source.template : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('survey_version')
      .values({ survey_id: survey.id, version: 1, workspace_id: workspaceId, definition: { ...definition } })
      .execute();
    return survey.id;
  });
  return getSurvey(db, workspaceId, id);
};

export const listSurveys = async (db: Db, workspaceId: number): Promise<SurveySummary[]> => {
  const rows = await db
    .selectFrom('survey')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .orderBy('id')
    .execute();
  return rows.map(summaryOf);
};

const surveyRow = async (db: Db, workspaceId: number, id: number) => {
  const row = await db
    .selectFrom('survey')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound(id);
  return row;
};

const versionCache = new WeakMap<Db, Map<string, Promise<SurveyDefinition>>>();

/**
 * A survey version's definition; versions never change, so they are cached. Inside a transaction,
 * pass the database it runs on as `cacheOn`, so that the cache outlives the transaction.
 */
export const surveyVersion = (
  db: Db,
  surveyId: number,
  version: number,
  cacheOn: Db = db,
): Promise<SurveyDefinition> => {
  let cache = versionCache.get(cacheOn);
  if (!cache) {
    cache = new Map();
    versionCache.set(cacheOn, cache);
  }
  const key = `${surveyId}/${version}`;
  let found = cache.get(key);
  if (!found) {
    found = db
      .selectFrom('survey_version')
      .select('definition')
      .where('survey_id', '=', surveyId)
      .where('version', '=', version)
      .executeTakeFirstOrThrow()
      .then((row) => row.definition as unknown as SurveyDefinition);
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
};

export const getSurvey = async (db: Db, workspaceId: number, id: number): Promise<SurveyDetail> => {
  const row = await surveyRow(db, workspaceId, id);
  const versions = await db
    .selectFrom('survey_version')
    .select(['version', 'created_at'])
    .where('survey_id', '=', id)
    .orderBy('version')
    .execute();
  return {
    ...summaryOf(row),
    definition: asJson(await surveyVersion(db, id, row.version)),
    versions: versions.map((v) => ({ version: v.version, createdAt: v.created_at.toISOString() })),
  };
};

/** One version of a survey, as it was written. */
export const getSurveyVersion = async (
  db: Db,
  workspaceId: number,
  id: number,
  version: number,
): Promise<{ version: number; definition: Record<string, unknown> }> => {
  const row = await surveyRow(db, workspaceId, id);
  if (version < 1 || version > row.version) {
    throw new AppError(404, 'not_found', `Survey ${id} has versions 1 to ${row.version}, not ${version}`);
  }
  return { version, definition: asJson(await surveyVersion(db, id, version)) };
};

/**
 * Replaces a survey's definition. A changed definition becomes a new version; invitations already
 * sent keep theirs, so past answers keep their meaning. An identical one changes nothing.
 */
export const updateSurvey = async (
  db: Db,
  workspaceId: number,
  id: number,
  input: unknown,
): Promise<SurveyDetail> => {
  const definition = parseSurveyDefinition(input);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('survey')
      .select(['version'])
      .where('workspace_id', '=', workspaceId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!row) throw notFound(id);
    const current = await trx
      .selectFrom('survey_version')
      .select('definition')
      .where('survey_id', '=', id)
      .where('version', '=', row.version)
      .executeTakeFirstOrThrow();
    if (canonicalJson(current.definition) === canonicalJson(definition)) return;
    const version = row.version + 1;
    await trx
      .insertInto('survey_version')
      .values({ survey_id: id, version, workspace_id: workspaceId, definition: { ...definition } })
      .execute();
    await trx
      .updateTable('survey')
      .set({ version, name: definition.name, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  });
  return getSurvey(db, workspaceId, id);
};

/** Pauses, resumes or archives a survey: only active surveys send invitations. */
export const setSurveyStatus = async (
  db: Db,
  workspaceId: number,
  id: number,
  status: SurveyStatus,
): Promise<SurveyDetail> => {
  const result = await db
    .updateTable('survey')
    .set({ status, updated_at: new Date() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) throw notFound(id);
  return getSurvey(db, workspaceId, id);
};

/**
 * A survey of the workspace (its id, current version and status), or a 404; with `active`, a 409
 * unless it is active.
 */
export const requireSurvey = async (
  db: Db,
  workspaceId: number,
  surveyId: number,
  { active = false } = {},
): Promise<{ id: number; version: number; status: string }> => {
  const survey = await db
    .selectFrom('survey')
    .select(['id', 'version', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', surveyId)
    .executeTakeFirst();
  if (!survey) throw notFound(surveyId);
  if (active && survey.status !== 'active') {
    throw new AppError(409, 'survey_inactive', `Survey ${surveyId} is ${survey.status}; activate it first`);
  }
  return survey;
};

/** When a link sent at `sentAt` stops working. */
export const linkExpiry = (definition: SurveyDefinition, sentAt: Date): Date =>
  new Date(sentAt.getTime() + definition.expiresAfterDays * 86_400_000);

/**
 * The columns of an invitation issued at once rather than sent (a link handed over, a visit to an
 * open link, the widget): sent now with the survey's current version, in the language closest to
 * `locale`, expiring after the survey's `expiresAfterDays`.
 */
export const issuedNow = async (
  db: Db,
  survey: { id: number; version: number },
  locale: string | null,
  now: Date,
) => {
  const definition = await surveyVersion(db, survey.id, survey.version);
  return {
    status: 'sent',
    sent_at: now,
    due_at: now,
    survey_version: survey.version,
    language: pickLanguage(definition.languages, locale),
    expires_at: linkExpiry(definition, now),
  };
};
