import { type KeyboardEvent as ReactKeyboardEvent, useEffect, useRef } from 'react';
import { Link } from 'wouter';
import { formatDateTime } from '../format';
import {
  type CaseSummary,
  currentClock,
  formatAge,
  PriorityBadge,
  SeverityLabel,
  SlaText,
  StatusBadge,
  useNow,
} from './CaseParts';
import { placeName } from './CustomerTimeline';
import { TableScroll } from './TableScroll';

export interface CaseTableProps {
  caption: string;
  cases: CaseSummary[];
  /** Leave out the customer column (on the customer's own page). */
  hideCustomer?: boolean;
  /** j / k move between the rows from anywhere on the page (not while typing in a field). */
  shortcuts?: boolean;
}

const isTyping = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName));

/**
 * Cases as a table whose rows are links (Tab and Enter); j / k or the arrow keys move between the
 * case links, Enter opens the one with focus.
 */
export const CaseTable = ({ caption, cases, hideCustomer = false, shortcuts = false }: CaseTableProps) => {
  const now = useNow();
  const body = useRef<HTMLTableSectionElement>(null);

  const links = () => Array.from(body.current?.querySelectorAll<HTMLAnchorElement>('a.case-link') ?? []);
  const move = (step: number) => {
    const all = links();
    if (all.length === 0) return;
    const index = all.indexOf(document.activeElement as HTMLAnchorElement);
    const next = index === -1 ? (step > 0 ? 0 : all.length - 1) : index + step;
    const target = all[Math.min(all.length - 1, Math.max(0, next))];
    target?.focus();
    target?.closest('tr')?.scrollIntoView({ block: 'nearest' });
  };

  // biome-ignore lint/correctness/useExhaustiveDependencies: move reads the rows at key time.
  useEffect(() => {
    if (!shortcuts) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
      if (event.key === 'j') {
        event.preventDefault();
        move(1);
      } else if (event.key === 'k') {
        event.preventDefault();
        move(-1);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [shortcuts]);

  // Inside the table the arrow keys move too (links do not use them).
  const onTableKey = (event: ReactKeyboardEvent) => {
    if (!(event.target instanceof HTMLAnchorElement) || !event.target.classList.contains('case-link')) return;
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      move(1);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      move(-1);
    }
  };

  return (
    <TableScroll label={caption}>
      <table className="data-table case-table">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Priority</th>
            <th scope="col">Case</th>
            {!hideCustomer && (
              <th scope="col" className="case-col-customer">
                Customer
              </th>
            )}
            <th scope="col">Touchpoint</th>
            <th scope="col">Owner</th>
            <th scope="col">Status</th>
            <th scope="col">SLA</th>
            <th scope="col">Age</th>
          </tr>
        </thead>
        <tbody ref={body} onKeyDown={onTableKey}>
          {cases.map((kase) => {
            const clock = currentClock(kase, now);
            return (
              <tr key={kase.id} className={clock.state === 'breached' ? 'case-row-breached' : undefined}>
                <td>
                  <PriorityBadge priority={kase.priority} />
                  <span className="cell-margin">
                    <SeverityLabel severity={kase.severity} />
                  </span>
                </td>
                <td className="case-title-cell">
                  <Link className="case-link" href={`/cases/${kase.id}`}>
                    <span className="case-number">#{kase.id}</span> {kase.title}
                  </Link>
                  {kase.alertCount > 1 && <span className="cell-margin">{kase.alertCount} alerts</span>}
                </td>
                {!hideCustomer && (
                  <td className="case-col-customer">
                    {kase.customer ? (
                      (kase.customer.name ?? kase.customer.externalId)
                    ) : (
                      <span className="muted">Unknown</span>
                    )}
                  </td>
                )}
                <td>
                  {placeName(kase.touchpoint)}
                  {kase.channel && <span className="cell-margin">{placeName(kase.channel)}</span>}
                </td>
                <td>
                  {kase.owner ?? <span className="muted">Unassigned</span>}
                  {kase.team && <span className="cell-margin">Team {kase.team}</span>}
                </td>
                <td>
                  <StatusBadge status={kase.status} />
                  {kase.escalationLevel > 0 && <span className="cell-margin">Escalated</span>}
                </td>
                <td className="case-sla-cell">
                  <SlaText clock={clock} compact />
                </td>
                <td className="case-age-cell">
                  <span title={formatDateTime(kase.createdAt)}>{formatAge(kase.createdAt, now)}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </TableScroll>
  );
};
