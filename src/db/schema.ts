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

export interface Schema {
  workspace: WorkspaceTable;
  api_key: ApiKeyTable;
  customer: CustomerTable;
  customer_stage_history: CustomerStageHistoryTable;
  interaction: InteractionTable;
  feedback: FeedbackTable;
  event: EventTable;
  schema_migration: SchemaMigrationTable;
}
