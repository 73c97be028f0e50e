import { type FormEvent, useId, useState } from 'react';
import { Link } from 'wouter';
import { api } from '../api';
import { Empty } from '../components/Empty';
import { Loadable } from '../components/Loadable';
import { ActionError, ConfirmDialog, invalidInput, SecretBox, useAction } from '../components/SettingsKit';
import { TableScroll } from '../components/TableScroll';
import { formatDateTime } from '../format';
import { useApi } from '../useApi';

/** WEBHOOK_EVENTS in src/closed-loop/webhooks.ts, with what each means. */
const EVENTS: readonly { event: string; label: string }[] = [
  { event: 'alert.raised', label: 'an alert rule matched a record' },
  { event: 'case.opened', label: 'a case was opened' },
  { event: 'case.assigned', label: 'a case got a new owner' },
  { event: 'case.status_changed', label: 'a case moved in its workflow' },
  { event: 'case.escalated', label: 'a case breached its SLA and was escalated' },
  { event: 'case.note_added', label: 'a note was added to a case' },
  { event: 'case.message_sent', label: 'the customer was e-mailed or called' },
  { event: 'case.recovery_decided', label: 'a closed case’s recovery was decided' },
];
const ALL_EVENTS = EVENTS.map((item) => item.event);

type Format = 'json' | 'slack';
const FORMATS: readonly { value: Format; label: string }[] = [
  { value: 'json', label: 'Standard JSON (signed event)' },
  { value: 'slack', label: 'Slack message (incoming-webhook URL)' },
];

interface Webhook {
  id: number;
  url: string;
  events: string[];
  format: Format;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

interface Delivery {
  id: number;
  eventId: string;
  eventType: string;
  caseId: number | null;
  status: 'pending' | 'delivered' | 'failed' | string;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  log: {
    attempt: number;
    at: string;
    statusCode: number | null;
    error: string | null;
    durationMs: number | null;
  }[];
}

interface Draft {
  url: string;
  events: string[];
  format: Format;
}

/** URL, events and format: to create a webhook, or change one. */
const WebhookForm = ({
  initial,
  submitLabel,
  busyLabel,
  onSubmit,
  onCancel,
  busy,
}: {
  initial: Draft;
  submitLabel: string;
  busyLabel: string;
  onSubmit: (draft: Draft) => void;
  onCancel?: () => void;
  busy: boolean;
}) => {
  const ids = useId();
  const [draft, setDraft] = useState<Draft>(initial);
  const toggle = (event: string, on: boolean) =>
    setDraft((previous) => ({
      ...previous,
      events: on
        ? ALL_EVENTS.filter((e) => e === event || previous.events.includes(e))
        : previous.events.filter((e) => e !== event),
    }));

  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSubmit(draft);
  };

  return (
    <form className="settings-form" onSubmit={submit} noValidate>
      <label htmlFor={`${ids}-url`}>
        URL (https:// or http://)
        <input
          id={`${ids}-url`}
          type="url"
          required
          value={draft.url}
          placeholder="https://example.com/touchpoint-events"
          onChange={(event) => setDraft({ ...draft, url: event.target.value })}
          className="settings-wide"
        />
      </label>
      <fieldset className="settings-fieldset">
        <legend>Events to send</legend>
        <div className="settings-checks">
          {EVENTS.map((item) => (
            <label key={item.event} className="settings-check">
              <input
                type="checkbox"
                checked={draft.events.includes(item.event)}
                onChange={(event) => toggle(item.event, event.target.checked)}
              />
              <span>
                <code>{item.event}</code> <span className="settings-check-note">{item.label}</span>
              </span>
            </label>
          ))}
        </div>
        <div className="settings-inline">
          <button
            type="button"
            className="secondary"
            onClick={() => setDraft({ ...draft, events: [...ALL_EVENTS] })}
          >
            Select all
          </button>
          <button type="button" className="secondary" onClick={() => setDraft({ ...draft, events: [] })}>
            Clear
          </button>
        </div>
      </fieldset>
      <fieldset className="settings-fieldset">
        <legend>Format</legend>
        <div className="settings-checks">
          {FORMATS.map((option) => (
            <label key={option.value} className="settings-check">
              <input
                type="radio"
                name={`${ids}-format`}
                value={option.value}
                checked={draft.format === option.value}
                onChange={() => setDraft({ ...draft, format: option.value })}
              />
              <span>{option.label}</span>
            </label>
          ))}
        </div>
      </fieldset>
      <div className="form-actions">
        <button type="submit" disabled={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
};

/** Refuses a form the API would refuse too, with the same kind of field details. */
const checkDraft = (draft: Draft) => {
  const details = [];
  if (!draft.url.trim()) details.push({ path: 'url', message: 'is required' });
  if (draft.events.length === 0) details.push({ path: 'events', message: 'choose at least one event' });
  return details.length ? invalidInput('Some fields need attention.', details) : null;
};

const CreateWebhook = ({ onCreated }: { onCreated: () => void }) => {
  const ids = useId();
  const [round, setRound] = useState(0);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const action = useAction();

  const create = async (draft: Draft) => {
    const invalid = checkDraft(draft);
    if (invalid) {
      action.setError(invalid);
      return;
    }
    const answer = await action.run(() =>
      api<Webhook & { secret: string }>('/webhooks', {
        method: 'POST',
        body: { url: draft.url.trim(), events: draft.events, format: draft.format },
      }),
    );
    if (!answer) return;
    setSecret({ url: answer.url, secret: answer.secret });
    setRound((r) => r + 1); // an empty form again
    onCreated();
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Add a webhook</h3>
      <WebhookForm
        key={round}
        initial={{ url: '', events: [...ALL_EVENTS], format: 'json' }}
        submitLabel="Add webhook"
        busyLabel="Adding…"
        busy={action.busy}
        onSubmit={create}
      />
      {action.error ? <ActionError error={action.error} title="The webhook was not created" /> : null}
      {secret && (
        <SecretBox
          label={`Signing secret of ${secret.url}`}
          value={secret.secret}
          onDismiss={() => setSecret(null)}
        >
          <p>
            Each call carries <code>Touchpoint-Signature: v1=&lt;hex HMAC-SHA256&gt;</code> of{' '}
            <code>&lt;Touchpoint-Timestamp&gt;.&lt;raw body&gt;</code> under this secret; the receiver checks
            it and refuses timestamps more than 5 minutes off (see docs/closed-loop.md).
          </p>
        </SecretBox>
      )}
    </section>
  );
};

const statusText = (delivery: Delivery) => {
  if (delivery.status === 'delivered')
    return `Delivered${delivery.deliveredAt ? ` ${formatDateTime(delivery.deliveredAt)}` : ''}`;
  if (delivery.status === 'pending')
    return `Waiting${delivery.nextAttemptAt ? `, next try ${formatDateTime(delivery.nextAttemptAt)}` : ''}`;
  if (delivery.status === 'failed') return 'Failed (no more tries)';
  return delivery.status;
};

const Deliveries = ({ webhook }: { webhook: Webhook }) => {
  const deliveries = useApi<Delivery[]>(`/webhooks/${webhook.id}/deliveries`, { limit: 50 });
  const caption = `Delivery log of ${webhook.url}, newest first (last 50)`;
  return (
    <div className="settings-deliveries">
      <div className="settings-inline">
        <button type="button" className="secondary" onClick={deliveries.reload} disabled={deliveries.loading}>
          {deliveries.loading ? 'Refreshing…' : 'Refresh the log'}
        </button>
      </div>
      <Loadable state={deliveries} label="Loading the delivery log…">
        {(items) =>
          items.length === 0 ? (
            <Empty title="Nothing sent yet">
              Deliveries appear here when one of the chosen events happens.
            </Empty>
          ) : (
            <TableScroll label={caption}>
              <table className="data-table">
                <caption>{caption}</caption>
                <thead>
                  <tr>
                    <th scope="col">Event</th>
                    <th scope="col">Queued</th>
                    <th scope="col">Status</th>
                    <th scope="col" className="number">
                      Attempts
                    </th>
                    <th scope="col">Last answer</th>
                    <th scope="col">Attempts in detail</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((delivery) => (
                    <tr key={delivery.id} className={`settings-delivery-${delivery.status}`}>
                      <td>
                        <code>{delivery.eventType}</code>
                        {delivery.caseId !== null && (
                          <span className="cell-margin">
                            <Link href={`/cases/${delivery.caseId}`}>case {delivery.caseId}</Link>
                          </span>
                        )}
                      </td>
                      <td>{formatDateTime(delivery.createdAt)}</td>
                      <td>{statusText(delivery)}</td>
                      <td className="number">{delivery.attempts}</td>
                      <td>
                        {delivery.lastStatus !== null && <>HTTP {delivery.lastStatus}</>}
                        {delivery.lastError && (
                          <span className="settings-error-text">{delivery.lastError}</span>
                        )}
                        {delivery.lastStatus === null && !delivery.lastError && (
                          <span className="muted">–</span>
                        )}
                      </td>
                      <td>
                        {delivery.log.length === 0 ? (
                          <span className="muted">Not tried yet</span>
                        ) : (
                          <details>
                            <summary>
                              {delivery.log.length} attempt{delivery.log.length === 1 ? '' : 's'}
                            </summary>
                            <ol className="settings-attempts">
                              {delivery.log.map((attempt) => (
                                <li key={attempt.attempt}>
                                  {formatDateTime(attempt.at)}:{' '}
                                  {attempt.statusCode !== null ? `HTTP ${attempt.statusCode}` : 'no answer'}
                                  {attempt.durationMs !== null && ` in ${Math.round(attempt.durationMs)} ms`}
                                  {attempt.error && ` · ${attempt.error}`}
                                </li>
                              ))}
                            </ol>
                          </details>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Loadable>
    </div>
  );
};

const WebhookItem = ({
  webhook,
  onChanged,
  onDelete,
}: {
  webhook: Webhook;
  onChanged: () => void;
  onDelete: (webhook: Webhook) => void;
}) => {
  const ids = useId();
  const [editing, setEditing] = useState(false);
  const [showLog, setShowLog] = useState(false);
  const action = useAction();

  const patch = async (body: Partial<Draft> & { active?: boolean }) => {
    const answer = await action.run(() => api<Webhook>(`/webhooks/${webhook.id}`, { method: 'PATCH', body }));
    if (answer) {
      setEditing(false);
      onChanged();
    }
  };

  const save = (draft: Draft) => {
    const invalid = checkDraft(draft);
    if (invalid) action.setError(invalid);
    else void patch({ url: draft.url.trim(), events: draft.events, format: draft.format });
  };

  const all = webhook.events.length === ALL_EVENTS.length;
  return (
    <li className="panel settings-item">
      <h4 className="settings-item-title">
        <span className="settings-url">{webhook.url}</span>
        <span className={webhook.active ? 'settings-pill settings-pill-on' : 'settings-pill'}>
          {webhook.active ? 'Active' : 'Paused'}
        </span>
      </h4>
      <p className="settings-meta">
        {webhook.format === 'slack' ? 'Slack message' : 'Standard JSON'} · {all ? 'all events' : 'events: '}
        {!all && webhook.events.map((event) => <code key={event}>{event} </code>)} · added{' '}
        {formatDateTime(webhook.createdAt)}
      </p>
      <div className="settings-inline">
        <button
          type="button"
          className="secondary"
          disabled={action.busy}
          onClick={() => patch({ active: !webhook.active })}
        >
          {webhook.active ? 'Pause' : 'Resume'}
          <span className="visually-hidden"> {webhook.url}</span>
        </button>
        <button
          type="button"
          className="secondary"
          aria-expanded={editing}
          aria-controls={`${ids}-edit`}
          onClick={() => setEditing(!editing)}
        >
          {editing ? 'Close the editor' : 'Edit'}
          <span className="visually-hidden"> {webhook.url}</span>
        </button>
        <button
          type="button"
          className="secondary"
          aria-expanded={showLog}
          aria-controls={`${ids}-log`}
          onClick={() => setShowLog(!showLog)}
        >
          {showLog ? 'Hide the delivery log' : 'Delivery log'}
          <span className="visually-hidden"> of {webhook.url}</span>
        </button>
        <button type="button" className="secondary danger-outline" onClick={() => onDelete(webhook)}>
          Delete<span className="visually-hidden"> {webhook.url}</span>
        </button>
      </div>
      {!webhook.active && (
        <p className="settings-hint">Paused: new deliveries wait, in order, until it is resumed.</p>
      )}
      <div id={`${ids}-edit`}>
        {editing && (
          <WebhookForm
            initial={{ url: webhook.url, events: webhook.events, format: webhook.format }}
            submitLabel="Save changes"
            busyLabel="Saving…"
            busy={action.busy}
            onSubmit={save}
            onCancel={() => {
              setEditing(false);
              action.setError(null);
            }}
          />
        )}
      </div>
      {action.error ? <ActionError error={action.error} title="The webhook was not changed" /> : null}
      <div id={`${ids}-log`}>{showLog && <Deliveries webhook={webhook} />}</div>
    </li>
  );
};

export default function SettingsWebhooks() {
  const webhooks = useApi<Webhook[]>('/webhooks');
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [deleted, setDeleted] = useState<string | null>(null);

  return (
    <>
      <CreateWebhook onCreated={webhooks.reload} />
      <h3>Webhooks of this workspace</h3>
      <p role="status" className="settings-status">
        {deleted ? `The webhook to ${deleted} was deleted; its waiting deliveries were dropped.` : ''}
      </p>
      <Loadable state={webhooks} label="Loading the webhooks…">
        {(items) =>
          items.length === 0 ? (
            <Empty title="No webhooks yet">
              Add one above to send alert and case events to another system or a Slack channel.
            </Empty>
          ) : (
            <ul className="settings-list">
              {items.map((webhook) => (
                <WebhookItem
                  key={webhook.id}
                  webhook={webhook}
                  onChanged={webhooks.reload}
                  onDelete={(target) => {
                    setDeleted(null);
                    setDeleting(target);
                  }}
                />
              ))}
            </ul>
          )
        }
      </Loadable>
      {deleting && (
        <ConfirmDialog
          title="Delete this webhook?"
          confirmLabel="Delete webhook"
          onConfirm={() => api(`/webhooks/${deleting.id}`, { method: 'DELETE' })}
          onDone={() => {
            setDeleted(deleting.url);
            webhooks.reload();
          }}
          onClose={() => setDeleting(null)}
        >
          <p>
            Nothing more is sent to <span className="settings-url">{deleting.url}</span>, and the deliveries
            still waiting are dropped (marked failed). To stop for a while instead, pause it.
          </p>
          <p className="settings-hint">
            The API keeps a deleted webhook with its delivery log: it stays listed as paused.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
