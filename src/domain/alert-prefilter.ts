import type { Condition, FieldLeaf, FieldName, RecordKind } from './alert-conditions.js';
import { FIELDS } from './alert-conditions.js';

/**
 * The SQL prefilter of an alert rule: a predicate over a just-written row `n` of the record's table
 * that is false only when {@link evaluateCondition} is certainly false for that record, so the
 * outbox trigger (migration 0007, src/closed-loop/outbox-filter.ts) queues only records some rule
 * may match. Most records match no rule (a satisfied customer's answer); they are not queued.
 *
 * The predicate is three-valued, and SQL's three-valued logic does the rest: each leaf is `true` or
 * `false` where the row alone decides it exactly as the evaluator would, and `NULL` (unknown) where
 * it cannot (history patterns, the customer's value, regular expressions other than plain words,
 * topics, text that is not ASCII).
 * `AND`, `OR` and `NOT` over true/false/unknown give false only when every completion of the
 * unknowns gives false; the trigger keeps a row when the predicate `IS NOT FALSE`. The evaluator
 * still decides every queued record: the prefilter only has to never say false wrongly, which the
 * property test in `alert-prefilter.test.ts` checks against the evaluator on both databases.
 *
 * @example
 * conditionPrefilter({ field: 'nps', op: 'lte', value: 6 }, 'feedback');
 * // 'coalesce(n.nps <= 6, false)'
 * conditionPrefilter({ field: 'nps', op: 'lte', value: 6 }, 'interaction'); // 'false' (no nps there)
 */
export const conditionPrefilter = (condition: Condition, kind: RecordKind): string =>
  render(compile(condition, kind));

/**
 * A cheaper necessary condition of {@link conditionPrefilter}: false only where the prefilter is
 * (of an `all`, the guard of its cheapest part, preferring scores; of an `any`, its parts' guards
 * joined). Rules share guards (most look at a bad score first), so a workspace's distinct guards
 * are few and rule out most records before its rules' predicates are evaluated one by one.
 *
 * @example
 * conditionGuard({ all: [{ field: 'touchpoint', op: 'eq', value: 'billing' }, { field: 'csat', op: 'lte', value: 2 }] }, 'feedback');
 * // 'coalesce(n.csat <= 2, false)'
 */
export const conditionGuard = (condition: Condition, kind: RecordKind): string =>
  render(guard(condition, kind));

const SCORES = /^coalesce\(n\.(nps|csat|ces|experience_rating) /;
/** Guards are chosen to be selective as well as cheap: a score first, a negation (rarely selective) last. */
const guardCost = (predicate: Predicate): number => {
  const text = render(predicate);
  return SCORES.test(text) ? 0 : text.startsWith('(NOT ') ? 4 : cost(predicate);
};

const guard = (condition: Condition, kind: RecordKind): Predicate => {
  if ('all' in condition) {
    const parts = condition.all.map((child) => guard(child, kind));
    if (parts.includes(false)) return false;
    const known = parts.filter((part) => part !== true && part !== null);
    if (known.length === 0) return compile(condition, kind);
    return [...known].sort((a, b) => guardCost(a) - guardCost(b))[0] as Predicate;
  }
  if ('any' in condition) return either(condition.any.map((child) => guard(child, kind)));
  return compile(condition, kind);
};

/** The disjunction of predicates, constants folded. */
const either = (parts: Predicate[]): Predicate => {
  if (parts.includes(true)) return true;
  const rest = parts.filter((part) => part !== false);
  if (rest.length === 0) return false;
  if (rest.every((part) => part === null)) return null;
  return { sql: `(${rest.map(render).join(' OR ')})` };
};

/** A compiled predicate: a constant (folded away in `all`/`any`/`not`) or SQL text. */
type Predicate = true | false | null | { sql: string };

const render = (predicate: Predicate): string =>
  predicate === true
    ? 'true'
    : predicate === false
      ? 'false'
      : predicate === null
        ? 'NULL::boolean'
        : predicate.sql;

/** A rough cost of evaluating a predicate on a row: text searches, then CASEs, then comparisons. */
const cost = (predicate: Predicate): number => {
  const text = render(predicate);
  return text.includes('strpos') ? 3 : text.includes('CASE') ? 2 : 1;
};

const compile = (condition: Condition, kind: RecordKind): Predicate => {
  if ('all' in condition) {
    const parts = condition.all.map((child) => compile(child, kind));
    if (parts.includes(false)) return false;
    const rest = parts.filter((part) => part !== true);
    if (rest.length === 0) return true;
    if (rest.every((part) => part === null)) return null;
    // Cheap comparisons first: a record most rules do not match is usually ruled out by the first.
    const ordered = [...rest].sort((a, b) => cost(a) - cost(b));
    return { sql: `(${ordered.map(render).join(' AND ')})` };
  }
  if ('any' in condition) return either(condition.any.map((child) => compile(child, kind)));
  if ('not' in condition) {
    const inner = compile(condition.not, kind);
    if (inner === null) return null;
    if (typeof inner === 'boolean') return !inner;
    return { sql: `(NOT ${inner.sql})` };
  }
  if ('field' in condition) return leaf(condition, kind);
  switch (condition.pattern) {
    case 'repeatContact':
      // Decided by the customer's history, which the row does not carry.
      return null;
    case 'transfers':
      return kind === 'interaction'
        ? numberCompare('n.transfers', 'integer', '>=', condition.atLeast)
        : false;
    case 'longWait':
      return kind === 'interaction'
        ? numberCompare('n.wait_seconds', 'float', '>', condition.overSeconds)
        : false;
    case 'promoterTurnedDetractor': {
      // Needs a detractor's score now; whether the previous one was a promoter's is history.
      if (kind !== 'feedback') return false;
      const detractor = numberCompare('n.nps', 'integer', '<=', 6) as { sql: string };
      return { sql: `(CASE WHEN ${detractor.sql} THEN NULL::boolean ELSE false END)` };
    }
  }
};

/**
 * Where each field is in each table: a column (`integer`, or else a float that can hold NaN or
 * ±Infinity, which the evaluator treats as missing), a snapshot column the customer's current
 * value stands in for when it is NULL, or nowhere the row can tell (`unknown`). A field a kind does
 * not carry at all is false there, as in the evaluator.
 */
type Place = { column: string; integer?: boolean; snapshot?: boolean } | 'unknown';
const SNAPSHOT = {
  segment: { column: 'segment', snapshot: true },
  lifecycleStage: { column: 'lifecycle_stage', snapshot: true },
  personalityType: { column: 'personality_type', snapshot: true },
} as const;
const PLACES: Record<RecordKind, Partial<Record<FieldName, Place>>> = {
  feedback: {
    nps: { column: 'nps', integer: true },
    csat: { column: 'csat', integer: true },
    ces: { column: 'ces', integer: true },
    experienceRating: { column: 'experience_rating', integer: true },
    sentiment: 'unknown',
    topics: 'unknown',
    text: { column: 'text' },
    source: { column: 'source' },
    channel: { column: 'channel' },
    touchpoint: { column: 'touchpoint' },
    ...SNAPSHOT,
    value: 'unknown',
  },
  interaction: {
    channel: { column: 'channel' },
    touchpoint: { column: 'touchpoint' },
    waitSeconds: { column: 'wait_seconds' },
    handleSeconds: { column: 'handle_seconds' },
    transfers: { column: 'transfers', integer: true },
    resolved: { column: 'resolved' },
    outcome: { column: 'outcome' },
    team: { column: 'team' },
    agent: { column: 'agent' },
    ...SNAPSHOT,
    value: 'unknown',
  },
  event: {
    eventType: { column: 'type' },
    // numeric: its comparison in SQL may differ from the evaluator's on the parsed double.
    amount: 'unknown',
    segment: 'unknown',
    lifecycleStage: 'unknown',
    personalityType: 'unknown',
    value: 'unknown',
  },
};

const COMPARISONS = { eq: '=', ne: '<>', lt: '<', lte: '<=', gt: '>', gte: '>=' } as const;

/** A string as a dollar-quoted literal (no escapes to get wrong, whatever the server's settings). */
export const sqlText = (value: string): string | null => {
  if (value.includes('\u0000')) return null;
  let tag = 'tp';
  while (value.includes(`$${tag}$`) || value.endsWith(`$${tag}`)) tag += 'x';
  return `$${tag}$${value}$${tag}$`;
};

/**
 * A number as SQL: an integer literal when the column is an integer one and the value an integer
 * (compared without a cast per row), else a float8 (an integer column is then cast, exactly).
 */
const sqlNumber = (value: number, integerColumn: boolean): string =>
  integerColumn && Number.isInteger(value) && Math.abs(value) < 2 ** 31
    ? String(value)
    : `'${String(value)}'::float8`;

/** The column's type, as far as comparisons care: NaN and ±Infinity are missing to the evaluator. */
type NumberType = 'integer' | 'float';

const finiteGuard = (column: string, type: NumberType) =>
  type === 'float' ? ` AND ${column} < 'Infinity'::float8 AND ${column} > '-Infinity'::float8` : '';

/** `column op value` for a number the evaluator reads only when finite; NULL column → false. */
const numberCompare = (column: string, type: NumberType, op: string, value: unknown): Predicate => {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  return {
    sql: `coalesce(${column} ${op} ${sqlNumber(value, type === 'integer')}${finiteGuard(column, type)}, false)`,
  };
};

/** ASCII alternatives without any other regular-expression syntax: `cancel|lawyer|never again`. */
const PLAIN_WORDS = /^[\x20-\x7e]*$/;
const REGEX_SYNTAX = /[\\^$.?*+()[\]{}]/;

/**
 * Whether the column contains any of the texts, ignoring case as the evaluator does: it lower-cases
 * both sides the JavaScript way; on ASCII text (as many characters as bytes in UTF-8) lower() in the
 * C collation does the same. On other text the row cannot tell (Unicode case mappings differ). The
 * lower-cased copy is the source's (NULL for other text).
 */
const containsAny = (column: string, texts: string[]): Predicate => {
  const literals = texts.map((text) => sqlText(text.toLowerCase()));
  if (literals.includes(null)) return null;
  const lower = column.replace(/^n\./, `n.${LOWERED}`);
  const found = literals.map((literal) => `strpos(${lower}, ${literal}) > 0`).join(' OR ');
  return {
    sql: `(CASE WHEN ${column} IS NULL THEN false WHEN ${lower} IS NULL THEN NULL::boolean ELSE ${found} END)`,
  };
};

/** Prefix of the lower-cased copy of a text column that text searches read (see {@link prefilterSource}). */
const LOWERED = 'tp_lower_';

/**
 * The rows of `relation` as the prefilters of `kind` read them, aliased `n`: with, for each text
 * column a search in `predicates` names, its lower-cased copy when it is ASCII (NULL otherwise),
 * computed once per row however many rules search it.
 *
 * @example prefilterSource('feedback', 'new_rows', 'coalesce(n.nps <= 6, false)'); // 'new_rows n'
 */
export const prefilterSource = (kind: RecordKind, relation: string, predicates: string): string => {
  const textColumns = new Set(
    Object.entries(PLACES[kind]).flatMap(([field, place]) =>
      place !== 'unknown' && place !== undefined && FIELDS[field as FieldName].type === 'string'
        ? [place.column]
        : [],
    ),
  );
  const named = [...predicates.matchAll(new RegExp(`\\bn\\.${LOWERED}([a-z_]+)\\b`, 'g'))].map(
    (match) => match[1] as string,
  );
  const columns = [...new Set(named)].filter((column) => textColumns.has(column));
  if (columns.length === 0) return `${relation} n`;
  const lowered = columns.map(
    (column) =>
      `CASE WHEN octet_length(r.${column}) = char_length(r.${column}) THEN lower(r.${column} COLLATE "C") END AS ${LOWERED}${column}`,
  );
  // OFFSET 0 keeps the subquery whole, so each copy is computed once, not at every use.
  return `(SELECT r.*, ${lowered.join(', ')} FROM ${relation} r OFFSET 0) n`;
};

const leaf = (condition: FieldLeaf, kind: RecordKind): Predicate => {
  const place = PLACES[kind][condition.field];
  if (place === undefined) return false;
  if (place === 'unknown') return null;
  const column = `n.${place.column}`;
  const compiled = compare(
    FIELDS[condition.field].type,
    column,
    place.integer ? 'integer' : 'float',
    condition,
  );
  if (!place.snapshot || typeof compiled === 'boolean' || compiled === null) return compiled;
  // Without the snapshot the customer's current value decides, which the row does not carry.
  return { sql: `(CASE WHEN ${column} IS NULL THEN NULL::boolean ELSE ${compiled.sql} END)` };
};

const compare = (type: string, column: string, numbers: NumberType, { op, value }: FieldLeaf): Predicate => {
  if (type === 'number') {
    if (op === 'in') {
      if (!Array.isArray(value)) return null;
      const listed = value.filter(
        (item): item is number => typeof item === 'number' && Number.isFinite(item),
      );
      if (listed.length === 0) return false;
      const literals = listed.map((item) => sqlNumber(item, numbers === 'integer'));
      return {
        sql: `coalesce(${column} = ANY (ARRAY[${literals.join(', ')}])${finiteGuard(column, numbers)}, false)`,
      };
    }
    return op in COMPARISONS
      ? numberCompare(column, numbers, COMPARISONS[op as keyof typeof COMPARISONS], value)
      : null;
  }
  if (type === 'boolean') {
    if (typeof value !== 'boolean' || (op !== 'eq' && op !== 'ne')) return null;
    return { sql: `coalesce(${column} ${COMPARISONS[op]} ${value}, false)` };
  }
  if (type === 'string') {
    switch (op) {
      case 'eq':
      case 'ne': {
        const literal = typeof value === 'string' ? sqlText(value) : null;
        return literal === null ? null : { sql: `coalesce(${column} ${COMPARISONS[op]} ${literal}, false)` };
      }
      case 'in': {
        if (!Array.isArray(value)) return null;
        const literals = value.filter((item): item is string => typeof item === 'string').map(sqlText);
        if (literals.includes(null)) return null;
        if (literals.length === 0) return false;
        return { sql: `coalesce(${column} = ANY (ARRAY[${literals.join(', ')}]::text[]), false)` };
      }
      case 'contains':
        return typeof value === 'string' ? containsAny(column, [value]) : null;
      case 'matches':
        // JavaScript's and PostgreSQL's regular expressions differ; the common case of words
        // (`cancel|lawyer`) is a case-insensitive search for any of them.
        return typeof value === 'string' && PLAIN_WORDS.test(value) && !REGEX_SYNTAX.test(value)
          ? containsAny(column, value.split('|'))
          : null;
      default:
        return null;
    }
  }
  return null;
};
