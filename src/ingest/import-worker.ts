import { parentPort, workerData } from 'node:worker_threads';
import { isAppError } from '../errors.js';
import { type ReadOptions, readRecordFile } from './file-reader.js';

/**
 * The reading half of a file import, on its own thread: parsing, mapping and validation run on one
 * core while the database writes on the other. At most three batches wait for the writer.
 */
export type WorkerMessage =
  | { kind: 'batch'; records: unknown[]; firstLine: number }
  | { kind: 'progress'; rows: number; rejected: number; bytesRead: number; totalBytes: number }
  | { kind: 'ignored'; columns: string[] }
  | { kind: 'done'; rows: number; rejected: number; rejectsFile: string | null; ignoredColumns: string[] }
  | { kind: 'error'; status: number; code: string; message: string };

const port = parentPort;
if (!port) throw new Error('import-worker must run as a worker thread');

const AHEAD = 3;
let credits = AHEAD;
let waiting: (() => void) | null = null;
port.on('message', (message: { kind: 'ack' }) => {
  if (message.kind !== 'ack') return;
  credits++;
  waiting?.();
  waiting = null;
});

const send = (message: WorkerMessage) => port.postMessage(message);

try {
  const summary = await readRecordFile(workerData as ReadOptions, {
    async batch(records, firstLine) {
      while (credits === 0) await new Promise<void>((resolve) => (waiting = resolve));
      credits--;
      send({ kind: 'batch', records, firstLine });
    },
    progress: (progress) => send({ kind: 'progress', ...progress }),
    ignoredColumns: (columns) => send({ kind: 'ignored', columns }),
  });
  send({ kind: 'done', ...summary });
} catch (error) {
  send(
    isAppError(error)
      ? { kind: 'error', status: error.status, code: error.code, message: error.message }
      : { kind: 'error', status: 500, code: 'import_failed', message: (error as Error).message },
  );
}
