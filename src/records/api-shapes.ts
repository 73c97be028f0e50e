import type { Selectable } from 'kysely';
import { z } from 'zod';
import type { CustomerTable, EventTable, FeedbackTable, InteractionTable } from '../db/schema.js';
import { EXPERIENCE_RATINGS, experienceRatingName } from '../domain/experience-rating.js';

/**
 * The records as the API returns them (camelCase, external ids for references), with the Zod
 * schemas that document them in OpenAPI.
 */
const json = z.record(z.string(), z.unknown());
const isoTime = z.string().meta({ format: 'date-time' });

const atEncounter = z
  .object({
    lifecycleStage: z.string().nullable(),
    personalityType: z.string().nullable(),
    segment: z.string().nullable(),
  })
  .describe("The customer's life-cycle stage, personality type and segment when the encounter was recorded.");

export const customerOut = z.object({
  externalId: z.string(),
  name: z.string().nullable(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  locale: z.string().nullable(),
  segment: z.string().nullable(),
  lifecycleStage: z.string().nullable(),
  personalityType: z.string(),
  value: z.number().nullable(),
  attributes: json,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const interactionOut = z.object({
  externalId: z.string(),
  customerId: z.string(),
  channel: z.string(),
  touchpoint: z.string().nullable(),
  occurredAt: isoTime,
  agent: z.string().nullable(),
  team: z.string().nullable(),
  waitSeconds: z.number().nullable(),
  handleSeconds: z.number().nullable(),
  transfers: z.number().nullable(),
  resolved: z.boolean().nullable(),
  outcome: z.string().nullable(),
  attributes: json,
  atEncounter,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const feedbackOut = z.object({
  externalId: z.string(),
  customerId: z.string().nullable(),
  interactionId: z.string().nullable(),
  source: z.string(),
  channel: z.string().nullable(),
  touchpoint: z.string().nullable(),
  occurredAt: isoTime,
  nps: z.number().nullable(),
  csat: z.number().nullable(),
  ces: z.number().nullable(),
  answers: json,
  text: z.string().nullable(),
  experienceRating: z
    .enum(EXPERIENCE_RATINGS)
    .nullable()
    .describe('Derived from the scores present; with several, the worst counts (null without scores).'),
  atEncounter,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const eventOut = z.object({
  externalId: z.string(),
  customerId: z.string(),
  type: z.string(),
  occurredAt: isoTime,
  amount: z.number().nullable(),
  attributes: json,
  createdAt: isoTime,
  updatedAt: isoTime,
});

export type CustomerOut = z.infer<typeof customerOut>;
export type InteractionOut = z.infer<typeof interactionOut>;
export type FeedbackOut = z.infer<typeof feedbackOut>;
export type EventOut = z.infer<typeof eventOut>;

/** The customer's external id travels with each row as `customer_external_id`. */
type WithCustomer<T> = T & { customer_external_id: string | null };

const times = (row: { created_at: Date; updated_at: Date }) => ({
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const snapshotOf = (row: {
  lifecycle_stage: string | null;
  personality_type: string | null;
  segment: string | null;
}) => ({
  lifecycleStage: row.lifecycle_stage,
  personalityType: row.personality_type,
  segment: row.segment,
});

export const toCustomerOut = (row: Selectable<CustomerTable>): CustomerOut => ({
  externalId: row.external_id,
  name: row.name,
  email: row.email,
  phone: row.phone,
  locale: row.locale,
  segment: row.segment,
  lifecycleStage: row.lifecycle_stage,
  personalityType: row.personality_type,
  value: row.value,
  attributes: row.attributes,
  ...times(row),
});

export const toInteractionOut = (row: WithCustomer<Selectable<InteractionTable>>): InteractionOut => ({
  externalId: row.external_id,
  customerId: row.customer_external_id ?? '',
  channel: row.channel,
  touchpoint: row.touchpoint,
  occurredAt: row.occurred_at.toISOString(),
  agent: row.agent,
  team: row.team,
  waitSeconds: row.wait_seconds,
  handleSeconds: row.handle_seconds,
  transfers: row.transfers,
  resolved: row.resolved,
  outcome: row.outcome,
  attributes: row.attributes,
  atEncounter: snapshotOf(row),
  ...times(row),
});

export const toFeedbackOut = (row: WithCustomer<Selectable<FeedbackTable>>): FeedbackOut => ({
  externalId: row.external_id,
  customerId: row.customer_external_id,
  interactionId: row.interaction_external_id,
  source: row.source,
  channel: row.channel,
  touchpoint: row.touchpoint,
  occurredAt: row.occurred_at.toISOString(),
  nps: row.nps,
  csat: row.csat,
  ces: row.ces,
  answers: row.answers,
  text: row.text,
  experienceRating: experienceRatingName(row.experience_rating),
  atEncounter: snapshotOf(row),
  ...times(row),
});

export const toEventOut = (row: WithCustomer<Selectable<EventTable>>): EventOut => ({
  externalId: row.external_id,
  customerId: row.customer_external_id ?? '',
  type: row.type,
  occurredAt: row.occurred_at.toISOString(),
  amount: row.amount,
  attributes: row.attributes,
  ...times(row),
});
