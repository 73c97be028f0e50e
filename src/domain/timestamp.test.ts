import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseTimestamp } from './timestamp.js';

const iso = (text: string) => parseTimestamp(text)?.toISOString() ?? null;

describe('accepted forms, read as exact instants', () => {
  test.each([
    // date only: midnight UTC
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
    // no offset: read as UTC
    ['2026-03-01T14:05', '2026-03-01T14:05:00.000Z'],
    ['2026-03-01T14:05:09', '2026-03-01T14:05:09.000Z'],
    ['2026-03-01T14:05Z', '2026-03-01T14:05:00.000Z'],
    ['2026-03-01T14:05:09Z', '2026-03-01T14:05:09.000Z'],
    // fractions of a second: one digit is tenths, more than three are cut to milliseconds
    ['2026-03-01T14:05:09.5Z', '2026-03-01T14:05:09.500Z'],
    ['2026-03-01T14:05:09.12Z', '2026-03-01T14:05:09.120Z'],
    ['2026-03-01T14:05:09.123Z', '2026-03-01T14:05:09.123Z'],
    ['2026-03-01T14:05:09.123456789Z', '2026-03-01T14:05:09.123Z'],
    ['2026-03-01T14:05:09.007', '2026-03-01T14:05:09.007Z'],
    // ±HH:MM
    ['2026-03-01T14:05:00+02:00', '2026-03-01T12:05:00.000Z'],
    ['2026-03-01T14:05:00-05:30', '2026-03-01T19:35:00.000Z'],
    ['2026-03-01T14:05:00+00:00', '2026-03-01T14:05:00.000Z'],
    ['2026-03-01T14:05:00-00:00', '2026-03-01T14:05:00.000Z'],
    // ±HHMM
    ['2026-03-01T14:05:00+0530', '2026-03-01T08:35:00.000Z'],
    ['2026-03-01T14:05:00-0800', '2026-03-01T22:05:00.000Z'],
    // ±HH
    ['2026-03-01T14:05:00+02', '2026-03-01T12:05:00.000Z'],
    ['2026-03-01T14:05-03', '2026-03-01T17:05:00.000Z'],
    // offset with fractions
    ['2026-03-01T14:05:09.250+01:00', '2026-03-01T13:05:09.250Z'],
    // a space instead of T
    ['2026-03-01 14:05:09+01:00', '2026-03-01T13:05:09.000Z'],
    ['2026-03-01 14:05', '2026-03-01T14:05:00.000Z'],
    // lower-case t and z (RFC 3339 allows them)
    ['2026-03-01t14:05:09z', '2026-03-01T14:05:09.000Z'],
  ])('%s is %s', (text, expected) => {
    expect(iso(text)).toBe(expected);
  });

  test('offsets move the instant across days, months and years', () => {
    expect(iso('2026-03-01T20:00:00-08:00')).toBe('2026-03-02T04:00:00.000Z');
    expect(iso('2026-03-01T00:30:00+01:00')).toBe('2026-02-28T23:30:00.000Z');
    expect(iso('2028-03-01T00:30:00+01:00')).toBe('2028-02-29T23:30:00.000Z');
    expect(iso('2026-01-01T05:00:00+14:00')).toBe('2025-12-31T15:00:00.000Z');
    expect(iso('2026-12-31T23:00:00-02:00')).toBe('2027-01-01T01:00:00.000Z');
  });

  test('offsets of up to 18 hours either way are accepted', () => {
    expect(iso('2026-03-01T18:00:00+18:00')).toBe('2026-03-01T00:00:00.000Z');
    expect(iso('2026-03-01T06:00:00-18:00')).toBe('2026-03-02T00:00:00.000Z');
    expect(iso('2026-03-01T06:00:00-1800')).toBe('2026-03-02T00:00:00.000Z');
  });

  test('the same instant written in different offsets gives the same Date', () => {
    const forms = [
      '2026-07-15T10:30:00Z',
      '2026-07-15T12:30:00+02:00',
      '2026-07-15T12:30:00+0200',
      '2026-07-15T12:30:00+02',
      '2026-07-15 05:00:00-05:30',
      '2026-07-15T10:30',
      '2026-07-15T10:30:00.000',
    ];
    const times = forms.map((text) => parseTimestamp(text)?.getTime());
    expect(new Set(times)).toEqual(new Set([Date.UTC(2026, 6, 15, 10, 30)]));
  });

  test('the first and last valid moments of each day and month', () => {
    expect(iso('2026-12-31T23:59:59.999Z')).toBe('2026-12-31T23:59:59.999Z');
    expect(iso('2026-01-01T00:00:00Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(iso('2026-04-30')).toBe('2026-04-30T00:00:00.000Z');
    expect(iso('2026-01-31')).toBe('2026-01-31T00:00:00.000Z');
    expect(iso('2026-02-28')).toBe('2026-02-28T00:00:00.000Z');
  });

  test('29 February exists in leap years only (2028, 2000), not in 2026 or 2100 or 1900', () => {
    expect(iso('2028-02-29')).toBe('2028-02-29T00:00:00.000Z');
    expect(iso('2028-02-29T23:59:59Z')).toBe('2028-02-29T23:59:59.000Z');
    expect(iso('2000-02-29')).toBe('2000-02-29T00:00:00.000Z');
    expect(parseTimestamp('2026-02-29')).toBeNull();
    expect(parseTimestamp('2026-02-29T12:00:00Z')).toBeNull();
    expect(parseTimestamp('2100-02-29')).toBeNull();
    expect(parseTimestamp('1900-02-29')).toBeNull();
    expect(parseTimestamp('2028-02-30')).toBeNull();
  });

  test('years 1900 to 2199 are accepted, the edges included', () => {
    expect(iso('1900-01-01')).toBe('1900-01-01T00:00:00.000Z');
    expect(iso('1900-01-01T00:00:00Z')).toBe('1900-01-01T00:00:00.000Z');
    expect(iso('2199-12-31T23:59:59Z')).toBe('2199-12-31T23:59:59.000Z');
  });

  test('whitespace around the value is ignored', () => {
    expect(iso('  2026-03-01T14:05:00Z ')).toBe('2026-03-01T14:05:00.000Z');
  });

  test('every instant from 1900 to 2199 survives a round trip through toISOString', () => {
    const min = Date.UTC(1900, 0, 1);
    const max = Date.UTC(2199, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(fc.integer({ min, max }), (ms) => {
        expect(parseTimestamp(new Date(ms).toISOString())?.getTime()).toBe(ms);
      }),
      { numRuns: 500 },
    );
  });

  test('any valid offset gives the local time minus the offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1950, 0, 1), max: Date.UTC(2150, 0, 1) }).map((ms) => ms - (ms % 60_000)),
        fc.constantFrom(1, -1),
        fc.integer({ min: 0, max: 17 }),
        fc.integer({ min: 0, max: 59 }),
        (localMs, sign, hours, minutes) => {
          const local = new Date(localMs).toISOString().slice(0, 16); // YYYY-MM-DDTHH:MM
          const zone = `${sign < 0 ? '-' : '+'}${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
          const expected = localMs - sign * (hours * 60 + minutes) * 60_000;
          expect(parseTimestamp(`${local}${zone}`)?.getTime()).toBe(expected);
          expect(parseTimestamp(`${local}${zone.replace(':', '')}`)?.getTime()).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rejections (null)', () => {
  test.each([
    ['2026-02-30', 'February has no 30th'],
    ['2026-02-31', 'February has no 31st'],
    ['2026-04-31', 'April has 30 days'],
    ['2026-06-31T10:00:00Z', 'June has 30 days'],
    ['2026-01-32', 'no month has 32 days'],
    ['2026-01-00', 'day 0'],
    ['2026-13-01', 'month 13'],
    ['2026-00-10', 'month 0'],
    ['2026-03-01T24:00', '24:00'],
    ['2026-03-01T24:00:00Z', '24:00:00'],
    ['2026-03-01T25:00', 'hour 25'],
    ['2026-03-01T23:60', 'minute 60'],
    ['2026-03-01T23:59:60Z', 'second 60'],
    ['2026-03-01T14:05:00+19:00', 'offset of 19 hours'],
    ['2026-03-01T14:05:00-19:00', 'offset of −19 hours'],
    ['2026-03-01T14:05:00+99', 'offset of 99 hours'],
    ['2026-03-01T14:05:00+12:60', 'offset minute 60'],
    ['1899-12-31', 'year 1899'],
    ['1899-12-31T23:59:59Z', 'year 1899 with a time'],
    ['2200-01-01', 'year 2200'],
    ['0000-01-01', 'year 0'],
    ['9999-12-31', 'year 9999'],
  ])('%s (%s)', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });

  test('an offset of more than 18 hours is refused, also when only its minutes push it over', () => {
    expect(parseTimestamp('2026-03-01T14:05:00+18:01')).toBeNull();
    expect(parseTimestamp('2026-03-01T14:05:00+18:30')).toBeNull();
    expect(parseTimestamp('2026-03-01T14:05:00-1859')).toBeNull();
  });

  test.each([
    [''],
    ['   '],
    ['garbage'],
    ['yesterday'],
    ['now'],
    ['2026'],
    ['2026-03'],
    ['2026/03/01'],
    ['01-03-2026'],
    ['01.03.2026'],
    ['2026-3-1'],
    ['20260301'],
    ['20260301T140500Z'],
    ['2026-03-01T'],
    ['2026-03-01T14'],
    ['2026-03-01T1405'],
    ['2026-03-01T14:5'],
    ['2026-03-01T14:05.5'],
    ['2026-03-01T14:05:09.'],
    ['2026-03-01T14:05:09.Z'],
    ['2026-03-01T14:05:09.1234567890Z'],
    ['2026-03-01Z'],
    ['2026-03-01+01:00'],
    ['T14:05:00Z'],
    ['14:05'],
    ['2026-03-01T14:05:00ZZ'],
    ['2026-03-01T14:05:00+1'],
    ['2026-03-01T14:05:00+01:0'],
    ['2026-03-01T14:05:00+01:'],
    ['2026-03-01T14:05:00 +01:00'],
    ['2026-03-01T14:05:00 UTC'],
    ['2026-03-01T14:05:00Z trailing text'],
    ['2026-03-01 and more'],
    ['2026-03-01x'],
    ['x2026-03-01'],
    ['2026-03-01\n2026-03-02'],
    ['Sun, 01 Mar 2026 14:05:00 GMT'],
    ['1772373900000'],
    ['+002026-03-01T00:00:00Z'],
    ['-2026-03-01'],
  ])('%j is not a timestamp', (text) => {
    expect(parseTimestamp(text)).toBeNull();
  });
});
