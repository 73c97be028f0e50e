import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

/**
 * Statements whose SQL starts with this marker are prepared once per connection and then only
 * executed: the hot write statements are large CTEs whose planning costs more than running them
 * for a single record. Both drivers honour it (see pglite-dialect.ts and preparingPool).
 */
export const PREPARED = '/* prepared */ ';

export const isPrepared = (sql: string): boolean => sql.startsWith(PREPARED);

/** A stable statement name for a SQL text. */
export const statementName = (sql: string): string =>
  `tp_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;

/** A quoted SQL string literal (standard_conforming_strings on). */
const quoted = (text: string): string => `'${text.replaceAll("'", "''")}'`;

/** An element of an array literal: double-quoted, with `"` and `\` escaped. */
const arrayElement = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('cannot inline a non-finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'string' ? value : null;
  if (text === null) throw new Error(`cannot inline an array element of type ${typeof value}`);
  return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
};

/**
 * A SQL literal for a parameter value: numbers, booleans, strings, dates (ISO), one-dimensional
 * arrays of those (array syntax) and JSON objects. The literal takes the type the prepared
 * statement gave the parameter.
 */
export const sqlLiteral = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('cannot inline a non-finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return quoted(value);
  if (value instanceof Date) return quoted(value.toISOString());
  if (Array.isArray(value)) return quoted(`{${value.map(arrayElement).join(',')}}`);
  if (typeof value === 'object') return quoted(JSON.stringify(value));
  throw new Error(`cannot inline a parameter of type ${typeof value}`);
};

/**
 * One INSERT of any number of rows whose text does not depend on their number: each column's
 * values travel as one array parameter (`unnest`), so the statement is prepared once per
 * connection. `columns` gives each column's PostgreSQL type (JSON columns take JSON text); `rest`
 * follows the rows (ON CONFLICT …, RETURNING …), which come in the order given.
 *
 * @example await insertMany('alert', { case_id: 'bigint', raised_at: 'timestamptz' }, rows).execute(trx);
 */
export const insertMany = <R = never>(
  table: string,
  columns: Readonly<Record<string, string>>,
  rows: readonly Readonly<Record<string, unknown>>[],
  rest: RawBuilder<unknown> = sql``,
): RawBuilder<R> => {
  const names = Object.keys(columns);
  const arrays = names.map(
    (name) => sql`${rows.map((row) => row[name] ?? null)}::${sql.raw(`${columns[name]}[]`)}`,
  );
  return sql<R>`${sql.raw(PREPARED)}INSERT INTO ${sql.raw(table)} (${sql.raw(names.join(', '))})
    SELECT * FROM unnest(${sql.join(arrays)}) ${rest}`;
};

/**
 * A pg pool whose clients run marked statements as named (server-side prepared) statements;
 * node-postgres then parses and plans them once per connection.
 */
export const preparingPool = (pool: pg.Pool) => {
  const wrapped = new WeakMap<pg.PoolClient, pg.PoolClient>();
  return {
    async connect(): Promise<pg.PoolClient> {
      const client = await pool.connect();
      let proxy = wrapped.get(client);
      if (!proxy) {
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        proxy = new Proxy(client, {
          get(target, property, receiver) {
            if (property === 'query') {
              return (text: unknown, values?: unknown[]) =>
                typeof text === 'string' && isPrepared(text)
                  ? query({ name: statementName(text), text, values })
                  : query(text, values);
            }
            const value = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
        wrapped.set(client, proxy);
      }
      return proxy;
    },
    end: () => pool.end(),
  };
};
