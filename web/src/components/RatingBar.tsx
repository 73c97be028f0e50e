import { formatNumber } from '../format';

export const RATINGS = ['disastrous', 'poor', 'neutral', 'good', 'fabulous'] as const;

export interface RatingBarProps {
  /** Counts per experience rating, e.g. the `distribution` of topBoxShare or bottomBoxShare. */
  distribution: Record<string, number> | undefined;
  /** Names the bar for assistive technology; by default "Experience ratings". */
  label?: string;
}

/** How encounters spread from disastrous to fabulous: a stacked bar, with the numbers as text below. */
export const RatingBar = ({ distribution, label = 'Experience ratings' }: RatingBarProps) => {
  const counts = RATINGS.map((rating) => distribution?.[rating] ?? 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return <p className="muted">No rated encounters.</p>;
  const share = (count: number) => (count / total) * 100;
  return (
    <figure className="rating-bar">
      <figcaption className="visually-hidden">{label}</figcaption>
      {/* The bar is a picture of the list below, which carries the same numbers as text. */}
      <div className="rating-bar-track" aria-hidden="true">
        {RATINGS.map((rating, i) =>
          counts[i] ? (
            <span key={rating} className={`rating-${rating}`} style={{ width: `${share(counts[i])}%` }} />
          ) : null,
        )}
      </div>
      <ul className="rating-legend">
        {RATINGS.map((rating, i) => (
          <li key={rating}>
            <span className={`swatch rating-${rating}`} aria-hidden="true" />
            {rating} {formatNumber(share(counts[i] ?? 0), 1)}%
            <span className="visually-hidden"> ({formatNumber(counts[i] ?? 0)} encounters)</span>
          </li>
        ))}
      </ul>
    </figure>
  );
};
