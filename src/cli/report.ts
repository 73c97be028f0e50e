import type { MeasureResult, MetricsResult, MetricsRow } from '../analytics/metrics.js';
import type { RecoveryRow } from '../closed-loop/case-work.js';
import type { Measure } from '../domain/metrics.js';
import type { FunnelCounts } from '../surveys/response-rates.js';

const SHARES = new Set<Measure>([
  'csat',
  'ces',
  'topBoxShare',
  'bottomBoxShare',
  'poorShare',
  'transferRate',
  'firstContactResolution',
  'repeatContactRate',
]);
const COUNTS = new Set<Measure>(['responses', 'contacts']);

const number = (value: number, digits: number) =>
  value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** "−12.3 ±4.1", "72.5% ±0.9", "112.55 s ±2.41", "1,234"; "–" when there is no value. */
const formatValue = (measure: Measure, result: MeasureResult | undefined): string => {
  if (!result || result.value === null) return '–';
  if (COUNTS.has(measure)) return number(result.value, 0);
  const unit = SHARES.has(measure) ? '%' : measure === 'avgWaitSeconds' ? ' s' : '';
  const margin = result.moe === null ? '' : ` ±${number(result.moe, 1)}`;
  return `${number(result.value, 1)}${unit}${margin}`;
};

const ARROWS = { higher: '▲', lower: '▼', same: '=' } as const;

const cellText = (measure: Measure, result: MeasureResult | undefined) => {
  let text = formatValue(measure, result);
  if (result?.lowSample && !COUNTS.has(measure)) text += '*';
  const direction = result?.comparison?.direction;
  if (direction) text += ` ${ARROWS[direction]}`;
  return text;
};

/**
 * The metrics as a table for the terminal: a column per dimension, then per measure its value
 * with the margin, and n. `*` marks a low sample, ▲/▼ a significant difference.
 */
export const formatReport = (result: MetricsResult): string => {
  const header = [...result.by, ...result.measures.flatMap((m) => (COUNTS.has(m) ? [m] : [m, 'n']))];
  const line = (row: MetricsRow, label: (dimension: string) => string) => [
    ...result.by.map(label),
    ...result.measures.flatMap((m) =>
      COUNTS.has(m)
        ? [cellText(m, row.measures[m])]
        : [cellText(m, row.measures[m]), number(row.measures[m]?.n ?? 0, 0)],
    ),
  ];
  const body = result.rows.map((row) => line(row, (d) => row.group[d] ?? '(none)'));
  if (result.by.length > 0) body.push(line(result.total, () => '(all)'));
  else body.push(line(result.total, () => ''));
  const widths = header.map((title, i) =>
    Math.max(title.length, ...body.map((cells) => (cells[i] ?? '').length)),
  );
  const dimensions = result.by.length;
  const pad = (cells: string[]) =>
    cells
      .map((text, i) => (i < dimensions ? text.padEnd(widths[i] ?? 0) : text.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  const lines = [pad(header), rule, ...body.slice(0, -1).map(pad)];
  if (result.by.length > 0) lines.push(rule);
  lines.push(pad(body.at(-1) as string[]));
  const notes = [
    `95% margins (±). * fewer than ${result.minN} answers: low sample.`,
    ...(result.compare
      ? [
          `▲/▼ significantly higher/lower than ${result.compare === 'rest' ? 'the rest' : 'the previous period'}, = no significant difference (Benjamini–Hochberg, adjusted p < 0.05).`,
        ]
      : []),
    ...(result.from || result.to
      ? [`Period: ${result.from ?? 'start'} to ${result.to ?? 'now'} (end excluded).`]
      : []),
  ];
  return `${lines.join('\n')}\n\n${notes.join('\n')}\n`;
};

/** A plain table: left-aligned label columns, right-aligned numbers, a rule under the header. */
export const formatTable = (header: string[], rows: string[][], labels: number): string => {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((cells) => (cells[i] ?? '').length)),
  );
  const pad = (cells: string[]) =>
    cells
      .map((text, i) => (i < labels ? text.padEnd(widths[i] ?? 0) : text.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[pad(header), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(pad)].join('\n')}\n`;
};

const FUNNEL = ['invited', 'delivered', 'opened', 'started', 'completed', 'suppressed', 'failed'] as const;

/** Response rates as header and rows (the total last), for the terminal or CSV. */
export const responseRateTable = (result: {
  by: readonly string[];
  total: FunnelCounts;
  rows: (FunnelCounts & { group: Record<string, string | null> })[];
}): { header: string[]; rows: string[][] } => {
  const cells = (counts: FunnelCounts) => [
    ...FUNNEL.map((name) => number(counts[name], 0)),
    counts.responseRate === null ? '–' : `${number(counts.responseRate, 1)}%`,
  ];
  return {
    header: [...result.by, ...FUNNEL, 'responseRate'],
    rows: [
      ...result.rows.map((row) => [...result.by.map((d) => row.group[d] ?? '(none)'), ...cells(row)]),
      [...result.by.map(() => '(all)'), ...cells(result.total)],
    ],
  };
};

const RECOVERY_COUNTS = ['closed', 'recovered', 'notRecovered', 'unknown', 'pending'] as const;

/** Recovery of closed cases as header and rows (the total last), for the terminal or CSV. */
export const recoveryTable = (result: {
  by: string;
  rows: RecoveryRow[];
  total: RecoveryRow;
}): { header: string[]; rows: string[][] } => {
  const cells = (row: RecoveryRow) => [
    ...RECOVERY_COUNTS.map((name) => number(row[name], 0)),
    row.recoveryRate === null ? '–' : `${number(row.recoveryRate * 100, 1)}%`,
  ];
  const label = (row: RecoveryRow) =>
    row.key === null ? '(none)' : row.label && row.label !== row.key ? `${row.label} (${row.key})` : row.key;
  return {
    header: [result.by, ...RECOVERY_COUNTS, 'recoveryRate'],
    rows: [...result.rows.map((row) => [label(row), ...cells(row)]), ['(all)', ...cells(result.total)]],
  };
};
