import { sql } from 'kysely';
import type { Database, Db } from './index.js';

const RECORD_TABLES = [
  'customer',
  'interaction',
  'feedback',
  'event',
  'feedback_rollup',
  'feedback_rollup_month',
  'feedback_rollup_day',
] as const;

/**
 * Moves the pending changes of the feedback pre-aggregates into the rollup (migration 0002).
 * Readers add the pending changes themselves, so this only keeps them few.
 */
export const foldRollups = async (db: Db): Promise<number> => {
  const { rows } = await sql<{ moved: number }>`SELECT tp_fold_feedback_rollup() AS moved`.execute(db);
  return Number(rows[0]?.moved ?? 0);
};

/**
 * Folds the pre-aggregates and refreshes the planner statistics of the record tables. Run after
 * bulk loads: without fresh statistics a new workspace's rows look rare to the planner.
 */
export const analyzeRecords = async (db: Db): Promise<void> => {
  await foldRollups(db);
  // The fold leaves the deltas of the whole load as dead rows, which every read would scan.
  await sql`VACUUM feedback_rollup_delta`.execute(db);
  await sql.raw(`ANALYZE ${RECORD_TABLES.join(', ')}`).execute(db);
};

/**
 * `serve` folds the pre-aggregates every few seconds (a no-op when nothing changed). The embedded
 * database has no autovacuum, so the delta table, emptied by every fold, is vacuumed at most every
 * 30 s while writes go on; otherwise each fold would scan an ever longer trail of dead rows.
 */
export const scheduleRollupFolding = (database: Database, everyMs = 2_000): (() => void) => {
  let running = false;
  let vacuumedAt = Date.now();
  const fold = async () => {
    const moved = await foldRollups(database.db);
    if (moved > 0 && database.kind === 'embedded' && Date.now() - vacuumedAt > 30_000) {
      vacuumedAt = Date.now();
      await sql`VACUUM feedback_rollup_delta`.execute(database.db);
    }
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    fold()
      .catch(() => {})
      .finally(() => {
        running = false;
      });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
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
