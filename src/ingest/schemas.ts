import { z } from 'zod';
import {
  CHANNELS,
  EVENT_TYPES,
  FEEDBACK_SOURCES,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
  type RecordType,
} from '../domain/vocabulary.js';
import { timestampMs } from './timestamp-cache.js';
import '../validation.js';

/** Largest batch accepted in one request. */
export const MAX_BATCH = 10_000;

// PostgreSQL cannot store the NUL character in text or JSON: refuse it with a clear message.
const NUL = String.fromCharCode(0);
const CONTROL = /\p{Cc}/u;
const string = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !value.includes(NUL), { message: 'must not contain the NUL character (\\u0000)' })
    .refine((value) => value.isWellFormed(), {
      message: 'must be valid Unicode text (it holds a lone surrogate)',
    });
const text = (max: number) => string(max).min(1);

/** An id of the source system: 1–200 characters, no control characters. */
export const externalIdSchema = text(200)
  .refine((value) => !CONTROL.test(value), { message: 'must not contain control characters' })
  .describe("The source system's id of the record; sending it again updates the record.");
const externalId = externalIdSchema;

const timestamp = z
  .string()
  .refine((value) => timestampMs(value) !== null, {
    message: 'must be an ISO 8601 date or date-time, e.g. 2026-03-01T14:05:00Z',
  })
  .meta({ format: 'date-time', description: 'ISO 8601; without an offset it is read as UTC.' });

const scalar = z.union([string(2000), z.number(), z.boolean(), z.null()], {
  error: 'must be a string, number, boolean or null',
});

const keyed = <T extends z.ZodType>(value: T, what: string) =>
  z
    .record(text(100), value)
    .refine((record) => Object.keys(record).length <= 200, { message: `at most 200 ${what}` });

const attributes = keyed(scalar, 'attributes').describe(
  'Free-form facts from the source system (scalars). Metrics can group by any attribute.',
);

const answers = keyed(
  z.union([string(20_000), z.number(), z.boolean(), z.null(), z.array(string(2000)).max(100)], {
    error: 'must be a string, number, boolean, null or a list of strings',
  }),
  'answers',
).describe('Survey answers beyond NPS/CSAT/CES, by question key; e.g. {"wifi": 2, "comment": "…"}.');

const score = (name: string, min: number, max: number) => {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return z
    .int({
      error: (issue) =>
        issue.input === undefined ? 'is required' : `${message}, got ${JSON.stringify(issue.input)}`,
    })
    .min(min, { error: (issue) => `${message}, got ${JSON.stringify(issue.input)}` })
    .max(max, { error: (issue) => `${message}, got ${JSON.stringify(issue.input)}` });
};

const seconds = z.number().min(0).max(10_000_000);

export const customerSchema = z
  .strictObject({
    externalId,
    name: text(200).nullish(),
    email: z.email().max(320).nullish(),
    phone: z
      .string()
      .regex(/^\+?[0-9 ().\-/]{3,40}$/, 'must be a phone number of digits, spaces, + ( ) - . /')
      .nullish(),
    locale: z
      .string()
      .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en, en-GB or pt-BR')
      .nullish(),
    segment: text(100).nullish(),
    lifecycleStage: z.enum(LIFECYCLE_STAGES).nullish(),
    personalityType: z.enum(PERSONALITY_TYPES).nullish(),
    value: z
      .number()
      .min(-1e12)
      .max(1e12)
      .nullish()
      .describe('What the customer is worth, e.g. yearly revenue.'),
    attributes: attributes.nullish(),
  })
  .describe(
    'A customer. Fields you leave out keep their stored value; null clears a field. Attributes are merged by key (null removes a key).',
  );

export const interactionSchema = z
  .strictObject({
    externalId,
    customerId: externalId.describe("The customer's external id; an unknown customer is created."),
    channel: z.enum(CHANNELS),
    touchpoint: text(100).nullish(),
    occurredAt: timestamp,
    agent: text(200).nullish(),
    team: text(200).nullish(),
    waitSeconds: seconds.nullish(),
    handleSeconds: seconds.nullish(),
    transfers: z.int().min(0).max(1000).nullish(),
    resolved: z.boolean().nullish(),
    outcome: text(100).nullish(),
    attributes: attributes.nullish(),
  })
  .describe('One contact with a customer. Sending the same externalId again replaces the interaction.');

export const feedbackSchema = z
  .strictObject({
    externalId,
    customerId: externalId.nullish().describe("The customer's external id; an unknown customer is created."),
    interactionId: externalId
      .nullish()
      .describe(
        'The external id of the interaction this feedback is about. Customer, channel and touchpoint are taken from it when not given.',
      ),
    source: z.enum(FEEDBACK_SOURCES).default('survey'),
    channel: z.enum(CHANNELS).nullish(),
    touchpoint: text(100).nullish(),
    occurredAt: timestamp,
    nps: score('NPS', 0, 10).nullish(),
    csat: score('CSAT', 1, 5).nullish(),
    ces: score('CES', 1, 7).nullish(),
    answers: answers.nullish(),
    text: string(20_000).nullish(),
  })
  .superRefine((feedback, ctx) => {
    const hasContent =
      feedback.nps != null ||
      feedback.csat != null ||
      feedback.ces != null ||
      (feedback.text != null && feedback.text.trim() !== '') ||
      (feedback.answers != null && Object.keys(feedback.answers).length > 0);
    if (!hasContent) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'feedback must carry nps, csat, ces, text or answers',
      });
    }
  })
  .describe('The voice of the customer. Sending the same externalId again replaces the feedback.');

export const eventSchema = z
  .strictObject({
    externalId,
    customerId: externalId.describe("The customer's external id; an unknown customer is created."),
    type: z.enum(EVENT_TYPES),
    occurredAt: timestamp,
    amount: z.number().min(-1e12).max(1e12).nullish(),
    attributes: attributes.nullish(),
  })
  .describe('A business fact about a customer. Sending the same externalId again replaces the event.');

export type CustomerInput = z.infer<typeof customerSchema>;
export type InteractionInput = z.infer<typeof interactionSchema>;
export type FeedbackInput = z.infer<typeof feedbackSchema>;
export type EventInput = z.infer<typeof eventSchema>;

export interface RecordInputs {
  customers: CustomerInput;
  interactions: InteractionInput;
  feedback: FeedbackInput;
  events: EventInput;
}

export const recordSchemas = {
  customers: customerSchema,
  interactions: interactionSchema,
  feedback: feedbackSchema,
  events: eventSchema,
} as const satisfies Record<RecordType, z.ZodType>;
