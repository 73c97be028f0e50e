import type { ColumnType, Generated } from 'kysely';

/** Columns filled by the database on insert. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = Record<string, unknown>;

export interface WorkspaceTable {
  id: Generated<number>;
  slug: string;
  name: string;
  settings: Defaulted<Json>;
  created_at: Defaulted<Date>;
}

export interface ApiKeyTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  role: string;
  key_prefix: string;
  key_hash: Buffer | Uint8Array;
  created_at: Defaulted<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface CustomerTable {
  id: Generated<number>;
  workspace_id: number;
  external_id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  segment: string | null;
  lifecycle_stage: string | null;
  personality_type: Defaulted<string>;
  value: number | null;
  attributes: Defaulted<Json>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface CustomerStageHistoryTable {
  id: Generated<number>;
  workspace_id: number;
  customer_id: number;
  lifecycle_stage: string | null;
  changed_at: Defaulted<Date>;
}

/** The customer's three sectors of experience as they were when an encounter was recorded. */
interface EncounterSnapshot {
  lifecycle_stage: string | null;
  personality_type: string | null;
  segment: string | null;
}

export interface InteractionTable extends EncounterSnapshot {
  id: Generated<number>;
  workspace_id: number;
  external_id: string;
  customer_id: number;
  channel: string;
  touchpoint: string | null;
  occurred_at: Date;
  agent: string | null;
  team: string | null;
  wait_seconds: number | null;
  handle_seconds: number | null;
  transfers: number | null;
  resolved: boolean | null;
  outcome: string | null;
  attributes: Defaulted<Json>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface FeedbackTable extends EncounterSnapshot {
  id: Generated<number>;
  workspace_id: number;
  external_id: string;
  customer_id: number | null;
  interaction_external_id: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  occurred_at: Date;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  answers: Defaulted<Json>;
  text: string | null;
  experience_rating: number | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface EventTable {
  id: Generated<number>;
  workspace_id: number;
  external_id: string;
  customer_id: number;
  type: string;
  occurred_at: Date;
  amount: number | null;
  attributes: Defaulted<Json>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface SchemaMigrationTable {
  version: number;
  name: string;
  checksum: string;
  applied_at: Defaulted<Date>;
}

export interface InstanceSecretTable {
  name: string;
  value: Buffer | Uint8Array;
  created_at: Defaulted<Date>;
}

export interface SurveyTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  status: Defaulted<string>;
  version: Defaulted<number>;
  template: string | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface SurveyVersionTable {
  survey_id: number;
  version: number;
  workspace_id: number;
  definition: Json;
  created_at: Defaulted<Date>;
}

export interface SurveyTriggerTable {
  id: Generated<number>;
  workspace_id: number;
  survey_id: number;
  kind: string;
  channel: string;
  active: Defaulted<boolean>;
  sample_rate: Defaulted<number>;
  match_channel: string[] | null;
  match_touchpoint: string[] | null;
  match_outcome: string[] | null;
  match_segment: string[] | null;
  match_lifecycle_stage: string[] | null;
  match_personality_type: string[] | null;
  match_team: string[] | null;
  match_resolved: boolean | null;
  delay_seconds: Defaulted<number>;
  max_age_seconds: Defaulted<number>;
  every_days: number | null;
  scheduled_through: Date | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface InvitationTable {
  id: Generated<number>;
  workspace_id: number;
  public_id: Defaulted<string>;
  survey_id: number;
  survey_version: number | null;
  trigger_id: number | null;
  subject_key: string | null;
  customer_id: number | null;
  interaction_id: number | null;
  channel: string;
  touchpoint: string | null;
  contact_channel: string | null;
  status: Defaulted<string>;
  reason: string | null;
  reason_detail: string | null;
  due_at: Defaulted<Date>;
  lease_until: Date | null;
  attempts: Defaulted<number>;
  sent_at: Date | null;
  expires_at: Date | null;
  reminder_due_at: Date | null;
  reminded_at: Date | null;
  opened_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  language: string | null;
  answers: Defaulted<Json>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface ContactOptOutTable {
  customer_id: number;
  channel: string;
  workspace_id: number;
  source: string;
  created_at: Defaulted<Date>;
}

export interface Schema {
  workspace: WorkspaceTable;
  api_key: ApiKeyTable;
  customer: CustomerTable;
  customer_stage_history: CustomerStageHistoryTable;
  interaction: InteractionTable;
  feedback: FeedbackTable;
  event: EventTable;
  schema_migration: SchemaMigrationTable;
  instance_secret: InstanceSecretTable;
  survey: SurveyTable;
  survey_version: SurveyVersionTable;
  survey_trigger: SurveyTriggerTable;
  invitation: InvitationTable;
  contact_opt_out: ContactOptOutTable;
}
