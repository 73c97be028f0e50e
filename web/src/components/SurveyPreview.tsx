import { useId, useState } from 'react';
import { localize } from '../../../src/surveys/render';
import { formatUiNumber } from '../../../src/surveys/ui-text';
import {
  type Answer,
  type Answers,
  isRequired,
  nextQuestion,
  type Question,
  questionPath,
  type SurveyDefinition,
} from './SurveyModel';

/**
 * The survey as a respondent sees it at /s/{token}, built from the definition being edited (the API
 * renders that page on the server and has no preview of an unsaved definition). Answer it to follow
 * the branching; it follows every change as it is typed. The respondent's words (Next, Skip, …) are
 * the survey page's own, in the chosen language.
 */
export interface SurveyPreviewProps {
  definition: SurveyDefinition;
  language: string;
  onLanguage?: (language: string) => void;
}

interface Walk {
  at: string;
  answers: Answers;
  history: string[];
}

const paragraphs = (text: string) =>
  text
    .split(/(?:\r?\n\s*){2,}/)
    .map((part) => part.trim())
    .filter(Boolean);

/** Some answer to a question whose answer does not matter for the path. */
const anyAnswer = (question: Question): Answer =>
  question.type === 'rating'
    ? question.min
    : question.type === 'single'
      ? (question.options[0]?.value ?? '')
      : question.type === 'multiple'
        ? question.options.slice(0, 1).map((option) => option.value)
        : 'text';

/** For each question that branches: which answers lead along which questions (others answered). */
const flows = (definition: SurveyDefinition, language: string) => {
  const local = localize(definition, language);
  const number = (id: string) => definition.questions.findIndex((q) => q.id === id) + 1;
  const base: Answers = Object.fromEntries(definition.questions.map((q) => [q.id, anyAnswer(q)]));
  return definition.questions
    .filter((q) => (q.branches ?? []).length > 0 && (q.type === 'rating' || q.type === 'single'))
    .map((source) => {
      const answers: (number | string)[] =
        source.type === 'rating'
          ? Array.from({ length: source.max - source.min + 1 }, (_, k) => source.min + k)
          : source.type === 'single'
            ? source.options.map((option) => option.value)
            : [];
      const options = source.type === 'single' ? source.options : [];
      const groups: { answers: (number | string)[]; path: string }[] = [];
      for (const answer of answers) {
        const path = questionPath(definition, { ...base, [source.id]: answer })
          .map(number)
          .join(', ');
        const last = groups[groups.length - 1];
        if (last && last.path === path && source.type === 'rating') last.answers.push(answer);
        else groups.push({ answers: [answer], path });
      }
      const label = (group: { answers: (number | string)[] }) => {
        if (source.type === 'rating') {
          const first = group.answers[0];
          const last = group.answers[group.answers.length - 1];
          return `Score ${first === last ? first : `${first}–${last}`}`;
        }
        const option = options.find((o) => o.value === group.answers[0]);
        return `“${option ? local.text(option.label) || option.value : group.answers[0]}”`;
      };
      return {
        number: number(source.id),
        lines: groups.map((group) => ({ label: label(group), path: group.path })),
      };
    });
};

export const SurveyPreview = ({ definition, language, onLanguage }: SurveyPreviewProps) => {
  const id = useId();
  const first = definition.questions[0]?.id ?? 'end';
  const [walk, setWalk] = useState<Walk>({ at: first, answers: {}, history: [] });
  const [pending, setPending] = useState<{ at: string; answer: Answer | undefined } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const local = localize(definition, language);
  const { ui } = local;

  const known = walk.at === 'end' || definition.questions.some((q) => q.id === walk.at);
  const at = known ? walk.at : first;
  const question = definition.questions.find((q) => q.id === at);
  const path = questionPath(definition, walk.answers);
  const position = question ? path.indexOf(question.id) + 1 || walk.history.length + 1 : path.length;
  const total = Math.max(path.length, position);
  const answer = pending && pending.at === at ? pending.answer : walk.answers[at];

  const restart = () => {
    setWalk({ at: first, answers: {}, history: [] });
    setPending(null);
    setError(null);
  };
  const back = () => {
    const previous = walk.history[walk.history.length - 1];
    if (previous === undefined) return;
    setWalk({ at: previous, answers: walk.answers, history: walk.history.slice(0, -1) });
    setPending(null);
    setError(null);
  };
  const go = (given: Answer | undefined) => {
    if (!question) return;
    const answers = { ...walk.answers };
    if (given === undefined) delete answers[question.id];
    else answers[question.id] = given;
    setWalk({
      at: nextQuestion(definition, question.id, given),
      answers,
      history: [...walk.history, question.id],
    });
    setPending(null);
    setError(null);
  };
  const submit = () => {
    const empty =
      answer === undefined || (Array.isArray(answer) ? answer.length === 0 : String(answer).trim() === '');
    if (question && isRequired(question) && empty) {
      setError(ui.required);
      return;
    }
    go(empty ? undefined : answer);
  };
  const choose = (value: Answer | undefined) => {
    setPending({ at, answer: value });
    setError(null);
  };

  const renderQuestion = (q: Question) => {
    const required = isRequired(q);
    const text = local.text(q.text) || '(No question text yet)';
    const help = local.text(q.help);
    const hint =
      q.type === 'single'
        ? ui.chooseOne
        : q.type === 'multiple'
          ? ui.chooseAny
          : q.type === 'text'
            ? ui.maxLength(formatUiNumber(q.maxLength ?? 5000, local.language))
            : '';
    const heading = (
      <>
        {text}
        {!required && <span className="sp-muted"> ({ui.optional})</span>}
      </>
    );
    const notes = (
      <>
        {help && <p className="sp-muted">{help}</p>}
        {hint && <p className="sp-muted">{hint}</p>}
        {error && (
          <p className="sp-error" role="alert">
            {error}
          </p>
        )}
      </>
    );
    if (q.type === 'text') {
      return (
        <div>
          <h3 className="sp-question">
            <label htmlFor={`${id}-text`}>{heading}</label>
          </h3>
          {notes}
          <textarea
            id={`${id}-text`}
            rows={4}
            maxLength={q.maxLength ?? 5000}
            value={typeof answer === 'string' ? answer : ''}
            onChange={(event) => choose(event.target.value)}
          />
        </div>
      );
    }
    if (q.type === 'rating') {
      const low = local.text(q.lowLabel);
      const high = local.text(q.highLabel);
      const points = q.max - q.min + 1;
      return (
        <fieldset className="sp-fieldset">
          <legend>
            <h3 className="sp-question">{heading}</h3>
          </legend>
          {notes}
          <div
            className="sp-scale"
            style={{ gridTemplateColumns: `repeat(${points > 6 ? Math.ceil(points / 2) : points}, 1fr)` }}
          >
            {Array.from({ length: points }, (_, k) => q.min + k).map((score) => (
              <div key={score} className="sp-point">
                <input
                  type="radio"
                  name={`${id}-scale`}
                  id={`${id}-s${score}`}
                  checked={answer === score}
                  onChange={() => choose(score)}
                  aria-describedby={
                    score === q.min && low ? `${id}-low` : score === q.max && high ? `${id}-high` : undefined
                  }
                />
                <label htmlFor={`${id}-s${score}`}>{score}</label>
              </div>
            ))}
          </div>
          {(low || high) && (
            <div className="sp-ends sp-muted">
              <span id={`${id}-low`}>{low}</span>
              <span id={`${id}-high`}>{high}</span>
            </div>
          )}
        </fieldset>
      );
    }
    const multiple = q.type === 'multiple';
    const chosen = Array.isArray(answer) ? answer : typeof answer === 'string' ? [answer] : [];
    return (
      <fieldset className="sp-fieldset">
        <legend>
          <h3 className="sp-question">{heading}</h3>
        </legend>
        {notes}
        {q.options.map((option, k) => (
          <div key={option.value} className="sp-option">
            <input
              type={multiple ? 'checkbox' : 'radio'}
              name={`${id}-choice`}
              id={`${id}-o${k}`}
              checked={chosen.includes(option.value)}
              onChange={(event) => {
                if (!multiple) choose(option.value);
                else
                  choose(
                    event.target.checked
                      ? [...chosen, option.value]
                      : chosen.filter((value) => value !== option.value),
                  );
              }}
            />
            <label htmlFor={`${id}-o${k}`}>{local.text(option.label) || `(Answer ${k + 1})`}</label>
          </div>
        ))}
      </fieldset>
    );
  };

  const survey = flows(definition, language);

  return (
    <div className="sp">
      <div className="sp-toolbar">
        {definition.languages.length > 1 && onLanguage && (
          <label>
            Language
            <select value={local.language} onChange={(event) => onLanguage(event.target.value)}>
              {definition.languages.map((code) => (
                <option key={code} value={code}>
                  {code}
                </option>
              ))}
            </select>
          </label>
        )}
        <button type="button" className="secondary small" onClick={back} disabled={walk.history.length === 0}>
          Back
        </button>
        <button type="button" className="secondary small" onClick={restart}>
          Start again
        </button>
        <button
          type="button"
          className="secondary small"
          disabled={!question}
          onClick={() => {
            setWalk({ at: 'end', answers: walk.answers, history: [...walk.history, at] });
            setPending(null);
            setError(null);
          }}
        >
          Show the end page
        </button>
      </div>
      <div className="sp-frame" lang={local.language}>
        {question ? (
          <form
            onSubmit={(event) => {
              event.preventDefault();
              submit();
            }}
            noValidate
          >
            <p className="sp-muted" id={`${id}-progress`}>
              {ui.progress(position, total)}
            </p>
            <progress max={total} value={position} aria-labelledby={`${id}-progress`} />
            {position === 1 && local.text(definition.intro) && (
              <div className="sp-intro">
                {paragraphs(local.text(definition.intro)).map((paragraph) => (
                  <p key={paragraph}>{paragraph}</p>
                ))}
              </div>
            )}
            {renderQuestion(question)}
            <div className="sp-buttons">
              <button type="submit" className="sp-primary">
                {position === total ? ui.submit : ui.next}
              </button>
              {!isRequired(question) && (
                <button type="button" className="sp-secondary" onClick={() => go(undefined)}>
                  {ui.skip}
                </button>
              )}
            </div>
          </form>
        ) : (
          <div>
            <h3 className="sp-question">{local.text(definition.thankYou) || '(No thank-you text yet)'}</h3>
            {paragraphs(local.text(definition.followUp)).map((paragraph) => (
              <p key={paragraph}>{paragraph}</p>
            ))}
          </div>
        )}
      </div>
      <p className="sp-note muted">
        {question
          ? `Showing question ${definition.questions.indexOf(question) + 1} of the survey. Answer it and press ${position === total ? ui.submit : ui.next} to follow the branching.`
          : 'The end page: the thank-you and what happens next.'}
      </p>
      {survey.length > 0 && (
        <div className="sp-flows">
          <h3>Who sees which questions</h3>
          {survey.map((flow) => (
            <div key={flow.number}>
              <p className="sp-flow-title">By the answer to question {flow.number}:</p>
              <ul>
                {flow.lines.map((line) => (
                  <li key={line.label}>
                    {line.label}: question{line.path.includes(',') ? 's' : ''} {line.path}
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
      )}
    </div>
  );
};
