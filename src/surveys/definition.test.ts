import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError, type ErrorDetail } from '../errors.js';
import { nextQuestion, parseSurveyDefinition, pickLanguage, questionPath } from './definition.js';
import type { Answers, SurveyDefinition } from './types.js';

const en = (text: string) => ({ en: text });
const ende = (text: string) => ({ en: text, de: `${text} (de)` });

/** A valid survey in English: nps (0–10), reason (single), comment (text). */
const valid = (): Record<string, unknown> & { questions: Array<Record<string, unknown>> } => ({
  name: 'After a contact',
  languages: ['en'],
  questions: [
    { id: 'nps', type: 'rating', text: en('How likely…?'), min: 0, max: 10, metric: 'nps' },
    {
      id: 'reason',
      type: 'single',
      text: en('Why?'),
      options: [
        { value: 'price', label: en('Price') },
        { value: 'service', label: en('Service') },
      ],
    },
    { id: 'comment', type: 'text', text: en('Anything else?') },
  ],
  thankYou: en('Thank you!'),
  invitation: { subject: en('How did we do?'), body: en('Tell us:') },
});

/** `valid()` with some questions changed. */
const withQuestions = (...changes: Array<[number, Record<string, unknown>]>) => {
  const survey = valid();
  for (const [index, change] of changes) survey.questions[index] = { ...survey.questions[index], ...change };
  return survey;
};

const failure = (input: unknown): AppError => {
  try {
    parseSurveyDefinition(input);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('the definition was accepted');
};
const problems = (input: unknown): ErrorDetail[] => failure(input).details;
/** The one problem of `input`: its path and message. */
const problem = (input: unknown): ErrorDetail => {
  const details = problems(input);
  expect(details).toHaveLength(1);
  return details[0];
};
const expectProblem = (input: unknown, path: string, fragment: string) => {
  const detail = problem(input);
  expect(detail.path).toBe(path);
  expect(detail.message).toContain(fragment);
};

describe('parseSurveyDefinition: structure', () => {
  it('accepts a valid definition and fills the defaults', () => {
    const survey = parseSurveyDefinition(valid());
    const [rating, single, text] = survey.questions;
    expect(rating).toMatchObject({ required: true, branches: [] });
    expect(single).toMatchObject({ required: true, branches: [] });
    expect(text).toMatchObject({ required: false, branches: [], maxLength: 5000 });
    expect(survey.reminderAfterDays).toBeNull();
    expect(survey.expiresAfterDays).toBe(14);
    expect('intro' in survey).toBe(false);
  });

  it('keeps the values given instead of the defaults', () => {
    const survey = parseSurveyDefinition({
      ...withQuestions([0, { required: false }], [2, { required: true, maxLength: 300 }]),
      reminderAfterDays: 3,
      expiresAfterDays: 30,
    });
    expect(survey.questions[0].required).toBe(false);
    expect(survey.questions[2]).toMatchObject({ required: true, maxLength: 300 });
    expect(survey.reminderAfterDays).toBe(3);
    expect(survey.expiresAfterDays).toBe(30);
  });

  it('throws a 400 invalid_survey error that counts the problems', () => {
    const error = failure({ ...valid(), name: '' });
    expect(error).toMatchObject({ status: 400, code: 'invalid_survey' });
    expect(error.message).toBe('The survey definition is not valid: 1 problem');
    expect(failure({ ...valid(), name: '', expiresAfterDays: 0 }).message).toBe(
      'The survey definition is not valid: 2 problems',
    );
  });

  it('refuses what is not an object', () => {
    expectProblem(null, '', 'must be an object');
    expectProblem([], '', 'must be an object');
  });

  it('reports unknown fields, with a hint when another question type has them', () => {
    expectProblem({ ...valid(), colour: 'blue' }, 'colour', 'is not a known field');
    expectProblem(withQuestions([0, { colour: 'blue' }]), 'questions[0].colour', 'is not a known field');
    expectProblem(
      withQuestions([2, { metric: 'nps' }]),
      'questions[2].metric',
      'is not a field of a text question; only rating questions have it',
    );
    expectProblem(
      withQuestions([0, { maxLength: 10 }]),
      'questions[0].maxLength',
      'only text questions have it',
    );
    expectProblem(
      withQuestions([0, { branches: [{ when: { min: 0, equals: 3 }, goto: 'end' }] }]),
      'questions[0].branches[0].when.equals',
      'is not a known field',
    );
    expectProblem(
      { ...valid(), invitation: { subject: en('s'), body: en('b'), footer: en('f') } },
      'invitation.footer',
      'is not a known field',
    );
  });

  it('requires the required fields', () => {
    const { thankYou: _, ...rest } = valid();
    expectProblem(rest, 'thankYou', 'is required');
    expectProblem(withQuestions([0, { text: undefined }]), 'questions[0].text', 'is required');
  });

  it('names an unknown question type precisely', () => {
    expectProblem(
      withQuestions([1, { type: 'slider' }]),
      'questions[1].type',
      'must be one of rating, single, multiple, text; got "slider"',
    );
    expectProblem(withQuestions([1, { type: undefined }]), 'questions[1].type', 'is required');
    expectProblem(withQuestions([1, { type: 3 }]), 'questions[1].type', 'got number 3');
  });

  it('limits the name to 1–200 characters', () => {
    expectProblem({ ...valid(), name: '' }, 'name', 'must not be empty');
    expectProblem({ ...valid(), name: 'x'.repeat(201) }, 'name', 'at most 200');
    expect(parseSurveyDefinition({ ...valid(), name: 'x'.repeat(200) }).name).toHaveLength(200);
  });

  it('checks the languages: 1–20 distinct codes', () => {
    expectProblem({ ...valid(), languages: [] }, 'languages', 'at least 1');
    const many = Array.from({ length: 21 }, (_, i) => `l${String.fromCharCode(97 + i)}`);
    expectProblem({ ...valid(), languages: many }, 'languages', 'at most 20');
    expectProblem({ ...valid(), languages: ['en', 'EN'] }, 'languages[1]', 'must be a language code');
    expectProblem({ ...valid(), languages: ['en', 'e'] }, 'languages[1]', 'got "e"');
    expectProblem({ ...valid(), languages: ['en', 'pt_BR'] }, 'languages[1]', 'must be a language code');
    const twice = { ...valid(), languages: ['en', 'pt-BR', 'pt-br'] };
    expect(problems(twice)).toContainEqual({
      path: 'languages[2]',
      message: '"pt-br" is already listed as languages[1]',
    });
  });

  it('accepts language codes with subtags', () => {
    const survey = valid();
    const text = { en: 'x', 'pt-BR': 'y', 'zh-Hant-TW': 'z' };
    const languages = ['en', 'pt-BR', 'zh-Hant-TW'];
    const translated = JSON.parse(JSON.stringify(survey).replace(/\{"en":"[^"]*"\}/g, JSON.stringify(text)));
    expect(parseSurveyDefinition({ ...translated, languages }).languages).toEqual(languages);
  });

  it('limits the questions to 1–50', () => {
    expectProblem({ ...valid(), questions: [] }, 'questions', 'at least 1');
    const many = Array.from({ length: 51 }, (_, i) => ({ id: `q${i}`, type: 'text', text: en('?') }));
    expectProblem({ ...valid(), questions: many }, 'questions', 'at most 50');
  });

  it('checks question ids: format, uniqueness and the reserved "end"', () => {
    expectProblem(withQuestions([0, { id: '1st' }]), 'questions[0].id', 'must start with a letter');
    expectProblem(withQuestions([0, { id: 'a b' }]), 'questions[0].id', 'got "a b"');
    expectProblem(withQuestions([0, { id: `q${'x'.repeat(64)}` }]), 'questions[0].id', 'at most 64');
    expect(
      parseSurveyDefinition(withQuestions([0, { id: `q${'x'.repeat(63)}` }])).questions[0].id,
    ).toHaveLength(64);
    expectProblem(withQuestions([0, { id: 'end' }]), 'questions[0].id', '"end" is reserved');
    expectProblem(
      withQuestions([2, { id: 'nps' }]),
      'questions[2].id',
      '"nps" is already the id of questions[0]',
    );
  });

  it('limits the length of texts', () => {
    expectProblem(withQuestions([0, { text: en('x'.repeat(2001)) }]), 'questions[0].text.en', 'at most 2000');
    expectProblem(withQuestions([0, { help: en('') }]), 'questions[0].help.en', 'must not be empty');
    expectProblem(
      { ...valid(), invitation: { subject: en('x'.repeat(201)), body: en('b') } },
      'invitation.subject.en',
      'at most 200',
    );
    expectProblem(
      { ...valid(), invitation: { subject: en('s'), body: en('x'.repeat(2001)) } },
      'invitation.body.en',
      'at most 2000',
    );
    expectProblem({ ...valid(), thankYou: { en: 5 } }, 'thankYou.en', 'must be a string');
    const longest = { subject: en('x'.repeat(200)), body: en('x'.repeat(2000)) };
    expect(parseSurveyDefinition({ ...valid(), invitation: longest }).invitation).toEqual(longest);
  });

  it('checks choice options: 2–30, unique values of the right form', () => {
    const option = (value: string) => ({ value, label: en(value) });
    expectProblem(withQuestions([1, { options: [option('a')] }]), 'questions[1].options', 'at least 2');
    const many = Array.from({ length: 31 }, (_, i) => option(`o${i}`));
    expectProblem(withQuestions([1, { options: many }]), 'questions[1].options', 'at most 30');
    expectProblem(
      withQuestions([1, { options: [option('a'), option('-b')] }]),
      'questions[1].options[1].value',
      'must start with a letter or digit',
    );
    expectProblem(
      withQuestions([1, { options: [option('a'), option('b'), option('a')] }]),
      'questions[1].options[2].value',
      '"a" is already the value of options[0]',
    );
    expect(parseSurveyDefinition(withQuestions([1, { options: [option('1'), option('2')] }]))).toBeTruthy();
  });

  it('checks rating scales: integers, 0 ≤ min < max ≤ 100, at most 11 points', () => {
    const rating = (min: unknown, max: unknown) => withQuestions([0, { min, max, metric: undefined }]);
    expectProblem(rating(-1, 5), 'questions[0].min', 'at least 0');
    expectProblem(rating(90, 101), 'questions[0].max', 'at most 100');
    expectProblem(rating(1.5, 5), 'questions[0].min', 'must be an integer');
    expectProblem(rating(5, 5), 'questions[0].max', 'must be greater than min (5)');
    expectProblem(rating(7, 3), 'questions[0].max', 'must be greater than min (7), got 3');
    expectProblem(rating(0, 11), 'questions[0].max', 'at most 11');
    expect(parseSurveyDefinition(rating(90, 100)).questions[0]).toMatchObject({ min: 90, max: 100 });
  });

  it('checks the days and maxLength', () => {
    expectProblem({ ...valid(), reminderAfterDays: 0 }, 'reminderAfterDays', 'at least 1');
    expectProblem({ ...valid(), reminderAfterDays: 31 }, 'reminderAfterDays', 'at most 30');
    expectProblem({ ...valid(), reminderAfterDays: 2.5 }, 'reminderAfterDays', 'must be an integer');
    expect(parseSurveyDefinition({ ...valid(), reminderAfterDays: null }).reminderAfterDays).toBeNull();
    expectProblem({ ...valid(), expiresAfterDays: 0 }, 'expiresAfterDays', 'at least 1');
    expectProblem({ ...valid(), expiresAfterDays: 91 }, 'expiresAfterDays', 'at most 90');
    expectProblem({ ...valid(), expiresAfterDays: null }, 'expiresAfterDays', 'must be a number');
    expectProblem(withQuestions([2, { maxLength: 0 }]), 'questions[2].maxLength', 'at least 1');
    expectProblem(withQuestions([2, { maxLength: 20_001 }]), 'questions[2].maxLength', 'at most 20000');
  });
});

describe('parseSurveyDefinition: translations', () => {
  /** `valid()` in English and German. */
  const bilingual = () => {
    const survey = valid();
    const translated = JSON.parse(JSON.stringify(survey), (_key, value) =>
      value && typeof value === 'object' && typeof value.en === 'string' ? ende(value.en) : value,
    );
    return { ...translated, languages: ['en', 'de'] } as ReturnType<typeof valid>;
  };

  it('accepts a complete translation', () => {
    expect(parseSurveyDefinition(bilingual()).languages).toEqual(['en', 'de']);
  });

  it('points to every missing translation', () => {
    const cases: Array<[(survey: ReturnType<typeof valid>) => void, string]> = [
      [(s) => Object.assign(s.questions[0], { text: en('?') }), 'questions[0].text.de'],
      [(s) => Object.assign(s.questions[0], { help: en('?') }), 'questions[0].help.de'],
      [(s) => Object.assign(s.questions[0], { lowLabel: en('?') }), 'questions[0].lowLabel.de'],
      [(s) => Object.assign(s.questions[0], { highLabel: en('?') }), 'questions[0].highLabel.de'],
      [
        (s) =>
          Object.assign((s.questions[1].options as Array<Record<string, unknown>>)[1], { label: en('?') }),
        'questions[1].options[1].label.de',
      ],
      [(s) => Object.assign(s, { intro: en('?') }), 'intro.de'],
      [(s) => Object.assign(s, { thankYou: en('?') }), 'thankYou.de'],
      [(s) => Object.assign(s, { followUp: en('?') }), 'followUp.de'],
      [
        (s) => Object.assign(s, { invitation: { subject: en('?'), body: ende('?') } }),
        'invitation.subject.de',
      ],
      [(s) => Object.assign(s, { invitation: { subject: ende('?'), body: en('?') } }), 'invitation.body.de'],
    ];
    for (const [change, path] of cases) {
      const survey = bilingual();
      change(survey);
      expect(problem(survey)).toEqual({ path, message: 'missing the "de" translation' });
    }
  });

  it('names each missing language, quoting codes with a hyphen', () => {
    const survey = { ...valid(), languages: ['en', 'de', 'pt-BR'], thankYou: en('Thanks') };
    const details = problems(survey).filter((detail) => detail.path.startsWith('thankYou'));
    expect(details).toEqual([
      { path: 'thankYou.de', message: 'missing the "de" translation' },
      { path: 'thankYou."pt-BR"', message: 'missing the "pt-BR" translation' },
    ]);
  });

  it('refuses a translation into a language the survey does not have', () => {
    const survey = bilingual();
    survey.questions[2].text = { ...ende('?'), fr: '?' };
    expectProblem(survey, 'questions[2].text.fr', `"fr" is not one of the survey's languages (en, de)`);
  });

  it('refuses an empty translation', () => {
    const survey = bilingual();
    survey.questions[2].text = { en: '?', de: '' };
    expectProblem(survey, 'questions[2].text.de', 'must not be empty');
  });
});

describe('parseSurveyDefinition: metrics', () => {
  it('needs the scale of the metric', () => {
    expectProblem(
      withQuestions([0, { min: 1, max: 10 }]),
      'questions[0].metric',
      'nps needs the scale 0–10, got 1–10',
    );
    expectProblem(
      withQuestions([0, { min: 1, max: 7, metric: 'csat' }]),
      'questions[0].metric',
      'csat needs the scale 1–5',
    );
    expect(parseSurveyDefinition(withQuestions([0, { min: 1, max: 7, metric: 'ces' }]))).toBeTruthy();
  });

  it('knows only nps, csat and ces', () => {
    expectProblem(
      withQuestions([0, { metric: 'ces2' }]),
      'questions[0].metric',
      'must be one of nps, csat, ces',
    );
  });

  it('allows one question per metric', () => {
    const survey = valid();
    survey.questions.push({ id: 'nps2', type: 'rating', text: en('Again?'), min: 0, max: 10, metric: 'nps' });
    expectProblem(survey, 'questions[3].metric', 'questions[0] already feeds nps');
    survey.questions[3].metric = 'csat';
    survey.questions[3].min = 1;
    survey.questions[3].max = 5;
    expect(parseSurveyDefinition(survey).questions).toHaveLength(4);
  });

  it('is only for rating questions', () => {
    expectProblem(
      withQuestions([1, { metric: 'csat' }]),
      'questions[1].metric',
      'only rating questions have it',
    );
  });
});

describe('parseSurveyDefinition: branches', () => {
  const branches = (index: number, ...list: unknown[]) => withQuestions([index, { branches: list }]);

  it('accepts forward jumps and "end"', () => {
    const survey = parseSurveyDefinition(
      branches(
        0,
        { when: { max: 6 }, goto: 'reason' },
        { when: { min: 7 }, goto: 'comment' },
        {
          when: { min: 10, max: 10 },
          goto: 'end',
        },
      ),
    );
    expect(survey.questions[0].branches).toHaveLength(3);
  });

  it('needs goto to name a question of the survey', () => {
    expectProblem(
      branches(0, { when: { max: 6 }, goto: 'reasons' }),
      'questions[0].branches[0].goto',
      '"reasons" is not a question of this survey',
    );
  });

  it('refuses jumps back, naming the cycle', () => {
    const survey = valid();
    survey.questions.push({
      id: 'last',
      type: 'text',
      text: en('?'),
      branches: [{ when: { answered: true }, goto: 'nps' }],
    });
    expect(problem(survey)).toEqual({
      path: 'questions[3].branches[0].goto',
      message:
        '"nps" comes before "last": the jump would create the cycle nps → … → last → nps; branches may only jump forward',
    });
    expectProblem(
      branches(1, { when: { values: ['price'] }, goto: 'nps' }),
      'questions[1].branches[0].goto',
      'the cycle nps → reason → nps',
    );
    expectProblem(
      branches(2, { when: { answered: true }, goto: 'comment' }),
      'questions[2].branches[0].goto',
      '"comment" is this question itself: the jump would create the cycle comment → comment',
    );
  });

  it('needs a condition with at least one field', () => {
    expectProblem(
      branches(0, { when: {}, goto: 'end' }),
      'questions[0].branches[0].when',
      'must have at least one of min, max, values, answered',
    );
  });

  it('keeps min and max to ratings, within the scale', () => {
    expectProblem(
      branches(0, { when: { min: 11 }, goto: 'end' }),
      'questions[0].branches[0].when.min',
      'within the scale 0–10, got 11',
    );
    expectProblem(
      branches(0, { when: { max: -1 }, goto: 'end' }),
      'questions[0].branches[0].when.max',
      'within the scale 0–10, got -1',
    );
    expectProblem(
      branches(0, { when: { min: 8, max: 6 }, goto: 'end' }),
      'questions[0].branches[0].when.min',
      'must not be greater than max (6), got 8',
    );
    expectProblem(
      branches(1, { when: { min: 1 }, goto: 'end' }),
      'questions[1].branches[0].when.min',
      'only rating questions are matched by min and max',
    );
    expectProblem(
      branches(0, { when: { min: 1.5 }, goto: 'end' }),
      'questions[0].branches[0].when.min',
      'must be an integer',
    );
  });

  it('keeps values to choices, each one of the options', () => {
    expectProblem(
      branches(0, { when: { values: ['price'] }, goto: 'end' }),
      'questions[0].branches[0].when.values',
      'only choice questions are matched by values',
    );
    expectProblem(
      branches(1, { when: { values: ['price', 'prize'] }, goto: 'end' }),
      'questions[1].branches[0].when.values[1]',
      '"prize" is not an option of this question (price, service)',
    );
    expectProblem(
      branches(1, { when: { values: [] }, goto: 'end' }),
      'questions[1].branches[0].when.values',
      'at least 1',
    );
  });

  it('lets text questions branch only on answered', () => {
    expectProblem(
      branches(2, { when: { values: ['x'] }, goto: 'end' }),
      'questions[2].branches[0].when.values',
      "a text question's branches may only use answered",
    );
    expectProblem(
      branches(2, { when: { min: 1, answered: true }, goto: 'end' }),
      'questions[2].branches[0].when.min',
      "a text question's branches may only use answered",
    );
  });

  it('allows answered: false only on optional questions', () => {
    expect(parseSurveyDefinition(branches(2, { when: { answered: false }, goto: 'end' }))).toBeTruthy();
    expectProblem(
      branches(0, { when: { answered: false }, goto: 'end' }),
      'questions[0].branches[0].when.answered',
      'the question is required',
    );
    const optional = withQuestions([
      0,
      { required: false, branches: [{ when: { answered: false }, goto: 'end' }] },
    ]);
    expect(parseSurveyDefinition(optional)).toBeTruthy();
  });
});

describe('parseSurveyDefinition: every problem at once', () => {
  it('reports structural and semantic problems together', () => {
    const survey = {
      ...valid(),
      name: '',
      languages: ['en', 'de'],
      questions: [
        { id: 'nps', type: 'rating', text: ende('?'), min: 1, max: 10, metric: 'nps' },
        { id: 'kind', type: 'slider', text: ende('?') },
        {
          id: 'reason',
          type: 'single',
          text: ende('?'),
          options: [
            { value: 'a', label: ende('A') },
            { value: 'b', label: en('B') },
          ],
          branches: [{ when: { values: ['c'] }, goto: 'nps' }],
        },
        { id: 'reason', type: 'text', text: ende('?'), colour: 'red' },
      ],
      thankYou: ende('Thanks'),
      invitation: { subject: ende('s'), body: ende('b') },
      expiresAfterDays: 100,
    };
    const details = problems(survey);
    expect(details.map((detail) => detail.path).sort()).toEqual(
      [
        'name',
        'questions[1].type',
        'questions[3].colour',
        'expiresAfterDays',
        'questions[0].metric',
        'questions[2].options[1].label.de',
        'questions[2].branches[0].when.values[0]',
        'questions[2].branches[0].goto',
        'questions[3].id',
      ].sort(),
    );
    expect(failure(survey).message).toBe('The survey definition is not valid: 9 problems');
  });

  it('checks a goto against the ids of broken questions too', () => {
    const survey = withQuestions(
      [0, { branches: [{ when: { max: 6 }, goto: 'comment' }] }],
      [2, { maxLength: -1 }],
    );
    expect(problems(survey).map((detail) => detail.path)).toEqual(['questions[2].maxLength']);
  });
});

describe('pickLanguage', () => {
  const languages = ['en', 'de', 'fr-CA', 'pt-BR'];

  it.each([
    ['de', 'de'],
    ['DE', 'de'],
    ['pt-BR', 'pt-BR'],
    ['pt_br', 'pt-BR'],
    ['de-AT', 'de'],
    ['de_CH', 'de'],
    ['pt', 'pt-BR'],
    ['pt-PT', 'pt-BR'],
    ['fr', 'fr-CA'],
    ['fr-FR', 'fr-CA'],
    ['ja', 'en'],
    ['', 'en'],
    [null, 'en'],
    [undefined, 'en'],
  ])('%s → %s', (locale, language) => {
    expect(pickLanguage(languages, locale)).toBe(language);
  });

  it('prefers the bare language to another variant', () => {
    expect(pickLanguage(['en', 'de-CH', 'de'], 'de-AT')).toBe('de');
    expect(pickLanguage(['en', 'de-CH', 'de-DE'], 'de-AT')).toBe('de-CH');
  });

  it('falls back to the first language', () => {
    expect(pickLanguage(['fr', 'en'], 'it-IT')).toBe('fr');
  });
});

describe('nextQuestion and questionPath', () => {
  const rating = (id: string, branches: unknown[] = [], extra: Record<string, unknown> = {}) => ({
    id,
    type: 'rating',
    text: en('?'),
    min: 0,
    max: 10,
    branches,
    ...extra,
  });
  const choice = (id: string, type: 'single' | 'multiple', branches: unknown[] = [], required = true) => ({
    id,
    type,
    text: en('?'),
    options: ['a', 'b', 'c'].map((value) => ({ value, label: en(value) })),
    branches,
    required,
  });
  const text = (id: string, branches: unknown[] = [], required = false) => ({
    id,
    type: 'text',
    text: en('?'),
    branches,
    required,
  });
  const survey = (...questions: unknown[]) => parseSurveyDefinition({ ...valid(), questions });

  it('goes to the next question, then "end", without branches', () => {
    const definition = survey(rating('a'), text('b'));
    expect(nextQuestion(definition, 'a', 5)).toBe('b');
    expect(nextQuestion(definition, 'b', 'fine')).toBe('end');
    expect(questionPath(definition, { a: 5 })).toEqual(['a', 'b']);
  });

  it('matches ratings by min and max, inclusive, the first branch that holds deciding', () => {
    const definition = survey(
      rating('nps', [
        { when: { max: 6 }, goto: 'low' },
        { when: { min: 7, max: 8 }, goto: 'middle' },
        { when: { min: 9 }, goto: 'high' },
        { when: { min: 0 }, goto: 'end' },
      ]),
      text('low', [{ when: { answered: true }, goto: 'end' }]),
      text('middle', [{ when: { answered: true }, goto: 'end' }]),
      text('high'),
    );
    const next = (score: number) => nextQuestion(definition, 'nps', score);
    expect([0, 6, 7, 8, 9, 10].map(next)).toEqual(['low', 'low', 'middle', 'middle', 'high', 'high']);
    expect(questionPath(definition, { nps: 3, low: 'slow' })).toEqual(['nps', 'low']);
    expect(questionPath(definition, { nps: 8, middle: 'more' })).toEqual(['nps', 'middle']);
    expect(questionPath(definition, { nps: 10 })).toEqual(['nps', 'high']);
  });

  it('applies no min/max branch to a skipped rating', () => {
    const definition = survey(
      rating('a', [{ when: { max: 10 }, goto: 'c' }], { required: false }),
      text('b'),
      text('c'),
    );
    expect(nextQuestion(definition, 'a', undefined)).toBe('b');
    expect(questionPath(definition, {})).toEqual(['a', 'b', 'c']);
  });

  it('matches a single choice when it is one of the values', () => {
    const definition = survey(
      choice('pick', 'single', [{ when: { values: ['a', 'b'] }, goto: 'ab' }]),
      text('other'),
      text('ab'),
    );
    expect(nextQuestion(definition, 'pick', 'a')).toBe('ab');
    expect(nextQuestion(definition, 'pick', 'b')).toBe('ab');
    expect(nextQuestion(definition, 'pick', 'c')).toBe('other');
    expect(questionPath(definition, { pick: 'c' })).toEqual(['pick', 'other', 'ab']);
    expect(questionPath(definition, { pick: 'b' })).toEqual(['pick', 'ab']);
  });

  it('matches a multiple choice when any chosen value is among the values', () => {
    const definition = survey(
      choice('pick', 'multiple', [{ when: { values: ['c'] }, goto: 'c' }]),
      text('ab'),
      text('c'),
    );
    expect(nextQuestion(definition, 'pick', ['a', 'c'])).toBe('c');
    expect(nextQuestion(definition, 'pick', ['c'])).toBe('c');
    expect(nextQuestion(definition, 'pick', ['a', 'b'])).toBe('ab');
    expect(nextQuestion(definition, 'pick', [])).toBe('ab');
    expect(questionPath(definition, { pick: ['b', 'c'] })).toEqual(['pick', 'c']);
  });

  it('matches answered true and false, skipped optional questions included', () => {
    const definition = survey(
      text('comment', [
        { when: { answered: false }, goto: 'why_not' },
        { when: { answered: true }, goto: 'end' },
      ]),
      choice('why_not', 'multiple', [{ when: { answered: false }, goto: 'end' }], false),
      text('more'),
    );
    expect(nextQuestion(definition, 'comment', 'great')).toBe('end');
    expect(nextQuestion(definition, 'comment', undefined)).toBe('why_not');
    expect(nextQuestion(definition, 'comment', '   ')).toBe('why_not');
    expect(questionPath(definition, { comment: 'great' })).toEqual(['comment']);
    expect(questionPath(definition, {})).toEqual(['comment', 'why_not']);
    expect(questionPath(definition, { why_not: [] })).toEqual(['comment', 'why_not']);
    expect(questionPath(definition, { why_not: ['a'] })).toEqual(['comment', 'why_not', 'more']);
  });

  it('needs every field of a condition to hold', () => {
    const definition = survey(
      rating('a', [{ when: { min: 3, max: 5, answered: true }, goto: 'c' }], { required: false }),
      text('b'),
      text('c'),
    );
    expect(nextQuestion(definition, 'a', 4)).toBe('c');
    expect(nextQuestion(definition, 'a', 6)).toBe('b');
    expect(nextQuestion(definition, 'a', 2)).toBe('b');
    expect(nextQuestion(definition, 'a', undefined)).toBe('b');
  });

  it('ignores answers of questions not on the path', () => {
    const definition = survey(
      rating('a', [{ when: { min: 5 }, goto: 'c' }]),
      rating('b', [{ when: { min: 0 }, goto: 'end' }]),
      text('c'),
    );
    expect(questionPath(definition, { a: 9, b: 3 })).toEqual(['a', 'c']);
    expect(questionPath(definition, { a: 1, b: 3 })).toEqual(['a', 'b']);
  });

  it('refuses an unknown question', () => {
    const definition = survey(text('a'));
    expect(() => nextQuestion(definition, 'b', undefined)).toThrow(
      expect.objectContaining({ status: 400, code: 'unknown_question' }),
    );
  });

  it('stops on a cycle in a definition that was never parsed', () => {
    const definition = {
      ...valid(),
      questions: [text('a', [{ when: { answered: false }, goto: 'a' }])],
    } as unknown as SurveyDefinition;
    expect(questionPath(definition, {})).toEqual(['a']);
  });
});

describe('questionPath on random surveys (property)', () => {
  const spec = fc.record({
    kind: fc.constantFrom('rating', 'single', 'multiple', 'text'),
    min: fc.integer({ min: 0, max: 90 }),
    span: fc.integer({ min: 1, max: 10 }),
    options: fc.integer({ min: 2, max: 6 }),
    required: fc.boolean(),
    branches: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { maxLength: 4 }),
    answer: fc.option(fc.tuple(fc.nat(), fc.nat()), { nil: undefined }),
  });
  type Spec = typeof spec extends fc.Arbitrary<infer T> ? T : never;

  const values = (s: Spec) => Array.from({ length: s.options }, (_, k) => `v${k}`);
  /** A nonempty subset of the values, chosen by the bits of `seed`. */
  const subset = (all: string[], seed: number) => {
    const chosen = all.filter((_, k) => (seed >> k) & 1);
    return chosen.length > 0 ? chosen : [all[seed % all.length]];
  };

  const condition = (s: Spec, [a, b, c]: number[]) => {
    switch (s.kind) {
      case 'rating': {
        const min = s.min + (a % (s.span + 1));
        const max = min + (b % (s.min + s.span - min + 1));
        return [{ min }, { max }, { min, max }, { answered: true }][c % 4];
      }
      case 'text':
        return { answered: s.required ? true : a % 2 === 0 };
      default:
        return c % 3 === 0 ? { answered: true } : { values: subset(values(s), a) };
    }
  };

  const question = (s: Spec, index: number, count: number) => ({
    id: `q${index}`,
    type: s.kind,
    text: en(`Question ${index}`),
    required: s.required,
    ...(s.kind === 'rating' && { min: s.min, max: s.min + s.span }),
    ...((s.kind === 'single' || s.kind === 'multiple') && {
      options: values(s).map((value) => ({ value, label: en(value) })),
    }),
    branches: s.branches.map((seeds) => {
      const target = index + 1 + (seeds[3] % (count - index));
      return { when: condition(s, seeds), goto: target === count ? 'end' : `q${target}` };
    }),
  });

  const answer = (s: Spec): Answers[string] | undefined => {
    if (!s.answer) return undefined;
    const [a, b] = s.answer;
    if (s.kind === 'rating') return s.min + (a % (s.span + 1));
    if (s.kind === 'single') return values(s)[a % s.options];
    if (s.kind === 'multiple') return b % 4 === 0 ? [] : subset(values(s), a);
    return b % 4 === 0 ? '' : `answer ${a}`;
  };

  it('terminates, starts with the first question and only moves forward', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 10 }), (specs) => {
        const definition = parseSurveyDefinition({
          ...valid(),
          questions: specs.map((s, index) => question(s, index, specs.length)),
        });
        const answers: Answers = {};
        specs.forEach((s, index) => {
          const value = answer(s);
          if (value !== undefined) answers[`q${index}`] = value;
        });
        const path = questionPath(definition, answers);
        const indices = path.map((id) => definition.questions.findIndex((q) => q.id === id));
        expect(path[0]).toBe('q0');
        expect(indices.every((index, k) => index >= 0 && (k === 0 || index > indices[k - 1]))).toBe(true);
        const last = path[path.length - 1];
        expect(nextQuestion(definition, last, answers[last])).toBe('end');
      }),
      { numRuns: 300 },
    );
  });
});
