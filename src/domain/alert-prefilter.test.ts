import fc from 'fast-check';
import { sql } from 'kysely';
import { describe, expect, test } from 'vitest';
import { describeEachDatabase } from '../../test/helpers/databases.js';
import { createTestWorkspace } from '../../test/helpers/workspace.js';
import { rewriteOutboxTriggers } from '../closed-loop/outbox-filter.js';
import { conditionRecord, readConditionRecords } from '../closed-loop/processor.js';
import { createRule, deactivateRule } from '../closed-loop/rules.js';
import type { Db } from '../db/index.js';
import { upsertRecords } from '../ingest/upsert.js';
import { validateBatch } from '../ingest/validate.js';
import {
  type Condition,
  evaluateCondition,
  FIELDS,
  type FieldName,
  OPS_BY_TYPE,
  PATTERNS,
  parseCondition,
  type RecordKind,
} from './alert-conditions.js';
import { conditionPrefilter, prefilterSource, sqlText } from './alert-prefilter.js';
import {
  CHANNELS,
  EVENT_TYPES,
  FEEDBACK_SOURCES,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
  type RecordType,
} from './vocabulary.js';

/**
 * The outbox prefilter of alert rules (alert-prefilter.ts, migration 0007). The contract: the SQL
 * predicate is never false for a record on which evaluateCondition could be true, whatever the
 * customer's history and whatever the customer looks like when the record is evaluated; and it is
 * false wherever the row alone decides (else it filters nothing).
 */

const KINDS: readonly RecordKind[] = ['feedback', 'interaction', 'event'];
const TABLES: Record<RecordKind, string> = {
  feedback: 'feedback',
  interaction: 'interaction',
  event: 'event',
};

const NUL = String.fromCharCode(0);
/** U+212A KELVIN SIGN: JavaScript lower-cases it to the ASCII "k". */
const KELVIN = '\u212A';
/** U+0130: JavaScript lower-cases it to "i" + U+0307 (two characters). */
const DOTTED_I = '\u0130';

/** Texts records carry (the API refuses NUL and, for most fields, the empty string). */
const RECORD_TEXTS = [
  "O'Brien",
  "o'brien",
  '$tp$',
  'x$tp',
  '$tpx$ and $tp$',
  'ÄRGER',
  'ärger',
  KELVIN,
  'k',
  'K',
  DOTTED_I,
  'i',
  'cancel',
  'I will CANCEL now',
  'billing',
  'Billing',
  '%_\\',
  'big $$ deal',
] as const;
/** Texts conditions compare with: the records' and a few only conditions can hold. */
const CONDITION_TEXTS = [...RECORD_TEXTS, '', `x${NUL}y`, 'i\u0307', 'canc', 'ÄR', "'", '$'] as const;
/** Expressions: plain words (the prefilter searches for them), empty alternatives, and real syntax. */
const REGEXES = [
  'cancel',
  'CANCEL|billing',
  "o'brien|k",
  'cancel|',
  '|',
  'a||b',
  'big $$ deal',
  '%_',
  ' ',
  'I will',
  '^k$',
  'ärger',
  KELVIN,
  '\\$tp\\$',
  '(a+)+',
  '[',
  '.',
  'İ',
] as const;

/** Numbers conditions compare with, per field, overlapping the records' (within each field's scale). */
const NUMBERS: Partial<Record<FieldName, readonly number[]>> = {
  nps: [0, 3, 6, 6.5, 7, 8, 9, 10],
  csat: [1, 2, 2.5, 3, 5],
  ces: [1, 3, 4, 7],
  experienceRating: [1, 2, 3, 4, 5],
  sentiment: [-1, 0, 0.5, 1],
  value: [-1e12, -5, 0, 2.5, 100, 1e6],
  waitSeconds: [0, 0.5, 12.25, 30, 60, 1e7, Number.MAX_VALUE],
  handleSeconds: [0, 0.5, 12.25, 30, 60, 1e7],
  transfers: [0, 1, 2, 2.5, 3, 5, 2 ** 31 - 1, 2 ** 31, 1e300],
  amount: [-10, -0, 0, 9.99, 100, 1e12],
};

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const orNull = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: arbitrary });

// ---------------------------------------------------------------------------------------------
// Random conditions

const parses = (condition: unknown): boolean => {
  try {
    parseCondition(condition);
    return true;
  } catch {
    return false;
  }
};

/** A scalar for an exact comparison (eq, ne, in) of a field. */
const scalarOf = (name: FieldName): fc.Arbitrary<number | string | boolean> => {
  const spec = FIELDS[name];
  switch (spec.type) {
    case 'number':
      return pick(NUMBERS[name] ?? [0]);
    case 'boolean':
      return fc.boolean();
    default:
      if ('values' in spec) {
        // Mostly the vocabulary; now and then a text parseCondition refuses.
        return fc.oneof(
          { weight: 9, arbitrary: pick(spec.values) },
          { weight: 1, arbitrary: pick(RECORD_TEXTS) },
        );
      }
      return pick(CONDITION_TEXTS);
  }
};

const fieldLeaf = fc.constantFrom(...(Object.keys(FIELDS) as FieldName[])).chain((field) =>
  pick(OPS_BY_TYPE[FIELDS[field].type]).chain((op) => {
    const value: fc.Arbitrary<unknown> =
      op === 'in'
        ? fc.array(scalarOf(field), { minLength: 1, maxLength: 3 })
        : op === 'matches'
          ? pick(REGEXES)
          : op === 'contains'
            ? fc.oneof(
                pick(CONDITION_TEXTS),
                'values' in FIELDS[field] ? scalarOf(field) : pick(RECORD_TEXTS),
              )
            : scalarOf(field);
    return value.map((v) => ({ field, op, value: v }));
  }),
);

const patternLeaf = pick(PATTERNS).chain((pattern): fc.Arbitrary<Record<string, unknown>> => {
  switch (pattern) {
    case 'repeatContact':
      return fc.record({
        pattern: fc.constant(pattern),
        count: pick([2, 3, 100]),
        withinDays: pick([1, 7, 365]),
      });
    case 'transfers':
      return fc.record({ pattern: fc.constant(pattern), atLeast: pick([1, 2, 3, 20]) });
    case 'longWait':
      return fc.record({ pattern: fc.constant(pattern), overSeconds: pick([0.5, 12, 30, 60, 86_400]) });
    case 'promoterTurnedDetractor':
      return fc.constant({ pattern });
  }
});

/** More leaves on free texts, where quoting and case go wrong. */
const textLeaf = fc
  .record({
    field: pick(['text', 'touchpoint', 'segment', 'agent', 'team', 'outcome'] as const),
    op: pick(['eq', 'ne', 'in', 'contains', 'matches'] as const),
    text: pick(CONDITION_TEXTS),
    regex: pick(REGEXES),
  })
  .map(({ field, op, text, regex }) => ({
    field,
    op,
    value: op === 'in' ? [text] : op === 'matches' ? regex : text,
  }));

/** Leaves parseCondition accepts (the pools hold some it refuses: empty texts, bad expressions). */
const leaf = fc
  .oneof(
    { weight: 4, arbitrary: fieldLeaf },
    { weight: 2, arbitrary: textLeaf },
    { weight: 1, arbitrary: patternLeaf },
  )
  .filter(parses);

const conditionOf = (depth: number): fc.Arbitrary<unknown> => {
  if (depth === 0) return leaf;
  const inner = conditionOf(depth - 1);
  const children = fc.array(inner, { minLength: 1, maxLength: 3 });
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 2, arbitrary: children.map((all) => ({ all })) },
    { weight: 2, arbitrary: children.map((any) => ({ any })) },
    { weight: 1, arbitrary: inner.map((not) => ({ not })) },
  );
};

/** Random valid conditions: trees of all/any/not up to depth 3 over every field and pattern. */
const condition: fc.Arbitrary<Condition> = conditionOf(3).filter(parses).map(parseCondition);

// ---------------------------------------------------------------------------------------------
// Random records

const recordText = pick(RECORD_TEXTS);
const CUSTOMERS = ['c0', 'c1', 'c2', 'ghost'] as const;

const customerDraft = fc.record({
  segment: orNull(recordText),
  value: orNull(pick([-5, 0, 2.5, 100, 1e6])),
  lifecycleStage: orNull(pick(LIFECYCLE_STAGES)),
  personalityType: orNull(pick(PERSONALITY_TYPES)),
});

/** The segment, stage and type an encounter recorded: as ingested, or set to these (null: none). */
const snapshotDraft = fc.option(
  fc.record({
    segment: orNull(fc.oneof(recordText, fc.constant(''))),
    lifecycleStage: orNull(pick(LIFECYCLE_STAGES)),
    personalityType: orNull(pick(PERSONALITY_TYPES)),
  }),
  { nil: undefined },
);

const seconds = orNull(pick([0, 0.5, 12.25, 30, 60, 61, 600, 1e7]));

const feedbackDraft = fc.record({
  customer: fc.option(pick(CUSTOMERS), { nil: undefined }),
  source: pick(FEEDBACK_SOURCES),
  channel: orNull(pick(CHANNELS)),
  touchpoint: orNull(recordText),
  nps: orNull(fc.integer({ min: 0, max: 10 })),
  csat: orNull(fc.integer({ min: 1, max: 5 })),
  ces: orNull(fc.integer({ min: 1, max: 7 })),
  text: orNull(
    fc.oneof(
      recordText,
      fc.constant(''),
      fc.tuple(recordText, recordText).map(([a, b]) => `${a} ${b}`),
    ),
  ),
  snapshot: snapshotDraft,
});
const interactionDraft = fc.record({
  customer: pick(CUSTOMERS),
  channel: pick(CHANNELS),
  touchpoint: orNull(recordText),
  agent: orNull(recordText),
  team: orNull(recordText),
  outcome: orNull(recordText),
  waitSeconds: seconds,
  handleSeconds: seconds,
  transfers: orNull(fc.integer({ min: 0, max: 5 })),
  resolved: orNull(fc.boolean()),
  snapshot: snapshotDraft,
});
const eventDraft = fc.record({
  customer: pick(CUSTOMERS),
  type: pick(EVENT_TYPES),
  amount: orNull(pick([-10, 0, 9.99, 100, 1e12])),
});

const dataSet = fc.record({
  conditions: fc.array(condition, { minLength: 1, maxLength: 6 }),
  customers: fc.tuple(customerDraft, customerDraft, customerDraft),
  feedback: fc.array(feedbackDraft, { minLength: 1, maxLength: 5 }),
  interactions: fc.array(interactionDraft, { minLength: 1, maxLength: 4 }),
  events: fc.array(eventDraft, { minLength: 1, maxLength: 3 }),
  /** Customers as they may be when the record is evaluated (they change after the record is written). */
  otherCustomers: fc.array(customerDraft, { minLength: 1, maxLength: 3 }),
});
type DataSet = typeof dataSet extends fc.Arbitrary<infer T> ? T : never;

const OCCURRED_AT = '2026-03-01T12:00:00Z';

const put = async (db: Db, workspaceId: number, type: RecordType, records: object[]) => {
  if (records.length > 0) await upsertRecords(db, workspaceId, type, validateBatch(type, records));
};

const setSnapshot = async (
  db: Db,
  workspaceId: number,
  table: 'feedback' | 'interaction',
  externalId: string,
  snapshot: { segment: string | null; lifecycleStage: string | null; personalityType: string | null },
) => {
  await sql`UPDATE ${sql.table(table)} SET segment = ${snapshot.segment}, lifecycle_stage = ${snapshot.lifecycleStage},
    personality_type = ${snapshot.personalityType}
    WHERE workspace_id = ${workspaceId} AND external_id = ${externalId}`.execute(db);
};

/** Ingests a data set as the API does; the snapshots some records should have are then set. */
const ingest = async (db: Db, workspaceId: number, data: DataSet) => {
  await put(
    db,
    workspaceId,
    'customers',
    data.customers.map((draft, i) => ({ externalId: `c${i}`, ...draft })),
  );
  await put(
    db,
    workspaceId,
    'feedback',
    data.feedback.map(({ customer, snapshot: _, ...draft }, i) => ({
      externalId: `f${i}`,
      ...(customer === undefined ? {} : { customerId: customer }),
      ...draft,
      // Feedback must say something.
      ...(draft.nps === null && draft.csat === null && draft.ces === null && !draft.text?.trim()
        ? { text: 'Fine' }
        : {}),
      occurredAt: OCCURRED_AT,
    })),
  );
  await put(
    db,
    workspaceId,
    'interactions',
    data.interactions.map(({ customer, snapshot: _, ...draft }, i) => ({
      externalId: `i${i}`,
      customerId: customer,
      ...draft,
      occurredAt: OCCURRED_AT,
    })),
  );
  await put(
    db,
    workspaceId,
    'events',
    data.events.map(({ customer, ...draft }, i) => ({
      externalId: `e${i}`,
      customerId: customer,
      ...draft,
      occurredAt: OCCURRED_AT,
    })),
  );
  for (const [i, { snapshot }] of data.feedback.entries())
    if (snapshot) await setSnapshot(db, workspaceId, 'feedback', `f${i}`, snapshot);
  for (const [i, { snapshot }] of data.interactions.entries())
    if (snapshot) await setSnapshot(db, workspaceId, 'interaction', `i${i}`, snapshot);
};

// ---------------------------------------------------------------------------------------------
// What the row alone decides (written out here, not taken from the module)

/** The fields each table holds in a column of its own (no snapshot, no customer). */
const OWN_COLUMNS: Record<RecordKind, Partial<Record<FieldName, string>>> = {
  feedback: {
    nps: 'nps',
    csat: 'csat',
    ces: 'ces',
    experienceRating: 'experienceRating',
    text: 'text',
    source: 'source',
    channel: 'channel',
    touchpoint: 'touchpoint',
  },
  interaction: {
    channel: 'channel',
    touchpoint: 'touchpoint',
    waitSeconds: 'waitSeconds',
    handleSeconds: 'handleSeconds',
    transfers: 'transfers',
    resolved: 'resolved',
    outcome: 'outcome',
    team: 'team',
    agent: 'agent',
  },
  event: { eventType: 'type' },
};
const SNAPSHOT_FIELDS = new Set<FieldName>(['segment', 'lifecycleStage', 'personalityType']);
const isAscii = (text: string) => [...text].every((char) => char.charCodeAt(0) < 128);

/**
 * Whether the row decides a condition by itself (every leaf is): a field the kind lacks, a column
 * of the row or a recorded snapshot compared exactly (contains, and matches of plain words, only on
 * ASCII text), the transfers and longWait patterns, and promoterTurnedDetractor where the score is
 * no detractor's. There the prefilter should say exactly what the evaluator says.
 */
const decidedByRow = (condition: Condition, kind: RecordKind, record: Record<string, unknown>): boolean => {
  if ('all' in condition) return condition.all.every((child) => decidedByRow(child, kind, record));
  if ('any' in condition) return condition.any.every((child) => decidedByRow(child, kind, record));
  if ('not' in condition) return decidedByRow(condition.not, kind, record);
  if ('pattern' in condition) {
    switch (condition.pattern) {
      case 'repeatContact':
        return false;
      case 'transfers':
      case 'longWait':
        return true;
      case 'promoterTurnedDetractor':
        return kind !== 'feedback' || !(typeof record.nps === 'number' && record.nps <= 6);
    }
  }
  const { field, op, value } = condition;
  const kinds = FIELDS[field].kinds as readonly string[];
  if (!kinds.includes(kind) && !kinds.includes('customer')) return true;
  if (JSON.stringify(value).includes('\\u0000')) return false;
  // Expressions of plain words (`cancel|lawyer`) are searches for them; others the row cannot tell.
  if (op === 'matches' && !(typeof value === 'string' && /^[A-Za-z0-9 '%_|-]*$/.test(value))) return false;
  let actual: unknown;
  if (OWN_COLUMNS[kind][field] !== undefined) {
    actual = record[OWN_COLUMNS[kind][field] as string];
  } else if (SNAPSHOT_FIELDS.has(field) && kind !== 'event') {
    actual = (record.atEncounter as Record<string, unknown>)[field];
    if (actual === null) return false;
  } else {
    return false;
  }
  if (FIELDS[field].type === 'stringList') return false;
  return (op !== 'contains' && op !== 'matches') || typeof actual !== 'string' || isAscii(actual);
};

// ---------------------------------------------------------------------------------------------
// The SQL side

interface Verdict {
  id: number;
  customerId: number | null;
  keep: boolean[];
}

/**
 * For each row of the kind in the workspace: whether each prefilter keeps it (IS NOT FALSE), on the
 * rows as the outbox trigger reads them (prefilterSource).
 */
const prefilterVerdicts = async (
  db: Db,
  workspaceId: number,
  kind: RecordKind,
  conditions: Condition[],
): Promise<Verdict[]> => {
  const query = (predicates: string[]) =>
    sql<{ id: number; customer_id: number | null } & Record<string, boolean>>`
      SELECT n.id, n.customer_id, ${sql.join(predicates.map((p, i) => sql`(${sql.raw(p)}) IS NOT FALSE AS ${sql.raw(`k${i}`)}`))}
      FROM ${sql.raw(prefilterSource(kind, TABLES[kind], predicates.join('\n')))}
      WHERE n.workspace_id = ${workspaceId} ORDER BY n.id`.execute(db);
  const predicates = conditions.map((c) => conditionPrefilter(c, kind));
  let result: Awaited<ReturnType<typeof query>>;
  try {
    result = await query(predicates);
  } catch (error) {
    // Name the predicate that fails: in the trigger it would break ingestion.
    for (const [i, predicate] of predicates.entries()) {
      try {
        await query([predicate]);
      } catch (inner) {
        throw new Error(
          `The ${kind} prefilter of ${JSON.stringify(conditions[i])} fails in SQL: ${(inner as Error).message}\n${predicate}`,
        );
      }
    }
    throw error;
  }
  return result.rows.map((row) => ({
    id: row.id,
    customerId: row.customer_id,
    keep: predicates.map((_, i) => row[`k${i}`] as boolean),
  }));
};

type CustomerState = {
  segment: string | null;
  value: number | null;
  lifecycleStage: string | null;
  personalityType: string | null;
};

const customersOf = async (db: Db, workspaceId: number): Promise<Map<number, CustomerState>> => {
  const { rows } = await sql<CustomerState & { id: number }>`
    SELECT id, segment, value, lifecycle_stage AS "lifecycleStage", personality_type AS "personalityType"
    FROM customer WHERE workspace_id = ${workspaceId}`.execute(db);
  return new Map(rows.map(({ id, ...customer }) => [id, customer]));
};

/** The histories the row knows nothing of. */
const HISTORIES: ConditionPatterns[] = [0, 1000].flatMap((contacts) =>
  [null, 0, 10].map((previousNps) => ({ contactsWithin: () => contacts, previousNps })),
);
type ConditionPatterns = { contactsWithin: (days: number) => number; previousNps: number | null };

interface Tally {
  checked: number;
  /** Verdicts where the prefilter is false. */
  rejected: number;
  /** Verdicts where the evaluator matched under some customer and history. */
  matched: number;
  /** Verdicts the row alone decides (compared exactly). */
  decided: number;
}
const emptyTally = (): Tally => ({ checked: 0, rejected: 0, matched: 0, decided: 0 });

/**
 * Checks the verdicts of every prefilter on every row of one kind against the evaluator, run on the
 * record as the processor builds it, for every history and for the record's customer, no customer
 * and the other customers given (the customer may change before the record is evaluated).
 */
const checkVerdicts = async (
  db: Db,
  kind: RecordKind,
  conditions: Condition[],
  verdicts: Verdict[],
  customers: Map<number, CustomerState>,
  others: (CustomerState | null)[],
  tally: Tally,
) => {
  const records = await readConditionRecords(
    db,
    kind,
    verdicts.map((v) => v.id),
  );
  for (const verdict of verdicts) {
    const record = records.get(verdict.id);
    if (!record) throw new Error(`${kind} ${verdict.id} was not read back`);
    const real = verdict.customerId === null ? null : (customers.get(verdict.customerId) ?? null);
    const evaluated = [real, ...others].map((customer) => conditionRecord(record, customer));
    for (const [i, condition] of conditions.entries()) {
      const keep = verdict.keep[i];
      tally.checked++;
      if (!keep) tally.rejected++;
      let match: { merged: Record<string, unknown>; patterns: ConditionPatterns } | undefined;
      for (const merged of evaluated) {
        for (const patterns of HISTORIES) {
          if (!match && evaluateCondition(condition, { kind, record: merged, patterns })) {
            match = { merged, patterns };
          }
        }
      }
      if (match) tally.matched++;
      if (match && !keep) {
        throw new Error(
          `The ${kind} prefilter is false on a record the rule matches.\n` +
            `condition: ${JSON.stringify(condition)}\nprefilter: ${conditionPrefilter(condition, kind)}\n` +
            `record: ${JSON.stringify(match.merged)}\n` +
            `history: contacts ${match.patterns.contactsWithin(1)}, previousNps ${match.patterns.previousNps}`,
        );
      }
      // Where the row alone decides, the prefilter must also say no when the evaluator does.
      if (decidedByRow(condition, kind, record)) {
        tally.decided++;
        expect(
          keep,
          `${kind} prefilter of ${JSON.stringify(condition)} on ${JSON.stringify(record)}: ${conditionPrefilter(condition, kind)}`,
        ).toBe(match !== undefined);
      }
    }
  }
};

/** One data set: every prefilter against the evaluator on every record of every kind. */
const checkDataSet = async (db: Db, data: DataSet, tally: Tally) => {
  const workspace = await createTestWorkspace(db);
  await ingest(db, workspace.id, data);
  const customers = await customersOf(db, workspace.id);
  const rows = { feedback: data.feedback, interaction: data.interactions, event: data.events };
  for (const kind of KINDS) {
    const verdicts = await prefilterVerdicts(db, workspace.id, kind, data.conditions);
    expect(verdicts).toHaveLength(rows[kind].length);
    await checkVerdicts(
      db,
      kind,
      data.conditions,
      verdicts,
      customers,
      [null, ...data.otherCustomers],
      tally,
    );
  }
};

// ---------------------------------------------------------------------------------------------
// Unit tests

const CONSTANTS = ['true', 'false', 'NULL::boolean'];
/** A predicate the row decides by one of its columns (its text is the module's business). */
const expectColumnTest = (predicate: string, column: string) => {
  expect(CONSTANTS).not.toContain(predicate);
  expect(predicate).toContain(`n.${column}`);
};

describe('conditionPrefilter', () => {
  test('a field the kind lacks is false; on its own table it is a comparison of the column', () => {
    const detractor: Condition = { field: 'nps', op: 'lte', value: 6 };
    expectColumnTest(conditionPrefilter(detractor, 'feedback'), 'nps');
    expect(conditionPrefilter(detractor, 'interaction')).toBe('false');
    expect(conditionPrefilter(detractor, 'event')).toBe('false');
    expect(conditionPrefilter({ field: 'text', op: 'contains', value: 'cancel' }, 'event')).toBe('false');
    expect(conditionPrefilter({ field: 'agent', op: 'eq', value: 'ann' }, 'feedback')).toBe('false');
    expect(conditionPrefilter({ field: 'eventType', op: 'eq', value: 'churn' }, 'interaction')).toBe('false');
    expect(conditionPrefilter({ pattern: 'transfers', atLeast: 2 }, 'feedback')).toBe('false');
    expect(conditionPrefilter({ pattern: 'longWait', overSeconds: 60 }, 'event')).toBe('false');
    expect(conditionPrefilter({ pattern: 'promoterTurnedDetractor' }, 'interaction')).toBe('false');
  });

  test('constants fold through all, any and not', () => {
    // not(false) is true, so the any is true whatever its other branch says.
    const alwaysTrue: Condition = {
      any: [
        { field: 'touchpoint', op: 'eq', value: 'billing' },
        { not: { field: 'nps', op: 'eq', value: 5 } },
      ],
    };
    expect(conditionPrefilter(alwaysTrue, 'interaction')).toBe('true');
    expect(conditionPrefilter(alwaysTrue, 'event')).toBe('true');
    // One false part makes the all false, unknowns and all.
    const impossible: Condition = {
      all: [
        { pattern: 'repeatContact', count: 3, withinDays: 7 },
        { field: 'nps', op: 'lte', value: 6 },
      ],
    };
    expect(conditionPrefilter(impossible, 'interaction')).toBe('false');
    // any of falses only is false.
    expect(
      conditionPrefilter(
        {
          any: [
            { field: 'nps', op: 'lte', value: 6 },
            { field: 'csat', op: 'lt', value: 3 },
          ],
        },
        'event',
      ),
    ).toBe('false');
    // not of true is false.
    expect(conditionPrefilter({ not: alwaysTrue }, 'interaction')).toBe('false');
  });

  test('what the row cannot tell stays unknown, also under not', () => {
    const repeat: Condition = { pattern: 'repeatContact', count: 3, withinDays: 7 };
    const valuable: Condition = { field: 'value', op: 'gt', value: 1000 };
    for (const kind of KINDS) {
      expect(conditionPrefilter(repeat, kind)).toBe('NULL::boolean');
      expect(conditionPrefilter({ not: repeat }, kind)).toBe('NULL::boolean');
      expect(conditionPrefilter({ not: valuable }, kind)).toBe('NULL::boolean');
      expect(conditionPrefilter({ all: [repeat, { not: valuable }] }, kind)).toBe('NULL::boolean');
      expect(conditionPrefilter({ field: 'text', op: 'contains', value: 'cancel' }, kind) === 'false').toBe(
        kind !== 'feedback',
      );
    }
    // Events carry no snapshot: the customer's current segment decides.
    expect(conditionPrefilter({ field: 'segment', op: 'eq', value: 'gold' }, 'event')).toBe('NULL::boolean');
    // On feedback the snapshot decides when there is one.
    expectColumnTest(
      conditionPrefilter({ field: 'segment', op: 'eq', value: 'gold' }, 'feedback'),
      'segment',
    );
    // An unknown next to a comparison keeps the comparison.
    const both = conditionPrefilter({ all: [repeat, { field: 'nps', op: 'lte', value: 6 }] }, 'feedback');
    expectColumnTest(both, 'nps');
    expect(both).toContain('NULL::boolean');
  });

  test('text searches read the rows through prefilterSource; other predicates the rows as they are', () => {
    const detractor = conditionPrefilter({ field: 'nps', op: 'lte', value: 6 }, 'feedback');
    expect(prefilterSource('feedback', 'new_rows', detractor)).toBe('new_rows n');
    const word = conditionPrefilter({ field: 'text', op: 'contains', value: 'cancel' }, 'feedback');
    expect(prefilterSource('feedback', 'new_rows', word)).not.toBe('new_rows n');
  });

  test('a column two kinds share compiles alike on both', () => {
    const phone: Condition = { field: 'channel', op: 'eq', value: 'phone' };
    expectColumnTest(conditionPrefilter(phone, 'feedback'), 'channel');
    expect(conditionPrefilter(phone, 'feedback')).toBe(conditionPrefilter(phone, 'interaction'));
    expect(conditionPrefilter(phone, 'event')).toBe('false');
  });
});

describe('sqlText', () => {
  test('quotes with a dollar tag the text does not hold', () => {
    expect(sqlText("O'Brien")).toBe("$tp$O'Brien$tp$");
    expect(sqlText('')).toBe('$tp$$tp$');
    expect(sqlText('a $tp$ b')).toBe('$tpx$a $tp$ b$tpx$');
    // A trailing "$tp" would run into the closing tag: "$tp$ends$tp$tp$" ends early.
    expect(sqlText('ends$tp')).toBe('$tpx$ends$tp$tpx$');
    expect(sqlText('$tp$ and $tpx$')).toBe('$tpxx$$tp$ and $tpx$$tpxx$');
    expect(sqlText('$tp$ and ends$tpx')).toBe('$tpxx$$tp$ and ends$tpx$tpxx$');
    expect(sqlText('big $$ deal')).toBe('$tp$big $$ deal$tp$');
  });

  test('texts of conditions reach the predicate quoted by sqlText', () => {
    for (const value of ["O'Brien", '$tp$', 'x$tp', '$tpx$ x$tpx', 'big $$ deal']) {
      expect(conditionPrefilter({ field: 'touchpoint', op: 'eq', value }, 'feedback')).toContain(
        sqlText(value) as string,
      );
      expect(conditionPrefilter({ field: 'agent', op: 'in', value: [value] }, 'interaction')).toContain(
        sqlText(value) as string,
      );
    }
  });

  test('refuses the NUL character, which no PostgreSQL text can hold', () => {
    expect(sqlText(`a${NUL}b`)).toBeNull();
    expect(sqlText(NUL)).toBeNull();
    expect(conditionPrefilter({ field: 'touchpoint', op: 'eq', value: `a${NUL}b` }, 'feedback')).toBe(
      'NULL::boolean',
    );
    expect(conditionPrefilter({ field: 'text', op: 'contains', value: `a${NUL}b` }, 'feedback')).toBe(
      'NULL::boolean',
    );
    expect(
      conditionPrefilter({ field: 'touchpoint', op: 'in', value: ['billing', `a${NUL}b`] }, 'interaction'),
    ).toBe('NULL::boolean');
  });
});

// ---------------------------------------------------------------------------------------------
// Against the databases

const NUM_RUNS = 100;
const HOUR = 3_600_000;

const outboxIds = async (db: Db, workspaceId: number, kind: RecordKind = 'feedback') => {
  const { rows } = await sql<{ external_id: string }>`
    SELECT r.external_id FROM alert_outbox o JOIN ${sql.table(TABLES[kind])} r ON r.id = o.record_id
    WHERE o.workspace_id = ${workspaceId} AND o.record_kind = ${kind} ORDER BY r.external_id`.execute(db);
  return rows.map((row) => row.external_id);
};
const clearOutbox = async (db: Db, workspaceId: number) => {
  await sql`DELETE FROM alert_outbox WHERE workspace_id = ${workspaceId}`.execute(db);
};

describeEachDatabase('alert prefilter', (database, databaseKind) => {
  const db = () => database().db;

  test('sqlText round-trips every text through the database', async () => {
    const texts = [...CONDITION_TEXTS.filter((text) => !text.includes(NUL)), 'ends$tp', '$tp$ and ends$tpx'];
    const { rows } = await sql<Record<string, string>>`SELECT ${sql.join(
      texts.map((text, i) => sql`${sql.raw(sqlText(text) as string)} AS ${sql.raw(`t${i}`)}`),
    )}`.execute(db());
    expect(texts.map((_, i) => rows[0]?.[`t${i}`])).toEqual(texts);
  });

  test(`the prefilter is never false where the evaluator can match (${NUM_RUNS} random data sets)`, async () => {
    const tally = emptyTally();
    await fc.assert(
      fc.asyncProperty(dataSet, (data) => checkDataSet(db(), data, tally)),
      { numRuns: NUM_RUNS },
    );
    // Not vacuous: the evaluator matched, the prefilter turned records away, and the row alone
    // decided many verdicts.
    expect(tally.matched).toBeGreaterThan(0);
    expect(tally.rejected).toBeGreaterThan(0);
    expect(tally.rejected).toBeLessThan(tally.checked);
    expect(tally.decided).toBeGreaterThan(0);
  }, 120_000);

  test('every tricky text against every tricky value: quoting, case and the snapshot', async () => {
    const workspace = await createTestWorkspace(db());
    const ws = workspace.id;
    await put(db(), ws, 'customers', [{ externalId: 'c0', segment: 'Gold', lifecycleStage: 'current' }]);
    const texts = [...RECORD_TEXTS, null];
    await put(
      db(),
      ws,
      'feedback',
      texts.map((text, i) => ({
        externalId: `f${i}`,
        customerId: 'c0',
        occurredAt: OCCURRED_AT,
        nps: 5,
        text,
        touchpoint: text,
      })),
    );
    await put(
      db(),
      ws,
      'interactions',
      texts.map((text, i) => ({
        externalId: `i${i}`,
        customerId: 'c0',
        channel: 'chat',
        occurredAt: OCCURRED_AT,
        touchpoint: text,
        agent: text,
        outcome: text,
      })),
    );
    for (const [i, text] of texts.entries()) {
      const snapshot = { segment: text, lifecycleStage: null, personalityType: null };
      await setSnapshot(db(), ws, 'feedback', `f${i}`, snapshot);
      await setSnapshot(db(), ws, 'interaction', `i${i}`, snapshot);
    }
    const conditions: Condition[] = [];
    for (const field of ['text', 'touchpoint', 'segment', 'agent', 'outcome'] as const) {
      for (const value of CONDITION_TEXTS) {
        for (const candidate of [
          { field, op: 'eq', value },
          { field, op: 'ne', value },
          { field, op: 'contains', value },
          { field, op: 'in', value: [value, 'billing'] },
          { field, op: 'matches', value },
          { not: { field, op: 'contains', value } },
        ]) {
          if (parses(candidate)) conditions.push(parseCondition(candidate));
        }
      }
      for (const value of REGEXES) {
        for (const candidate of [{ field, op: 'matches', value }, { not: { field, op: 'matches', value } }]) {
          if (parses(candidate)) conditions.push(parseCondition(candidate));
        }
      }
    }
    const customers = await customersOf(db(), ws);
    const [customer] = customers.values();
    if (!customer) throw new Error('no customer');
    const others = [null, ...RECORD_TEXTS.map((segment) => ({ ...customer, segment }))];
    const tally = emptyTally();
    for (const kind of ['feedback', 'interaction'] as const) {
      // In parts: a statement has at most 1664 columns.
      for (let start = 0; start < conditions.length; start += 200) {
        const part = conditions.slice(start, start + 200);
        const verdicts = await prefilterVerdicts(db(), ws, kind, part);
        expect(verdicts).toHaveLength(texts.length);
        await checkVerdicts(db(), kind, part, verdicts, customers, others, tally);
      }
    }
    expect(tally.matched).toBeGreaterThan(0);
    expect(tally.rejected).toBeGreaterThan(0);
    expect(tally.decided).toBeGreaterThan(0);
  });

  test('rules on texts that need quoting queue the records they match, and only those', async () => {
    const workspace = await createTestWorkspace(db());
    const ws = workspace.id;
    const quoted = "O'Brien says $tp$ and x$tp";
    await createRule(db(), ws, {
      name: 'Quoted',
      condition: { field: 'text', op: 'eq', value: quoted },
      severity: 'low',
    });
    // Predicates are quoted inside the trigger function's own dollar quotes.
    const nested = '$tpx$ x$tpx';
    await createRule(db(), ws, {
      name: 'Nested',
      condition: { field: 'text', op: 'in', value: [nested, 'big $$ deal'] },
      severity: 'low',
    });
    await createRule(db(), ws, {
      name: 'Kelvin',
      condition: { field: 'touchpoint', op: 'contains', value: `${KELVIN}ayak` },
      severity: 'low',
    });
    const at = new Date(Date.now() - HOUR).toISOString();
    const feedback = (externalId: string, text: string, touchpoint: string) => ({
      externalId,
      customerId: 'bob',
      occurredAt: at,
      text,
      touchpoint,
    });
    await put(db(), ws, 'feedback', [
      feedback('quoted', quoted, 'web'),
      feedback('prefix', "O'Brien says $tp$", 'web'),
      feedback('kayak', 'fine', 'KAYAK tour'),
      feedback('kayak-lower', 'fine', 'the kayak shop'),
      feedback('neither', 'fine', 'canoe'),
      feedback('nested', nested, 'web'),
      feedback('dollars', 'big $$ deal', 'web'),
      feedback('nested-prefix', '$tpx$ x', 'web'),
    ]);
    expect(await outboxIds(db(), ws)).toEqual(['dollars', 'kayak', 'kayak-lower', 'nested', 'quoted']);
  });

  test('the outbox holds exactly the records an active rule may match', async () => {
    const workspace = await createTestWorkspace(db());
    const ws = workspace.id;
    const rules = [
      { name: 'Detractor', condition: { field: 'nps', op: 'lte', value: 6 }, severity: 'high' },
      { name: 'Cancel', condition: { field: 'text', op: 'contains', value: 'cancel' }, severity: 'critical' },
      { name: 'Turned', condition: { pattern: 'promoterTurnedDetractor' }, severity: 'medium' },
    ];
    const ids: number[] = [];
    for (const rule of rules) ids.push((await createRule(db(), ws, rule)).id);
    const at = new Date(Date.now() - HOUR).toISOString();
    const feedback = (externalId: string, fields: Record<string, unknown>) => ({
      externalId,
      customerId: 'alice',
      occurredAt: at,
      ...fields,
    });
    await put(db(), ws, 'feedback', [
      feedback('promoter-10', { nps: 10, text: 'Great' }),
      feedback('promoter-9', { nps: 9 }),
      feedback('passive-8', { nps: 8, text: 'Fine' }),
      feedback('passive-7', { nps: 7 }),
      feedback('detractor-6', { nps: 6 }),
      feedback('detractor-0', { nps: 0, text: 'Awful' }),
      feedback('word', { nps: 10, text: 'I will CANCEL unless this changes' }),
      feedback('no-score', { csat: 2, text: 'Slow' }),
    ]);
    expect(await outboxIds(db(), ws)).toEqual(['detractor-0', 'detractor-6', 'word']);

    // A changed record is queued again when it may match now, not when it cannot.
    await clearOutbox(db(), ws);
    await put(db(), ws, 'feedback', [
      feedback('promoter-9', { nps: 3 }),
      feedback('passive-8', { nps: 8, text: 'Better now' }),
    ]);
    expect(await outboxIds(db(), ws)).toEqual(['promoter-9']);
    // No rule names interactions or events: none is queued.
    await put(db(), ws, 'interactions', [
      { externalId: 'call', customerId: 'alice', channel: 'phone', occurredAt: at, waitSeconds: 900 },
    ]);
    await put(db(), ws, 'events', [
      { externalId: 'churn', customerId: 'alice', type: 'churn', occurredAt: at },
    ]);
    expect(await outboxIds(db(), ws, 'interaction')).toEqual([]);
    expect(await outboxIds(db(), ws, 'event')).toEqual([]);

    // Rules on interactions and events filter their own tables.
    ids.push(
      (
        await createRule(db(), ws, {
          name: 'Long wait',
          condition: { pattern: 'longWait', overSeconds: 300 },
          severity: 'low',
        })
      ).id,
      (
        await createRule(db(), ws, {
          name: 'Churn',
          condition: { field: 'eventType', op: 'in', value: ['churn', 'cancellation'] },
          severity: 'high',
        })
      ).id,
    );
    await put(db(), ws, 'interactions', [
      { externalId: 'long', customerId: 'alice', channel: 'phone', occurredAt: at, waitSeconds: 301 },
      { externalId: 'short', customerId: 'alice', channel: 'phone', occurredAt: at, waitSeconds: 300 },
      { externalId: 'unknown-wait', customerId: 'alice', channel: 'chat', occurredAt: at },
    ]);
    await put(db(), ws, 'events', [
      { externalId: 'cancel', customerId: 'alice', type: 'cancellation', occurredAt: at },
      { externalId: 'renew', customerId: 'alice', type: 'renewal', occurredAt: at },
    ]);
    expect(await outboxIds(db(), ws, 'interaction')).toEqual(['long']);
    expect(await outboxIds(db(), ws, 'event')).toEqual(['cancel']);
    expect(await outboxIds(db(), ws)).toEqual(['promoter-9']);

    // Without an active rule nothing is queued.
    await clearOutbox(db(), ws);
    for (const id of ids) await deactivateRule(db(), ws, id);
    await put(db(), ws, 'feedback', [
      feedback('detractor-late', { nps: 1, text: 'cancel it' }),
      feedback('promoter-late', { nps: 10 }),
    ]);
    expect(await outboxIds(db(), ws)).toEqual([]);

    // A rule changed behind the application's back (raw SQL) counts once the triggers are
    // rewritten, as every process does when it opens the database.
    const changed = await createRule(db(), ws, rules[0]);
    await sql`UPDATE alert_rule SET condition = ${JSON.stringify({ field: 'nps', op: 'gte', value: 9 })}::jsonb
      WHERE workspace_id = ${ws} AND id = ${changed.id}`.execute(db());
    await put(db(), ws, 'feedback', [
      feedback('stale-promoter', { nps: 10 }),
      feedback('stale-detractor', { nps: 2 }),
    ]);
    // The server database is shared: another file's rule change may rewrite the triggers meanwhile.
    if (databaseKind === 'pglite') expect(await outboxIds(db(), ws)).toEqual(['stale-detractor']);
    await clearOutbox(db(), ws);
    await db().transaction().execute(rewriteOutboxTriggers);
    await put(db(), ws, 'feedback', [
      feedback('new-promoter', { nps: 10 }),
      feedback('new-detractor', { nps: 2 }),
    ]);
    expect(await outboxIds(db(), ws)).toEqual(['new-promoter']);
  });
});
