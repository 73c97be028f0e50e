/**
 * The statistics behind honest numbers: distributions, confidence intervals and tests. Pure
 * functions, checked against values from R in statistics.test.ts.
 */

/** 95% two-sided: the standard normal quantile 0.975. */
export const Z95 = 1.959963984540054;

/** Complementary error function, |relative error| < 1.2e-7 (Numerical Recipes, erfcc). */
const erfc = (x: number): number => {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
};

/** P(Z ≤ z) for a standard normal Z. */
export const normalCdf = (z: number): number => 0.5 * erfc(-z / Math.SQRT2);

/** Two-sided p-value of a z statistic. */
export const normalTwoSidedP = (z: number): number => Math.min(1, erfc(Math.abs(z) / Math.SQRT2));

const logGamma = (x: number): number => {
  // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [
    0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
    12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const y = x - 1;
  let a = c[0] as number;
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += (c[i] as number) / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
};

/** Continued fraction of the incomplete beta function (modified Lentz). */
const betaFraction = (a: number, b: number, x: number): number => {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
};

/** The regularized incomplete beta function I_x(a, b). */
export const incompleteBeta = (x: number, a: number, b: number): number => {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
};

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as in Welch). */
export const studentTCdf = (t: number, df: number): number => {
  if (!Number.isFinite(df)) return normalCdf(t);
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
};

/** Two-sided p-value of a t statistic. */
export const studentTTwoSidedP = (t: number, df: number): number =>
  Math.min(1, 2 * (1 - studentTCdf(Math.abs(t), df)));

/** The quantile of Student's t: the t with P(T ≤ t) = p (bisection on the CDF; p in (0, 1)). */
export const studentTQuantile = (p: number, df: number): number => {
  if (p === 0.5) return 0;
  let low = -1;
  let high = 1;
  while (studentTCdf(low, df) > p) low *= 2;
  while (studentTCdf(high, df) < p) high *= 2;
  for (let i = 0; i < 200 && high - low > 1e-12 * Math.max(1, Math.abs(high)); i++) {
    const mid = (low + high) / 2;
    if (studentTCdf(mid, df) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
};

/** A proportion with its 95% Wilson score interval. All values are fractions (0–1). */
export interface ProportionEstimate {
  value: number;
  low: number;
  high: number;
}

/** The Wilson score interval of `successes` out of `n` (n > 0). */
export const wilson = (successes: number, n: number, z = Z95): ProportionEstimate => {
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return {
    value: p,
    low: successes === 0 ? 0 : Math.max(0, centre - half),
    high: successes === n ? 1 : Math.min(1, centre + half),
  };
};

/** Two-proportion z-test (pooled): two-sided p-value that p1 and p2 differ. Null when undefined. */
export const twoProportionP = (x1: number, n1: number, x2: number, n2: number): number | null => {
  if (n1 === 0 || n2 === 0) return null;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (se === 0) return x1 / n1 === x2 / n2 ? 1 : 0;
  return normalTwoSidedP((x1 / n1 - x2 / n2) / se);
};

/** A sample summarised by n, Σx and Σx² (what rollups store). */
export interface Moments {
  n: number;
  sum: number;
  sumSquares: number;
}

/** The sample variance from moments (n > 1), never negative from rounding. */
export const sampleVariance = ({ n, sum, sumSquares }: Moments): number =>
  Math.max(0, (sumSquares - (sum * sum) / n) / (n - 1));

/** Welch's t-test: two-sided p-value that the two means differ. Null when n < 2 on either side. */
export const welchP = (a: Moments, b: Moments): number | null => {
  if (a.n < 2 || b.n < 2) return null;
  const va = sampleVariance(a) / a.n;
  const vb = sampleVariance(b) / b.n;
  const difference = a.sum / a.n - b.sum / b.n;
  if (va + vb === 0) return difference === 0 ? 1 : 0;
  const t = difference / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return studentTTwoSidedP(t, df);
};

/**
 * Benjamini–Hochberg: p-values adjusted for the false discovery rate across a family of tests,
 * in the input order. Nulls (no test) stay null and do not count.
 */
export const benjaminiHochberg = (pValues: readonly (number | null)[]): (number | null)[] => {
  const tested = pValues
    .map((p, index) => ({ p, index }))
    .filter((entry): entry is { p: number; index: number } => entry.p !== null)
    .sort((x, y) => x.p - y.p);
  const m = tested.length;
  const adjusted: (number | null)[] = pValues.map(() => null);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const entry = tested[rank - 1] as { p: number; index: number };
    running = Math.min(running, (entry.p * m) / rank);
    adjusted[entry.index] = Math.min(1, running);
  }
  return adjusted;
};
