import type { Db } from '../db/index.js';
import { EXPERIENCE_RATINGS } from '../domain/experience-rating.js';
import {
  type ContactCell,
  type ContactMeasure,
  contactDifferenceP,
  contactMeasure,
  contactRest,
  emptyContactCell,
  emptyFeedbackCell,
  type FeedbackCell,
  type FeedbackMeasure,
  feedbackDifferenceP,
  feedbackMeasure,
  feedbackRest,
  isFeedbackMeasure,
  type Measure,
  type MeasureValue,
  TEST_METHODS,
} from '../domain/metrics.js';
import { benjaminiHochberg } from '../domain/statistics.js';
import { AppError } from '../errors.js';
import { type Cells, contactCells, feedbackCells } from './cells.js';
import type { Dimension, MetricsRequest } from './params.js';

/** Most cells one response may hold; a finer cube needs a filter. */
export const MAX_CELLS = 10_000;
/** The false discovery rate below which a difference is called higher or lower. */
export const SIGNIFICANCE = 0.05;

export interface Comparison {
  against: 'rest' | 'previousPeriod';
  /** The measure's value in what the cell is compared with. */
  value: number | null;
  /** Two-sided p-value of the test named in `method.tests`, and adjusted across the response. */
  p: number | null;
  pAdjusted: number | null;
  /** higher / lower when the adjusted p is below 0.05, else same; null when there is no test. */
  direction: 'higher' | 'lower' | 'same' | null;
}

export type MeasureResult = MeasureValue & { comparison?: Comparison };

export interface MetricsRow {
  group: Record<string, string | null>;
  measures: Partial<Record<Measure, MeasureResult>>;
}

export interface MetricsResult {
  measures: Measure[];
  by: string[];
  from: string | null;
  to: string | null;
  minN: number;
  compare: MetricsRequest['compare'];
  method: {
    confidence: number;
    margins: Record<string, string>;
    tests: Partial<Record<Measure, string>>;
    multipleComparisons: string | null;
  };
  total: MetricsRow;
  rows: MetricsRow[];
}

interface Both {
  key: (string | null)[];
  feedback: FeedbackCell;
  contacts: ContactCell;
}

const keyOf = (key: (string | null)[]) => JSON.stringify(key);

const merge = (feedback: Cells<FeedbackCell> | null, contacts: Cells<ContactCell> | null) => {
  const cells = new Map<string, Both>();
  const entry = (key: (string | null)[]) => {
    const id = keyOf(key);
    let both = cells.get(id);
    if (!both) {
      both = { key, feedback: emptyFeedbackCell(), contacts: emptyContactCell() };
      cells.set(id, both);
    }
    return both;
  };
  for (const { key, cell } of feedback?.groups ?? []) entry(key).feedback = cell;
  for (const { key, cell } of contacts?.groups ?? []) entry(key).contacts = cell;
  return {
    cells,
    total: {
      key: [],
      feedback: feedback?.total ?? emptyFeedbackCell(),
      contacts: contacts?.total ?? emptyContactCell(),
    } as Both,
  };
};

const compareKeys = (by: readonly Dimension[]) => (a: Both, b: Both) => {
  for (let i = 0; i < by.length; i++) {
    const x = a.key[i] ?? null;
    const y = b.key[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const d = by[i] as Dimension;
    if (d.kind === 'field' && d.name === 'experienceRating') {
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
 * The metrics a request asks for, read from the raw tables: the measures of every cell of the cube
 * and of the total, with margins, low-sample flags and (on request) a corrected comparison.
 */
export const computeMetrics = async (
  db: Db,
  workspaceId: number,
  request: MetricsRequest,
  options: { rollup?: boolean } = {},
): Promise<MetricsResult> => {
  const wantsFeedback = request.measures.some(isFeedbackMeasure);
  const wantsContacts = request.measures.some((m) => !isFeedbackMeasure(m));
  const needRepeats =
    request.measures.includes('repeatContactRate') || request.measures.includes('firstContactResolution');

  const read = async (from: Date | null, to: Date | null) => {
    const query = { workspaceId, by: request.by, filters: request.filters, from, to };
    const [feedback, contacts] = [
      wantsFeedback ? await feedbackCells(db, query, options) : null,
      wantsContacts
        ? await contactCells(db, { ...query, repeatWindowDays: request.repeatWindowDays, needRepeats })
        : null,
    ];
    return merge(feedback, contacts);
  };

  const current = await read(request.from, request.to);
  if (current.cells.size > MAX_CELLS) {
    throw new AppError(
      400,
      'too_many_cells',
      `This grouping has ${current.cells.size.toLocaleString('en')} cells, more than ${MAX_CELLS.toLocaleString('en')}. Group by fewer dimensions or add a filter.`,
    );
  }
  let previous: ReturnType<typeof merge> | null = null;
  if (request.compare === 'previousPeriod' && request.from && request.to) {
    const length = request.to.getTime() - request.from.getTime();
    previous = await read(new Date(request.from.getTime() - length), request.from);
  }

  const others = (both: Both, isTotal: boolean): Both | null => {
    if (request.compare === 'rest') {
      if (isTotal) return null;
      return {
        key: both.key,
        feedback: feedbackRest(current.total.feedback, both.feedback),
        contacts: contactRest(current.total.contacts, both.contacts),
      };
    }
    if (previous) {
      if (isTotal) return previous.total;
      return (
        previous.cells.get(keyOf(both.key)) ?? {
          key: both.key,
          feedback: emptyFeedbackCell(),
          contacts: emptyContactCell(),
        }
      );
    }
    return null;
  };

  const ordered = [...current.cells.values()].sort(compareKeys(request.by));
  const pending: { result: MeasureResult; p: number | null }[] = [];
  const toRow = (both: Both, isTotal: boolean): MetricsRow => {
    const other = others(both, isTotal);
    const measures: MetricsRow['measures'] = {};
    for (const measure of request.measures) {
      const result: MeasureResult = measureOf(measure, both, request.minN);
      if (other && request.compare) {
        const against = measureOf(measure, other, request.minN);
        // Below minN a test means nothing (one answer has no variance): such cells are not tested.
        const p = result.lowSample || against.lowSample ? null : pOf(measure, both, other);
        result.comparison = {
          against: request.compare,
          value: against.value,
          p,
          pAdjusted: null,
          direction: null,
        };
        pending.push({ result, p });
      }
      measures[measure] = result;
    }
    return {
      group: isTotal ? {} : Object.fromEntries(request.by.map((d, i) => [d.name, both.key[i] ?? null])),
      measures,
    };
  };
  const total = toRow(current.total, true);
  const rows = ordered.map((both) => toRow(both, false));

  const adjusted = benjaminiHochberg(pending.map((entry) => entry.p));
  pending.forEach(({ result }, i) => {
    const comparison = result.comparison as Comparison;
    const pAdjusted = adjusted[i] ?? null;
    comparison.pAdjusted = pAdjusted;
    if (pAdjusted === null || result.value === null || comparison.value === null) return;
    comparison.direction =
      pAdjusted >= SIGNIFICANCE || result.value === comparison.value
        ? 'same'
        : result.value > comparison.value
          ? 'higher'
          : 'lower';
  });

  return {
    measures: request.measures,
    by: request.by.map((d) => d.name),
    from: request.from?.toISOString() ?? null,
    to: request.to?.toISOString() ?? null,
    minN: request.minN,
    compare: request.compare,
    method: {
      confidence: 0.95,
      margins: {
        nps: '1.96 × √((pP + pD − (pP − pD)²) / n) × 100',
        shares: 'Wilson score interval',
        means: "Student's t interval",
      },
      tests: Object.fromEntries(
        request.compare ? request.measures.map((m) => [m, TEST_METHODS[m] ?? 'none (a count)']) : [],
      ),
      multipleComparisons: request.compare
        ? `Benjamini–Hochberg across all ${pending.filter((e) => e.p !== null).length} tests of this response; a difference is called at an adjusted p below ${SIGNIFICANCE}`
        : null,
    },
    total,
    rows,
  };
};
