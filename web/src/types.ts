/** Shapes of the API responses the dashboard reads (see src/server/routes/*.ts and the OpenAPI document). */

export type Role = 'admin' | 'analyst' | 'manager' | 'agent';

/** GET /api/v1/auth/session and POST /api/v1/auth/login. */
export interface Session {
  user: { id: number | string; email: string; name: string | null };
  workspace: { id: number | string; slug: string; name: string };
  role: Role;
  permissions: { read: boolean; write: boolean; admin: boolean; workCases: boolean };
  csrfToken: string;
  expiresAt?: string;
  workspaces: { slug: string; name: string; role: Role }[];
}

export type Measure =
  | 'nps'
  | 'csat'
  | 'ces'
  | 'responses'
  | 'topBoxShare'
  | 'bottomBoxShare'
  | 'poorShare'
  | 'contacts'
  | 'avgWaitSeconds'
  | 'transferRate'
  | 'firstContactResolution'
  | 'repeatContactRate';

export type Direction = 'higher' | 'lower' | 'same';

/** One measure of one cell of GET /api/v1/metrics. */
export interface MeasureResult {
  value: number | null;
  n: number;
  moe: number | null;
  low: number | null;
  high: number | null;
  lowSample: boolean;
  distribution?: Record<string, number>;
  mean?: { value: number | null; moe: number | null };
  p90?: number | null;
  comparison?: {
    against: 'rest' | 'previousPeriod';
    value: number | null;
    p: number | null;
    pAdjusted: number | null;
    direction: Direction | null;
  };
}

export interface MetricsRow {
  group: Record<string, string | null>;
  measures: Partial<Record<Measure, MeasureResult>>;
}

export interface MetricsResponse {
  measures: Measure[];
  by: string[];
  from: string | null;
  to: string | null;
  minN: number;
  compare: 'rest' | 'previousPeriod' | null;
  total: MetricsRow;
  rows: MetricsRow[];
}

/** One item of GET /api/v1/extremes. */
export interface Extreme {
  feedbackId: string;
  occurredAt: string;
  experienceRating: string;
  nps: number | null;
  csat: number | null;
  ces: number | null;
  text: string | null;
  source: string;
  channel: string | null;
  touchpoint: string | null;
  interactionId: string | null;
  /** The case this encounter raised, if any. */
  caseId: number | null;
  customer: {
    externalId: string;
    name: string | null;
    segment: string | null;
    lifecycleStage: string | null;
    personalityType: string | null;
  } | null;
}

export interface ExtremesResponse {
  items: Extreme[];
  nextCursor: string | null;
}
