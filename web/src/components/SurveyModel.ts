/**
 * The survey editor's model: the API's survey shapes, the draft a person edits, and the flow through
 * a survey (the same rules as src/surveys/definition.ts, so the preview walks a survey exactly as a
 * respondent does).
 *
 * Branching is edited in one of two ways:
 * - simple: each follow-up question says which answers to the question it follows make it shown
 *   ("only detractors, 0–6"). Follow-ups come right after the rating or single-choice question that
 *   decides about them. This is compiled into the definition's forward-only `branches`.
 * - jump rules: the definition's `branches` as they are ("after this question, if the score is 0–6,
 *   go to …"), for surveys whose branching the simple form cannot express.
 */
import type {
  Answer,
  Answers,
  Branch,
  ChoiceOption,
  Condition,
  LocalText,
  Question,
  QuestionType,
  SurveyDefinition,
  SurveyMetric,
} from '../../../src/surveys/types';

export type { Answer, Answers, Branch, ChoiceOption, Condition, LocalText, Question, SurveyDefinition };

// ------------------------------------------------------------------------------------ API shapes

export const SURVEY_STATUSES = ['active', 'paused', 'archived'] as const;
export type SurveyStatus = (typeof SURVEY_STATUSES)[number];

/** GET /api/v1/surveys (one item). */
export interface SurveySummary {
  id: number;
  name: string;
  status: SurveyStatus;
  version: number;
  template: string | null;
  createdAt: string;
  updatedAt: string;
}

/** GET /api/v1/surveys/{id}. */
export interface SurveyDetail extends SurveySummary {
  definition: SurveyDefinition;
  versions: { version: number; createdAt: string }[];
}

/** GET /api/v1/survey-templates (one item). */
export interface SurveyTemplate {
  id: string;
  name: string;
  description: string;
  languages: string[];
}

/** One funnel of GET /api/v1/surveys/response-rates. */
export interface Funnel {
  invited: number;
  delivered: number;
  opened: number;
  started: number;
  completed: number;
  suppressed: number;
  failed: number;
  responseRate: number | null;
}

export interface ResponseRatesResponse {
  by: string[];
  total: Funnel;
  rows: (Funnel & { group: Record<string, string | null> })[];
}

export const SEND_CHANNELS = ['email', 'sms', 'voice', 'webhook'] as const;
export type SendChannel = (typeof SEND_CHANNELS)[number];

/** GET /api/v1/surveys/{id}/triggers (one item). */
export interface SurveyTrigger {
  id: number;
  surveyId: number;
  kind: 'interaction' | 'relationship';
  channel: SendChannel;
  active: boolean;
  match: Record<string, string[] | boolean>;
  delaySeconds: number;
  samplePercent: number;
  maxAgeHours: number;
  everyDays: number | null;
  createdAt: string;
}

/** GET /api/v1/survey-settings (the parts the dashboard edits; the rest is sent back unchanged). */
export interface SurveySettings {
  minDaysBetweenInvitations: number;
  touchpointQuarantineDays: number;
  duplicateWindowHours: number;
  quietHours: { start: string; end: string } | null;
  defaultTimeZone: string;
  [other: string]: unknown;
}

// ------------------------------------------------------------------------------------ vocabulary

/** src/domain/vocabulary.ts */
export const CHANNELS = [
  'phone',
  'ivr',
  'email',
  'chat',
  'sms',
  'web',
  'app',
  'social',
  'store',
  'mail',
  'video',
  'field',
  'other',
] as const;
export const LIFECYCLE_STAGES = ['new', 'current', 'advocate', 'ending', 'renewing'] as const;
export const PERSONALITY_TYPES = ['prompt', 'relationship', 'unknown'] as const;

export const QUESTION_TYPE_LABELS: Record<QuestionType, string> = {
  rating: 'Rating scale',
  single: 'Single choice',
  multiple: 'Multiple choice',
  text: 'Free text',
};

/** Rating scales offered in the editor; a metric fixes the scale and fills the feedback record's field. */
export const SCALES = [
  { value: 'nps', label: 'NPS, 0–10 (likely to recommend)', min: 0, max: 10, metric: 'nps' },
  { value: 'csat', label: 'CSAT, 1–5 (satisfied)', min: 1, max: 5, metric: 'csat' },
  { value: 'ces', label: 'CES, 1–7 (made it easy)', min: 1, max: 7, metric: 'ces' },
  { value: 'custom', label: 'Other scale (no metric)', min: 1, max: 5, metric: undefined },
] as const satisfies readonly {
  value: string;
  label: string;
  min: number;
  max: number;
  metric: SurveyMetric | undefined;
}[];
export type ScaleKind = (typeof SCALES)[number]['value'];

/** Score groups offered for "who sees this question", per metric (PRODUCT.md definitions). */
export const SCORE_GROUPS: Record<SurveyMetric, { label: string; min: number; max: number }[]> = {
  nps: [
    { label: 'Detractors (0–6)', min: 0, max: 6 },
    { label: 'Passives (7–8)', min: 7, max: 8 },
    { label: 'Promoters (9–10)', min: 9, max: 10 },
    { label: 'Detractors and passives (0–8)', min: 0, max: 8 },
  ],
  csat: [
    { label: 'Dissatisfied (1–2)', min: 1, max: 2 },
    { label: 'Neutral (3)', min: 3, max: 3 },
    { label: 'Satisfied (4–5)', min: 4, max: 5 },
    { label: 'Not satisfied (1–3)', min: 1, max: 3 },
  ],
  ces: [
    { label: 'Difficult (1–3)', min: 1, max: 3 },
    { label: 'Neutral (4)', min: 4, max: 4 },
    { label: 'Easy (5–7)', min: 5, max: 7 },
    { label: 'Not easy (1–4)', min: 1, max: 4 },
  ],
};

// ------------------------------------------------------------------------------------ the draft

/** Which answers to the question a follow-up follows make it shown (simple branching). */
export interface ShowWhen {
  /** The `key` of the question deciding (the last question before it that everyone is asked). */
  source: string;
  min?: number;
  max?: number;
  values?: string[];
}

/**
 * A question as edited: every type's fields at once, so changing the type and back keeps them.
 * `key` is the editor's own stable handle (ids can be edited, indexes change when moving).
 */
export interface DraftQuestion {
  key: string;
  id: string;
  type: QuestionType;
  text: LocalText;
  help: LocalText;
  required: boolean;
  /** Jump rules (edited in jump-rule mode; compiled from showWhen in simple mode). */
  branches: Branch[];
  /** Simple mode: null for questions everyone on the way is asked. */
  showWhen: ShowWhen | null;
  min: number;
  max: number;
  metric: SurveyMetric | undefined;
  lowLabel: LocalText;
  highLabel: LocalText;
  options: ChoiceOption[];
  maxLength: number;
}

export type BranchMode = 'simple' | 'jumps';

export interface Draft {
  name: string;
  languages: string[];
  intro: LocalText;
  questions: DraftQuestion[];
  thankYou: LocalText;
  followUp: LocalText;
  invitation: { subject: LocalText; body: LocalText };
  reminderAfterDays: number | null;
  expiresAfterDays: number;
  mode: BranchMode;
}

let keys = 0;
export const newKey = (): string => {
  keys += 1;
  return `k${keys}`;
};

const END = 'end';

/** Ratings and choices are required unless they say otherwise; text is optional. */
export const isRequired = (question: Pick<Question, 'required' | 'type'>): boolean =>
  question.required ?? question.type !== 'text';

const fromQuestion = (question: Question): DraftQuestion => {
  const rating = question.type === 'rating' ? question : undefined;
  const choice = question.type === 'single' || question.type === 'multiple' ? question : undefined;
  return {
    key: newKey(),
    id: question.id,
    type: question.type,
    text: { ...question.text },
    help: { ...(question.help ?? {}) },
    required: isRequired(question),
    branches: (question.branches ?? []).map((branch) => ({ when: { ...branch.when }, goto: branch.goto })),
    showWhen: null,
    min: rating?.min ?? 0,
    max: rating?.max ?? 10,
    metric: rating?.metric,
    lowLabel: { ...(rating?.lowLabel ?? {}) },
    highLabel: { ...(rating?.highLabel ?? {}) },
    options: choice
      ? choice.options.map((option) => ({ value: option.value, label: { ...option.label } }))
      : [],
    maxLength: question.type === 'text' ? (question.maxLength ?? 5000) : 5000,
  };
};

/** Without empty translations; undefined when nothing is left (for optional texts). */
const cleanText = (text: LocalText): LocalText =>
  Object.fromEntries(Object.entries(text).filter(([, value]) => value.trim() !== ''));
const optionalText = (text: LocalText): LocalText | undefined => {
  const clean = cleanText(text);
  return Object.keys(clean).length === 0 ? undefined : clean;
};

/** The question as the API takes it, with the branches given. */
const toQuestion = (draft: DraftQuestion, branches: Branch[]): Question => {
  const base = {
    id: draft.id,
    text: cleanText(draft.text),
    ...(optionalText(draft.help) && { help: optionalText(draft.help) }),
    required: draft.required,
    branches,
  };
  switch (draft.type) {
    case 'rating':
      return {
        ...base,
        type: 'rating',
        min: draft.min,
        max: draft.max,
        ...(draft.metric && { metric: draft.metric }),
        ...(optionalText(draft.lowLabel) && { lowLabel: optionalText(draft.lowLabel) }),
        ...(optionalText(draft.highLabel) && { highLabel: optionalText(draft.highLabel) }),
      };
    case 'single':
    case 'multiple':
      return {
        ...base,
        type: draft.type,
        options: draft.options.map((option) => ({ value: option.value, label: cleanText(option.label) })),
      };
    default:
      return { ...base, type: 'text', maxLength: draft.maxLength };
  }
};

// ------------------------------------------------------------------------------------ flow

const isAnswered = (answer: Answer | undefined): answer is Answer =>
  answer !== undefined &&
  (typeof answer === 'number' || (Array.isArray(answer) ? answer.length > 0 : answer.trim() !== ''));

/** Whether a branch condition holds for an answer (src/surveys/definition.ts). */
export const holds = (when: Condition, answer: Answer | undefined): boolean => {
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

/** Where a respondent goes after a question: the first branch that holds, else the next question, else "end". */
export const nextQuestion = (
  definition: Pick<SurveyDefinition, 'questions'>,
  currentId: string,
  answer: Answer | undefined,
): string => {
  const { questions } = definition;
  const index = questions.findIndex((q) => q.id === currentId);
  if (index < 0) return END;
  const branch = (questions[index].branches ?? []).find(({ when }) => holds(when, answer));
  return branch?.goto ?? questions[index + 1]?.id ?? END;
};

/** The ids of the questions a respondent with these answers is shown, in order. */
export const questionPath = (definition: Pick<SurveyDefinition, 'questions'>, answers: Answers): string[] => {
  const path: string[] = [];
  let id: string | undefined = definition.questions[0]?.id;
  while (id !== undefined && id !== END && !path.includes(id)) {
    path.push(id);
    id = nextQuestion(definition, id, answers[id]);
  }
  return path;
};

/** The answers that can make a difference to a question's branches (one of each kind). */
const answerClasses = (question: Question): (Answer | undefined)[] => {
  const classes: (Answer | undefined)[] = [];
  if (question.type === 'rating') for (let s = question.min; s <= question.max; s++) classes.push(s);
  else if (question.type === 'single') classes.push(...question.options.map((o) => o.value));
  else if (question.type === 'multiple') classes.push(...question.options.map((o) => [o.value]));
  else classes.push('text');
  if (!isRequired(question)) classes.push(undefined);
  return classes;
};

/** Some answer, for walking past a question whose answer does not matter. */
const anyAnswer = (question: Question): Answer =>
  question.type === 'rating'
    ? question.min
    : question.type === 'single'
      ? (question.options[0]?.value ?? 'x')
      : question.type === 'multiple'
        ? [question.options[0]?.value ?? 'x']
        : 'text';

/** Whether two definitions with the same questions send every answer to the same next question. */
const sameFlow = (a: SurveyDefinition, b: SurveyDefinition): boolean =>
  a.questions.length === b.questions.length &&
  a.questions.every((question, index) => {
    const other = b.questions[index];
    if (other.id !== question.id) return false;
    return answerClasses(question).every(
      (answer) => nextQuestion(a, question.id, answer) === nextQuestion(b, question.id, answer),
    );
  });

// ------------------------------------------------------------------------------------ simple branching

/** The condition of a follow-up, without its source. */
export const conditionOf = (showWhen: ShowWhen): Condition =>
  showWhen.values !== undefined ? { values: showWhen.values } : { min: showWhen.min, max: showWhen.max };

/** The answers (scores or option values) a condition on a question admits. */
const admitted = (source: DraftQuestion, when: Condition): (number | string)[] => {
  if (source.type === 'rating') {
    const scores: number[] = [];
    for (let s = source.min; s <= source.max; s++) if (holds(when, s)) scores.push(s);
    return scores;
  }
  return source.options.map((o) => o.value).filter((value) => holds(when, value));
};

/** Index of the question that decides about question `index`: the last one before it everyone is asked. */
export const anchorIndex = (questions: readonly DraftQuestion[], index: number): number => {
  for (let i = index - 1; i >= 0; i--) if (!questions[i].showWhen) return i;
  return -1;
};

/** A problem found in the editor, before the API is asked; the path is the editor's own (`q:KEY.showWhen`). */
export interface Problem {
  path: string;
  message: string;
}

const describeAnswers = (source: DraftQuestion, answers: (number | string)[]): string => {
  if (source.type !== 'rating') {
    return answers
      .map((value) => source.options.find((o) => o.value === value)?.label)
      .map((label) => (label ? Object.values(label)[0] : '?'))
      .join(', ');
  }
  const first = answers[0];
  const last = answers[answers.length - 1];
  return first === last ? `${first}` : `${first}–${last}`;
};

export const questionLabel = (questions: readonly DraftQuestion[], key: string, language: string): string => {
  const index = questions.findIndex((q) => q.key === key);
  const question = questions[index];
  if (!question) return 'a removed question';
  const text = question.text[language] || Object.values(question.text).find(Boolean) || question.id;
  return `question ${index + 1} (“${text.length > 50 ? `${text.slice(0, 48)}…` : text}”)`;
};

/** What stops the simple branching from being compiled, per follow-up. */
export const simpleProblems = (draft: Draft, language: string): Problem[] => {
  if (draft.mode !== 'simple') return [];
  const { questions } = draft;
  const problems: Problem[] = [];
  questions.forEach((question, index) => {
    const show = question.showWhen;
    if (!show) return;
    const path = `q:${question.key}.showWhen`;
    const anchor = anchorIndex(questions, index);
    const source = questions[anchor];
    if (!source) {
      problems.push({ path, message: 'the first question is asked to everyone' });
      return;
    }
    if (source.key !== show.source) {
      problems.push({
        path,
        message: `this question now follows ${questionLabel(questions, source.key, language)}, not the question it depended on; choose again who sees it`,
      });
      return;
    }
    if (source.type !== 'rating' && source.type !== 'single') {
      problems.push({
        path,
        message: `only a rating or single-choice question can decide who sees the next questions; ${questionLabel(questions, source.key, language)} is ${QUESTION_TYPE_LABELS[source.type].toLowerCase()}`,
      });
      return;
    }
    const mine = admitted(source, conditionOf(show));
    if (mine.length === 0) {
      problems.push({
        path,
        message:
          source.type === 'rating'
            ? `choose scores within ${source.min}–${source.max} (from at most to)`
            : 'choose at least one answer',
      });
      return;
    }
    // The next follow-up of the same question that some of these respondents see must be seen by all of them.
    for (let j = index + 1; j < questions.length && questions[j].showWhen; j++) {
      const later = questions[j].showWhen as ShowWhen;
      const theirs = admitted(source, conditionOf(later));
      const shared = mine.filter((answer) => theirs.includes(answer));
      if (shared.length === 0) continue;
      if (shared.length < mine.length) {
        problems.push({
          path,
          message:
            `the answers for this question (${describeAnswers(source, mine)}) overlap only partly with those of ` +
            `${questionLabel(questions, questions[j].key, language)} (${describeAnswers(source, theirs)}). ` +
            'After this question the survey cannot tell which of them to show; put the question with fewer answers first, or make the answers not overlap.',
        });
      }
      break;
    }
  });
  return problems;
};

const thenGoTo = (question: DraftQuestion, goto: string): Branch[] =>
  question.required
    ? [{ when: { answered: true }, goto }]
    : [
        { when: { answered: true }, goto },
        { when: { answered: false }, goto },
      ];

/** The branches of every question from the simple form (follow-ups right after the question deciding). */
const compileSimple = (questions: readonly DraftQuestion[]): Branch[][] => {
  const result: Branch[][] = questions.map(() => []);
  const idAt = (index: number) => questions[index]?.id ?? END;
  let i = 0;
  while (i < questions.length) {
    const source = questions[i];
    let after = i + 1;
    while (after < questions.length && questions[after].showWhen) after += 1;
    const group = questions.slice(i + 1, after);
    if (group.length > 0 && (source.type === 'rating' || source.type === 'single')) {
      const conditions = group.map((f) => conditionOf(f.showWhen as ShowWhen));
      const branches: Branch[] = group.map((f, k) => ({ when: conditions[k], goto: f.id }));
      const all = admitted(source, {});
      const covered = all.every((answer) => conditions.some((when) => holds(when, answer)));
      if (!(covered && source.required)) branches.push(...thenGoTo(source, idAt(after)));
      result[i] = branches;
      group.forEach((f, k) => {
        const mine = admitted(source, conditions[k]);
        let target = idAt(after);
        for (let j = k + 1; j < group.length; j++) {
          const theirs = admitted(source, conditions[j]);
          if (mine.some((answer) => theirs.includes(answer))) {
            target = group[j].id;
            break;
          }
        }
        const index = i + 1 + k;
        result[index] = target === idAt(index + 1) ? [] : thenGoTo(f, target);
      });
    }
    i = after;
  }
  return result;
};

/** The fields that decide where branches may go and which answers they match. */
const shapeOf = (question: Question) =>
  JSON.stringify([
    question.type,
    isRequired(question),
    question.type === 'rating' ? [question.min, question.max] : null,
    question.type === 'single' || question.type === 'multiple' ? question.options.map((o) => o.value) : null,
  ]);

/**
 * The definition the API is sent (and the preview walks). In simple mode the branches are compiled;
 * a question whose flow and shape did not change keeps the branches it was loaded with, so saving an
 * unchanged survey does not make a new version.
 */
export const compile = (draft: Draft, loaded?: SurveyDefinition): SurveyDefinition => {
  const branches =
    draft.mode === 'simple' ? compileSimple(draft.questions) : draft.questions.map((q) => q.branches);
  const definition: SurveyDefinition = {
    name: draft.name,
    languages: draft.languages,
    ...(optionalText(draft.intro) && { intro: optionalText(draft.intro) }),
    questions: draft.questions.map((question, index) => toQuestion(question, branches[index])),
    thankYou: cleanText(draft.thankYou),
    ...(optionalText(draft.followUp) && { followUp: optionalText(draft.followUp) }),
    invitation: { subject: cleanText(draft.invitation.subject), body: cleanText(draft.invitation.body) },
    reminderAfterDays: draft.reminderAfterDays,
    expiresAfterDays: draft.expiresAfterDays,
  };
  if (draft.mode === 'simple' && loaded && sameFlow(definition, loaded)) {
    definition.questions = definition.questions.map((question, index) => {
      const before = loaded.questions[index];
      return shapeOf(before) === shapeOf(question)
        ? { ...question, branches: before.branches ?? [] }
        : question;
    });
  }
  return definition;
};

/**
 * The simple form of a definition's branching, or null when it has none: each rating or
 * single-choice question whose branches lead to the questions right after it for some answers.
 */
const inferSimple = (definition: SurveyDefinition, questions: DraftQuestion[]): DraftQuestion[] | null => {
  const result = questions.map((question) => ({ ...question, showWhen: null as ShowWhen | null }));
  const defQuestions = definition.questions;
  const indexOf = new Map(defQuestions.map((q, index) => [q.id, index]));
  let i = 0;
  while (i < defQuestions.length) {
    const source = defQuestions[i];
    if ((source.branches ?? []).length === 0) {
      i += 1;
      continue;
    }
    if (source.type !== 'rating' && source.type !== 'single') return null;
    const answers = answerClasses(source).filter((answer) => answer !== undefined) as (number | string)[];
    const paths = answers.map((answer) => {
      const visited = new Set<number>();
      let id = nextQuestion(definition, source.id, answer);
      while (id !== END) {
        const at = indexOf.get(id);
        if (at === undefined || visited.has(at)) break;
        visited.add(at);
        id = nextQuestion(definition, id, anyAnswer(defQuestions[at]));
      }
      return visited;
    });
    let after = defQuestions.length;
    for (let k = i + 1; k < defQuestions.length; k++) {
      if (paths.every((visited) => visited.has(k))) {
        after = k;
        break;
      }
    }
    for (let f = i + 1; f < after; f++) {
      const shown = answers.filter((_, k) => paths[k].has(f));
      if (shown.length === 0) return null;
      if (source.type === 'rating') {
        const scores = shown as number[];
        const contiguous = scores.every((score, k) => k === 0 || score === scores[k - 1] + 1);
        if (!contiguous) return null;
        result[f].showWhen = { source: result[i].key, min: scores[0], max: scores[scores.length - 1] };
      } else {
        result[f].showWhen = { source: result[i].key, values: shown as string[] };
      }
    }
    i = after;
  }
  return result;
};

/** Tries the simple form for a draft in jump-rule mode; null when it cannot express the branching. */
export const toSimple = (draft: Draft): Draft | null => {
  const definition = compile({ ...draft, mode: 'jumps' });
  const questions = inferSimple(definition, draft.questions);
  if (!questions) return null;
  const simple: Draft = { ...draft, questions, mode: 'simple' };
  return sameFlow(compile(simple), definition) ? simple : null;
};

/** Jump-rule mode with the branches the simple form stands for. */
export const toJumps = (draft: Draft, loaded?: SurveyDefinition): Draft => {
  const definition = compile(draft, loaded);
  return {
    ...draft,
    mode: 'jumps',
    questions: draft.questions.map((question, index) => ({
      ...question,
      showWhen: null,
      branches: definition.questions[index].branches ?? [],
    })),
  };
};

/** The draft of a definition, in simple mode when its branching allows. */
export const toDraft = (definition: SurveyDefinition): Draft => {
  const draft: Draft = {
    name: definition.name,
    languages: [...definition.languages],
    intro: { ...(definition.intro ?? {}) },
    questions: definition.questions.map(fromQuestion),
    thankYou: { ...definition.thankYou },
    followUp: { ...(definition.followUp ?? {}) },
    invitation: {
      subject: { ...definition.invitation.subject },
      body: { ...definition.invitation.body },
    },
    reminderAfterDays: definition.reminderAfterDays ?? null,
    expiresAfterDays: definition.expiresAfterDays ?? 14,
    mode: 'jumps',
  };
  return toSimple(draft) ?? draft;
};

/** An id not used by any question yet: q1, q2, … */
export const freeId = (questions: readonly DraftQuestion[], base = 'q'): string => {
  const taken = new Set(questions.map((q) => q.id));
  if (base !== 'q' && !taken.has(base)) return base;
  for (let n = questions.length + 1; ; n++) if (!taken.has(`${base}${n}`)) return `${base}${n}`;
};

/** A new question of a type, with empty texts. */
export const blankQuestion = (type: QuestionType, questions: readonly DraftQuestion[]): DraftQuestion => ({
  key: newKey(),
  id: freeId(questions),
  type,
  text: {},
  help: {},
  required: type !== 'text',
  branches: [],
  showWhen: null,
  min: 0,
  max: 10,
  metric: undefined,
  lowLabel: {},
  highLabel: {},
  options:
    type === 'single' || type === 'multiple'
      ? [
          { value: 'option_1', label: {} },
          { value: 'option_2', label: {} },
        ]
      : [],
  maxLength: 5000,
});

/** An option value from its label: "Came late" → came_late. */
export const optionValueFrom = (label: string, taken: readonly string[]): string => {
  const base =
    label
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40) || 'option';
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}_${n}`)) return `${base}_${n}`;
};

/** The scale kind of a rating question, for the scale select. */
export const scaleOf = (question: DraftQuestion): ScaleKind => question.metric ?? 'custom';

/** JSON with sorted keys, to compare definitions. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );

/** Every text of a draft that must exist in each language, with its editor path. */
export const requiredTexts = (draft: Draft): { path: string; text: LocalText }[] => [
  ...draft.questions.flatMap((q) => [
    { path: `q:${q.key}.text`, text: q.text },
    ...(q.type === 'single' || q.type === 'multiple'
      ? q.options.map((option, k) => ({ path: `q:${q.key}.options[${k}].label`, text: option.label }))
      : []),
  ]),
  { path: 'thankYou', text: draft.thankYou },
  { path: 'invitation.subject', text: draft.invitation.subject },
  { path: 'invitation.body', text: draft.invitation.body },
];

/** Optional texts (help, scale labels, intro, follow-up promise) that are written in some language. */
const optionalTexts = (draft: Draft): LocalText[] =>
  [
    draft.intro,
    draft.followUp,
    ...draft.questions.flatMap((q) => [q.help, ...(q.type === 'rating' ? [q.lowLabel, q.highLabel] : [])]),
  ].filter((text) => Object.values(text).some((value) => value.trim()));

/** How many texts each language still lacks (required ones, and optional ones written in another language). */
export const missingTranslations = (draft: Draft): Record<string, number> => {
  const texts = [...requiredTexts(draft).map(({ text }) => text), ...optionalTexts(draft)];
  return Object.fromEntries(
    draft.languages.map((language) => [language, texts.filter((text) => !text[language]?.trim()).length]),
  );
};

/** Language codes the API accepts ("en", "de", "pt-BR"). */
export const LANGUAGE_CODE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** Every text of a draft changed by `change` (e.g. to drop a language). */
export const mapTexts = (draft: Draft, change: (text: LocalText) => LocalText): Draft => ({
  ...draft,
  intro: change(draft.intro),
  thankYou: change(draft.thankYou),
  followUp: change(draft.followUp),
  invitation: { subject: change(draft.invitation.subject), body: change(draft.invitation.body) },
  questions: draft.questions.map((q) => ({
    ...q,
    text: change(q.text),
    help: change(q.help),
    lowLabel: change(q.lowLabel),
    highLabel: change(q.highLabel),
    options: q.options.map((option) => ({ ...option, label: change(option.label) })),
  })),
});

export const withoutLanguage = (draft: Draft, code: string): Draft => ({
  ...mapTexts(draft, (text) => Object.fromEntries(Object.entries(text).filter(([key]) => key !== code))),
  languages: draft.languages.filter((language) => language !== code),
});
