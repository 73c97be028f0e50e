/**
 * The fixed vocabularies of Touchpoint. Database CHECK constraints, request validation and the
 * OpenAPI document all follow these lists.
 */

/** Where the customer is in the relationship (PRODUCT.md: life-cycle stage). */
export const LIFECYCLE_STAGES = ['new', 'current', 'advocate', 'ending', 'renewing'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** prompt: wants things dealt with quickly; relationship: values a personal relationship. */
export const PERSONALITY_TYPES = ['prompt', 'relationship', 'unknown'] as const;
export type PersonalityType = (typeof PERSONALITY_TYPES)[number];

/** The medium of a contact. A contact point is channel × touchpoint. */
export const CHANNELS = [
  'phone',
  'ivr',
  'email',
  'chat',
  'sms',
  'web',
  'app',
  'social',
  'store',
  'mail',
  'video',
  'field',
  'other',
] as const;
export type Channel = (typeof CHANNELS)[number];

export const FEEDBACK_SOURCES = ['survey', 'review', 'social', 'complaint', 'email', 'chat', 'call'] as const;
export type FeedbackSource = (typeof FEEDBACK_SOURCES)[number];

export const EVENT_TYPES = [
  'purchase',
  'renewal',
  'cancellation',
  'plan_change',
  'churn',
  'signup',
  'upgrade',
  'downgrade',
  'refund',
  'payment_failed',
  'contract_end',
  'return',
  'other',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** admin: everything; write: ingest only; read: read only. */
export const API_KEY_ROLES = ['admin', 'write', 'read'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/**
 * People's roles in a workspace: admin (everything), analyst (reads everything), manager (reads
 * everything, works the cases of their own teams), agent (their own cases and the customer view).
 */
export const USER_ROLES = ['admin', 'analyst', 'manager', 'agent'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const RECORD_TYPES = ['customers', 'interactions', 'feedback', 'events'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
