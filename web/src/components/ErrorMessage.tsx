import { ApiError } from '../api';

/** What to do about an error, by its kind: the API's message says what happened. */
const advice = (error: ApiError): string => {
  if (error.code === 'network_error') return 'Check the network connection, then try again.';
  if (error.code === 'client_error')
    return 'Reload the page; a new version of Touchpoint may have been installed.';
  if (error.status === 0) return 'Correct what is named above, then try again.';
  if (error.status === 400) return 'Change the filters or the input named above, then try again.';
  if (error.status === 401) return 'Sign in again.';
  if (error.status === 403)
    return 'Your role does not allow this. Ask an administrator of the workspace for access.';
  if (error.status === 404) return 'It may have been removed, or the link is wrong.';
  if (error.status === 429) return 'Too many requests in a short time: wait a minute, then try again.';
  return 'Try again; if it keeps happening, tell the administrator of this Touchpoint installation.';
};

export interface ErrorMessageProps {
  error: unknown;
  /** Headline; by default "Could not load this". */
  title?: string;
  /** Shows a "Try again" button. */
  onRetry?: () => void;
}

/** An error that says what happened and what to do; announced at once (role alert). */
export const ErrorMessage = ({ error, title = 'Could not load this', onRetry }: ErrorMessageProps) => {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(0, 'client_error', String((error as Error)?.message ?? error));
  return (
    <div className="error-message" role="alert">
      <p className="error-title">{title}</p>
      <p>{apiError.message}</p>
      {apiError.details.length > 0 && (
        <ul>
          {apiError.details.map((detail) => (
            <li key={`${detail.path}:${detail.message}`}>
              {detail.path ? <code>{detail.path}</code> : null} {detail.message}
            </li>
          ))}
        </ul>
      )}
      <p>{advice(apiError)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
};
