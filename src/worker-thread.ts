import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Starts a worker thread from a module next to the caller: `startWorker(import.meta.url,
 * './import-worker', data)`. Compiled code runs the module's .js. From source (tsx, tests) the
 * worker first registers tsx, as `--import tsx` in execArgv does not reach worker threads on Node 20.
 */
export const startWorker = (base: string, module: string, workerData: unknown): Worker => {
  const js = new URL(`${module}.js`, base);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL(`${module}.ts`, base).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(code, { eval: true, workerData });
};
