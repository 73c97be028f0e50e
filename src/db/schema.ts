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

export interface AppUserTable {
  id: Generated<number>;
  workspace_id: number;
  email: string;
  name: string | null;
  role: string;
  password_hash: string;
  password_changed_at: Defaulted<Date>;
  created_at: Defaulted<Date>;
  last_login_at: Date | null;
}

export interface UserSessionTable {
  id: Generated<number>;
  workspace_id: number;
  user_id: number;
  token_hash: Buffer | Uint8Array;
  csrf_token: string;
  created_at: Defaulted<Date>;
  last_seen_at: Defaulted<Date>;
  expires_at: Date;
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

export interface AlertRuleTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  description: string | null;
  condition: Json;
  kinds: string[];
  severity: string;
  routing: Defaulted<unknown[]>;
  max_age_seconds: Defaulted<number>;
  active: Defaulted<boolean>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface AlertOutboxTable {
  id: Generated<number>;
  workspace_id: number;
  record_kind: string;
  record_id: number;
  customer_id: number | null;
  occurred_at: Date;
  created_at: Defaulted<Date>;
}

export interface PlaybookTable {
  id: Generated<number>;
  workspace_id: number;
  name: string;
  description: string | null;
  match: Defaulted<Json>;
  steps: string[];
  active: Defaulted<boolean>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface CaseTable {
  id: Generated<number>;
  workspace_id: number;
  rule_id: number;
  customer_id: number | null;
  title: string;
  status: Defaulted<string>;
  severity: string;
  priority: string;
  priority_score: number;
  owner: string | null;
  team: string | null;
  touchpoint: string | null;
  channel: string | null;
  root_cause: string | null;
  playbook_id: number | null;
  first_response_due_at: Date | null;
  resolve_due_at: Date | null;
  first_response_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
  escalation_level: Defaulted<number>;
  escalated_at: Date | null;
  alert_count: Defaulted<number>;
  last_alert_at: Date | null;
  recovery: string | null;
  recovery_reason: string | null;
  recovery_decided_at: Date | null;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface AlertTable {
  id: Generated<number>;
  workspace_id: number;
  rule_id: number;
  case_id: number;
  record_kind: string;
  record_id: number;
  customer_id: number | null;
  severity: string;
  occurred_at: Date;
  raised_at: Defaulted<Date>;
}

export interface CaseEventTable {
  id: Generated<number>;
  workspace_id: number;
  case_id: number;
  type: string;
  actor: string;
  detail: Defaulted<Json>;
  at: Defaulted<Date>;
}

export interface CaseStepTable {
  case_id: number;
  position: number;
  workspace_id: number;
  text: string;
  done_at: Date | null;
  done_by: string | null;
}

export interface CaseMessageTable {
  id: Generated<number>;
  workspace_id: number;
  case_id: number;
  customer_id: number | null;
  channel: string;
  subject: string | null;
  body: string;
  outcome: string | null;
  status: string;
  error: string | null;
  actor: string;
  occurred_at: Defaulted<Date>;
  created_at: Defaulted<Date>;
}

export interface RoutingCursorTable {
  workspace_id: number;
  team: string;
  position: Defaulted<number>;
}

export interface WebhookTable {
  id: Generated<number>;
  workspace_id: number;
  url: string;
  secret: string;
  events: string[];
  format: Defaulted<string>;
  active: Defaulted<boolean>;
  created_at: Defaulted<Date>;
  updated_at: Defaulted<Date>;
}

export interface NotificationTable {
  id: Generated<number>;
  workspace_id: number;
  channel: string;
  webhook_id: number | null;
  recipient: string | null;
  event_id: Defaulted<string>;
  event_type: string;
  case_id: number | null;
  payload: Json;
  status: Defaulted<string>;
  attempts: Defaulted<number>;
  next_attempt_at: Defaulted<Date>;
  lease_until: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Defaulted<Date>;
}

export interface NotificationAttemptTable {
  id: Generated<number>;
  notification_id: number;
  attempt: number;
  at: Defaulted<Date>;
  status_code: number | null;
  error: string | null;
  duration_ms: number | null;
}

export interface Schema {
  workspace: WorkspaceTable;
  api_key: ApiKeyTable;
  app_user: AppUserTable;
  user_session: UserSessionTable;
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
  alert_rule: AlertRuleTable;
  alert_outbox: AlertOutboxTable;
  playbook: PlaybookTable;
  cx_case: CaseTable;
  alert: AlertTable;
  case_event: CaseEventTable;
  case_step: CaseStepTable;
  case_message: CaseMessageTable;
  routing_cursor: RoutingCursorTable;
  webhook: WebhookTable;
  notification: NotificationTable;
  notification_attempt: NotificationAttemptTable;
}
