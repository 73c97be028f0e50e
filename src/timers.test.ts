import { expect, test } from 'vitest';
import { every } from './timers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('every: runs repeatedly, never twice at once, errors go to onError and the next tick runs again', async () => {
  let active = 0;
  let most = 0;
  let runs = 0;
  const errors: unknown[] = [];
  const stop = every(
    5,
    async () => {
      runs++;
      active++;
      most = Math.max(most, active);
      await sleep(20); // longer than the interval: ticks meanwhile are skipped
      active--;
      if (runs === 1) throw new Error('first run fails');
    },
    (error) => errors.push(error),
  );
  await sleep(150);
  await stop();
  expect(runs).toBeGreaterThanOrEqual(3);
  expect(most).toBe(1);
  expect(errors).toHaveLength(1);
  expect((errors[0] as Error).message).toBe('first run fails');
});

test('every: stop waits for the run in progress, and no run starts after it', async () => {
  let finished = 0;
  let started = 0;
  const stop = every(5, async () => {
    started++;
    await sleep(40);
    finished++;
  });
  while (started === 0) await sleep(2);
  await stop();
  expect(finished).toBe(started);
  await sleep(30);
  expect(started).toBe(finished);
});
