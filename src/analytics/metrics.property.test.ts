import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { describeEachDatabase, postgresUrl } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { type Database, type Db, openDatabase } from '../db/index.js';
import { foldRollups } from '../db/maintenance.js';
import {
  EXPERIENCE_RATINGS,
  experienceRatingLevel,
  experienceRatingName,
} from '../domain/experience-rating.js';
import {
  CONTACT_MEASURES,
  type ContactCell,
  type ContactFacts,
  type ContactMeasure,
  contactCellOf,
  contactDifferenceP,
  contactMeasure,
  contactRest,
  emptyContactCell,
  emptyFeedbackCell,
  FEEDBACK_MEASURES,
  type FeedbackCell,
  type FeedbackMeasure,
  feedbackCellOf,
  feedbackDifferenceP,
  feedbackMeasure,
  feedbackRest,
  isFeedbackMeasure,
  MEASURES,
  type Measure,
  type MeasureValue,
} from '../domain/metrics.js';
import { benjaminiHochberg } from '../domain/statistics.js';
import { LIFECYCLE_STAGES, PERSONALITY_TYPES } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { upsertRecords } from '../ingest/upsert.js';
import { validateBatch } from '../ingest/validate.js';
import { computeMetrics, type MetricsResult } from './metrics.js';
import { type MetricsQueryString, metricsQuerySchema, parseMetricsRequest } from './params.js';

/**
 * The SQL metrics engine against the definitions: random customers, interactions and feedback are
 * ingested as the API does, and every cell of random requests must equal what the pure functions of
 * src/domain/metrics.ts give on the records grouped in JavaScript.
 */

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** 60 days from here cross month and quarter ends, and the US (8 Mar) and EU (29 Mar) clock changes. */
const START = Date.UTC(2026, 1, 20);
const SPAN_DAYS = 60;

/** The contract, written out rather than imported from the engine. */
const SIGNIFICANCE = 0.05;

const SEGMENTS = ['SMB', 'Enterprise', 'Public'] as const;
const PLANS = ['basic', 'pro', 7] as const;
const CHANNELS = ['phone', 'chat', 'email'] as const;
const TOUCHPOINTS = ['billing', 'support', 'onboarding'] as const;
const TEAMS = ['red', 'blue'] as const;
const AGENTS = ['ann', 'bob', 'cyd'] as const;
const SOURCES = ['survey', 'review', 'chat'] as const;
const ANSWERS = ['yes', 'no', 2, true, null] as const;
const TRANSFER_BANDS = ['0', '1', '2', '3+'] as const;
const TIME_UNITS = ['day', 'week', 'month', 'quarter'] as const;
type TimeUnit = (typeof TIME_UNITS)[number];
type Scalar = string | number | boolean | null;

// ---------------------------------------------------------------------------------------------
// The definitions of the dimensions, in JavaScript

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The UTC bucket of an instant, named by its first day; weeks start on Monday (ISO). */
const bucket = (unit: TimeUnit, ms: number): string => {
  const d = new Date(ms);
  const [y, m, day] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()];
  switch (unit) {
    case 'day':
      return isoDay(Date.UTC(y, m, day));
    case 'week':
      return isoDay(Date.UTC(y, m, day) - ((d.getUTCDay() + 6) % 7) * DAY);
    case 'month':
      return isoDay(Date.UTC(y, m, 1));
    case 'quarter':
      return isoDay(Date.UTC(y, m - (m % 3), 1));
  }
};

const band = (transfers: number | null | undefined): string | null =>
  transfers == null ? null : transfers >= 3 ? '3+' : String(transfers);

/** A JSON scalar as text, as PostgreSQL's ->> gives it. */
const jsonText = (value: Scalar | undefined): string | null => (value == null ? null : String(value));

const timeKeys = (unit: TimeUnit) => [
  ...new Set(Array.from({ length: SPAN_DAYS }, (_, d) => bucket(unit, START + d * DAY))),
];

/** The values a filter may name, per dimension (some absent from the data). */
const DIMENSION_VALUES: Record<string, readonly string[]> = {
  lifecycleStage: LIFECYCLE_STAGES,
  personalityType: PERSONALITY_TYPES,
  segment: SEGMENTS,
  channel: [...CHANNELS, 'sms'],
  touchpoint: TOUCHPOINTS,
  team: TEAMS,
  agent: AGENTS,
  source: SOURCES,
  experienceRating: EXPERIENCE_RATINGS,
  transfers: TRANSFER_BANDS,
  'customer.attributes.plan': ['basic', 'pro', '7', 'gold'],
  'answers.q1': ['yes', 'no', '2', 'true'],
  ...Object.fromEntries(TIME_UNITS.map((unit) => [unit, timeKeys(unit)])),
};
const FEEDBACK_ONLY = new Set(['source', 'experienceRating', 'answers.q1']);
const DIMENSIONS = Object.keys(DIMENSION_VALUES);
/** The dimensions that are columns of the encounter itself (no join): what pre-aggregates can hold. */
const OWN_COLUMNS = [
  'lifecycleStage',
  'personalityType',
  'segment',
  'channel',
  'touchpoint',
  'source',
  ...TIME_UNITS,
];
const isTimeUnit = (name: string): name is TimeUnit => (TIME_UNITS as readonly string[]).includes(name);

// ---------------------------------------------------------------------------------------------
// What was stored

interface Sector {
  lifecycleStage: string | null;
  personalityType: string | null;
  segment: string | null;
}
interface CustomerState extends Sector {
  personalityType: string;
  /** attributes.plan; null when the customer has none. */
  plan: Scalar;
}
interface StoredInteraction {
  externalId: string;
  customerId: string;
  /** The customer's sector when the interaction was ingested. */
  sector: Sector;
  channel: string;
  touchpoint: string | null;
  team: string | null;
  agent: string | null;
  waitSeconds: number | null;
  transfers: number | null;
  resolved: boolean | null;
  occurredAt: number;
}
interface StoredFeedback {
  customerId: string | null;
  sector: Sector;
  interactionId: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  occurredAt: number;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  /** The answers as sent ('{}' when none), for telling a changed resend. */
  answers: string;
  q1: Scalar;
  text: string | null;
}
interface Model {
  /** As they are now (customer attributes are read at query time). */
  customers: Map<string, CustomerState>;
  interactions: StoredInteraction[];
  interactionById: Map<string, StoredInteraction>;
  feedback: StoredFeedback[];
}

const feedbackValue = (model: Model, f: StoredFeedback, name: string): string | null => {
  const linked = f.interactionId === null ? undefined : model.interactionById.get(f.interactionId);
  switch (name) {
    case 'lifecycleStage':
    case 'personalityType':
    case 'segment':
      return f.sector[name];
    case 'channel':
      return f.channel;
    case 'touchpoint':
      return f.touchpoint;
    case 'team':
      return linked?.team ?? null;
    case 'agent':
      return linked?.agent ?? null;
    case 'transfers':
      return band(linked?.transfers);
    case 'source':
      return f.source;
    case 'experienceRating':
      return experienceRatingName(experienceRatingLevel(f));
    case 'customer.attributes.plan':
      return f.customerId === null ? null : jsonText(model.customers.get(f.customerId)?.plan);
    case 'answers.q1':
      return jsonText(f.q1);
  }
  if (isTimeUnit(name)) return bucket(name, f.occurredAt);
  throw new Error(`no definition of ${name} for feedback`);
};

const contactValue = (model: Model, i: StoredInteraction, name: string): string | null => {
  switch (name) {
    case 'lifecycleStage':
    case 'personalityType':
    case 'segment':
      return i.sector[name];
    case 'channel':
    case 'touchpoint':
    case 'team':
    case 'agent':
      return i[name];
    case 'transfers':
      return band(i.transfers);
    case 'customer.attributes.plan':
      return jsonText(model.customers.get(i.customerId)?.plan);
  }
  if (isTimeUnit(name)) return bucket(name, i.occurredAt);
  throw new Error(`no definition of ${name} for contacts`);
};

// ---------------------------------------------------------------------------------------------
// Random data sets

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

/**
 * Instants in the span. A few fixed ones make equal timestamps and gaps of exactly 1, 2, 3, 7 and 10
 * days (the edge of the repeat window; 1 ms either side), also across the clock changes of 8 March
 * (US) and 29 March (EU).
 */
const instant = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        pick([10, 11, 13, 15, 17, 20, 27, 30, 34, 36, 37, 40]),
        pick([0, 12 * HOUR]),
        fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: pick([1, -1]) }),
      )
      .map(([day, time, nudge]) => START + day * DAY + time + nudge),
  },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.integer({ min: 0, max: SPAN_DAYS - 1 }),
        fc.oneof(pick([0, 1, 6 * HOUR, 12 * HOUR, DAY - 1]), fc.integer({ min: 0, max: DAY - 1 })),
      )
      .map(([day, time]) => START + day * DAY + time),
  },
);

const customerDraft = fc.record(
  {
    segment: pick([null, ...SEGMENTS]),
    lifecycleStage: pick([null, ...LIFECYCLE_STAGES]),
    personalityType: pick([null, ...PERSONALITY_TYPES]),
    plan: pick([null, ...PLANS]),
  },
  { requiredKeys: [] },
);
type CustomerDraft = typeof customerDraft extends fc.Arbitrary<infer T> ? T : never;

const interactionDraft = fc.record(
  {
    customer: fc.nat(16),
    channel: pick(CHANNELS),
    touchpoint: pick([null, ...TOUCHPOINTS]),
    team: pick([null, ...TEAMS]),
    agent: pick([null, ...AGENTS]),
    waitSeconds: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 900 }), pick([0.5, 12.25])),
    transfers: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 5 })),
    resolved: pick([null, true, false]),
    at: instant,
    /** [days, ms]: the previous interaction's customer again, this long after it. */
    followUp: fc.oneof(
      { weight: 2, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(pick([0, 1, 1.5, 2, 3, 7, 7, 10, 10]), pick([0, 0, 0, 1, -1])) },
    ),
  },
  { requiredKeys: ['customer', 'channel', 'at', 'followUp'] },
);

const feedbackDraft = fc.record(
  {
    customer: fc.nat(16),
    /** -1: an interaction that never arrives. */
    interaction: fc.oneof(fc.nat(100), fc.constant(-1)),
    source: pick(SOURCES),
    channel: pick(CHANNELS),
    touchpoint: pick(TOUCHPOINTS),
    nps: fc.integer({ min: 0, max: 10 }),
    csat: fc.integer({ min: 1, max: 5 }),
    ces: fc.integer({ min: 1, max: 7 }),
    q1: pick(ANSWERS),
    text: fc.constant('Fine'),
    at: instant,
  },
  { requiredKeys: ['at'] },
);

const dataSet = fc.record({
  customers: fc.array(customerDraft, { minLength: 5, maxLength: 15, size: 'max' }),
  interactions: fc.array(interactionDraft, { maxLength: 40, size: 'max' }),
  feedback: fc.array(feedbackDraft, { maxLength: 60, size: 'max' }),
  /** Customers changed after the first batches: later records take the new sector. */
  updates: fc.array(fc.tuple(fc.nat(16), customerDraft), { maxLength: 4 }),
  interactionsBefore: fc.nat(40),
  feedbackBefore: fc.nat(60),
  /** Records sent again with other content, at the end (the index picks the record). */
  resentInteractions: fc.array(fc.tuple(fc.nat(40), interactionDraft), { maxLength: 4 }),
  resentFeedback: fc.array(fc.tuple(fc.nat(60), feedbackDraft), { maxLength: 6 }),
  /** After which step of the ingestion the feedback pre-aggregates are folded (8: never). */
  foldAfter: fc.nat(8),
});
type DataSet = typeof dataSet extends fc.Arbitrary<infer T> ? T : never;

const applyCustomer = (state: CustomerState, draft: CustomerDraft): CustomerState => ({
  segment: 'segment' in draft ? (draft.segment ?? null) : state.segment,
  lifecycleStage: 'lifecycleStage' in draft ? (draft.lifecycleStage ?? null) : state.lifecycleStage,
  personalityType: 'personalityType' in draft ? (draft.personalityType ?? 'unknown') : state.personalityType,
  plan: 'plan' in draft ? (draft.plan ?? null) : state.plan,
});

const customerRecord = (externalId: string, draft: CustomerDraft) => ({
  externalId,
  ...('segment' in draft ? { segment: draft.segment } : {}),
  ...('lifecycleStage' in draft ? { lifecycleStage: draft.lifecycleStage } : {}),
  ...('personalityType' in draft ? { personalityType: draft.personalityType } : {}),
  ...('plan' in draft ? { attributes: { plan: draft.plan } } : {}),
});

const sectorOf = ({ lifecycleStage, personalityType, segment }: Sector): Sector => ({
  lifecycleStage,
  personalityType,
  segment,
});
const NO_SECTOR: Sector = { lifecycleStage: null, personalityType: null, segment: null };

const put = async (
  db: Db,
  workspaceId: number,
  type: 'customers' | 'interactions' | 'feedback',
  records: object[],
) => {
  if (records.length > 0) await upsertRecords(db, workspaceId, type, validateBatch(type, records));
};

/** What decides whether a resent record counts as changed (its content columns). */
const interactionContent = (i: StoredInteraction) =>
  JSON.stringify([
    i.customerId,
    i.channel,
    i.touchpoint,
    i.occurredAt,
    i.agent,
    i.team,
    i.waitSeconds,
    i.transfers,
    i.resolved,
  ]);
const feedbackContent = (f: StoredFeedback) =>
  JSON.stringify([
    f.customerId,
    f.interactionId,
    f.source,
    f.channel,
    f.touchpoint,
    f.occurredAt,
    f.nps,
    f.csat,
    f.ces,
    f.answers,
    f.text,
  ]);

type InteractionDraft = typeof interactionDraft extends fc.Arbitrary<infer T> ? T : never;
type FeedbackDraft = typeof feedbackDraft extends fc.Arbitrary<infer T> ? T : never;

/**
 * Follow-ups resolved: same customer as the interaction before, exactly 0, 1, 1.5, 2, 3, 7 or 10
 * days later (± 1 ms) — equal timestamps and the very edge of the repeat window.
 */
const withFollowUps = (drafts: readonly InteractionDraft[]): InteractionDraft[] => {
  const resolved: InteractionDraft[] = [];
  for (const draft of drafts) {
    const previous = resolved.at(-1);
    const [days, ms] = draft.followUp ?? [0, 0];
    resolved.push(
      previous && draft.followUp
        ? { ...draft, customer: previous.customer, at: previous.at + days * DAY + ms }
        : draft,
    );
  }
  return resolved;
};
/**
 * Ingests a data set as the API does — customers; a first part of the interactions and feedback;
 * changes to some customers; the rest; some records again with other content — folding the
 * pre-aggregates at one point, and returns the model of what must have been stored.
 */
const ingest = async (db: Db, workspaceId: number, data: DataSet): Promise<Model> => {
  const customerId = (index: number) => `C-${index % (data.customers.length + 2)}`;
  const model: Model = { customers: new Map(), interactions: [], interactionById: new Map(), feedback: [] };
  const feedbackById = new Map<string, StoredFeedback>();
  const customer = (id: string) => {
    let state = model.customers.get(id);
    if (!state) {
      // Known customers and stubs created from a reference start the same.
      state = { segment: null, lifecycleStage: null, personalityType: 'unknown', plan: null };
      model.customers.set(id, state);
    }
    return state;
  };
  const ni = data.interactions.length;
  const interactionId = (index: number) => (index < 0 || ni === 0 ? 'I-never' : `I-${index % ni}`);

  const putCustomers = async (drafts: [string, CustomerDraft][]) => {
    await put(
      db,
      workspaceId,
      'customers',
      drafts.map(([id, draft]) => customerRecord(id, draft)),
    );
    for (const [id, draft] of drafts) model.customers.set(id, applyCustomer(customer(id), draft));
  };

  /** Stores interactions (new, or replacing those with the same id when their content differs). */
  const putInteractions = async (part: [string, InteractionDraft][]) => {
    const records = part.map(([externalId, { customer: c, at, followUp: _, ...draft }]) => ({
      ...draft,
      externalId,
      customerId: customerId(c),
      occurredAt: new Date(at).toISOString(),
    }));
    await put(db, workspaceId, 'interactions', records);
    for (const [externalId, draft] of part) {
      const id = customerId(draft.customer);
      const stored: StoredInteraction = {
        externalId,
        customerId: id,
        sector: sectorOf(customer(id)),
        channel: draft.channel,
        touchpoint: draft.touchpoint ?? null,
        team: draft.team ?? null,
        agent: draft.agent ?? null,
        waitSeconds: draft.waitSeconds ?? null,
        transfers: draft.transfers ?? null,
        resolved: draft.resolved ?? null,
        occurredAt: draft.at,
      };
      const before = model.interactionById.get(externalId);
      if (before && interactionContent(before) === interactionContent(stored)) continue;
      if (before) model.interactions[model.interactions.indexOf(before)] = stored;
      else model.interactions.push(stored);
      model.interactionById.set(externalId, stored);
    }
  };

  /** Stores feedback, likewise. */
  const putFeedback = async (part: [string, FeedbackDraft][]) => {
    const records = part.map(([externalId, draft]) => {
      const says =
        [draft.nps, draft.csat, draft.ces, draft.text].some((v) => v !== undefined) || 'q1' in draft;
      return {
        externalId,
        ...(draft.customer !== undefined ? { customerId: customerId(draft.customer) } : {}),
        ...(draft.interaction !== undefined ? { interactionId: interactionId(draft.interaction) } : {}),
        ...(draft.source !== undefined ? { source: draft.source } : {}),
        ...(draft.channel !== undefined ? { channel: draft.channel } : {}),
        ...(draft.touchpoint !== undefined ? { touchpoint: draft.touchpoint } : {}),
        ...(draft.nps !== undefined ? { nps: draft.nps } : {}),
        ...(draft.csat !== undefined ? { csat: draft.csat } : {}),
        ...(draft.ces !== undefined ? { ces: draft.ces } : {}),
        ...('q1' in draft ? { answers: { q1: draft.q1 } } : {}),
        ...(draft.text !== undefined || !says ? { text: 'Fine' } : {}),
        occurredAt: new Date(draft.at).toISOString(),
      };
    });
    await put(db, workspaceId, 'feedback', records);
    part.forEach(([externalId, draft], k) => {
      const linkId = draft.interaction === undefined ? null : interactionId(draft.interaction);
      // Customer, channel and touchpoint come from the interaction only if it has arrived.
      const linked = linkId === null ? undefined : model.interactionById.get(linkId);
      const id = draft.customer !== undefined ? customerId(draft.customer) : (linked?.customerId ?? null);
      const stored: StoredFeedback = {
        customerId: id,
        sector: id === null ? NO_SECTOR : sectorOf(customer(id)),
        interactionId: linkId,
        source: draft.source ?? 'survey',
        channel: draft.channel ?? linked?.channel ?? null,
        touchpoint: draft.touchpoint ?? linked?.touchpoint ?? null,
        occurredAt: draft.at,
        nps: draft.nps ?? null,
        csat: draft.csat ?? null,
        ces: draft.ces ?? null,
        answers: JSON.stringify(records[k]?.answers ?? {}),
        q1: 'q1' in draft ? (draft.q1 ?? null) : null,
        text: records[k]?.text ?? null,
      };
      const before = feedbackById.get(externalId);
      if (before && feedbackContent(before) === feedbackContent(stored)) return;
      if (before) model.feedback[model.feedback.indexOf(before)] = stored;
      else model.feedback.push(stored);
      feedbackById.set(externalId, stored);
    });
  };

  const interactions = withFollowUps(data.interactions).map((draft, i): [string, InteractionDraft] => [
    `I-${i}`,
    draft,
  ]);
  const resentDrafts = withFollowUps(data.resentInteractions.map(([, draft]) => draft));
  const feedback = data.feedback.map((draft, i): [string, FeedbackDraft] => [`F-${i}`, draft]);
  /** The last resend of each record (a batch keeps the last record of an id). */
  const resent = <D>(drafts: [number, D][], prefix: string, count: number): [string, D][] =>
    count === 0 ? [] : [...new Map(drafts.map(([k, draft]) => [`${prefix}-${k % count}`, draft])).entries()];
  const steps = [
    () => putCustomers(data.customers.map((draft, i) => [`C-${i}`, draft])),
    () => putInteractions(interactions.slice(0, data.interactionsBefore)),
    () => putFeedback(feedback.slice(0, data.feedbackBefore)),
    () => putCustomers(data.updates.map(([index, draft]) => [customerId(index), draft])),
    () => putInteractions(interactions.slice(data.interactionsBefore)),
    () => putFeedback(feedback.slice(data.feedbackBefore)),
    () =>
      putInteractions(
        resent(
          data.resentInteractions.map(([k], i): [number, InteractionDraft] => [
            k,
            resentDrafts[i] as InteractionDraft,
          ]),
          'I',
          ni,
        ),
      ),
    () => putFeedback(resent(data.resentFeedback, 'F', data.feedback.length)),
  ];
  for (const [i, step] of steps.entries()) {
    await step();
    if (i === data.foldAfter) await foldRollups(db);
  }
  return model;
};

// ---------------------------------------------------------------------------------------------
// Random requests

interface Bound {
  day: number;
  /** Milliseconds into the day; null: the date only. */
  time: number | null;
}
/** Days into the span; 8, 9, 39 and 40 make month starts (28 Feb as a date-only `to` ends at 1 Mar). */
const bound = fc.record({
  day: fc.oneof(fc.integer({ min: -3, max: SPAN_DAYS + 2 }), pick([8, 9, 39, 40])),
  time: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: pick([1, 12 * HOUR, DAY - 1]) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: DAY - 1 }) },
  ),
});
const boundText = ({ day, time }: Bound) =>
  time === null ? isoDay(START + day * DAY) : new Date(START + day * DAY + time).toISOString();
/** A date-only `to` includes that day. */
const boundMs = ({ day, time }: Bound, isTo: boolean) => START + day * DAY + (time ?? (isTo ? DAY : 0));

interface RequestDraft {
  measures: Measure[];
  by: string[];
  filters: { dimension: string; values: string[] }[];
  from: Bound | null;
  to: Bound | null;
  minN: number;
  repeatWindowDays: number;
  compare: 'rest' | 'previousPeriod' | null;
}

const filterOn = (dimensions: readonly string[]) =>
  pick(dimensions).chain((dimension) =>
    fc
      .subarray([...(DIMENSION_VALUES[dimension] ?? [])], { minLength: 1, maxLength: 2 })
      .map((values) => ({ dimension, values })),
  );

/**
 * Requests over every dimension, or (as often) only over the encounter's own columns, which the
 * feedback pre-aggregates answer when the period is whole days. Most are valid; one in eight is left as drawn, which may ask for what the API refuses (a
 * feedback-only dimension with contact measures, from ≥ to, previousPeriod without a period or with
 * a time dimension).
 */
const requestDraft = pick([DIMENSIONS, OWN_COLUMNS]).chain((dimensions) =>
  fc
    .record({
      measures: fc.oneof(
        fc.shuffledSubarray([...FEEDBACK_MEASURES], { minLength: 1, maxLength: 4 }),
        fc.shuffledSubarray([...CONTACT_MEASURES], { minLength: 1, maxLength: 4 }),
        fc.shuffledSubarray([...MEASURES], { minLength: 1, maxLength: 5 }),
      ),
      by: fc.shuffledSubarray([...dimensions], { maxLength: 3 }),
      filters: fc.array(filterOn(dimensions), { maxLength: 2 }),
      from: fc.option(bound, { freq: 2 }),
      to: fc.option(bound, { freq: 2 }),
      minN: fc.integer({ min: 1, max: 40 }),
      repeatWindowDays: fc.oneof(
        { weight: 2, arbitrary: pick([1, 3, 7, 10]) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
        { weight: 1, arbitrary: fc.constant(1.5) },
      ),
      compare: pick([null, 'rest', 'previousPeriod'] as const),
      asDrawn: fc.nat(7).map((n) => n === 0),
    })
    .map(({ asDrawn, ...draft }): RequestDraft => {
      if (asDrawn) return draft;
      const request = { ...draft };
      if (request.measures.some((m) => !isFeedbackMeasure(m))) {
        request.by = request.by.filter((d) => !FEEDBACK_ONLY.has(d));
        request.filters = request.filters.filter((f) => !FEEDBACK_ONLY.has(f.dimension));
      }
      if (request.from && request.to && boundMs(request.from, false) >= boundMs(request.to, true)) {
        [request.from, request.to] = [request.to, request.from];
        if (boundMs(request.from, false) >= boundMs(request.to, true)) request.to = null;
      }
      if (
        request.compare === 'previousPeriod' &&
        (!request.from || !request.to || request.by.some(isTimeUnit))
      ) {
        request.compare = 'rest';
      }
      return request;
    }),
);

const queryOf = (request: RequestDraft): MetricsQueryString => ({
  measures: request.measures.join(','),
  ...(request.by.length > 0 ? { by: request.by.join(',') } : {}),
  ...(request.filters.length > 0
    ? { filter: request.filters.map((f) => `${f.dimension}:${f.values.join('|')}`) }
    : {}),
  ...(request.from ? { from: boundText(request.from) } : {}),
  ...(request.to ? { to: boundText(request.to) } : {}),
  minN: String(request.minN),
  repeatWindowDays: String(request.repeatWindowDays),
  ...(request.compare ? { compare: request.compare } : {}),
});

const queryText = (query: MetricsQueryString) =>
  Object.entries(query)
    .flatMap(([key, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${key}=${String(v)}`))
    .join('&');

/** Why the API must refuse a request, or null. */
const refusal = (request: RequestDraft): string | null => {
  if (request.measures.some((m) => !isFeedbackMeasure(m))) {
    const onlyFeedback = [...request.by, ...request.filters.map((f) => f.dimension)].find((d) =>
      FEEDBACK_ONLY.has(d),
    );
    if (onlyFeedback) return `${onlyFeedback} with contact measures`;
  }
  if (request.from && request.to && boundMs(request.from, false) >= boundMs(request.to, true)) {
    return 'from ≥ to';
  }
  if (request.compare === 'previousPeriod') {
    if (!request.from || !request.to) return 'previousPeriod without a period';
    if (request.by.some(isTimeUnit)) return 'previousPeriod with a time dimension';
  }
  return null;
};

// ---------------------------------------------------------------------------------------------
// The expected response, from the definitions

interface Both {
  key: (string | null)[];
  feedback: FeedbackCell;
  contacts: ContactCell;
}

interface ExpectedRow {
  group: Record<string, string | null>;
  measures: Partial<Record<Measure, Record<string, unknown>>>;
}

const groupBy = <T>(items: readonly T[], keyOf: (item: T) => (string | null)[]) => {
  const groups = new Map<string, { key: (string | null)[]; items: T[] }>();
  for (const item of items) {
    const key = keyOf(item);
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, items: [] };
    group.items.push(item);
    groups.set(id, group);
  }
  return groups;
};

/** The cells of the cube and the total over [from, to), from the records of the model. */
const expectedCells = (model: Model, request: RequestDraft, from: number | null, to: number | null) => {
  const wantsFeedback = request.measures.some(isFeedbackMeasure);
  const wantsContacts = request.measures.some((m) => !isFeedbackMeasure(m));
  const within = (t: number) => (from === null || t >= from) && (to === null || t < to);
  const feedback = model.feedback.filter(
    (f) =>
      wantsFeedback &&
      within(f.occurredAt) &&
      request.filters.every((filter) =>
        filter.values.includes(feedbackValue(model, f, filter.dimension) as string),
      ),
  );
  const contacts = model.interactions.filter(
    (i) =>
      wantsContacts &&
      within(i.occurredAt) &&
      request.filters.every((filter) =>
        filter.values.includes(contactValue(model, i, filter.dimension) as string),
      ),
  );
  const facts = (i: StoredInteraction): ContactFacts => ({
    customer: i.customerId,
    occurredAt: i.occurredAt,
    waitSeconds: i.waitSeconds,
    transfers: i.transfers,
    resolved: i.resolved,
  });
  // Repeats count every contact of the customer, selected or not.
  const history = model.interactions.map(facts);
  const contactCell = (items: StoredInteraction[]) =>
    contactCellOf(items.map(facts), history, request.repeatWindowDays);

  const cells = new Map<string, Both>();
  const entry = (key: (string | null)[]) => {
    const id = JSON.stringify(key);
    const both = cells.get(id) ?? { key, feedback: emptyFeedbackCell(), contacts: emptyContactCell() };
    cells.set(id, both);
    return both;
  };
  if (wantsFeedback) {
    if (request.by.length === 0) entry([]);
    for (const { key, items } of groupBy(feedback, (f) =>
      request.by.map((d) => feedbackValue(model, f, d)),
    ).values()) {
      entry(key).feedback = feedbackCellOf(items);
    }
  }
  if (wantsContacts) {
    if (request.by.length === 0) entry([]);
    for (const { key, items } of groupBy(contacts, (i) =>
      request.by.map((d) => contactValue(model, i, d)),
    ).values()) {
      entry(key).contacts = contactCell(items);
    }
  }
  const total: Both = {
    key: [],
    feedback: wantsFeedback ? feedbackCellOf(feedback) : emptyFeedbackCell(),
    contacts: wantsContacts ? contactCell(contacts) : emptyContactCell(),
  };
  return { cells, total };
};

/** Rows in order: by each dimension in turn, none last, experience ratings from worst to best. */
const compareKeys = (by: readonly string[]) => (a: Both, b: Both) => {
  for (let i = 0; i < by.length; i++) {
    const [x, y] = [a.key[i] ?? null, b.key[i] ?? null];
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (by[i] === 'experienceRating') {
      return EXPERIENCE_RATINGS.indexOf(x as never) - EXPERIENCE_RATINGS.indexOf(y as never);
    }
    return x < y ? -1 : 1;
  }
  return 0;
};

const measureOf = (measure: Measure, both: Both, minN: number): MeasureValue =>
  isFeedbackMeasure(measure)
    ? feedbackMeasure(measure, both.feedback, minN)
    : contactMeasure(measure as ContactMeasure, both.contacts, minN);

const pOf = (measure: Measure, a: Both, b: Both): number | null =>
  isFeedbackMeasure(measure)
    ? feedbackDifferenceP(measure as FeedbackMeasure, a.feedback, b.feedback)
    : contactDifferenceP(measure as ContactMeasure, a.contacts, b.contacts);

/**
 * The response the definitions give. Comparisons: a cell against the rest of the total, or against
 * the same cell of the period before; Benjamini–Hochberg over all tests of the response.
 */
const expectedResponse = (model: Model, request: RequestDraft) => {
  const from = request.from ? boundMs(request.from, false) : null;
  const to = request.to ? boundMs(request.to, true) : null;
  const measures = [...new Set(request.measures)];
  const current = expectedCells(model, request, from, to);
  const previous =
    request.compare === 'previousPeriod' && from !== null && to !== null
      ? expectedCells(model, request, from - (to - from), from)
      : null;
  const other = (both: Both, isTotal: boolean): Both | null => {
    if (request.compare === 'rest') {
      return isTotal
        ? null
        : {
            key: both.key,
            feedback: feedbackRest(current.total.feedback, both.feedback),
            contacts: contactRest(current.total.contacts, both.contacts),
          };
    }
    if (!previous) return null;
    if (isTotal) return previous.total;
    return (
      previous.cells.get(JSON.stringify(both.key)) ?? {
        key: both.key,
        feedback: emptyFeedbackCell(),
        contacts: emptyContactCell(),
      }
    );
  };
  const tests: { value: number | null; comparison: Record<string, unknown>; p: number | null }[] = [];
  const row = (both: Both, isTotal: boolean): ExpectedRow => {
    const against = other(both, isTotal);
    const values: ExpectedRow['measures'] = {};
    for (const measure of measures) {
      const value: Record<string, unknown> = { ...measureOf(measure, both, request.minN) };
      if (against && request.compare) {
        const versus = measureOf(measure, against, request.minN);
        const p = value.lowSample || versus.lowSample ? null : pOf(measure, both, against);
        value.comparison = {
          against: request.compare,
          value: versus.value,
          p,
        };
        tests.push({ value: value.value as number | null, comparison: value.comparison as never, p });
      }
      values[measure] = value;
    }
    return {
      group: isTotal ? {} : Object.fromEntries(request.by.map((d, i) => [d, both.key[i] ?? null])),
      measures: values,
    };
  };
  const total = row(current.total, true);
  const rows = [...current.cells.values()].sort(compareKeys(request.by)).map((both) => row(both, false));
  const adjusted = benjaminiHochberg(tests.map((t) => t.p));
  tests.forEach(({ value, comparison }, i) => {
    const pAdjusted = adjusted[i] ?? null;
    const versus = comparison.value as number | null;
    comparison.pAdjusted = pAdjusted;
    comparison.direction =
      pAdjusted === null || value === null || versus === null
        ? null
        : pAdjusted >= SIGNIFICANCE || value === versus
          ? 'same'
          : value > versus
            ? 'higher'
            : 'lower';
  });
  return {
    from: from === null ? null : new Date(from).toISOString(),
    to: to === null ? null : new Date(to).toISOString(),
    total,
    rows,
    tests: tests.filter((t) => t.p !== null).length,
  };
};

// ---------------------------------------------------------------------------------------------
// The comparison

/** Equal, numbers to 9 decimals, naming the path of the first difference. */
const expectMatches = (actual: unknown, expected: unknown, path: string) => {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(actual, path).toBeCloseTo(expected, 9);
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object', `${path} is an object`).toBe(true);
    const got = actual as Record<string, unknown>;
    expect(Object.keys(got).sort(), `${path} keys`).toEqual(Object.keys(expected).sort());
    for (const [key, value] of Object.entries(expected)) expectMatches(got[key], value, `${path}.${key}`);
  } else {
    expect(actual, path).toBe(expected);
  }
};

const checkRequest = async (db: Db, workspaceId: number, model: Model, request: RequestDraft) => {
  const query = queryOf(request);
  const text = queryText(query);
  const refused = refusal(request);
  let parsed: ReturnType<typeof parseMetricsRequest>;
  try {
    parsed = parseMetricsRequest(metricsQuerySchema.parse(query));
  } catch (error) {
    if (refused && error instanceof AppError && error.status === 400) return;
    throw new Error(`${text}: refused (${(error as Error).message}) but should not be`, { cause: error });
  }
  if (refused) throw new Error(`${text}: accepted, but should be refused (${refused})`);

  let actual: MetricsResult;
  try {
    actual = await computeMetrics(db, workspaceId, parsed);
  } catch (error) {
    throw new Error(`${text}: computeMetrics failed: ${(error as Error).message}`, { cause: error });
  }
  const expected = expectedResponse(model, request);
  expect(actual.measures, `${text} measures`).toEqual([...new Set(request.measures)]);
  expect(actual.by, `${text} by`).toEqual(request.by);
  expect(actual.minN, `${text} minN`).toBe(request.minN);
  expect(actual.compare, `${text} compare`).toBe(request.compare);
  expect(actual.total.group, `${text} total group`).toEqual({});
  expect(actual.from, `${text} from`).toBe(expected.from);
  expect(actual.to, `${text} to`).toBe(expected.to);
  expect(
    actual.rows.map((r) => r.group),
    `${text}: the groups, in order`,
  ).toEqual(expected.rows.map((r) => r.group));
  expectMatches(actual.total.measures, expected.total.measures, `${text} total`);
  expected.rows.forEach((row, i) => {
    expectMatches(actual.rows[i]?.measures, row.measures, `${text} ${JSON.stringify(row.group)}`);
  });
  if (request.compare) {
    expect(actual.method.multipleComparisons, text).toContain(`across all ${expected.tests} tests`);
  }
};

/** Data sets per database: 100 take 5–10 s. */
const DATA_SETS = 100;

/** Random data sets, each ingested into a new workspace and asked up to 10 random requests. */
const everyRequestMatches = (db: () => Db, numRuns: number) =>
  fc.assert(
    fc.asyncProperty(
      dataSet,
      fc.array(requestDraft, { minLength: 1, maxLength: 10 }),
      async (data, requests) => {
        const workspace = await createTestWorkspace(db());
        const model = await ingest(db(), workspace.id, data);
        for (const request of requests) await checkRequest(db(), workspace.id, model, request);
      },
    ),
    // Shrinking ingests every candidate: report the smallest failure found within the time limit.
    { numRuns, plugins: [fc.interruptAfterTimeLimit(50_000)] },
  );

describeEachDatabase('computeMetrics equals the definitions', (database) => {
  test(
    'every measure, by and filtered by every dimension, with periods, minN, repeat windows and comparisons',
    { timeout: 180_000 },
    () => everyRequestMatches(() => database().db, DATA_SETS),
  );
});

// A server's time zone is its own setting (initdb takes the machine's); UTC days and 24-hour
// repeat windows must not depend on it. Europe/Berlin moves its clocks on 29 March, in the span.
describe.skipIf(!inject('postgresUrl'))(
  'computeMetrics equals the definitions [postgres, session time zone Europe/Berlin]',
  () => {
    let database: Database | undefined;
    beforeAll(async () => {
      const url = new URL(postgresUrl());
      url.searchParams.set('options', '-c TimeZone=Europe/Berlin');
      database = await openDatabase({ kind: 'server', url: url.toString() }, { command: 'test' });
    });
    afterAll(() => database?.close());

    // A repeat contact across the clock change, at the edge of the window, turns up in about one
    // data set in 40: twice the usual number makes it near certain.
    test('every measure, by and filtered by every dimension', { timeout: 180_000 }, () =>
      everyRequestMatches(() => (database as Database).db, 2 * DATA_SETS),
    );
  },
);
