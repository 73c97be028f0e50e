import { useCallback, useEffect, useState } from 'react';
import { ApiError, api, apiUrl, isAbort, type Query } from './api';

export interface ApiState<T> {
  /** The last answer; kept while a new request (other filters) is on its way. */
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * GET a path whenever it or its query changes; `null` waits (nothing to ask yet). An older request
 * still running is aborted, so a slow answer never overwrites a newer one.
 */
export const useApi = <T>(path: string | null, query?: Query): ApiState<T> => {
  const key = path === null ? null : apiUrl(path, query);
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: key !== null,
  });
  const [round, setRound] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: the URL key stands for path and query; round re-runs it.
  useEffect(() => {
    if (path === null) return;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, error: undefined, loading: true }));
    api<T>(path, { query, signal: controller.signal }).then(
      (data) => setState({ data, loading: false }),
      (error: unknown) => {
        if (isAbort(error)) return;
        const failure =
          error instanceof ApiError
            ? error
            : new ApiError(0, 'client_error', String((error as Error)?.message));
        setState((previous) => ({ ...previous, error: failure, loading: false }));
      },
    );
    return () => controller.abort();
  }, [key, round]);

  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
};
