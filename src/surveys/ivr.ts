import { sql } from 'kysely';
import type { Db } from '../db/index.js';
import { AppError, type ErrorDetail } from '../errors.js';
import { encodeRecords, writeInOneStatement } from '../ingest/upsert.js';
import { nextQuestion, pickLanguage } from './definition.js';
import { feedbackFromAnswers, type StoredAnswers } from './responses.js';
import { requireSurvey, surveyVersion } from './surveys.js';
import type { SurveyDefinition } from './types.js';

/**
 * The keys pressed for each question, in the order the questions were asked: a rating is its
 * score ("9", "10"), a single choice the option's number (1 = first), an empty entry or "#"
 * a skip. A string is split at "#" (each answer ends with #), e.g. "3#2#".
 */
export type Digits = string | string[];

const splitDigits = (digits: Digits): string[] =>
  Array.isArray(digits) ? digits : digits.split('#').slice(0, digits.endsWith('#') ? -1 : undefined);

/**
 * Answers from DTMF keys, following the survey's branching: each entry answers the next question
 * on the caller's path. Text and multiple-choice questions cannot be answered by keys and are
 * skipped when optional; a required one ends the call's answers there.
 */
export const answersFromDigits = (
  definition: SurveyDefinition,
  digits: Digits,
): { answers: StoredAnswers; complete: boolean } => {
  const entries = splitDigits(digits);
  const problems: ErrorDetail[] = [];
  const answers: StoredAnswers = {};
  let current: string | 'end' = definition.questions[0]?.id ?? 'end';
  let index = 0;
  while (current !== 'end') {
    const question = definition.questions.find((q) => q.id === current);
    if (!question) break;
    const required = question.required ?? question.type !== 'text';
    if (question.type === 'text' || question.type === 'multiple') {
      if (required) break;
      answers[question.id] = null;
      current = nextQuestion(definition, question.id, undefined);
      continue;
    }
    if (index >= entries.length) break;
    const raw = (entries[index] as string).trim();
    const entry = raw === '#' ? '' : raw;
    const path = `digits[${index}]`;
    index++;
    if (entry === '') {
      if (required) {
        problems.push({ path, message: `question "${question.id}" needs an answer` });
        break;
      }
      answers[question.id] = null;
      current = nextQuestion(definition, question.id, undefined);
      continue;
    }
    if (!/^\d{1,3}$/.test(entry)) {
      problems.push({ path, message: `must be keys 0–9, got "${entry.slice(0, 20)}"` });
      break;
    }
    const value = Number(entry);
    if (question.type === 'rating') {
      if (value < question.min || value > question.max) {
        problems.push({
          path,
          message: `question "${question.id}" takes ${question.min}–${question.max}, got ${value}`,
        });
        break;
      }
      answers[question.id] = value;
    } else {
      const option = question.options[value - 1];
      if (!option) {
        problems.push({
          path,
          message: `question "${question.id}" has options 1–${question.options.length}, got ${value}`,
        });
        break;
      }
      answers[question.id] = option.value;
    }
    current = nextQuestion(definition, question.id, answers[question.id] ?? undefined);
  }
  if (index < entries.length && problems.length === 0) {
    problems.push({ path: `digits[${index}]`, message: 'more answers than the survey asks on this path' });
  }
  if (problems.length > 0) {
    throw new AppError(
      400,
      'invalid_digits',
      `The keys do not answer the survey: ${problems[0]?.message}`,
      problems,
    );
  }
  return { answers, complete: current === 'end' };
};

export interface IvrResult {
  invitationId: string;
  feedbackId: string | null;
  answers: StoredAnswers;
  complete: boolean;
}

/**
 * A post-call IVR survey: the keys the caller pressed, for the interaction the call was. The
 * answers become the feedback record of the interaction (customer, channel and touchpoint from
 * it); sending the keys of the same call again replaces them.
 */
export const recordIvrAnswers = async (
  db: Db,
  workspaceId: number,
  surveyId: number,
  interactionExternalId: string,
  digits: Digits,
  now = new Date(),
): Promise<IvrResult> =>
  db.transaction().execute(async (trx) => {
    const survey = await requireSurvey(trx, workspaceId, surveyId, { active: true });
    const interaction = await trx
      .selectFrom('interaction as x')
      .innerJoin('customer as c', 'c.id', 'x.customer_id')
      .select(['x.id', 'x.channel', 'x.touchpoint', 'x.customer_id', 'c.external_id as customer', 'c.locale'])
      .where('x.workspace_id', '=', workspaceId)
      .where('x.external_id', '=', interactionExternalId)
      .executeTakeFirst();
    if (!interaction) {
      throw new AppError(404, 'not_found', `No interaction with externalId "${interactionExternalId}"`);
    }
    const definition = await surveyVersion(trx, surveyId, survey.version, db);
    const { answers, complete } = answersFromDigits(definition, digits);
    // One IVR invitation per call and survey, found again when the keys are sent again.
    const subject = `ivr:${interaction.id}`;
    const fields = {
      survey_version: survey.version,
      answers: sql<Record<string, unknown>>`${JSON.stringify(answers)}::jsonb`,
      completed_at: complete ? now : null,
      updated_at: now,
    };
    // The unique (survey, subject) index makes concurrent retries of the same call one invitation.
    const invitation = await trx
      .insertInto('invitation')
      .values({
        workspace_id: workspaceId,
        survey_id: surveyId,
        subject_key: subject,
        customer_id: interaction.customer_id,
        interaction_id: interaction.id,
        channel: 'ivr',
        touchpoint: interaction.touchpoint,
        contact_channel: interaction.channel,
        status: 'sent',
        sent_at: now,
        opened_at: now,
        started_at: now,
        language: pickLanguage(definition.languages, interaction.locale),
        ...fields,
      })
      .onConflict((conflict) =>
        conflict
          .columns(['survey_id', 'subject_key'])
          .where('trigger_id', 'is', null)
          .where('subject_key', 'is not', null)
          .doUpdateSet(fields),
      )
      .returning(['public_id', 'started_at'])
      .executeTakeFirstOrThrow();
    const record = feedbackFromAnswers(definition, answers, {
      publicId: invitation.public_id,
      customerId: interaction.customer,
      interactionId: interactionExternalId,
      channel: 'ivr',
      contactChannel: interaction.channel,
      touchpoint: interaction.touchpoint,
      occurredAt: invitation.started_at ?? now,
    });
    const feedbackId = `survey-${invitation.public_id}`;
    if (!record) {
      // Keys that answer nothing replace earlier answers with none.
      await trx
        .deleteFrom('feedback')
        .where('workspace_id', '=', workspaceId)
        .where('external_id', '=', feedbackId)
        .execute();
    } else {
      const written = await writeInOneStatement(
        trx,
        workspaceId,
        'feedback',
        encodeRecords('feedback', [record]).rows,
      );
      if (!written) throw new AppError(503, 'busy', 'The answers could not be saved; send them again');
    }
    return { invitationId: invitation.public_id, feedbackId: record?.externalId ?? null, answers, complete };
  });
