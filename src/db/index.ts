import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { rewriteOutboxTriggers } from '../closed-loop/outbox-filter.js';
import { AppError } from '../errors.js';
import { lockDataDir } from './data-dir-lock.js';
import { migrate } from './migrate.js';
import { PGliteDialect } from './pglite-dialect.js';
import { type EmbeddedSession, openEmbeddedSession } from './pglite-thread.js';
import { preparingPool } from './prepared.js';
import type { Schema } from './schema.js';

export type { Schema } from './schema.js';
export type Db = Kysely<Schema>;

/**
 * Where the data lives. This is the one place that chooses between the embedded database (PGlite,
 * files under a directory) and a PostgreSQL server; everything else uses the same Kysely code.
 */
export type DatabaseTarget = { kind: 'server'; url: string } | { kind: 'embedded'; dataDir: string };

export interface Database {
  db: Db;
  kind: 'embedded' | 'server';
  /** Human-readable location, for logs and messages, without credentials. */
  label: string;
  /** Records the server URL in the embedded lock file so other commands can point to it. */
  announce(url: string): void;
  close(): Promise<void>;
  /** The embedded database only: whether a statement runs on its one connection or waits for it. */
  busy?: () => boolean;
}

/** `DATABASE_URL` selects a PostgreSQL server; otherwise the embedded database in `dataDir`. */
export const resolveDatabaseTarget = (
  dataDir = './data',
  env: NodeJS.ProcessEnv = process.env,
): DatabaseTarget => {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new AppError(
        400,
        'bad_database_url',
        `DATABASE_URL must start with postgres:// (got "${redactUrl(url)}")`,
      );
    }
    return { kind: 'server', url };
  }
  return { kind: 'embedded', dataDir: resolve(dataDir) };
};

export const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

// Both drivers return the same JavaScript types: bigint and numeric as numbers (ids and amounts in
// Touchpoint stay far below 2^53), timestamps as Date, json as objects.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (value: string) => Number(value);

const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 || oid === NUMERIC) return toNumber;
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Opens the database and brings its schema up to date.
 *
 * @example const { db, close } = await openDatabase(resolveDatabaseTarget('./data'), { command: 'serve' });
 */
export const openDatabase = async (
  target: DatabaseTarget,
  options: { command?: string; runMigrations?: boolean } = {},
): Promise<Database> => {
  const database = await connect(target, options.command ?? 'command');
  if (options.runMigrations !== false) {
    try {
      await migrate(database.db);
      // The alert outbox triggers hold the active rules compiled; a new schema or program version
      // may compile them differently.
      await database.db.transaction().execute(rewriteOutboxTriggers);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
};

const connect = async (target: DatabaseTarget, command: string): Promise<Database> => {
  if (target.kind === 'server') {
    const pool = new pg.Pool({ connectionString: target.url, max: 10, types: pgTypes });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    try {
      const client = await pool.connect();
      client.release();
    } catch (error) {
      await pool.end();
      throw new AppError(
        503,
        'database_unavailable',
        `Cannot connect to PostgreSQL at ${redactUrl(target.url)}: ${(error as Error).message}. ` +
          'Check that the server runs and DATABASE_URL is right, or unset DATABASE_URL to use the embedded database.',
      );
    }
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
    return {
      db,
      kind: 'server',
      label: `PostgreSQL ${redactUrl(target.url)}`,
      announce() {},
      close: () => db.destroy(),
    };
  }
  mkdirSync(target.dataDir, { recursive: true });
  const lock = lockDataDir(target.dataDir, command);
  let pglite: EmbeddedSession;
  try {
    pglite = await openEmbeddedSession(resolve(target.dataDir, 'pg'));
  } catch (error) {
    lock.release();
    throw new AppError(
      500,
      'database_unavailable',
      `Cannot open the embedded database in ${target.dataDir}: ${(error as Error).message}`,
    );
  }
  const dialect = new PGliteDialect(pglite);
  const db = new Kysely<Schema>({ dialect });
  return {
    db,
    kind: 'embedded',
    busy: () => dialect.busy(),
    label: `embedded database in ${target.dataDir}`,
    announce: (url) => lock.update({ url }),
    async close() {
      await db.destroy();
      await pglite.close();
      lock.release();
    },
  };
};
