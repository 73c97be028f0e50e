/**
 * Runs `work` every `ms`, never twice at once (a tick while it runs is skipped), passing its errors
 * to `onError` (the next tick tries again). The timer does not keep the process alive. Returns a
 * stop that clears the timer and waits for a run in progress.
 *
 * @example const stop = every(1_000, () => foldStep(db, 5_000)); … await stop();
 */
export const every = (
  ms: number,
  work: () => Promise<unknown>,
  onError: (error: unknown) => void = () => {},
): (() => Promise<void>) => {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = work()
      .then(() => {}, onError)
      .finally(() => {
        running = null;
      });
  }, ms);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
};
