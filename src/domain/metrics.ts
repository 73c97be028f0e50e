import { EXPERIENCE_RATINGS, experienceRatingLevel } from './experience-rating.js';
import {
  type Moments,
  normalTwoSidedP,
  sampleVariance,
  studentTQuantile,
  twoProportionP,
  welchP,
  wilson,
  Z95,
} from './statistics.js';

/**
 * The metrics of Touchpoint, defined once (PRODUCT.md "Definitions"). A group of encounters is
 * summarised as a cell of counts — what SQL and the rollups produce — and every measure, margin
 * and test is computed from cells here. Shares and NPS are in percent; means in their own unit.
 */

/** Measures over feedback (the active voice). */
export const FEEDBACK_MEASURES = [
  'nps',
  'csat',
  'ces',
  'responses',
  'topBoxShare',
  'bottomBoxShare',
  'poorShare',
] as const;
/** Measures over interactions (the hard data of contacts). */
export const CONTACT_MEASURES = [
  'contacts',
  'avgWaitSeconds',
  'transferRate',
  'firstContactResolution',
  'repeatContactRate',
] as const;
export const MEASURES = [...FEEDBACK_MEASURES, ...CONTACT_MEASURES] as const;
export type FeedbackMeasure = (typeof FEEDBACK_MEASURES)[number];
export type ContactMeasure = (typeof CONTACT_MEASURES)[number];
export type Measure = (typeof MEASURES)[number];

export const isFeedbackMeasure = (measure: Measure): measure is FeedbackMeasure =>
  (FEEDBACK_MEASURES as readonly string[]).includes(measure);

/** A share: `yes` of `n`. */
export interface Count {
  n: number;
  yes: number;
}

/** Feedback summarised: counts per score value, so every measure and margin stays exact. */
export interface FeedbackCell {
  responses: number;
  /** nps[k] = answers with NPS k (0–10). */
  nps: number[];
  /** csat[k - 1] = answers with CSAT k (1–5). */
  csat: number[];
  /** ces[k - 1] = answers with CES k (1–7). */
  ces: number[];
  /** rating[k - 1] = encounters rated k (1 disastrous … 5 fabulous). */
  rating: number[];
}

/** Contacts summarised. */
export interface ContactCell {
  contacts: number;
  wait: Moments;
  /** The 90th percentile of the wait (continuous, as SQL percentile_cont); not additive. */
  waitP90: number | null;
  /** Contacts with a known number of transfers, and those transferred at least once. */
  transferred: Count;
  /** Contacts with a known outcome, and those resolved with no repeat contact within the window. */
  firstContactResolved: Count;
  /** All contacts, and those followed by another contact of the same customer within the window. */
  repeated: Count;
}

const zeros = (length: number) => Array.from({ length }, () => 0);

export const emptyFeedbackCell = (): FeedbackCell => ({
  responses: 0,
  nps: zeros(11),
  csat: zeros(5),
  ces: zeros(7),
  rating: zeros(5),
});

export const emptyContactCell = (): ContactCell => ({
  contacts: 0,
  wait: { n: 0, sum: 0, sumSquares: 0 },
  waitP90: null,
  transferred: { n: 0, yes: 0 },
  firstContactResolved: { n: 0, yes: 0 },
  repeated: { n: 0, yes: 0 },
});

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const minusArrays = (a: readonly number[], b: readonly number[]) => a.map((v, i) => v - (b[i] ?? 0));
const minusCount = (a: Count, b: Count): Count => ({ n: a.n - b.n, yes: a.yes - b.yes });

/** The cell of everything in `total` that is not in `part` (for "compared with the rest"). */
export const feedbackRest = (total: FeedbackCell, part: FeedbackCell): FeedbackCell => ({
  responses: total.responses - part.responses,
  nps: minusArrays(total.nps, part.nps),
  csat: minusArrays(total.csat, part.csat),
  ces: minusArrays(total.ces, part.ces),
  rating: minusArrays(total.rating, part.rating),
});

export const contactRest = (total: ContactCell, part: ContactCell): ContactCell => ({
  contacts: total.contacts - part.contacts,
  wait: {
    n: total.wait.n - part.wait.n,
    sum: total.wait.sum - part.wait.sum,
    sumSquares: total.wait.sumSquares - part.wait.sumSquares,
  },
  waitP90: null,
  transferred: minusCount(total.transferred, part.transferred),
  firstContactResolved: minusCount(total.firstContactResolved, part.firstContactResolved),
  repeated: minusCount(total.repeated, part.repeated),
});

// ---------------------------------------------------------------------------------------------
// Values with margins

/** One measure of one cell. `moe` is the half-width of the 95% interval [low, high]. */
export interface MeasureValue {
  value: number | null;
  n: number;
  moe: number | null;
  low: number | null;
  high: number | null;
  /** n below the minimum sample size: shown, but not to be trusted. */
  lowSample: boolean;
  /** How the n answers spread: per score or per group (promoters …), in counts. */
  distribution?: Record<string, number>;
  /** CES and wait: the mean with its margin (CES's value is the share "easy"). */
  mean?: { value: number | null; moe: number | null };
  /** Wait: the 90th percentile. */
  p90?: number | null;
}

const none = (n: number, minN: number): MeasureValue => ({
  value: null,
  n,
  moe: null,
  low: null,
  high: null,
  lowSample: n < minN,
});

/** NPS = %promoters − %detractors over answered responses; margin per PRODUCT.md. */
export const npsValue = (counts: readonly number[], minN: number): MeasureValue => {
  const n = sum(counts);
  const detractors = sum(counts.slice(0, 7));
  const passives = sum(counts.slice(7, 9));
  const promoters = sum(counts.slice(9, 11));
  const distribution = { detractors, passives, promoters, ...perScore(counts, 0) };
  if (n === 0) return { ...none(n, minN), distribution };
  const pP = promoters / n;
  const pD = detractors / n;
  const value = (pP - pD) * 100;
  const moe = Z95 * Math.sqrt(npsVariance(counts) / n) * 100;
  return {
    value,
    n,
    moe,
    low: Math.max(-100, value - moe),
    high: Math.min(100, value + moe),
    lowSample: n < minN,
    distribution,
  };
};

/** The variance of one answer's NPS contribution (+1 promoter, 0 passive, −1 detractor). */
const npsVariance = (counts: readonly number[]): number => {
  const n = sum(counts);
  const pP = sum(counts.slice(9, 11)) / n;
  const pD = sum(counts.slice(0, 7)) / n;
  return pP + pD - (pP - pD) ** 2;
};

const perScore = (counts: readonly number[], first: number): Record<string, number> =>
  Object.fromEntries(counts.map((count, i) => [String(first + i), count]));

/** A share in percent with its Wilson interval. */
export const shareValue = (
  { n, yes }: Count,
  minN: number,
  distribution?: Record<string, number>,
): MeasureValue => {
  if (n === 0) return { ...none(n, minN), ...(distribution && { distribution }) };
  const estimate = wilson(yes, n);
  return {
    value: estimate.value * 100,
    n,
    moe: ((estimate.high - estimate.low) / 2) * 100,
    low: estimate.low * 100,
    high: estimate.high * 100,
    lowSample: n < minN,
    ...(distribution && { distribution }),
  };
};

/** A mean with its t interval (no margin below n = 2). */
export const meanValue = (moments: Moments): { value: number | null; moe: number | null } => {
  if (moments.n === 0) return { value: null, moe: null };
  const value = moments.sum / moments.n;
  if (moments.n < 2) return { value, moe: null };
  const moe = studentTQuantile(0.975, moments.n - 1) * Math.sqrt(sampleVariance(moments) / moments.n);
  return { value, moe };
};

const momentsOf = (counts: readonly number[], first: number): Moments => ({
  n: sum(counts),
  sum: sum(counts.map((count, i) => count * (first + i))),
  sumSquares: sum(counts.map((count, i) => count * (first + i) ** 2)),
});

const ratingDistribution = (rating: readonly number[]) =>
  Object.fromEntries(EXPERIENCE_RATINGS.map((name, i) => [name, rating[i] ?? 0]));

/** A count (responses, contacts): its own n, no margin. */
const countValue = (n: number, minN: number): MeasureValue => ({
  value: n,
  n,
  moe: null,
  low: null,
  high: null,
  lowSample: n < minN,
});

type FeedbackShare = 'csat' | 'ces' | 'topBoxShare' | 'bottomBoxShare' | 'poorShare';
const ratingShare =
  (level: number) =>
  (cell: FeedbackCell): Count => ({
    n: sum(cell.rating),
    yes: cell.rating[level - 1] ?? 0,
  });

/** The feedback measures that are shares: what counts, and the distribution shown with them. */
const FEEDBACK_SHARES: Record<
  FeedbackShare,
  { count: (cell: FeedbackCell) => Count; distribution: (cell: FeedbackCell) => Record<string, number> }
> = {
  csat: {
    count: (c) => ({ n: sum(c.csat), yes: sum(c.csat.slice(3)) }),
    distribution: (c) => perScore(c.csat, 1),
  },
  ces: {
    count: (c) => ({ n: sum(c.ces), yes: sum(c.ces.slice(4)) }),
    distribution: (c) => perScore(c.ces, 1),
  },
  topBoxShare: { count: ratingShare(5), distribution: (c) => ratingDistribution(c.rating) },
  bottomBoxShare: { count: ratingShare(1), distribution: (c) => ratingDistribution(c.rating) },
  poorShare: { count: ratingShare(2), distribution: (c) => ratingDistribution(c.rating) },
};

type ContactShare = 'transferRate' | 'firstContactResolution' | 'repeatContactRate';
const CONTACT_SHARES: Record<ContactShare, (cell: ContactCell) => Count> = {
  transferRate: (c) => c.transferred,
  firstContactResolution: (c) => c.firstContactResolved,
  repeatContactRate: (c) => c.repeated,
};

/** The value of a feedback measure in a cell. */
export const feedbackMeasure = (measure: FeedbackMeasure, cell: FeedbackCell, minN: number): MeasureValue => {
  switch (measure) {
    case 'nps':
      return npsValue(cell.nps, minN);
    case 'responses':
      return countValue(cell.responses, minN);
    default: {
      const { count, distribution } = FEEDBACK_SHARES[measure];
      const share = shareValue(count(cell), minN, distribution(cell));
      return measure === 'ces' ? { ...share, mean: meanValue(momentsOf(cell.ces, 1)) } : share;
    }
  }
};

/** The value of a contact measure in a cell. */
export const contactMeasure = (measure: ContactMeasure, cell: ContactCell, minN: number): MeasureValue => {
  switch (measure) {
    case 'contacts':
      return countValue(cell.contacts, minN);
    case 'avgWaitSeconds': {
      const mean = meanValue(cell.wait);
      const known = mean.value !== null && mean.moe !== null;
      return {
        value: mean.value,
        n: cell.wait.n,
        moe: mean.moe,
        low: known ? (mean.value as number) - (mean.moe as number) : null,
        high: known ? (mean.value as number) + (mean.moe as number) : null,
        lowSample: cell.wait.n < minN,
        p90: cell.waitP90,
      };
    }
    default:
      return shareValue(CONTACT_SHARES[measure](cell), minN);
  }
};

// ---------------------------------------------------------------------------------------------
// Tests of a difference between two cells

/** Two-sided p-value that two NPS differ: z on the difference, each with its own variance. */
export const npsDifferenceP = (a: readonly number[], b: readonly number[]): number | null => {
  const na = sum(a);
  const nb = sum(b);
  if (na === 0 || nb === 0) return null;
  const difference =
    (sum(a.slice(9)) - sum(a.slice(0, 7))) / na - (sum(b.slice(9)) - sum(b.slice(0, 7))) / nb;
  const se = Math.sqrt(npsVariance(a) / na + npsVariance(b) / nb);
  if (se === 0) return difference === 0 ? 1 : 0;
  return normalTwoSidedP(difference / se);
};

const shareP = (a: Count, b: Count) => twoProportionP(a.yes, a.n, b.yes, b.n);

/** The test used for each measure, by name (stated in the API response). */
export const TEST_METHODS: Record<Measure, string | null> = {
  nps: 'z-test on the difference of two NPS, each with its variance (pP + pD − (pP − pD)²) / n',
  csat: 'two-proportion z-test (pooled)',
  ces: 'two-proportion z-test (pooled) on the share easy',
  responses: null,
  topBoxShare: 'two-proportion z-test (pooled)',
  bottomBoxShare: 'two-proportion z-test (pooled)',
  poorShare: 'two-proportion z-test (pooled)',
  contacts: null,
  avgWaitSeconds: "Welch's t-test",
  transferRate: 'two-proportion z-test (pooled)',
  firstContactResolution: 'two-proportion z-test (pooled)',
  repeatContactRate: 'two-proportion z-test (pooled)',
};

/** Two-sided p-value that a feedback measure differs between two cells; null when there is no test. */
export const feedbackDifferenceP = (
  measure: FeedbackMeasure,
  a: FeedbackCell,
  b: FeedbackCell,
): number | null => {
  if (measure === 'nps') return npsDifferenceP(a.nps, b.nps);
  if (measure === 'responses') return null;
  const { count } = FEEDBACK_SHARES[measure];
  return shareP(count(a), count(b));
};

export const contactDifferenceP = (
  measure: ContactMeasure,
  a: ContactCell,
  b: ContactCell,
): number | null => {
  if (measure === 'avgWaitSeconds') return welchP(a.wait, b.wait);
  if (measure === 'contacts') return null;
  const count = CONTACT_SHARES[measure];
  return shareP(count(a), count(b));
};

// ---------------------------------------------------------------------------------------------
// The reference: cells straight from records (what the SQL must equal)

export interface FeedbackFacts {
  nps?: number | null;
  csat?: number | null;
  ces?: number | null;
}

/** The cell of a list of feedback records. */
export const feedbackCellOf = (records: readonly FeedbackFacts[]): FeedbackCell => {
  const cell = emptyFeedbackCell();
  for (const record of records) {
    cell.responses++;
    if (record.nps != null) cell.nps[record.nps] = (cell.nps[record.nps] ?? 0) + 1;
    if (record.csat != null) cell.csat[record.csat - 1] = (cell.csat[record.csat - 1] ?? 0) + 1;
    if (record.ces != null) cell.ces[record.ces - 1] = (cell.ces[record.ces - 1] ?? 0) + 1;
    const level = experienceRatingLevel(record);
    if (level !== null) cell.rating[level - 1] = (cell.rating[level - 1] ?? 0) + 1;
  }
  return cell;
};

export interface ContactFacts {
  customer: string;
  occurredAt: number;
  waitSeconds?: number | null;
  transfers?: number | null;
  resolved?: boolean | null;
}

/** Continuous percentile, as PostgreSQL's percentile_cont: linear between the closest ranks. */
export const percentileCont = (values: readonly number[], fraction: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = fraction * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.ceil(rank);
  const low = sorted[below] as number;
  return low + ((sorted[above] as number) - low) * (rank - below);
};

/**
 * The cell of `contacts`. A contact is repeated when the same customer has another contact (in
 * `history`, every contact of those customers) later, within `windowDays`.
 */
export const contactCellOf = (
  contacts: readonly ContactFacts[],
  history: readonly ContactFacts[],
  windowDays: number,
): ContactCell => {
  const byCustomer = new Map<string, number[]>();
  for (const contact of history) {
    const times = byCustomer.get(contact.customer) ?? [];
    times.push(contact.occurredAt);
    byCustomer.set(contact.customer, times);
  }
  const windowMs = windowDays * 86_400_000;
  const cell = emptyContactCell();
  const waits: number[] = [];
  for (const contact of contacts) {
    cell.contacts++;
    const repeated = (byCustomer.get(contact.customer) ?? []).some(
      (t) => t > contact.occurredAt && t <= contact.occurredAt + windowMs,
    );
    cell.repeated.n++;
    if (repeated) cell.repeated.yes++;
    if (contact.waitSeconds != null) {
      waits.push(contact.waitSeconds);
      cell.wait.n++;
      cell.wait.sum += contact.waitSeconds;
      cell.wait.sumSquares += contact.waitSeconds ** 2;
    }
    if (contact.transfers != null) {
      cell.transferred.n++;
      if (contact.transfers > 0) cell.transferred.yes++;
    }
    if (contact.resolved != null) {
      cell.firstContactResolved.n++;
      if (contact.resolved && !repeated) cell.firstContactResolved.yes++;
    }
  }
  cell.waitP90 = percentileCont(waits, 0.9);
  return cell;
};
