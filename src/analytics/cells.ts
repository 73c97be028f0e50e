import { type RawBuilder, sql } from 'kysely';
import type { Db } from '../db/index.js';
import { EXPERIENCE_RATINGS } from '../domain/experience-rating.js';
import {
  type ContactCell,
  emptyContactCell,
  emptyFeedbackCell,
  type FeedbackCell,
} from '../domain/metrics.js';
import type { Dimension, FieldDimension, Filter } from './params.js';

/**
 * Cells of counts from the raw tables, one per combination of the grouping dimensions, plus the
 * total over everything selected: one scan with GROUPING SETS. The measures are computed from
 * the cells in src/domain/metrics.ts.
 */

export interface CellQuery {
  workspaceId: number;
  by: readonly Dimension[];
  filters: readonly Filter[];
  from: Date | null;
  to: Date | null;
}

export interface Cells<C> {
  /** One entry per group: the dimension values in `by` order (null when the encounter has none). */
  groups: { key: (string | null)[]; cell: C }[];
  total: C;
}

type Source = 'feedback' | 'contacts';

const COLUMNS: Record<FieldDimension, string> = {
  lifecycleStage: 'lifecycle_stage',
  personalityType: 'personality_type',
  segment: 'segment',
  channel: 'channel',
  touchpoint: 'touchpoint',
  team: 'team',
  agent: 'agent',
  source: 'source',
  experienceRating: 'experience_rating',
  transfers: 'transfers',
};

/** Dimensions that feedback takes from the interaction it is about. */
const FROM_INTERACTION = new Set<FieldDimension>(['team', 'agent', 'transfers']);

const RATING_NAMES = sql.raw(`ARRAY[${EXPERIENCE_RATINGS.map((name) => `'${name}'`).join(', ')}]`);

/** The SQL value of a dimension for one encounter (f: feedback, i: interaction, c: customer). */
const dimensionSql = (dimension: Dimension, source: Source): RawBuilder<string | null> => {
  const own = source === 'feedback' ? 'f' : 'i';
  switch (dimension.kind) {
    case 'field': {
      const column = COLUMNS[dimension.name];
      if (dimension.name === 'experienceRating') return sql`(${RATING_NAMES})[f.experience_rating]`;
      const table = FROM_INTERACTION.has(dimension.name) && source === 'feedback' ? 'li' : own;
      const value = sql.ref(`${table}.${column}`);
      // Transfers in bands: 0, 1, 2, 3+.
      if (dimension.name === 'transfers')
        return sql`CASE WHEN ${value} >= 3 THEN '3+' ELSE ${value}::text END`;
      return sql`${value}`;
    }
    case 'customerAttribute':
      return sql`c.attributes ->> ${dimension.key}`;
    case 'answer':
      return sql`f.answers ->> ${dimension.key}`;
    case 'time':
      return sql`to_char(date_trunc(${dimension.name}, ${sql.ref(`${own}.occurred_at`)} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')`;
  }
};

const uses = (query: CellQuery, test: (d: Dimension) => boolean) =>
  query.by.some(test) || query.filters.some((f) => test(f.dimension));

/**
 * The FROM … WHERE of the encounters selected, with their dimension values as d0, d1 … and
 * `columns`. `withCustomer` joins the customer (c) even when no dimension needs it.
 */
export const selection = (
  query: CellQuery,
  source: Source,
  columns: RawBuilder<unknown>,
  withCustomer = false,
) => {
  const own = source === 'feedback' ? 'f' : 'i';
  const table = source === 'feedback' ? sql`feedback f` : sql`interaction i`;
  const joins: RawBuilder<unknown>[] = [];
  if (withCustomer || uses(query, (d) => d.kind === 'customerAttribute')) {
    joins.push(sql`LEFT JOIN customer c ON c.id = ${sql.ref(`${own}.customer_id`)}`);
  }
  if (source === 'feedback' && uses(query, (d) => d.kind === 'field' && FROM_INTERACTION.has(d.name))) {
    joins.push(
      sql`LEFT JOIN interaction li ON li.workspace_id = f.workspace_id AND li.external_id = f.interaction_external_id`,
    );
  }
  const where: RawBuilder<unknown>[] = [sql`${sql.ref(`${own}.workspace_id`)} = ${query.workspaceId}`];
  if (query.from) where.push(sql`${sql.ref(`${own}.occurred_at`)} >= ${query.from}`);
  if (query.to) where.push(sql`${sql.ref(`${own}.occurred_at`)} < ${query.to}`);
  for (const filter of query.filters) {
    where.push(sql`${dimensionSql(filter.dimension, source)} = ANY(${sql.val(filter.values)}::text[])`);
  }
  const dims = query.by.map((d, i) => sql`${dimensionSql(d, source)} AS ${sql.ref(`d${i}`)}`);
  return sql`SELECT ${sql.join([...dims, columns])} FROM ${table} ${sql.join(joins, sql` `)} WHERE ${sql.join(where, sql` AND `)}`;
};

/** GROUP BY the dimensions and the total in one go; `is_total` tells the total's row. */
const grouping = (query: CellQuery) => {
  if (query.by.length === 0) return { select: sql`true AS is_total`, groupBy: sql`` };
  const refs = query.by.map((_, i) => sql.ref(`d${i}`));
  return {
    select: sql`${sql.join(refs)}, GROUPING(${sql.join(refs)}) <> 0 AS is_total`,
    groupBy: sql`GROUP BY GROUPING SETS ((${sql.join(refs)}), ())`,
  };
};

const counts = (column: string, first: number, last: number) =>
  sql.join(
    Array.from({ length: last - first + 1 }, (_, k) =>
      sql.raw(`count(*) FILTER (WHERE ${column} = ${first + k})`),
    ),
  );

type Row = Record<string, unknown> & { is_total: boolean };

const split = <C>(query: CellQuery, rows: Row[], toCell: (row: Row) => C, empty: () => C): Cells<C> => {
  const totalRow = rows.find((row) => row.is_total);
  const total = totalRow ? toCell(totalRow) : empty();
  if (query.by.length === 0) return { groups: [{ key: [], cell: total }], total };
  const groups = rows
    .filter((row) => !row.is_total)
    .map((row) => ({
      key: query.by.map((_, i) => (row[`d${i}`] as string | null) ?? null),
      cell: toCell(row),
    }));
  return { groups, total };
};

// ---------------------------------------------------------------------------------------------
// Feedback from the pre-aggregates (migration 0002): per day and the dimensions below.

const ROLLUP_FIELDS = new Set<FieldDimension>([
  'lifecycleStage',
  'personalityType',
  'segment',
  'channel',
  'touchpoint',
  'source',
]);
const DAY_MS = 86_400_000;

const dimensionsOf = (query: CellQuery) => [...query.by, ...query.filters.map((f) => f.dimension)];

/** Whether the pre-aggregates answer a query exactly: their dimensions, whole UTC days. */
export const rollupCovers = (query: CellQuery): boolean =>
  dimensionsOf(query).every((d) => d.kind === 'time' || (d.kind === 'field' && ROLLUP_FIELDS.has(d.name))) &&
  [query.from, query.to].every((t) => t === null || t.getTime() % DAY_MS === 0);

const monthStart = (t: Date | null) => t === null || (t.getTime() % DAY_MS === 0 && t.getUTCDate() === 1);

/**
 * The smallest grain that answers a covered query: per day only (no other dimension), per month
 * (months or quarters over whole months), or the full daily grain.
 */
export type Grain = 'day' | 'month' | 'full';
export const rollupGrain = (query: CellQuery): Grain => {
  const dimensions = dimensionsOf(query);
  if (dimensions.every((d) => d.kind === 'time')) return 'day';
  const coarse = dimensions.every((d) => d.kind !== 'time' || d.name === 'month' || d.name === 'quarter');
  return coarse && monthStart(query.from) && monthStart(query.to) ? 'month' : 'full';
};

const GRAINS = {
  day: { table: 'feedback_rollup_day', time: 'day' },
  month: { table: 'feedback_rollup_month', time: 'month' },
  full: { table: 'feedback_rollup', time: 'day' },
  delta: { table: 'feedback_rollup_delta', time: 'day' },
} as const;

const rollupDimension = (dimension: Dimension, time: string): RawBuilder<string | null> => {
  if (dimension.kind === 'time') {
    return sql`to_char(date_trunc(${dimension.name}, ${sql.ref(`r.${time}`)}::timestamp), 'YYYY-MM-DD')`;
  }
  if (dimension.kind !== 'field') throw new Error(`${dimension.name} is not in the pre-aggregates`);
  return sql`NULLIF(${sql.ref(`r.${COLUMNS[dimension.name]}`)}, '')`;
};

const ROLLUP_COUNTS = sql.raw(
  [
    'responses',
    ...Array.from({ length: 11 }, (_, k) => `nps${k}`),
    ...Array.from({ length: 5 }, (_, k) => `csat${k + 1}`),
    ...Array.from({ length: 7 }, (_, k) => `ces${k + 1}`),
    ...Array.from({ length: 5 }, (_, k) => `rating${k + 1}`),
  ].join(', '),
);
const sums = (prefix: string, first: number, last: number) =>
  sql.raw(Array.from({ length: last - first + 1 }, (_, k) => `sum(${prefix}${first + k})`).join(', '));
const day = (time: Date) => time.toISOString().slice(0, 10);

/** The counts of one grain (or of the pending deltas) for the query, with d0, d1 … */
const rollupSelection = (query: CellQuery, grain: keyof typeof GRAINS) => {
  const { table, time } = GRAINS[grain];
  const at = sql.ref(`r.${time}`);
  const where: RawBuilder<unknown>[] = [sql`r.workspace_id = ${query.workspaceId}`];
  if (query.from) where.push(sql`${at} >= ${day(query.from)}::date`);
  if (query.to) where.push(sql`${at} < ${day(query.to)}::date`);
  for (const filter of query.filters) {
    where.push(sql`${rollupDimension(filter.dimension, time)} = ANY(${sql.val(filter.values)}::text[])`);
  }
  const dims = query.by.map((d, i) => sql`${rollupDimension(d, time)} AS ${sql.ref(`d${i}`)}`);
  return sql`SELECT ${sql.join([...dims, ROLLUP_COUNTS])} FROM ${sql.table(table)} r WHERE ${sql.join(where, sql` AND `)}`;
};

const toFeedbackCell = (row: Row): FeedbackCell => ({
  responses: Number(row.responses),
  nps: (row.nps as unknown[]).map(Number),
  csat: (row.csat as unknown[]).map(Number),
  ces: (row.ces as unknown[]).map(Number),
  rating: (row.rating as unknown[]).map(Number),
});

/**
 * Feedback cells: counts per NPS, CSAT and CES score and per experience rating. From the
 * pre-aggregates (folded rollup plus pending deltas, so exact at every moment) when they cover the
 * query, else from the feedback table.
 */
export const feedbackCells = async (
  db: Db,
  query: CellQuery,
  options: { rollup?: boolean } = {},
): Promise<Cells<FeedbackCell>> => {
  const { select, groupBy } = grouping(query);
  if (options.rollup !== false && rollupCovers(query)) {
    const { rows } = await sql<Row>`
      SELECT ${select}, sum(responses) AS responses,
        ARRAY[${sums('nps', 0, 10)}] AS nps,
        ARRAY[${sums('csat', 1, 5)}] AS csat,
        ARRAY[${sums('ces', 1, 7)}] AS ces,
        ARRAY[${sums('rating', 1, 5)}] AS rating
      FROM (${rollupSelection(query, rollupGrain(query))} UNION ALL ${rollupSelection(query, 'delta')}) x
      ${groupBy} HAVING sum(responses) > 0`.execute(db);
    return split(query, rows, toFeedbackCell, emptyFeedbackCell);
  }
  const inner = selection(query, 'feedback', sql`f.nps, f.csat, f.ces, f.experience_rating`);
  const { rows } = await sql<Row>`
    SELECT ${select}, count(*) AS responses,
      ARRAY[${counts('nps', 0, 10)}] AS nps,
      ARRAY[${counts('csat', 1, 5)}] AS csat,
      ARRAY[${counts('ces', 1, 7)}] AS ces,
      ARRAY[${counts('experience_rating', 1, 5)}] AS rating
    FROM (${inner}) x ${groupBy}`.execute(db);
  return split(query, rows, toFeedbackCell, emptyFeedbackCell);
};

/**
 * Contact cells. A contact is repeated when the same customer has another contact later, within
 * `repeatWindowDays` (any channel, selected or not).
 */
export const contactCells = async (
  db: Db,
  query: CellQuery & { repeatWindowDays: number; needRepeats: boolean },
): Promise<Cells<ContactCell>> => {
  // A fixed length (seconds): "1 day" added to a timestamptz follows the session's clock changes.
  const repeated = query.needRepeats
    ? sql`EXISTS (SELECT 1 FROM interaction j WHERE j.customer_id = i.customer_id AND j.workspace_id = i.workspace_id
        AND j.occurred_at > i.occurred_at AND j.occurred_at <= i.occurred_at + make_interval(secs => ${query.repeatWindowDays}::float8 * 86400))`
    : sql`false`;
  const inner = selection(
    query,
    'contacts',
    sql`i.wait_seconds, i.transfers, i.resolved, ${repeated} AS repeated`,
  );
  const { select, groupBy } = grouping(query);
  const { rows } = await sql<Row>`
    SELECT ${select}, count(*) AS contacts,
      count(wait_seconds) AS wait_n, coalesce(sum(wait_seconds), 0) AS wait_sum,
      coalesce(sum(wait_seconds * wait_seconds), 0) AS wait_squares,
      percentile_cont(0.9) WITHIN GROUP (ORDER BY wait_seconds) AS wait_p90,
      count(transfers) AS transfers_n, count(*) FILTER (WHERE transfers > 0) AS transferred,
      count(resolved) AS resolved_n, count(*) FILTER (WHERE resolved AND NOT repeated) AS first_contact_resolved,
      count(*) FILTER (WHERE repeated) AS repeated
    FROM (${inner}) x ${groupBy}`.execute(db);
  return split(
    query,
    rows,
    (row) => ({
      contacts: Number(row.contacts),
      wait: { n: Number(row.wait_n), sum: Number(row.wait_sum), sumSquares: Number(row.wait_squares) },
      waitP90: row.wait_p90 === null ? null : Number(row.wait_p90),
      transferred: { n: Number(row.transfers_n), yes: Number(row.transferred) },
      firstContactResolved: { n: Number(row.resolved_n), yes: Number(row.first_contact_resolved) },
      repeated: { n: Number(row.contacts), yes: Number(row.repeated) },
    }),
    emptyContactCell,
  );
};
