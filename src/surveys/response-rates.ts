import { type RawBuilder, sql } from 'kysely';
import { z } from 'zod';
import type { Db } from '../db/index.js';

/** What response rates can be grouped by. */
export const RESPONSE_RATE_DIMENSIONS = [
  'survey',
  'channel',
  'touchpoint',
  'segment',
  'trigger',
  'language',
] as const;
export type ResponseRateDimension = (typeof RESPONSE_RATE_DIMENSIONS)[number];

const COLUMN: Record<ResponseRateDimension, RawBuilder<unknown>> = {
  survey: sql`s.name || ' (#' || i.survey_id || ')'`,
  channel: sql`i.channel`,
  touchpoint: sql`i.touchpoint`,
  // The segment at the contact when the invitation is about one, else the customer's.
  segment: sql`coalesce(x.segment, c.segment)`,
  trigger: sql`i.trigger_id::text`,
  language: sql`i.language`,
};

const day = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

/** The query of response rates, as the API and `touchpoint report --response-rates` take it. */
export const responseRateQuerySchema = z
  .object({
    by: z
      .string()
      .optional()
      .transform((value) => (value ? value.split(',').map((part) => part.trim()) : []))
      .pipe(z.array(z.enum(RESPONSE_RATE_DIMENSIONS)).max(3))
      .describe(`Comma-separated: ${RESPONSE_RATE_DIMENSIONS.join(', ')}.`),
    surveyId: z.coerce.number().int().positive().optional(),
    from: day.optional().describe('Invitations created at or after this date(-time).'),
    to: day.optional().describe('Invitations created before this date-time; a date includes that whole day.'),
  })
  .strict();

export interface FunnelCounts {
  /** Invitations that were to go out: all but the suppressed ones. */
  invited: number;
  /** Handed to the channel (SMTP accepted, provider answered 2xx) or issued as a link. */
  delivered: number;
  opened: number;
  started: number;
  completed: number;
  suppressed: number;
  failed: number;
  /** completed / delivered, in percent; null when nothing was delivered. */
  responseRate: number | null;
}

export interface ResponseRateRow extends FunnelCounts {
  group: Record<string, string | null>;
}

export interface ResponseRateQuery {
  by: ResponseRateDimension[];
  surveyId?: number | undefined;
  /** Invitations created from (inclusive) / to (exclusive). */
  from?: string | undefined;
  to?: string | undefined;
}

/** The exclusive end of a `to`: a date includes that whole day (UTC), as in the metrics. */
const endOf = (to: string) =>
  /^\d{4}-\d{2}-\d{2}$/.test(to) ? new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000) : new Date(to);

/** The funnel of a set of counts, with its response rate. */
export const funnelOf = (counts: Omit<FunnelCounts, 'responseRate'>): FunnelCounts => ({
  ...counts,
  responseRate:
    counts.delivered === 0 ? null : Math.round((counts.completed / counts.delivered) * 10_000) / 100,
});

/**
 * Response rates: invited, delivered, opened, started, completed, suppressed and failed
 * invitations, by survey, channel, touchpoint, segment, trigger or language, with the total.
 */
export const responseRates = async (
  db: Db,
  workspaceId: number,
  query: ResponseRateQuery,
): Promise<{ by: ResponseRateDimension[]; total: FunnelCounts; rows: ResponseRateRow[] }> => {
  const names = query.by.map((_, index) => sql.ref(`g${index}`));
  const dimensions = query.by.map((dimension, index) => sql`${COLUMN[dimension]} AS ${names[index]}`);
  const grouped = names.length === 0 ? sql`0` : sql`GROUPING(${sql.join(names)})`;
  const sets = names.length === 0 ? sql`()` : sql`(${sql.join(names)}), ()`;
  const { rows } = await sql<Record<string, unknown>>`
    SELECT ${names.length === 0 ? sql`` : sql`${sql.join(names)},`} ${grouped} AS grouping,
      count(*) FILTER (WHERE status <> 'suppressed')::int AS invited,
      count(*) FILTER (WHERE status = 'sent')::int AS delivered,
      count(opened_at)::int AS opened,
      count(started_at)::int AS started,
      count(completed_at)::int AS completed,
      count(*) FILTER (WHERE status = 'suppressed')::int AS suppressed,
      count(*) FILTER (WHERE status = 'failed')::int AS failed
    FROM (
      SELECT ${sql.join([...dimensions, sql`i.status, i.opened_at, i.started_at, i.completed_at`])}
      FROM invitation i
      JOIN survey s ON s.id = i.survey_id
      LEFT JOIN customer c ON c.id = i.customer_id
      LEFT JOIN interaction x ON x.id = i.interaction_id
      WHERE i.workspace_id = ${workspaceId}
        ${query.surveyId === undefined ? sql`` : sql`AND i.survey_id = ${query.surveyId}`}
        ${query.from ? sql`AND i.created_at >= ${new Date(query.from)}` : sql``}
        ${query.to ? sql`AND i.created_at < ${endOf(query.to)}` : sql``}
    ) AS q
    GROUP BY GROUPING SETS (${sets})`.execute(db);
  const counts = (row: Record<string, unknown>) =>
    funnelOf({
      invited: Number(row.invited),
      delivered: Number(row.delivered),
      opened: Number(row.opened),
      started: Number(row.started),
      completed: Number(row.completed),
      suppressed: Number(row.suppressed),
      failed: Number(row.failed),
    });
  const empty = funnelOf({
    invited: 0,
    delivered: 0,
    opened: 0,
    started: 0,
    completed: 0,
    suppressed: 0,
    failed: 0,
  });
  const totalRow = rows.find((row) => Number(row.grouping) !== 0 || query.by.length === 0);
  const groups = query.by.length === 0 ? [] : rows.filter((row) => Number(row.grouping) === 0);
  return {
    by: query.by,
    total: totalRow ? counts(totalRow) : empty,
    rows: groups
      .map((row) => ({
        group: Object.fromEntries(
          query.by.map((dimension, index) => [dimension, (row[`g${index}`] as string | null) ?? null]),
        ),
        ...counts(row),
      }))
      .sort((a, b) => b.invited + b.suppressed - (a.invited + a.suppressed)),
  };
};
