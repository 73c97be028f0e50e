// deadlock_detected and serialization_failure: the transaction did nothing and can run again.
const RETRYABLE = new Set(['40P01', '40001']);

/** Runs a transaction again (up to 3 times) when PostgreSQL aborted it for a deadlock. */
export const withRetry = async <T>(run: () => Promise<T>, attempts = 3): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= attempts || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
};
