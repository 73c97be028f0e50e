/**
 * A signal, within this process, that records (interactions, feedback, events) were written: the
 * closed loop listens, so alert rules look at new records at once instead of at their next poll.
 */
const listeners = new Set<() => void>();

/** Calls `listener` after each write of records; returns the function that stops it. */
export const onRecordsWritten = (listener: () => void): (() => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

export const recordsWritten = (): void => {
  for (const listener of listeners) listener();
};
