import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api';
import { formatNumber, humanize } from '../format';
import type { MetricsResponse } from '../types';
import { useApi } from '../useApi';
import { Empty } from './Empty';
import { ErrorMessage } from './ErrorMessage';
import { Loadable } from './Loadable';
import {
  CheckboxField,
  fieldId,
  NumberField,
  SelectField,
  SurveyFormContext,
  TextField,
} from './SurveyFields';
import {
  CHANNELS,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
  type Problem,
  SEND_CHANNELS,
  type SendChannel,
  type SurveyTrigger,
} from './SurveyModel';
import { TableScroll } from './TableScroll';

/** Which interactions invite to a survey (or how often customers are asked), by which channel, when. */

const SEND_LABELS: Record<SendChannel, string> = {
  email: 'E-mail',
  sms: 'SMS',
  voice: 'Voice call',
  webhook: 'Webhook (your own system)',
};

/** Paths of the API's errors that the form shows next to a field. */
const FIELD_PATHS = [
  'kind',
  'channel',
  'match.channel',
  'match.touchpoint',
  'match.outcome',
  'match.segment',
  'match.team',
  'match.resolved',
  'delaySeconds',
  'samplePercent',
  'maxAgeHours',
  'everyDays',
  'active',
];

type Unit = 'minutes' | 'hours' | 'days';
const UNIT_SECONDS: Record<Unit, number> = { minutes: 60, hours: 3600, days: 86_400 };

interface TriggerForm {
  kind: 'interaction' | 'relationship';
  channel: SendChannel;
  matchChannel: string[];
  touchpoint: string;
  outcome: string;
  segment: string;
  team: string;
  lifecycleStage: string[];
  personalityType: string[];
  resolved: 'any' | 'yes' | 'no';
  delay: number;
  delayUnit: Unit;
  samplePercent: number;
  maxAgeHours: number;
  everyDays: number;
  active: boolean;
}

const list = (value: string[] | boolean | undefined) => (Array.isArray(value) ? value : []);

const formOf = (trigger: SurveyTrigger | null): TriggerForm => {
  const delay = trigger?.delaySeconds ?? 3600;
  const delayUnit: Unit =
    delay > 0 && delay % 86_400 === 0 ? 'days' : delay % 3600 === 0 ? 'hours' : 'minutes';
  const match = trigger?.match ?? {};
  return {
    kind: trigger?.kind ?? 'interaction',
    channel: trigger?.channel ?? 'email',
    matchChannel: list(match.channel),
    touchpoint: list(match.touchpoint).join(', '),
    outcome: list(match.outcome).join(', '),
    segment: list(match.segment).join(', '),
    team: list(match.team).join(', '),
    lifecycleStage: list(match.lifecycleStage),
    personalityType: list(match.personalityType),
    resolved: match.resolved === true ? 'yes' : match.resolved === false ? 'no' : 'any',
    delay: delay / UNIT_SECONDS[delayUnit],
    delayUnit,
    samplePercent: trigger?.samplePercent ?? 100,
    maxAgeHours: trigger?.maxAgeHours ?? 168,
    everyDays: trigger?.everyDays ?? 90,
    active: trigger?.active ?? true,
  };
};

const split = (value: string) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);

const bodyOf = (form: TriggerForm) => {
  if (form.kind === 'relationship') {
    return {
      kind: form.kind,
      channel: form.channel,
      everyDays: form.everyDays,
      samplePercent: form.samplePercent,
      active: form.active,
    };
  }
  const match: Record<string, string[] | boolean> = {};
  if (form.matchChannel.length) match.channel = form.matchChannel;
  if (split(form.touchpoint).length) match.touchpoint = split(form.touchpoint);
  if (split(form.outcome).length) match.outcome = split(form.outcome);
  if (split(form.segment).length) match.segment = split(form.segment);
  if (split(form.team).length) match.team = split(form.team);
  if (form.lifecycleStage.length) match.lifecycleStage = form.lifecycleStage;
  if (form.personalityType.length) match.personalityType = form.personalityType;
  if (form.resolved !== 'any') match.resolved = form.resolved === 'yes';
  return {
    kind: form.kind,
    channel: form.channel,
    match,
    delaySeconds: Math.round(form.delay * UNIT_SECONDS[form.delayUnit]),
    samplePercent: form.samplePercent,
    maxAgeHours: form.maxAgeHours,
    active: form.active,
  };
};

const duration = (seconds: number) => {
  if (seconds === 0) return 'at once';
  if (seconds % 86_400 === 0) return `${formatNumber(seconds / 86_400)} d`;
  if (seconds % 3600 === 0) return `${formatNumber(seconds / 3600)} h`;
  return `${formatNumber(Math.round(seconds / 60))} min`;
};

const MATCH_LABELS: Record<string, string> = {
  channel: 'Channel',
  touchpoint: 'Touchpoint',
  outcome: 'Outcome',
  segment: 'Segment',
  team: 'Team',
  lifecycleStage: 'Stage',
  personalityType: 'Personality',
};

const matchSummary = (trigger: SurveyTrigger) => {
  if (trigger.kind === 'relationship') return `Every customer, every ${trigger.everyDays} days`;
  const parts = Object.entries(trigger.match).map(([key, value]) =>
    key === 'resolved'
      ? value
        ? 'resolved'
        : 'not resolved'
      : `${MATCH_LABELS[key] ?? key}: ${list(value).map(humanize).join(', ')}`,
  );
  return parts.length ? parts.join('; ') : 'Every contact';
};

/** A group of checkboxes for a list value (channels, stages, personalities). */
const Checks = ({
  legend,
  values,
  chosen,
  onChange,
  path,
}: {
  legend: string;
  values: readonly string[];
  chosen: string[];
  onChange: (chosen: string[]) => void;
  path: string;
}) => (
  <fieldset className="sq-values" id={fieldId(path)}>
    <legend>{legend}</legend>
    {values.map((value) => (
      <label key={value} className="sq-inline-check">
        <input
          type="checkbox"
          checked={chosen.includes(value)}
          onChange={(event) =>
            onChange(event.target.checked ? [...chosen, value] : chosen.filter((other) => other !== value))
          }
        />
        {humanize(value)}
      </label>
    ))}
  </fieldset>
);

const TriggerEditor = ({
  surveyId,
  trigger,
  touchpoints,
  onDone,
}: {
  surveyId: number;
  trigger: SurveyTrigger | null;
  touchpoints: string[];
  onDone: (saved: boolean) => void;
}) => {
  const [form, setForm] = useState<TriggerForm>(() => formOf(trigger));
  const [errors, setErrors] = useState<Problem[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<TriggerForm>) => setForm((previous) => ({ ...previous, ...patch }));
  const clear = (path: string) => setErrors((list) => list.filter((error) => !error.path.startsWith(path)));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      const body = bodyOf(form);
      if (trigger) await api(`/survey-triggers/${trigger.id}`, { method: 'PUT', body });
      else await api(`/surveys/${surveyId}/triggers`, { method: 'POST', body });
      onDone(true);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400 && error.details.length) {
        // delaySeconds is edited as a number and a unit.
        setErrors(
          error.details.map((detail) => ({
            path: detail.path.replace(/^delaySeconds/, 'delay').replace(/^match\.channel.*/, 'match.channel'),
            message: detail.message,
          })),
        );
      }
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  /** Field errors show at their fields; the message below lists only the others. */
  const shown = (error: unknown) =>
    error instanceof ApiError && error.status === 400 && error.details.length
      ? new ApiError(
          400,
          error.code,
          'Change the fields marked above.',
          error.details.filter((detail) => !FIELD_PATHS.some((path) => detail.path.startsWith(path))),
        )
      : error;
  const matchErrors = (path: string) => errors.filter((error) => error.path.startsWith(path));
  const title = trigger ? `Change trigger ${trigger.id}` : 'New trigger';
  return (
    <SurveyFormContext.Provider value={{ errors, clear, language: 'en', languages: ['en'], readOnly: false }}>
      <form
        className="panel sq-trigger-form"
        onSubmit={submit}
        aria-labelledby="trigger-form-title"
        noValidate
      >
        <h3 id="trigger-form-title">{title}</h3>
        <div className="sq-row">
          <SelectField
            label="Ask"
            path="kind"
            value={form.kind}
            options={[
              { value: 'interaction', label: 'After a contact (transactional)' },
              { value: 'relationship', label: 'Every customer periodically (relationship)' },
            ]}
            onChange={(kind) => set({ kind })}
          />
          <SelectField
            label="Send the invitation by"
            path="channel"
            value={form.channel}
            options={SEND_CHANNELS.map((value) => ({ value, label: SEND_LABELS[value] }))}
            onChange={(channel) => set({ channel })}
          />
        </div>
        {form.kind === 'interaction' ? (
          <>
            <p className="sq-hint">
              Which contacts invite: every condition you fill must hold (a list: any of its values). Leave all
              empty to invite after every contact.
            </p>
            <Checks
              legend="Contact channel"
              path="match.channel"
              values={CHANNELS}
              chosen={form.matchChannel}
              onChange={(matchChannel) => set({ matchChannel })}
            />
            {matchErrors('match.channel').map((error) => (
              <p key={error.message} className="field-errors">
                {error.message}
              </p>
            ))}
            <div className="sq-row sq-row-wide">
              <TextField
                label="Touchpoints (comma-separated)"
                path="match.touchpoint"
                value={form.touchpoint}
                onChange={(touchpoint) => set({ touchpoint })}
              />
              <TextField
                label="Outcomes (comma-separated)"
                path="match.outcome"
                value={form.outcome}
                onChange={(outcome) => set({ outcome })}
              />
              <TextField
                label="Segments (comma-separated)"
                path="match.segment"
                value={form.segment}
                onChange={(segment) => set({ segment })}
              />
              <TextField
                label="Teams (comma-separated)"
                path="match.team"
                value={form.team}
                onChange={(team) => set({ team })}
              />
            </div>
            {touchpoints.length > 0 && (
              <p className="sq-hint">Touchpoints in the data: {touchpoints.slice(0, 20).join(', ')}.</p>
            )}
            <Checks
              legend="Customer's life-cycle stage at the contact"
              path="match.lifecycleStage"
              values={LIFECYCLE_STAGES}
              chosen={form.lifecycleStage}
              onChange={(lifecycleStage) => set({ lifecycleStage })}
            />
            <Checks
              legend="Customer's personality type"
              path="match.personalityType"
              values={PERSONALITY_TYPES}
              chosen={form.personalityType}
              onChange={(personalityType) => set({ personalityType })}
            />
            <div className="sq-row">
              <SelectField
                label="Resolved"
                path="match.resolved"
                value={form.resolved}
                options={[
                  { value: 'any', label: 'Either' },
                  { value: 'yes', label: 'Only resolved contacts' },
                  { value: 'no', label: 'Only unresolved contacts' },
                ]}
                onChange={(resolved) => set({ resolved })}
              />
              <NumberField
                label="Wait before inviting"
                path="delay"
                value={form.delay}
                min={0}
                onChange={(delay) => set({ delay: delay ?? 0 })}
              />
              <SelectField
                label="Unit"
                path="delayUnit"
                value={form.delayUnit}
                options={[
                  { value: 'minutes', label: 'minutes' },
                  { value: 'hours', label: 'hours' },
                  { value: 'days', label: 'days' },
                ]}
                onChange={(delayUnit) => set({ delayUnit })}
              />
            </div>
            <div className="sq-row">
              <NumberField
                label="Invite this share (%)"
                hint="A stable sample: the same contact is always drawn or not."
                path="samplePercent"
                value={form.samplePercent}
                min={0.1}
                max={100}
                step={0.1}
                onChange={(samplePercent) => set({ samplePercent: samplePercent ?? 100 })}
              />
              <NumberField
                label="Ignore contacts older than (hours)"
                hint="So importing history asks nobody."
                path="maxAgeHours"
                value={form.maxAgeHours}
                min={1}
                max={2160}
                onChange={(maxAgeHours) => set({ maxAgeHours: maxAgeHours ?? 168 })}
              />
            </div>
          </>
        ) : (
          <div className="sq-row">
            <NumberField
              label="Ask each customer every (days)"
              path="everyDays"
              value={form.everyDays}
              min={1}
              max={3650}
              onChange={(everyDays) => set({ everyDays: everyDays ?? 90 })}
            />
            <NumberField
              label="Invite this share (%)"
              path="samplePercent"
              value={form.samplePercent}
              min={0.1}
              max={100}
              step={0.1}
              onChange={(samplePercent) => set({ samplePercent: samplePercent ?? 100 })}
            />
          </div>
        )}
        <CheckboxField
          label="Active (invites while the survey is active)"
          path="active"
          checked={form.active}
          onChange={(active) => set({ active })}
        />
        {failure !== null && <ErrorMessage error={shown(failure)} title="The trigger was not saved" />}
        <div className="form-actions">
          <button type="submit" disabled={busy}>
            {busy ? 'Saving…' : trigger ? 'Save trigger' : 'Add trigger'}
          </button>
          <button type="button" className="secondary" onClick={() => onDone(false)}>
            Cancel
          </button>
        </div>
      </form>
    </SurveyFormContext.Provider>
  );
};

export const SurveyTriggers = ({ surveyId, canEdit }: { surveyId: number; canEdit: boolean }) => {
  const triggers = useApi<SurveyTrigger[]>(`/surveys/${surveyId}/triggers`);
  const known = useApi<MetricsResponse>(canEdit ? '/metrics' : null, {
    measures: 'contacts',
    by: 'touchpoint',
    minN: 1,
  });
  const touchpoints = (known.data?.rows ?? [])
    .map((row) => row.group.touchpoint)
    .filter((value): value is string => !!value)
    .sort();
  const [editing, setEditing] = useState<SurveyTrigger | 'new' | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);

  const toggle = async (trigger: SurveyTrigger) => {
    setFailure(null);
    try {
      const body = bodyOf({ ...formOf(trigger), active: !trigger.active });
      await api(`/survey-triggers/${trigger.id}`, { method: 'PUT', body });
      setStatus(`Trigger ${trigger.id} ${trigger.active ? 'stopped' : 'started'}.`);
      triggers.reload();
    } catch (error) {
      setFailure(error);
    }
  };

  return (
    <div>
      <p className="sq-hint">
        Triggers are evaluated when interactions arrive; the contact rules of the workspace apply when each
        invitation falls due. A trigger cannot be deleted, only stopped.
      </p>
      <p role="status" className="sq-status">
        {status}
      </p>
      {failure !== null && <ErrorMessage error={failure} title="The trigger was not changed" />}
      <Loadable state={triggers} label="Loading the triggers…">
        {(items) =>
          items.length === 0 ? (
            <Empty title="No triggers yet">
              Nobody is invited to this survey automatically.{' '}
              {canEdit ? 'Add a trigger to invite after contacts or periodically.' : ''}
            </Empty>
          ) : (
            <TableScroll label="Triggers of this survey">
              <table className="data-table">
                <caption>Triggers of this survey</caption>
                <thead>
                  <tr>
                    <th scope="col">Trigger</th>
                    <th scope="col">Who is invited</th>
                    <th scope="col">By</th>
                    <th scope="col" className="number">
                      Wait
                    </th>
                    <th scope="col" className="number">
                      Sample
                    </th>
                    <th scope="col">Status</th>
                    {canEdit && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {items.map((trigger) => (
                    <tr key={trigger.id}>
                      <th scope="row">
                        {trigger.id}
                        <span className="cell-margin">
                          {trigger.kind === 'relationship' ? 'Relationship' : 'After a contact'}
                        </span>
                      </th>
                      <td>{matchSummary(trigger)}</td>
                      <td>{SEND_LABELS[trigger.channel] ?? trigger.channel}</td>
                      <td className="number">
                        {trigger.kind === 'relationship' ? '–' : duration(trigger.delaySeconds)}
                      </td>
                      <td className="number">{formatNumber(trigger.samplePercent, 0)}%</td>
                      <td>
                        <span
                          className={`sq-badge ${trigger.active ? 'sq-badge-active' : 'sq-badge-paused'}`}
                        >
                          {trigger.active ? 'Active' : 'Stopped'}
                        </span>
                      </td>
                      {canEdit && (
                        <td className="sq-actions-cell">
                          <button
                            type="button"
                            className="secondary small"
                            aria-label={`Change trigger ${trigger.id}`}
                            onClick={() => setEditing(trigger)}
                          >
                            Change
                          </button>
                          <button
                            type="button"
                            className="secondary small"
                            aria-label={`${trigger.active ? 'Stop' : 'Start'} trigger ${trigger.id}`}
                            onClick={() => toggle(trigger)}
                          >
                            {trigger.active ? 'Stop' : 'Start'}
                          </button>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Loadable>
      {canEdit && editing === null && (
        <button type="button" className="sq-add" onClick={() => setEditing('new')}>
          Add a trigger
        </button>
      )}
      {canEdit && editing !== null && (
        <TriggerEditor
          key={editing === 'new' ? 'new' : editing.id}
          surveyId={surveyId}
          trigger={editing === 'new' ? null : editing}
          touchpoints={touchpoints}
          onDone={(saved) => {
            if (saved) {
              setStatus(editing === 'new' ? 'Trigger added.' : `Trigger ${editing.id} saved.`);
              triggers.reload();
            }
            setEditing(null);
          }}
        />
      )}
    </div>
  );
};
