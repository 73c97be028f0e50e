import { useId, useState } from 'react';
import {
  CheckboxField,
  FieldErrors,
  fieldId,
  LocalTextField,
  NumberField,
  SelectField,
  TextField,
  useFieldErrors,
  useSurveyForm,
  within,
} from './SurveyFields';
import {
  anchorIndex,
  type Branch,
  type Condition,
  type DraftQuestion,
  type LocalText,
  optionValueFrom,
  type Problem,
  QUESTION_TYPE_LABELS,
  questionLabel,
  SCALES,
  SCORE_GROUPS,
  type ScaleKind,
  type ShowWhen,
  scaleOf,
} from './SurveyModel';

export interface QuestionCardProps {
  questions: readonly DraftQuestion[];
  index: number;
  mode: 'simple' | 'jumps';
  onChange: (update: (question: DraftQuestion) => DraftQuestion) => void;
  onMove: (direction: -1 | 1) => void;
  canMove: { up: boolean; down: boolean };
  onRemove: () => void;
  /** Adds a follow-up shown for some scores of this question (simple mode). */
  onAddFollowUp: (group: { min: number; max: number }) => void;
}

/** The fields each question type shows; errors on other paths of the question are listed at its top. */
const SHOWN_FIELDS = ['text', 'help', 'id', 'type', 'required'];
const TYPE_FIELDS = {
  rating: ['min', 'max', 'metric', 'lowLabel', 'highLabel'],
  single: ['options'],
  multiple: ['options'],
  text: ['maxLength'],
} as const;

const firstText = (text: LocalText, language: string) =>
  text[language]?.trim() || Object.values(text).find((value) => value.trim()) || '';

/** Who sees a follow-up: everyone reaching it, a score group, a range of scores, or some choices. */
const ShowWhenField = ({
  questions,
  index,
  onChange,
}: Pick<QuestionCardProps, 'questions' | 'index'> & { onChange: (show: ShowWhen | null) => void }) => {
  const { language, readOnly, clear } = useSurveyForm();
  const question = questions[index];
  const anchor = questions[anchorIndex(questions, index)];
  const path = `q:${question.key}.showWhen`;
  const errors = useFieldErrors(path);
  const id = fieldId(path);
  const [custom, setCustom] = useState(false);
  if (!anchor) return null;
  const show = question.showWhen;
  const deciding = anchor.type === 'rating' || anchor.type === 'single';
  const groups = anchor.type === 'rating' && anchor.metric ? SCORE_GROUPS[anchor.metric] : [];
  const matching = groups.find((group) => show?.min === group.min && show?.max === group.max);
  const value = !show
    ? 'everyone'
    : show.values !== undefined
      ? 'values'
      : matching && !custom
        ? `range:${matching.min}-${matching.max}`
        : 'range';
  const choose = (next: string) => {
    clear(path);
    setCustom(next === 'range');
    if (next === 'everyone') onChange(null);
    else if (next === 'values') {
      onChange({ source: anchor.key, values: anchor.options[0] ? [anchor.options[0].value] : [] });
    } else if (next === 'range') {
      onChange({ source: anchor.key, min: show?.min ?? anchor.min, max: show?.max ?? anchor.max });
    } else {
      const [min, max] = next.slice('range:'.length).split('-').map(Number);
      onChange({ source: anchor.key, min, max });
    }
  };
  const anchorName = questionLabel(questions, anchor.key, language);
  const errorId = `${id}-errors`;
  return (
    <div className={`sq-show${errors.length ? ' has-error' : ''}`}>
      <div className="sq-field">
        <label htmlFor={id}>Who sees this question</label>
        <span className="sq-hint" id={`${id}-hint`}>
          {deciding
            ? `Decided by the answer to ${anchorName}.`
            : `Everyone who reaches it: only a rating or single-choice question can decide who sees the questions after it, and ${anchorName} is ${QUESTION_TYPE_LABELS[anchor.type].toLowerCase()}.`}
        </span>
        <select
          id={id}
          value={value}
          disabled={readOnly || (!deciding && !show)}
          aria-describedby={`${id}-hint${errors.length ? ` ${errorId}` : ''}`}
          aria-invalid={errors.length ? true : undefined}
          onChange={(event) => choose(event.target.value)}
        >
          <option value="everyone">Everyone who gets this far</option>
          {anchor.type === 'rating' &&
            groups.map((group) => (
              <option key={group.label} value={`range:${group.min}-${group.max}`}>
                Only {group.label.charAt(0).toLowerCase() + group.label.slice(1)}
              </option>
            ))}
          {anchor.type === 'rating' && (
            <option value="range">
              Only scores from … to … ({anchor.min}–{anchor.max})
            </option>
          )}
          {anchor.type === 'single' && <option value="values">Only those who chose …</option>}
          {!deciding && show && <option value="range">(a condition that no longer applies)</option>}
        </select>
      </div>
      {show && value === 'range' && anchor.type === 'rating' && (
        <div className="sq-row">
          <NumberField
            label="From score"
            path={`${path}.min`}
            value={show.min ?? anchor.min}
            min={anchor.min}
            max={anchor.max}
            onChange={(min) => onChange({ ...show, source: anchor.key, min: min ?? anchor.min })}
          />
          <NumberField
            label="To score"
            path={`${path}.max`}
            value={show.max ?? anchor.max}
            min={anchor.min}
            max={anchor.max}
            onChange={(max) => onChange({ ...show, source: anchor.key, max: max ?? anchor.max })}
          />
        </div>
      )}
      {show && value === 'values' && anchor.type === 'single' && (
        <fieldset className="sq-values">
          <legend>Answers to {anchorName} that show it</legend>
          {anchor.options.map((option) => (
            <label key={option.value} className="sq-inline-check">
              <input
                type="checkbox"
                disabled={readOnly}
                checked={show.values?.includes(option.value) ?? false}
                onChange={(event) => {
                  clear(path);
                  const values = new Set(show.values ?? []);
                  if (event.target.checked) values.add(option.value);
                  else values.delete(option.value);
                  onChange({
                    source: anchor.key,
                    values: anchor.options.map((o) => o.value).filter((v) => values.has(v)),
                  });
                }}
              />
              {firstText(option.label, language) || option.value}
            </label>
          ))}
        </fieldset>
      )}
      <FieldErrors path={path} id={errorId} errors={errors} />
    </div>
  );
};

type RuleKind = 'range' | 'values' | 'answered' | 'skipped';

const ruleKind = (when: Condition): RuleKind =>
  when.min !== undefined || when.max !== undefined
    ? 'range'
    : when.values !== undefined
      ? 'values'
      : when.answered === false
        ? 'skipped'
        : 'answered';

/** The question's jump rules: after it, if the answer matches, go to a later question or the end. */
const JumpRules = ({
  questions,
  index,
  onChange,
}: Pick<QuestionCardProps, 'questions' | 'index'> & { onChange: (branches: Branch[]) => void }) => {
  const { language, readOnly, clear, errors } = useSurveyForm();
  const question = questions[index];
  const base = `q:${question.key}.branches`;
  const legendId = useId();
  const later = questions.slice(index + 1);
  const kinds: { value: RuleKind; label: string }[] = [
    ...(question.type === 'rating' ? [{ value: 'range' as const, label: 'The score is from … to …' }] : []),
    ...(question.type === 'single' || question.type === 'multiple'
      ? [{ value: 'values' as const, label: 'Any of these was chosen' }]
      : []),
    { value: 'answered', label: 'It was answered' },
    ...(question.required ? [] : [{ value: 'skipped' as const, label: 'It was skipped' }]),
  ];
  const setRule = (k: number, rule: Branch) => {
    clear(`${base}[${k}]`);
    onChange(question.branches.map((branch, i) => (i === k ? rule : branch)));
  };
  const whenFor = (kind: RuleKind): Condition =>
    kind === 'range'
      ? { min: question.min, max: question.max }
      : kind === 'values'
        ? { values: question.options[0] ? [question.options[0].value] : [] }
        : { answered: kind === 'answered' };
  const rulesErrors = useFieldErrors(base).filter((error) => !/^\[\d+\]/.test(error.path.slice(base.length)));
  return (
    <fieldset className="sq-jumps" aria-labelledby={legendId}>
      <legend id={legendId}>After this question</legend>
      <p className="sq-hint">
        The first rule that matches decides where the respondent goes; with none, the next question follows.
        Rules only jump forward.
      </p>
      <FieldErrors path={base} id={`${fieldId(base)}-errors`} errors={rulesErrors} />
      {question.branches.length === 0 && <p className="muted">No rules: the next question follows.</p>}
      <ol className="sq-rules">
        {question.branches.map((branch, k) => {
          const path = `${base}[${k}]`;
          const kind = ruleKind(branch.when);
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: rules have no identity but their position.
            <li key={k} className="sq-rule">
              <div className="sq-row">
                <SelectField
                  label={`Rule ${k + 1}: if`}
                  path={`${path}.when`}
                  value={kind}
                  options={
                    kinds.some((option) => option.value === kind)
                      ? kinds
                      : [...kinds, { value: kind, label: kind }]
                  }
                  onChange={(next) => setRule(k, { ...branch, when: whenFor(next) })}
                />
                {kind === 'range' && (
                  <>
                    <NumberField
                      label="From"
                      path={`${path}.when.min`}
                      value={branch.when.min ?? null}
                      allowEmpty
                      min={question.min}
                      max={question.max}
                      onChange={(min) =>
                        setRule(k, { ...branch, when: { ...branch.when, min: min ?? undefined } })
                      }
                    />
                    <NumberField
                      label="To"
                      path={`${path}.when.max`}
                      value={branch.when.max ?? null}
                      allowEmpty
                      min={question.min}
                      max={question.max}
                      onChange={(max) =>
                        setRule(k, { ...branch, when: { ...branch.when, max: max ?? undefined } })
                      }
                    />
                  </>
                )}
                <SelectField
                  label="go to"
                  path={`${path}.goto`}
                  value={branch.goto}
                  options={[
                    ...later.map((q) => ({
                      value: q.id,
                      label: questionLabel(questions, q.key, language).replace(/^q/, 'Q'),
                    })),
                    { value: 'end', label: 'The end of the survey' },
                    ...(branch.goto !== 'end' && !later.some((q) => q.id === branch.goto)
                      ? [{ value: branch.goto, label: `${branch.goto} (not a later question)` }]
                      : []),
                  ]}
                  onChange={(goto) => setRule(k, { ...branch, goto })}
                />
              </div>
              {kind === 'values' && (
                <fieldset className="sq-values">
                  <legend>Rule {k + 1}: answers</legend>
                  {question.options.map((option) => (
                    <label key={option.value} className="sq-inline-check">
                      <input
                        type="checkbox"
                        disabled={readOnly}
                        checked={branch.when.values?.includes(option.value) ?? false}
                        onChange={(event) => {
                          const values = new Set(branch.when.values ?? []);
                          if (event.target.checked) values.add(option.value);
                          else values.delete(option.value);
                          setRule(k, {
                            ...branch,
                            when: {
                              values: question.options.map((o) => o.value).filter((v) => values.has(v)),
                            },
                          });
                        }}
                      />
                      {firstText(option.label, language) || option.value}
                    </label>
                  ))}
                </fieldset>
              )}
              <FieldErrors
                path={path}
                id={`${fieldId(path)}-errors`}
                errors={errorsOutside(errors, path, [`${path}.when`, `${path}.goto`])}
              />
              {!readOnly && (
                <button
                  type="button"
                  className="secondary small"
                  onClick={() => {
                    clear(base);
                    onChange(question.branches.filter((_, i) => i !== k));
                  }}
                >
                  Remove rule {k + 1}
                </button>
              )}
            </li>
          );
        })}
      </ol>
      {!readOnly && (
        <button
          type="button"
          className="secondary small"
          onClick={() => onChange([...question.branches, { when: whenFor(kinds[0].value), goto: 'end' }])}
        >
          Add a jump rule
        </button>
      )}
    </fieldset>
  );
};

/** Errors under a path that none of the given sub-fields show. */
const errorsOutside = (errors: readonly Problem[], path: string, shown: string[]) =>
  errors.filter((error) => within(error.path, path) && !shown.some((field) => within(error.path, field)));

const OptionsEditor = ({
  question,
  onChange,
}: {
  question: DraftQuestion;
  onChange: QuestionCardProps['onChange'];
}) => {
  const { language, languages, readOnly, clear, errors } = useSurveyForm();
  const base = `q:${question.key}.options`;
  const listErrors = useFieldErrors(base).filter((error) => !/^\[\d+\]/.test(error.path.slice(base.length)));
  const setOptions = (update: (options: DraftQuestion['options']) => DraftQuestion['options']) =>
    onChange((q) => ({ ...q, options: update(q.options) }));
  return (
    <fieldset className="sq-options">
      <legend>Answers to choose from</legend>
      <FieldErrors path={base} id={`${fieldId(base)}-errors`} errors={listErrors} />
      <ol>
        {question.options.map((option, k) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: options are edited in place; the value may change.
          <li key={k} className="sq-option">
            <LocalTextField
              label={`Answer ${k + 1}`}
              path={`${base}[${k}].label`}
              text={option.label}
              onChange={(label) =>
                setOptions((options) =>
                  options.map((o, i) => {
                    if (i !== k) return o;
                    // A new option's stored value follows its first-language label until saved once.
                    const auto = /^option_\d+$/.test(o.value) && language === languages[0];
                    const taken = options.filter((_, j) => j !== k).map((other) => other.value);
                    return {
                      value: auto && label[language] ? optionValueFrom(label[language], taken) : o.value,
                      label,
                    };
                  }),
                )
              }
            />
            <FieldErrors
              path={`${base}[${k}]`}
              id={`${fieldId(`${base}[${k}]`)}-errors`}
              errors={errorsOutside(errors, `${base}[${k}]`, [`${base}[${k}].label`])}
            />
            {!readOnly && (
              <div className="sq-mini-actions">
                <button
                  type="button"
                  className="secondary small"
                  disabled={k === 0}
                  aria-label={`Move answer ${k + 1} up`}
                  onClick={() => {
                    clear(base);
                    setOptions((options) => swap(options, k, k - 1));
                  }}
                >
                  ↑
                </button>
                <button
                  type="button"
                  className="secondary small"
                  disabled={k === question.options.length - 1}
                  aria-label={`Move answer ${k + 1} down`}
                  onClick={() => {
                    clear(base);
                    setOptions((options) => swap(options, k, k + 1));
                  }}
                >
                  ↓
                </button>
                <button
                  type="button"
                  className="secondary small"
                  aria-label={`Remove answer ${k + 1}`}
                  onClick={() => {
                    clear(base);
                    setOptions((options) => options.filter((_, i) => i !== k));
                  }}
                >
                  Remove
                </button>
              </div>
            )}
          </li>
        ))}
      </ol>
      {!readOnly && (
        <button
          type="button"
          className="secondary small"
          onClick={() =>
            setOptions((options) => {
              const taken = options.map((o) => o.value);
              let n = options.length + 1;
              while (taken.includes(`option_${n}`)) n += 1;
              return [...options, { value: `option_${n}`, label: {} }];
            })
          }
        >
          Add an answer
        </button>
      )}
    </fieldset>
  );
};

const swap = <T,>(list: readonly T[], a: number, b: number): T[] => {
  const copy = [...list];
  [copy[a], copy[b]] = [copy[b], copy[a]];
  return copy;
};

/** One question of the survey: its text, type and scale or answers, who sees it, and its actions. */
export const SurveyQuestionCard = (props: QuestionCardProps) => {
  const { questions, index, mode, onChange, onMove, canMove, onRemove, onAddFollowUp } = props;
  const { readOnly, errors, language } = useSurveyForm();
  const question = questions[index];
  const path = `q:${question.key}`;
  const headingId = `${fieldId(path)}-heading`;
  const followUp = mode === 'simple' && question.showWhen !== null;
  const shown = [...SHOWN_FIELDS, mode === 'simple' ? 'showWhen' : 'branches', ...TYPE_FIELDS[question.type]];
  const other = errors.filter(
    (error) => within(error.path, path) && !shown.some((field) => within(error.path, `${path}.${field}`)),
  );
  const moreErrors = errors.some(
    (error) => within(error.path, `${path}.help`) || within(error.path, `${path}.id`),
  );
  const anchor = questions[anchorIndex(questions, index)];
  const summary = firstText(question.text, language);

  const setScale = (kind: ScaleKind) => {
    const scale = SCALES.find((s) => s.value === kind) ?? SCALES[3];
    onChange((q) => ({
      ...q,
      metric: scale.metric,
      ...(scale.metric || q.metric ? { min: scale.min, max: scale.max } : {}),
    }));
  };

  return (
    <section
      className={`sq-card${followUp ? ' sq-followup' : ''}`}
      aria-labelledby={headingId}
      id={fieldId(path)}
      tabIndex={-1}
    >
      <div className="sq-card-head">
        <h3 id={headingId}>
          Question {index + 1}
          {followUp && anchor ? (
            <span className="sq-tag"> · follow-up of question {questions.indexOf(anchor) + 1}</span>
          ) : null}
          {summary ? <span className="visually-hidden">: {summary}</span> : null}
        </h3>
        {!readOnly && (
          <div className="sq-mini-actions">
            <button
              type="button"
              className="secondary small"
              id={`${fieldId(path)}-up`}
              disabled={!canMove.up}
              aria-label={`Move question ${index + 1} up`}
              onClick={() => onMove(-1)}
            >
              ↑ Up
            </button>
            <button
              type="button"
              className="secondary small"
              id={`${fieldId(path)}-down`}
              disabled={!canMove.down}
              aria-label={`Move question ${index + 1} down`}
              onClick={() => onMove(1)}
            >
              ↓ Down
            </button>
            <button
              type="button"
              className="secondary small danger"
              disabled={questions.length === 1}
              aria-label={`Remove question ${index + 1}`}
              onClick={onRemove}
            >
              Remove
            </button>
          </div>
        )}
      </div>
      {other.length > 0 && <FieldErrors path={path} id={`${fieldId(path)}-errors`} errors={other} />}
      <LocalTextField
        label="Question"
        path={`${path}.text`}
        text={question.text}
        multiline
        onChange={(text) => onChange((q) => ({ ...q, text }))}
      />
      <div className="sq-row">
        <SelectField
          label="Answer type"
          path={`${path}.type`}
          value={question.type}
          options={(Object.keys(QUESTION_TYPE_LABELS) as DraftQuestion['type'][]).map((type) => ({
            value: type,
            label: QUESTION_TYPE_LABELS[type],
          }))}
          onChange={(type) =>
            onChange((q) => ({
              ...q,
              type,
              required: type === 'text' ? false : q.type === 'text' ? true : q.required,
              options:
                (type === 'single' || type === 'multiple') && q.options.length === 0
                  ? [
                      { value: 'option_1', label: {} },
                      { value: 'option_2', label: {} },
                    ]
                  : q.options,
            }))
          }
        />
        {question.type === 'rating' && (
          <SelectField
            label="Scale"
            path={`${path}.metric`}
            value={scaleOf(question)}
            options={SCALES.map((scale) => ({ value: scale.value, label: scale.label }))}
            onChange={setScale}
          />
        )}
        {question.type === 'rating' && !question.metric && (
          <>
            <NumberField
              label="Lowest score"
              path={`${path}.min`}
              value={question.min}
              min={0}
              max={100}
              onChange={(min) => onChange((q) => ({ ...q, min: min ?? 0 }))}
            />
            <NumberField
              label="Highest score"
              path={`${path}.max`}
              value={question.max}
              min={0}
              max={100}
              onChange={(max) => onChange((q) => ({ ...q, max: max ?? 0 }))}
            />
          </>
        )}
        {question.type === 'text' && (
          <NumberField
            label="Longest answer (characters)"
            path={`${path}.maxLength`}
            value={question.maxLength}
            min={1}
            max={20000}
            onChange={(maxLength) => onChange((q) => ({ ...q, maxLength: maxLength ?? 5000 }))}
          />
        )}
      </div>
      <CheckboxField
        label="An answer is required"
        path={`${path}.required`}
        checked={question.required}
        onChange={(required) => onChange((q) => ({ ...q, required }))}
      />
      {question.type === 'rating' && (
        <div className="sq-row sq-row-wide">
          <LocalTextField
            label={`Label under ${question.min}`}
            path={`${path}.lowLabel`}
            optional
            text={question.lowLabel}
            onChange={(lowLabel) => onChange((q) => ({ ...q, lowLabel }))}
          />
          <LocalTextField
            label={`Label under ${question.max}`}
            path={`${path}.highLabel`}
            optional
            text={question.highLabel}
            onChange={(highLabel) => onChange((q) => ({ ...q, highLabel }))}
          />
        </div>
      )}
      {(question.type === 'single' || question.type === 'multiple') && (
        <OptionsEditor question={question} onChange={onChange} />
      )}
      {mode === 'simple' && index > 0 && (
        <ShowWhenField
          questions={questions}
          index={index}
          onChange={(showWhen) => onChange((q) => ({ ...q, showWhen }))}
        />
      )}
      {mode === 'jumps' && (
        <JumpRules
          questions={questions}
          index={index}
          onChange={(branches) => onChange((q) => ({ ...q, branches }))}
        />
      )}
      {mode === 'simple' && !readOnly && !followUp && question.type === 'rating' && question.metric && (
        <div className="sq-quick">
          <span id={`${fieldId(path)}-quick`}>Add a follow-up question for</span>
          {SCORE_GROUPS[question.metric].slice(0, 3).map((group) => (
            <button
              key={group.label}
              type="button"
              className="secondary small"
              aria-describedby={`${fieldId(path)}-quick`}
              onClick={() => onAddFollowUp(group)}
            >
              {group.label}
            </button>
          ))}
        </div>
      )}
      <details className="sq-more" open={moreErrors || undefined}>
        <summary>More: help text and answer key</summary>
        <LocalTextField
          label="Help text under the question"
          path={`${path}.help`}
          optional
          multiline
          text={question.help}
          onChange={(help) => onChange((q) => ({ ...q, help }))}
        />
        <TextField
          label="Answer key"
          hint="The answer is stored under this name in the feedback record (letters, digits, _ and -). Changing it starts a new key in the data."
          path={`${path}.id`}
          value={question.id}
          maxLength={64}
          onChange={(id) => onChange((q) => ({ ...q, id: id.trim() }))}
        />
      </details>
    </section>
  );
};
