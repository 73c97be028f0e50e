import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { ApiError } from '../api';

/** Any failure as an ApiError (a thrown non-API error becomes a client_error). */
export const toApiError = (error: unknown): ApiError =>
  error instanceof ApiError
    ? error
    : new ApiError(0, 'client_error', String((error as Error)?.message ?? error));

export interface ActionErrorProps {
  error: unknown;
  /** What failed, e.g. "The user was not added". */
  title: string;
  /** Optional id, so an input can point at the message with aria-describedby. */
  id?: string;
}

/**
 * Why a change was refused: the API's message and every field detail with its path, announced at
 * once. Unlike ErrorMessage (for loading), it does not suggest changing filters.
 */
export const ActionError = ({ error, title, id }: ActionErrorProps) => {
  const apiError = toApiError(error);
  return (
    <div className="error-message settings-action-error" role="alert" id={id}>
      <p className="error-title">{title}</p>
      <p>
        {apiError.message}
        {apiError.status > 0 && (
          <span className="muted">
            {' '}
            ({apiError.status} <code>{apiError.code}</code>)
          </span>
        )}
      </p>
      {apiError.details.length > 0 && (
        <ul className="settings-details">
          {apiError.details.map((detail, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: details may repeat; their order is fixed.
            <li key={i}>
              {detail.path ? <code>{detail.path}</code> : null}
              {detail.path ? ': ' : null}
              {detail.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
};

/** Copies text to the clipboard; false when the browser refuses (then the text is selected). */
const copyText = async (text: string, input: HTMLInputElement | null): Promise<boolean> => {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back to selecting the text
  }
  if (input) {
    input.focus();
    input.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
  return false;
};

export interface SecretBoxProps {
  /** What the secret is, e.g. "Password of ann@example.com". */
  label: string;
  value: string;
  /** What to do with it, after the "shown only now" warning. */
  children?: ReactNode;
  /** Hides the box ("I have copied it"). */
  onDismiss: () => void;
}

/**
 * A secret the API returns once (a password, an API key, a signing secret): in a read-only input
 * with a Copy button and a clear warning. It lives only in this component's state, so it is gone
 * when the box is dismissed or the page is left.
 */
export const SecretBox = ({ label, value, children, onDismiss }: SecretBoxProps) => {
  const inputId = useId();
  const noteId = useId();
  const input = useRef<HTMLInputElement>(null);
  const box = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);

  // Bring the secret into view and focus, so nobody misses it.
  useEffect(() => {
    box.current?.scrollIntoView({ block: 'nearest' });
    input.current?.focus();
    input.current?.select();
  }, []);

  const copy = async () => setCopied((await copyText(value, input.current)) ? 'yes' : 'no');

  return (
    <section className="settings-secret" aria-labelledby={`${inputId}-title`} ref={box}>
      <p className="settings-secret-title" id={`${inputId}-title`}>
        <strong>Shown only now.</strong> Copy it and keep it safe: it cannot be shown again after you leave
        this page.
      </p>
      <label htmlFor={inputId}>{label}</label>
      <div className="settings-secret-row">
        <input
          id={inputId}
          ref={input}
          readOnly
          value={value}
          spellCheck={false}
          autoComplete="off"
          aria-describedby={noteId}
          onFocus={(event) => event.currentTarget.select()}
        />
        <button type="button" onClick={copy}>
          Copy
        </button>
      </div>
      <p className="settings-secret-status" role="status">
        {copied === 'yes' && 'Copied to the clipboard.'}
        {copied === 'no' && 'The browser did not allow copying: the text is selected, press Ctrl+C (⌘C).'}
      </p>
      <div id={noteId} className="settings-secret-note">
        {children}
      </div>
      <div className="form-actions">
        <button type="button" className="secondary" onClick={onDismiss}>
          I have copied it, hide it
        </button>
      </div>
    </section>
  );
};

export interface ConfirmDialogProps {
  title: string;
  /** What will happen, in plain words. */
  children: ReactNode;
  /** The button that does it, e.g. "Remove user". */
  confirmLabel: string;
  /** Does it; a rejection is shown in the dialog (e.g. 409 last_admin), which stays open. */
  onConfirm: () => Promise<unknown>;
  /** After success, once the dialog has closed. */
  onDone?: () => void;
  onClose: () => void;
  /** Red confirm button (removing, revoking, deleting). */
  danger?: boolean;
}

/**
 * "Are you sure?" before a destructive change: a modal dialog (focus stays inside, Escape
 * cancels). Focus starts on Cancel, so pressing Enter by reflex changes nothing.
 */
export const ConfirmDialog = ({
  title,
  children,
  confirmLabel,
  onConfirm,
  onDone,
  onClose,
  danger = true,
}: ConfirmDialogProps) => {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const done = useRef(false);

  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    cancel.current?.focus();
  }, []);

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      done.current = true;
      dialog.current?.close();
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      className="dialog settings-dialog"
      aria-labelledby={titleId}
      onClose={() => {
        onClose();
        if (done.current) onDone?.();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="settings-dialog-body">{children}</div>
      {error ? <ActionError error={error} title="Not done" /> : null}
      <div className="form-actions">
        <button type="button" className={danger ? 'danger' : undefined} onClick={confirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
        <button type="button" className="secondary" ref={cancel} onClick={() => dialog.current?.close()}>
          Cancel
        </button>
      </div>
    </dialog>
  );
};

/** One change at a time with its busy flag and error (forms, row buttons). */
export const useAction = () => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (failure) {
      setError(failure);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
};

/** A JSON text parsed, or the reason it is not JSON (with the line and column when the browser tells). */
export const parseJson = (
  text: string,
): { ok: true; value: unknown } | { ok: false; message: string; path: string } => {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    if (position) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split('\n').length;
      const column = before.length - before.lastIndexOf('\n');
      return { ok: false, path: `line ${line}, column ${column}`, message };
    }
    return { ok: false, path: '', message };
  }
};

/** A client-side check that failed, shown like the API's field details. */
export const invalidInput = (message: string, details: { path: string; message: string }[]): ApiError =>
  new ApiError(0, 'invalid_input', message, details);
