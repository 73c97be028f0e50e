import { describe, expect, test } from 'vitest';
import {
  benjaminiHochberg,
  normalCdf,
  normalTwoSidedP,
  sampleVariance,
  studentTCdf,
  studentTQuantile,
  twoProportionP,
  welchP,
  wilson,
} from './statistics.js';

// Reference values: R / SciPy (pt, qt, pnorm, t.test with var.equal = FALSE, p.adjust "BH") and
// Newcombe (1998), Statistics in Medicine 17:857, table I, for the Wilson intervals.

describe('distributions', () => {
  test.each([
    [-3, 0.0013498980316300933],
    [-1.2, 0.11506967022170822],
    [0, 0.5],
    [0.5, 0.6914624612740131],
    [1.96, 0.9750021048517795],
    [4, 0.9999683287581669],
  ])('normal CDF at %s', (z, expected) => {
    expect(normalCdf(z)).toBeCloseTo(expected, 6);
  });

  test('two-sided normal p-value is symmetric and 0.05 at 1.96', () => {
    expect(normalTwoSidedP(1.959963984540054)).toBeCloseTo(0.05, 6);
    expect(normalTwoSidedP(-2.5)).toBeCloseTo(normalTwoSidedP(2.5), 12);
    expect(normalTwoSidedP(0)).toBe(1);
  });

  test.each([
    [2.0, 10, 0.9633059826146299],
    [-1.5, 3.7, 0.10679908460100675],
    [0.3, 1, 0.5927735790777423],
    [4.2, 120.5, 0.9999742905908907],
    [-2.5, 2, 0.06480586011075541],
  ])("Student's t CDF at t = %s, df = %s", (t, df, expected) => {
    expect(studentTCdf(t, df)).toBeCloseTo(expected, 9);
  });

  test.each([
    [0.975, 1, 12.706204736174694],
    [0.975, 5, 2.5705818356363146],
    [0.975, 29, 2.045229642132703],
    [0.975, 1000, 1.9623390808264083],
    [0.025, 12.3, -2.1729334817589625],
  ])("Student's t quantile p = %s, df = %s", (p, df, expected) => {
    expect(studentTQuantile(p, df)).toBeCloseTo(expected, 7);
  });
});

describe('Wilson score interval (Newcombe 1998, table I)', () => {
  test.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ])('%s of %s', (x, n, low, high) => {
    const estimate = wilson(x, n);
    expect(estimate.value).toBeCloseTo(x / n, 12);
    expect(estimate.low).toBeCloseTo(low, 4);
    expect(estimate.high).toBeCloseTo(high, 4);
  });

  test('all successes: the interval ends at 1 and is not degenerate', () => {
    const estimate = wilson(10, 10);
    expect(estimate.high).toBe(1);
    expect(estimate.low).toBeCloseTo(1 - 0.2775, 4);
  });
});

describe('tests of a difference', () => {
  test('two-proportion z (pooled), by hand: 45/100 vs 30/100 → z = 2.191, p = 0.0285', () => {
    // pooled p = 0.375; se = √(0.375 × 0.625 × 0.02) = 0.068465; z = 0.15 / 0.068465 = 2.1909.
    expect(twoProportionP(45, 100, 30, 100)).toBeCloseTo(0.02845973691631055, 6);
    expect(twoProportionP(30, 100, 45, 100)).toBeCloseTo(0.02845973691631055, 6);
  });

  test('two-proportion z: equal shares give p = 1; an empty side gives no test', () => {
    expect(twoProportionP(20, 40, 10, 20)).toBeCloseTo(1, 12);
    expect(twoProportionP(0, 10, 0, 30)).toBe(1);
    expect(twoProportionP(10, 10, 0, 10)).toBeLessThan(1e-4);
    expect(twoProportionP(3, 10, 0, 0)).toBeNull();
  });

  /** Moments of a sample with the given mean, standard deviation and n. */
  const moments = (mean: number, sd: number, n: number) => ({
    n,
    sum: mean * n,
    sumSquares: sd * sd * (n - 1) + mean * mean * n,
  });

  test('sample variance from moments: 2, 4, 4, 4, 5, 5, 7, 9 → 32/7', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9];
    const m = {
      n: xs.length,
      sum: xs.reduce((a, b) => a + b),
      sumSquares: xs.reduce((a, b) => a + b * b, 0),
    };
    expect(sampleVariance(m)).toBeCloseTo(32 / 7, 12);
  });

  test.each([
    [[5.2, 1.3, 40], [4.6, 2.1, 35], 0.14920200041895595],
    [[3.0, 1.0, 5], [4.0, 3.0, 8], 0.4070758582067751],
  ])("Welch's t: mean/sd/n %j vs %j", (a, b, expected) => {
    const [ma, sa, na] = a as [number, number, number];
    const [mb, sb, nb] = b as [number, number, number];
    expect(welchP(moments(ma, sa, na), moments(mb, sb, nb))).toBeCloseTo(expected, 8);
  });

  test("Welch's t: fewer than two on a side gives no test; no spread gives 0 or 1", () => {
    expect(welchP(moments(3, 1, 1), moments(4, 1, 10))).toBeNull();
    expect(welchP({ n: 3, sum: 6, sumSquares: 12 }, { n: 4, sum: 8, sumSquares: 16 })).toBe(1);
    expect(welchP({ n: 3, sum: 6, sumSquares: 12 }, { n: 4, sum: 12, sumSquares: 36 })).toBe(0);
  });
});

describe('Benjamini–Hochberg', () => {
  test('matches p.adjust(method = "BH"), keeping the input order', () => {
    const adjusted = benjaminiHochberg([0.01, 0.04, 0.03, 0.005, 0.2, 0.5]);
    const expected = [0.03, 0.06, 0.06, 0.03, 0.24, 0.5];
    for (const [i, p] of adjusted.entries()) expect(p).toBeCloseTo(expected[i] as number, 12);
  });

  test('untested cells stay null and do not count in the family', () => {
    expect(benjaminiHochberg([null, 0.02, null, 0.04])).toEqual([null, 0.04, null, 0.04]);
    expect(benjaminiHochberg([])).toEqual([]);
    expect(benjaminiHochberg([0.9, 0.8])).toEqual([0.9, 0.9]);
  });
});
