import { type FormEvent, useId, useState } from 'react';
import { api } from '../api';
import { Empty } from '../components/Empty';
import { Loadable } from '../components/Loadable';
import { ActionError, ConfirmDialog, SecretBox, useAction } from '../components/SettingsKit';
import { TableScroll } from '../components/TableScroll';
import { formatDateTime } from '../format';
import { useApi } from '../useApi';

type KeyRole = 'admin' | 'write' | 'read';

interface ApiKey {
  id: number;
  name: string;
  role: KeyRole;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** What a key of each role may do (KEY_GRANTS in src/server/auth.ts). */
const KEY_ROLES: readonly { role: KeyRole; label: string; description: string }[] = [
  {
    role: 'write',
    label: 'Write',
    description: 'sends customers, interactions, feedback and events in; reads nothing back.',
  },
  { role: 'read', label: 'Read', description: 'reads metrics, customers and cases; changes nothing.' },
  {
    role: 'admin',
    label: 'Admin',
    description: 'everything: records, rules, webhooks, settings and keys. Give it out sparingly.',
  },
];

const CreateKey = ({ onCreated }: { onCreated: () => void }) => {
  const ids = useId();
  const [role, setRole] = useState<KeyRole>('write');
  const [created, setCreated] = useState<(ApiKey & { key: string }) | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const name = String(new FormData(form).get('name') ?? '').trim();
    const answer = await action.run(() =>
      api<ApiKey & { key: string }>('/api-keys', {
        method: 'POST',
        body: { role, ...(name ? { name } : {}) },
      }),
    );
    if (!answer) return;
    form.reset();
    setRole('write');
    setCreated(answer);
    onCreated();
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Create a key</h3>
      <form className="settings-form settings-form-row" onSubmit={submit}>
        <label htmlFor={`${ids}-name`}>
          Name (what uses it)
          <input
            id={`${ids}-name`}
            name="name"
            maxLength={200}
            autoComplete="off"
            placeholder="e.g. CRM sync"
          />
        </label>
        <label htmlFor={`${ids}-role`}>
          Role
          <select
            id={`${ids}-role`}
            value={role}
            onChange={(event) => setRole(event.target.value as KeyRole)}
          >
            {KEY_ROLES.map((info) => (
              <option key={info.role} value={info.role}>
                {info.label}
              </option>
            ))}
          </select>
        </label>
        <div className="form-actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Creating…' : 'Create key'}
          </button>
        </div>
      </form>
      {action.error ? <ActionError error={action.error} title="The key was not created" /> : null}
      {created && (
        <SecretBox
          label={`API key “${created.name}” (${created.role})`}
          value={created.key}
          onDismiss={() => setCreated(null)}
        >
          <p>
            Only its hash is stored. Programs send it as <code>Authorization: Bearer &lt;key&gt;</code>. If it
            is lost, create a new key and revoke this one.
          </p>
        </SecretBox>
      )}
    </section>
  );
};

export default function SettingsApiKeys() {
  const keys = useApi<{ items: ApiKey[] }>('/api-keys');
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);

  return (
    <>
      <section aria-labelledby="key-roles-title" className="settings-roles">
        <h3 id="key-roles-title">Key roles</h3>
        <dl>
          {KEY_ROLES.map((info) => (
            <div key={info.role}>
              <dt>{info.label}</dt>
              <dd>{info.description}</dd>
            </div>
          ))}
        </dl>
      </section>

      <CreateKey onCreated={keys.reload} />

      <h3>Keys of this workspace</h3>
      <p role="status" className="settings-status">
        {revoked ? `The key “${revoked}” was revoked.` : ''}
      </p>
      <Loadable state={keys} label="Loading the API keys…">
        {({ items }) => {
          if (items.length === 0) return <Empty title="No API keys">Create one with the form above.</Empty>;
          // Keys in use first, newest first; revoked ones after them.
          const sorted = [...items].sort(
            (a, b) =>
              Number(a.revokedAt !== null) - Number(b.revokedAt !== null) ||
              b.createdAt.localeCompare(a.createdAt),
          );
          return (
            <TableScroll label="Table of API keys">
              <table className="data-table">
                <caption className="visually-hidden">API keys, in use first</caption>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Starts with</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">Status</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {sorted.map((key) => (
                    <tr key={key.id} className={key.revokedAt ? 'settings-inactive' : undefined}>
                      <td>{key.name}</td>
                      <td>{key.role}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{formatDateTime(key.createdAt)}</td>
                      <td>
                        {key.lastUsedAt ? (
                          formatDateTime(key.lastUsedAt)
                        ) : (
                          <span className="muted">Never</span>
                        )}
                      </td>
                      <td>{key.revokedAt ? `Revoked ${formatDateTime(key.revokedAt)}` : 'In use'}</td>
                      <td>
                        {!key.revokedAt && (
                          <button
                            type="button"
                            className="secondary danger-outline"
                            onClick={() => {
                              setRevoked(null);
                              setRevoking(key);
                            }}
                          >
                            Revoke<span className="visually-hidden"> {key.name}</span>
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
          );
        }}
      </Loadable>

      {revoking && (
        <ConfirmDialog
          title={`Revoke the key “${revoking.name}”?`}
          confirmLabel="Revoke key"
          onConfirm={() => api(`/api-keys/${revoking.id}`, { method: 'DELETE' })}
          onDone={() => {
            setRevoked(revoking.name);
            keys.reload();
          }}
          onClose={() => setRevoking(null)}
        >
          <p>
            Every program using the key starting with <code>{revoking.prefix}</code> ({revoking.role}) is
            refused from now on. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </>
  );
}
