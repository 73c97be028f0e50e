import { z } from 'zod';
import type { ErrorDetail } from './errors.js';

/** A local time of day, "HH:MM" (00:00–23:59). */
export const timeOfDaySchema = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day as HH:MM (00:00–23:59)');

/** An http(s) URL that services can be called at. */
export const httpUrlSchema = z
  .string()
  .max(2000)
  .refine((value) => /^https?:\/\/[^\s]+$/.test(value) && URL.canParse(value), 'must be an http(s) URL');

const describe = (value: unknown): string => {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
};

const article = (word: string) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

/**
 * Plain-language messages for the checks that do not carry their own: every message reads after
 * the field's path, e.g. `[3].transfers: must be an integer, got number 1.5`.
 */
z.config({
  customError(issue) {
    switch (issue.code) {
      case 'invalid_type':
        if (issue.input === undefined) return 'is required';
        return `must be ${article(issue.expected === 'int' ? 'integer' : issue.expected)}, got ${describe(issue.input)}`;
      case 'too_small':
        if (issue.origin === 'string')
          return issue.minimum === 1 ? 'must not be empty' : `must have at least ${issue.minimum} characters`;
        if (issue.origin === 'array') return `must have at least ${issue.minimum} items`;
        return `must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}, got ${describe(issue.input)}`;
      case 'too_big':
        if (issue.origin === 'string') return `must have at most ${issue.maximum} characters`;
        if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
        return `must be ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}, got ${describe(issue.input)}`;
      case 'invalid_value':
        if (issue.input === undefined) return 'is required';
        return `must be one of ${issue.values.map(String).join(', ')}; got ${describe(issue.input)}`;
      case 'invalid_format':
        return issue.format === 'email'
          ? `must be an e-mail address, got ${describe(issue.input)}`
          : undefined;
      default:
        return undefined;
    }
  },
});

const joinPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    const safe = /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);
    return out ? `${out}.${safe}` : safe;
  }, '');

/**
 * Zod issues → the `{path, message}` details of the error shape. Paths read like code:
 * `[3].nps`, `answers.wifi`, `query.limit`. Unknown keys get one detail each, saying `unknownKey`.
 */
export const issuesToDetails = (
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
  unknownKey = 'is not a known field',
): ErrorDetail[] =>
  issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: joinPath([...prefix, ...issue.path, key]),
        message: unknownKey,
      }));
    }
    return [{ path: joinPath([...prefix, ...issue.path]), message: issue.message }];
  });
