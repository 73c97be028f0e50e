import { useCallback, useMemo } from 'react';
import { useLocation, useSearch } from 'wouter';
import type { Query } from './api';

/**
 * The filters every analytics page shares. They live in the URL search params, so a view can be
 * bookmarked and sent on, and the navigation keeps them when moving between pages.
 */

export const DIMENSIONS = ['segment', 'channel', 'touchpoint', 'lifecycleStage', 'personalityType'] as const;
export type FilterDimension = (typeof DIMENSIONS)[number];

export const PRESETS = { '30d': 30, '90d': 90, '365d': 365 } as const;
export type Preset = keyof typeof PRESETS;
export const DEFAULT_PRESET: Preset = '90d';

/** The URL search params that belong to the shared filters (all others are a page's own). */
export const FILTER_PARAMS = ['range', 'from', 'to', ...DIMENSIONS] as const;
export type FilterParam = (typeof FILTER_PARAMS)[number];

export interface Filters {
  /** The preset in use, or null for a chosen from/to. */
  preset: Preset | null;
  /** First day (YYYY-MM-DD), inclusive; '' when open. */
  from: string;
  /** Last day (YYYY-MM-DD), inclusive; '' when open. */
  to: string;
  /** One value per dimension, or absent for all. */
  values: Partial<Record<FilterDimension, string>>;
}

const DAY = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const isoDay = (time: number) => new Date(time).toISOString().slice(0, 10);

/** The last `days` days up to and including today (UTC, as the API's time buckets). */
export const presetRange = (preset: Preset, now = Date.now()): { from: string; to: string } => ({
  from: isoDay(now - (PRESETS[preset] - 1) * DAY),
  to: isoDay(now),
});

export const readFilters = (search: string, now = Date.now()): Filters => {
  const params = new URLSearchParams(search);
  const values: Filters['values'] = {};
  for (const dimension of DIMENSIONS) {
    const value = params.get(dimension);
    if (value) values[dimension] = value;
  }
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  if (DATE.test(from) || DATE.test(to)) {
    const [first, last] = [DATE.test(from) ? from : '', DATE.test(to) ? to : ''];
    // Dates typed the wrong way round mean the period between them.
    return first && last && first > last
      ? { preset: null, from: last, to: first, values }
      : { preset: null, from: first, to: last, values };
  }
  const range = params.get('range');
  const preset = range && range in PRESETS ? (range as Preset) : DEFAULT_PRESET;
  return { preset, ...presetRange(preset, now), values };
};

/** The API's `from`, `to` and repeated `filter=DIMENSION:VALUE` (src/analytics/params.ts). */
export const filterQuery = (
  filters: Filters,
  extra: Partial<Record<FilterDimension, string>> = {},
): Query => {
  const values = { ...filters.values, ...extra };
  return {
    from: filters.from,
    to: filters.to,
    filter: DIMENSIONS.flatMap((dimension) =>
      values[dimension] ? [`${dimension}:${values[dimension]}`] : [],
    ),
  };
};

/** The time bucket that gives a readable trend for the period: days up to ~6 weeks, then weeks, then months. */
export const bucketFor = (filters: Filters): 'day' | 'week' | 'month' => {
  if (!filters.from || !filters.to) return 'month';
  const days = (Date.parse(filters.to) - Date.parse(filters.from)) / DAY + 1;
  return days <= 45 ? 'day' : days <= 400 ? 'week' : 'month';
};

/** Only the shared filter params of a search string, e.g. for links to other pages. */
export const filterSearch = (search: string): string => {
  const params = new URLSearchParams(search);
  const kept = new URLSearchParams();
  for (const name of FILTER_PARAMS) {
    const value = params.get(name);
    if (value) kept.set(name, value);
  }
  return kept.toString();
};

/** A path with the current filters, so following it keeps the view's selection. */
export const withFilters = (path: string, search: string, extra: Record<string, string> = {}): string => {
  const params = new URLSearchParams(filterSearch(search));
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  const query = params.toString();
  return query ? `${path}?${query}` : path;
};

/** Reads and changes URL search params of the current page (shared filters or a page's own). */
export const useSearchParam = () => {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const params = useMemo(() => new URLSearchParams(search), [search]);
  /** `null` or '' removes a param. */
  const setParams = useCallback(
    (patch: Record<string, string | null>, options: { replace?: boolean } = {}) => {
      const next = new URLSearchParams(search);
      for (const [name, value] of Object.entries(patch)) {
        if (value === null || value === '') next.delete(name);
        else next.set(name, value);
      }
      const query = next.toString();
      navigate(query ? `${location}?${query}` : location, options);
    },
    [search, location, navigate],
  );
  return { params, setParams, search };
};

/** The shared filters of the current URL and a way to change them. */
export const useFilters = () => {
  const { params, setParams, search } = useSearchParam();
  const filters = useMemo(() => readFilters(search), [search]);
  return { filters, params, setParams, search };
};
