import type { Measure } from './types';

/** How each measure is named and shown (PRODUCT.md definitions). */
export interface MeasureInfo {
  label: string;
  /** Unit after the value; NPS is in points (−100…100), shares in percent. */
  unit: string;
  decimals: number;
  /** false when a higher value is worse (bottom-box share, wait, transfers, repeats). */
  higherIsBetter: boolean | null;
  description: string;
}

export const MEASURES: Record<Measure, MeasureInfo> = {
  nps: {
    label: 'NPS',
    unit: '',
    decimals: 0,
    higherIsBetter: true,
    description: 'promoters − detractors, −100…100',
  },
  csat: {
    label: 'CSAT',
    unit: '%',
    decimals: 0,
    higherIsBetter: true,
    description: 'share answering 4 or 5 of 5',
  },
  ces: {
    label: 'CES',
    unit: '%',
    decimals: 0,
    higherIsBetter: true,
    description: 'share answering 5–7 (easy) of 7',
  },
  responses: {
    label: 'Responses',
    unit: '',
    decimals: 0,
    higherIsBetter: null,
    description: 'feedback records',
  },
  topBoxShare: {
    label: 'Top box',
    unit: '%',
    decimals: 1,
    higherIsBetter: true,
    description: 'share of fabulous encounters',
  },
  bottomBoxShare: {
    label: 'Bottom box',
    unit: '%',
    decimals: 1,
    higherIsBetter: false,
    description: 'share of disastrous encounters',
  },
  poorShare: {
    label: 'Poor',
    unit: '%',
    decimals: 1,
    higherIsBetter: false,
    description: 'share of poor encounters',
  },
  contacts: { label: 'Contacts', unit: '', decimals: 0, higherIsBetter: null, description: 'interactions' },
  avgWaitSeconds: {
    label: 'Average wait',
    unit: ' s',
    decimals: 0,
    higherIsBetter: false,
    description: 'mean wait in seconds',
  },
  transferRate: {
    label: 'Transfers',
    unit: '%',
    decimals: 1,
    higherIsBetter: false,
    description: 'share of contacts transferred at least once',
  },
  firstContactResolution: {
    label: 'First-contact resolution',
    unit: '%',
    decimals: 1,
    higherIsBetter: true,
    description: 'share resolved with no repeat contact',
  },
  repeatContactRate: {
    label: 'Repeat contacts',
    unit: '%',
    decimals: 1,
    higherIsBetter: false,
    description: 'share followed by another contact within 7 days',
  },
};

const numberFormats = new Map<number, Intl.NumberFormat>();
/** A number with a fixed number of decimals, grouped by thousands. */
export const formatNumber = (value: number, decimals = 0): string => {
  let format = numberFormats.get(decimals);
  if (!format) {
    format = new Intl.NumberFormat('en', {
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
    numberFormats.set(decimals, format);
  }
  // −0.4 rounds to "-0": show 0, which is what the rounded number is.
  const text = format.format(value);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
};

/** A measure's value with its unit; '–' when there is none (n = 0). */
export const formatMeasure = (measure: Measure, value: number | null | undefined): string => {
  if (value === null || value === undefined) return '–';
  const { unit, decimals } = MEASURES[measure];
  return `${formatNumber(value, decimals)}${unit}`;
};

/** The ± margin in the measure's unit. */
export const formatMargin = (measure: Measure, moe: number | null | undefined): string =>
  moe === null || moe === undefined ? '' : `± ${formatMeasure(measure, moe)}`;

const ACRONYMS: Record<string, string> = { ivr: 'IVR', sms: 'SMS', nps: 'NPS', csat: 'CSAT', ces: 'CES' };

/** API vocabulary shown to people: small_business → Small business, ivr → IVR. */
export const humanize = (value: string | null | undefined): string => {
  if (value === null || value === undefined || value === '') return '(none)';
  if (ACRONYMS[value]) return ACRONYMS[value];
  const spaced = value.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1).toLowerCase();
};

const dateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
const dateOnly = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeZone: 'UTC' });
/** A moment in the viewer's time zone. */
export const formatDateTime = (iso: string): string => dateTime.format(new Date(iso));
/** A day (YYYY-MM-DD, a UTC bucket) as text. */
export const formatDay = (day: string): string => dateOnly.format(new Date(`${day.slice(0, 10)}T00:00:00Z`));
