import type { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';
import { startWorker } from '../worker-thread.js';
import type { Reply, Request } from './pglite-worker.js';

/** What the PGlite dialect needs of the embedded database. */
export interface EmbeddedSession {
  /** Runs SQL text without parameters (several statements allowed); the last statement's result. */
  exec(sql: string): Promise<Results>;
  query<R>(sql: string, params: unknown[]): Promise<Results<R>>;
  close(): Promise<void>;
}

type Pending = { resolve: (result: Results | undefined) => void; reject: (error: Error) => void };
type Body = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/**
 * Opens the embedded database in `dataDir` on a worker thread (pglite-worker.ts). Statements are
 * sent in order and answered in order; an error carries the database's fields (code, detail …).
 */
export const openEmbeddedSession = async (dataDir: string): Promise<EmbeddedSession> => {
  const worker: Worker = startWorker(import.meta.url, './pglite-worker', { dataDir });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stopped: Error | null = null;

  const stop = (error: Error) => {
    stopped ??= error;
    for (const { reject } of pending.values()) reject(stopped);
    pending.clear();
  };

  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      worker.off('message', ready);
      reject(error);
    };
    const exited = (code: number) => fail(new Error(`the database thread exited (code ${code})`));
    const ready = (reply: Reply) => {
      if (!('ready' in reply)) return;
      worker.off('message', ready).off('error', fail).off('exit', exited);
      if (reply.ready) resolve();
      else reject(new Error(reply.message));
    };
    worker.on('message', ready).once('error', fail).once('exit', exited);
  }).catch(async (error: Error) => {
    await worker.terminate();
    throw error;
  });

  worker.on('message', (reply: Reply) => {
    if (!('ok' in reply)) return;
    const waiting = pending.get(reply.id);
    if (!waiting) return;
    pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(Object.assign(new Error(reply.error.message), reply.error));
  });
  worker.on('error', (error) =>
    stop(new Error(`The embedded database stopped: ${error.message}. Restart Touchpoint.`)),
  );
  worker.on('exit', () => stop(new Error('The embedded database is closed.')));

  const send = (body: Body) =>
    new Promise<Results | undefined>((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...body, id } as Request);
    });
  const empty: Results = { rows: [], fields: [] };

  return {
    exec: async (sql) => (await send({ op: 'exec', sql })) ?? empty,
    query: async <R>(sql: string, params: unknown[]) =>
      ((await send({ op: 'query', sql, params })) ?? empty) as Results<R>,
    async close() {
      if (stopped) return;
      await send({ op: 'close' });
      await new Promise<void>((resolve) => {
        if (stopped) resolve();
        else worker.once('exit', () => resolve());
      });
    },
  };
};
