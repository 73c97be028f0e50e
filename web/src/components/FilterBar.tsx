import { useEffect, useState } from 'react';
import { api } from '../api';
import { DIMENSIONS, type FilterDimension, PRESETS, type Preset, useFilters } from '../filters';
import { humanize } from '../format';
import { useSession } from '../session';
import type { MetricsResponse } from '../types';

const LABELS: Record<FilterDimension, string> = {
  segment: 'Segment',
  channel: 'Channel',
  touchpoint: 'Touchpoint',
  lifecycleStage: 'Life-cycle stage',
  personalityType: 'Personality type',
};

/** Fixed vocabularies (src/domain/vocabulary.ts); the others are read from the data. */
const FIXED: Partial<Record<FilterDimension, string[]>> = {
  lifecycleStage: ['new', 'current', 'advocate', 'ending', 'renewing'],
  personalityType: ['prompt', 'relationship', 'unknown'],
};

type Options = Partial<Record<FilterDimension, string[]>>;

// Asked once per workspace and page load: the values change rarely and every page shows the bar.
let cache: { workspace: string; promise: Promise<Options> } | null = null;
const loadOptions = (workspace: string): Promise<Options> => {
  if (cache?.workspace !== workspace) {
    const by = ['segment', 'channel', 'touchpoint'] as const;
    const promise = api<MetricsResponse>('/metrics', {
      query: { measures: 'responses', by: by.join(','), minN: 1 },
    }).then((result) =>
      Object.fromEntries(
        by.map((dimension) => [
          dimension,
          [...new Set(result.rows.map((row) => row.group[dimension]).filter((v): v is string => !!v))].sort(),
        ]),
      ),
    );
    // A failure is not kept: the next page asks again.
    promise.catch(() => {
      cache = null;
    });
    cache = { workspace, promise };
  }
  return cache.promise;
};

const PRESET_LABELS: Record<Preset, string> = {
  '30d': 'Last 30 days',
  '90d': 'Last 90 days',
  '365d': 'Last 365 days',
};

/** The shared filters of the analytics pages, read from and written to the URL. */
export const FilterBar = () => {
  const session = useSession();
  const { filters, setParams } = useFilters();
  const [options, setOptions] = useState<Options>(FIXED);

  // The values are fetched once the page's own data has had its turn (or when the bar is used),
  // so that the first numbers of a page are not queued behind them.
  const [wanted, setWanted] = useState(cache !== null);
  useEffect(() => {
    const timer = setTimeout(() => setWanted(true), 1500);
    return () => clearTimeout(timer);
  }, []);
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    loadOptions(session.workspace.slug).then(
      (loaded) => live && setOptions({ ...FIXED, ...loaded }),
      () => undefined, // the selects still offer "All" and the value in the URL
    );
    return () => {
      live = false;
    };
  }, [wanted, session.workspace.slug]);

  const choosePeriod = (value: string) => {
    if (value === 'custom') {
      // Start from the dates shown so far; the user then edits them.
      setParams({ range: null, from: filters.from, to: filters.to });
    } else {
      setParams({ range: value, from: null, to: null });
    }
  };
  const active = DIMENSIONS.some((dimension) => filters.values[dimension]) || filters.preset === null;

  return (
    <form className="filter-bar" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
      <label>
        Period
        <select value={filters.preset ?? 'custom'} onChange={(event) => choosePeriod(event.target.value)}>
          {(Object.keys(PRESETS) as Preset[]).map((preset) => (
            <option key={preset} value={preset}>
              {PRESET_LABELS[preset]}
            </option>
          ))}
          <option value="custom">Chosen dates</option>
        </select>
      </label>
      {filters.preset === null && (
        <>
          <label>
            From
            <input
              type="date"
              value={filters.from}
              max={filters.to || undefined}
              onChange={(event) => setParams({ from: event.target.value })}
            />
          </label>
          <label>
            To (inclusive)
            <input
              type="date"
              value={filters.to}
              min={filters.from || undefined}
              onChange={(event) => setParams({ to: event.target.value })}
            />
          </label>
        </>
      )}
      {DIMENSIONS.map((dimension) => {
        const value = filters.values[dimension] ?? '';
        const values = options[dimension] ?? [];
        return (
          <label key={dimension}>
            {LABELS[dimension]}
            <select value={value} onChange={(event) => setParams({ [dimension]: event.target.value })}>
              <option value="">All</option>
              {(value && !values.includes(value) ? [value, ...values] : values).map((option) => (
                <option key={option} value={option}>
                  {humanize(option)}
                </option>
              ))}
            </select>
          </label>
        );
      })}
      {active && (
        <button
          type="button"
          className="secondary"
          onClick={() =>
            setParams({
              ...Object.fromEntries(DIMENSIONS.map((dimension) => [dimension, null])),
              from: null,
              to: null,
              range: null,
            })
          }
        >
          Clear filters
        </button>
      )}
    </form>
  );
};
