import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';

const MIN_LENGTH = 10;

/** Change the signed-in user's password (a modal dialog: focus stays inside, Escape closes it). */
export const PasswordDialog = ({ onClose }: { onClose: () => void }) => {
  const dialog = useRef<HTMLDialogElement>(null);
  const [status, setStatus] = useState<
    { kind: 'idle' | 'busy' | 'done' } | { kind: 'error'; message: string }
  >({
    kind: 'idle',
  });

  useEffect(() => {
    dialog.current?.showModal();
  }, []);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const currentPassword = String(form.get('currentPassword') ?? '');
    const newPassword = String(form.get('newPassword') ?? '');
    if (newPassword !== String(form.get('repeatPassword') ?? '')) {
      setStatus({ kind: 'error', message: 'The new password and its repetition differ. Type them again.' });
      return;
    }
    setStatus({ kind: 'busy' });
    try {
      await api('/auth/password', {
        method: 'POST',
        body: { currentPassword, newPassword },
        expectUnauthorized: true,
      });
      setStatus({ kind: 'done' });
    } catch (error) {
      const message =
        error instanceof ApiError && error.status === 401
          ? 'The current password is wrong. Type it again.'
          : error instanceof ApiError
            ? [error.message, ...error.details.map((detail) => detail.message)].join(' ')
            : 'The password could not be changed. Try again.';
      setStatus({ kind: 'error', message });
    }
  };

  return (
    <dialog ref={dialog} className="dialog" aria-labelledby="password-title" onClose={onClose}>
      <h2 id="password-title">Change password</h2>
      {status.kind === 'done' ? (
        <>
          <p role="status">Your password has been changed.</p>
          <div className="form-actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Close
            </button>
          </div>
        </>
      ) : (
        <form onSubmit={submit}>
          <label>
            Current password
            <input name="currentPassword" type="password" autoComplete="current-password" required />
          </label>
          <label>
            New password (at least {MIN_LENGTH} characters)
            <input
              name="newPassword"
              type="password"
              autoComplete="new-password"
              minLength={MIN_LENGTH}
              required
            />
          </label>
          <label>
            New password again
            <input
              name="repeatPassword"
              type="password"
              autoComplete="new-password"
              minLength={MIN_LENGTH}
              required
            />
          </label>
          {status.kind === 'error' && (
            <p className="form-error" role="alert">
              {status.message}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" disabled={status.kind === 'busy'}>
              {status.kind === 'busy' ? 'Changing…' : 'Change password'}
            </button>
            <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
};
