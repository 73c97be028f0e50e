import { createReadStream, createWriteStream, rmSync, statSync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import { AppError } from '../errors.js';
import { buildRecord, columnResolver, parseFieldMap, resolveColumns, type Target } from './field-map.js';
import type { RecordInputs } from './schemas.js';
import { addSummaries, emptySummary, type UpsertSummary, upsertRecords } from './upsert.js';
import { validateRecord } from './validate.js';

export type FileFormat = 'csv' | 'ndjson';

export interface ImportProgress {
  rows: number;
  rejected: number;
  bytesRead: number;
  totalBytes: number;
  elapsedMs: number;
}

export interface ImportOptions {
  file: string;
  type: RecordType;
  /** `--map` values, e.g. ["Customer ID=customerId,Inflight wifi service=answers.wifi"]. */
  map?: string[];
  format?: FileFormat;
  /** Records per transaction (default 5,000). */
  batchSize?: number;
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

/** The file's format from its name, or from its first character when the name does not tell. */
export const detectFormat = async (file: string): Promise<FileFormat> => {
  if (/\.(csv|tsv|txt)$/i.test(file)) return 'csv';
  if (/\.(ndjson|jsonl|json)$/i.test(file)) return 'ndjson';
  const head = await readHead(file, 64);
  return head.trimStart().startsWith('{') ? 'ndjson' : 'csv';
};

const readHead = async (file: string, bytes: number): Promise<string> => {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
};

/** The delimiter used most in the header line: comma, semicolon or tab. */
const sniffDelimiter = async (file: string): Promise<string> => {
  const header = (await readHead(file, 64 * 1024)).split(/\r?\n/)[0] ?? '';
  const counts = [',', ';', '\t'].map((d) => [d, header.split(d).length] as const);
  return counts.reduce((best, next) => (next[1] > best[1] ? next : best))[0];
};

/** A source row with where it came from, for the rejects file. */
interface SourceRow {
  line: number;
  values: Record<string, unknown>;
  raw: string[];
}

/**
 * Streams a CSV (header row) or NDJSON file into the store in bounded memory: rows are mapped,
 * typed and validated like API records, written in batches (upsert by externalId, so a second
 * import of the same file changes nothing), and invalid rows go to `FILE.rejects.csv` with their
 * reasons while the import goes on.
 */
export const importFile = async (
  db: Db,
  workspaceId: number,
  options: ImportOptions,
): Promise<ImportSummary> => {
  const { file, type } = options;
  let totalBytes: number;
  try {
    totalBytes = statSync(file).size;
  } catch {
    throw new AppError(400, 'file_not_found', `Cannot read ${file}: no such file`);
  }
  const format = options.format ?? (await detectFormat(file));
  const explicit = parseFieldMap(type, options.map ?? []);
  const batchSize = options.batchSize ?? 5000;
  const started = performance.now();
  const rejectsFile = `${file}.rejects.csv`;
  rmSync(rejectsFile, { force: true });

  let rejects: WriteStream | null = null;
  let rejectHeader: string[] = [];
  const reject = (row: SourceRow, reasons: string) => {
    if (!rejects) {
      rejects = createWriteStream(rejectsFile);
      rejects.write(stringify([['line', 'errors', ...rejectHeader]]));
    }
    rejects.write(stringify([[row.line, reasons, ...row.raw]]));
    rejected++;
  };

  let rows = 0;
  let rejected = 0;
  let bytesRead = 0;
  let summary = emptySummary();
  let ignoredColumns: string[] = [];
  let batch: RecordInputs[RecordType][] = [];
  let batchFirstLine = 0;
  // One batch is written while the next is parsed; writes stay in file order.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (batch.length === 0) return;
    const records = batch;
    const firstLine = batchFirstLine;
    batch = [];
    await writing;
    writing = upsertRecords(db, workspaceId, type, records).then(
      (result) => {
        summary = addSummaries(summary, result);
      },
      (error: Error) => {
        throw new AppError(
          500,
          'import_failed',
          `The import stopped at the batch starting on line ${firstLine}: ${error.message}. ` +
            'The batches before it are stored; importing the file again is safe (records are upserted by externalId).',
        );
      },
    );
    // Surface a failed write before parsing much further.
    writing.catch(() => {});
  };

  let lastReport = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (!options.onProgress || (!force && now - lastReport < 200)) return;
    lastReport = now;
    options.onProgress({
      rows,
      rejected,
      bytesRead: Math.min(bytesRead, totalBytes),
      totalBytes,
      elapsedMs: now - started,
    });
  };

  const accept = async (row: SourceRow, record: Record<string, unknown>) => {
    rows++;
    const result = validateRecord(type, record);
    if (!result.ok) {
      reject(row, result.details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; '));
    } else {
      if (batch.length === 0) batchFirstLine = row.line;
      batch.push(result.value);
      if (batch.length >= batchSize) await flush();
    }
    if ((rows & 1023) === 0) report();
  };

  const input = createReadStream(file, { highWaterMark: 1024 * 1024 });
  input.on('data', (chunk) => {
    bytesRead += chunk.length;
  });

  if (format === 'csv') {
    const parser = input.pipe(
      parse({
        delimiter: await sniffDelimiter(file),
        bom: true,
        relax_column_count: true,
        skip_empty_lines: true,
        info: true,
      }),
    );
    let header: string[] | null = null;
    let targets = new Map<string, Target>();
    try {
      for await (const { record, info } of parser as AsyncIterable<{
        record: string[];
        info: { lines: number };
      }>) {
        if (!header) {
          header = record.map((name) => name.trim());
          rejectHeader = header;
          const resolved = resolveColumns(type, header, explicit);
          targets = resolved.targets;
          ignoredColumns = resolved.ignored;
          options.onIgnoredColumns?.(ignoredColumns);
          continue;
        }
        const values: Record<string, unknown> = {};
        for (let i = 0; i < header.length; i++) values[header[i] as string] = record[i];
        const row = { line: info.lines, values, raw: record };
        if (record.length !== header.length) {
          rows++;
          reject(row, `has ${record.length} columns, the header has ${header.length}`);
          continue;
        }
        await accept(row, buildRecord(values, targets));
      }
    } catch (error) {
      if ((error as { code?: string }).code?.startsWith('CSV_')) {
        throw new AppError(
          400,
          'bad_csv',
          `${file} is not valid CSV: ${(error as Error).message}. Rows before it were imported.`,
        );
      }
      throw error;
    }
    if (!header) throw new AppError(400, 'empty_file', `${file} is empty: a CSV import needs a header row`);
  } else {
    rejectHeader = ['record'];
    const resolve = columnResolver(type, explicit);
    const cache = new Map<string, Target | null>();
    const ignored = new Set<string>();
    let line = 0;
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (text.trim() === '') continue;
      const row: SourceRow = { line, values: {}, raw: [text] };
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        rows++;
        reject(row, `invalid JSON: ${(error as Error).message}`);
        continue;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        rows++;
        reject(row, 'each line must be one JSON object');
        continue;
      }
      const targets = new Map<string, Target>();
      for (const key of Object.keys(parsed)) {
        if (!cache.has(key)) cache.set(key, resolve(key));
        const target = cache.get(key);
        if (target) targets.set(key, target);
        else ignored.add(key);
      }
      await accept(row, buildRecord(parsed as Record<string, unknown>, targets));
    }
    ignoredColumns = [...ignored];
    if (ignoredColumns.length > 0) options.onIgnoredColumns?.(ignoredColumns);
  }

  await flush();
  await writing;
  report(true);
  if (rejects) {
    const stream: WriteStream = rejects;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  return {
    ...summary,
    rows,
    rejected,
    rejectsFile: rejected > 0 ? rejectsFile : null,
    elapsedMs: performance.now() - started,
    ignoredColumns,
  };
};
