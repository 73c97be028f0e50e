import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { startWorker } from '../worker-thread.js';
import type { ReadOptions, ReadProgress } from './file-reader.js';
import type { WorkerMessage } from './import-worker.js';
import type { RecordInputs } from './schemas.js';
import { addSummaries, emptySummary, type UpsertSummary, upsertRecords } from './upsert.js';

export type { FileFormat } from './file-reader.js';

export interface ImportProgress extends ReadProgress {
  elapsedMs: number;
}

export interface ImportOptions extends ReadOptions {
  /** Batches written at once, on separate connections (a PostgreSQL server); 1 for the embedded database. */
  concurrency?: number;
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

/**
 * Removes from the head of `queue` the batches that may start now: while fewer than `concurrency`
 * are being written, in order, stopping at the first that shares an id with one being written or
 * taken (so that a later row of a record is never written before an earlier one).
 */
export const takeReady = <B extends { ids: Set<string> }>(
  queue: B[],
  writing: Iterable<B>,
  concurrency: number,
): B[] => {
  const busy = [...writing];
  const taken: B[] = [];
  while (queue.length > 0 && busy.length < concurrency) {
    const next = queue[0] as B;
    if (busy.some((batch) => [...next.ids].some((id) => batch.ids.has(id)))) break;
    queue.shift();
    busy.push(next);
    taken.push(next);
  }
  return taken;
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
  const { onProgress, onIgnoredColumns, concurrency = 1, ...read } = options;
  const worker = startWorker(import.meta.url, './import-worker', read);
  let summary = emptySummary();
  let lastProgress = 0;
  try {
    const done = await new Promise<Extract<WorkerMessage, { kind: 'done' }>>((resolve, reject) => {
      type Batch = { records: RecordInputs[RecordType][]; ids: Set<string>; firstLine: number };
      // Batches are started in file order; one that shares an externalId with a batch still being
      // written waits for it, so a later row always wins.
      const queue: Batch[] = [];
      const writing = new Set<Batch>();
      let finished: Extract<WorkerMessage, { kind: 'done' }> | null = null;
      let failed = false;
      const fail = (error: unknown) => {
        failed = true;
        reject(error);
      };
      const pump = () => {
        if (failed) return;
        for (const next of takeReady(queue, writing, concurrency)) {
          writing.add(next);
          upsertRecords(db, workspaceId, options.type, next.records).then(
            (result) => {
              writing.delete(next);
              summary = addSummaries(summary, result);
              worker.postMessage({ kind: 'ack' });
              pump();
            },
            (error: Error) =>
              fail(
                new AppError(
                  500,
                  'import_failed',
                  `The import stopped at the batch starting on line ${next.firstLine}: ${error.message}. ` +
                    'Importing the file again is safe: records are upserted by externalId.',
                ),
              ),
          );
        }
        if (finished && queue.length === 0 && writing.size === 0) resolve(finished);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => {
        if (!finished)
          fail(new AppError(500, 'import_failed', `The import reader stopped (exit code ${code})`));
      });
      worker.on('message', (message: WorkerMessage) => {
        switch (message.kind) {
          case 'batch': {
            const records = message.records as RecordInputs[RecordType][];
            queue.push({
              records,
              ids: new Set(records.map((r) => r.externalId)),
              firstLine: message.firstLine,
            });
            pump();
            break;
          }
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
            finished = message;
            pump();
            break;
          case 'error':
            fail(new AppError(message.status, message.code, message.message));
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
