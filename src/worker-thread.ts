import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The file of tsx's ESM API, from its package exports. import.meta.resolve would do, but some module
 * runners (Vitest's) lack it, and require.resolve gives the CommonJS build.
 */
const tsxEsmApi = (): string => {
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  return join(dirname(manifest), (exports['./esm/api'] as { import: { default: string } }).import.default);
};

/**
 * Starts a worker thread from a module next to the caller: `startWorker(import.meta.url,
 * './import-worker', data)`. Compiled code runs the module's .js. From source (tsx, tests) the
 * worker first registers tsx, as `--import tsx` in execArgv does not reach worker threads on Node 20.
 */
export const startWorker = (base: string, module: string, workerData: unknown): Worker => {
  const js = new URL(`${module}.js`, base);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL(`${module}.ts`, base).href;
  const tsx = pathToFileURL(tsxEsmApi()).href;
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(code, { eval: true, workerData });
};
