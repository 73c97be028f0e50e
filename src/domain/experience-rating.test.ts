import { describe, expect, test } from 'vitest';
import {
  EXPERIENCE_RATINGS,
  type ExperienceRating,
  experienceRatingLevel,
  experienceRatingName,
  ratingFromCes,
  ratingFromCsat,
  ratingFromNps,
} from './experience-rating.js';

// PRODUCT.md, "Experience rating of one encounter", written out value by value.
const NPS_RATING: Record<number, ExperienceRating> = {
  0: 'disastrous',
  1: 'disastrous',
  2: 'disastrous',
  3: 'disastrous',
  4: 'poor',
  5: 'poor',
  6: 'poor',
  7: 'neutral',
  8: 'neutral',
  9: 'good',
  10: 'fabulous',
};
const CSAT_RATING: Record<number, ExperienceRating> = {
  1: 'disastrous',
  2: 'poor',
  3: 'neutral',
  4: 'good',
  5: 'fabulous',
};
const CES_RATING: Record<number, ExperienceRating> = {
  1: 'disastrous',
  2: 'disastrous',
  3: 'poor',
  4: 'neutral',
  5: 'good',
  6: 'good',
  7: 'fabulous',
};
// Levels are 1…5 so that worse sorts first.
const LEVEL: Record<ExperienceRating, number> = { disastrous: 1, poor: 2, neutral: 3, good: 4, fabulous: 5 };

const cases = (table: Record<number, ExperienceRating>) =>
  Object.entries(table).map(([score, rating]) => [Number(score), rating] as const);

describe('the rating scale', () => {
  test('runs from disastrous to fabulous, worst first', () => {
    expect(EXPERIENCE_RATINGS).toEqual(['disastrous', 'poor', 'neutral', 'good', 'fabulous']);
  });

  test.each(Object.entries(LEVEL))('level of %s is %i and names it back', (name, level) => {
    expect(experienceRatingName(level)).toBe(name);
  });

  test('a missing or out-of-scale level has no name', () => {
    expect(experienceRatingName(null)).toBeNull();
    expect(experienceRatingName(0)).toBeNull();
    expect(experienceRatingName(6)).toBeNull();
    expect(experienceRatingName(-1)).toBeNull();
  });
});

describe('NPS 0–10', () => {
  test('the table covers every answer on the scale', () => {
    expect(Object.keys(NPS_RATING).map(Number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  test.each(cases(NPS_RATING))('NPS %i is %s', (nps, rating) => {
    expect(ratingFromNps(nps)).toBe(LEVEL[rating]);
    expect(experienceRatingLevel({ nps })).toBe(LEVEL[rating]);
    expect(experienceRatingName(experienceRatingLevel({ nps }))).toBe(rating);
  });
});

describe('CSAT 1–5', () => {
  test.each(cases(CSAT_RATING))('CSAT %i is %s', (csat, rating) => {
    expect(ratingFromCsat(csat)).toBe(LEVEL[rating]);
    expect(experienceRatingLevel({ csat })).toBe(LEVEL[rating]);
    expect(experienceRatingName(experienceRatingLevel({ csat }))).toBe(rating);
  });
});

describe('CES 1–7', () => {
  test('the table covers every answer on the scale', () => {
    expect(Object.keys(CES_RATING).map(Number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  test.each(cases(CES_RATING))('CES %i is %s', (ces, rating) => {
    expect(ratingFromCes(ces)).toBe(LEVEL[rating]);
    expect(experienceRatingLevel({ ces })).toBe(LEVEL[rating]);
    expect(experienceRatingName(experienceRatingLevel({ ces }))).toBe(rating);
  });
});

describe('several scores: the worst one counts', () => {
  test('the documented example: NPS 9 (good) with CES 2 (disastrous) is disastrous', () => {
    expect(experienceRatingName(experienceRatingLevel({ nps: 9, ces: 2 }))).toBe('disastrous');
  });

  test('a bad score is never hidden by good ones, whichever measure carries it', () => {
    expect(experienceRatingName(experienceRatingLevel({ nps: 10, csat: 2 }))).toBe('poor');
    expect(experienceRatingName(experienceRatingLevel({ nps: 5, csat: 5, ces: 7 }))).toBe('poor');
    expect(experienceRatingName(experienceRatingLevel({ nps: 10, csat: 5, ces: 4 }))).toBe('neutral');
    expect(experienceRatingName(experienceRatingLevel({ nps: 10, csat: 5, ces: 7 }))).toBe('fabulous');
    expect(experienceRatingName(experienceRatingLevel({ nps: 9, csat: 5, ces: 6 }))).toBe('good');
  });

  test('every combination of NPS, CSAT and CES gives the minimum of the three ratings', () => {
    for (const [nps, npsRating] of cases(NPS_RATING)) {
      for (const [csat, csatRating] of cases(CSAT_RATING)) {
        for (const [ces, cesRating] of cases(CES_RATING)) {
          const worst = Math.min(LEVEL[npsRating], LEVEL[csatRating], LEVEL[cesRating]);
          expect(experienceRatingLevel({ nps, csat, ces }), `nps ${nps} csat ${csat} ces ${ces}`).toBe(worst);
          expect(experienceRatingLevel({ nps, csat }), `nps ${nps} csat ${csat}`).toBe(
            Math.min(LEVEL[npsRating], LEVEL[csatRating]),
          );
          expect(experienceRatingLevel({ csat, ces }), `csat ${csat} ces ${ces}`).toBe(
            Math.min(LEVEL[csatRating], LEVEL[cesRating]),
          );
          expect(experienceRatingLevel({ nps, ces }), `nps ${nps} ces ${ces}`).toBe(
            Math.min(LEVEL[npsRating], LEVEL[cesRating]),
          );
        }
      }
    }
  });

  test('null and missing scores are ignored, not read as zero', () => {
    expect(experienceRatingLevel({ nps: null, csat: 5, ces: undefined })).toBe(LEVEL.fabulous);
    expect(experienceRatingLevel({ nps: 10, csat: null, ces: null })).toBe(LEVEL.fabulous);
    expect(experienceRatingLevel({ nps: null, csat: null, ces: 7 })).toBe(LEVEL.fabulous);
  });

  test('a score of 0 is an answer (NPS 0 is disastrous), not a missing score', () => {
    expect(experienceRatingLevel({ nps: 0 })).toBe(LEVEL.disastrous);
    expect(experienceRatingLevel({ nps: 0, csat: 5 })).toBe(LEVEL.disastrous);
  });
});

describe('no score at all', () => {
  test('gives null, and no name', () => {
    expect(experienceRatingLevel({})).toBeNull();
    expect(experienceRatingLevel({ nps: null, csat: null, ces: null })).toBeNull();
    expect(experienceRatingLevel({ nps: undefined, csat: undefined, ces: undefined })).toBeNull();
    expect(experienceRatingName(experienceRatingLevel({}))).toBeNull();
  });
});
