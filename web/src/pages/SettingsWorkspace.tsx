import { type FormEvent, type ReactNode, useEffect, useId, useState } from 'react';
import { api } from '../api';
import { Loadable } from '../components/Loadable';
import { ActionError, invalidInput, parseJson, useAction } from '../components/SettingsKit';
import { TableScroll } from '../components/TableScroll';
import { formatNumber } from '../format';
import type { MetricsResponse } from '../types';
import { useApi } from '../useApi';

const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
type Severity = (typeof SEVERITIES)[number];

/** GET/PUT /api/v1/closed-loop/settings (src/closed-loop/settings.ts). */
interface ClosedLoopSettings {
  teams: Record<string, { members: string[]; lead?: string }>;
  touchpointTeams: Record<string, string>;
  rootCauses: string[];
  sla: Record<Severity, { firstResponseMinutes: number; resolveMinutes: number }>;
  businessHours: { timeZone: string; days: number[]; start: string; end: string } | null;
  escalateTo: string | null;
  valueTiers: [number, number];
  recoveryWindowDays: number;
  notifyOwners: boolean;
  messageTemplates: Record<string, { subject: string; body: string }>;
}

/** The options edited as JSON (everything but teams, touchpoint owners and SLAs). */
const OTHER_KEYS = [
  'rootCauses',
  'businessHours',
  'escalateTo',
  'valueTiers',
  'recoveryWindowDays',
  'notifyOwners',
  'messageTemplates',
] as const;

type Save = (part: Partial<ClosedLoopSettings>) => Promise<ClosedLoopSettings | undefined>;

/** A part of the settings with its own Save: the other parts are sent as last saved. */
const Part = ({
  title,
  saveLabel,
  intro,
  children,
  onSubmit,
  action,
  saved,
}: {
  title: string;
  /** The save button, e.g. "Save teams". */
  saveLabel: string;
  intro: ReactNode;
  children: ReactNode;
  onSubmit: () => void;
  action: ReturnType<typeof useAction>;
  saved: boolean;
}) => {
  const ids = useId();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit();
  };
  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>{title}</h3>
      <div className="muted settings-intro">{intro}</div>
      <form className="settings-form" onSubmit={submit} noValidate>
        {children}
        {action.error ? <ActionError error={action.error} title={`${title}: not saved`} /> : null}
        <div className="form-actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Saving…' : saveLabel}
          </button>
          <span role="status" className="settings-saved">
            {saved && !action.busy ? 'Saved.' : ''}
          </span>
        </div>
      </form>
    </section>
  );
};

/** Saves a part; "Saved." shows until the part is edited again. */
const usePart = (save: Save) => {
  const action = useAction();
  const [saved, setSaved] = useState(false);
  const submit = async (part: Partial<ClosedLoopSettings>) => {
    setSaved(false);
    const answer = await action.run(async () => {
      const result = await save(part);
      if (!result) throw new Error('not saved');
      return result;
    });
    if (answer) setSaved(true);
    return answer;
  };
  return { action, saved, setSaved, submit };
};

const splitList = (text: string) =>
  text
    .split(/[\n,;]+/)
    .map((item) => item.trim())
    .filter(Boolean);

// ----------------------------------------------------------------------------- teams

interface TeamDraft {
  key: number;
  name: string;
  lead: string;
  members: string;
}
let nextKey = 1;
const teamDrafts = (teams: ClosedLoopSettings['teams']): TeamDraft[] =>
  Object.entries(teams).map(([name, team]) => ({
    key: nextKey++,
    name,
    lead: team.lead ?? '',
    members: team.members.join('\n'),
  }));

const Teams = ({
  settings,
  save,
  people,
}: {
  settings: ClosedLoopSettings;
  save: Save;
  people: string[];
}) => {
  const ids = useId();
  const [teams, setTeams] = useState<TeamDraft[]>(() => teamDrafts(settings.teams));
  const part = usePart(save);
  const edit = (next: TeamDraft[]) => {
    part.setSaved(false);
    setTeams(next);
  };
  const update = (key: number, change: Partial<TeamDraft>) =>
    edit(teams.map((team) => (team.key === key ? { ...team, ...change } : team)));

  const submit = async () => {
    const details: { path: string; message: string }[] = [];
    const seen = new Set<string>();
    const result: ClosedLoopSettings['teams'] = {};
    teams.forEach((team, i) => {
      const name = team.name.trim();
      if (!name) details.push({ path: `team ${i + 1}`, message: 'needs a name' });
      else if (seen.has(name))
        details.push({ path: `team ${i + 1}`, message: `the name “${name}” is used twice` });
      seen.add(name);
      const lead = team.lead.trim();
      result[name] = { members: splitList(team.members), ...(lead ? { lead } : {}) };
    });
    if (details.length) {
      part.action.setError(invalidInput('Some teams are not complete', details));
      return;
    }
    const answer = await part.submit({ teams: result });
    if (answer) setTeams(teamDrafts(answer.teams));
  };

  return (
    <Part
      title="Teams"
      saveLabel="Save teams"
      intro={
        <p>
          Cases routed to a team go to its members in turn; escalations go to its lead. Managers work the
          cases of the teams they are a member or lead of.
        </p>
      }
      onSubmit={submit}
      action={part.action}
      saved={part.saved}
    >
      <datalist id={`${ids}-people`}>
        {people.map((email) => (
          <option key={email} value={email} />
        ))}
      </datalist>
      {teams.length === 0 ? (
        <p className="muted">No teams yet.</p>
      ) : (
        <ul className="settings-teams">
          {teams.map((team, i) => (
            <li key={team.key} className="settings-team">
              <fieldset className="settings-fieldset">
                <legend>{team.name.trim() ? `Team ${team.name.trim()}` : `Team ${i + 1} (new)`}</legend>
                <div className="settings-form-row">
                  <label htmlFor={`${ids}-${team.key}-name`}>
                    Name
                    <input
                      id={`${ids}-${team.key}-name`}
                      value={team.name}
                      maxLength={100}
                      required
                      onChange={(event) => update(team.key, { name: event.target.value })}
                    />
                  </label>
                  <label htmlFor={`${ids}-${team.key}-lead`}>
                    Lead (e-mail)
                    <input
                      id={`${ids}-${team.key}-lead`}
                      type="email"
                      list={`${ids}-people`}
                      value={team.lead}
                      onChange={(event) => update(team.key, { lead: event.target.value })}
                    />
                  </label>
                </div>
                <label htmlFor={`${ids}-${team.key}-members`}>
                  Members (one e-mail per line)
                  <textarea
                    id={`${ids}-${team.key}-members`}
                    rows={Math.min(8, Math.max(3, team.members.split('\n').length + 1))}
                    value={team.members}
                    spellCheck={false}
                    onChange={(event) => update(team.key, { members: event.target.value })}
                  />
                </label>
                <div className="settings-inline">
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => edit(teams.filter((other) => other.key !== team.key))}
                  >
                    Remove team{team.name.trim() ? ` ${team.name.trim()}` : ''}
                  </button>
                  <span className="settings-hint">Takes effect when the teams are saved.</span>
                </div>
              </fieldset>
            </li>
          ))}
        </ul>
      )}
      <div>
        <button
          type="button"
          className="secondary"
          onClick={() => edit([...teams, { key: nextKey++, name: '', lead: '', members: '' }])}
        >
          Add a team
        </button>
      </div>
    </Part>
  );
};

// ----------------------------------------------------------------------------- touchpoint owners

interface OwnerDraft {
  key: number;
  touchpoint: string;
  team: string;
}
const ownerDrafts = (owners: Record<string, string>): OwnerDraft[] =>
  Object.entries(owners).map(([touchpoint, team]) => ({ key: nextKey++, touchpoint, team }));

const TouchpointOwners = ({
  settings,
  save,
  touchpoints,
}: {
  settings: ClosedLoopSettings;
  save: Save;
  touchpoints: string[];
}) => {
  const ids = useId();
  const [rows, setRows] = useState<OwnerDraft[]>(() => ownerDrafts(settings.touchpointTeams));
  const part = usePart(save);
  const teams = Object.keys(settings.teams);
  const edit = (next: OwnerDraft[]) => {
    part.setSaved(false);
    setRows(next);
  };
  const update = (key: number, change: Partial<OwnerDraft>) =>
    edit(rows.map((row) => (row.key === key ? { ...row, ...change } : row)));
  const unmapped = touchpoints.filter(
    (touchpoint) => !rows.some((row) => row.touchpoint.trim() === touchpoint),
  );

  const submit = async () => {
    const details: { path: string; message: string }[] = [];
    const result: Record<string, string> = {};
    rows.forEach((row, i) => {
      const touchpoint = row.touchpoint.trim();
      const team = row.team.trim();
      // A row without a team means the touchpoint has no owning team.
      if (!team) return;
      if (!touchpoint) details.push({ path: `row ${i + 1}`, message: 'needs a touchpoint' });
      else if (touchpoint in result)
        details.push({ path: `row ${i + 1}`, message: `“${touchpoint}” is listed twice` });
      else result[touchpoint] = team;
    });
    if (details.length) {
      part.action.setError(invalidInput('Some rows are not complete', details));
      return;
    }
    const answer = await part.submit({ touchpointTeams: result });
    if (answer) setRows(ownerDrafts(answer.touchpointTeams));
  };

  return (
    <Part
      title="Touchpoint owners"
      saveLabel="Save touchpoint owners"
      intro={
        <p>
          The team that owns each touchpoint: rules with the routing step “the team owning the touchpoint”
          send its cases there. A touchpoint without a team is not routed this way.
          {teams.length === 0 && ' Save some teams first.'}
        </p>
      }
      onSubmit={submit}
      action={part.action}
      saved={part.saved}
    >
      <datalist id={`${ids}-touchpoints`}>
        {touchpoints.map((touchpoint) => (
          <option key={touchpoint} value={touchpoint} />
        ))}
      </datalist>
      {rows.length === 0 ? (
        <p className="muted">No touchpoint has an owning team yet.</p>
      ) : (
        <TableScroll label="Table of touchpoint owners">
          <table className="data-table settings-edit-table">
            <caption className="visually-hidden">The team owning each touchpoint</caption>
            <thead>
              <tr>
                <th scope="col">Touchpoint</th>
                <th scope="col">Team</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row, i) => (
                <tr key={row.key}>
                  <td>
                    <input
                      aria-label={`Touchpoint of row ${i + 1}`}
                      list={`${ids}-touchpoints`}
                      value={row.touchpoint}
                      maxLength={200}
                      onChange={(event) => update(row.key, { touchpoint: event.target.value })}
                    />
                  </td>
                  <td>
                    <select
                      aria-label={`Team owning ${row.touchpoint.trim() || `row ${i + 1}`}`}
                      value={row.team}
                      onChange={(event) => update(row.key, { team: event.target.value })}
                    >
                      <option value="">(no team)</option>
                      {teams.map((team) => (
                        <option key={team} value={team}>
                          {team}
                        </option>
                      ))}
                      {row.team && !teams.includes(row.team) && (
                        <option value={row.team}>{row.team} (not a team)</option>
                      )}
                    </select>
                  </td>
                  <td>
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => edit(rows.filter((other) => other.key !== row.key))}
                    >
                      Remove<span className="visually-hidden"> row {i + 1}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <div className="settings-inline">
        <button
          type="button"
          className="secondary"
          onClick={() => edit([...rows, { key: nextKey++, touchpoint: '', team: '' }])}
        >
          Add a touchpoint
        </button>
        {unmapped.length > 0 && (
          <button
            type="button"
            className="secondary"
            onClick={() =>
              edit([...rows, ...unmapped.map((touchpoint) => ({ key: nextKey++, touchpoint, team: '' }))])
            }
          >
            Add the {unmapped.length} touchpoint{unmapped.length === 1 ? '' : 's'} seen in the data
          </button>
        )}
      </div>
    </Part>
  );
};

// ----------------------------------------------------------------------------- SLA

const duration = (minutes: number) => {
  if (!Number.isFinite(minutes) || minutes <= 0) return '';
  if (minutes < 60) return `${formatNumber(minutes)} min`;
  if (minutes < 60 * 24 || minutes % (60 * 24) !== 0)
    return `${formatNumber(minutes / 60, minutes % 60 ? 1 : 0)} h`;
  const days = minutes / (60 * 24);
  return `${formatNumber(days)} day${days === 1 ? '' : 's'}`;
};

const Sla = ({ settings, save }: { settings: ClosedLoopSettings; save: Save }) => {
  const ids = useId();
  const toText = (sla: ClosedLoopSettings['sla']) =>
    Object.fromEntries(
      SEVERITIES.map((severity) => [
        severity,
        {
          firstResponseMinutes: String(sla[severity].firstResponseMinutes),
          resolveMinutes: String(sla[severity].resolveMinutes),
        },
      ]),
    ) as Record<Severity, { firstResponseMinutes: string; resolveMinutes: string }>;
  const [sla, setSla] = useState(() => toText(settings.sla));
  const part = usePart(save);

  const submit = async () => {
    // Numbers as typed; the API names what is wrong (e.g. sla.high.resolveMinutes).
    const value = Object.fromEntries(
      SEVERITIES.map((severity) => [
        severity,
        {
          firstResponseMinutes: Number(sla[severity].firstResponseMinutes || Number.NaN),
          resolveMinutes: Number(sla[severity].resolveMinutes || Number.NaN),
        },
      ]),
    ) as ClosedLoopSettings['sla'];
    const answer = await part.submit({ sla: value });
    if (answer) setSla(toText(answer.sla));
  };

  const field = (severity: Severity, key: 'firstResponseMinutes' | 'resolveMinutes', label: string) => (
    <td>
      <div className="settings-inline">
        <input
          id={`${ids}-${severity}-${key}`}
          aria-label={`${label} for ${severity} severity, in minutes`}
          type="number"
          min={1}
          step={1}
          inputMode="numeric"
          className="settings-number"
          value={sla[severity][key]}
          onChange={(event) => {
            part.setSaved(false);
            setSla({ ...sla, [severity]: { ...sla[severity], [key]: event.target.value } });
          }}
        />
        <span className="settings-hint">{duration(Number(sla[severity][key]))}</span>
      </div>
    </td>
  );

  return (
    <Part
      title="SLAs"
      saveLabel="Save SLAs"
      intro={
        <p>
          Minutes to the first response and to resolution, by severity; counted in business hours when they
          are set below. They apply to cases opened after saving.
        </p>
      }
      onSubmit={submit}
      action={part.action}
      saved={part.saved}
    >
      <TableScroll label="Table of SLAs by severity">
        <table className="data-table settings-edit-table">
          <caption className="visually-hidden">SLA minutes by severity</caption>
          <thead>
            <tr>
              <th scope="col">Severity</th>
              <th scope="col">First response (minutes)</th>
              <th scope="col">Resolution (minutes)</th>
            </tr>
          </thead>
          <tbody>
            {SEVERITIES.map((severity) => (
              <tr key={severity}>
                <th scope="row">{severity}</th>
                {field(severity, 'firstResponseMinutes', 'First response')}
                {field(severity, 'resolveMinutes', 'Resolution')}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </Part>
  );
};

// ----------------------------------------------------------------------------- the rest, as JSON

const otherOf = (settings: ClosedLoopSettings) =>
  JSON.stringify(Object.fromEntries(OTHER_KEYS.map((key) => [key, settings[key]])), null, 2);

const OtherOptions = ({ settings, save }: { settings: ClosedLoopSettings; save: Save }) => {
  const ids = useId();
  const [text, setText] = useState(() => otherOf(settings));
  const part = usePart(save);

  const submit = async () => {
    const parsed = parseJson(text);
    if (!parsed.ok) {
      part.action.setError(
        invalidInput('The options are not valid JSON', [
          { path: parsed.path || 'JSON', message: parsed.message },
        ]),
      );
      return;
    }
    const value = parsed.value;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      part.action.setError(
        invalidInput('Some options need attention.', [{ path: '', message: 'must be a JSON object {…}' }]),
      );
      return;
    }
    const unknown = Object.keys(value).filter((key) => !(OTHER_KEYS as readonly string[]).includes(key));
    if (unknown.length) {
      part.action.setError(
        invalidInput('Some options need attention.', [
          ...unknown.map((key) => ({
            path: key,
            message: ['teams', 'touchpointTeams', 'sla'].includes(key)
              ? 'is edited in its own form above'
              : 'is not an option',
          })),
        ]),
      );
      return;
    }
    // A key left out takes its default, as with the API.
    const missing = Object.fromEntries(
      OTHER_KEYS.filter((key) => !(key in value)).map((key) => [key, undefined]),
    );
    const answer = await part.submit({ ...missing, ...(value as Partial<ClosedLoopSettings>) });
    if (answer) setText(otherOf(answer));
  };

  return (
    <Part
      title="Other options"
      saveLabel="Save other options"
      intro={
        <>
          <ul className="settings-keys">
            <li>
              <code>rootCauses</code>: the codes a case’s root cause may be (a-z, 0-9, _ . -).
            </li>
            <li>
              <code>businessHours</code>:{' '}
              <code>{'{"timeZone", "days": [1…7], "start": "09:00", "end": "17:00"}'}</code> or null (SLA
              clocks run around the clock).
            </li>
            <li>
              <code>escalateTo</code>: who takes over a breached case when its team has no lead (e-mail or
              null).
            </li>
            <li>
              <code>valueTiers</code>: customer value from which a customer is mid and high value (priority).
            </li>
            <li>
              <code>recoveryWindowDays</code>: how long after closing a case the customer has to show
              recovery.
            </li>
            <li>
              <code>notifyOwners</code>: e-mail owners when a case is assigned or escalated.
            </li>
            <li>
              <code>messageTemplates</code>: follow-up e-mails by name; <code>{'{{customer.name}}'}</code>,{' '}
              <code>{'{{case.id}}'}</code>, <code>{'{{case.title}}'}</code> and <code>{'{{owner}}'}</code> are
              filled in.
            </li>
          </ul>
          <p>A key left out takes its default.</p>
        </>
      }
      onSubmit={submit}
      action={part.action}
      saved={part.saved}
    >
      <label htmlFor={`${ids}-json`}>
        Options (JSON)
        <textarea
          id={`${ids}-json`}
          className="settings-code"
          rows={18}
          spellCheck={false}
          value={text}
          aria-invalid={part.action.error ? true : undefined}
          onChange={(event) => {
            part.setSaved(false);
            setText(event.target.value);
          }}
        />
      </label>
    </Part>
  );
};

// ----------------------------------------------------------------------------- the section

export default function SettingsWorkspace() {
  const loaded = useApi<ClosedLoopSettings>('/closed-loop/settings');
  const users = useApi<{ items: { email: string }[] }>('/users');
  const metrics = useApi<MetricsResponse>('/metrics', { measures: 'contacts', by: 'touchpoint', minN: 1 });
  const [settings, setSettings] = useState<ClosedLoopSettings | undefined>();
  useEffect(() => {
    if (loaded.data) setSettings(loaded.data);
  }, [loaded.data]);

  const people = (users.data?.items ?? []).map((user) => user.email);
  const touchpoints = [
    ...new Set(
      (metrics.data?.rows ?? [])
        .map((row) => row.group.touchpoint)
        .filter((value): value is string => !!value),
    ),
  ].sort();

  /** Sends the settings as last saved with one part replaced; the answer becomes the saved state. */
  const save: Save = async (part) => {
    if (!settings) return undefined;
    const answer = await api<ClosedLoopSettings>('/closed-loop/settings', {
      method: 'PUT',
      body: { ...settings, ...part },
    });
    setSettings(answer);
    return answer;
  };

  return (
    <Loadable state={loaded} label="Loading the workspace options…">
      {() =>
        settings ? (
          <>
            <p className="settings-toc">
              On this page: <a href="#teams">Teams</a> · <a href="#touchpoint-owners">Touchpoint owners</a> ·{' '}
              <a href="#sla">SLAs</a> · <a href="#other-options">Other options</a>. Each part is saved on its
              own.
            </p>
            <div id="teams">
              <Teams settings={settings} save={save} people={people} />
            </div>
            <div id="touchpoint-owners">
              <TouchpointOwners settings={settings} save={save} touchpoints={touchpoints} />
            </div>
            <div id="sla">
              <Sla settings={settings} save={save} />
            </div>
            <div id="other-options">
              <OtherOptions settings={settings} save={save} />
            </div>
          </>
        ) : null
      }
    </Loadable>
  );
}
