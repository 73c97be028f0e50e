import type { Direction } from '../types';

export interface DirectionMarkerProps {
  /** From `comparison.direction`: a significant difference, or none. */
  direction: Direction | null | undefined;
  /** What the value was compared with, for the text alternative ("the rest"). */
  against: string;
}

/** ▲ / ▼ for a statistically significant difference, with a text alternative; nothing otherwise. */
export const DirectionMarker = ({ direction, against }: DirectionMarkerProps) => {
  if (direction !== 'higher' && direction !== 'lower') return null;
  return (
    <span className={`marker marker-${direction}`}>
      <span aria-hidden="true">{direction === 'higher' ? '▲' : '▼'}</span>
      <span className="visually-hidden">
        {direction === 'higher' ? 'significantly higher' : 'significantly lower'} than {against}
      </span>
    </span>
  );
};
