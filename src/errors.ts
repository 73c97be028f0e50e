/** One problem with one field of the input, e.g. `{ path: "[3].nps", message: "must be 0–10" }`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

/**
 * The one error type of Touchpoint. It carries the HTTP status and a stable machine-readable
 * `code`; the HTTP layer renders it as `{"error":{"code","message","details"}}` and the CLI prints
 * its message. Anything else that escapes is a bug and becomes a logged 500.
 *
 * @example throw new AppError(404, 'not_found', 'No customer with externalId "C-1"');
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

/** Whether a database error is a unique-key violation (SQLSTATE 23505), on either database. */
export const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === '23505';
