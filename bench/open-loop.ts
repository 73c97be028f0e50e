import { Agent } from 'undici';

export interface OpenLoopResult {
  sent: number;
  errors: number;
  /** Latencies in ms, from each request's scheduled send time to its response. */
  latencies: number[];
}

/**
 * Sends requests at a fixed rate, evenly spaced, whether or not earlier ones have been answered
 * (an open loop), and measures each latency from its scheduled time, so that a stalled server
 * shows up in the percentiles instead of slowing the load down.
 */
export const openLoop = async (
  rate: number,
  seconds: number,
  send: (i: number, dispatcher: Agent) => Promise<number>,
): Promise<OpenLoopResult> => {
  const dispatcher = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    inflight.push(
      send(i, dispatcher).then(
        (status) => {
          if (status >= 400) errors++;
          latencies.push(performance.now() - scheduled);
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(inflight);
  await dispatcher.close();
  return { sent: total, errors, latencies };
};

export const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
