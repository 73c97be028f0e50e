/**
 * The experience rating of one encounter (PRODUCT.md): disastrous, poor, neutral, good, fabulous.
 * Stored as 1…5 so that "worse" sorts first.
 */
export const EXPERIENCE_RATINGS = ['disastrous', 'poor', 'neutral', 'good', 'fabulous'] as const;
export type ExperienceRating = (typeof EXPERIENCE_RATINGS)[number];

/** NPS 0–3 disastrous, 4–6 poor, 7–8 neutral, 9 good, 10 fabulous. */
export const ratingFromNps = (nps: number): number =>
  nps <= 3 ? 1 : nps <= 6 ? 2 : nps <= 8 ? 3 : nps === 9 ? 4 : 5;

/** CSAT 1…5 maps one to one. */
export const ratingFromCsat = (csat: number): number => csat;

/** CES 1–2 disastrous, 3 poor, 4 neutral, 5–6 good, 7 fabulous. */
export const ratingFromCes = (ces: number): number =>
  ces <= 2 ? 1 : ces === 3 ? 2 : ces === 4 ? 3 : ces <= 6 ? 4 : 5;

export interface Scores {
  nps?: number | null;
  csat?: number | null;
  ces?: number | null;
}

/**
 * The rating (1…5) of an encounter from whichever scores it carries; null when it has none.
 * With several scores the worst one counts: a disastrous effort is not hidden by a neutral NPS,
 * and every bad encounter must surface.
 *
 * @example experienceRatingLevel({ nps: 9, ces: 2 }) // 1 (disastrous)
 */
export const experienceRatingLevel = ({ nps, csat, ces }: Scores): number | null => {
  const levels: number[] = [];
  if (nps != null) levels.push(ratingFromNps(nps));
  if (csat != null) levels.push(ratingFromCsat(csat));
  if (ces != null) levels.push(ratingFromCes(ces));
  return levels.length === 0 ? null : Math.min(...levels);
};

export const experienceRatingName = (level: number | null): ExperienceRating | null =>
  level == null ? null : (EXPERIENCE_RATINGS[level - 1] ?? null);
