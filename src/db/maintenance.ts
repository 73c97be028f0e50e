import { sql } from 'kysely';
import { onRecordsWritten } from '../ingest/written.js';
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

/** Delta rows one timed fold on a PostgreSQL server moves at most. */
const FOLD_STEP = 5_000;

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
 * `serve` folds the pre-aggregates continually. On a PostgreSQL server every second, at most 5,000
 * delta rows at a time (a no-op when nothing changed). On the embedded database see
 * {@link foldWhenIdle}. The delta table is a work queue: on the embedded database
 * {@link scheduleEmbeddedMaintenance} vacuums it, else each fold would scan an ever longer trail of
 * dead rows.
 */
export const scheduleRollupFolding = (database: Database, everyMs?: number): (() => Promise<void>) =>
  database.busy
    ? foldWhenIdle(
        database.db,
        database.busy,
        everyMs ? { ...EMBEDDED_FOLD, tickMs: everyMs } : EMBEDDED_FOLD,
      )
    : every(everyMs ?? 1_000, () => foldStep(database.db, FOLD_STEP));

/** Embedded folds (see {@link foldWhenIdle}): a small one when idle, a full step when overdue. */
export const EMBEDDED_FOLD = {
  tickMs: 20,
  idleStep: 48,
  overdueMs: 250,
  overdueStep: 1_000,
  /** A fold even without a write seen in this process (a delete, a script), so none waits long. */
  anywayMs: 1_000,
} as const;

/**
 * The embedded database runs one statement at a time, so requests arriving during a fold wait for
 * it (≈ 1.2 ms plus ≈ 0.06 ms per delta row in-process, twice that under load). Its folds are
 * small (`idleStep` rows) and start at a tick when no statement runs or waits; once `overdueMs`
 * passed since the last fold with writes pending, a full step runs anyway, so the lag stays
 * bounded under a saturating load. A tick with nothing written does nothing, and an empty fold
 * runs every `anywayMs` at most. A failed fold leaves the writes pending for the next tick.
 */
export const foldWhenIdle = (
  db: Db,
  busy: () => boolean,
  options: { [K in keyof typeof EMBEDDED_FOLD]: number } = EMBEDDED_FOLD,
): (() => Promise<void>) => {
  let written = true;
  let last = 0;
  const stopListening = onRecordsWritten(() => {
    written = true;
  });
  const stop = every(options.tickMs, async () => {
    const since = Date.now() - last;
    if (!written && since < options.anywayMs) return;
    const overdue = since >= options.overdueMs;
    if (!overdue && busy()) return;
    const step = overdue ? options.overdueStep : options.idleStep;
    // Cleared before the fold: a write during it sets it again.
    written = false;
    last = Date.now();
    try {
      if ((await foldStep(db, step)) === step) written = true;
    } catch (error) {
      written = true;
      throw error;
    }
  });
  return async () => {
    stopListening();
    await stop();
  };
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
