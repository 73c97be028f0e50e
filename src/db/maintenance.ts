import { sql } from 'kysely';
import type { Database, Db } from './index.js';

const RECORD_TABLES = ['customer', 'interaction', 'feedback', 'event'] as const;

/**
 * Refreshes the planner statistics of the record tables. Run after bulk loads: without fresh
 * statistics a new workspace's rows look rare to the planner.
 */
export const analyzeRecords = async (db: Db): Promise<void> => {
  await sql.raw(`ANALYZE ${RECORD_TABLES.join(', ')}`).execute(db);
};

/**
 * The embedded database runs no autovacuum: `serve` vacuums and analyzes it on a timer, so dead
 * row versions from updates are reclaimed and statistics follow the data. A PostgreSQL server's
 * autovacuum does this by itself.
 */
export const scheduleEmbeddedMaintenance = (database: Database, everyMs = 15 * 60_000): (() => void) => {
  if (database.kind !== 'embedded') return () => {};
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    sql
      .raw(`VACUUM (ANALYZE) ${RECORD_TABLES.join(', ')}`)
      .execute(database.db)
      .catch(() => {})
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
};
