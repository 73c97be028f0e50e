import { type FormEvent, useId, useState } from 'react';
import { api } from '../api';
import { Empty } from '../components/Empty';
import { Loadable } from '../components/Loadable';
import { ActionError, ConfirmDialog, invalidInput, SecretBox, useAction } from '../components/SettingsKit';
import { TableScroll } from '../components/TableScroll';
import { formatDateTime } from '../format';
import { useSession } from '../session';
import type { Role } from '../types';
import { useApi } from '../useApi';

interface User {
  id: number;
  email: string;
  name: string | null;
  role: Role;
  createdAt: string;
  lastLoginAt: string | null;
}

/** The four roles, one line each (the API enforces them; see src/server/auth.ts). */
export const ROLE_INFO: readonly { role: Role; label: string; description: string }[] = [
  { role: 'admin', label: 'Admin', description: 'everything, including these settings, users and API keys.' },
  { role: 'analyst', label: 'Analyst', description: 'reads every page and every case; changes nothing.' },
  {
    role: 'manager',
    label: 'Manager',
    description:
      'reads everything and works the cases of their own teams (member or lead in Workspace options → Teams).',
  },
  { role: 'agent', label: 'Agent', description: 'works only their own cases and sees the customer view.' },
];
const roleLabel = (role: Role) => ROLE_INFO.find((info) => info.role === role)?.label ?? role;

const RoleSelect = ({ id, value, onChange }: { id: string; value: Role; onChange: (role: Role) => void }) => (
  <select id={id} value={value} onChange={(event) => onChange(event.target.value as Role)}>
    {ROLE_INFO.map((info) => (
      <option key={info.role} value={info.role}>
        {info.label}
      </option>
    ))}
  </select>
);

const AddUser = ({ onAdded }: { onAdded: () => void }) => {
  const ids = useId();
  const [role, setRole] = useState<Role>('analyst');
  const [created, setCreated] = useState<{ email: string; password: string } | null>(null);
  const action = useAction();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const data = new FormData(form);
    const email = String(data.get('email') ?? '').trim();
    const name = String(data.get('name') ?? '').trim();
    if (!email) {
      action.setError(
        invalidInput('Some fields need attention.', [{ path: 'email', message: 'is required' }]),
      );
      return;
    }
    const answer = await action.run(() =>
      api<{ user: User; password: string | null }>('/users', {
        method: 'POST',
        body: { email, role, ...(name ? { name } : {}) },
      }),
    );
    if (!answer) return;
    form.reset();
    setRole('analyst');
    if (answer.password) setCreated({ email: answer.user.email, password: answer.password });
    onAdded();
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-title`}>
      <h3 id={`${ids}-title`}>Add a user</h3>
      <p className="muted">
        A password is generated and shown once; give it to the person, who can change it after signing in.
      </p>
      <form className="settings-form settings-form-row" onSubmit={submit} noValidate>
        <label htmlFor={`${ids}-email`}>
          E-mail (required)
          <input id={`${ids}-email`} name="email" type="email" autoComplete="off" required maxLength={320} />
        </label>
        <label htmlFor={`${ids}-name`}>
          Name
          <input id={`${ids}-name`} name="name" autoComplete="off" maxLength={200} />
        </label>
        <label htmlFor={`${ids}-role`}>
          Role
          <RoleSelect id={`${ids}-role`} value={role} onChange={setRole} />
        </label>
        <div className="form-actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? 'Adding…' : 'Add user'}
          </button>
        </div>
      </form>
      {action.error ? <ActionError error={action.error} title="The user was not added" /> : null}
      {created && (
        <SecretBox
          label={`Password of ${created.email}`}
          value={created.password}
          onDismiss={() => setCreated(null)}
        >
          <p>Give it to {created.email} by a safe way; they sign in at this dashboard’s address.</p>
        </SecretBox>
      )}
    </section>
  );
};

const UserRow = ({
  user,
  self,
  onChanged,
  onRemove,
}: {
  user: User;
  self: boolean;
  onChanged: () => void;
  onRemove: (user: User) => void;
}) => {
  const id = useId();
  const [role, setRole] = useState<Role>(user.role);
  const [confirmSelf, setConfirmSelf] = useState(false);
  const action = useAction();
  const changed = role !== user.role;

  const apply = async () => {
    const answer = await action.run(() =>
      api<User>(`/users/${user.id}`, { method: 'PATCH', body: { role } }),
    );
    if (answer) onChanged();
  };

  return (
    <tr>
      <td>
        {user.email}
        {self && <span className="settings-badge">you</span>}
      </td>
      <td>{user.name ?? <span className="muted">–</span>}</td>
      <td>
        <div className="settings-inline">
          <label htmlFor={`${id}-role`} className="visually-hidden">
            Role of {user.email}
          </label>
          <RoleSelect id={`${id}-role`} value={role} onChange={setRole} />
          {changed && (
            <>
              <button
                type="button"
                disabled={action.busy}
                onClick={() => (self ? setConfirmSelf(true) : apply())}
              >
                {action.busy ? 'Saving…' : 'Save role'}
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setRole(user.role);
                  action.setError(null);
                }}
              >
                Undo
              </button>
            </>
          )}
        </div>
        {action.error ? (
          <ActionError error={action.error} title={`The role of ${user.email} was not changed`} />
        ) : null}
        {confirmSelf && (
          <ConfirmDialog
            title="Change your own role?"
            confirmLabel={`Make me ${roleLabel(role).toLowerCase()}`}
            onConfirm={() => api(`/users/${user.id}`, { method: 'PATCH', body: { role } })}
            onDone={() => window.location.assign('/app/login')}
            onClose={() => setConfirmSelf(false)}
          >
            <p>
              You will be signed out at once and, as {roleLabel(role).toLowerCase()}, may no longer be able to
              open these settings.
            </p>
          </ConfirmDialog>
        )}
      </td>
      <td>{user.lastLoginAt ? formatDateTime(user.lastLoginAt) : <span className="muted">Never</span>}</td>
      <td>{formatDateTime(user.createdAt)}</td>
      <td>
        <button type="button" className="secondary danger-outline" onClick={() => onRemove(user)}>
          Remove<span className="visually-hidden"> {user.email}</span>
        </button>
      </td>
    </tr>
  );
};

export default function SettingsUsers() {
  const session = useSession();
  const users = useApi<{ items: User[] }>('/users');
  const [removing, setRemoving] = useState<User | null>(null);
  const [removed, setRemoved] = useState<string | null>(null);

  return (
    <>
      <section aria-labelledby="roles-title" className="settings-roles">
        <h3 id="roles-title">The four roles</h3>
        <dl>
          {ROLE_INFO.map((info) => (
            <div key={info.role}>
              <dt>{info.label}</dt>
              <dd>{info.description}</dd>
            </div>
          ))}
        </dl>
      </section>

      <AddUser onAdded={users.reload} />

      <h3>Users of this workspace</h3>
      <p role="status" className="settings-status">
        {removed ? `${removed} was removed.` : ''}
      </p>
      <Loadable state={users} label="Loading the users…">
        {({ items }) =>
          items.length === 0 ? (
            <Empty title="No users yet">Add the first one with the form above.</Empty>
          ) : (
            <TableScroll label="Table of users">
              <table className="data-table">
                <caption className="visually-hidden">Users of this workspace, by e-mail</caption>
                <thead>
                  <tr>
                    <th scope="col">E-mail</th>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Last sign-in</th>
                    <th scope="col">Added</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((user) => (
                    <UserRow
                      key={`${user.id}:${user.role}`}
                      user={user}
                      self={user.email.toLowerCase() === session.user.email.toLowerCase()}
                      onChanged={users.reload}
                      onRemove={(target) => {
                        setRemoved(null);
                        setRemoving(target);
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </TableScroll>
          )
        }
      </Loadable>

      {removing && (
        <ConfirmDialog
          title={`Remove ${removing.email}?`}
          confirmLabel="Remove user"
          onConfirm={() => api(`/users/${removing.id}`, { method: 'DELETE' })}
          onDone={() => {
            if (removing.email.toLowerCase() === session.user.email.toLowerCase()) {
              window.location.assign('/app/login');
              return;
            }
            setRemoved(removing.email);
            users.reload();
          }}
          onClose={() => setRemoving(null)}
        >
          <p>
            {removing.email} ({roleLabel(removing.role).toLowerCase()}) can no longer sign in; their open
            sessions end now. Cases they own and teams that name them keep their e-mail address: reassign them
            in the cases and in Workspace options → Teams.
          </p>
          {removing.email.toLowerCase() === session.user.email.toLowerCase() && (
            <p>
              <strong>This is you:</strong> you will be signed out.
            </p>
          )}
        </ConfirmDialog>
      )}
    </>
  );
}
