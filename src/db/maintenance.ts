import { sql } from 'kysely';
import { every } from '../timers.js';
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

/** The closed loop's cases and alerts: updated as alerts attach, people work them, SLAs pass. */
const CASE_TABLES = ['cx_case', 'alert', 'case_event', 'case_step'] as const;
/**
 * Work queues: rows are taken (folded, deleted or updated) seconds after they are written. Their dead rows
 * would soon outnumber the live ones that every claim looks for, so the embedded database, which
 * has no autovacuum, vacuums them every few seconds (each run only visits the pages that changed).
 */
const QUEUE_TABLES = ['feedback_rollup_delta', 'alert_outbox', 'notification', 'cx_case'] as const;
const QUEUES_VACUUM_EVERY_MS = 2_000;

/** One fold of at most `most` delta rows into the pre-aggregates (migration 0002); the rows moved. */
const foldStep = async (db: Db, most: number): Promise<number> => {
  const { rows } = await sql<{
    moved: number;
  }>`SELECT tp_fold_feedback_rollup(${most}::int) AS moved`.execute(db);
  return Number(rows[0]?.moved ?? 0);
};

/**
 * Moves all pending changes of the feedback pre-aggregates into the rollup. Readers add the
 * pending changes themselves, so this only keeps them few.
 */
export const foldRollups = async (db: Db): Promise<number> => {
  const step = 1_000_000;
  let total = 0;
  for (;;) {
    const moved = await foldStep(db, step);
    total += moved;
    if (moved < step) return total;
  }
};

/** Delta rows one timed fold moves at most: a fold holds the embedded database for its duration. */
const FOLD_STEP = 5_000;
/**
 * The embedded database serves one statement at a time, so a request arriving during a fold waits
 * for it: there, folds are small and frequent (the same 5,000 rows a second at most).
 */
const EMBEDDED_FOLD_STEP = 1_000;
const EMBEDDED_FOLD_EVERY_MS = 200;

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
 * `serve` folds the pre-aggregates continually: on a PostgreSQL server every second, at most 5,000
 * delta rows at a time; on the embedded database, which runs one statement at a time, every 200 ms
 * and at most 1,000 rows, so that a request never waits long behind a fold (a no-op when nothing
 * changed). The delta table is a work queue: on the embedded database
 * {@link scheduleEmbeddedMaintenance} vacuums it, else each fold would scan an ever longer trail of
 * dead rows.
 */
export const scheduleRollupFolding = (
  database: Database,
  everyMs = database.kind === 'embedded' ? EMBEDDED_FOLD_EVERY_MS : 1_000,
): (() => Promise<void>) => {
  const step = database.kind === 'embedded' ? EMBEDDED_FOLD_STEP : FOLD_STEP;
  return every(everyMs, () => foldStep(database.db, step));
};

/**
 * The embedded database runs no autovacuum: `serve` vacuums and analyzes it on a timer, so dead
 * row versions from updates are reclaimed and statistics follow the data, and vacuums the work
 * queues every 2 s. A PostgreSQL server's autovacuum does this by itself.
 */
export const scheduleEmbeddedMaintenance = (
  database: Database,
  everyMs = 15 * 60_000,
  queuesEveryMs = QUEUES_VACUUM_EVERY_MS,
): (() => Promise<void>) => {
  if (database.kind !== 'embedded') return async () => {};
  const stops = [
    every(everyMs, () =>
      sql.raw(`VACUUM (ANALYZE) ${[...RECORD_TABLES, ...CASE_TABLES].join(', ')}`).execute(database.db),
    ),
    every(queuesEveryMs, () => sql.raw(`VACUUM ${QUEUE_TABLES.join(', ')}`).execute(database.db)),
  ];
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
  };
};
