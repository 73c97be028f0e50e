import type { ReactNode } from 'react';

export interface EmptyProps {
  /** What is missing, e.g. "No feedback in this period". */
  title: string;
  /** What to do about it; by default a hint to widen the filters. */
  children?: ReactNode;
}

export const Empty = ({ title, children }: EmptyProps) => (
  <div className="empty">
    <p className="empty-title">{title}</p>
    <p>{children ?? 'Choose a longer period or remove some filters.'}</p>
  </div>
);
