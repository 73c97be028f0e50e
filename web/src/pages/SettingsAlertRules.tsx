import { type FormEvent, useEffect, useId, useRef, useState } from 'react';
import { Link, useSearchParams } from 'wouter';
import { ApiError, api } from '../api';
import { Empty } from '../components/Empty';
import { ErrorMessage } from '../components/ErrorMessage';
import { Loadable } from '../components/Loadable';
import { Loading } from '../components/Loading';
import { ActionError, ConfirmDialog, invalidInput, parseJson, useAction } from '../components/SettingsKit';
import { TableScroll } from '../components/TableScroll';
import { formatDateTime, formatNumber } from '../format';
import { useApi } from '../useApi';

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];

type RoutingStep =
  | { to: 'person'; owner: string }
  | { to: 'team'; team: string }
  | { to: 'touchpointTeam' }
  | { to: 'accountOwner'; attribute?: string };

interface Rule {
  id: number;
  name: string;
  description: string | null;
  condition: unknown;
  kinds: string[];
  severity: Severity;
  routing: RoutingStep[];
  maxAgeHours: number;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

const EXAMPLE_CONDITION = {
  all: [
    { field: 'nps', op: 'lte', value: 6 },
    { field: 'touchpoint', op: 'eq', value: 'billing' },
  ],
};

const ROUTING_KINDS: readonly { to: RoutingStep['to']; label: string }[] = [
  { to: 'person', label: 'A person' },
  { to: 'team', label: 'A team (round-robin)' },
  { to: 'touchpointTeam', label: 'The team owning the touchpoint' },
  { to: 'accountOwner', label: 'The customer’s account owner' },
];

/** One routing step in words. */
const describeStep = (step: RoutingStep): string => {
  switch (step.to) {
    case 'person':
      return step.owner;
    case 'team':
      return `team ${step.team}`;
    case 'touchpointTeam':
      return 'the touchpoint’s team';
    case 'accountOwner':
      return `account owner (attributes.${step.attribute ?? 'accountOwner'})`;
    default:
      return JSON.stringify(step);
  }
};

const describeRouting = (routing: RoutingStep[]): string =>
  routing.length === 0 ? 'Unassigned queue' : routing.map(describeStep).join(', else ');

const hours = (value: number) =>
  value >= 1 ? `${formatNumber(value, Number.isInteger(value) ? 0 : 2)} h` : `${Math.round(value * 3600)} s`;

// ----------------------------------------------------------------------------- the editor

/** A routing step while edited: every kind's value kept, so switching kinds loses nothing. */
interface StepDraft {
  key: number;
  to: RoutingStep['to'];
  owner: string;
  team: string;
  attribute: string;
}

let nextKey = 1;
const toDraft = (step: RoutingStep): StepDraft => ({
  key: nextKey++,
  to: step.to,
  owner: step.to === 'person' ? step.owner : '',
  team: step.to === 'team' ? step.team : '',
  attribute: step.to === 'accountOwner' ? (step.attribute ?? '') : '',
});
const fromDraft = (step: StepDraft): RoutingStep => {
  switch (step.to) {
    case 'person':
      return { to: 'person', owner: step.owner.trim() };
    case 'team':
      return { to: 'team', team: step.team.trim() };
    case 'touchpointTeam':
      return { to: 'touchpointTeam' };
    default:
      return step.attribute.trim()
        ? { to: 'accountOwner', attribute: step.attribute.trim() }
        : { to: 'accountOwner' };
  }
};

const RoutingEditor = ({
  steps,
  onChange,
  people,
  teams,
}: {
  steps: StepDraft[];
  onChange: (steps: StepDraft[]) => void;
  people: string[];
  teams: string[];
}) => {
  const ids = useId();
  const update = (key: number, change: Partial<StepDraft>) =>
    onChange(steps.map((step) => (step.key === key ? { ...step, ...change } : step)));
  const move = (index: number, by: number) => {
    const next = [...steps];
    const [step] = next.splice(index, 1);
    if (step) next.splice(index + by, 0, step);
    onChange(next);
  };
  return (
    <fieldset className="settings-fieldset">
      <legend>Routing: who gets the case</legend>
      <p className="settings-hint">
        The first step that names somebody wins; with no step (or none that applies) the case waits in the
        unassigned queue.
      </p>
      <datalist id={`${ids}-people`}>
        {people.map((email) => (
          <option key={email} value={email} />
        ))}
      </datalist>
      <datalist id={`${ids}-teams`}>
        {teams.map((team) => (
          <option key={team} value={team} />
        ))}
      </datalist>
      {steps.length === 0 ? (
        <p className="muted">No routing: cases go to the unassigned queue.</p>
      ) : (
        <ol className="settings-steps">
          {steps.map((step, index) => {
            const n = index + 1;
            return (
              <li key={step.key} className="settings-step">
                <label htmlFor={`${ids}-${step.key}-to`}>
                  Step {n}
                  <select
                    id={`${ids}-${step.key}-to`}
                    value={step.to}
                    onChange={(event) => update(step.key, { to: event.target.value as RoutingStep['to'] })}
                  >
                    {ROUTING_KINDS.map((kind) => (
                      <option key={kind.to} value={kind.to}>
                        {kind.label}
                      </option>
                    ))}
                  </select>
                </label>
                {step.to === 'person' && (
                  <label htmlFor={`${ids}-${step.key}-owner`}>
                    E-mail of the person
                    <input
                      id={`${ids}-${step.key}-owner`}
                      type="email"
                      list={`${ids}-people`}
                      value={step.owner}
                      onChange={(event) => update(step.key, { owner: event.target.value })}
                    />
                  </label>
                )}
                {step.to === 'team' && (
                  <label htmlFor={`${ids}-${step.key}-team`}>
                    Team
                    <input
                      id={`${ids}-${step.key}-team`}
                      list={`${ids}-teams`}
                      value={step.team}
                      onChange={(event) => update(step.key, { team: event.target.value })}
                    />
                  </label>
                )}
                {step.to === 'accountOwner' && (
                  <label htmlFor={`${ids}-${step.key}-attribute`}>
                    Customer attribute with the owner
                    <input
                      id={`${ids}-${step.key}-attribute`}
                      placeholder="accountOwner"
                      value={step.attribute}
                      onChange={(event) => update(step.key, { attribute: event.target.value })}
                    />
                  </label>
                )}
                <div className="settings-inline settings-step-actions">
                  <button
                    type="button"
                    className="secondary"
                    disabled={index === 0}
                    onClick={() => move(index, -1)}
                  >
                    Up<span className="visually-hidden"> (step {n})</span>
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    disabled={index === steps.length - 1}
                    onClick={() => move(index, 1)}
                  >
                    Down<span className="visually-hidden"> (step {n})</span>
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => onChange(steps.filter((other) => other.key !== step.key))}
                  >
                    Remove<span className="visually-hidden"> step {n}</span>
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      <button
        type="button"
        className="secondary"
        disabled={steps.length >= 10}
        onClick={() => onChange([...steps, toDraft({ to: 'touchpointTeam' })])}
      >
        Add a routing step
      </button>
    </fieldset>
  );
};

const ConditionHelp = () => (
  <details className="settings-help">
    <summary>How to write a condition</summary>
    <ul>
      <li>
        <code>{'{"all": [...]}'}</code>, <code>{'{"any": [...]}'}</code>, <code>{'{"not": ...}'}</code>: and,
        or, not.
      </li>
      <li>
        <code>{'{"field": "nps", "op": "lte", "value": 6}'}</code>: ops <code>eq</code>, <code>ne</code>,{' '}
        <code>lt</code>, <code>lte</code>, <code>gt</code>, <code>gte</code>, <code>in</code> (value is a
        list), <code>contains</code>, <code>matches</code> (a regular expression, case ignored).
      </li>
      <li>
        Feedback fields: <code>nps</code>, <code>csat</code>, <code>ces</code>, <code>experienceRating</code>{' '}
        (1 disastrous … 5 fabulous), <code>text</code>, <code>source</code>, <code>channel</code>,{' '}
        <code>touchpoint</code>. Interaction fields: <code>waitSeconds</code>, <code>handleSeconds</code>,{' '}
        <code>transfers</code>, <code>resolved</code>, <code>outcome</code>, <code>team</code>,{' '}
        <code>agent</code>. Event fields: <code>eventType</code>, <code>amount</code>. Customer fields:{' '}
        <code>segment</code>, <code>value</code>, <code>lifecycleStage</code>, <code>personalityType</code>.
      </li>
      <li>
        Patterns: <code>{'{"pattern": "repeatContact", "count": 3, "withinDays": 7}'}</code>,{' '}
        <code>{'{"pattern": "transfers", "atLeast": 2}'}</code>,{' '}
        <code>{'{"pattern": "longWait", "overSeconds": 600}'}</code>,{' '}
        <code>{'{"pattern": "promoterTurnedDetractor"}'}</code>.
      </li>
      <li>A record without the field matches no comparison on it, not even ne; use not for that.</li>
    </ul>
  </details>
);

interface RuleDraft {
  name: string;
  description: string;
  severity: Severity;
  maxAgeHours: string;
  active: boolean;
  condition: string;
  routing: StepDraft[];
}

const draftOf = (rule: Rule | null): RuleDraft => ({
  name: rule?.name ?? '',
  description: rule?.description ?? '',
  severity: rule?.severity ?? 'high',
  maxAgeHours: String(rule?.maxAgeHours ?? 168),
  active: rule?.active ?? true,
  condition: JSON.stringify(rule?.condition ?? EXAMPLE_CONDITION, null, 2),
  routing: (rule?.routing ?? []).map(toDraft),
});

const RuleEditor = ({
  rule,
  onSaved,
  onCancel,
}: {
  rule: Rule | null;
  onSaved: () => void;
  onCancel: () => void;
}) => {
  const ids = useId();
  const heading = useRef<HTMLHeadingElement>(null);
  const [draft, setDraft] = useState<RuleDraft>(() => draftOf(rule));
  // Opened from the list below: bring the editor into view and start there.
  useEffect(() => {
    heading.current?.scrollIntoView({ block: 'start' });
    heading.current?.focus();
  }, []);
  const action = useAction();
  const users = useApi<{ items: { email: string }[] }>('/users');
  const settings = useApi<{ teams: Record<string, unknown> }>('/closed-loop/settings');
  const people = users.data?.items.map((user) => user.email) ?? [];
  const teams = Object.keys(settings.data?.teams ?? {});
  const title = rule ? `Edit “${rule.name}”` : 'New alert rule';
  const failure = rule ? 'The rule was not saved' : 'The rule was not created';

  const errorOf = (error: unknown) => (error instanceof ApiError ? error : null);
  const apiError = errorOf(action.error);
  const conditionProblem = apiError?.details.some((detail) => detail.path.startsWith('condition')) ?? false;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseJson(draft.condition);
    if (!parsed.ok) {
      action.setError(
        invalidInput('The condition is not valid JSON.', [
          { path: `condition${parsed.path ? ` (${parsed.path})` : ''}`, message: parsed.message },
        ]),
      );
      return;
    }
    const age = draft.maxAgeHours.trim();
    const body = {
      name: draft.name,
      description: draft.description.trim() || null,
      severity: draft.severity,
      condition: parsed.value,
      routing: draft.routing.map(fromDraft),
      // Empty: the API's default (168 hours).
      ...(age === '' ? {} : { maxAgeHours: Number(age) }),
      active: draft.active,
    };
    const saved = await action.run(() =>
      rule
        ? api<Rule>(`/alert-rules/${rule.id}`, { method: 'PUT', body })
        : api<Rule>('/alert-rules', { method: 'POST', body }),
    );
    if (saved) onSaved();
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`} ref={heading} tabIndex={-1}>
        {title}
      </h3>
      <form className="settings-form" onSubmit={submit} noValidate>
        <div className="settings-form-row">
          <label htmlFor={`${ids}-name`}>
            Name (required)
            <input
              id={`${ids}-name`}
              required
              maxLength={200}
              value={draft.name}
              onChange={(event) => setDraft({ ...draft, name: event.target.value })}
              className="settings-wide"
            />
          </label>
          <label htmlFor={`${ids}-severity`}>
            Severity
            <select
              id={`${ids}-severity`}
              value={draft.severity}
              onChange={(event) => setDraft({ ...draft, severity: event.target.value as Severity })}
            >
              {SEVERITIES.map((severity) => (
                <option key={severity} value={severity}>
                  {severity}
                </option>
              ))}
            </select>
          </label>
          <label htmlFor={`${ids}-age`} className="settings-narrow">
            Ignore records older than (hours)
            <input
              id={`${ids}-age`}
              type="number"
              min={0}
              step="any"
              inputMode="decimal"
              className="settings-number"
              value={draft.maxAgeHours}
              aria-describedby={`${ids}-age-hint`}
              onChange={(event) => setDraft({ ...draft, maxAgeHours: event.target.value })}
            />
            <span id={`${ids}-age-hint`} className="settings-hint">
              maxAgeHours; keeps history imports quiet (default 168 = 7 days).
            </span>
          </label>
        </div>
        <label htmlFor={`${ids}-description`}>
          Description
          <textarea
            id={`${ids}-description`}
            rows={2}
            maxLength={2000}
            value={draft.description}
            onChange={(event) => setDraft({ ...draft, description: event.target.value })}
          />
        </label>
        <label className="settings-check">
          <input
            type="checkbox"
            checked={draft.active}
            onChange={(event) => setDraft({ ...draft, active: event.target.checked })}
          />
          <span>Active (evaluated on every new record)</span>
        </label>
        <label htmlFor={`${ids}-condition`}>
          Condition (JSON)
          <textarea
            id={`${ids}-condition`}
            className="settings-code"
            rows={12}
            spellCheck={false}
            value={draft.condition}
            aria-invalid={conditionProblem || undefined}
            aria-describedby={`${ids}-errors`}
            onChange={(event) => setDraft({ ...draft, condition: event.target.value })}
          />
        </label>
        <div id={`${ids}-errors`}>
          {action.error ? <ActionError error={action.error} title={failure} /> : null}
        </div>
        <ConditionHelp />
        <RoutingEditor
          steps={draft.routing}
          onChange={(routing) => setDraft({ ...draft, routing })}
          people={people}
          teams={teams}
        />
        <div className="form-actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Saving…' : rule ? 'Save rule' : 'Create rule'}
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </section>
  );
};

/** ?rule=new or ?rule=ID: the editor, so an open editor can be bookmarked and Back closes it. */
const EditRule = ({ which, onDone }: { which: string; onDone: (saved: boolean) => void }) => {
  const id = which === 'new' ? null : Number(which);
  const rule = useApi<Rule>(id && Number.isInteger(id) && id > 0 ? `/alert-rules/${id}` : null);
  if (which !== 'new' && !(id && Number.isInteger(id) && id > 0)) {
    return (
      <ErrorMessage
        title="No such rule"
        error={new ApiError(404, 'not_found', `“${which}” is not an alert rule.`)}
        onRetry={() => onDone(false)}
      />
    );
  }
  if (id === null)
    return <RuleEditor rule={null} onSaved={() => onDone(true)} onCancel={() => onDone(false)} />;
  if (rule.error) return <ErrorMessage error={rule.error} onRetry={rule.reload} />;
  if (!rule.data) return <Loading label="Loading the rule…" />;
  return (
    <RuleEditor
      key={rule.data.id}
      rule={rule.data}
      onSaved={() => onDone(true)}
      onCancel={() => onDone(false)}
    />
  );
};

export default function SettingsAlertRules() {
  const [params, setParams] = useSearchParams();
  const which = params.get('rule');
  const rules = useApi<Rule[]>('/alert-rules');
  const [deactivating, setDeactivating] = useState<Rule | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const activate = useAction();

  const closeEditor = (saved: boolean) => {
    setParams((previous) => {
      const next = new URLSearchParams(previous);
      next.delete('rule');
      return next;
    });
    if (saved) {
      setNotice('The rule was saved.');
      rules.reload();
    }
  };

  const reactivate = async (rule: Rule) => {
    setNotice(null);
    const { id, name, description, condition, severity, routing, maxAgeHours } = rule;
    const saved = await activate.run(() =>
      api<Rule>(`/alert-rules/${id}`, {
        method: 'PUT',
        body: { name, description, condition, severity, routing, maxAgeHours, active: true },
      }),
    );
    if (saved) {
      setNotice(`“${name}” is active again.`);
      rules.reload();
    }
  };

  return (
    <>
      {which ? (
        <EditRule which={which} onDone={closeEditor} />
      ) : (
        <p>
          <Link href="/settings/alert-rules?rule=new" className="settings-button-link">
            New alert rule
          </Link>
        </p>
      )}

      <h3>Rules of this workspace</h3>
      <p role="status" className="settings-status">
        {notice ?? ''}
      </p>
      {activate.error ? <ActionError error={activate.error} title="The rule was not activated" /> : null}
      <Loadable state={rules} label="Loading the alert rules…">
        {(items) =>
          items.length === 0 ? (
            <Empty title="No alert rules yet">
              Without a rule no alert is raised and no case opened. Create the first one, e.g. for detractors
              at billing.
            </Empty>
          ) : (
            <TableScroll label="Table of alert rules">
              <table className="data-table">
                <caption className="visually-hidden">Alert rules, oldest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Severity</th>
                    <th scope="col">Status</th>
                    <th scope="col">Routing</th>
                    <th scope="col">Evaluated on</th>
                    <th scope="col">Changed</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((rule) => (
                    <tr key={rule.id} className={rule.active ? undefined : 'settings-inactive'}>
                      <td>
                        {rule.name}
                        {rule.description && <span className="cell-margin">{rule.description}</span>}
                      </td>
                      <td>
                        <span className={`settings-severity settings-severity-${rule.severity}`}>
                          {rule.severity}
                        </span>
                      </td>
                      <td>{rule.active ? 'Active' : 'Inactive'}</td>
                      <td>{describeRouting(rule.routing)}</td>
                      <td>
                        {rule.kinds.join(', ')}
                        <span className="cell-margin">up to {hours(rule.maxAgeHours)} old</span>
                      </td>
                      <td>{formatDateTime(rule.updatedAt)}</td>
                      <td>
                        <div className="settings-inline">
                          <Link
                            href={`/settings/alert-rules?rule=${rule.id}`}
                            className="settings-button-link secondary"
                          >
                            Edit<span className="visually-hidden"> {rule.name}</span>
                          </Link>
                          {rule.active ? (
                            <button
                              type="button"
                              className="secondary danger-outline"
                              onClick={() => {
                                setNotice(null);
                                setDeactivating(rule);
                              }}
                            >
                              Deactivate<span className="visually-hidden"> {rule.name}</span>
                            </button>
                          ) : (
                            <button
                              type="button"
                              className="secondary"
                              disabled={activate.busy}
                              onClick={() => reactivate(rule)}
                            >
                              Activate<span className="visually-hidden"> {rule.name}</span>
                            </button>
                          )}
                        </div>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Loadable>

      {deactivating && (
        <ConfirmDialog
          title={`Deactivate “${deactivating.name}”?`}
          confirmLabel="Deactivate rule"
          onConfirm={() => api(`/alert-rules/${deactivating.id}`, { method: 'DELETE' })}
          onDone={() => {
            setNotice(`“${deactivating.name}” was deactivated.`);
            rules.reload();
          }}
          onClose={() => setDeactivating(null)}
        >
          <p>
            New records no longer raise alerts from this rule. Its alerts and cases stay; it can be activated
            again later.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
