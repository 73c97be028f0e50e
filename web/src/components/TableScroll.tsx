import type { ReactNode } from 'react';

/**
 * A wide table that scrolls sideways on narrow screens. The region is named and focusable, so
 * keyboard users can scroll it too (WCAG 2.1.1; axe rule scrollable-region-focusable).
 */
export const TableScroll = ({ label, children }: { label: string; children: ReactNode }) => (
  // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
  <section className="table-scroll" aria-label={label} tabIndex={0}>
    {children}
  </section>
);
