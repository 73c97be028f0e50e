import type { Db } from '../db/index.js';
import { onRecordsWritten } from '../ingest/written.js';
import type { Channels } from '../surveys/channels.js';
import { decideRecoveries, escalateDue } from './cases.js';
import { claimNotifications, sendClaimed, sendRun } from './notifications.js';
import { closedLoopPending, processOutbox } from './processor.js';

export interface ClosedLoopRuntime {
  db: Db;
  channels: Channels;
  /** Link to a case for people, e.g. `${PUBLIC_URL}/cases/42`. */
  caseLink?: (workspaceId: number, caseId: number) => string | undefined;
}

export interface WorkerOptions {
  /** How often the outbox and due notifications are looked for without a wake-up (other processes, imports, retries). */
  pollMs?: number;
  /** How often breached SLAs are looked for. */
  sweepMs?: number;
  /** How often the recovery of closed cases is looked at (their customers' records since closing). */
  recoveryMs?: number;
  /**
   * Least time between the starts of two outbox batches: more records per batch, fewer statements,
   * and a stream of writes wakes the worker at most this often (each wake-up costs a look at the
   * outbox even when no rule queued anything). Worth it on the embedded database, whose one
   * connection every statement waits for; 0 (no spacing) for a server.
   */
  batchSpacingMs?: number;
  /** The database is used by this process alone (embedded): no need to coordinate with others. */
  exclusive?: boolean;
  onError?: (error: unknown) => void;
}

const BATCH = 200;
const DELIVERY_BATCH = 50;

/**
 * A loop that runs `work` when woken or polled, never twice at once, again if woken meanwhile, and
 * runs at least `spacingMs` apart: a wake-up sooner after the last run's start waits for the rest.
 */
const loop = (work: () => Promise<void>, onError: (error: unknown) => void, spacingMs = 0) => {
  let running: Promise<void> | null = null;
  let again = false;
  let startedAt = Number.NEGATIVE_INFINITY;
  let deferred: NodeJS.Timeout | null = null;
  const wake = () => {
    if (running) {
      again = true;
      return;
    }
    const wait = startedAt + spacingMs - performance.now();
    if (wait > 0) {
      deferred ??= setTimeout(() => {
        deferred = null;
        wake();
      }, wait);
      return;
    }
    running = (async () => {
      do {
        again = false;
        startedAt = performance.now();
        try {
          await work();
        } catch (error) {
          onError(error);
        }
        // Woken meanwhile: let a little more gather first, so it is taken in one go.
        const rest = spacingMs - (performance.now() - startedAt);
        if (again && rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
      } while (again);
    })().finally(() => {
      running = null;
    });
  };
  const cancel = () => {
    if (deferred) clearTimeout(deferred);
    deferred = null;
  };
  return { wake, cancel, idle: () => running ?? Promise.resolve() };
};

/**
 * Runs the closed loop in this process: evaluates the outbox as records arrive (woken by writes in
 * this process, polled for others), delivers notifications, escalates breached SLAs and decides
 * recoveries. Everything it works from is in the database, so any number of processes can run it
 * against one PostgreSQL server, and a restart picks up where it stopped.
 */
export const startClosedLoop = (runtime: ClosedLoopRuntime, options: WorkerOptions = {}) => {
  const {
    pollMs = 250,
    sweepMs = 5_000,
    recoveryMs = 60_000,
    batchSpacingMs = 0,
    exclusive = false,
    onError = () => {},
  } = options;
  let stopped = false;

  // Sends run independently: each webhook's run in order, each e-mail alone; each records its
  // outcome when it finishes and looks for more, so a slow receiver never holds up the others.
  const inFlight = new Set<Promise<unknown>>();
  const busy = new Set<number>();
  const track = (sending: Promise<unknown>, webhookId: number | null) => {
    if (webhookId !== null) busy.add(webhookId);
    const tracked: Promise<unknown> = sending.catch(onError).finally(() => {
      inFlight.delete(tracked);
      if (webhookId !== null) busy.delete(webhookId);
      deliveries.wake();
    });
    inFlight.add(tracked);
  };
  const deliveries = loop(async () => {
    while (!stopped) {
      const { runs, emails } = await claimNotifications(runtime.db, new Date(), {
        limit: DELIVERY_BATCH,
        busyWebhooks: [...busy],
      });
      for (const run of runs) track(sendRun(runtime, run, new Date()), run[0]?.webhook_id ?? null);
      for (const item of emails) track(sendClaimed(runtime, item, new Date()), null);
      if (runs.length < DELIVERY_BATCH && emails.length < DELIVERY_BATCH) break;
    }
  }, onError);
  const outbox = loop(
    async () => {
      while (!stopped) {
        const result = await processOutbox(runtime.db, new Date(), {
          limit: BATCH,
          caseLink: runtime.caseLink,
          exclusive,
        });
        if (result.alerts > 0) deliveries.wake();
        if (result.processed < BATCH) break;
      }
    },
    onError,
    batchSpacingMs,
  );
  let recoveredAt = 0;
  const sweeps = loop(async () => {
    const now = new Date();
    const escalated = await escalateDue(runtime.db, now, { caseLink: runtime.caseLink });
    let decided = 0;
    if (now.getTime() - recoveredAt >= recoveryMs) {
      recoveredAt = now.getTime();
      decided = await decideRecoveries(runtime.db, now, { caseLink: runtime.caseLink });
    }
    if (escalated + decided > 0) deliveries.wake();
  }, onError);

  const poll = loop(async () => {
    const pending = await closedLoopPending(runtime.db, new Date());
    if (pending.outbox) outbox.wake();
    if (pending.notifications) deliveries.wake();
  }, onError);

  const unsubscribe = onRecordsWritten(outbox.wake);
  const pollTimer = setInterval(poll.wake, pollMs);
  const sweepTimer = setInterval(sweeps.wake, sweepMs);
  pollTimer.unref();
  sweepTimer.unref();
  poll.wake();
  sweeps.wake();
  return {
    wake: outbox.wake,
    async stop() {
      stopped = true;
      unsubscribe();
      clearInterval(pollTimer);
      clearInterval(sweepTimer);
      outbox.cancel();
      await Promise.all([outbox.idle(), deliveries.idle(), sweeps.idle(), poll.idle()]);
      await Promise.all([...inFlight]);
    },
  };
};
