import type { RecordType } from '../domain/vocabulary.js';
import { AppError, type ErrorDetail } from '../errors.js';
import { issuesToDetails } from '../validation.js';
import { MAX_BATCH, type RecordInputs, recordParsers, recordSchemas } from './schemas.js';

export type RecordResult<T extends RecordType> =
  | { ok: true; value: RecordInputs[T] }
  | { ok: false; details: ErrorDetail[] };

/** Validates one record; the details' paths start at the record (`nps`, `answers.wifi`). */
export const validateRecord = <T extends RecordType>(
  type: T,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): RecordResult<T> => {
  const value = recordParsers[type](input);
  if (value !== undefined) return { ok: true, value: value as RecordInputs[T] };
  const result = recordSchemas[type].safeParse(input);
  if (result.success) return { ok: true, value: result.data as RecordInputs[T] };
  return {
    ok: false,
    details: issuesToDetails(
      result.error.issues,
      prefix,
      'is not a known field (put extra data in attributes or answers)',
    ),
  };
};

/**
 * Validates a request body of one record or an array of up to {@link MAX_BATCH}. Every problem of
 * every item is reported (`[3].nps`); a batch with any invalid item is rejected as a whole.
 */
export const validateBatch = <T extends RecordType>(type: T, body: unknown): RecordInputs[T][] => {
  if (!Array.isArray(body)) {
    if (body === null || typeof body !== 'object') {
      throw new AppError(400, 'validation_failed', 'The body must be a JSON object or an array of objects', [
        { path: '', message: `must be an object or an array, got ${body === null ? 'null' : typeof body}` },
      ]);
    }
    const result = validateRecord(type, body);
    if (result.ok) return [result.value];
    throw invalid(result.details, 1);
  }
  if (body.length === 0) {
    throw new AppError(400, 'validation_failed', 'The batch is empty', [
      { path: '', message: 'must have at least 1 item' },
    ]);
  }
  if (body.length > MAX_BATCH) {
    throw new AppError(
      413,
      'batch_too_large',
      `A batch holds at most ${MAX_BATCH} records; this one has ${body.length}. Split it into smaller batches.`,
    );
  }
  const values: RecordInputs[T][] = [];
  const details: ErrorDetail[] = [];
  let invalidItems = 0;
  for (let index = 0; index < body.length; index++) {
    const result = validateRecord(type, body[index], [index]);
    if (result.ok) values.push(result.value);
    else {
      invalidItems++;
      details.push(...result.details);
    }
  }
  if (details.length > 0) throw invalid(details, invalidItems);
  return values;
};

const invalid = (details: ErrorDetail[], items: number) =>
  new AppError(
    400,
    'validation_failed',
    `${items} record${items === 1 ? ' is' : 's are'} invalid; nothing was written. Fix the fields listed in details.`,
    details,
  );
