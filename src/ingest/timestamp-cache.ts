import { parseTimestamp } from '../domain/timestamp.js';

// Validation and the row builder both read each timestamp of a batch; a bounded memo makes the
// second read free. Cleared when full, so memory stays small whatever the input.
const memo = new Map<string, number | null>();
const LIMIT = 20_000;

/** Epoch milliseconds of an ISO 8601 timestamp, or null when it is not one (see parseTimestamp). */
export const timestampMs = (text: string): number | null => {
  let ms = memo.get(text);
  if (ms === undefined) {
    ms = parseTimestamp(text)?.getTime() ?? null;
    if (memo.size >= LIMIT) memo.clear();
    memo.set(text, ms);
  }
  return ms;
};
