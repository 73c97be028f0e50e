import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { AppError, type ErrorDetail } from '../errors.js';
import {
  type Condition,
  type ConditionContext,
  conditionKinds,
  evaluateCondition,
  FIELDS,
  type FieldLeaf,
  type FieldName,
  hasNestedQuantifier,
  OPS_BY_TYPE,
  parseCondition,
  type RecordKind,
  usesPatterns,
} from './alert-conditions.js';
import { CHANNELS, EVENT_TYPES, LIFECYCLE_STAGES } from './vocabulary.js';

/** The details of the AppError parseCondition throws (fails the test when it does not throw). */
const problemsOf = (input: unknown): ErrorDetail[] => {
  try {
    parseCondition(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    const appError = error as AppError;
    expect(appError.status).toBe(400);
    expect(appError.code).toBe('invalid_rule');
    const n = appError.details.length;
    expect(appError.message).toBe(`The rule's condition is not valid: ${n} problem${n === 1 ? '' : 's'}`);
    return appError.details;
  }
  throw new Error('expected parseCondition to throw');
};

/** Exactly one problem, at `path`, whose message contains `fragment`. */
const expectProblem = (input: unknown, path: string, fragment: string) => {
  const details = problemsOf(input);
  expect(details).toEqual([{ path, message: expect.stringContaining(fragment) }]);
};

const leaf = (field: string, op: string, value: unknown) => ({ field, op, value });

describe('parseCondition accepts', () => {
  test.each<[string, unknown]>([
    ['a score leaf', leaf('nps', 'lte', 6)],
    ['a keyword leaf', leaf('text', 'contains', 'cancel')],
    ['a regex leaf', leaf('text', 'matches', '\\b(cancel|lawyer)\\b')],
    ['an enumerated in', leaf('channel', 'in', ['phone', 'chat'])],
    ['a boolean leaf', leaf('resolved', 'eq', false)],
    ['a topics leaf', leaf('topics', 'contains', 'billing')],
    ['sentiment at the scale ends', { all: [leaf('sentiment', 'gte', -1), leaf('sentiment', 'lte', 1)] }],
    ['an event type', leaf('eventType', 'eq', 'cancellation')],
    ['repeatContact', { pattern: 'repeatContact', count: 3, withinDays: 7 }],
    ['transfers', { pattern: 'transfers', atLeast: 2 }],
    ['longWait', { pattern: 'longWait', overSeconds: 86_400 }],
    ['promoterTurnedDetractor', { pattern: 'promoterTurnedDetractor' }],
    [
      'a nested tree',
      {
        any: [
          { not: leaf('resolved', 'eq', true) },
          { all: [leaf('nps', 'lte', 6), leaf('value', 'gt', 1000)] },
        ],
      },
    ],
  ])('%s', (_, input) => {
    expect(parseCondition(input)).toEqual(input);
  });

  test('returns a fresh copy', () => {
    const input = { all: [leaf('channel', 'in', ['phone'])] };
    const parsed = parseCondition(input) as { all: FieldLeaf[] };
    expect(parsed).not.toBe(input);
    expect(parsed.all[0].value).not.toBe(input.all[0].value);
  });

  test('exactly 10 levels deep and exactly 100 nodes', () => {
    let deep: unknown = leaf('nps', 'lte', 6);
    for (let i = 1; i < 10; i++) deep = { not: deep };
    expect(() => parseCondition(deep)).not.toThrow();
    const wide = { all: Array.from({ length: 99 }, () => leaf('nps', 'lte', 6)) };
    expect(() => parseCondition(wide)).not.toThrow();
  });
});

describe('parseCondition rejects', () => {
  test.each<[string, unknown, string, string]>([
    // nodes
    ['a non-object', 5, 'condition', 'must be a condition'],
    ['null', null, 'condition', 'got null'],
    ['an array as a node', [leaf('nps', 'lte', 6)], 'condition', 'got an array'],
    [
      'an empty object',
      {},
      'condition',
      'must have one of all, any, not, field or pattern; got an empty object',
    ],
    ['an unknown node', { every: [] }, 'condition', 'got only "every"'],
    ['two kinds of node', { all: [leaf('nps', 'lte', 6)], any: [] }, 'condition', 'has all and any'],
    [
      'a leaf with a pattern',
      { ...leaf('nps', 'lte', 6), pattern: 'longWait' },
      'condition',
      'has field and pattern',
    ],
    ['an empty all', { all: [] }, 'condition.all', 'must have at least one condition'],
    ['an empty any', { not: { any: [] } }, 'condition.not.any', 'must have at least one condition'],
    ['all not an array', { all: leaf('nps', 'lte', 6) }, 'condition.all', 'must be an array of conditions'],
    ['a key next to all', { all: [leaf('nps', 'lte', 6)], name: 'x' }, 'condition.name', 'next to "all"'],
    ['a bad child', { all: [leaf('nps', 'lte', 6), 'nps < 6'] }, 'condition.all[1]', 'must be a condition'],
    // fields
    ['an unknown field', leaf('chanel', 'eq', 'phone'), 'condition.field', 'did you mean channel?'],
    ['a field in the wrong case', leaf('NPS', 'lte', 6), 'condition.field', 'did you mean nps?'],
    ['a field named by a part', leaf('wait', 'gt', 60), 'condition.field', 'did you mean waitSeconds?'],
    ['a field far from any', leaf('zzzzzzzzz', 'eq', 1), 'condition.field', 'use one of nps, csat, ces'],
    ['a non-string field', leaf(3 as unknown as string, 'eq', 1), 'condition.field', 'must be a field name'],
    [
      'an extra leaf key',
      { ...leaf('nps', 'lte', 6), op2: 'x' },
      'condition.op2',
      'is not part of a field leaf',
    ],
    // ops
    [
      'an unknown op',
      leaf('nps', 'le', 6),
      'condition.op',
      'must be one of eq, ne, lt, lte, gt, gte, in, contains, matches; got "le"',
    ],
    ['a missing op', { field: 'nps', value: 6 }, 'condition.op', 'is required'],
    [
      'lt on a string',
      leaf('channel', 'lt', 'phone'),
      'condition.op',
      '"lt" does not apply to channel, a string field; use eq, ne, in, contains or matches',
    ],
    [
      'contains on a number',
      leaf('nps', 'contains', '6'),
      'condition.op',
      '"contains" does not apply to nps, a number field',
    ],
    ['matches on a boolean', leaf('resolved', 'matches', 'tr'), 'condition.op', 'use eq or ne'],
    [
      'eq on a list',
      leaf('topics', 'eq', 'billing'),
      'condition.op',
      'topics, a list of strings; use contains, in or matches',
    ],
    // values
    ['a missing value', { field: 'nps', op: 'lte' }, 'condition.value', 'is required'],
    [
      'a string for a number',
      leaf('nps', 'lte', '6'),
      'condition.value',
      'must be a number (nps is a number), got "6"',
    ],
    ['NaN', leaf('amount', 'gt', Number.NaN), 'condition.value', 'must be a number'],
    ['a number for a string', leaf('team', 'eq', 5), 'condition.value', 'must be a string'],
    ['a string for a boolean', leaf('resolved', 'eq', 'no'), 'condition.value', 'must be true or false'],
    [
      'a score off the scale',
      leaf('nps', 'lte', 11),
      'condition.value',
      "must be within nps's scale 0–10, got number 11",
    ],
    ['a rating off the scale', leaf('experienceRating', 'lt', 0), 'condition.value', 'scale 1–5'],
    ['a negative wait', leaf('waitSeconds', 'gt', -1), 'condition.value', 'must be at least 0'],
    [
      'a channel not in the vocabulary',
      leaf('channel', 'eq', 'fax'),
      'condition.value',
      '"fax" is not a known channel; use one of phone, ivr',
    ],
    [
      'an unknown stage',
      leaf('lifecycleStage', 'ne', 'old'),
      'condition.value',
      'is not a known lifecycleStage',
    ],
    [
      'an unknown event type',
      leaf('eventType', 'eq', 'Refund'),
      'condition.value',
      'is not a known eventType',
    ],
    ['an empty contains', leaf('text', 'contains', ''), 'condition.value', 'must not be empty'],
    [
      'contains with a number',
      leaf('text', 'contains', 5),
      'condition.value',
      'must be a string for "contains"',
    ],
    [
      'in with a scalar',
      leaf('channel', 'in', 'phone'),
      'condition.value',
      'must be a non-empty array for "in"',
    ],
    [
      'in with an empty array',
      leaf('nps', 'in', []),
      'condition.value',
      'must be a non-empty array for "in", got an array',
    ],
    [
      'in with an item of the wrong type',
      leaf('nps', 'in', [1, '2']),
      'condition.value[1]',
      'must be a number',
    ],
    [
      'in with a channel not in the vocabulary',
      leaf('channel', 'in', ['phone', 'fax']),
      'condition.value[1]',
      '"fax" is not a known channel',
    ],
    [
      'in with too many values',
      leaf(
        'team',
        'in',
        Array.from({ length: 101 }, (_, i) => `t${i}`),
      ),
      'condition.value',
      'at most 100 items',
    ],
    // regular expressions
    [
      'an invalid regex',
      leaf('text', 'matches', '(cancel'),
      'condition.value',
      'is not a valid regular expression: Invalid regular expression',
    ],
    [
      'a regex over 200 characters',
      leaf('text', 'matches', 'a'.repeat(201)),
      'condition.value',
      'at most 200 characters, got 201',
    ],
    ['a nested quantifier', leaf('text', 'matches', '(a+)+$'), 'condition.value', 'nested quantifier'],
    ['a nested star', leaf('text', 'matches', '^(\\w*\\s?)*$'), 'condition.value', 'nested quantifier'],
    [
      'a regex that is not a string',
      leaf('text', 'matches', 5),
      'condition.value',
      'must be a regular expression (a string)',
    ],
    // patterns
    [
      'an unknown pattern',
      { pattern: 'repeatContacts', count: 3, withinDays: 7 },
      'condition.pattern',
      'did you mean repeatContact?',
    ],
    ['a non-string pattern', { pattern: 1 }, 'condition.pattern', 'must be a pattern name'],
    [
      'count 1',
      { pattern: 'repeatContact', count: 1, withinDays: 7 },
      'condition.count',
      'must be at least 2, got number 1',
    ],
    [
      'count 101',
      { pattern: 'repeatContact', count: 101, withinDays: 7 },
      'condition.count',
      'must be at most 100',
    ],
    [
      'a fractional count',
      { pattern: 'repeatContact', count: 2.5, withinDays: 7 },
      'condition.count',
      'must be an integer',
    ],
    ['a missing withinDays', { pattern: 'repeatContact', count: 3 }, 'condition.withinDays', 'is required'],
    [
      'withinDays 0',
      { pattern: 'repeatContact', count: 3, withinDays: 0 },
      'condition.withinDays',
      'must be at least 1',
    ],
    [
      'withinDays 366',
      { pattern: 'repeatContact', count: 3, withinDays: 366 },
      'condition.withinDays',
      'must be at most 365',
    ],
    ['atLeast 0', { pattern: 'transfers', atLeast: 0 }, 'condition.atLeast', 'must be at least 1'],
    ['atLeast 21', { pattern: 'transfers', atLeast: 21 }, 'condition.atLeast', 'must be at most 20'],
    [
      'overSeconds 0',
      { pattern: 'longWait', overSeconds: 0 },
      'condition.overSeconds',
      'must be greater than 0',
    ],
    [
      'overSeconds over a day',
      { pattern: 'longWait', overSeconds: 86_401 },
      'condition.overSeconds',
      'must be at most 86400',
    ],
    [
      'overSeconds as a string',
      { pattern: 'longWait', overSeconds: '60' },
      'condition.overSeconds',
      'must be a number',
    ],
    [
      'a parameter of another pattern',
      { pattern: 'longWait', overSeconds: 60, atLeast: 2 },
      'condition.atLeast',
      'is not a parameter of the longWait pattern, which has overSeconds',
    ],
    [
      'a parameter of a pattern without any',
      { pattern: 'promoterTurnedDetractor', count: 2 },
      'condition.count',
      'which has none',
    ],
  ])('%s', (_, input, path, fragment) => {
    expectProblem(input, path, fragment);
  });

  test('nesting deeper than 10 levels', () => {
    let deep: unknown = leaf('nps', 'lte', 6);
    for (let i = 1; i <= 10; i++) deep = { not: deep };
    expectProblem(deep, `condition${'.not'.repeat(10)}`, 'nests deeper than 10 levels');
  });

  test('more than 100 nodes', () => {
    const wide = { all: Array.from({ length: 100 }, () => leaf('nps', 'lte', 6)) };
    expectProblem(wide, 'condition', 'has 101 nodes; at most 100 are allowed');
  });

  test('every problem at once, each at its path', () => {
    const details = problemsOf({
      all: [
        leaf('nps', 'lte', 6),
        leaf('chanel', 'eq', 'phone'),
        leaf('channel', 'eq', 'fax'),
        { any: [] },
        { not: { pattern: 'transfers', atLeast: 0 } },
        leaf('text', 'matches', '(a+)+'),
        leaf('csat', 'lt', 'three'),
        { pattern: 'repeatContact', count: 1, withinDays: 400 },
      ],
    });
    expect(details.map((detail) => detail.path)).toEqual([
      'condition.all[1].field',
      'condition.all[2].value',
      'condition.all[3].any',
      'condition.all[4].not.atLeast',
      'condition.all[5].value',
      'condition.all[6].value',
      'condition.all[7].count',
      'condition.all[7].withinDays',
    ]);
  });

  test('an unknown field and a bad op on the same leaf are both reported', () => {
    expect(problemsOf(leaf('score', 'like', 6)).map((detail) => detail.path)).toEqual([
      'condition.field',
      'condition.op',
    ]);
  });
});

describe('hasNestedQuantifier', () => {
  test.each([
    ['(a+)+', true],
    ['(a*)*', true],
    ['(?:ab{2,})+', true],
    ['((a+)b)*', true],
    ['(a+){2,5}', true],
    ['(a|b)+', false],
    ['cancel|lawyer', false],
    ['\\(a+\\)+', false],
    ['[(a+)]+', false],
    ['(a+)b+', false],
    ['\\b(refund|charge ?back)s?\\b', false],
  ])('%s → %s', (source, nested) => {
    expect(hasNestedQuantifier(source)).toBe(nested);
  });
});

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

const context = (
  record: Record<string, unknown>,
  patterns: ConditionContext['patterns'] = {},
  kind: RecordKind = 'feedback',
): ConditionContext => ({ kind, record, patterns });

const holds = (
  condition: unknown,
  record: Record<string, unknown>,
  patterns?: ConditionContext['patterns'],
) => evaluateCondition(parseCondition(condition), context(record, patterns));

describe('evaluateCondition on fields', () => {
  test.each<[string, unknown, boolean, boolean, boolean]>([
    // op, value, record nps 5, nps 6, nps 7
    ['eq', 6, false, true, false],
    ['ne', 6, true, false, true],
    ['lt', 6, true, false, false],
    ['lte', 6, true, true, false],
    ['gt', 6, false, false, true],
    ['gte', 6, false, true, true],
    ['in', [5, 7], true, false, true],
  ])('numbers: %s %j', (op, value, at5, at6, at7) => {
    const condition = leaf('nps', op, value);
    expect([5, 6, 7].map((nps) => holds(condition, { nps }))).toEqual([at5, at6, at7]);
  });

  test('sentiment compares as a number with negatives', () => {
    expect(holds(leaf('sentiment', 'lt', -0.5), { sentiment: -0.6 })).toBe(true);
    expect(holds(leaf('sentiment', 'lt', -0.5), { sentiment: -0.5 })).toBe(false);
  });

  test.each<[string, unknown, string, boolean]>([
    ['eq', 'billing', 'billing', true],
    ['eq', 'billing', 'Billing', false],
    ['ne', 'billing', 'support', true],
    ['ne', 'billing', 'billing', false],
    ['in', ['billing', 'retention'], 'retention', true],
    ['in', ['billing', 'retention'], 'support', false],
    ['contains', 'BILL', 'the billing team', true],
    ['contains', 'bill', 'support', false],
    ['matches', '^bill', 'Billing', true],
    ['matches', '^bill', 'rebilling', false],
  ])('strings: team %s %j on %j → %s', (op, value, team, expected) => {
    expect(holds(leaf('team', op, value), { team })).toBe(expected);
  });

  test('keywords in text ignore case', () => {
    expect(holds(leaf('text', 'contains', 'cancel'), { text: 'I will CANCEL my plan' })).toBe(true);
    expect(holds(leaf('text', 'matches', '\\b(cancel|lawyer)\\b'), { text: 'My LAWYER will call' })).toBe(
      true,
    );
    expect(holds(leaf('text', 'matches', '\\b(cancel|lawyer)\\b'), { text: 'lawyerly' })).toBe(false);
  });

  test('a matches leaf gives the same answer on every call (no lastIndex state)', () => {
    const condition = parseCondition(leaf('text', 'matches', 'cancel'));
    const ctx = context({ text: 'cancel' });
    expect([1, 2, 3].map(() => evaluateCondition(condition, ctx))).toEqual([true, true, true]);
  });

  test.each<[string, unknown, boolean, boolean]>([
    // op, value, resolved true, resolved false
    ['eq', true, true, false],
    ['eq', false, false, true],
    ['ne', true, false, true],
    ['ne', false, true, false],
  ])('booleans: resolved %s %s', (op, value, whenTrue, whenFalse) => {
    expect(holds(leaf('resolved', op, value), { resolved: true })).toBe(whenTrue);
    expect(holds(leaf('resolved', op, value), { resolved: false })).toBe(whenFalse);
  });

  test.each<[string, unknown, boolean]>([
    ['contains', 'billing', true],
    ['contains', 'BILLING', true],
    ['contains', 'bill', false],
    ['in', ['delivery', 'billing'], true],
    ['in', ['delivery'], false],
    ['matches', '^deliv', false],
    ['matches', '^BILL', true],
  ])('string lists: topics %s %j → %s', (op, value, expected) => {
    expect(holds(leaf('topics', op, value), { topics: ['billing', 'app crash'] })).toBe(expected);
  });

  test('an empty topic list matches nothing', () => {
    expect(holds(leaf('topics', 'contains', 'billing'), { topics: [] })).toBe(false);
  });

  test('enumerated fields', () => {
    expect(holds(leaf('channel', 'in', ['phone', 'chat']), { channel: 'chat' })).toBe(true);
    expect(holds(leaf('lifecycleStage', 'eq', 'ending'), { lifecycleStage: 'ending' })).toBe(true);
    expect(holds(leaf('personalityType', 'ne', 'prompt'), { personalityType: 'relationship' })).toBe(true);
  });

  test('eventType reads the API field "type" too', () => {
    expect(holds(leaf('eventType', 'eq', 'cancellation'), { type: 'cancellation' })).toBe(true);
    expect(holds(leaf('eventType', 'eq', 'cancellation'), { eventType: 'cancellation' })).toBe(true);
    expect(holds(leaf('eventType', 'eq', 'cancellation'), { type: 'purchase' })).toBe(false);
  });

  test('experienceRating takes the level or the API name', () => {
    expect(holds(leaf('experienceRating', 'lte', 2), { experienceRating: 2 })).toBe(true);
    expect(holds(leaf('experienceRating', 'lte', 2), { experienceRating: 'poor' })).toBe(true);
    expect(holds(leaf('experienceRating', 'lte', 2), { experienceRating: 'good' })).toBe(false);
  });

  describe('a field the record lacks matches no op, ne included', () => {
    const cases: Array<[string, unknown]> = [
      ...OPS_BY_TYPE.number.map((op): [string, unknown] => [op, op === 'in' ? [6] : 6]),
    ];
    test.each(cases)('nps %s', (op, value) => {
      for (const record of [{}, { nps: null }, { nps: undefined }, { nps: '6' }, { nps: Number.NaN }]) {
        expect(holds(leaf('nps', op, value), record)).toBe(false);
      }
    });
    test.each(OPS_BY_TYPE.string)('text %s', (op) => {
      const value = op === 'in' ? ['x'] : 'x';
      expect(holds(leaf('text', op, value), { text: null })).toBe(false);
    });
    test.each(OPS_BY_TYPE.boolean)('resolved %s', (op) => {
      expect(holds(leaf('resolved', op, true), { resolved: null })).toBe(false);
      expect(holds(leaf('resolved', op, false), {})).toBe(false);
    });
    test.each(OPS_BY_TYPE.stringList)('topics %s', (op) => {
      expect(holds(leaf('topics', op, op === 'in' ? ['x'] : 'x'), { topics: null })).toBe(false);
    });
    test('but its negation holds', () => {
      expect(holds({ not: leaf('nps', 'eq', 10) }, {})).toBe(true);
    });
  });
});

describe('evaluateCondition on patterns', () => {
  const repeat = { pattern: 'repeatContact', count: 3, withinDays: 7 };

  test('repeatContact: count − 1 contacts is not enough, count is', () => {
    const asked: number[] = [];
    const within = (contacts: number) => (days: number) => {
      asked.push(days);
      return contacts;
    };
    expect(holds(repeat, {}, { contactsWithin: within(2) })).toBe(false);
    expect(holds(repeat, {}, { contactsWithin: within(3) })).toBe(true);
    expect(holds(repeat, {}, { contactsWithin: within(4) })).toBe(true);
    expect(asked).toEqual([7, 7, 7]);
  });

  test('repeatContact without history is false', () => {
    expect(holds(repeat, {}, {})).toBe(false);
  });

  test('transfers: exactly atLeast counts', () => {
    const bounced = { pattern: 'transfers', atLeast: 2 };
    expect(holds(bounced, { transfers: 1 })).toBe(false);
    expect(holds(bounced, { transfers: 2 })).toBe(true);
    expect(holds(bounced, { transfers: 3 })).toBe(true);
    expect(holds(bounced, { transfers: null })).toBe(false);
  });

  test('longWait: a wait equal to the threshold is not over it', () => {
    const long = { pattern: 'longWait', overSeconds: 300 };
    expect(holds(long, { waitSeconds: 300 })).toBe(false);
    expect(holds(long, { waitSeconds: 300.5 })).toBe(true);
    expect(holds(long, { waitSeconds: 301 })).toBe(true);
    expect(holds(long, {})).toBe(false);
  });

  test.each<[number | null | undefined, number | null, boolean]>([
    [9, 6, true],
    [10, 0, true],
    [8, 6, false],
    [9, 7, false],
    [null, 3, false],
    [undefined, 3, false],
    [10, null, false],
  ])('promoterTurnedDetractor: previous %s, now %s → %s', (previousNps, nps, expected) => {
    expect(holds({ pattern: 'promoterTurnedDetractor' }, { nps }, { previousNps })).toBe(expected);
  });
});

describe('evaluateCondition on all, any, not', () => {
  const low = leaf('nps', 'lte', 6);
  const angry = leaf('text', 'contains', 'lawyer');
  test.each<[number, string, boolean, boolean, boolean]>([
    // nps, text, all, any, not(all)
    [4, 'my lawyer', true, true, false],
    [4, 'fine', false, true, true],
    [9, 'my lawyer', false, true, true],
    [9, 'fine', false, false, true],
  ])('nps %s, text %j', (nps, text, all, any, notAll) => {
    const record = { nps, text };
    expect(holds({ all: [low, angry] }, record)).toBe(all);
    expect(holds({ any: [low, angry] }, record)).toBe(any);
    expect(holds({ not: { all: [low, angry] } }, record)).toBe(notAll);
    expect(holds({ not: { not: { any: [low, angry] } } }, record)).toBe(any);
  });

  test('a nested rule: detractor who is a valuable customer or bounced around', () => {
    const rule = {
      all: [
        low,
        { any: [leaf('value', 'gte', 10_000), { pattern: 'transfers', atLeast: 3 }] },
        { not: leaf('segment', 'eq', 'internal') },
      ],
    };
    expect(holds(rule, { nps: 3, value: 12_000, segment: 'gold' })).toBe(true);
    expect(holds(rule, { nps: 3, value: 12_000, segment: 'internal' })).toBe(false);
    expect(holds(rule, { nps: 3, value: 50, transfers: 3 })).toBe(true);
    expect(holds(rule, { nps: 3, value: 50, transfers: 2 })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

describe('conditionKinds', () => {
  const kinds = (input: unknown) => [...conditionKinds(parseCondition(input))].sort();
  test.each<[string, unknown, RecordKind[]]>([
    ['a score', leaf('nps', 'lte', 6), ['feedback']],
    ['a channel', leaf('channel', 'eq', 'phone'), ['feedback', 'interaction']],
    ['a customer field', leaf('segment', 'eq', 'gold'), ['event', 'feedback', 'interaction']],
    ['an interaction field', leaf('resolved', 'eq', false), ['interaction']],
    ['an event field', leaf('amount', 'gt', 100), ['event']],
    ['repeatContact', { pattern: 'repeatContact', count: 2, withinDays: 1 }, ['feedback', 'interaction']],
    ['transfers', { pattern: 'transfers', atLeast: 1 }, ['interaction']],
    ['longWait', { pattern: 'longWait', overSeconds: 60 }, ['interaction']],
    ['promoterTurnedDetractor', { pattern: 'promoterTurnedDetractor' }, ['feedback']],
    [
      'all: the kinds every part matches',
      { all: [leaf('nps', 'lte', 6), leaf('value', 'gt', 1)] },
      ['feedback'],
    ],
    ['all over disjoint kinds: none', { all: [leaf('nps', 'lte', 6), leaf('amount', 'gt', 1)] }, []],
    [
      'any: the kinds some part matches',
      { any: [leaf('nps', 'lte', 6), leaf('amount', 'gt', 1)] },
      ['event', 'feedback'],
    ],
    ['not: every kind', { not: leaf('nps', 'lte', 6) }, ['event', 'feedback', 'interaction']],
  ])('%s', (_, input, expected) => {
    expect(kinds(input)).toEqual(expected);
  });
});

describe('usesPatterns', () => {
  test('lists each pattern once, wherever it is', () => {
    const condition = parseCondition({
      any: [
        { pattern: 'longWait', overSeconds: 60 },
        { all: [leaf('nps', 'lte', 6), { not: { pattern: 'repeatContact', count: 2, withinDays: 3 } }] },
        { pattern: 'longWait', overSeconds: 600 },
      ],
    });
    expect([...usesPatterns(condition)].sort()).toEqual(['longWait', 'repeatContact']);
  });
  test('none for fields only', () => {
    expect(usesPatterns(parseCondition(leaf('nps', 'lte', 6))).size).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

const FIELD_LIST = Object.keys(FIELDS) as FieldName[];

const fieldValue = (name: FieldName): fc.Arbitrary<unknown> => {
  const field = FIELDS[name] as {
    type: string;
    values?: readonly string[];
    range?: readonly [number, number];
  };
  if (field.type === 'boolean') return fc.boolean();
  if (field.type === 'number') {
    const [min, max] = field.range ? [field.range[0], Math.min(field.range[1], 1000)] : [-1000, 1000];
    return fc.integer({ min: Math.ceil(min), max: Math.floor(max) });
  }
  if (field.values) return fc.constantFrom(...field.values);
  return fc.constantFrom('billing', 'cancel', 'Support', 'lawyer', 'x');
};

const leafArb: fc.Arbitrary<Condition> = fc.constantFrom(...FIELD_LIST).chain((name) => {
  const { type } = FIELDS[name];
  return fc.constantFrom(...OPS_BY_TYPE[type]).chain((op): fc.Arbitrary<Condition> => {
    const scalar = type === 'stringList' ? fc.constantFrom('billing', 'cancel', 'x') : fieldValue(name);
    if (op === 'in')
      return fc
        .array(scalar, { minLength: 1, maxLength: 3 })
        .map((value) => ({ field: name, op, value }) as Condition);
    if (op === 'contains')
      return fc.constantFrom('bill', 'CANCEL', 'x').map((value) => ({ field: name, op, value }));
    if (op === 'matches')
      return fc.constantFrom('^b', 'cancel|lawyer', 'X$').map((value) => ({ field: name, op, value }));
    return scalar.map((value) => ({ field: name, op, value }) as Condition);
  });
});

const patternArb: fc.Arbitrary<Condition> = fc.oneof(
  fc.record({
    pattern: fc.constant('repeatContact' as const),
    count: fc.integer({ min: 2, max: 5 }),
    withinDays: fc.integer({ min: 1, max: 30 }),
  }),
  fc.record({ pattern: fc.constant('transfers' as const), atLeast: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ pattern: fc.constant('longWait' as const), overSeconds: fc.integer({ min: 1, max: 600 }) }),
  fc.constant({ pattern: 'promoterTurnedDetractor' as const }),
);

const { condition: conditionArb } = fc.letrec<{ condition: Condition }>((tie) => ({
  condition: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    patternArb,
    fc.array(tie('condition'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
    fc.array(tie('condition'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
    tie('condition').map((not) => ({ not })),
  ),
}));

const recordArb = fc
  .tuple(
    ...FIELD_LIST.map((name) =>
      fc.option(
        FIELDS[name].type === 'stringList'
          ? fc.array(fc.constantFrom('billing', 'cancel', 'Billing', 'x'), { maxLength: 3 })
          : FIELDS[name].type === 'string' && !('values' in FIELDS[name])
            ? fc.constantFrom('billing dept', 'I will cancel', 'Support', 'x', 'LAWYER')
            : fieldValue(name),
        { nil: null },
      ),
    ),
  )
  .map((values) => Object.fromEntries(FIELD_LIST.map((name, i) => [name, values[i]])));

const contextArb: fc.Arbitrary<ConditionContext> = fc.record({
  kind: fc.constantFrom<RecordKind>('feedback', 'interaction', 'event'),
  record: recordArb,
  patterns: fc.record({
    contactsWithin: fc.integer({ min: 0, max: 6 }).map((n) => () => n),
    previousNps: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }),
  }),
});

describe('properties', () => {
  test('generated trees are valid', () => {
    fc.assert(
      fc.property(conditionArb, (condition) => {
        expect(parseCondition(condition)).toEqual(condition);
      }),
      { numRuns: 200 },
    );
  });

  test('not, all and any are the boolean operators', () => {
    fc.assert(
      fc.property(conditionArb, conditionArb, contextArb, (a, b, ctx) => {
        const [x, y] = [evaluateCondition(a, ctx), evaluateCondition(b, ctx)];
        expect(evaluateCondition({ not: a }, ctx)).toBe(!x);
        expect(evaluateCondition({ all: [a, b] }, ctx)).toBe(x && y);
        expect(evaluateCondition({ any: [a, b] }, ctx)).toBe(x || y);
      }),
      { numRuns: 500 },
    );
  });

  test('a condition never matches a record of a kind outside conditionKinds', () => {
    const onlyKind = (kind: RecordKind, record: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(record).filter(([name]) => {
          const owners = FIELDS[name as FieldName].kinds as readonly string[];
          return owners.includes(kind) || owners.includes('customer');
        }),
      );
    fc.assert(
      fc.property(conditionArb, contextArb, (condition, ctx) => {
        const record = onlyKind(ctx.kind, ctx.record);
        const kindPatterns = ctx.kind === 'event' ? {} : ctx.patterns;
        const matched = evaluateCondition(condition, { ...ctx, record, patterns: kindPatterns });
        if (matched) expect(conditionKinds(condition).has(ctx.kind)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

test('the vocabularies are the ones of vocabulary.ts', () => {
  expect(FIELDS.channel.values).toBe(CHANNELS);
  expect(FIELDS.lifecycleStage.values).toBe(LIFECYCLE_STAGES);
  expect(FIELDS.eventType.values).toBe(EVENT_TYPES);
});
