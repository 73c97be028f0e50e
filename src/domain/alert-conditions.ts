import { z } from 'zod';
import { AppError, type ErrorDetail } from '../errors.js';
import { issuesToDetails } from '../validation.js';
import { EXPERIENCE_RATINGS } from './experience-rating.js';
import {
  CHANNELS,
  EVENT_TYPES,
  FEEDBACK_SOURCES,
  LIFECYCLE_STAGES,
  PERSONALITY_TYPES,
} from './vocabulary.js';

/**
 * The conditions of alert rules ("closed loop"): a JSON tree of `all` / `any` / `not` nodes over
 * field leaves (`{"field": "nps", "op": "lte", "value": 6}`) and pattern leaves
 * (`{"pattern": "repeatContact", "count": 3, "withinDays": 7}`), checked once by
 * {@link parseCondition} and evaluated on every ingested record by {@link evaluateCondition}.
 *
 * Semantics, decided here once:
 * - A field the record does not carry (missing, null, or of the wrong type) matches no op, not
 *   even `ne`: `{"field": "nps", "op": "ne", "value": 10}` is false for a record without nps.
 *   Write `{"not": {"field": "nps", "op": "eq", "value": 10}}` to also match records without it.
 * - `eq`, `ne` and `in` compare strings exactly (the vocabularies are lower case); `contains` and
 *   `matches` ignore case.
 * - On a string list (topics): `contains` holds when an element equals the value (ignoring case),
 *   `in` when an element is one of the values, `matches` when an element matches.
 * - Pure: no I/O. History comes in through `context.patterns`.
 */

// ---------------------------------------------------------------------------------------------
// Fields, ops, patterns
// ---------------------------------------------------------------------------------------------

export type FieldType = 'number' | 'string' | 'boolean' | 'stringList';
/** The records a rule is evaluated on. */
export type RecordKind = 'feedback' | 'interaction' | 'event';
/** Who carries a field; customer fields are merged into every record, so they apply to all kinds. */
export type FieldOwner = RecordKind | 'customer';

export interface FieldSpec {
  type: FieldType;
  kinds: readonly FieldOwner[];
  /** For enumerated strings: the values `eq`, `ne` and `in` accept. */
  values?: readonly string[];
  /** For scores: the scale; a compared value outside it is rejected. */
  range?: readonly [number, number];
  /** Another record key holding the field (the API calls an event's type `type`). */
  alias?: string;
}

/**
 * Every field a leaf may name, in the camelCase of the public API.
 *
 * @example FIELDS.channel; // { type: 'string', kinds: ['feedback', 'interaction'], values: CHANNELS }
 */
export const FIELDS = {
  nps: { type: 'number', kinds: ['feedback'], range: [0, 10] },
  csat: { type: 'number', kinds: ['feedback'], range: [1, 5] },
  ces: { type: 'number', kinds: ['feedback'], range: [1, 7] },
  experienceRating: { type: 'number', kinds: ['feedback'], range: [1, 5] },
  sentiment: { type: 'number', kinds: ['feedback'], range: [-1, 1] },
  topics: { type: 'stringList', kinds: ['feedback'] },
  text: { type: 'string', kinds: ['feedback'] },
  source: { type: 'string', kinds: ['feedback'], values: FEEDBACK_SOURCES },
  channel: { type: 'string', kinds: ['feedback', 'interaction'], values: CHANNELS },
  touchpoint: { type: 'string', kinds: ['feedback', 'interaction'] },
  segment: { type: 'string', kinds: ['customer'] },
  value: { type: 'number', kinds: ['customer'] },
  lifecycleStage: { type: 'string', kinds: ['customer'], values: LIFECYCLE_STAGES },
  personalityType: { type: 'string', kinds: ['customer'], values: PERSONALITY_TYPES },
  waitSeconds: { type: 'number', kinds: ['interaction'], range: [0, Number.MAX_VALUE] },
  handleSeconds: { type: 'number', kinds: ['interaction'], range: [0, Number.MAX_VALUE] },
  transfers: { type: 'number', kinds: ['interaction'], range: [0, Number.MAX_VALUE] },
  resolved: { type: 'boolean', kinds: ['interaction'] },
  outcome: { type: 'string', kinds: ['interaction'] },
  team: { type: 'string', kinds: ['interaction'] },
  agent: { type: 'string', kinds: ['interaction'] },
  eventType: { type: 'string', kinds: ['event'], values: EVENT_TYPES, alias: 'type' },
  amount: { type: 'number', kinds: ['event'] },
} as const satisfies Record<string, FieldSpec>;
export type FieldName = keyof typeof FIELDS;
const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];
const spec = (name: FieldName): FieldSpec => FIELDS[name];

export const OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'contains', 'matches'] as const;
export type Op = (typeof OPS)[number];

/** The ops each field type takes. */
export const OPS_BY_TYPE: Record<FieldType, readonly Op[]> = {
  number: ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in'],
  string: ['eq', 'ne', 'in', 'contains', 'matches'],
  boolean: ['eq', 'ne'],
  stringList: ['contains', 'in', 'matches'],
};

export const PATTERNS = ['repeatContact', 'transfers', 'longWait', 'promoterTurnedDetractor'] as const;
export type PatternName = (typeof PATTERNS)[number];

/** Which record kinds each pattern can match. */
const PATTERN_KINDS: Record<PatternName, readonly RecordKind[]> = {
  repeatContact: ['feedback', 'interaction'],
  transfers: ['interaction'],
  longWait: ['interaction'],
  promoterTurnedDetractor: ['feedback'],
};

export const MAX_DEPTH = 10;
export const MAX_NODES = 100;
export const MAX_REGEX_LENGTH = 200;
export const MAX_IN_VALUES = 100;

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

export type Scalar = number | string | boolean;
export interface FieldLeaf {
  field: FieldName;
  op: Op;
  /** A scalar of the field's type; a non-empty array for `in`; a string for contains/matches. */
  value: Scalar | Scalar[];
}
export type PatternLeaf =
  | { pattern: 'repeatContact'; count: number; withinDays: number }
  | { pattern: 'transfers'; atLeast: number }
  | { pattern: 'longWait'; overSeconds: number }
  | { pattern: 'promoterTurnedDetractor' };
export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | FieldLeaf
  | PatternLeaf;

/** What {@link evaluateCondition} looks at. */
export interface ConditionContext {
  kind: RecordKind;
  /** The record's API fields with the customer's segment, value, lifecycleStage, personalityType. */
  record: Record<string, unknown>;
  patterns: {
    /** Contacts of this customer in the last `days` days, this one included. */
    contactsWithin?(days: number): number;
    /** The NPS of the customer's previous feedback with one. */
    previousNps?: number | null;
  };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

type Path = PropertyKey[];
interface Problem {
  path: Path;
  message: string;
}

const show = (value: unknown): string => {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const orList = (items: readonly string[]): string =>
  items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;

const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length];
};

/** Known names close to `name`: the same but for case; else one containing the other, or ≤ 2 edits. */
const closeNames = (name: string, known: readonly string[]): string[] => {
  const lower = name.toLowerCase();
  const same = known.filter((candidate) => candidate.toLowerCase() === lower);
  if (same.length > 0) return same;
  return known.filter((candidate) => {
    const other = candidate.toLowerCase();
    return (
      distance(lower, other) <= 2 || (lower.length >= 3 && (other.includes(lower) || lower.includes(other)))
    );
  });
};

const unknownNameMessage = (what: string, name: string, known: readonly string[]): string => {
  const close = closeNames(name, known);
  return close.length > 0
    ? `${show(name)} is not a known ${what}; did you mean ${orList(close)}?`
    : `${show(name)} is not a known ${what}; use one of ${known.join(', ')}`;
};

/**
 * Whether a regular expression source has a quantified group that itself holds a quantifier,
 * such as `(a+)+`, `(\d*)*` or `(?:ab{2,})+`: the shape of catastrophic backtracking. A heuristic:
 * alternations of overlapping branches (`(a|a)*`) are not caught.
 */
export const hasNestedQuantifier = (source: string): boolean => {
  /** For each open group: whether it holds a quantifier. */
  const groups: boolean[] = [];
  const quantifierAt = (i: number): number => {
    const char = source[i];
    if (char === '+' || char === '*') return 1;
    if (char === '{') {
      const match = /^\{\d+(,\d*)?\}/.exec(source.slice(i));
      return match ? match[0].length : 0;
    }
    return 0;
  };
  let i = 0;
  while (i < source.length) {
    const char = source[i];
    if (char === '\\') {
      i += 2;
    } else if (char === '[') {
      i++;
      while (i < source.length && source[i] !== ']') i += source[i] === '\\' ? 2 : 1;
      i++;
    } else if (char === '(') {
      groups.push(false);
      i++;
    } else if (char === ')') {
      const inner = groups.pop() ?? false;
      i++;
      const length = quantifierAt(i);
      if (length > 0) {
        if (inner) return true;
        if (groups.length > 0) groups[groups.length - 1] = true;
        i += length;
      } else if (inner && groups.length > 0) {
        groups[groups.length - 1] = true;
      }
    } else {
      const length = quantifierAt(i);
      if (length > 0 && groups.length > 0) groups[groups.length - 1] = true;
      i += Math.max(length, 1);
    }
  }
  return false;
};

/** The problem with a regular expression source, if any. */
const regexProblem = (source: string): string | undefined => {
  if (source.length === 0) return 'must not be empty';
  if (source.length > MAX_REGEX_LENGTH) {
    return `must have at most ${MAX_REGEX_LENGTH} characters, got ${source.length}`;
  }
  try {
    new RegExp(source, 'i');
  } catch (error) {
    return `is not a valid regular expression: ${(error as Error).message}`;
  }
  if (hasNestedQuantifier(source)) {
    return 'has a nested quantifier such as (a+)+, which can take exponential time; repeat no group that holds a repetition';
  }
  return undefined;
};

const TYPE_NAMES: Record<FieldType, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  stringList: 'a string',
};

/** The problem with one scalar compared to `name` (type, vocabulary, scale), if any. */
const scalarProblem = (name: FieldName, value: unknown, exact: boolean): string | undefined => {
  const { type, values, range } = spec(name);
  const expected = TYPE_NAMES[type];
  if (type === 'number') {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return `must be ${expected} (${name} is a number), got ${show(value)}`;
    }
    if (range && (value < range[0] || value > range[1])) {
      return range[1] === Number.MAX_VALUE
        ? `must be at least ${range[0]} (${name} is never negative), got ${show(value)}`
        : `must be within ${name}'s scale ${range[0]}–${range[1]}, got ${show(value)}`;
    }
    return undefined;
  }
  if (type === 'boolean') {
    return typeof value === 'boolean'
      ? undefined
      : `must be true or false (${name} is a boolean), got ${show(value)}`;
  }
  if (typeof value !== 'string') {
    return `must be ${expected} (${name} is ${type === 'stringList' ? 'a list of strings' : 'a string'}), got ${show(value)}`;
  }
  if (value === '') return 'must not be empty';
  if (exact && values && !values.includes(value)) {
    return `${show(value)} is not a known ${name}; use one of ${values.join(', ')}`;
  }
  return undefined;
};

const leafProblems = (node: Record<string, unknown>, path: Path): Problem[] => {
  const problems: Problem[] = [];
  const add = (key: PropertyKey | PropertyKey[], message: string) =>
    problems.push({ path: [...path, ...(Array.isArray(key) ? key : [key])], message });
  for (const key of Object.keys(node)) {
    if (key !== 'field' && key !== 'op' && key !== 'value') {
      add(key, 'is not part of a field leaf, which has field, op and value');
    }
  }
  const { field, op, value } = node;
  let name: FieldName | undefined;
  if (typeof field !== 'string') {
    add('field', `must be a field name, got ${show(field)}`);
  } else if (!Object.hasOwn(FIELDS, field)) {
    add('field', unknownNameMessage('field', field, FIELD_NAMES));
  } else {
    name = field as FieldName;
  }
  let operator: Op | undefined;
  if (op === undefined) add('op', 'is required');
  else if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    add('op', `must be one of ${OPS.join(', ')}; got ${show(op)}`);
  } else {
    operator = op as Op;
  }
  if (value === undefined) {
    add('value', 'is required');
    return problems;
  }
  if (operator === undefined) return problems;
  if (name !== undefined) {
    const { type } = spec(name);
    const allowed = OPS_BY_TYPE[type];
    if (!allowed.includes(operator)) {
      add(
        'op',
        `"${operator}" does not apply to ${name}, ${type === 'stringList' ? 'a list of strings' : `a ${type} field`}; use ${orList(allowed)}`,
      );
      return problems;
    }
  }
  if (operator === 'in') {
    if (!Array.isArray(value) || value.length === 0) {
      add('value', `must be a non-empty array for "in", got ${show(value)}`);
    } else if (value.length > MAX_IN_VALUES) {
      add('value', `must have at most ${MAX_IN_VALUES} items, got ${value.length}`);
    } else if (name !== undefined) {
      value.forEach((item, index) => {
        const problem = scalarProblem(name, item, true);
        if (problem) add(['value', index], problem);
      });
    }
  } else if (operator === 'matches') {
    const problem =
      typeof value === 'string'
        ? regexProblem(value)
        : `must be a regular expression (a string), got ${show(value)}`;
    if (problem) add('value', problem);
  } else if (operator === 'contains') {
    if (typeof value !== 'string') add('value', `must be a string for "contains", got ${show(value)}`);
    else if (value === '') add('value', 'must not be empty');
  } else if (name !== undefined) {
    const problem = scalarProblem(name, value, true);
    if (problem) add('value', problem);
  }
  return problems;
};

const int = (min: number, max: number) => z.int().min(min).max(max);
const PATTERN_SCHEMAS: Record<PatternName, z.ZodObject> = {
  repeatContact: z.strictObject({
    pattern: z.literal('repeatContact'),
    count: int(2, 100),
    withinDays: int(1, 365),
  }),
  transfers: z.strictObject({ pattern: z.literal('transfers'), atLeast: int(1, 20) }),
  longWait: z.strictObject({
    pattern: z.literal('longWait'),
    overSeconds: z.number().positive().max(86_400),
  }),
  promoterTurnedDetractor: z.strictObject({ pattern: z.literal('promoterTurnedDetractor') }),
};

const patternProblems = (node: Record<string, unknown>, path: Path): Problem[] => {
  const { pattern } = node;
  if (typeof pattern !== 'string' || !(PATTERNS as readonly string[]).includes(pattern)) {
    const message =
      typeof pattern === 'string'
        ? unknownNameMessage('pattern', pattern, PATTERNS)
        : `must be a pattern name, got ${show(pattern)}`;
    return [{ path: [...path, 'pattern'], message }];
  }
  const schema = PATTERN_SCHEMAS[pattern as PatternName];
  const result = schema.safeParse(node);
  if (result.success) return [];
  const parameters = Object.keys(schema.shape).filter((key) => key !== 'pattern');
  return result.error.issues.flatMap((issue): Problem[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({
          path: [...path, key],
          message: `is not a parameter of the ${pattern} pattern${parameters.length ? `, which has ${parameters.join(' and ')}` : ', which has none'}`,
        }))
      : [{ path: [...path, ...issue.path], message: issue.message }],
  );
};

const DISCRIMINATORS = ['all', 'any', 'not', 'field', 'pattern'] as const;
const NODE_SHAPE =
  '{"all": […]}, {"any": […]}, {"not": …}, a field leaf {"field", "op", "value"} or a pattern leaf {"pattern", …}';

interface Walk {
  problems: Problem[];
  nodes: number;
}

const walk = (node: unknown, path: Path, depth: number, state: Walk): void => {
  state.nodes++;
  const add = (at: Path, message: string) => state.problems.push({ path: at, message });
  if (depth > MAX_DEPTH) {
    add(path, `nests deeper than ${MAX_DEPTH} levels`);
    return;
  }
  if (!isObject(node)) {
    add(path, `must be a condition: ${NODE_SHAPE}; got ${show(node)}`);
    return;
  }
  const present = DISCRIMINATORS.filter((key) => Object.hasOwn(node, key));
  if (present.length === 0) {
    const keys = Object.keys(node);
    add(
      path,
      `must have one of all, any, not, field or pattern; got ${keys.length ? `only ${keys.map((key) => JSON.stringify(key)).join(', ')}` : 'an empty object'}`,
    );
    return;
  }
  if (present.length > 1) {
    add(
      path,
      `must be exactly one kind of node, but has ${present.join(' and ')}; wrap several in {"all": […]}`,
    );
    return;
  }
  const [kind] = present;
  if (kind === 'field') {
    state.problems.push(...leafProblems(node, path));
    return;
  }
  if (kind === 'pattern') {
    state.problems.push(...patternProblems(node, path));
    return;
  }
  for (const key of Object.keys(node)) {
    if (key !== kind) add([...path, key], `is not allowed next to "${kind}"`);
  }
  const inner = node[kind];
  if (kind === 'not') {
    walk(inner, [...path, 'not'], depth + 1, state);
    return;
  }
  if (!Array.isArray(inner)) {
    add([...path, kind], `must be an array of conditions, got ${show(inner)}`);
  } else if (inner.length === 0) {
    add([...path, kind], `must have at least one condition`);
  } else {
    inner.forEach((child, index) => {
      walk(child, [...path, kind, index], depth + 1, state);
    });
  }
};

/** A fresh copy of a valid tree, holding only the keys of each node. */
const copy = (node: Record<string, unknown>): Condition => {
  if ('all' in node) return { all: (node.all as Record<string, unknown>[]).map(copy) };
  if ('any' in node) return { any: (node.any as Record<string, unknown>[]).map(copy) };
  if ('not' in node) return { not: copy(node.not as Record<string, unknown>) };
  if ('field' in node) {
    const value = Array.isArray(node.value) ? [...(node.value as Scalar[])] : (node.value as Scalar);
    return { field: node.field as FieldName, op: node.op as Op, value };
  }
  return { ...node } as PatternLeaf;
};

/**
 * Validates an alert rule's condition tree and returns a fresh copy of it.
 *
 * @throws AppError 400 `invalid_rule` listing every problem as `{ path, message }` with paths
 *   under `condition`, e.g. `{ path: "condition.all[1].value", message: '"fax" is not a known channel;
 *   use one of phone, …' }`.
 * @example
 * const condition = parseCondition({
 *   all: [
 *     { field: 'nps', op: 'lte', value: 6 },
 *     { field: 'text', op: 'matches', value: 'cancel|lawyer' },
 *   ],
 * });
 */
export const parseCondition = (input: unknown): Condition => {
  const state: Walk = { problems: [], nodes: 0 };
  walk(input, ['condition'], 1, state);
  if (state.nodes > MAX_NODES) {
    state.problems.unshift({
      path: ['condition'],
      message: `has ${state.nodes} nodes; at most ${MAX_NODES} are allowed`,
    });
  }
  if (state.problems.length === 0) return copy(input as Record<string, unknown>);
  const details: ErrorDetail[] = issuesToDetails(
    state.problems.map(({ path, message }) => ({ code: 'custom', input: undefined, path, message })),
  );
  const count = `${details.length} problem${details.length === 1 ? '' : 's'}`;
  throw new AppError(400, 'invalid_rule', `The rule's condition is not valid: ${count}`, details);
};

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

/** Each `matches` leaf's compiled expression (case-insensitive, never global: no lastIndex). */
const compiled = new WeakMap<FieldLeaf, RegExp>();
const regexOf = (leaf: FieldLeaf): RegExp => {
  let regex = compiled.get(leaf);
  if (!regex) {
    regex = new RegExp(String(leaf.value), 'i');
    compiled.set(leaf, regex);
  }
  return regex;
};

/** The record's value of a field, or undefined when it lacks one of the field's type. */
const read = (
  record: Record<string, unknown>,
  name: FieldName,
): number | string | boolean | string[] | undefined => {
  const { type, alias } = spec(name);
  let raw = record[name];
  if (raw == null && alias !== undefined) raw = record[alias];
  if (name === 'experienceRating' && typeof raw === 'string') {
    const level = (EXPERIENCE_RATINGS as readonly string[]).indexOf(raw);
    raw = level < 0 ? undefined : level + 1;
  }
  switch (type) {
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
    case 'string':
      return typeof raw === 'string' ? raw : undefined;
    case 'boolean':
      return typeof raw === 'boolean' ? raw : undefined;
    case 'stringList':
      return Array.isArray(raw) ? raw.filter((item): item is string => typeof item === 'string') : undefined;
  }
};

const leafHolds = (leaf: FieldLeaf, record: Record<string, unknown>): boolean => {
  const actual = read(record, leaf.field);
  if (actual === undefined) return false;
  const { op, value } = leaf;
  if (Array.isArray(actual)) {
    switch (op) {
      case 'contains': {
        const wanted = String(value).toLowerCase();
        return actual.some((item) => item.toLowerCase() === wanted);
      }
      case 'in':
        return Array.isArray(value) && actual.some((item) => value.includes(item));
      case 'matches':
        return actual.some((item) => regexOf(leaf).test(item));
      default:
        return false;
    }
  }
  switch (op) {
    case 'eq':
      return actual === value;
    case 'ne':
      return actual !== value;
    case 'lt':
      return typeof actual === 'number' && typeof value === 'number' && actual < value;
    case 'lte':
      return typeof actual === 'number' && typeof value === 'number' && actual <= value;
    case 'gt':
      return typeof actual === 'number' && typeof value === 'number' && actual > value;
    case 'gte':
      return typeof actual === 'number' && typeof value === 'number' && actual >= value;
    case 'in':
      return Array.isArray(value) && value.includes(actual);
    case 'contains':
      return typeof actual === 'string' && actual.toLowerCase().includes(String(value).toLowerCase());
    case 'matches':
      return typeof actual === 'string' && regexOf(leaf).test(actual);
  }
};

const num = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) ? value : undefined;

const patternHolds = (leaf: PatternLeaf, { record, patterns }: ConditionContext): boolean => {
  switch (leaf.pattern) {
    case 'repeatContact': {
      const contacts = patterns.contactsWithin?.(leaf.withinDays);
      return contacts !== undefined && contacts >= leaf.count;
    }
    case 'transfers': {
      const transfers = num(record.transfers);
      return transfers !== undefined && transfers >= leaf.atLeast;
    }
    case 'longWait': {
      const wait = num(record.waitSeconds);
      return wait !== undefined && wait > leaf.overSeconds;
    }
    case 'promoterTurnedDetractor': {
      const previous = num(patterns.previousNps);
      const nps = num(record.nps);
      return previous !== undefined && nps !== undefined && previous >= 9 && nps <= 6;
    }
  }
};

/**
 * Whether a record matches a condition returned by {@link parseCondition}. A field the record
 * lacks (null, undefined, wrong type) matches no op, `ne` included.
 *
 * @example
 * evaluateCondition(
 *   { all: [{ field: 'nps', op: 'lte', value: 6 }, { pattern: 'repeatContact', count: 3, withinDays: 7 }] },
 *   { kind: 'feedback', record: { nps: 4 }, patterns: { contactsWithin: () => 3 } },
 * ); // true
 */
export const evaluateCondition = (condition: Condition, context: ConditionContext): boolean => {
  if ('all' in condition) return condition.all.every((child) => evaluateCondition(child, context));
  if ('any' in condition) return condition.any.some((child) => evaluateCondition(child, context));
  if ('not' in condition) return !evaluateCondition(condition.not, context);
  if ('field' in condition) return leafHolds(condition, context.record);
  return patternHolds(condition, context);
};

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

const ALL_KINDS: readonly RecordKind[] = ['feedback', 'interaction', 'event'];

const kindsOf = (condition: Condition): Set<RecordKind> => {
  if ('all' in condition) {
    return condition.all
      .map(kindsOf)
      .reduce((kept, kinds) => new Set(ALL_KINDS.filter((kind) => kept.has(kind) && kinds.has(kind))));
  }
  if ('any' in condition) return new Set(condition.any.flatMap((child) => [...kindsOf(child)]));
  // A leaf is false on records that lack its field, so its negation holds there: every kind.
  if ('not' in condition) return new Set(ALL_KINDS);
  if ('field' in condition) {
    const { kinds } = spec(condition.field);
    return new Set(kinds.includes('customer') ? ALL_KINDS : (kinds as RecordKind[]));
  }
  return new Set(PATTERN_KINDS[condition.pattern]);
};

/**
 * The record kinds a condition can ever match, so a rule is evaluated only on those: `all` keeps
 * the kinds every part can match, `any` the kinds some part can, and `not` can match any kind (a
 * leaf is false on a record without its field, so its negation is true there).
 *
 * @example
 * conditionKinds({ field: 'nps', op: 'lte', value: 6 }); // Set { 'feedback' }
 * conditionKinds({ field: 'segment', op: 'eq', value: 'gold' }); // Set { 'feedback', 'interaction', 'event' }
 */
export const conditionKinds = (condition: Condition): Set<RecordKind> => kindsOf(condition);

/**
 * The patterns a condition uses, so the caller loads history only when needed.
 *
 * @example
 * usesPatterns({ any: [{ pattern: 'longWait', overSeconds: 300 }, { field: 'nps', op: 'lte', value: 6 }] });
 * // Set { 'longWait' }
 */
export const usesPatterns = (condition: Condition): Set<PatternName> => {
  if ('all' in condition) return new Set(condition.all.flatMap((child) => [...usesPatterns(child)]));
  if ('any' in condition) return new Set(condition.any.flatMap((child) => [...usesPatterns(child)]));
  if ('not' in condition) return usesPatterns(condition.not);
  if ('field' in condition) return new Set();
  return new Set([condition.pattern]);
};
