import { every } from '../timers.js';
import { dispatchDue, pendingWork, type SurveyRuntime, sendReminders } from './dispatch.js';
import { scheduleRelationshipSurveys } from './triggers.js';

export interface SchedulerOptions {
  /** How often due invitations and reminders are looked for. */
  everyMs?: number;
  /** How often relationship surveys are scheduled. */
  relationshipEveryMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * Sends survey invitations as they fall due. Everything it works from is in the database
 * (scheduled invitations, their due times, leases), so a restart picks up where it stopped: an
 * invitation due during the downtime goes out on the first tick.
 */
export const startSurveyScheduler = (
  runtime: SurveyRuntime,
  options: SchedulerOptions = {},
): (() => Promise<void>) => {
  const { everyMs = 1_000, relationshipEveryMs = 60_000, onError = () => {} } = options;
  let relationshipAt = 0;
  let stopped = false;
  const tick = async () => {
    const now = new Date();
    if (now.getTime() - relationshipAt >= relationshipEveryMs) {
      relationshipAt = now.getTime();
      await scheduleRelationshipSurveys(runtime.db, now);
    }
    // One cheap look first: an idle tick must not hold the embedded database.
    const work = await pendingWork(runtime.db, now);
    // A full batch means more may be due: keep going until the queue is drained.
    while (work.invitations) {
      const result = await dispatchDue(runtime, new Date());
      const handled = result.sent + result.suppressed + result.deferred + result.failed + result.retrying;
      if (stopped || handled < 100) break;
    }
    if (work.reminders) await sendReminders(runtime, new Date());
  };
  const stop = every(everyMs, tick, onError);
  return async () => {
    stopped = true;
    await stop();
  };
};
