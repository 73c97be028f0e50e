import { type FormEvent, useEffect, useRef, useState } from 'react';
import { Link, useLocation } from 'wouter';
import { api } from '../api';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loadable } from '../components/Loadable';
import type {
  Funnel,
  ResponseRatesResponse,
  SurveyDetail,
  SurveyStatus,
  SurveySummary,
  SurveyTemplate,
} from '../components/SurveyModel';
import { formatRate } from '../components/SurveyResponseRates';
import { TableScroll } from '../components/TableScroll';
import { formatDateTime, formatNumber } from '../format';
import { useSession } from '../session';
import { useApi } from '../useApi';
import './surveys.css';

const STATUS_LABELS: Record<SurveyStatus, string> = {
  active: 'Active',
  paused: 'Paused',
  archived: 'Archived',
};

/** A survey to start from nothing: one NPS question, in English (languages are added in the editor). */
const BLANK = 'blank';
const blankDefinition = (name: string) => ({
  name,
  languages: ['en'],
  questions: [
    {
      id: 'nps',
      type: 'rating',
      min: 0,
      max: 10,
      metric: 'nps',
      text: { en: 'How likely are you to recommend us to a friend or colleague?' },
      lowLabel: { en: 'Not at all likely' },
      highLabel: { en: 'Extremely likely' },
    },
  ],
  thankYou: { en: 'Thank you for your feedback!' },
  invitation: {
    subject: { en: 'How did we do?' },
    body: { en: 'Please tell us how it went. It takes less than a minute:' },
  },
});

const LANGUAGE_NAMES: Record<string, string> = { en: 'English', de: 'German', fr: 'French', es: 'Spanish' };

/** "Create a survey": choose a template (or a blank survey), name it, pick its languages. */
const CreateDialog = ({ templates, onClose }: { templates: SurveyTemplate[]; onClose: () => void }) => {
  const dialog = useRef<HTMLDialogElement>(null);
  const [, navigate] = useLocation();
  const [template, setTemplate] = useState<string>(templates[0]?.id ?? BLANK);
  const chosen = templates.find((t) => t.id === template);
  const [name, setName] = useState(chosen?.name ?? 'New survey');
  const [named, setNamed] = useState(false);
  const [languages, setLanguages] = useState<string[]>(['en']);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<unknown>(null);

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const choose = (id: string) => {
    setTemplate(id);
    const next = templates.find((t) => t.id === id);
    if (!named) setName(next?.name ?? 'New survey');
    if (next) setLanguages((list) => list.filter((code) => next.languages.includes(code)));
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const body =
        template === BLANK
          ? { definition: blankDefinition(name.trim()) }
          : { template, name: name.trim(), languages };
      const created = await api<SurveyDetail>('/surveys', { method: 'POST', body });
      navigate(`/surveys/${created.id}`);
    } catch (error) {
      setFailure(error);
      setBusy(false);
    }
  };

  return (
    <dialog ref={dialog} className="dialog sq-create" aria-labelledby="create-title" onClose={onClose}>
      <h2 id="create-title">Create a survey</h2>
      <form onSubmit={submit}>
        <fieldset className="sq-templates">
          <legend>Start from</legend>
          {[
            ...templates,
            {
              id: BLANK,
              name: 'Blank survey',
              description: 'One NPS question in English; add your own questions and languages.',
              languages: ['en'],
            },
          ].map((t) => (
            <label key={t.id} className={`sq-template${template === t.id ? ' chosen' : ''}`}>
              <input
                type="radio"
                name="template"
                value={t.id}
                checked={template === t.id}
                onChange={() => choose(t.id)}
              />
              <span>
                <span className="sq-template-name">{t.name}</span>
                <span className="sq-template-description">{t.description}</span>
              </span>
            </label>
          ))}
        </fieldset>
        <label>
          Name
          <input
            type="text"
            value={name}
            required
            maxLength={200}
            onChange={(event) => {
              setName(event.target.value);
              setNamed(true);
            }}
          />
        </label>
        {chosen ? (
          <fieldset className="sq-values">
            <legend>Languages (the first ticked in this list is the default)</legend>
            {chosen.languages.map((code) => (
              <label key={code} className="sq-inline-check">
                <input
                  type="checkbox"
                  checked={languages.includes(code)}
                  onChange={(event) =>
                    setLanguages((list) =>
                      event.target.checked
                        ? chosen.languages.filter((c) => c === code || list.includes(c))
                        : list.filter((c) => c !== code),
                    )
                  }
                />
                {LANGUAGE_NAMES[code] ?? code} ({code})
              </label>
            ))}
          </fieldset>
        ) : (
          <p className="sq-hint">A blank survey starts in English; add languages in the editor.</p>
        )}
        {failure !== null && <ErrorMessage error={failure} title="The survey was not created" />}
        <div className="form-actions">
          <button
            type="submit"
            disabled={busy || !name.trim() || (chosen !== undefined && languages.length === 0)}
          >
            {busy ? 'Creating…' : 'Create and edit'}
          </button>
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Cancel
          </button>
        </div>
      </form>
    </dialog>
  );
};

/** Response-rate rows are grouped by "name (#id)"; the id is read back from the label. */
const ratesById = (rates: ResponseRatesResponse | undefined): Map<number, Funnel> =>
  new Map(
    (rates?.rows ?? []).flatMap((row) => {
      const id = /\(#(\d+)\)$/.exec(row.group.survey ?? '')?.[1];
      return id ? [[Number(id), row] as const] : [];
    }),
  );

export default function Surveys() {
  const session = useSession();
  const canEdit = session.permissions.admin;
  const surveys = useApi<SurveySummary[]>('/surveys');
  const templates = useApi<SurveyTemplate[]>('/survey-templates');
  const rates = useApi<ResponseRatesResponse>('/surveys/response-rates', { by: 'survey' });
  const [creating, setCreating] = useState(false);
  const [showArchived, setShowArchived] = useState(false);
  const funnels = ratesById(rates.data);
  const templateName = (id: string | null) =>
    id === null ? 'Custom' : (templates.data?.find((t) => t.id === id)?.name ?? id);

  return (
    <div className="surveys-page">
      <div className="sq-title">
        <h1>Surveys</h1>
        {canEdit && (
          <button
            type="button"
            onClick={() => setCreating(true)}
            disabled={!templates.data && !templates.error}
          >
            Create a survey
          </button>
        )}
      </div>
      <p className="sq-hint">
        Invitations go out after the contacts each survey's triggers match, within the workspace's contact
        rules.
        {canEdit ? '' : ' Only administrators can change surveys.'}
      </p>
      {creating && templates.data && (
        <CreateDialog templates={templates.data} onClose={() => setCreating(false)} />
      )}
      {templates.error && canEdit && (
        <ErrorMessage
          error={templates.error}
          title="Could not load the templates"
          onRetry={templates.reload}
        />
      )}
      <Loadable state={surveys} label="Loading the surveys…">
        {(items) => {
          if (items.length === 0) {
            return (
              <Empty title="No surveys yet">
                {canEdit
                  ? 'Create one from a template: relationship NPS, NPS, CSAT or CES after a contact.'
                  : 'An administrator creates surveys; they will be listed here.'}
              </Empty>
            );
          }
          const archived = items.filter((s) => s.status === 'archived').length;
          const shown = showArchived ? items : items.filter((s) => s.status !== 'archived');
          const caption = 'Surveys with their invitations so far';
          return (
            <>
              {archived > 0 && (
                <label className="sq-inline-check sq-archived-toggle">
                  <input
                    type="checkbox"
                    checked={showArchived}
                    onChange={(event) => setShowArchived(event.target.checked)}
                  />
                  Show archived surveys ({archived})
                </label>
              )}
              {rates.error && (
                <ErrorMessage
                  error={rates.error}
                  title="Could not load the response rates"
                  onRetry={rates.reload}
                />
              )}
              {shown.length === 0 ? (
                <Empty title="Every survey is archived">Show the archived surveys to see them.</Empty>
              ) : (
                <TableScroll label={caption}>
                  <table className="data-table sq-list">
                    <caption>{caption}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Survey</th>
                        <th scope="col">Status</th>
                        <th scope="col">Type</th>
                        <th scope="col" className="number">
                          Version
                        </th>
                        <th scope="col" className="number">
                          Sent
                        </th>
                        <th scope="col" className="number">
                          Opened
                        </th>
                        <th scope="col" className="number">
                          Answered
                        </th>
                        <th scope="col" className="number">
                          Response rate
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      {shown.map((survey) => {
                        const funnel = funnels.get(survey.id);
                        const count = (value: number | undefined) =>
                          rates.data ? formatNumber(value ?? 0) : rates.error ? '–' : '…';
                        return (
                          <tr key={survey.id}>
                            <th scope="row">
                              <Link href={`/surveys/${survey.id}`}>{survey.name}</Link>
                              <span className="cell-margin">changed {formatDateTime(survey.updatedAt)}</span>
                            </th>
                            <td>
                              <span className={`sq-badge sq-badge-${survey.status}`}>
                                {STATUS_LABELS[survey.status]}
                              </span>
                            </td>
                            <td>{templateName(survey.template)}</td>
                            <td className="number">{survey.version}</td>
                            <td className="number">{count(funnel?.delivered)}</td>
                            <td className="number">{count(funnel?.opened)}</td>
                            <td className="number">{count(funnel?.completed)}</td>
                            <td className="number">
                              {rates.data ? formatRate(funnel?.responseRate ?? null) : count(undefined)}
                            </td>
                          </tr>
                        );
                      })}
                    </tbody>
                  </table>
                </TableScroll>
              )}
            </>
          );
        }}
      </Loadable>
    </div>
  );
}
