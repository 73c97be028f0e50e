import { formatNumber } from '../format';
import type { Direction } from '../types';
import { DirectionMarker } from './DirectionMarker';
import { TableScroll } from './TableScroll';

export interface HeatCell {
  row: string;
  column: string;
  value: number | null;
  n: number;
  lowSample: boolean;
  /** From `comparison.direction`: ▲ / ▼ when significantly different (not shown on low samples). */
  direction?: Direction | null;
}

export interface HeatmapHeader {
  key: string;
  label: string;
  /** Rows only: rows in a row with the same group share one group header (e.g. the life-cycle stage). */
  group?: string;
}

export interface HeatmapProps {
  /** The table's caption: what is shown, e.g. "NPS by life-cycle stage, personality type and touchpoint". */
  caption: string;
  /** Headers of the row-label columns: one, or two when rows have groups. */
  rowHeaders: string[];
  rows: HeatmapHeader[];
  columns: HeatmapHeader[];
  cells: HeatCell[];
  format: (value: number) => string;
  /** Colours run from red (worst) to green (best); false for measures where higher is worse. */
  higherIsBetter: boolean;
  /** What the markers compare with, for their text ("the rest"). */
  against?: string;
  /** Makes cells buttons, e.g. to drill into the encounters behind a cell. */
  onSelect?: (cell: HeatCell) => void;
  /** Which cells can be selected (all by default), e.g. not those whose group has no value. */
  canSelect?: (cell: HeatCell) => boolean;
  /** Said after a cell when it is a button, e.g. "show its extremes". */
  selectHint?: string;
}

/** Light backgrounds from red through yellow to green, so dark text keeps its contrast on all of them. */
const colour = (t: number) => `hsl(${Math.round(t * 125)} 70% ${87 + Math.round(Math.abs(t - 0.5) * 4)}%)`;

/** A table whose cells are coloured by value, with significance markers and greyed low samples. */
export const Heatmap = (props: HeatmapProps) => {
  const { caption, rowHeaders, rows, columns, cells, format, higherIsBetter, against = 'the rest' } = props;
  const lookup = new Map(cells.map((cell) => [`${cell.row}\u0000${cell.column}`, cell]));
  const trusted = cells
    .filter((cell) => cell.value !== null && !cell.lowSample)
    .map((cell) => cell.value as number);
  const min = Math.min(...trusted);
  const max = Math.max(...trusted);
  const position = (value: number) => {
    if (!(max > min)) return 0.5;
    const t = Math.min(1, Math.max(0, (value - min) / (max - min)));
    return higherIsBetter ? t : 1 - t;
  };
  const grouped = rows.some((row) => row.group !== undefined);

  return (
    <figure className="heatmap">
      <TableScroll label={caption}>
        <table>
          <caption>{caption}</caption>
          <thead>
            <tr>
              {rowHeaders.map((header) => (
                <th key={header} scope="col">
                  {header}
                </th>
              ))}
              {columns.map((column) => (
                <th key={column.key} scope="col">
                  {column.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, index) => {
              const firstOfGroup = grouped && rows[index - 1]?.group !== row.group;
              const span = rows.slice(index).findIndex((other) => other.group !== row.group);
              return (
                <tr key={row.key} className={firstOfGroup ? 'group-start' : undefined}>
                  {firstOfGroup && (
                    <th scope="rowgroup" rowSpan={span === -1 ? rows.length - index : span}>
                      {row.group}
                    </th>
                  )}
                  <th scope="row">{row.label}</th>
                  {columns.map((column) => {
                    const cell = lookup.get(`${row.key}\u0000${column.key}`);
                    if (!cell || cell.value === null) {
                      return (
                        <td key={column.key} className="heat-none">
                          <span aria-hidden="true">–</span>
                          <span className="visually-hidden">no data</span>
                        </td>
                      );
                    }
                    const low = cell.lowSample;
                    // Text for screen readers makes each cell (or button) say what and where it is.
                    const content = (
                      <>
                        <span className="visually-hidden">
                          {grouped ? `${row.group}, ` : ''}
                          {row.label}, {column.label}:{' '}
                        </span>
                        {format(cell.value)}
                        {/* A low sample is not evidence either way, whatever its test says. */}
                        <DirectionMarker direction={low ? null : cell.direction} against={against} />
                        {low && (
                          <span className="heat-n">
                            n {formatNumber(cell.n)}
                            <span className="visually-hidden">, low sample</span>
                          </span>
                        )}
                      </>
                    );
                    return (
                      <td
                        key={column.key}
                        className={cell.lowSample ? 'heat-low' : undefined}
                        style={cell.lowSample ? undefined : { background: colour(position(cell.value)) }}
                      >
                        {props.onSelect && (props.canSelect?.(cell) ?? true) ? (
                          <button type="button" onClick={() => props.onSelect?.(cell)}>
                            {content}
                            {props.selectHint && (
                              <span className="visually-hidden">: {props.selectHint}</span>
                            )}
                          </button>
                        ) : (
                          content
                        )}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableScroll>
      <figcaption className="heatmap-legend">
        <span>
          Colour: {higherIsBetter ? 'red lowest, green highest' : 'red highest (worst), green lowest'}.
        </span>{' '}
        <span>
          ▲ / ▼ significantly higher / lower than {against} (95%, corrected for multiple comparisons).
        </span>{' '}
        <span>
          <span className="swatch heat-low" aria-hidden="true" /> Grey: low sample, not reliable (no markers).
        </span>
      </figcaption>
    </figure>
  );
};
