import { createHash } from 'node:crypto';
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

/** A SQL literal for a parameter value (strings quoted, standard_conforming_strings on). */
export const sqlLiteral = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error('cannot inline a non-finite number');
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  throw new Error(`cannot inline a parameter of type ${typeof value}`);
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
