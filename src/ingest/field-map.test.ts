import { describe, expect, test } from 'vitest';
import { CONTRACT_FIELDS } from '../../test/helpers/contract.js';
import { appError } from '../../test/helpers/errors.js';
import type { RecordType } from '../domain/vocabulary.js';
import { buildRecord, fieldsOf, parseFieldMap, resolveColumns, type Target } from './field-map.js';
import { validateRecord } from './validate.js';

const field = (name: string): Target => ({ field: name });
const answer = (key: string): Target => ({ field: 'answers', key });
const attribute = (key: string): Target => ({ field: 'attributes', key });

describe('fieldsOf', () => {
  test.each(Object.entries(CONTRACT_FIELDS))('%s has the fields of the public contract', (type, fields) => {
    expect(fieldsOf(type as RecordType).sort()).toEqual([...fields].sort());
  });
});

describe('parseFieldMap', () => {
  test('parses the documented example into source column → target', () => {
    const map = parseFieldMap('feedback', ['Customer ID=customerId,Inflight wifi service=answers.wifi']);
    expect([...map]).toEqual([
      ['Customer ID', field('customerId')],
      ['Inflight wifi service', answer('wifi')],
    ]);
  });

  test('several --map values are combined', () => {
    const map = parseFieldMap('feedback', ['Score=nps', 'Ease=ces,Comment=text', 'Seat=answers.seat']);
    expect(map).toEqual(
      new Map<string, Target>([
        ['Score', field('nps')],
        ['Ease', field('ces')],
        ['Comment', field('text')],
        ['Seat', answer('seat')],
      ]),
    );
  });

  test('no --map gives an empty map; empty entries and surrounding spaces are ignored', () => {
    expect(parseFieldMap('customers', []).size).toBe(0);
    expect(parseFieldMap('customers', ['', ' , '])).toEqual(new Map());
    expect(parseFieldMap('customers', [' Client no = externalId ,, Tier=attributes.tier,'])).toEqual(
      new Map<string, Target>([
        ['Client no', field('externalId')],
        ['Tier', attribute('tier')],
      ]),
    );
  });

  test('every field of every type can be a target', () => {
    for (const [type, fields] of Object.entries(CONTRACT_FIELDS)) {
      const map = parseFieldMap(
        type as RecordType,
        fields.map((f, i) => `col${i}=${f}`),
      );
      expect([...map.values()]).toEqual(fields.map(field));
    }
  });

  test('attributes.X is a target for customers, interactions and events', () => {
    for (const type of ['customers', 'interactions', 'events'] as const) {
      expect(parseFieldMap(type, ['Plan=attributes.plan']).get('Plan')).toEqual(attribute('plan'));
    }
  });

  test('answers.X is a target for feedback', () => {
    expect(parseFieldMap('feedback', ['Q7=answers.q7']).get('Q7')).toEqual(answer('q7'));
  });

  test.each(['Score', '=nps', 'Score=', 'nps'])('a malformed entry %j is a bad_map error', (spec) => {
    const error = appError(() => parseFieldMap('feedback', [spec]));
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_map');
    expect(error.message).toContain(spec);
    expect(error.message).toMatch(/=/);
  });

  test('an unknown target is a bad_map error that lists the fields of the type', () => {
    const error = appError(() => parseFieldMap('feedback', ['Score=score']));
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_map');
    expect(error.message).toContain('"score"');
    for (const name of CONTRACT_FIELDS.feedback) expect(error.message).toContain(name);
    expect(error.message).toContain('answers.X');
    expect(error.message).not.toContain('attributes');
  });

  test('the field list of the error follows the type', () => {
    const error = appError(() => parseFieldMap('events', ['When=date']));
    for (const name of CONTRACT_FIELDS.events) expect(error.message).toContain(name);
    expect(error.message).toContain('attributes.X');
    expect(error.message).not.toContain('answers');
    expect(error.message).not.toContain('nps');
  });

  test.each([
    ['customers', 'Q1=answers.q1'],
    ['interactions', 'Q1=answers.q1'],
    ['events', 'Q1=answers.q1'],
    ['feedback', 'Plan=attributes.plan'],
    ['feedback', 'Q1=answers.'],
    ['customers', 'Tier=attributes.'],
    ['feedback', 'Q1=nps.q1'],
    ['feedback', 'Q1=.q1'],
    ['interactions', 'Score=nps'],
    ['customers', 'When=occurredAt'],
  ] as const)('%s: %s is not a target', (type, spec) => {
    const error = appError(() => parseFieldMap(type, [spec]));
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_map');
    expect(error.message).toContain('externalId');
  });

  test('one bad entry among good ones fails the whole map', () => {
    expect(appError(() => parseFieldMap('feedback', ['Score=nps', 'Wifi=answer.wifi'])).code).toBe('bad_map');
  });
});

describe('resolveColumns', () => {
  test.each(['customer_id', 'Customer ID', 'customerId', 'CUSTOMER-ID', 'customer id', 'CustomerID'])(
    '%j is customerId',
    (column) => {
      const { targets, ignored } = resolveColumns('interactions', [column], new Map());
      expect(targets.get(column)).toEqual(field('customerId'));
      expect(ignored).toEqual([]);
    },
  );

  test('columns named like fields map to them, whatever the case and separators', () => {
    const header = [
      'External ID',
      'customer_id',
      'channel',
      'Touchpoint',
      'occurred_at',
      'Wait Seconds',
      'handle-seconds',
      'TRANSFERS',
      'resolved',
      'Outcome',
    ];
    const { targets, ignored } = resolveColumns('interactions', header, new Map());
    expect([...targets]).toEqual([
      ['External ID', field('externalId')],
      ['customer_id', field('customerId')],
      ['channel', field('channel')],
      ['Touchpoint', field('touchpoint')],
      ['occurred_at', field('occurredAt')],
      ['Wait Seconds', field('waitSeconds')],
      ['handle-seconds', field('handleSeconds')],
      ['TRANSFERS', field('transfers')],
      ['resolved', field('resolved')],
      ['Outcome', field('outcome')],
    ]);
    expect(ignored).toEqual([]);
  });

  test('"answers.x" and "attributes.y" columns go into answers / attributes', () => {
    const feedback = resolveColumns('feedback', ['answers.wifi', 'answers.seat comfort'], new Map());
    expect(feedback.targets.get('answers.wifi')).toEqual(answer('wifi'));
    expect(feedback.targets.get('answers.seat comfort')).toEqual(answer('seat comfort'));
    const customers = resolveColumns('customers', ['attributes.plan', 'Lifecycle Stage'], new Map());
    expect(customers.targets.get('attributes.plan')).toEqual(attribute('plan'));
    expect(customers.targets.get('Lifecycle Stage')).toEqual(field('lifecycleStage'));
  });

  test('columns that go nowhere are reported as ignored, in header order', () => {
    const { targets, ignored } = resolveColumns(
      'feedback',
      ['Comment', 'nps', 'attributes.region', 'Respondent', 'answers.wifi', 'customer'],
      new Map(),
    );
    expect([...targets.keys()]).toEqual(['nps', 'answers.wifi']);
    expect(ignored).toEqual(['Comment', 'attributes.region', 'Respondent', 'customer']);
  });

  test('answers.X columns are ignored for types without answers', () => {
    const { targets, ignored } = resolveColumns('customers', ['externalId', 'answers.wifi'], new Map());
    expect([...targets.keys()]).toEqual(['externalId']);
    expect(ignored).toEqual(['answers.wifi']);
  });

  test('--map targets are used for their columns', () => {
    const explicit = parseFieldMap('feedback', ['Customer ID=customerId,Inflight wifi service=answers.wifi']);
    const { targets, ignored } = resolveColumns(
      'feedback',
      ['Customer ID', 'Inflight wifi service', 'occurred_at', 'Gate'],
      explicit,
    );
    expect([...targets]).toEqual([
      ['Customer ID', field('customerId')],
      ['Inflight wifi service', answer('wifi')],
      ['occurred_at', field('occurredAt')],
    ]);
    expect(ignored).toEqual(['Gate']);
  });

  test('--map wins over a column name that looks like a field', () => {
    const explicit = parseFieldMap('feedback', ['nps=answers.legacyNps', 'Likelihood=nps']);
    const { targets } = resolveColumns('feedback', ['nps', 'Likelihood'], explicit);
    expect(targets.get('nps')).toEqual(answer('legacyNps'));
    expect(targets.get('Likelihood')).toEqual(field('nps'));
  });

  test('a --map source that is not in the header is a bad_map error naming it and the columns', () => {
    const explicit = parseFieldMap('feedback', ['Score=nps']);
    const error = appError(() => resolveColumns('feedback', ['externalId', 'NPS score', 'date'], explicit));
    expect(error.status).toBe(400);
    expect(error.code).toBe('bad_map');
    expect(error.message).toContain('"Score"');
    for (const column of ['externalId', 'NPS score', 'date']) expect(error.message).toContain(column);
  });
});

describe('buildRecord', () => {
  const build = (type: RecordType, row: Record<string, unknown>, map: string[] = []) =>
    buildRecord(row, resolveColumns(type, Object.keys(row), parseFieldMap(type, map)).targets);

  test('number fields become numbers', () => {
    expect(build('feedback', { nps: '9', csat: '4', ces: '7' })).toEqual({ nps: 9, csat: 4, ces: 7 });
    expect(build('interactions', { waitSeconds: '95.5', handleSeconds: '1e3', transfers: '+2' })).toEqual({
      waitSeconds: 95.5,
      handleSeconds: 1000,
      transfers: 2,
    });
    expect(build('customers', { value: '-12.50' })).toEqual({ value: -12.5 });
    expect(build('events', { amount: '.5' })).toEqual({ amount: 0.5 });
    expect(build('feedback', { nps: '0' })).toEqual({ nps: 0 });
  });

  test.each([
    ['yes', true],
    ['Yes', true],
    ['YES', true],
    ['true', true],
    ['True', true],
    ['1', true],
    ['y', true],
    ['Y', true],
    ['no', false],
    ['No', false],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    ['n', false],
    ['N', false],
  ])('resolved %j is %s', (cell, expected) => {
    expect(build('interactions', { resolved: cell })).toEqual({ resolved: expected });
  });

  test('enum values are lower-cased', () => {
    expect(build('interactions', { channel: 'Phone' })).toEqual({ channel: 'phone' });
    expect(build('feedback', { source: 'REVIEW', channel: 'Email' })).toEqual({
      source: 'review',
      channel: 'email',
    });
    expect(build('customers', { lifecycleStage: 'Current', personalityType: 'Prompt' })).toEqual({
      lifecycleStage: 'current',
      personalityType: 'prompt',
    });
    expect(build('events', { type: 'Plan_Change' })).toEqual({ type: 'plan_change' });
  });

  test('text fields keep their case and are never turned into numbers', () => {
    expect(
      build('customers', { externalId: '007', name: 'Anna Berg', segment: 'Small Business', phone: '0123' }),
    ).toEqual({ externalId: '007', name: 'Anna Berg', segment: 'Small Business', phone: '0123' });
    expect(
      build('feedback', { customerId: '12345', touchpoint: 'Billing', text: '10', externalId: '1e3' }),
    ).toEqual({
      customerId: '12345',
      touchpoint: 'Billing',
      text: '10',
      externalId: '1e3',
    });
  });

  test('empty and blank cells are left out, not sent as empty strings or null', () => {
    const record = build('customers', {
      externalId: 'C-1',
      name: '',
      email: '   ',
      value: '',
      segment: '\t',
    });
    expect(record).toEqual({ externalId: 'C-1' });
    expect(Object.keys(record)).toEqual(['externalId']);
  });

  test('whitespace around a cell is trimmed before it is typed', () => {
    expect(build('feedback', { externalId: '  F-1 ', nps: ' 9 ', channel: ' Phone ' })).toEqual({
      externalId: 'F-1',
      nps: 9,
      channel: 'phone',
    });
    expect(build('interactions', { resolved: ' yes ' })).toEqual({ resolved: true });
    expect(build('feedback', { 'answers.wifi': ' 3 ' })).toEqual({ answers: { wifi: 3 } });
  });

  test('answers and attributes are nested and typed', () => {
    expect(
      build('feedback', {
        'answers.wifi': '3',
        'answers.comment': 'Too slow',
        'answers.recommend': 'yes',
        'answers.again': 'No',
        'answers.agree': 'TRUE',
        'answers.score': '7.5',
      }),
    ).toEqual({
      answers: { wifi: 3, comment: 'Too slow', recommend: true, again: false, agree: true, score: 7.5 },
    });
    expect(
      build('customers', {
        'attributes.seats': '12',
        'attributes.vip': 'false',
        'attributes.region': 'North',
      }),
    ).toEqual({ attributes: { seats: 12, vip: false, region: 'North' } });
  });

  test('answers/attributes from --map columns are nested too', () => {
    expect(
      build('feedback', { 'Inflight wifi service': '2', 'Seat comfort': '5' }, [
        'Inflight wifi service=answers.wifi,Seat comfort=answers.seat',
      ]),
    ).toEqual({ answers: { wifi: 2, seat: 5 } });
  });

  test('blank answer cells leave no answers object behind', () => {
    expect(build('feedback', { nps: '8', 'answers.wifi': '', 'answers.seat': ' ' })).toEqual({ nps: 8 });
  });

  test('non-string values (NDJSON) are kept as they are', () => {
    const targets = new Map<string, Target>([
      ['nps', field('nps')],
      ['resolved', field('resolved')],
      ['name', field('name')],
      ['channel', field('channel')],
      ['tags', answer('tags')],
      ['vip', attribute('vip')],
      ['attributes', field('attributes')],
      ['value', field('value')],
    ]);
    const row = {
      nps: 9,
      resolved: false,
      name: 42,
      channel: 3,
      tags: ['a', 'b'],
      vip: null,
      attributes: { plan: 'plus' },
      value: null,
    };
    expect(buildRecord(row, targets)).toEqual({
      nps: 9,
      resolved: false,
      name: 42,
      channel: 3,
      answers: { tags: ['a', 'b'] },
      attributes: { plan: 'plus' },
      value: null,
    });
  });

  test('a null (NDJSON) is kept so that it clears the stored field', () => {
    const record = buildRecord({ name: null }, new Map([['name', field('name')]]));
    expect(record).toEqual({ name: null });
    expect('name' in record).toBe(true);
  });

  test('columns missing from the row and columns without a target are left out', () => {
    const targets = new Map<string, Target>([
      ['externalId', field('externalId')],
      ['name', field('name')],
    ]);
    expect(buildRecord({ externalId: 'C-1', Comment: 'hello' }, targets)).toEqual({ externalId: 'C-1' });
  });

  test.each([
    ['nps', 'nine'],
    ['nps', '9 out of 10'],
    ['nps', '1,5'],
    ['nps', 'NaN'],
    ['nps', 'Infinity'],
    ['nps', '0x10'],
    ['nps', '-'],
    ['transfers', 'two'],
    ['amount', '€12'],
  ])('an unparseable number %s=%j is left as text', (column, cell) => {
    const type = column === 'nps' ? 'feedback' : column === 'amount' ? 'events' : 'interactions';
    expect(build(type, { [column]: cell })).toEqual({ [column]: cell });
  });

  test('unparseable values reach validation as text, so it names the column and the value', () => {
    const record = build('interactions', {
      externalId: 'I-1',
      customer_id: 'C-1',
      channel: 'Telegraph',
      occurred_at: '2026-03-01 10:00',
      wait_seconds: 'a while',
      transfers: 'two',
      resolved: 'maybe',
    });
    expect(record).toMatchObject({
      waitSeconds: 'a while',
      transfers: 'two',
      resolved: 'maybe',
      channel: 'telegraph',
    });
    const result = validateRecord('interactions', record);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const byPath = new Map(result.details.map((d) => [d.path, d.message]));
    expect([...byPath.keys()].sort()).toEqual(['channel', 'resolved', 'transfers', 'waitSeconds']);
    expect(byPath.get('waitSeconds')).toContain('a while');
    expect(byPath.get('transfers')).toContain('two');
    expect(byPath.get('resolved')).toContain('maybe');
    expect(byPath.get('channel')).toContain('telegraph');
  });

  test('a typical CSV row becomes a valid feedback record', () => {
    const header = ['Response ID', 'Customer ID', 'Date', 'NPS', 'Source', 'Inflight wifi service', 'Note'];
    const explicit = parseFieldMap('feedback', [
      'Response ID=externalId,Date=occurredAt',
      'Inflight wifi service=answers.wifi',
    ]);
    const { targets, ignored } = resolveColumns('feedback', header, explicit);
    expect(ignored).toEqual(['Note']);
    const row = Object.fromEntries(
      header.map((name, i) => [name, ['R-17', 'C-9', '2026-03-01 14:05', ' 6 ', 'Survey', '2', 'n/a'][i]]),
    );
    const record = buildRecord(row, targets);
    expect(record).toEqual({
      externalId: 'R-17',
      customerId: 'C-9',
      occurredAt: '2026-03-01 14:05',
      nps: 6,
      source: 'survey',
      answers: { wifi: 2 },
    });
    expect(validateRecord('feedback', record).ok).toBe(true);
  });
});
