/**
 * The shape of a survey definition: what `POST /api/v1/surveys` accepts (after validation by
 * `parseSurveyDefinition` in definition.ts) and what every survey version stores.
 *
 * Every text a respondent sees is a `LocalText`: one string per language of the survey. The first
 * language is the default, used when the customer's locale matches none of the others.
 */

/** Language code (e.g. "en", "de", "pt-BR") → text in that language. */
export type LocalText = Record<string, string>;

/** Question types. */
export const QUESTION_TYPES = ['rating', 'single', 'multiple', 'text'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

/** Core measures a rating question can feed; each fixes the scale. */
export const SURVEY_METRICS = { nps: [0, 10], csat: [1, 5], ces: [1, 7] } as const;
export type SurveyMetric = keyof typeof SURVEY_METRICS;

/**
 * When a branch applies. For a rating: `min`/`max` bound the score (inclusive, either may be
 * left out). For a single choice: the answer is one of `values`. For a multiple choice: any of
 * `values` was chosen. `answered: false` matches a skipped optional question.
 */
export interface Condition {
  min?: number;
  max?: number;
  values?: string[];
  answered?: boolean;
}

/** After answering, go to `goto` (a later question's id, or "end") when `when` holds. */
export interface Branch {
  when: Condition;
  goto: string;
}

interface QuestionBase {
  /** Stable key: the answer is stored under it. Letters, digits, "_" and "-"; at most 64. */
  id: string;
  text: LocalText;
  /** Optional help text under the question. */
  help?: LocalText;
  /** Default true for ratings and choices, false for text. */
  required?: boolean;
  /** Evaluated in order after the answer; the first that holds decides. Default: next question. */
  branches?: Branch[];
}

export interface RatingQuestion extends QuestionBase {
  type: 'rating';
  /** Integers; 0 ≤ min < max ≤ 100, at most 11 points. */
  min: number;
  max: number;
  /** Fills the feedback record's nps, csat or ces; the scale must be the metric's. */
  metric?: SurveyMetric;
  lowLabel?: LocalText;
  highLabel?: LocalText;
}

export interface ChoiceOption {
  /** Stored value; letters, digits, "_" and "-". */
  value: string;
  label: LocalText;
}

export interface ChoiceQuestion extends QuestionBase {
  type: 'single' | 'multiple';
  options: ChoiceOption[];
}

export interface TextQuestion extends QuestionBase {
  type: 'text';
  /** Longest answer accepted, default 5,000 characters. */
  maxLength?: number;
}

export type Question = RatingQuestion | ChoiceQuestion | TextQuestion;

export interface SurveyDefinition {
  name: string;
  /** Languages the survey is written in; the first is the default. */
  languages: string[];
  /** Shown above the first question. */
  intro?: LocalText;
  questions: Question[];
  /** Shown at the end. */
  thankYou: LocalText;
  /** What happens next (the close-the-loop promise), shown under the thank-you. */
  followUp?: LocalText;
  /** The invitation message: e-mail subject, and the line before the link in e-mail, SMS and voice. */
  invitation: { subject: LocalText; body: LocalText };
  /** One reminder to non-responders this many days after the invitation; null: none. */
  reminderAfterDays: number | null;
  /** An invitation's link works this many days after it was sent. */
  expiresAfterDays: number;
}

/** An answer as stored: a score, a choice, several choices, or text. */
export type Answer = number | string | string[];
export type Answers = Record<string, Answer>;
