import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import type { Channel } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import type { FeedbackInput } from '../ingest/schemas.js';
import { encodeRecords, writeInOneStatement } from '../ingest/upsert.js';
import { validateBatch } from '../ingest/validate.js';
import { pickLanguage, questionPath } from './definition.js';
import { surveyVersion } from './surveys.js';
import { linkSecret, verifyToken } from './tokens.js';
import type { Answer, Answers, Question, SurveyDefinition } from './types.js';

/** Stored answers: a skipped optional question is kept as null, so it is not asked again. */
export type StoredAnswers = Record<string, Answer | null>;

/** An invitation opened through its link. */
export interface OpenInvitation {
  id: number;
  workspaceId: number;
  publicId: string;
  surveyId: number;
  surveyVersion: number;
  definition: SurveyDefinition;
  language: string;
  channel: string;
  answers: StoredAnswers;
  expiresAt: Date | null;
  openedAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  /** External ids of the customer and of the interaction the survey is about. */
  customerId: string | null;
  interactionId: string | null;
  /** The contact asked about: its touchpoint and channel. */
  touchpoint: string | null;
  contactChannel: string | null;
}

/** Why a link does not open a survey; the page says so in the respondent's language. */
export type LinkProblem = 'invalid' | 'expired' | 'completed';

export class SurveyLinkError extends AppError {
  constructor(
    readonly problem: LinkProblem,
    readonly language: string,
  ) {
    super(
      problem === 'invalid' ? 404 : 410,
      `survey_link_${problem}`,
      problem === 'invalid'
        ? 'This survey link is not valid'
        : problem === 'expired'
          ? 'This survey link has expired'
          : 'This survey has already been completed',
    );
  }
}

/**
 * The invitation a link names, checked: the token's MAC, that it was sent, not expired and not
 * completed. `forUpdate` locks it for an answer.
 */
export const openInvitation = async (
  db: Db,
  token: string,
  now: Date,
  {
    forUpdate = false,
    allowCompleted = false,
    root = db,
  }: {
    forUpdate?: boolean;
    allowCompleted?: boolean;
    /** When `db` is a transaction: the database it runs on, which caches the link key and survey versions. */
    root?: Db;
  } = {},
): Promise<OpenInvitation> => {
  // Created on first use, so a caller in a transaction loads it on `root` before it begins.
  const secret = await linkSecret(root);
  const publicId = verifyToken(secret, token);
  if (!publicId) throw new SurveyLinkError('invalid', 'en');
  let query = db
    .selectFrom('invitation as i')
    .leftJoin('customer as c', 'c.id', 'i.customer_id')
    .leftJoin('interaction as x', 'x.id', 'i.interaction_id')
    .select([
      'i.id',
      'i.workspace_id',
      'i.survey_id',
      'i.survey_version',
      'i.channel',
      'i.language',
      'i.answers',
      'i.expires_at',
      'i.started_at',
      'i.completed_at',
      'i.opened_at',
      'i.status',
      'i.touchpoint',
      'i.contact_channel',
      'c.locale',
      'c.external_id as customer_external_id',
      'x.external_id as interaction_external_id',
    ])
    .where('i.public_id', '=', publicId);
  if (forUpdate) query = query.forUpdate('i');
  const row = await query.executeTakeFirst();
  if (!row || row.survey_version === null || !['sending', 'sent'].includes(row.status)) {
    throw new SurveyLinkError('invalid', 'en');
  }
  const definition = await surveyVersion(db, row.survey_id, row.survey_version, root);
  const language = row.language ?? pickLanguage(definition.languages, row.locale);
  if (row.completed_at && !allowCompleted) throw new SurveyLinkError('completed', language);
  if (row.expires_at && row.expires_at <= now) throw new SurveyLinkError('expired', language);
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    publicId,
    surveyId: row.survey_id,
    surveyVersion: row.survey_version,
    definition,
    language,
    channel: row.channel,
    answers: row.answers as StoredAnswers,
    expiresAt: row.expires_at,
    openedAt: row.opened_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    customerId: row.customer_external_id,
    interactionId: row.interaction_external_id,
    touchpoint: row.touchpoint,
    contactChannel: row.contact_channel,
  };
};

const given = (answers: StoredAnswers): Answers =>
  Object.fromEntries(Object.entries(answers).filter(([, value]) => value !== null)) as Answers;

/** Where the respondent stands: the questions on their path, and the first not yet answered. */
export const progressOf = (definition: SurveyDefinition, answers: StoredAnswers) => {
  const path = questionPath(definition, given(answers));
  const current = path.find((id) => !(id in answers)) ?? null;
  return { path, current, position: current === null ? path.length : path.indexOf(current) + 1 };
};

/** The raw form value(s) of one question. */
export type RawAnswer = string | string[] | undefined;

/**
 * Checks a submitted answer against its question: a rating in its scale, options the question
 * has, text within its length. Returns the answer, null for a skip, or an error message.
 */
export const parseAnswer = (
  question: Question,
  raw: RawAnswer,
  skip: boolean,
  messages: { required: string; invalid: string },
): { answer: Answer | null } | { error: string } => {
  // Browsers send line breaks as CRLF; an answer is stored, and its length counted, with LF.
  const values = (raw === undefined ? [] : Array.isArray(raw) ? raw : [raw])
    .map((v) => v.replace(/\r\n?/g, '\n').trim())
    .filter(Boolean);
  const required = question.required ?? question.type !== 'text';
  if (skip || values.length === 0) {
    return required ? { error: messages.required } : { answer: null };
  }
  switch (question.type) {
    case 'rating': {
      const score = Number(values[0]);
      if (values.length !== 1 || !Number.isInteger(score) || score < question.min || score > question.max) {
        return { error: messages.invalid };
      }
      return { answer: score };
    }
    case 'single': {
      const known = question.options.some((option) => option.value === values[0]);
      return values.length === 1 && known ? { answer: values[0] as string } : { error: messages.invalid };
    }
    case 'multiple': {
      const chosen = [...new Set(values)];
      const known = new Set(question.options.map((option) => option.value));
      return chosen.every((value) => known.has(value)) ? { answer: chosen } : { error: messages.invalid };
    }
    case 'text': {
      const text = values.join('\n');
      return text.length > (question.maxLength ?? 5000) ? { error: messages.invalid } : { answer: text };
    }
  }
};

/** The channel a feedback record names when the invitation was about no particular contact. */
const FEEDBACK_CHANNEL: Record<string, Channel> = {
  email: 'email',
  sms: 'sms',
  voice: 'phone',
  webhook: 'other',
  link: 'web',
  widget: 'web',
  ivr: 'ivr',
};

/**
 * The feedback record an invitation's answers make: metric questions fill nps, csat and ces; text
 * answers are joined into `text`; every other answer goes to `answers` under its question id.
 * Null when nothing was answered yet.
 */
export const feedbackFromAnswers = (
  definition: SurveyDefinition,
  answers: StoredAnswers,
  context: {
    publicId: string;
    customerId: string | null;
    interactionId: string | null;
    channel: string;
    contactChannel: string | null;
    touchpoint: string | null;
    occurredAt: Date;
  },
): FeedbackInput | null => {
  const record: Record<string, unknown> = {
    externalId: `survey-${context.publicId}`,
    source: 'survey',
    occurredAt: context.occurredAt.toISOString(),
  };
  const extra: Record<string, Answer> = {};
  const texts: string[] = [];
  const path = new Set(questionPath(definition, given(answers)));
  for (const question of definition.questions) {
    const answer = answers[question.id];
    if (answer === undefined || answer === null || !path.has(question.id)) continue;
    if (question.type === 'rating' && question.metric) record[question.metric] = answer;
    else extra[question.id] = answer;
    if (question.type === 'text') texts.push(answer as string);
  }
  if (Object.keys(extra).length === 0 && !['nps', 'csat', 'ces'].some((metric) => metric in record))
    return null;
  if (Object.keys(extra).length > 0) record.answers = extra;
  if (texts.length > 0) record.text = texts.join('\n\n');
  if (context.customerId) record.customerId = context.customerId;
  if (context.interactionId) record.interactionId = context.interactionId;
  record.channel = context.contactChannel ?? FEEDBACK_CHANNEL[context.channel] ?? 'other';
  if (context.touchpoint) record.touchpoint = context.touchpoint;
  return validateBatch('feedback', [record])[0] as FeedbackInput;
};

export type AnswerOutcome =
  | { kind: 'question'; questionId: string; position: number; total: number }
  | { kind: 'end' };

/**
 * Stores one answer (or skip) of an opened invitation and, in the same transaction, the feedback
 * record the answers so far make, so a single e-mail click already lands on the customer's
 * profile. Answers to questions no longer on the respondent's path are dropped. A question that is
 * neither answered nor the current one is ignored (a stale form); the current state is returned.
 */
export const recordAnswer = async (
  db: Db,
  token: string,
  questionId: string,
  answer: Answer | null,
  now: Date,
): Promise<AnswerOutcome> => {
  await linkSecret(db); // loaded outside the transaction; openInvitation takes it from the cache
  return db.transaction().execute(async (trx) => {
    const invitation = await openInvitation(trx, token, now, { forUpdate: true, root: db });
    const { definition } = invitation;
    const before = progressOf(definition, invitation.answers);
    const reachable =
      before.current === questionId || (questionId in invitation.answers && before.path.includes(questionId));
    let answers = invitation.answers;
    if (reachable) {
      const next: StoredAnswers = { ...answers, [questionId]: answer };
      const path = new Set(questionPath(definition, given(next)));
      answers = Object.fromEntries(Object.entries(next).filter(([id]) => path.has(id)));
    }
    const after = progressOf(definition, answers);
    const done = after.current === null;
    if (reachable) {
      const startedAt = invitation.startedAt ?? now;
      await trx
        .updateTable('invitation')
        .set({
          answers: sql`${JSON.stringify(answers)}::jsonb`,
          opened_at: sql`coalesce(opened_at, ${now})`,
          started_at: startedAt,
          completed_at: done ? now : null,
          updated_at: now,
        })
        .where('id', '=', invitation.id)
        .execute();
      const record = feedbackFromAnswers(definition, answers, {
        publicId: invitation.publicId,
        customerId: invitation.customerId,
        interactionId: invitation.interactionId,
        channel: invitation.channel,
        contactChannel: invitation.contactChannel,
        touchpoint: invitation.touchpoint,
        occurredAt: startedAt,
      });
      if (record) {
        const written = await writeInOneStatement(
          trx,
          invitation.workspaceId,
          'feedback',
          encodeRecords('feedback', [record]).rows,
        );
        if (!written)
          throw new AppError(503, 'busy', 'The answer could not be saved; please submit it again');
      }
    }
    if (done) return { kind: 'end' } as const;
    return {
      kind: 'question',
      questionId: after.current as string,
      position: after.position,
      total: after.path.length,
    } as const;
  });
};

/** Marks an invitation opened (its page was viewed or its e-mail's image loaded). */
export const markOpened = async (db: Db, invitationId: number, now: Date): Promise<void> => {
  await db
    .updateTable('invitation')
    .set({ opened_at: now })
    .where('id', '=', invitationId)
    .where('opened_at', 'is', null)
    .execute();
};

/** Records that the invitation's customer wants no more invitations on its channel. */
export const optOut = async (db: Db, invitationId: number): Promise<{ channel: string } | null> => {
  const row = await db
    .selectFrom('invitation')
    .select(['workspace_id', 'customer_id', 'channel'])
    .where('id', '=', invitationId)
    .executeTakeFirst();
  if (!row || row.customer_id === null) return null;
  await db
    .insertInto('contact_opt_out')
    .values({
      customer_id: row.customer_id,
      channel: row.channel,
      workspace_id: row.workspace_id,
      source: 'link',
    })
    .onConflict((conflict) => conflict.columns(['customer_id', 'channel']).doNothing())
    .execute();
  return { channel: row.channel };
};
