import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import { parseSurveyDefinition } from './definition.js';
import { answersFromDigits, type Digits } from './ivr.js';
import type { SurveyDefinition } from './types.js';

// DTMF keys → survey answers, following the branching. The definitions are written out here and
// go through the real parser, so they are surveys the API would accept.

const en = (text: string) => ({ en: text });

const survey = (questions: unknown[]): SurveyDefinition =>
  parseSurveyDefinition({
    name: 'IVR',
    languages: ['en'],
    questions,
    thankYou: en('Thanks'),
    invitation: { subject: en('Survey'), body: en('Please answer') },
  });

const THEN_END = [
  { when: { answered: true }, goto: 'end' },
  { when: { answered: false }, goto: 'end' },
];

/**
 * Promoters (7–10): nps → praise (optional choice) → end.
 * Detractors (0–6): nps → problem (required choice) → effort (optional 1–7) → end.
 */
const BRANCHING = survey([
  {
    id: 'nps',
    type: 'rating',
    text: en('Recommend us?'),
    min: 0,
    max: 10,
    metric: 'nps',
    branches: [{ when: { min: 7 }, goto: 'praise' }],
  },
  {
    id: 'problem',
    type: 'single',
    text: en('What went wrong?'),
    options: [
      { value: 'slow', label: en('Slow') },
      { value: 'rude', label: en('Rude') },
      { value: 'wrong', label: en('Wrong answer') },
    ],
  },
  {
    id: 'effort',
    type: 'rating',
    text: en('How easy was it?'),
    min: 1,
    max: 7,
    metric: 'ces',
    required: false,
    branches: THEN_END,
  },
  {
    id: 'praise',
    type: 'single',
    text: en('What did you like?'),
    required: false,
    options: [
      { value: 'staff', label: en('Staff') },
      { value: 'speed', label: en('Speed') },
    ],
  },
]);

/** rating (1–5) → `middle` → rating (1–5). */
const withMiddle = (middle: Record<string, unknown>) =>
  survey([
    { id: 'first', type: 'rating', text: en('First?'), min: 1, max: 5, metric: 'csat' },
    { text: en('Middle?'), ...middle },
    { id: 'last', type: 'rating', text: en('Last?'), min: 1, max: 5, required: false },
  ]);

const OPTIONS = [
  { value: 'a', label: en('A') },
  { value: 'b', label: en('B') },
];

/** The 400 invalid_digits error `digits` raise. */
const failure = (definition: SurveyDefinition, digits: Digits): AppError => {
  try {
    answersFromDigits(definition, digits);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(digits)} were accepted`);
};

const expectInvalid = (definition: SurveyDefinition, digits: Digits, path: string, fragment?: string) => {
  const error = failure(definition, digits);
  expect(error.status).toBe(400);
  expect(error.code).toBe('invalid_digits');
  expect(error.details).toHaveLength(1);
  expect(error.details[0]?.path).toBe(path);
  if (fragment) expect(error.details[0]?.message).toContain(fragment);
  expect(error.message).toContain(error.details[0]?.message as string);
};

describe('answersFromDigits: keys and branching', () => {
  it('a promoter score branches to the choice question; "2" is its second option', () => {
    expect(answersFromDigits(BRANCHING, '10#2#')).toEqual({
      answers: { nps: 10, praise: 'speed' },
      complete: true,
    });
  });

  it('the string form and the array form give the same answers', () => {
    const cases: [string, string[]][] = [
      ['10#2#', ['10', '2']],
      ['10#2', ['10', '2']],
      ['3#1#6#', ['3', '1', '6']],
      ['3#1##', ['3', '1', '']],
      ['10##', ['10', '']],
      ['0#3#', ['0', '3']],
      ['8#', ['8']],
    ];
    for (const [text, list] of cases) {
      expect(answersFromDigits(BRANCHING, text), text).toEqual(answersFromDigits(BRANCHING, list));
    }
  });

  it('detractors and promoters are asked different questions for the same keys', () => {
    expect(answersFromDigits(BRANCHING, ['3', '1'])).toEqual({
      answers: { nps: 3, problem: 'slow' },
      complete: false,
    });
    expect(answersFromDigits(BRANCHING, ['9', '1'])).toEqual({
      answers: { nps: 9, praise: 'staff' },
      complete: true,
    });
    expect(answersFromDigits(BRANCHING, '6#3#7#')).toEqual({
      answers: { nps: 6, problem: 'wrong', effort: 7 },
      complete: true,
    });
    // The boundary: 7 is the first promoter-path score, 6 the last detractor one.
    expect(Object.keys(answersFromDigits(BRANCHING, '7#1#').answers)).toEqual(['nps', 'praise']);
    expect(Object.keys(answersFromDigits(BRANCHING, '6#1#').answers)).toEqual(['nps', 'problem']);
  });

  it('the ends of the scale are accepted; leading zeros and spaces are read as the number', () => {
    expect(answersFromDigits(BRANCHING, '0#2#1#').answers).toEqual({ nps: 0, problem: 'rude', effort: 1 });
    expect(answersFromDigits(BRANCHING, ['010', ' 2 ']).answers).toEqual({ nps: 10, praise: 'speed' });
  });

  it('an empty entry skips an optional question, stored as null', () => {
    expect(answersFromDigits(BRANCHING, '10##')).toEqual({
      answers: { nps: 10, praise: null },
      complete: true,
    });
    expect(answersFromDigits(BRANCHING, ['2', '3', ''])).toEqual({
      answers: { nps: 2, problem: 'wrong', effort: null },
      complete: true,
    });
  });

  it('complete is true only when the path reached its end', () => {
    expect(answersFromDigits(BRANCHING, [])).toEqual({ answers: {}, complete: false });
    expect(answersFromDigits(BRANCHING, '10#')).toEqual({ answers: { nps: 10 }, complete: false });
    expect(answersFromDigits(BRANCHING, '4#2#')).toEqual({
      answers: { nps: 4, problem: 'rude' },
      complete: false,
    });
    expect(answersFromDigits(BRANCHING, '4#2#5#').complete).toBe(true);
  });
});

describe('answersFromDigits: refused keys', () => {
  it('a skipped required question is refused at its entry', () => {
    expectInvalid(BRANCHING, '3##', 'digits[1]', 'problem');
    expectInvalid(BRANCHING, ['3', ''], 'digits[1]', 'problem');
    expectInvalid(BRANCHING, ['', '1'], 'digits[0]', 'nps');
    expectInvalid(BRANCHING, '#', 'digits[0]', 'nps');
  });

  it('a score outside the scale is refused', () => {
    expectInvalid(BRANCHING, '11#', 'digits[0]', '0–10');
    expectInvalid(BRANCHING, '100#', 'digits[0]', '0–10');
    expectInvalid(BRANCHING, '3#1#8#', 'digits[2]', '1–7');
    expectInvalid(BRANCHING, '3#1#0#', 'digits[2]', '1–7');
  });

  it('option number 0 or past the last option is refused', () => {
    expectInvalid(BRANCHING, '3#0#', 'digits[1]', '1–3');
    expectInvalid(BRANCHING, '3#4#', 'digits[1]', '1–3');
    expectInvalid(BRANCHING, '10#3#', 'digits[1]', '1–2');
    expectInvalid(BRANCHING, ['10', '0'], 'digits[1]', '1–2');
  });

  it('keys other than 0–9 are refused', () => {
    expectInvalid(BRANCHING, '*#', 'digits[0]');
    expectInvalid(BRANCHING, '3#A#', 'digits[1]');
    expectInvalid(BRANCHING, ['-1'], 'digits[0]');
    expectInvalid(BRANCHING, ['1.5'], 'digits[0]');
    expectInvalid(BRANCHING, ['9', '1*'], 'digits[1]');
    expectInvalid(BRANCHING, ['1000'], 'digits[0]');
  });

  it('more entries than the path asks are refused at the first extra one', () => {
    expectInvalid(BRANCHING, '10#2#5#', 'digits[2]', 'more answers');
    expectInvalid(BRANCHING, ['3', '1', '6', '9'], 'digits[3]', 'more answers');
    expectInvalid(BRANCHING, '9####', 'digits[2]', 'more answers');
  });

  it('the first problem is reported, not a later one', () => {
    expectInvalid(BRANCHING, ['11', 'x', '99'], 'digits[0]');
  });
});

describe('answersFromDigits: text and multiple-choice questions', () => {
  it('an optional text question is skipped without using an entry', () => {
    const definition = withMiddle({ id: 'why', type: 'text', required: false });
    expect(answersFromDigits(definition, '4#5#')).toEqual({
      answers: { first: 4, why: null, last: 5 },
      complete: true,
    });
    expect(answersFromDigits(definition, '4#')).toEqual({
      answers: { first: 4, why: null },
      complete: false,
    });
  });

  it('a required text question ends the answers there', () => {
    const definition = withMiddle({ id: 'why', type: 'text', required: true });
    expect(answersFromDigits(definition, '4#')).toEqual({ answers: { first: 4 }, complete: false });
    expectInvalid(definition, '4#5#', 'digits[1]', 'more answers');
  });

  it('an optional multiple-choice question is skipped without using an entry', () => {
    const definition = withMiddle({ id: 'which', type: 'multiple', required: false, options: OPTIONS });
    expect(answersFromDigits(definition, ['2', '1'])).toEqual({
      answers: { first: 2, which: null, last: 1 },
      complete: true,
    });
  });

  it('a multiple-choice question is required by default and ends the answers there', () => {
    const definition = withMiddle({ id: 'which', type: 'multiple', options: OPTIONS });
    expect(answersFromDigits(definition, ['2'])).toEqual({ answers: { first: 2 }, complete: false });
    expectInvalid(definition, ['2', '1'], 'digits[1]', 'more answers');
  });

  it('a text question first: optional is skipped, required stops before any key is read', () => {
    const optional = survey([
      { id: 'why', type: 'text', text: en('Why?') },
      { id: 'score', type: 'rating', text: en('Score?'), min: 1, max: 5 },
    ]);
    expect(answersFromDigits(optional, '3#')).toEqual({ answers: { why: null, score: 3 }, complete: true });
    const required = survey([
      { id: 'why', type: 'text', text: en('Why?'), required: true },
      { id: 'score', type: 'rating', text: en('Score?'), min: 1, max: 5 },
    ]);
    expect(answersFromDigits(required, [])).toEqual({ answers: {}, complete: false });
    expectInvalid(required, '3#', 'digits[0]', 'more answers');
  });

  it('the csat-after-contact flow: a low score asks the problem, then skips the text question', () => {
    const definition = survey([
      {
        id: 'csat',
        type: 'rating',
        text: en('Satisfied?'),
        min: 1,
        max: 5,
        metric: 'csat',
        branches: [
          { when: { max: 2 }, goto: 'problem' },
          { when: { min: 3 }, goto: 'comment' },
        ],
      },
      { id: 'problem', type: 'single', text: en('Problem?'), options: OPTIONS, required: false },
      { id: 'comment', type: 'text', text: en('Comment?'), branches: THEN_END },
    ]);
    expect(answersFromDigits(definition, '1#2#')).toEqual({
      answers: { csat: 1, problem: 'b', comment: null },
      complete: true,
    });
    expect(answersFromDigits(definition, '5#')).toEqual({
      answers: { csat: 5, comment: null },
      complete: true,
    });
    expectInvalid(definition, '5#1#', 'digits[1]', 'more answers');
  });
});

describe('answersFromDigits: properties', () => {
  const entry = fc.oneof(
    fc.constant(''),
    fc.integer({ min: 0, max: 12 }).map(String),
    fc.constantFrom('*', 'x', '1000'),
  );

  it('a string of entries each ended by # reads as the array of entries', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), (entries) => {
        const outcome = (digits: Digits) => {
          try {
            return answersFromDigits(BRANCHING, digits);
          } catch (error) {
            return { error: (error as AppError).details };
          }
        };
        expect(outcome(entries.map((e) => `${e}#`).join(''))).toEqual(outcome(entries));
      }),
    );
  });

  it('accepted keys follow the branching: answered questions lie on one path, in order', () => {
    const promoter = ['nps', 'praise'];
    const detractor = ['nps', 'problem', 'effort'];
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 5 }), (entries) => {
        let result: ReturnType<typeof answersFromDigits>;
        try {
          result = answersFromDigits(BRANCHING, entries);
        } catch (error) {
          expect((error as AppError).code).toBe('invalid_digits');
          return;
        }
        const ids = Object.keys(result.answers);
        expect(ids.length).toBe(entries.length);
        const path = typeof result.answers.nps === 'number' && result.answers.nps >= 7 ? promoter : detractor;
        expect(ids).toEqual(path.slice(0, ids.length));
        expect(result.complete).toBe(ids.length === path.length);
      }),
    );
  });
});
