/** A wait that screen readers announce (role status is a polite live region). */
export const Loading = ({ label = 'Loading…' }: { label?: string }) => (
  <p className="loading" role="status">
    <span className="spinner" aria-hidden="true" />
    {label}
  </p>
);
