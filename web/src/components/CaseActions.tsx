import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import { formatDateTime, humanize } from '../format';
import {
  type CaseDetail,
  type CaseMessage,
  type CaseStatus,
  type ClosedLoopSettings,
  StatusBadge,
  statusLabel,
} from './CaseParts';

/**
 * The working parts of a case page: status, playbook steps, root cause, owner and team, notes and
 * messages to the customer. Each shows its own error next to its controls.
 */

const asApiError = (error: unknown): ApiError =>
  error instanceof ApiError
    ? error
    : new ApiError(0, 'client_error', String((error as Error)?.message ?? error));

/** What to do about a failed action, by its kind. */
const adviceFor = (error: ApiError): string => {
  if (error.status === 409 && error.code === 'invalid_transition')
    return 'Someone may have changed the case meanwhile: the page now shows its current state.';
  if (error.status === 403) return 'Only the owner, their team’s manager or an administrator can do this.';
  if (error.status === 502)
    return 'An administrator of the server can set up e-mail; meanwhile you can call the customer and log the call.';
  if (error.status === 0) return 'Check the network connection, then try again.';
  return '';
};

/** An action's error, announced, with the API's message and details. */
export const ActionError = ({ error }: { error: ApiError | null }) => {
  if (!error) return null;
  const advice = adviceFor(error);
  return (
    <div className="form-error" role="alert">
      <p>
        {error.message}
        {error.status ? <span className="muted"> ({error.status})</span> : null}
      </p>
      {error.details.length > 0 && (
        <ul>
          {error.details.map((detail) => (
            <li key={`${detail.path}:${detail.message}`}>
              {detail.path ? <code>{detail.path}</code> : null} {detail.message}
            </li>
          ))}
        </ul>
      )}
      {advice && <p>{advice}</p>}
    </div>
  );
};

/** One action's busy and error state; `run` returns whether it succeeded. */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = async (work: () => Promise<void>): Promise<boolean> => {
    setBusy(true);
    setError(null);
    try {
      await work();
      return true;
    } catch (failure) {
      setError(asApiError(failure));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(null) };
};

export interface CaseActionProps {
  kase: CaseDetail;
  /** The case as the API answered after a change. */
  onChange: (kase: CaseDetail) => void;
  /** Reads the case again (after changes whose answer is not the case, or a conflict). */
  refresh: () => Promise<void>;
  /** false: shown read-only. */
  canWork: boolean;
}

const patchCase = (id: number, body: Record<string, unknown>) =>
  api<CaseDetail>(`/cases/${id}`, { method: 'PATCH', body });

/** The button text for moving a case from one status to another. */
const moveLabel = (from: CaseStatus, to: CaseStatus): string => {
  if (to === 'in_progress')
    return from === 'open' ? 'Start work' : from === 'resolved' ? 'Reopen' : 'Back to in progress';
  if (to === 'customer_contacted') return 'Mark customer contacted';
  if (to === 'resolved') return 'Resolve';
  if (to === 'closed') return 'Close';
  return statusLabel(to);
};

export const StatusActions = ({ kase, onChange, refresh, canWork }: CaseActionProps) => {
  const action = useAction();
  const [said, setSaid] = useState('');
  const current = useRef<HTMLParagraphElement>(null);
  const move = async (to: CaseStatus) => {
    setSaid('');
    const ok = await action.run(async () => onChange(await patchCase(kase.id, { status: to })));
    if (ok) {
      setSaid(`The case is now ${statusLabel(to).toLowerCase()}.`);
      // The pressed button may be gone now: keep the keyboard focus in this section.
      current.current?.focus();
    } else {
      await refresh().catch(() => undefined);
    }
  };
  return (
    <section className="panel case-status-panel" aria-labelledby="status-title">
      <h2 id="status-title">Status</h2>
      <p ref={current} tabIndex={-1} className="case-current-status">
        Now: <StatusBadge status={kase.status} />
      </p>
      {!canWork ? null : kase.allowedStatuses.length === 0 ? (
        <p className="muted">A closed case is final.</p>
      ) : (
        <div className="button-row">
          {kase.allowedStatuses.map((to) => (
            <button
              key={to}
              type="button"
              className={to === 'closed' || to === 'in_progress' ? 'secondary' : undefined}
              onClick={() => move(to)}
              disabled={action.busy}
            >
              {moveLabel(kase.status, to)}
            </button>
          ))}
        </div>
      )}
      {canWork && kase.allowedStatuses.includes('resolved') && !kase.rootCause && (
        <p className="muted hint">Set a root cause before resolving, so the case counts in the reports.</p>
      )}
      <p role="status" className="visually-hidden">
        {said}
      </p>
      <ActionError error={action.error} />
    </section>
  );
};

export const PlaybookSteps = ({ kase, onChange, canWork }: CaseActionProps) => {
  const action = useAction();
  // Shown checked (or not) at once, while the API is asked.
  const [pending, setPending] = useState<{ position: number; done: boolean } | null>(null);
  const toggle = async (position: number, done: boolean) => {
    if (pending) return; // one change at a time (the box keeps its focus: it is not disabled meanwhile)
    setPending({ position, done });
    await action.run(async () =>
      onChange(
        await api<CaseDetail>(`/cases/${kase.id}/steps/${position}`, { method: 'PUT', body: { done } }),
      ),
    );
    setPending(null);
  };
  const doneCount = kase.steps.filter((step) => step.done).length;
  return (
    <section className="panel" aria-labelledby="playbook-title">
      <h2 id="playbook-title">Playbook{kase.playbook ? `: ${kase.playbook.name}` : ''}</h2>
      {kase.steps.length === 0 ? (
        <p className="muted">
          No playbook fits this case. Administrators add playbooks (per touchpoint, root cause, personality
          type, life-cycle stage or severity); setting a root cause may attach one.
        </p>
      ) : (
        <>
          <p className="muted">
            {doneCount} of {kase.steps.length} steps done
          </p>
          <ol className="steps">
            {kase.steps.map((step) => (
              <li key={step.position}>
                <label className="checkbox-label">
                  <input
                    type="checkbox"
                    checked={pending?.position === step.position ? pending.done : step.done}
                    disabled={!canWork}
                    onChange={(event) => toggle(step.position, event.target.checked)}
                  />
                  <span className={step.done ? 'step-done' : undefined}>{step.text}</span>
                </label>
                {step.done && step.doneAt && (
                  <span className="cell-margin">
                    Done {formatDateTime(step.doneAt)}
                    {step.doneBy ? ` by ${step.doneBy}` : ''}
                  </span>
                )}
              </li>
            ))}
          </ol>
        </>
      )}
      <ActionError error={action.error} />
    </section>
  );
};

export const RootCause = ({
  kase,
  onChange,
  canWork,
  settings,
}: CaseActionProps & { settings: ClosedLoopSettings | null }) => {
  const action = useAction();
  const [value, setValue] = useState(kase.rootCause ?? '');
  const listId = useId();
  useEffect(() => setValue(kase.rootCause ?? ''), [kase.rootCause]);
  const codes = settings?.rootCauses ?? [];
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const code = value.trim();
    await action.run(async () =>
      onChange(await patchCase(kase.id, { rootCause: code === '' ? null : code })),
    );
  };
  return (
    <section className="panel" aria-labelledby="root-cause-title">
      <h2 id="root-cause-title">Root cause</h2>
      {!canWork ? (
        <p>{kase.rootCause ? humanize(kase.rootCause) : <span className="muted">Not set</span>}</p>
      ) : (
        <form onSubmit={submit} className="inline-form">
          {settings ? (
            <label>
              What caused the problem
              <select value={value} onChange={(event) => setValue(event.target.value)}>
                <option value="">Not set</option>
                {(value && !codes.includes(value) ? [value, ...codes] : codes).map((code) => (
                  <option key={code} value={code}>
                    {humanize(code)}
                  </option>
                ))}
              </select>
            </label>
          ) : (
            <label>
              What caused the problem (a root-cause code)
              <input
                value={value}
                onChange={(event) => setValue(event.target.value)}
                list={listId}
                autoComplete="off"
                placeholder="e.g. process"
              />
              <datalist id={listId}>
                {FALLBACK_ROOT_CAUSES.map((code) => (
                  <option key={code} value={code} />
                ))}
              </datalist>
            </label>
          )}
          <button type="submit" disabled={action.busy || value === (kase.rootCause ?? '')}>
            Save root cause
          </button>
        </form>
      )}
      {canWork && !settings && (
        <p className="muted hint">
          Type a code of the workspace’s root-cause list (the usual ones are suggested); a code not in the
          list is refused with the list.
        </p>
      )}
      <ActionError error={action.error} />
    </section>
  );
};

/** The default taxonomy (src/closed-loop/settings.ts), suggested when the settings cannot be read. */
const FALLBACK_ROOT_CAUSES = [
  'process',
  'people',
  'product',
  'policy',
  'system',
  'communication',
  'third_party',
  'customer_expectation',
  'other',
];
/** The default templates' names, offered when the settings cannot be read. */
const FALLBACK_TEMPLATES = ['apology', 'resolved'];

export const Assignment = ({
  kase,
  onChange,
  settings,
  me,
}: CaseActionProps & { settings: ClosedLoopSettings | null; me: string }) => {
  const action = useAction();
  const [owner, setOwner] = useState(kase.owner ?? '');
  const [team, setTeam] = useState(kase.team ?? '');
  const peopleId = useId();
  useEffect(() => {
    setOwner(kase.owner ?? '');
    setTeam(kase.team ?? '');
  }, [kase.owner, kase.team]);
  const teams = settings ? Object.keys(settings.teams) : [];
  const people = settings
    ? [
        ...new Set(
          Object.entries(settings.teams)
            .filter(([name]) => !team || name === team)
            .flatMap(([, t]) => [...t.members, ...(t.lead ? [t.lead] : [])]),
        ),
      ]
    : [];
  const assign = (patch: { owner?: string | null; team?: string | null }) =>
    action.run(async () => onChange(await patchCase(kase.id, patch)));
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const patch: { owner?: string | null; team?: string | null } = {};
    if (owner.trim() !== (kase.owner ?? '')) patch.owner = owner.trim() || null;
    if (team.trim() !== (kase.team ?? '')) patch.team = team.trim() || null;
    if (Object.keys(patch).length > 0) await assign(patch);
  };
  const unchanged = owner.trim() === (kase.owner ?? '') && team.trim() === (kase.team ?? '');
  return (
    <section className="panel" aria-labelledby="assign-title">
      <h2 id="assign-title">Owner and team</h2>
      <form onSubmit={submit} className="stacked-form">
        {settings ? (
          <label>
            Team
            <select value={team} onChange={(event) => setTeam(event.target.value)}>
              <option value="">No team</option>
              {(team && !teams.includes(team) ? [team, ...teams] : teams).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <label>
            Team
            <input value={team} onChange={(event) => setTeam(event.target.value)} autoComplete="off" />
          </label>
        )}
        <label>
          Owner (e-mail; empty: the unassigned queue)
          <input
            type="email"
            value={owner}
            onChange={(event) => setOwner(event.target.value)}
            list={people.length ? peopleId : undefined}
            autoComplete="off"
          />
          {people.length > 0 && (
            <datalist id={peopleId}>
              {people.map((person) => (
                <option key={person} value={person} />
              ))}
            </datalist>
          )}
        </label>
        <div className="button-row">
          <button type="submit" disabled={action.busy || unchanged}>
            Reassign
          </button>
          {kase.owner?.toLowerCase() !== me.toLowerCase() && (
            <button
              type="button"
              className="secondary"
              disabled={action.busy}
              onClick={() => assign({ owner: me })}
            >
              Assign to me
            </button>
          )}
          {kase.owner && (
            <button
              type="button"
              className="secondary"
              disabled={action.busy}
              onClick={() => assign({ owner: null })}
            >
              Back to the queue
            </button>
          )}
        </div>
      </form>
      <ActionError error={action.error} />
    </section>
  );
};

export const Notes = ({ kase, onChange, canWork }: CaseActionProps) => {
  const action = useAction();
  const [text, setText] = useState('');
  const notes = kase.history.filter((entry) => entry.type === 'note');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const ok = await action.run(async () =>
      onChange(await api<CaseDetail>(`/cases/${kase.id}/notes`, { method: 'POST', body: { text } })),
    );
    if (ok) setText('');
  };
  return (
    <section className="panel" aria-labelledby="notes-title">
      <h2 id="notes-title">Notes</h2>
      {notes.length === 0 ? (
        <p className="muted">No notes yet.</p>
      ) : (
        <ol className="notes">
          {notes.map((note) => (
            <li key={`${note.at}:${note.actor}`}>
              <p className="note-head">
                <strong>{note.actor}</strong> · <time dateTime={note.at}>{formatDateTime(note.at)}</time>
              </p>
              <p className="note-text">{String(note.detail.text ?? '')}</p>
            </li>
          ))}
        </ol>
      )}
      {canWork && (
        <form onSubmit={submit} className="stacked-form">
          <label>
            New note
            <textarea
              value={text}
              onChange={(event) => setText(event.target.value)}
              rows={3}
              maxLength={10_000}
              required
            />
          </label>
          <div>
            <button type="submit" disabled={action.busy || text.trim() === ''}>
              {action.busy ? 'Adding…' : 'Add note'}
            </button>
          </div>
        </form>
      )}
      <ActionError error={action.error} />
    </section>
  );
};

type MessageKind = 'template' | 'written' | 'call';
const KINDS: { value: MessageKind; label: string }[] = [
  { value: 'template', label: 'E-mail from a template' },
  { value: 'written', label: 'Written e-mail' },
  { value: 'call', label: 'Log a call' },
];
const OUTCOMES = [
  { value: 'reached', label: 'Reached the customer' },
  { value: 'voicemail', label: 'Left a voicemail' },
  { value: 'no_answer', label: 'No answer' },
];

const MessageItem = ({ message }: { message: CaseMessage }) => (
  <li className={message.status === 'failed' ? 'message-failed' : undefined}>
    <p className="note-head">
      <strong>{message.channel === 'call' ? 'Call' : 'E-mail'}</strong> · {message.actor} ·{' '}
      <time dateTime={message.occurredAt}>{formatDateTime(message.occurredAt)}</time> ·{' '}
      {message.status === 'failed' ? (
        <strong className="text-danger">not sent</strong>
      ) : (
        humanize(message.status)
      )}
      {message.outcome ? ` · ${humanize(message.outcome)}` : ''}
    </p>
    {message.subject && <p className="note-text">Subject: {message.subject}</p>}
    <p className="note-text">{message.body}</p>
    {message.error && <p className="text-danger">Error: {message.error}</p>}
  </li>
);

/** Close the loop: e-mail the customer (a template or written) or log a call. */
export const CloseTheLoop = ({
  kase,
  refresh,
  canWork,
  settings,
}: CaseActionProps & { settings: ClosedLoopSettings | null }) => {
  const action = useAction();
  const [kind, setKind] = useState<MessageKind>('template');
  const templates = settings ? Object.keys(settings.messageTemplates) : FALLBACK_TEMPLATES;
  const [wantedTemplate, setTemplate] = useState(templates[0] ?? '');
  // The settings may arrive after the first render, with other template names.
  const template = templates.includes(wantedTemplate) ? wantedTemplate : (templates[0] ?? '');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [outcome, setOutcome] = useState('reached');
  const [done, setDone] = useState('');
  const chosen = settings?.messageTemplates[template];

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setDone('');
    const message =
      kind === 'template'
        ? { channel: 'email', template }
        : kind === 'written'
          ? { channel: 'email', subject, body }
          : { channel: 'call', body, outcome };
    const ok = await action.run(async () => {
      await api<CaseMessage>(`/cases/${kase.id}/messages`, { method: 'POST', body: message });
    });
    // A failed e-mail is kept on the case too: read the case again either way.
    await refresh().catch(() => undefined);
    if (ok) {
      setDone(kind === 'call' ? 'The call is logged.' : 'The e-mail is sent.');
      setSubject('');
      setBody('');
    }
  };

  let fields: ReactNode;
  if (kind === 'template') {
    fields = (
      <>
        <label>
          Template
          <select value={template} onChange={(event) => setTemplate(event.target.value)}>
            {templates.map((name) => (
              <option key={name} value={name}>
                {humanize(name)}
              </option>
            ))}
          </select>
        </label>
        {chosen ? (
          <div className="template-preview">
            <p className="note-head">Subject: {chosen.subject}</p>
            <p className="note-text">{chosen.body}</p>
            <p className="muted hint">The customer’s name, the case and the owner are filled in when sent.</p>
          </div>
        ) : (
          <p className="muted hint">
            The workspace’s own templates could not be read; these are the usual ones.
          </p>
        )}
      </>
    );
  } else if (kind === 'written') {
    fields = (
      <>
        <label>
          Subject
          <input
            value={subject}
            onChange={(event) => setSubject(event.target.value)}
            maxLength={300}
            required
          />
        </label>
        <label>
          Message
          <textarea
            value={body}
            onChange={(event) => setBody(event.target.value)}
            rows={6}
            maxLength={20_000}
            required
          />
        </label>
      </>
    );
  } else {
    fields = (
      <>
        <label>
          Outcome
          <select value={outcome} onChange={(event) => setOutcome(event.target.value)}>
            {OUTCOMES.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          What was said
          <textarea
            value={body}
            onChange={(event) => setBody(event.target.value)}
            rows={4}
            maxLength={20_000}
            required
          />
        </label>
      </>
    );
  }

  return (
    <section className="panel" aria-labelledby="loop-title">
      <h2 id="loop-title">Close the loop</h2>
      {kase.messages.length === 0 ? (
        <p className="muted">No e-mail or call yet.</p>
      ) : (
        <ol className="notes">
          {kase.messages.map((message) => (
            <MessageItem key={message.id} message={message} />
          ))}
        </ol>
      )}
      {canWork && !kase.customer && <p className="muted">The case has no known customer to contact.</p>}
      {canWork && kase.customer && (
        <form onSubmit={submit} className="stacked-form">
          <fieldset className="segmented">
            <legend>Contact the customer by</legend>
            {KINDS.map((option) => (
              <label key={option.value}>
                <input
                  type="radio"
                  name="message-kind"
                  value={option.value}
                  checked={kind === option.value}
                  onChange={() => {
                    setKind(option.value);
                    action.clear();
                  }}
                />
                {option.label}
              </label>
            ))}
          </fieldset>
          {fields}
          <div>
            <button type="submit" disabled={action.busy}>
              {action.busy ? 'Sending…' : kind === 'call' ? 'Log the call' : 'Send the e-mail'}
            </button>
          </div>
          <p role="status" className={done ? 'form-done' : 'visually-hidden'}>
            {done}
          </p>
          <ActionError error={action.error} />
        </form>
      )}
    </section>
  );
};
