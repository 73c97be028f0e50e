import type { RecordType } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { recordSchemas } from './schemas.js';

/** The fields a record of each type has, as named in the API. */
export const fieldsOf = (type: RecordType): string[] => Object.keys(recordSchemas[type].shape);

/** Where a source column goes: a field, or a key inside answers / attributes. */
export type Target = { field: string } | { field: 'answers' | 'attributes'; key: string };

const NUMBER_FIELDS = new Set([
  'nps',
  'csat',
  'ces',
  'waitSeconds',
  'handleSeconds',
  'transfers',
  'value',
  'amount',
]);
const BOOLEAN_FIELDS = new Set(['resolved']);
const ENUM_FIELDS = new Set(['channel', 'lifecycleStage', 'personalityType', 'source', 'type']);
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0']);

const normalise = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Parses `--map "Customer ID=customerId,Inflight wifi service=answers.wifi"` into source column →
 * target. Targets must be fields of the type, or `answers.X` / `attributes.X` where the type has them.
 */
export const parseFieldMap = (type: RecordType, specs: string[]): Map<string, Target> => {
  const fields = fieldsOf(type);
  const known = [
    ...fields,
    ...fields.filter((f) => f === 'answers' || f === 'attributes').map((f) => `${f}.X`),
  ];
  const map = new Map<string, Target>();
  for (const spec of specs.flatMap((s) => s.split(','))) {
    if (spec.trim() === '') continue;
    const at = spec.lastIndexOf('=');
    if (at <= 0 || at === spec.length - 1) {
      throw new AppError(
        400,
        'bad_map',
        `--map entry "${spec}" must look like "Source column=field". Fields of ${type}: ${known.join(', ')}`,
      );
    }
    const source = spec.slice(0, at).trim();
    const target = parseTarget(type, spec.slice(at + 1).trim(), fields);
    if (!target) {
      throw new AppError(
        400,
        'bad_map',
        `--map target "${spec.slice(at + 1).trim()}" is not a field of ${type}. Fields: ${known.join(', ')}`,
      );
    }
    map.set(source, target);
  }
  return map;
};

const parseTarget = (type: RecordType, text: string, fields = fieldsOf(type)): Target | null => {
  const dot = text.indexOf('.');
  if (dot > 0) {
    const field = text.slice(0, dot);
    const key = text.slice(dot + 1);
    if ((field === 'answers' || field === 'attributes') && fields.includes(field) && key.length > 0)
      return { field, key };
    return null;
  }
  return fields.includes(text) ? { field: text } : null;
};

/**
 * Decides where every column of a file goes: `--map` first, then columns named like a field
 * (`customer_id`, `Customer ID` and `customerId` all mean customerId) or `answers.X` / `attributes.X`.
 * Returns the mapping and the columns that go nowhere.
 */
export const resolveColumns = (
  type: RecordType,
  columns: string[],
  explicit: Map<string, Target>,
): { targets: Map<string, Target>; ignored: string[] } => {
  for (const [source] of explicit) {
    if (!columns.includes(source)) {
      throw new AppError(
        400,
        'bad_map',
        `--map names column "${source}", which is not in the file. Columns: ${columns.join(', ')}`,
      );
    }
  }
  const resolve = columnResolver(type, explicit);
  const targets = new Map<string, Target>();
  const ignored: string[] = [];
  for (const column of columns) {
    const target = resolve(column);
    if (target) targets.set(column, target);
    else ignored.push(column);
  }
  return { targets, ignored };
};

/** The target of one column name (null: the column goes nowhere). */
export const columnResolver = (type: RecordType, explicit: Map<string, Target>) => {
  const byNormalName = new Map(fieldsOf(type).map((field) => [normalise(field), field]));
  return (column: string): Target | null => {
    const named = byNormalName.get(normalise(column));
    return explicit.get(column) ?? parseTarget(type, column) ?? (named ? { field: named } : null);
  };
};

/** A text cell → the typed value its field expects; left as text when it does not parse, so validation names it. */
const coerce = (field: string, text: string): unknown => {
  if (NUMBER_FIELDS.has(field)) return NUMBER.test(text) ? Number(text) : text;
  if (BOOLEAN_FIELDS.has(field)) {
    const lower = text.toLowerCase();
    return TRUE.has(lower) ? true : FALSE.has(lower) ? false : text;
  }
  if (ENUM_FIELDS.has(field)) return text.toLowerCase();
  return text;
};

/** Values of answers.X / attributes.X: numbers and yes/no/true/false become typed, the rest stays text. */
const coerceFree = (text: string): unknown => {
  if (NUMBER.test(text)) return Number(text);
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === 'yes') return true;
  if (lower === 'false' || lower === 'no') return false;
  return text;
};

/**
 * Builds a record from one row of a file (`row` maps column → value). Empty cells are left out, so
 * a customer file with blanks does not erase stored fields. Values that are not text (NDJSON) are kept.
 */
export const buildRecord = (
  row: Record<string, unknown>,
  targets: Map<string, Target>,
): Record<string, unknown> => {
  const record: Record<string, unknown> = {};
  for (const [column, target] of targets) {
    let value = row[column];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      value = value.trim();
      if (value === '') continue;
      value = 'key' in target ? coerceFree(value as string) : coerce(target.field, value as string);
    }
    if ('key' in target) {
      const nested = (record[target.field] as Record<string, unknown> | undefined) ?? {};
      nested[target.key] = value;
      record[target.field] = nested;
    } else {
      record[target.field] = value;
    }
  }
  return record;
};
