import { z } from 'zod';
import { AppError, type ErrorDetail } from '../errors.js';
import { issuesToDetails } from '../validation.js';
import {
  type Answer,
  type Answers,
  type Condition,
  type LocalText,
  QUESTION_TYPES,
  type Question,
  SURVEY_METRICS,
  type SurveyDefinition,
  type SurveyMetric,
} from './types.js';

/**
 * Validation of survey definitions (the shape is in types.ts) and the flow through a survey.
 *
 * Validation has two layers. Zod checks the structure: types, lengths, formats, unknown fields,
 * and fills the defaults. The semantic checks then look across fields: translations against
 * `languages`, metrics against scales, branches against the questions. Both layers run on every
 * part that can be checked, so a client gets every problem in one answer.
 */

// ---------------------------------------------------------------------------------------------
// Structure (Zod)
// ---------------------------------------------------------------------------------------------

const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const QUESTION_ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const OPTION_VALUE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The `goto` that ends the survey; no question may have it as its id. */
const END = 'end';
const MAX_BRANCHES = 50;

const show = (value: unknown): string =>
  typeof value === 'string' ? JSON.stringify(value) : `${value === null ? 'null' : typeof value} ${value}`;

/** One string per language; which languages it must have is a semantic check. */
const localText = (max: number) => z.record(z.string(), z.string().min(1).max(max));

const languageCode = z.string().regex(LANGUAGE_CODE, {
  error: (issue) => `must be a language code such as "en", "de" or "pt-BR", got ${show(issue.input)}`,
});

const questionId = z
  .string()
  .regex(QUESTION_ID, {
    error: (issue) =>
      `must start with a letter and hold only letters, digits, "_" and "-" (at most 64), got ${show(issue.input)}`,
  })
  .refine((id) => id !== END, { message: `"${END}" is reserved: a branch's goto "${END}" ends the survey` });

const optionValue = z.string().regex(OPTION_VALUE, {
  error: (issue) =>
    `must start with a letter or digit and hold only letters, digits, "_" and "-" (at most 64), got ${show(issue.input)}`,
});

const condition = z.strictObject({
  min: z.int().optional(),
  max: z.int().optional(),
  values: z.array(z.string()).min(1).max(30).optional(),
  answered: z.boolean().optional(),
});

const branch = z.strictObject({ when: condition, goto: z.string() });

const questionBase = {
  id: questionId,
  text: localText(2000),
  help: localText(2000).optional(),
  branches: z.array(branch).max(MAX_BRANCHES).default([]),
};

const ratingQuestion = z
  .strictObject({
    ...questionBase,
    type: z.literal('rating'),
    required: z.boolean().default(true),
    min: z.int().min(0).max(100),
    max: z.int().min(0).max(100),
    metric: z.enum(Object.keys(SURVEY_METRICS) as [SurveyMetric, ...SurveyMetric[]]).optional(),
    lowLabel: localText(2000).optional(),
    highLabel: localText(2000).optional(),
  })
  .superRefine(({ min, max }, context) => {
    const inRange = (bound: number) => bound >= 0 && bound <= 100;
    if (!inRange(min) || !inRange(max)) return; // already reported
    if (min >= max) {
      context.addIssue({
        code: 'custom',
        path: ['max'],
        message: `must be greater than min (${min}), got ${max}`,
      });
    } else if (max - min > 10) {
      context.addIssue({
        code: 'custom',
        path: ['max'],
        message: `the scale ${min}–${max} has ${max - min + 1} points; at most 11 are allowed (max − min ≤ 10)`,
      });
    }
  });

const options = z
  .array(z.strictObject({ value: optionValue, label: localText(2000) }))
  .min(2)
  .max(30);

const choiceQuestion = <T extends 'single' | 'multiple'>(type: T) =>
  z.strictObject({ ...questionBase, type: z.literal(type), required: z.boolean().default(true), options });

const textQuestion = z.strictObject({
  ...questionBase,
  type: z.literal('text'),
  required: z.boolean().default(false),
  maxLength: z.int().min(1).max(20_000).default(5000),
});

const question = z.discriminatedUnion(
  'type',
  [ratingQuestion, choiceQuestion('single'), choiceQuestion('multiple'), textQuestion],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined
        ? 'is required'
        : `must be one of ${QUESTION_TYPES.join(', ')}; got ${show(type)}`;
    },
  },
);

const languages = z.array(languageCode).min(1).max(20);

/** Top-level texts: where they are and their longest string. */
const TOP_TEXTS = [
  { path: ['intro'], max: 2000 },
  { path: ['thankYou'], max: 2000 },
  { path: ['followUp'], max: 2000 },
  { path: ['invitation', 'subject'], max: 200 },
  { path: ['invitation', 'body'], max: 2000 },
] as const;

const surveyDefinition = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(200),
  languages,
  intro: localText(2000).optional(),
  questions: z.array(question).min(1).max(50),
  thankYou: localText(2000),
  followUp: localText(2000).optional(),
  invitation: z.strictObject({ subject: localText(200), body: localText(2000) }),
  reminderAfterDays: z.int().min(1).max(30).nullable().default(null),
  expiresAfterDays: z.int().min(1).max(90).default(14),
});

// ---------------------------------------------------------------------------------------------
// Semantic checks
// ---------------------------------------------------------------------------------------------

type Path = PropertyKey[];
/** A problem found by a semantic check; turned into an `ErrorDetail` with the house path style. */
interface Problem {
  path: Path;
  message: string;
}

/**
 * The parts of the input that passed the structural checks, each on its own, so the semantic
 * checks run on them even when another part is broken.
 */
interface Draft {
  languages: string[] | undefined;
  texts: Array<{ path: Path; text: LocalText }>;
  /** Each question as parsed, or undefined where it is broken. */
  questions: Array<Question | undefined>;
  /** Each question's id as sent (a string) even where the question is broken. */
  ids: Array<string | undefined>;
}

/** The value at `path` in untrusted input (objects and arrays), or undefined. */
const at = (value: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>(
    (inner, key) =>
      typeof inner === 'object' && inner !== null ? (inner as Record<PropertyKey, unknown>)[key] : undefined,
    value,
  );
const parsed = <T>(schema: z.ZodType<T>, value: unknown): T | undefined => {
  const result = schema.safeParse(value);
  return result.success ? result.data : undefined;
};

const draftOf = (input: unknown): Draft => {
  const raw = at(input, ['questions']);
  const questions: unknown[] = Array.isArray(raw) ? raw : [];
  return {
    languages: parsed(languages, at(input, ['languages'])),
    texts: TOP_TEXTS.flatMap(({ path, max }) => {
      const text = parsed(localText(max), at(input, path));
      return text ? [{ path: [...path], text }] : [];
    }),
    questions: questions.map((value) => parsed(question, value)),
    ids: questions.map((value) => {
      const id = at(value, ['id']);
      return typeof id === 'string' ? id : undefined;
    }),
  };
};

/** Each repeated key: its index and the index of its first occurrence. */
const repeats = (keys: Array<string | undefined>): Array<{ index: number; first: number; key: string }> =>
  keys.flatMap((key, index) => {
    const first = keys.indexOf(key);
    return key !== undefined && first < index ? [{ index, first, key }] : [];
  });

/** Duplicate languages, compared as `pickLanguage` compares them (case-insensitive). */
const languageProblems = (codes: string[]): Problem[] =>
  repeats(codes.map((code) => code.toLowerCase())).map(({ index, first }) => ({
    path: ['languages', index],
    message: `"${codes[index]}" is already listed as languages[${first}]`,
  }));

const idProblems = (ids: Array<string | undefined>): Problem[] =>
  repeats(ids).map(({ index, first, key }) => ({
    path: ['questions', index, 'id'],
    message: `"${key}" is already the id of questions[${first}]; ids must be unique`,
  }));

const optionProblems = (questions: Array<Question | undefined>): Problem[] =>
  questions.flatMap((q, index) =>
    q?.type === 'single' || q?.type === 'multiple'
      ? repeats(q.options.map((option) => option.value)).map(({ index: k, first, key }) => ({
          path: ['questions', index, 'options', k, 'value'],
          message: `"${key}" is already the value of options[${first}]; values must be unique`,
        }))
      : [],
  );

/** Every text of a question with its path. */
const questionTexts = (q: Question, index: number): Array<{ path: Path; text: LocalText }> => {
  const path = ['questions', index];
  const named = (['text', 'help', 'lowLabel', 'highLabel'] as const).flatMap((field) => {
    const text = (q as Partial<Record<typeof field, LocalText>>)[field];
    return text ? [{ path: [...path, field], text }] : [];
  });
  const labels =
    q.type === 'single' || q.type === 'multiple'
      ? q.options.map((option, k) => ({ path: [...path, 'options', k, 'label'], text: option.label }))
      : [];
  return [...named, ...labels];
};

/** Every language needs its translation, and no text has other languages. */
const translationProblems = (codes: string[], path: Path, text: LocalText): Problem[] => [
  ...codes
    .filter((code) => typeof text[code] !== 'string' || text[code] === '')
    .map((code) => ({ path: [...path, code], message: `missing the "${code}" translation` })),
  ...Object.keys(text)
    .filter((key) => !codes.includes(key))
    .map((key) => ({
      path: [...path, key],
      message: `"${key}" is not one of the survey's languages (${codes.join(', ')})`,
    })),
];

const metricProblems = (questions: Array<Question | undefined>): Problem[] =>
  questions.flatMap((q, index) => {
    if (q?.type !== 'rating' || q.metric === undefined) return [];
    const metric = q.metric;
    const path = ['questions', index, 'metric'];
    const [min, max] = SURVEY_METRICS[metric];
    const problems: Problem[] = [];
    if (q.min !== min || q.max !== max) {
      problems.push({ path, message: `${metric} needs the scale ${min}–${max}, got ${q.min}–${q.max}` });
    }
    const first = questions.findIndex((other) => other?.type === 'rating' && other.metric === metric);
    if (first < index) {
      problems.push({
        path,
        message: `questions[${first}] already feeds ${metric}; a survey has at most one question per metric`,
      });
    }
    return problems;
  });

/** A goto must name a later question (or "end"); naming this or an earlier one is a cycle. */
const gotoProblem = (ids: Array<string | undefined>, index: number, goto: string): string | undefined => {
  if (goto === END) return undefined;
  const target = ids.indexOf(goto);
  if (target < 0) return `"${goto}" is not a question of this survey; use a later question's id or "${END}"`;
  if (target > index) return undefined;
  const current = ids[index];
  const cycle =
    target === index
      ? `${current} → ${current}`
      : `${goto} → ${index - target > 1 ? '… → ' : ''}${current} → ${goto}`;
  const where =
    target === index ? `"${goto}" is this question itself` : `"${goto}" comes before "${current}"`;
  return `${where}: the jump would create the cycle ${cycle}; branches may only jump forward`;
};

const FIELDS = ['min', 'max', 'values', 'answered'] as const;

/** Whether a condition's fields fit its question's type, options and scale. */
const conditionProblems = (q: Question, when: Condition, path: Path): Problem[] => {
  const present = FIELDS.filter((field) => when[field] !== undefined);
  if (present.length === 0) {
    return [{ path, message: `must have at least one of ${FIELDS.join(', ')}` }];
  }
  const problems: Problem[] = [];
  const add = (field: PropertyKey, message: string) => problems.push({ path: [...path, field], message });
  if (q.type === 'text') {
    for (const field of present) {
      if (field !== 'answered') add(field, `a text question's branches may only use answered`);
    }
  }
  if (q.type === 'rating') {
    if (when.values !== undefined) {
      add('values', 'only choice questions are matched by values; a rating question uses min and max');
    }
    for (const field of ['min', 'max'] as const) {
      const bound = when[field];
      if (bound !== undefined && (bound < q.min || bound > q.max)) {
        add(field, `must be within the scale ${q.min}–${q.max}, got ${bound}`);
      }
    }
    if (when.min !== undefined && when.max !== undefined && when.min > when.max) {
      add('min', `must not be greater than max (${when.max}), got ${when.min}`);
    }
  }
  if (q.type === 'single' || q.type === 'multiple') {
    for (const field of ['min', 'max'] as const) {
      if (when[field] !== undefined) {
        add(field, 'only rating questions are matched by min and max; a choice question uses values');
      }
    }
    const known = q.options.map((option) => option.value);
    (when.values ?? []).forEach((value, k) => {
      if (!known.includes(value)) {
        problems.push({
          path: [...path, 'values', k],
          message: `"${value}" is not an option of this question (${known.join(', ')})`,
        });
      }
    });
  }
  if (when.answered === false && q.required) {
    add('answered', 'false never holds: the question is required; set required: false or drop the branch');
  }
  return problems;
};

const branchProblems = (questions: Array<Question | undefined>, ids: Array<string | undefined>): Problem[] =>
  questions.flatMap((q, index) =>
    (q?.branches ?? []).flatMap((branch, k) => {
      const path = ['questions', index, 'branches', k];
      const problem = gotoProblem(ids, index, branch.goto);
      return [
        ...(q ? conditionProblems(q, branch.when, [...path, 'when']) : []),
        ...(problem ? [{ path: [...path, 'goto'], message: problem }] : []),
      ];
    }),
  );

const semanticProblems = (draft: Draft): Problem[] => {
  const { languages: codes, questions, ids } = draft;
  const texts = [...questions.flatMap((q, index) => (q ? questionTexts(q, index) : [])), ...draft.texts];
  return [
    ...(codes ? languageProblems(codes) : []),
    ...(codes ? texts.flatMap(({ path, text }) => translationProblems(codes, path, text)) : []),
    ...idProblems(ids),
    ...optionProblems(questions),
    ...metricProblems(questions),
    ...branchProblems(questions, ids),
  ];
};

// ---------------------------------------------------------------------------------------------
// Details
// ---------------------------------------------------------------------------------------------

/** Fields a question of another type has: an unknown field there gets a hint. */
const FIELD_OWNERS: Record<string, string> = {
  min: 'rating',
  max: 'rating',
  metric: 'rating',
  lowLabel: 'rating',
  highLabel: 'rating',
  options: 'single and multiple',
  maxLength: 'text',
};

const unknownFieldMessage = (input: unknown, path: readonly PropertyKey[], key: string): string => {
  const type = path.length === 2 && path[0] === 'questions' ? at(input, [...path, 'type']) : undefined;
  const owner = FIELD_OWNERS[key];
  return typeof type === 'string' && owner
    ? `is not a field of a ${type} question; only ${owner} questions have it`
    : 'is not a known field';
};

const structuralDetails = (input: unknown, issues: readonly z.core.$ZodIssue[]): ErrorDetail[] =>
  issues.flatMap((issue) => {
    if (issue.code !== 'unrecognized_keys') return issuesToDetails([issue]);
    return issue.keys.flatMap((key) =>
      issuesToDetails([{ ...issue, keys: [key] }]).map((detail) => ({
        ...detail,
        message: unknownFieldMessage(input, issue.path, key),
      })),
    );
  });

const problemDetails = (problems: Problem[]): ErrorDetail[] =>
  issuesToDetails(problems.map(({ path, message }) => ({ code: 'custom', input: undefined, path, message })));

// ---------------------------------------------------------------------------------------------
// API
// ---------------------------------------------------------------------------------------------

/**
 * Validates a survey definition sent by an API client and returns it with the defaults filled
 * in: `required` (true for ratings and choices, false for text), `branches` ([]),
 * `reminderAfterDays` (null), `expiresAfterDays` (14) and a text question's `maxLength` (5000).
 *
 * @throws AppError 400 `invalid_survey` listing every problem as `{ path, message }`, e.g.
 *   `{ path: "questions[0].text.de", message: 'missing the "de" translation' }`.
 * @example
 * const survey = parseSurveyDefinition(await request.json());
 * survey.questions[0].required; // true for a rating that did not say
 */
export const parseSurveyDefinition = (input: unknown): SurveyDefinition => {
  const result = surveyDefinition.safeParse(input);
  const details = [
    ...(result.success ? [] : structuralDetails(input, result.error.issues)),
    ...problemDetails(semanticProblems(draftOf(input))),
  ];
  if (result.success && details.length === 0) return result.data;
  const count = `${details.length} problem${details.length === 1 ? '' : 's'}`;
  throw new AppError(400, 'invalid_survey', `The survey definition is not valid: ${count}`, details);
};

const normaliseLocale = (code: string) => code.trim().toLowerCase().replaceAll('_', '-');
const primary = (code: string) => code.split('-')[0];

/**
 * The survey language for a customer's locale: the exact language (case-insensitive, "_" read
 * as "-"); else one with the same primary language, the bare code first ("de-AT" → "de"), then
 * the survey's first variant ("pt" → "pt-BR"); else the survey's default, `languages[0]`.
 *
 * @example
 * pickLanguage(['en', 'de', 'pt-BR'], 'de_AT'); // "de"
 * pickLanguage(['en', 'de', 'pt-BR'], 'pt'); // "pt-BR"
 * pickLanguage(['en', 'de'], 'ja'); // "en"
 */
export const pickLanguage = (languages: readonly string[], locale: string | null | undefined): string => {
  if (languages.length === 0) throw new Error('pickLanguage: a survey has at least one language');
  const wanted = normaliseLocale(locale ?? '');
  const codes = languages.map(normaliseLocale);
  const index = [
    codes.indexOf(wanted),
    codes.indexOf(primary(wanted)),
    codes.findIndex((code) => primary(code) === primary(wanted)),
  ].find((found) => found >= 0);
  return languages[wanted === '' || index === undefined ? 0 : index];
};

/** Whether an answer counts as given: a score, a choice, a non-empty list or non-blank text. */
const isAnswered = (answer: Answer | undefined): answer is Answer =>
  answer !== undefined &&
  (typeof answer === 'number' || (Array.isArray(answer) ? answer.length > 0 : answer.trim() !== ''));

/** A condition holds when every field it has holds (semantics in types.ts). */
const holds = (when: Condition, answer: Answer | undefined): boolean => {
  const answered = isAnswered(answer);
  if (when.answered !== undefined && when.answered !== answered) return false;
  if (when.min !== undefined && !(typeof answer === 'number' && answer >= when.min)) return false;
  if (when.max !== undefined && !(typeof answer === 'number' && answer <= when.max)) return false;
  if (when.values !== undefined) {
    const chosen = Array.isArray(answer) ? answer : typeof answer === 'string' ? [answer] : [];
    if (!chosen.some((value) => when.values?.includes(value))) return false;
  }
  return true;
};

/**
 * Where a respondent goes after a question: the `goto` of the first of its branches whose
 * condition holds for the answer (undefined: skipped), else the next question, else "end".
 *
 * @throws AppError 400 `unknown_question` when the survey has no question `currentId`.
 * @example
 * nextQuestion(survey, 'nps', 4); // "improve" with a branch { when: { max: 6 }, goto: "improve" }
 * nextQuestion(survey, 'liked', undefined); // "end" after the last question
 */
export const nextQuestion = (
  definition: SurveyDefinition,
  currentId: string,
  answer: Answer | undefined,
): string | 'end' => {
  const { questions } = definition;
  const index = questions.findIndex((q) => q.id === currentId);
  if (index < 0) {
    throw new AppError(400, 'unknown_question', `The survey has no question "${currentId}"`);
  }
  const branch = (questions[index].branches ?? []).find(({ when }) => holds(when, answer));
  return branch?.goto ?? questions[index + 1]?.id ?? END;
};

/**
 * The ids of the questions a respondent with these answers is shown, in order: from the first
 * question, following {@link nextQuestion} until "end". The answers that count are theirs; a
 * response is complete when every required question on the path is answered.
 *
 * @example
 * questionPath(survey, { nps: 9, liked: 'Fast delivery' }); // ["nps", "liked"]
 */
export const questionPath = (definition: SurveyDefinition, answers: Answers): string[] => {
  const path: string[] = [];
  let id: string | undefined = definition.questions[0]?.id;
  // A valid definition only jumps forward; the check guards against one that was never parsed.
  while (id !== undefined && id !== END && !path.includes(id)) {
    path.push(id);
    id = nextQuestion(definition, id, answers[id]);
  }
  return path;
};
