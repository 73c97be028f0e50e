import { writeFileSync } from 'node:fs';
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

/**
 * With TOUCHPOINT_PGLITE_PROFILE=file, the time the database spent on each statement (by its first
 * 160 characters) is written there as JSON on close: where the one connection's time goes; and
 * when (ms since the database opened) each run of over 50 ms started.
 */
const profileFile = process.env.TOUCHPOINT_PGLITE_PROFILE;
const profile = new Map<string, { calls: number; ms: number; slow: number[] }>();
const opened = performance.now();
let busyUntil = 0;
const preparedText = new Map<string, string>();
const record = (sql: string, started: number) => {
  const ended = performance.now();
  // Statements run one after another: this one ran from when the previous one ended.
  const ms = ended - Math.max(started, busyUntil);
  busyUntil = ended;
  const text = sql.replace(/\s+/g, ' ').trim();
  // A prepared statement's executions count under its text (their parameters differ).
  const prepare = /^PREPARE (\w+) AS (.*)$/s.exec(text);
  if (prepare) preparedText.set(prepare[1] as string, prepare[2] as string);
  const execute = /^EXECUTE (\w+)/.exec(text);
  const key = (execute ? (preparedText.get(execute[1] as string) ?? text) : text).slice(0, 160);
  const entry = profile.get(key) ?? { calls: 0, ms: 0, slow: [] };
  entry.calls += 1;
  entry.ms += ms;
  if (ms > 50) entry.slow.push(Math.round(ended - ms - opened));
  profile.set(key, entry);
};

port.on('message', async (request: Request) => {
  try {
    let result: Results | undefined;
    const started = performance.now();
    if (request.op === 'exec') result = last(await pglite.exec(request.sql));
    else if (request.op === 'query') result = await pglite.query(request.sql, request.params);
    else {
      await pglite.close();
      if (profileFile) {
        const rows = [...profile].map(([sql, entry]) => ({ ...entry, sql })).sort((a, b) => b.ms - a.ms);
        writeFileSync(profileFile, JSON.stringify(rows, null, 1));
      }
    }
    if (profileFile && request.op !== 'close') record(request.sql, started);
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
