import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import type { ReadOptions, ReadProgress } from './file-reader.js';
import type { WorkerMessage } from './import-worker.js';
import type { RecordInputs } from './schemas.js';
import { addSummaries, emptySummary, type UpsertSummary, upsertRecords } from './upsert.js';

export type { FileFormat } from './file-reader.js';

export interface ImportProgress extends ReadProgress {
  elapsedMs: number;
}

export interface ImportOptions extends ReadOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** Called once the columns are known, with those that map to no field. */
  onIgnoredColumns?: (columns: string[]) => void;
}

export interface ImportSummary extends UpsertSummary {
  rows: number;
  rejected: number;
  rejectsFile: string | null;
  elapsedMs: number;
  ignoredColumns: string[];
}

// Compiled code runs the worker's .js. From source (tsx, tests) the worker first registers tsx, as
// `--import tsx` in execArgv does not reach worker threads on Node 20.
const startWorker = (workerData: ReadOptions): Worker => {
  const js = new URL('./import-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL('./import-worker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(ts)}); })`;
  return new Worker(code, { eval: true, workerData });
};

/**
 * Imports a CSV (header row) or NDJSON file: a worker thread reads, maps and validates the rows
 * (invalid ones go to `FILE.rejects.csv`), this thread writes the batches in file order, each in
 * one transaction, upserted by externalId — so importing the same file again changes nothing.
 */
export const importFile = async (
  db: Db,
  workspaceId: number,
  options: ImportOptions,
): Promise<ImportSummary> => {
  const started = performance.now();
  const { onProgress, onIgnoredColumns, ...read } = options;
  const worker = startWorker(read);
  let summary = emptySummary();
  let lastProgress = 0;
  try {
    const done = await new Promise<Extract<WorkerMessage, { kind: 'done' }>>((resolve, reject) => {
      let writing = Promise.resolve();
      let finished = false;
      worker.on('error', reject);
      worker.on('exit', (code) => {
        if (!finished)
          reject(new AppError(500, 'import_failed', `The import reader stopped (exit code ${code})`));
      });
      worker.on('message', (message: WorkerMessage) => {
        switch (message.kind) {
          case 'batch':
            writing = writing
              .then(async () => {
                const records = message.records as RecordInputs[RecordType][];
                summary = addSummaries(summary, await upsertRecords(db, workspaceId, options.type, records));
                worker.postMessage({ kind: 'ack' });
              })
              .catch((error: Error) => {
                reject(
                  new AppError(
                    500,
                    'import_failed',
                    `The import stopped at the batch starting on line ${message.firstLine}: ${error.message}. ` +
                      'The batches before it are stored; importing the file again is safe (records are upserted by externalId).',
                  ),
                );
              });
            break;
          case 'progress': {
            const now = performance.now();
            if (now - lastProgress > 200 || message.bytesRead >= message.totalBytes) {
              lastProgress = now;
              const { kind: _kind, ...progress } = message;
              onProgress?.({ ...progress, elapsedMs: now - started });
            }
            break;
          }
          case 'ignored':
            onIgnoredColumns?.(message.columns);
            break;
          case 'done':
            finished = true;
            writing.then(() => resolve(message), reject);
            break;
          case 'error':
            finished = true;
            reject(new AppError(message.status, message.code, message.message));
            break;
        }
      });
    });
    return {
      ...summary,
      rows: done.rows,
      rejected: done.rejected,
      rejectsFile: done.rejectsFile,
      ignoredColumns: done.ignoredColumns,
      elapsedMs: performance.now() - started,
    };
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
};
