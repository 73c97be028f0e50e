import { z } from 'zod';
import { isFeedbackMeasure, MEASURES, type Measure } from '../domain/metrics.js';
import { parseTimestamp } from '../domain/timestamp.js';
import { AppError } from '../errors.js';

/**
 * What a metrics request asks for, parsed from query strings (API) or options (CLI) alike:
 * `measures=nps,csat&by=lifecycleStage,month&from=2026-01-01&to=2026-06-30&filter=channel:phone|chat`.
 */

export const TIME_UNITS = ['day', 'week', 'month', 'quarter'] as const;
export type TimeUnit = (typeof TIME_UNITS)[number];

/** Dimensions that are columns of an encounter. */
export const FIELD_DIMENSIONS = [
  'lifecycleStage',
  'personalityType',
  'segment',
  'channel',
  'touchpoint',
  'team',
  'agent',
  'source',
  'experienceRating',
  'transfers',
] as const;
export type FieldDimension = (typeof FIELD_DIMENSIONS)[number];

/** Dimensions that only feedback has. */
const FEEDBACK_ONLY = new Set<string>(['source', 'experienceRating']);

export type Dimension =
  | { kind: 'field'; name: FieldDimension }
  | { kind: 'customerAttribute'; name: string; key: string }
  | { kind: 'answer'; name: string; key: string }
  | { kind: 'time'; name: TimeUnit };

export interface Filter {
  dimension: Dimension;
  values: string[];
}

export interface MetricsRequest {
  measures: Measure[];
  by: Dimension[];
  /** Encounters at or after `from`, before `to`. */
  from: Date | null;
  to: Date | null;
  filters: Filter[];
  compare: 'rest' | 'previousPeriod' | null;
  /** Cells with fewer answers are flagged lowSample. */
  minN: number;
  /** A contact is repeated when the customer is in contact again within this many days. */
  repeatWindowDays: number;
}

const ATTRIBUTE = /^customer\.attributes\.(.{1,100})$/;
const ANSWER = /^answers\.(.{1,100})$/;

/** A dimension by its API name, or undefined. */
export const parseDimension = (name: string): Dimension | undefined => {
  // PostgreSQL cannot compare text holding NUL: no dimension is named with one.
  if (name.includes(String.fromCharCode(0))) return undefined;
  if ((FIELD_DIMENSIONS as readonly string[]).includes(name))
    return { kind: 'field', name: name as FieldDimension };
  if ((TIME_UNITS as readonly string[]).includes(name)) return { kind: 'time', name: name as TimeUnit };
  const attribute = ATTRIBUTE.exec(name);
  if (attribute?.[1]) return { kind: 'customerAttribute', name, key: attribute[1] };
  const answer = ANSWER.exec(name);
  if (answer?.[1]) return { kind: 'answer', name, key: answer[1] };
  return undefined;
};

/** Whether a dimension exists on contacts (interactions) as well as on feedback. */
export const appliesToContacts = (dimension: Dimension): boolean =>
  dimension.kind === 'time' ||
  dimension.kind === 'customerAttribute' ||
  (dimension.kind === 'field' && !FEEDBACK_ONLY.has(dimension.name));

const DIMENSION_HELP = `${[...FIELD_DIMENSIONS, ...TIME_UNITS].join(', ')}, customer.attributes.KEY or answers.KEY`;

const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** A day (YYYY-MM-DD) as `to` means the end of that day; a date-time is taken as given. */
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/** The query-string form, for OpenAPI and for validation of the raw strings. */
export const metricsQuerySchema = z.object({
  measures: z
    .string()
    .max(500)
    .default('nps')
    .describe(`Comma-separated: ${MEASURES.join(', ')}.`),
  by: z.string().max(1000).optional().describe(`Comma-separated dimensions (the cube): ${DIMENSION_HELP}.`),
  from: z.string().max(40).optional().describe('Encounters at or after this date or date-time (ISO 8601).'),
  to: z
    .string()
    .max(40)
    .optional()
    .describe('Encounters before this date-time; a date (YYYY-MM-DD) includes that whole day.'),
  filter: z
    .union([z.string().max(2000), z.array(z.string().max(2000)).max(20, 'at most 20 filters')], {
      error: 'must be DIMENSION:VALUE|VALUE…, at most 20 filters of at most 2000 characters',
    })
    .optional()
    .describe('DIMENSION:VALUE|VALUE…, repeatable; e.g. `filter=channel:phone|chat&filter=segment:SMB`.'),
  compare: z
    .enum(['rest', 'previousPeriod'])
    .optional()
    .describe(
      '`rest`: each cell against everything else in the period; `previousPeriod`: each cell against the same cell in the period of equal length before `from` (needs from and to).',
    ),
  minN: z.coerce
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .default(30)
    .describe('Cells with fewer answers are flagged lowSample.'),
  repeatWindowDays: z.coerce
    .number()
    .min(0)
    .max(365)
    .default(7)
    .describe('A contact is a repeat when the same customer is in contact again within this many days.'),
});
export type MetricsQueryString = z.input<typeof metricsQuerySchema>;

const bad = (path: string, message: string) =>
  new AppError(400, 'validation_failed', `Invalid request: ${path} ${message}`, [
    { path: `query.${path}`, message },
  ]);

const timeOf = (path: string, value: string | undefined, endOfDay: boolean): Date | null => {
  if (value === undefined || value === '') return null;
  const parsed = parseTimestamp(value);
  if (!parsed) throw bad(path, `must be an ISO 8601 date or date-time, got "${value}"`);
  return endOfDay && DATE_ONLY.test(value) ? new Date(parsed.getTime() + 86_400_000) : parsed;
};

const dimension = (path: string, name: string) => {
  const parsed = parseDimension(name);
  if (!parsed) throw bad(path, `unknown dimension "${name}"; use ${DIMENSION_HELP}`);
  return parsed;
};

/** The encounters a request selects: its period and filters (metrics and extremes alike). */
export const parseSelection = (input: {
  from?: string | undefined;
  to?: string | undefined;
  filter?: string | string[] | undefined;
}): { from: Date | null; to: Date | null; filters: Filter[] } => {
  const filters = (typeof input.filter === 'string' ? [input.filter] : (input.filter ?? [])).map((text) => {
    const colon = text.indexOf(':');
    if (colon < 1) throw bad('filter', `"${text}" must read DIMENSION:VALUE, e.g. channel:phone|chat`);
    const values = text
      .slice(colon + 1)
      .split('|')
      .map((value) => value.trim());
    if (values.some((value) => value === '')) throw bad('filter', `"${text}" has an empty value`);
    if (values.some((value) => value.includes(String.fromCharCode(0)))) {
      throw bad('filter', 'must not contain the NUL character (\\u0000)');
    }
    return { dimension: dimension('filter', text.slice(0, colon).trim()), values };
  });
  const from = timeOf('from', input.from, false);
  const to = timeOf('to', input.to, true);
  if (from && to && from >= to) throw bad('to', 'must be after from');
  return { from, to, filters };
};

/** The parsed request, or a 400 naming the parameter that is wrong and what is allowed. */
export const parseMetricsRequest = (input: z.output<typeof metricsQuerySchema>): MetricsRequest => {
  const measures = list(input.measures);
  if (measures.length === 0) throw bad('measures', `name at least one of ${MEASURES.join(', ')}`);
  for (const measure of measures) {
    if (!(MEASURES as readonly string[]).includes(measure)) {
      throw bad('measures', `unknown measure "${measure}"; use ${MEASURES.join(', ')}`);
    }
  }
  const by = list(input.by).map((name) => dimension('by', name));
  if (new Set(by.map((d) => d.name)).size !== by.length) throw bad('by', 'names a dimension twice');
  if (by.length > 6) throw bad('by', 'at most 6 dimensions');
  const { from, to, filters } = parseSelection(input);
  const compare = input.compare ?? null;
  if (compare === 'previousPeriod') {
    if (!from || !to) throw bad('compare', 'previousPeriod needs both from and to');
    if (by.some((d) => d.kind === 'time')) {
      throw bad(
        'compare',
        'previousPeriod cannot be used with a time dimension (day, week …); use compare=rest',
      );
    }
  }
  const typed = measures as Measure[];
  if (typed.some((m) => !isFeedbackMeasure(m))) {
    const used = [
      ...by.map((d) => ['by', d] as const),
      ...filters.map((f) => ['filter', f.dimension] as const),
    ];
    for (const [path, d] of used) {
      if (!appliesToContacts(d)) {
        throw bad(
          path,
          `${d.name} exists on feedback only; contact measures (${typed.filter((m) => !isFeedbackMeasure(m)).join(', ')}) cannot be grouped or filtered by it`,
        );
      }
    }
  }
  return {
    measures: [...new Set(typed)],
    by,
    from,
    to,
    filters,
    compare,
    minN: input.minN,
    repeatWindowDays: input.repeatWindowDays,
  };
};
