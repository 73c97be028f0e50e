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

// Every field rule is written once and compiled twice: a Zod schema (the error details and the
// OpenAPI document) and a plain predicate for the common, valid case, several times faster. A
// record the predicate refuses goes through Zod, which lists its problems. schemas.test.ts checks
// on random records that both accept the same records and give the same value.

/** One field rule: its Zod schema and the same rule as a predicate. */
interface Rule<S extends z.ZodType = z.ZodType> {
  readonly schema: S;
  readonly accepts: (value: unknown) => boolean;
  /** The value an absent field takes. */
  readonly fallback?: unknown;
}
const rule = <S extends z.ZodType>(schema: S, accepts: (value: unknown) => boolean): Rule<S> => ({
  schema,
  accepts,
});
const describe = <S extends z.ZodType>({ schema, accepts }: Rule<S>, description: string) =>
  rule(schema.describe(description), accepts);

/** Absent or null: the field is left out or cleared. */
const nullish = <S extends z.ZodType>({ schema, accepts }: Rule<S>) =>
  rule(schema.nullish(), (value) => value == null || accepts(value));

/** Absent: the field takes `fallback`. */
const withDefault = <S extends z.ZodType>({ schema, accepts }: Rule<S>, fallback: z.output<S>) => ({
  schema: schema.default(fallback as never),
  accepts: (value: unknown) => value === undefined || accepts(value),
  fallback,
});

// PostgreSQL cannot store the NUL character in text or JSON: refuse it with a clear message.
const NUL = String.fromCharCode(0);
const CONTROL = /\p{Cc}/u;
const string = (max: number, min = 0) =>
  rule(
    z
      .string()
      .min(min)
      .max(max)
      .refine((value) => !value.includes(NUL), { message: 'must not contain the NUL character (\\u0000)' })
      .refine((value) => value.isWellFormed(), {
        message: 'must be valid Unicode text (it holds a lone surrogate)',
      }),
    (value) =>
      typeof value === 'string' &&
      value.length >= min &&
      value.length <= max &&
      !value.includes(NUL) &&
      value.isWellFormed(),
  );
const text = (max: number) => string(max, 1);

/** An id of the source system: 1–200 characters, no control characters. */
const idText = text(200);
const externalId = describe(
  rule(
    idText.schema.refine((value) => !CONTROL.test(value), { message: 'must not contain control characters' }),
    (value) => idText.accepts(value) && !CONTROL.test(value as string),
  ),
  "The source system's id of the record; sending it again updates the record.",
);
export const externalIdSchema = externalId.schema;

const timestamp = rule(
  z
    .string()
    .refine((value) => timestampMs(value) !== null, {
      message: 'must be an ISO 8601 date or date-time, e.g. 2026-03-01T14:05:00Z',
    })
    .meta({ format: 'date-time', description: 'ISO 8601; without an offset it is read as UTC.' }),
  (value) => typeof value === 'string' && timestampMs(value) !== null,
);

const oneOf = <const V extends readonly [string, ...string[]]>(values: V) => {
  const known = new Set<unknown>(values);
  return rule(z.enum(values), (value) => known.has(value));
};
const inRange = (value: unknown, min: number, max: number) =>
  typeof value === 'number' && value >= min && value <= max;
const number = (min: number, max: number) =>
  rule(z.number().min(min).max(max), (value) => inRange(value, min, max));
const integer = (min: number, max: number) =>
  rule(z.int().min(min).max(max), (value) => Number.isSafeInteger(value) && inRange(value, min, max));
const anyNumber = rule(z.number(), (value) => typeof value === 'number' && Number.isFinite(value));
const boolean = rule(z.boolean(), (value) => typeof value === 'boolean');
const nothing = rule(z.null(), (value) => value === null);
const pattern = (regex: RegExp, message: string) =>
  rule(z.string().regex(regex, message), (value) => typeof value === 'string' && regex.test(value));
const list = (item: Rule, max: number) =>
  rule(
    z.array(item.schema).max(max),
    (value) => Array.isArray(value) && value.length <= max && value.every(item.accepts),
  );
const anyOf = (rules: Rule[], error: string) =>
  rule(
    z.union(
      rules.map((r) => r.schema),
      { error },
    ),
    (value) => rules.some((r) => r.accepts(value)),
  );
const emailSchema = z.email().max(320);
const email = rule(emailSchema, (value) => emailSchema.safeParse(value).success);

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

const keyed = (value: Rule, what: string) => {
  const key = text(100);
  return rule(
    z.record(key.schema, value.schema).refine((record) => Object.keys(record).length <= 200, {
      message: `at most 200 ${what}`,
    }),
    (input) => {
      if (!isPlainObject(input)) return false;
      const keys = Object.keys(input);
      return keys.length <= 200 && keys.every((k) => key.accepts(k) && value.accepts(input[k]));
    },
  );
};

const attributes = describe(
  keyed(
    anyOf([string(2000), anyNumber, boolean, nothing], 'must be a string, number, boolean or null'),
    'attributes',
  ),
  'Free-form facts from the source system (scalars). Metrics can group by any attribute.',
);

const answers = describe(
  keyed(
    anyOf(
      [string(20_000), anyNumber, boolean, nothing, list(string(2000), 100)],
      'must be a string, number, boolean, null or a list of strings',
    ),
    'answers',
  ),
  'Survey answers beyond NPS/CSAT/CES, by question key; e.g. {"wifi": 2, "comment": "…"}.',
);

const score = (name: string, min: number, max: number) => {
  const message = `${name} must be an integer from ${min} to ${max}`;
  return rule(
    z
      .int({
        error: (issue) =>
          issue.input === undefined ? 'is required' : `${message}, got ${JSON.stringify(issue.input)}`,
      })
      .min(min, { error: (issue) => `${message}, got ${JSON.stringify(issue.input)}` })
      .max(max, { error: (issue) => `${message}, got ${JSON.stringify(issue.input)}` }),
    integer(min, max).accepts,
  );
};

const seconds = number(0, 10_000_000);

type Shape = Record<string, Rule>;
type Schemas<S extends Shape> = { [K in keyof S]: S[K]['schema'] };

/**
 * A record type: a strict object of field rules, and `whole` for a rule about the record as a
 * whole. `parse` is the fast path: the record (absent fields with a default filled in, on a copy)
 * when every rule accepts it, else undefined — then the Zod schema tells what is wrong.
 */
const record = <S extends Shape>(
  shape: S,
  whole?: { accepts: (value: Record<string, unknown>) => boolean; message: string },
) => {
  const object = z.strictObject(
    Object.fromEntries(Object.entries(shape).map(([key, r]) => [key, r.schema])) as Schemas<S>,
  );
  const schema = whole
    ? object.superRefine((value, ctx) => {
        if (!whole.accepts(value)) ctx.addIssue({ code: 'custom', path: [], message: whole.message });
      })
    : object;
  const fields = Object.entries(shape);
  const defaults = fields.filter(([, r]) => 'fallback' in r);
  const known = new Set(Object.keys(shape));
  const parse = (input: unknown): z.output<typeof object> | undefined => {
    if (!isPlainObject(input)) return undefined;
    for (const key in input) if (!known.has(key)) return undefined;
    for (const [key, r] of fields) if (!r.accepts(input[key])) return undefined;
    let value = input;
    for (const [key, r] of defaults) {
      if (value[key] === undefined) {
        if (value === input) value = { ...input };
        value[key] = r.fallback;
      }
    }
    if (whole && !whole.accepts(value)) return undefined;
    return value as z.output<typeof object>;
  };
  return { schema, parse };
};

const customer = record({
  externalId,
  name: nullish(text(200)),
  email: nullish(email),
  phone: nullish(pattern(/^\+?[0-9 ().\-/]{3,40}$/, 'must be a phone number of digits, spaces, + ( ) - . /')),
  locale: nullish(
    pattern(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, 'must be a language tag such as en, en-GB or pt-BR'),
  ),
  segment: nullish(text(100)),
  lifecycleStage: nullish(oneOf(LIFECYCLE_STAGES)),
  personalityType: nullish(oneOf(PERSONALITY_TYPES)),
  value: nullish(describe(number(-1e12, 1e12), 'What the customer is worth, e.g. yearly revenue.')),
  attributes: nullish(attributes),
});
export const customerSchema = customer.schema.describe(
  'A customer. Fields you leave out keep their stored value; null clears a field. Attributes are merged by key (null removes a key).',
);

const customerRef = describe(externalId, "The customer's external id; an unknown customer is created.");

const interaction = record({
  externalId,
  customerId: customerRef,
  channel: oneOf(CHANNELS),
  touchpoint: nullish(text(100)),
  occurredAt: timestamp,
  agent: nullish(text(200)),
  team: nullish(text(200)),
  waitSeconds: nullish(seconds),
  handleSeconds: nullish(seconds),
  transfers: nullish(integer(0, 1000)),
  resolved: nullish(boolean),
  outcome: nullish(text(100)),
  attributes: nullish(attributes),
});
export const interactionSchema = interaction.schema.describe(
  'One contact with a customer. Sending the same externalId again replaces the interaction.',
);

/** Feedback must say something: a score, a non-blank text or at least one answer. */
export const feedbackHasContent = (feedback: Record<string, unknown>): boolean =>
  feedback.nps != null ||
  feedback.csat != null ||
  feedback.ces != null ||
  (typeof feedback.text === 'string' && feedback.text.trim() !== '') ||
  (feedback.answers != null && Object.keys(feedback.answers).length > 0);

const feedback = record(
  {
    externalId,
    customerId: nullish(customerRef),
    interactionId: nullish(
      describe(
        externalId,
        'The external id of the interaction this feedback is about. Customer, channel and touchpoint are taken from it when not given.',
      ),
    ),
    source: withDefault(oneOf(FEEDBACK_SOURCES), 'survey'),
    channel: nullish(oneOf(CHANNELS)),
    touchpoint: nullish(text(100)),
    occurredAt: timestamp,
    nps: nullish(score('NPS', 0, 10)),
    csat: nullish(score('CSAT', 1, 5)),
    ces: nullish(score('CES', 1, 7)),
    answers: nullish(answers),
    text: nullish(string(20_000)),
  },
  { accepts: feedbackHasContent, message: 'feedback must carry nps, csat, ces, text or answers' },
);
export const feedbackSchema = feedback.schema.describe(
  'The voice of the customer. Sending the same externalId again replaces the feedback.',
);

const event = record({
  externalId,
  customerId: customerRef,
  type: oneOf(EVENT_TYPES),
  occurredAt: timestamp,
  amount: nullish(number(-1e12, 1e12)),
  attributes: nullish(attributes),
});
export const eventSchema = event.schema.describe(
  'A business fact about a customer. Sending the same externalId again replaces the event.',
);

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

/** The fast path of each record type: the valid record, or undefined when Zod must tell what is wrong. */
export const recordParsers = {
  customers: customer.parse,
  interactions: interaction.parse,
  feedback: feedback.parse,
  events: event.parse,
} as const satisfies Record<RecordType, (input: unknown) => unknown>;
