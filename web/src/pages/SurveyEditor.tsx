import { type KeyboardEvent, type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { ApiError, api } from '../api';
import { Choice } from '../components/Choice';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loading } from '../components/Loading';
import { SurveyContactRules } from '../components/SurveyContactRules';
import {
  CheckboxField,
  fieldId,
  LocalTextField,
  NumberField,
  SurveyFormContext,
  TextField,
  within,
} from '../components/SurveyFields';
import {
  anchorIndex,
  blankQuestion,
  canonicalJson,
  compile,
  type Draft,
  type DraftQuestion,
  LANGUAGE_CODE,
  missingTranslations,
  type Problem,
  type SurveyDefinition,
  type SurveyDetail,
  type SurveyStatus,
  simpleProblems,
  toDraft,
  toJumps,
  toSimple,
  withoutLanguage,
} from '../components/SurveyModel';
import { SurveyPreview } from '../components/SurveyPreview';
import { SurveyQuestionCard } from '../components/SurveyQuestionCard';
import { SurveyResponseRates } from '../components/SurveyResponseRates';
import { SurveyTriggers } from '../components/SurveyTriggers';
import { formatDateTime } from '../format';
import type { PageProps } from '../routes';
import { useSession } from '../session';
import { useApi } from '../useApi';
import './surveys.css';

const TABS = [
  { id: 'questions', label: 'Questions' },
  { id: 'texts', label: 'Texts and timing' },
  { id: 'triggers', label: 'Triggers' },
  { id: 'rules', label: 'Contact rules' },
  { id: 'rates', label: 'Response rates' },
] as const;
type Tab = (typeof TABS)[number]['id'];

const STATUS_LABELS: Record<SurveyStatus, string> = {
  active: 'Active',
  paused: 'Paused',
  archived: 'Archived',
};

/** Where an error shows: questions on the first tab, every other part of the definition on the second. */
const tabOf = (path: string): Tab =>
  path.startsWith('q:') || path.startsWith('questions') ? 'questions' : 'texts';

const TOP_LABELS: Record<string, string> = {
  name: 'Survey name',
  languages: 'Languages',
  intro: 'Introduction',
  thankYou: 'Thank-you message',
  followUp: 'What happens next',
  'invitation.subject': 'Invitation subject',
  'invitation.body': 'Invitation text',
  invitation: 'Invitation',
  reminderAfterDays: 'Reminder',
  expiresAfterDays: 'Link expiry',
  questions: 'Questions',
};
const QUESTION_PARTS: [RegExp, (match: RegExpMatchArray) => string][] = [
  [/^\.text/, () => 'question text'],
  [/^\.help/, () => 'help text'],
  [/^\.lowLabel/, () => 'label under the lowest score'],
  [/^\.highLabel/, () => 'label under the highest score'],
  [/^\.options\[(\d+)\]/, (m) => `answer ${Number(m[1]) + 1}`],
  [/^\.options/, () => 'answers'],
  [/^\.branches\[(\d+)\]/, (m) => `jump rule ${Number(m[1]) + 1}`],
  [/^\.branches/, () => 'branching'],
  [/^\.showWhen/, () => 'who sees it'],
  [/^\.id/, () => 'answer key'],
  [/^\.(min|max|metric)/, () => 'scale'],
  [/^\.maxLength/, () => 'longest answer'],
  [/^\.required/, () => 'required'],
];

/** "Question 2, question text" for `q:k4.text.de`. */
const describePath = (path: string, questions: readonly DraftQuestion[]): string => {
  const question = /^q:([^.[]+)(.*)$/.exec(path);
  if (question) {
    const index = questions.findIndex((q) => q.key === question[1]);
    const rest = question[2];
    const part = QUESTION_PARTS.map(([pattern, name]) => {
      const match = rest.match(pattern);
      return match ? name(match) : null;
    }).find(Boolean);
    return `Question ${index + 1}${part ? `, ${part}` : ''}`;
  }
  const key = Object.keys(TOP_LABELS).find((prefix) => within(path, prefix));
  return key ? TOP_LABELS[key] : path;
};

/** The API's `questions[2].text.de` as the editor's `q:KEY.text.de` (by the question sent at that index). */
const editorPath = (path: string, keys: readonly string[]): string =>
  path.replace(/^questions\[(\d+)\]/, (whole, index: string) => {
    const key = keys[Number(index)];
    return key ? `q:${key}` : whole;
  });

/** The element to focus for an error: the field, or the nearest enclosing one that exists. */
const elementFor = (path: string): HTMLElement | null => {
  const parts = path.split(/(?=[.[])/);
  for (let n = parts.length; n > 0; n--) {
    const element = document.getElementById(fieldId(parts.slice(0, n).join('')));
    if (element) return element;
  }
  return null;
};

const Tabs = ({
  tab,
  onChange,
  labels,
}: {
  tab: Tab;
  onChange: (tab: Tab) => void;
  labels: Partial<Record<Tab, string>>;
}) => {
  const refs = useRef<Partial<Record<Tab, HTMLButtonElement | null>>>({});
  const onKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const next =
      event.key === 'ArrowRight'
        ? (index + 1) % TABS.length
        : event.key === 'ArrowLeft'
          ? (index - 1 + TABS.length) % TABS.length
          : event.key === 'Home'
            ? 0
            : event.key === 'End'
              ? TABS.length - 1
              : -1;
    if (next < 0) return;
    event.preventDefault();
    onChange(TABS[next].id);
    refs.current[TABS[next].id]?.focus();
  };
  return (
    <div className="sq-tabs" role="tablist" aria-label="Parts of the survey">
      {TABS.map((t) => (
        <button
          key={t.id}
          ref={(element) => {
            refs.current[t.id] = element;
          }}
          type="button"
          role="tab"
          id={`tab-${t.id}`}
          aria-selected={t.id === tab}
          aria-controls={`panel-${t.id}`}
          tabIndex={t.id === tab ? 0 : -1}
          onClick={() => onChange(t.id)}
          onKeyDown={onKey}
        >
          {t.label}
          {labels[t.id] ? <span className="sq-tab-note"> {labels[t.id]}</span> : null}
        </button>
      ))}
    </div>
  );
};

/** The questions of the survey; moving keeps a question that decides together with its follow-ups. */
const QuestionsForm = ({
  draft,
  setDraft,
  readOnly,
  onFocus,
}: {
  draft: Draft;
  setDraft: (update: (draft: Draft) => Draft) => void;
  readOnly: boolean;
  onFocus: (path: string) => void;
}) => {
  const { questions, mode } = draft;
  const simple = mode === 'simple';

  /** Blocks: a question everyone on the way is asked, with the follow-ups it decides about. */
  const blockOf = (index: number): [number, number] => {
    if (!simple) return [index, index + 1];
    let end = index + 1;
    if (!questions[index].showWhen) while (end < questions.length && questions[end].showWhen) end += 1;
    return [index, end];
  };
  const canMove = (index: number, direction: -1 | 1): boolean => {
    if (!simple || !questions[index].showWhen) {
      const [start, end] = blockOf(index);
      return direction === -1 ? start > 0 : end < questions.length;
    }
    // A follow-up moves among the follow-ups of the same question.
    const other = questions[index + direction];
    return !!other?.showWhen;
  };
  const move = (index: number, direction: -1 | 1) => {
    setDraft((d) => {
      const list = [...d.questions];
      if (simple && !list[index].showWhen) {
        const [start, end] = blockOf(index);
        const block = list.slice(start, end);
        if (direction === -1) {
          const previous = anchorIndex(list, start);
          const at = previous < 0 ? 0 : previous;
          list.splice(start, block.length);
          list.splice(at, 0, ...block);
        } else {
          let nextEnd = end + 1;
          while (nextEnd < list.length && list[nextEnd].showWhen) nextEnd += 1;
          list.splice(start, block.length);
          list.splice(nextEnd - block.length, 0, ...block);
        }
      } else {
        [list[index], list[index + direction]] = [list[index + direction], list[index]];
      }
      return { ...d, questions: list };
    });
    onFocus(`q:${questions[index].key}-${direction === -1 ? 'up' : 'down'}`);
  };
  const update = (key: string, change: (q: DraftQuestion) => DraftQuestion) =>
    setDraft((d) => {
      const before = d.questions.find((q) => q.key === key);
      const after = before ? change(before) : undefined;
      return {
        ...d,
        questions: d.questions.map((q) => {
          if (q.key === key && after) return after;
          // A renamed question stays the target of the jump rules that led to it.
          if (before && after && before.id !== after.id) {
            return {
              ...q,
              branches: q.branches.map((b) => (b.goto === before.id ? { ...b, goto: after.id } : b)),
            };
          }
          return q;
        }),
      };
    });
  const add = (type: DraftQuestion['type']) => {
    const question = blankQuestion(type, questions);
    setDraft((d) => ({ ...d, questions: [...d.questions, question] }));
    onFocus(`q:${question.key}.text`);
  };
  const addFollowUp = (index: number, group: { min: number; max: number }) => {
    const source = questions[index];
    const question: DraftQuestion = {
      ...blankQuestion('text', questions),
      showWhen: { source: source.key, min: group.min, max: group.max },
    };
    setDraft((d) => {
      const list = [...d.questions];
      let at = list.findIndex((q) => q.key === source.key) + 1;
      while (at < list.length && list[at].showWhen) at += 1;
      list.splice(at, 0, question);
      return { ...d, questions: list };
    });
    onFocus(`q:${question.key}.text`);
  };
  const remove = (index: number) => {
    setDraft((d) => ({ ...d, questions: d.questions.filter((_, i) => i !== index) }));
    const neighbour = questions[index + 1] ?? questions[index - 1];
    if (neighbour) onFocus(`q:${neighbour.key}`);
  };

  return (
    <>
      {questions.map((question, index) => (
        <SurveyQuestionCard
          key={question.key}
          questions={questions}
          index={index}
          mode={mode}
          onChange={(change) => update(question.key, change)}
          onMove={(direction) => move(index, direction)}
          canMove={{ up: canMove(index, -1), down: canMove(index, 1) }}
          onRemove={() => remove(index)}
          onAddFollowUp={(group) => addFollowUp(index, group)}
        />
      ))}
      {!readOnly && (
        <div className="sq-add-row">
          <span id="add-question-label">Add a question:</span>
          <button
            type="button"
            className="secondary"
            aria-describedby="add-question-label"
            onClick={() => add('rating')}
          >
            Rating scale
          </button>
          <button
            type="button"
            className="secondary"
            aria-describedby="add-question-label"
            onClick={() => add('single')}
          >
            Single choice
          </button>
          <button
            type="button"
            className="secondary"
            aria-describedby="add-question-label"
            onClick={() => add('multiple')}
          >
            Multiple choice
          </button>
          <button
            type="button"
            className="secondary"
            aria-describedby="add-question-label"
            onClick={() => add('text')}
          >
            Free text
          </button>
        </div>
      )}
    </>
  );
};

const LanguagesField = ({
  draft,
  setDraft,
  readOnly,
}: {
  draft: Draft;
  setDraft: (update: (draft: Draft) => Draft) => void;
  readOnly: boolean;
}) => {
  const [code, setCode] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const missing = missingTranslations(draft);
  const addLanguage = () => {
    const value = code.trim();
    if (!LANGUAGE_CODE.test(value)) {
      setProblem(`“${value}” is not a language code such as en, de or pt-BR.`);
      return;
    }
    if (draft.languages.some((language) => language.toLowerCase() === value.toLowerCase())) {
      setProblem(`${value} is already a language of this survey.`);
      return;
    }
    setDraft((d) => ({ ...d, languages: [...d.languages, value] }));
    setCode('');
    setProblem(null);
  };
  return (
    <fieldset className="sq-languages" id={fieldId('languages')}>
      <legend>Languages</legend>
      <p className="sq-hint">
        Each customer gets the language of their locale, else the first (default) language. Every text needs
        each language.
      </p>
      <ul>
        {draft.languages.map((language, index) => (
          <li key={language}>
            <strong>{language}</strong>
            {index === 0 && <span className="sq-tag"> default</span>}
            {missing[language] > 0 && (
              <span className="sq-missing"> · {missing[language]} texts missing</span>
            )}
            {!readOnly && index > 0 && (
              <button
                type="button"
                className="secondary small"
                onClick={() =>
                  setDraft((d) => ({
                    ...d,
                    languages: [language, ...d.languages.filter((l) => l !== language)],
                  }))
                }
              >
                Make default
              </button>
            )}
            {!readOnly && draft.languages.length > 1 && (
              <button
                type="button"
                className="secondary small"
                aria-label={`Remove ${language} and its texts`}
                onClick={() => setDraft((d) => withoutLanguage(d, language))}
              >
                Remove
              </button>
            )}
          </li>
        ))}
      </ul>
      {!readOnly && (
        <div className="sq-row sq-row-end">
          <div className="sq-field">
            <label htmlFor="add-language">Add a language (code)</label>
            <input
              id="add-language"
              type="text"
              value={code}
              size={8}
              placeholder="de"
              aria-describedby={problem ? 'add-language-problem' : undefined}
              aria-invalid={problem ? true : undefined}
              onChange={(event) => setCode(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === 'Enter') {
                  event.preventDefault();
                  addLanguage();
                }
              }}
            />
          </div>
          <button type="button" className="secondary" onClick={addLanguage} disabled={!code.trim()}>
            Add language
          </button>
        </div>
      )}
      {problem && (
        <p className="field-errors" id="add-language-problem">
          {problem}
        </p>
      )}
    </fieldset>
  );
};

const TextsForm = ({
  draft,
  setDraft,
  readOnly,
}: {
  draft: Draft;
  setDraft: (update: (draft: Draft) => Draft) => void;
  readOnly: boolean;
}) => (
  <>
    <TextField
      label="Survey name"
      hint="Also the title of the survey page."
      path="name"
      value={draft.name}
      maxLength={200}
      onChange={(name) => setDraft((d) => ({ ...d, name }))}
    />
    <LanguagesField draft={draft} setDraft={setDraft} readOnly={readOnly} />
    <h3>On the survey page</h3>
    <LocalTextField
      label="Introduction above the first question"
      path="intro"
      optional
      multiline
      text={draft.intro}
      onChange={(intro) => setDraft((d) => ({ ...d, intro }))}
    />
    <LocalTextField
      label="Thank-you message"
      path="thankYou"
      multiline
      text={draft.thankYou}
      onChange={(thankYou) => setDraft((d) => ({ ...d, thankYou }))}
    />
    <LocalTextField
      label="What happens next (under the thank-you)"
      hint="The close-the-loop promise, e.g. that someone calls back after a bad experience."
      path="followUp"
      optional
      multiline
      text={draft.followUp}
      onChange={(followUp) => setDraft((d) => ({ ...d, followUp }))}
    />
    <h3>Invitation</h3>
    <LocalTextField
      label="Subject (e-mail)"
      path="invitation.subject"
      maxLength={200}
      text={draft.invitation.subject}
      onChange={(subject) => setDraft((d) => ({ ...d, invitation: { ...d.invitation, subject } }))}
    />
    <LocalTextField
      label="Text before the link (e-mail, SMS, voice)"
      path="invitation.body"
      multiline
      text={draft.invitation.body}
      onChange={(body) => setDraft((d) => ({ ...d, invitation: { ...d.invitation, body } }))}
    />
    <h3>Timing</h3>
    <CheckboxField
      label="Send one reminder to those who have not answered"
      path="reminderAfterDays"
      checked={draft.reminderAfterDays !== null}
      onChange={(on) => setDraft((d) => ({ ...d, reminderAfterDays: on ? 3 : null }))}
    />
    <div className="sq-row">
      {draft.reminderAfterDays !== null && (
        <NumberField
          label="Remind after (days)"
          path="reminderAfterDays"
          value={draft.reminderAfterDays}
          min={1}
          max={30}
          onChange={(days) => setDraft((d) => ({ ...d, reminderAfterDays: days ?? 1 }))}
        />
      )}
      <NumberField
        label="The link works for (days)"
        path="expiresAfterDays"
        value={draft.expiresAfterDays}
        min={1}
        max={90}
        onChange={(days) => setDraft((d) => ({ ...d, expiresAfterDays: days ?? 14 }))}
      />
    </div>
  </>
);

type SaveState =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; message: string }
  | { kind: 'failed'; error: unknown };

const Editor = ({ initial }: { initial: SurveyDetail }) => {
  const session = useSession();
  const canEdit = session.permissions.admin;
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const tab: Tab = TABS.some((t) => t.id === params.get('tab')) ? (params.get('tab') as Tab) : 'questions';
  const setTab = (next: Tab) => {
    const query = new URLSearchParams(search);
    if (next === 'questions') query.delete('tab');
    else query.set('tab', next);
    const text = query.toString();
    navigate(`/surveys/${initial.id}${text ? `?${text}` : ''}`, { replace: true });
  };

  const [loaded, setLoaded] = useState(initial);
  const [draft, setDraftState] = useState<Draft>(() => toDraft(initial.definition));
  const [apiErrors, setApiErrors] = useState<Problem[]>([]);
  const [language, setLanguage] = useState(initial.definition.languages[0] ?? 'en');
  const [save, setSave] = useState<SaveState>({ kind: 'idle' });
  const [statusChange, setStatusChange] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const [viewing, setViewing] = useState<{
    version: number;
    draft: Draft;
    definition: SurveyDefinition;
  } | null>(null);
  const [versionLoad, setVersionLoad] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const [focus, setFocus] = useState<string | null>(null);
  const [modeNote, setModeNote] = useState<string | null>(null);
  const summary = useRef<HTMLDivElement>(null);

  const setDraft = (update: (draft: Draft) => Draft) => {
    setDraftState(update);
    if (save.kind === 'done') setSave({ kind: 'idle' });
  };

  const shown = viewing ? viewing.draft : draft;
  const readOnly = !canEdit || viewing !== null;
  const definition = useMemo(() => compile(draft, loaded.definition), [draft, loaded]);
  const shownDefinition = viewing ? viewing.definition : definition;
  const dirty = canonicalJson(definition) !== canonicalJson(loaded.definition);
  const languages = shown.languages.length ? shown.languages : ['en'];
  const editLanguage = languages.includes(language) ? language : languages[0];
  const problems = useMemo(
    () => (viewing ? [] : simpleProblems(draft, editLanguage)),
    [draft, editLanguage, viewing],
  );
  const errors = viewing ? [] : [...apiErrors, ...problems];

  // Leaving the survey with unsaved changes asks first: closing the tab, or a link to another page.
  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    const leave = (event: MouseEvent) => {
      const link = (event.target as Element | null)?.closest?.('a[href]');
      if (!(link instanceof HTMLAnchorElement) || link.target === '_blank' || link.hash === '#') return;
      if (link.origin !== window.location.origin || link.pathname === window.location.pathname) return;
      if (!window.confirm('This survey has unsaved changes. Leave without saving them?')) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    };
    window.addEventListener('beforeunload', warn);
    document.addEventListener('click', leave, true);
    return () => {
      window.removeEventListener('beforeunload', warn);
      document.removeEventListener('click', leave, true);
    };
  }, [dirty]);

  // Focus a field once it is on screen (after switching tabs or languages, or adding a question).
  useEffect(() => {
    if (!focus) return;
    let element = elementFor(focus);
    if (element instanceof HTMLButtonElement && element.disabled) element = element.closest('section');
    if (element) {
      element.focus();
      element.scrollIntoView({ block: 'center' });
    }
    setFocus(null);
  }, [focus]);

  const clear = (path: string) => setApiErrors((list) => list.filter((error) => !within(error.path, path)));

  const goTo = (error: Problem) => {
    const target = tabOf(error.path);
    if (target !== tab) setTab(target);
    const last = /\.("?)([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\1$/.exec(error.path)?.[2];
    if (last && languages.includes(last)) setLanguage(last);
    setFocus(error.path);
  };

  const submit = async () => {
    if (problems.length > 0) {
      setSave({ kind: 'idle' });
      summary.current?.focus();
      return;
    }
    setSave({ kind: 'busy' });
    const keys = draft.questions.map((q) => q.key);
    try {
      const saved = await api<SurveyDetail>(`/surveys/${loaded.id}`, {
        method: 'PUT',
        body: { definition },
      });
      setApiErrors([]);
      const changed = saved.version !== loaded.version;
      setLoaded(saved);
      const next = toDraft(saved.definition);
      setDraftState(
        draft.mode === 'jumps' && next.mode === 'simple' ? toJumps(next, saved.definition) : next,
      );
      setSave({
        kind: 'done',
        message: changed
          ? `Saved as version ${saved.version}. Invitations already sent keep the version they were sent with.`
          : 'Nothing had changed; the survey stays at its version.',
      });
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && error.details.length > 0) {
        setApiErrors(error.details.map((detail) => ({ ...detail, path: editorPath(detail.path, keys) })));
        setSave({ kind: 'idle' });
        requestAnimationFrame(() => summary.current?.focus());
      } else {
        setSave({ kind: 'failed', error });
      }
    }
  };

  const discard = () => {
    setDraftState(toDraft(loaded.definition));
    setApiErrors([]);
    setSave({ kind: 'idle' });
  };

  const changeStatus = async (status: SurveyStatus) => {
    setStatusChange({ busy: true });
    try {
      const next = await api<SurveyDetail>(`/surveys/${loaded.id}`, { method: 'PATCH', body: { status } });
      setLoaded((previous) => ({ ...previous, status: next.status, updatedAt: next.updatedAt }));
      setStatusChange({ busy: false });
    } catch (error) {
      setStatusChange({ busy: false, error });
    }
  };

  const showVersion = async (version: number) => {
    if (version === loaded.version) {
      setViewing(null);
      return;
    }
    setVersionLoad({ busy: true });
    try {
      const old = await api<{ version: number; definition: SurveyDefinition }>(
        `/surveys/${loaded.id}/versions/${version}`,
      );
      setViewing({ version, draft: toDraft(old.definition), definition: old.definition });
      setVersionLoad({ busy: false });
    } catch (error) {
      setVersionLoad({ busy: false, error });
    }
  };

  const setMode = (mode: Draft['mode']) => {
    setModeNote(null);
    if (mode === draft.mode) return;
    if (mode === 'jumps') {
      setDraft((d) => toJumps(d, loaded.definition));
      return;
    }
    const simple = toSimple(draft);
    if (simple) setDraft(() => simple);
    else
      setModeNote(
        'These jump rules cannot be shown as “who sees this question”: follow-ups must come right after the rating or single-choice question that decides about them, and skip to the same place. Keep editing the jump rules.',
      );
  };

  const questionProblems = errors.filter((error) => tabOf(error.path) === 'questions').length;
  const textProblems = errors.length - questionProblems;
  const plural = (n: number) => `(${n} problem${n === 1 ? '' : 's'})`;
  const listErrors = errors.filter((error) => error.path === 'questions');
  const created = loaded.versions.find((v) => v.version === loaded.version)?.createdAt ?? loaded.updatedAt;

  const errorSummary = errors.length > 0 && (
    <div
      className="sq-error-summary"
      ref={summary}
      tabIndex={-1}
      role="alert"
      aria-labelledby="error-summary-title"
    >
      <p id="error-summary-title" className="error-title">
        {apiErrors.length > 0 ? 'The survey was not saved: ' : 'Fix these before saving: '}
        {errors.length} problem{errors.length === 1 ? '' : 's'}
      </p>
      <ul>
        {errors.map((error) => (
          <li key={`${error.path}:${error.message}`}>
            <a
              href={`#${fieldId(error.path)}`}
              onClick={(event) => {
                event.preventDefault();
                goTo(error);
              }}
            >
              {describePath(error.path, draft.questions)}
            </a>
            : {error.message}
          </li>
        ))}
      </ul>
    </div>
  );

  const saveBar = canEdit && !viewing && (
    <div className={`sq-savebar${dirty ? ' dirty' : ''}`}>
      <p className="sq-savebar-state" role="status">
        {save.kind === 'busy'
          ? 'Saving…'
          : save.kind === 'done'
            ? save.message
            : dirty
              ? `Unsaved changes. Saving makes version ${loaded.version + 1}.`
              : `No unsaved changes (version ${loaded.version}).`}
      </p>
      <button type="button" onClick={submit} disabled={!dirty || save.kind === 'busy'}>
        {save.kind === 'busy' ? 'Saving…' : `Save as version ${loaded.version + 1}`}
      </button>
      <button type="button" className="secondary" onClick={discard} disabled={!dirty || save.kind === 'busy'}>
        Discard changes
      </button>
    </div>
  );

  const preview = (
    <aside className="sq-preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Preview</h2>
      <SurveyPreview definition={shownDefinition} language={editLanguage} onLanguage={setLanguage} />
    </aside>
  );

  const formContext = { errors, clear, language: editLanguage, languages, readOnly };
  let panel: ReactNode;
  if (tab === 'questions' || tab === 'texts') {
    panel = (
      <SurveyFormContext.Provider value={formContext}>
        {errorSummary}
        {save.kind === 'failed' && (
          <ErrorMessage error={save.error} title="The survey was not saved" onRetry={submit} />
        )}
        <div className="sq-layout">
          <div className="sq-form">
            {languages.length > 1 && (
              <div className="sq-language-choice">
                <Choice
                  legend="Edit the texts in"
                  name="edit-language"
                  value={editLanguage}
                  options={languages.map((code) => {
                    const missing = viewing ? 0 : (missingTranslations(draft)[code] ?? 0);
                    return { value: code, label: missing ? `${code} (${missing} missing)` : code };
                  })}
                  onChange={setLanguage}
                />
              </div>
            )}
            {tab === 'questions' ? (
              <>
                <h2 className="visually-hidden">Questions</h2>
                {!readOnly && (
                  <div className="sq-mode">
                    <Choice
                      legend="Branching"
                      name="branch-mode"
                      value={draft.mode}
                      options={[
                        { value: 'simple', label: 'Who sees each question' },
                        { value: 'jumps', label: 'Jump rules' },
                      ]}
                      onChange={setMode}
                    />
                    {modeNote && (
                      <p className="sq-hint" role="status">
                        {modeNote}
                      </p>
                    )}
                  </div>
                )}
                {listErrors.length > 0 && (
                  <ul className="field-errors" id={fieldId('questions')}>
                    {listErrors.map((error) => (
                      <li key={error.message}>{error.message}</li>
                    ))}
                  </ul>
                )}
                <QuestionsForm draft={shown} setDraft={setDraft} readOnly={readOnly} onFocus={setFocus} />
              </>
            ) : (
              <>
                <h2 className="visually-hidden">Texts and timing</h2>
                <TextsForm draft={shown} setDraft={setDraft} readOnly={readOnly} />
              </>
            )}
          </div>
          {preview}
        </div>
        {saveBar}
      </SurveyFormContext.Provider>
    );
  } else if (tab === 'triggers') {
    panel = (
      <>
        <h2 className="visually-hidden">Triggers</h2>
        <SurveyTriggers surveyId={loaded.id} canEdit={canEdit} />
      </>
    );
  } else if (tab === 'rules') {
    panel = (
      <>
        <h2 className="visually-hidden">Contact rules of the workspace</h2>
        <SurveyContactRules canEdit={canEdit} />
      </>
    );
  } else {
    panel = (
      <>
        <h2 className="visually-hidden">Response rates</h2>
        <SurveyResponseRates surveyId={loaded.id} />
      </>
    );
  }

  return (
    <div className="surveys-page">
      <p className="sq-back">
        <Link href="/surveys">← All surveys</Link>
      </p>
      <div className="sq-title">
        <h1>{loaded.name}</h1>
        <span className={`sq-badge sq-badge-${loaded.status}`}>{STATUS_LABELS[loaded.status]}</span>
      </div>
      <div className="sq-meta">
        <p>
          Version {loaded.version}, saved {formatDateTime(created)}
          {loaded.template ? ` · from the template ${loaded.template}` : ''}
        </p>
        {loaded.versions.length > 1 && (
          <label className="sq-inline">
            Show version
            <select
              value={viewing?.version ?? loaded.version}
              disabled={versionLoad.busy}
              onChange={(event) => showVersion(Number(event.target.value))}
            >
              {[...loaded.versions].reverse().map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version === loaded.version ? `${v.version} (current)` : v.version} —{' '}
                  {formatDateTime(v.createdAt)}
                </option>
              ))}
            </select>
          </label>
        )}
        {canEdit && (
          <div className="sq-status-actions">
            {loaded.status !== 'active' && (
              <button
                type="button"
                className="secondary"
                disabled={statusChange.busy}
                onClick={() => changeStatus('active')}
              >
                {loaded.status === 'paused' ? 'Resume' : 'Activate'}
              </button>
            )}
            {loaded.status === 'active' && (
              <button
                type="button"
                className="secondary"
                disabled={statusChange.busy}
                onClick={() => changeStatus('paused')}
              >
                Pause
              </button>
            )}
            {loaded.status !== 'archived' && (
              <button
                type="button"
                className="secondary"
                disabled={statusChange.busy}
                onClick={() => changeStatus('archived')}
              >
                Archive
              </button>
            )}
          </div>
        )}
      </div>
      {loaded.status !== 'active' && (
        <p className="sq-hint">
          {loaded.status === 'paused' ? 'Paused' : 'Archived'}: no invitations go out; those falling due are
          suppressed.
        </p>
      )}
      {statusChange.error !== undefined && (
        <ErrorMessage error={statusChange.error} title="The status was not changed" />
      )}
      {versionLoad.error !== undefined && (
        <ErrorMessage error={versionLoad.error} title="Could not load that version" />
      )}
      {!canEdit && (
        <p className="sq-readonly">You can look at this survey; only administrators can change it.</p>
      )}
      {viewing && (
        <div className="sq-viewing" role="status">
          <p>
            You are looking at version {viewing.version}, as its invitations were sent. It cannot be changed.
          </p>
          <div className="form-actions">
            <button type="button" className="secondary" onClick={() => setViewing(null)}>
              Back to the current version
            </button>
            {canEdit && (
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setDraftState(viewing.draft);
                  setApiErrors([]);
                  setViewing(null);
                }}
              >
                Edit from this version
              </button>
            )}
          </div>
        </div>
      )}
      <Tabs
        tab={tab}
        onChange={setTab}
        labels={{
          questions: questionProblems ? plural(questionProblems) : undefined,
          texts: textProblems ? plural(textProblems) : undefined,
        }}
      />
      <div className="sq-panel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {panel}
      </div>
    </div>
  );
};

export default function SurveyEditor({ params }: PageProps) {
  const id = Number(params.id);
  const valid = Number.isInteger(id) && id > 0;
  const survey = useApi<SurveyDetail>(valid ? `/surveys/${id}` : null);
  if (!valid || survey.error) {
    return (
      <>
        <p className="sq-back">
          <Link href="/surveys">← All surveys</Link>
        </p>
        <h1>Survey</h1>
        <ErrorMessage
          error={survey.error ?? new ApiError(404, 'not_found', `“${params.id}” is not a survey id.`)}
          onRetry={valid ? survey.reload : undefined}
        />
      </>
    );
  }
  if (!survey.data) {
    return (
      <>
        <h1>Survey</h1>
        <Loading label="Loading the survey…" />
      </>
    );
  }
  return <Editor key={survey.data.id} initial={survey.data} />;
}
