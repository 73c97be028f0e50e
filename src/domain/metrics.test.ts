import { describe, expect, test } from 'vitest';
import {
  type ContactFacts,
  contactCellOf,
  contactMeasure,
  contactRest,
  emptyFeedbackCell,
  feedbackCellOf,
  feedbackDifferenceP,
  feedbackMeasure,
  feedbackRest,
  npsDifferenceP,
  npsValue,
  percentileCont,
} from './metrics.js';

/** NPS counts from a list of scores. */
const npsCounts = (...scores: number[]) => feedbackCellOf(scores.map((nps) => ({ nps }))).nps;

describe('NPS', () => {
  test('promoters 9–10 minus detractors 0–6, by hand: 3, 6, 8, 9, 10, 10 → 50% − 33.3% = 16.7 ± 71.8', () => {
    // pP = 3/6, pD = 2/6; variance = 0.5 + 0.3333 − 0.1667² = 0.80556; moe = 1.96 × √(0.80556 / 6) × 100.
    const value = npsValue(npsCounts(3, 6, 8, 9, 10, 10), 30);
    expect(value.value).toBeCloseTo(16.6667, 4);
    expect(value.n).toBe(6);
    expect(value.moe).toBeCloseTo(71.8158, 3);
    expect(value.low).toBeCloseTo(16.6667 - 71.8158, 3);
    expect(value.high).toBeCloseTo(16.6667 + 71.8158, 3);
    expect(value.lowSample).toBe(true);
    expect(value.distribution).toMatchObject({
      detractors: 2,
      passives: 1,
      promoters: 3,
      '3': 1,
      '10': 2,
      '0': 0,
    });
  });

  test('all promoters is 100 with no margin; all detractors −100', () => {
    expect(npsValue(npsCounts(9, 10, 10), 1)).toMatchObject({ value: 100, moe: 0, low: 100, high: 100 });
    expect(npsValue(npsCounts(0, 6, 3), 1)).toMatchObject({ value: -100, moe: 0 });
  });

  test('no answers: null, not 0', () => {
    expect(npsValue(npsCounts(), 30)).toMatchObject({ value: null, n: 0, moe: null, lowSample: true });
  });

  test('only answered responses count: feedback without NPS is not a passive', () => {
    const cell = feedbackCellOf([{ nps: 10 }, { csat: 2 }, { ces: 7 }, {}]);
    expect(feedbackMeasure('nps', cell, 1)).toMatchObject({ value: 100, n: 1 });
    expect(feedbackMeasure('responses', cell, 1)).toMatchObject({ value: 4, n: 4 });
  });

  test('difference of two NPS: 40 (n 50) vs −16.7 (n 60) → z = 3.499, p = 0.00047', () => {
    const a = npsCounts(...Array(30).fill(10), ...Array(10).fill(7), ...Array(10).fill(0));
    const b = npsCounts(...Array(20).fill(9), ...Array(10).fill(8), ...Array(30).fill(5));
    expect(npsDifferenceP(a, b)).toBeCloseTo(0.0004667482784094397, 8);
    expect(npsDifferenceP(a, a)).toBeCloseTo(1, 12);
    expect(npsDifferenceP(a, npsCounts())).toBeNull();
  });
});

describe('CSAT, CES and experience ratings', () => {
  test('CSAT is the share of 4–5: 1, 3, 4, 4, 5 → 60%', () => {
    const cell = feedbackCellOf([1, 3, 4, 4, 5].map((csat) => ({ csat })));
    const value = feedbackMeasure('csat', cell, 30);
    expect(value.value).toBeCloseTo(60, 10);
    expect(value.n).toBe(5);
    expect(value.distribution).toEqual({ '1': 1, '2': 0, '3': 1, '4': 2, '5': 1 });
    // Wilson interval of 3/5: 23.07% to 88.24%.
    expect(value.low).toBeCloseTo(23.07, 1);
    expect(value.high).toBeCloseTo(88.24, 1);
  });

  test('CES is the share of 5–7, with the mean and its t margin: 2, 5, 6, 7 → 75%, mean 5 ± 3.437', () => {
    const cell = feedbackCellOf([2, 5, 6, 7].map((ces) => ({ ces })));
    const value = feedbackMeasure('ces', cell, 1);
    expect(value.value).toBeCloseTo(75, 10);
    expect(value.mean?.value).toBeCloseTo(5, 12);
    expect(value.mean?.moe).toBeCloseTo(3.4374348818583087, 6);
  });

  test('top box, bottom box and poor shares count encounters by their worst score', () => {
    // ratings: nps 10 → fabulous; nps 2 → disastrous; csat 2 → poor; nps 9 with ces 1 → disastrous.
    const cell = feedbackCellOf([
      { nps: 10 },
      { nps: 2 },
      { csat: 2 },
      { nps: 9, ces: 1 },
      { text: 'hi' } as never,
    ]);
    expect(feedbackMeasure('topBoxShare', cell, 1)).toMatchObject({ value: 25, n: 4 });
    expect(feedbackMeasure('bottomBoxShare', cell, 1)).toMatchObject({ value: 50, n: 4 });
    expect(feedbackMeasure('poorShare', cell, 1)).toMatchObject({ value: 25, n: 4 });
    expect(feedbackMeasure('bottomBoxShare', cell, 1).distribution).toEqual({
      disastrous: 2,
      poor: 1,
      neutral: 0,
      good: 0,
      fabulous: 1,
    });
  });

  test('an empty cell gives null values everywhere', () => {
    for (const measure of ['nps', 'csat', 'ces', 'topBoxShare', 'bottomBoxShare', 'poorShare'] as const) {
      expect(feedbackMeasure(measure, emptyFeedbackCell(), 30).value).toBeNull();
    }
  });

  test('the rest of a cell is the total minus the cell, and tests compare them', () => {
    const part = feedbackCellOf([{ csat: 1 }, { csat: 2 }, { csat: 1 }]);
    const total = feedbackCellOf([{ csat: 1 }, { csat: 2 }, { csat: 1 }, { csat: 5 }, { csat: 4 }]);
    const rest = feedbackRest(total, part);
    expect(rest).toEqual(feedbackCellOf([{ csat: 5 }, { csat: 4 }]));
    // 0/3 vs 2/2: pooled 0.4, se = √(0.4 × 0.6 × (1/3 + 1/2)) = 0.4472; z = 2.236; p = 0.0253.
    expect(feedbackDifferenceP('csat', part, rest)).toBeCloseTo(0.02535, 4);
    expect(feedbackDifferenceP('responses', part, rest)).toBeNull();
  });
});

describe('contact measures', () => {
  const day = 86_400_000;
  const contacts: ContactFacts[] = [
    { customer: 'A', occurredAt: 0, waitSeconds: 10, transfers: 0, resolved: true },
    { customer: 'A', occurredAt: 3 * day, waitSeconds: 20, transfers: 2, resolved: true },
    { customer: 'B', occurredAt: 0, waitSeconds: 30, transfers: 1, resolved: false },
    { customer: 'B', occurredAt: 8 * day, waitSeconds: 40, transfers: null, resolved: true },
    { customer: 'C', occurredAt: 0, waitSeconds: 50, resolved: null },
    { customer: 'C', occurredAt: 0, waitSeconds: null, transfers: 0 },
  ];

  test('by hand: repeats within 7 days, first-contact resolution, transfers and wait', () => {
    const cell = contactCellOf(contacts, contacts, 7);
    // Only A's first contact is followed within 7 days (B's second comes after 8; C's two are at the same time).
    expect(contactMeasure('repeatContactRate', cell, 1)).toMatchObject({ n: 6, value: (1 / 6) * 100 });
    // Known outcomes: A1 (resolved, but repeated), A2 (resolved), B1 (not), B2 (resolved) → 2 of 4.
    expect(contactMeasure('firstContactResolution', cell, 1)).toMatchObject({ n: 4, value: 50 });
    // Known transfers: 0, 2, 1, 0 → 2 of 4.
    expect(contactMeasure('transferRate', cell, 1)).toMatchObject({ n: 4, value: 50 });
    const wait = contactMeasure('avgWaitSeconds', cell, 1);
    expect(wait).toMatchObject({ n: 5, value: 30, p90: 46 });
    // sd of 10…50 = 15.811; t(0.975, 4) = 2.776445; moe = 2.776445 × 15.811 / √5 = 19.632.
    expect(wait.moe).toBeCloseTo(19.632, 3);
    expect(contactMeasure('contacts', cell, 30)).toMatchObject({ value: 6, lowSample: true });
  });

  test('a longer window turns B into a repeat too', () => {
    const cell = contactCellOf(contacts, contacts, 8);
    expect(cell.repeated).toEqual({ n: 6, yes: 2 });
  });

  test('the rest of a contact cell subtracts counts and moments; p90 is not additive', () => {
    const total = contactCellOf(contacts, contacts, 7);
    const part = contactCellOf(contacts.slice(0, 2), contacts, 7);
    const rest = contactRest(total, part);
    expect(rest.wait).toEqual({ n: 3, sum: 120, sumSquares: 900 + 1600 + 2500 });
    expect(rest.waitP90).toBeNull();
    expect(rest.repeated).toEqual({ n: 4, yes: 0 });
  });

  test('percentile_cont interpolates between ranks', () => {
    expect(percentileCont([50, 10, 40, 20, 30], 0.9)).toBeCloseTo(46, 12);
    expect(percentileCont([7], 0.9)).toBe(7);
    expect(percentileCont([], 0.9)).toBeNull();
  });
});
