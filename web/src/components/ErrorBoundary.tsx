import { Component, type ReactNode } from 'react';
import { ErrorMessage } from './ErrorMessage';

interface State {
  error: unknown;
}

/**
 * Catches what a page throws while rendering, including a page file that cannot be fetched (the
 * network, or a new release replaced it): the rest of the app keeps working.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error };
  }

  override render() {
    if (this.state.error === null) return this.props.children;
    return (
      <>
        <h1>This page could not be shown</h1>
        <ErrorMessage
          title="Something went wrong while opening the page"
          error={this.state.error}
          // A fresh load fetches the current release's files.
          onRetry={() => window.location.reload()}
        />
      </>
    );
  }
}
