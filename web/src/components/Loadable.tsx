import type { ReactNode } from 'react';
import type { ApiState } from '../useApi';
import { ErrorMessage } from './ErrorMessage';
import { Loading } from './Loading';

export interface LoadableProps<T> {
  state: ApiState<T>;
  /** Announced while waiting, e.g. "Loading the trend…". */
  label?: string;
  children: (data: T) => ReactNode;
}

/**
 * The loading, error and data states of one request (useApi). While newer data is on its way the
 * last answer stays, dimmed and marked busy, so the page does not jump.
 */
export const Loadable = <T,>({ state, label, children }: LoadableProps<T>) => {
  if (state.error) return <ErrorMessage error={state.error} onRetry={state.reload} />;
  if (state.data === undefined) return <Loading label={label} />;
  return (
    <div aria-busy={state.loading} className={state.loading ? 'stale' : undefined}>
      {children(state.data)}
    </div>
  );
};
