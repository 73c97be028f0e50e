/**
 * The one way the dashboard talks to the API: same-origin fetch with the session cookie, the CSRF
 * token on every change, and errors turned into ApiError with the API's code, message and details.
 */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type QueryValue = string | number | boolean | null | undefined | readonly string[];
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  signal?: AbortSignal;
  /**
   * A 401 is an answer of this request (a wrong password), not a lost session: do not send the
   * user to the login page.
   */
  expectUnauthorized?: boolean;
}

let csrfToken: string | null = null;
/** Set from the session; sent as X-CSRF-Token on every request that changes something. */
export const setCsrfToken = (token: string | null): void => {
  csrfToken = token;
};

let onUnauthorized: () => void = () => {
  const here = window.location.pathname + window.location.search;
  window.location.assign(`/app/login?next=${encodeURIComponent(here)}`);
};
/** What happens when the session has ended (the app shows the login page and keeps the wanted URL). */
export const setUnauthorizedHandler = (handler: () => void): void => {
  onUnauthorized = handler;
};

/** `/api/v1/…` with a query string; arrays repeat the parameter (`filter=a&filter=b`), empty values are left out. */
export const apiUrl = (path: string, query: Query = {}): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value)) for (const item of value) params.append(key, item);
    else params.append(key, String(value));
  }
  const search = params.toString();
  return `/api/v1${path}${search ? `?${search}` : ''}`;
};

const errorOf = async (response: Response): Promise<ApiError> => {
  try {
    const body = (await response.json()) as {
      error?: { code?: string; message?: string; details?: ErrorDetail[] };
    };
    if (body.error?.message) {
      return new ApiError(
        response.status,
        body.error.code ?? 'error',
        body.error.message,
        body.error.details ?? [],
      );
    }
  } catch {
    // Not JSON (a proxy's error page): fall through to a message made from the status.
  }
  return new ApiError(
    response.status,
    'http_error',
    `The server answered ${response.status} ${response.statusText}`.trim(),
  );
};

/** Calls the API; resolves to the JSON body (undefined for 204), rejects with ApiError. */
export const api = async <T>(path: string, options: RequestOptions = {}): Promise<T> => {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(apiUrl(path, options.query), {
      method,
      headers,
      credentials: 'same-origin',
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(
      0,
      'network_error',
      'The server could not be reached. Check the connection and try again.',
    );
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !options.expectUnauthorized) onUnauthorized();
    throw error;
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
};

/** Whether an error is the abort of a request that is no longer wanted (not worth showing). */
export const isAbort = (error: unknown): boolean =>
  error instanceof DOMException && error.name === 'AbortError';
