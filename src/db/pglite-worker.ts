import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, type Results } from '@electric-sql/pglite';

/**
 * The embedded database on its own thread. PostgreSQL-in-WebAssembly runs synchronously, so on the
 * main thread every statement would stop HTTP parsing and validation; here the two overlap on two
 * cores. The protocol is one request, one reply, matched by id (see pglite-thread.ts).
 */
export type Request =
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  | { id: number; op: 'close' };

export type Reply =
  | { id: number; ok: true; result?: Results }
  | { id: number; ok: false; error: Record<string, unknown> & { message: string } }
  | { id: 0; ready: true }
  | { id: 0; ready: false; message: string };

const port = parentPort;
if (!port) throw new Error('pglite-worker must run as a worker thread');

// bigint and numeric as numbers (ids and amounts stay far below 2^53), as for a PostgreSQL server.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (value: string) => Number(value);

/** A database error with its fields (code, detail, constraint …), as plain data. */
const plain = (error: unknown): Record<string, unknown> & { message: string } => {
  const out: Record<string, unknown> & { message: string } = { message: String(error) };
  if (error instanceof Error) {
    out.message = error.message;
    for (const [key, value] of Object.entries(error)) {
      if (value === undefined || typeof value !== 'object') out[key] = value;
    }
  }
  return out;
};

/** The last result of an exec, as for a multi-statement string the last statement's rows count. */
const last = (results: Results[]): Results => results.at(-1) ?? { rows: [], fields: [] };

const pglite = new PGlite(workerData.dataDir as string | undefined, {
  parsers: { [INT8]: toNumber, [NUMERIC]: toNumber },
});
pglite.waitReady.then(
  () => port.postMessage({ id: 0, ready: true } satisfies Reply),
  (error: unknown) =>
    port.postMessage({ id: 0, ready: false, message: plain(error).message } satisfies Reply),
);

port.on('message', async (request: Request) => {
  try {
    let result: Results | undefined;
    if (request.op === 'exec') result = last(await pglite.exec(request.sql));
    else if (request.op === 'query') result = await pglite.query(request.sql, request.params);
    else await pglite.close();
    // Field descriptions are not used; leaving them out halves the reply for small results.
    port.postMessage({
      id: request.id,
      ok: true,
      result: result && {
        rows: result.rows,
        affectedRows: result.affectedRows,
        command: result.command,
        fields: [],
      },
    } satisfies Reply);
    if (request.op === 'close') port.close();
  } catch (error) {
    port.postMessage({ id: request.id, ok: false, error: plain(error) } satisfies Reply);
  }
});
