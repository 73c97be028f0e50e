import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { migrationsDir } from '../paths.js';
import type { Db } from './index.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads `src/db/migrations/NNNN_name.sql`, in version order. */
export const loadMigrations = (dir = migrationsDir): Migration[] =>
  readdirSync(dir)
    .filter((file) => /^\d{4}_[\w-]+\.sql$/.test(file))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql: text,
        checksum: createHash('sha256').update(text).digest('hex'),
      };
    });

// Any constant shared by every Touchpoint process: several servers starting at once on one
// PostgreSQL server apply each migration exactly once.
const MIGRATION_LOCK = 7_482_301;

/** Applies the pending migrations in one transaction; returns the versions applied. */
export const migrate = async (db: Db, migrations = loadMigrations()): Promise<number[]> => {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migration (
      version integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`.execute(trx);
    const applied = new Set(
      (await trx.selectFrom('schema_migration').select('version').execute()).map((row) => row.version),
    );
    const done: number[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await sql.raw(migration.sql).execute(trx);
      await trx
        .insertInto('schema_migration')
        .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
        .execute();
      done.push(migration.version);
    }
    return done;
  });
};
