import { type FormEvent, useState } from 'react';
import { ApiError, api } from '../api';
import { useApi } from '../useApi';
import { ErrorMessage } from './ErrorMessage';
import { Loadable } from './Loadable';
import {
  CheckboxField,
  FieldErrors,
  fieldId,
  NumberField,
  SurveyFormContext,
  TextField,
  useFieldErrors,
  useSurveyForm,
} from './SurveyFields';
import type { Problem, SurveySettings } from './SurveyModel';

/**
 * The workspace's contact-fatigue rules (the contact budget), shared by every survey. The API shows
 * them to administrators only (GET /api/v1/survey-settings also holds the channel providers).
 */

/** Settings the form shows next to a field (their errors show there). */
const SHOWN = [
  'minDaysBetweenInvitations',
  'touchpointQuarantineDays',
  'duplicateWindowHours',
  'quietHours',
  'defaultTimeZone',
];

const timeZones = (): string[] => {
  try {
    return (Intl as unknown as { supportedValuesOf: (key: string) => string[] }).supportedValuesOf(
      'timeZone',
    );
  } catch {
    return [];
  }
};

const RulesForm = ({ loaded }: { loaded: SurveySettings }) => {
  const [settings, setSettings] = useState(loaded);
  const [form, setForm] = useState(loaded);
  const [errors, setErrors] = useState<Problem[]>([]);
  const [failure, setFailure] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<SurveySettings>) => {
    setStatus(null);
    setForm((previous) => ({ ...previous, ...patch }));
  };
  const clear = (path: string) => setErrors((list) => list.filter((error) => !error.path.startsWith(path)));
  const changed = JSON.stringify(form) !== JSON.stringify(settings);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      // The whole settings go back: fields left out would take their defaults.
      const saved = await api<SurveySettings>('/survey-settings', { method: 'PUT', body: form });
      setStatus('The contact rules are saved; they apply to every survey from now on.');
      setSettings(saved);
      setForm(saved);
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) setErrors(error.details);
      setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const zones = timeZones();
  return (
    <SurveyFormContext.Provider value={{ errors, clear, language: 'en', languages: ['en'], readOnly: false }}>
      <form onSubmit={submit} aria-label="Contact rules" noValidate>
        <div className="sq-row">
          <NumberField
            label="At most one invitation per customer in (days)"
            hint="Across all surveys; 0: no limit."
            path="minDaysBetweenInvitations"
            value={form.minDaysBetweenInvitations}
            min={0}
            max={365}
            onChange={(value) => set({ minDaysBetweenInvitations: value ?? 0 })}
          />
          <NumberField
            label="Not again about the same touchpoint for (days)"
            hint="0: off."
            path="touchpointQuarantineDays"
            value={form.touchpointQuarantineDays}
            min={0}
            max={365}
            onChange={(value) => set({ touchpointQuarantineDays: value ?? 0 })}
          />
          <NumberField
            label="No duplicate of a survey within (hours)"
            hint="0: off."
            path="duplicateWindowHours"
            value={form.duplicateWindowHours}
            min={0}
            max={168}
            onChange={(value) => set({ duplicateWindowHours: value ?? 0 })}
          />
        </div>
        <CheckboxField
          label="Quiet hours: contact nobody between these local times (invitations wait)"
          path="quietHours"
          checked={form.quietHours !== null}
          onChange={(on) => set({ quietHours: on ? { start: '21:00', end: '08:00' } : null })}
        />
        <div className="sq-row">
          {form.quietHours && (
            <>
              <TimeField
                label="From"
                path="quietHours.start"
                value={form.quietHours.start}
                onChange={(start) => form.quietHours && set({ quietHours: { ...form.quietHours, start } })}
              />
              <TimeField
                label="Until"
                path="quietHours.end"
                value={form.quietHours.end}
                onChange={(end) => form.quietHours && set({ quietHours: { ...form.quietHours, end } })}
              />
            </>
          )}
          <TextField
            label="Time zone of customers without one"
            hint="An IANA time zone, e.g. Europe/Berlin; customers' own come from attributes.timeZone."
            path="defaultTimeZone"
            list={zones.length > 0 ? 'survey-time-zones' : undefined}
            value={form.defaultTimeZone}
            onChange={(defaultTimeZone) => set({ defaultTimeZone })}
          />
        </div>
        {zones.length > 0 && (
          <datalist id="survey-time-zones">
            {zones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        )}
        {failure !== null && (
          <ErrorMessage
            title="The contact rules were not saved"
            error={
              failure instanceof ApiError && failure.status === 400 && failure.details.length
                ? new ApiError(
                    400,
                    failure.code,
                    'Change the fields marked above.',
                    failure.details.filter((detail) => !SHOWN.some((path) => detail.path.startsWith(path))),
                  )
                : failure
            }
          />
        )}
        <p role="status" className="sq-status">
          {status}
        </p>
        <div className="form-actions">
          <button type="submit" disabled={busy || !changed}>
            {busy ? 'Saving…' : 'Save contact rules'}
          </button>
          <button type="button" className="secondary" disabled={!changed} onClick={() => setForm(settings)}>
            Undo changes
          </button>
        </div>
      </form>
    </SurveyFormContext.Provider>
  );
};

const TimeField = ({
  label,
  path,
  value,
  onChange,
}: {
  label: string;
  path: string;
  value: string;
  onChange: (value: string) => void;
}) => {
  const { clear } = useSurveyForm();
  const errors = useFieldErrors(path);
  const id = fieldId(path);
  return (
    <div className={`sq-field${errors.length ? ' has-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="time"
        value={value}
        aria-describedby={errors.length ? `${id}-errors` : undefined}
        aria-invalid={errors.length ? true : undefined}
        onChange={(event) => {
          clear(path);
          onChange(event.target.value);
        }}
      />
      <FieldErrors path={path} id={`${id}-errors`} errors={errors} />
    </div>
  );
};

export const SurveyContactRules = ({ canEdit }: { canEdit: boolean }) => {
  const settings = useApi<SurveySettings>(canEdit ? '/survey-settings' : null);
  if (!canEdit) {
    return (
      <div className="empty">
        <p className="empty-title">Only administrators can see the contact rules</p>
        <p>
          They limit how often each customer is asked, across all surveys of the workspace: at most one
          invitation in a number of days, not again about the same touchpoint, no duplicates, and quiet hours.
        </p>
      </div>
    );
  }
  return (
    <>
      <p className="sq-hint">
        These rules hold for every survey and message of the workspace. An invitation that breaks one is not
        sent and is kept with its reason (contact budget, touchpoint quarantine, duplicate, opt-out).
      </p>
      <Loadable state={settings} label="Loading the contact rules…">
        {(loaded) => <RulesForm loaded={loaded} />}
      </Loadable>
    </>
  );
};
