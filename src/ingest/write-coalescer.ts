import type { Db } from '../db/index.js';
import type { RecordType } from '../domain/vocabulary.js';
import type { RecordInputs } from './schemas.js';
import {
  encodeRecords,
  SINGLE_STATEMENT_MAX,
  type UpsertSummary,
  upsertRecords,
  writeInOneStatement,
} from './upsert.js';

interface Pending {
  records: RecordInputs[RecordType][];
  ids: string[];
  resolve(summary: UpsertSummary): void;
  reject(error: unknown): void;
}

interface Queue {
  pending: Pending[];
  flushing: boolean;
}

/**
 * Groups small writes that arrive while the database is busy into one statement.
 *
 * A request finding its queue idle is written at once, alone; requests arriving meanwhile wait
 * for it and then go together — so at low load nothing waits, and under load a burst of
 * single-record requests costs a few statements instead of one each. Each request is answered
 * with its own summary once the statement holding its records has committed. Requests are taken
 * in arrival order, and a request sharing an externalId with one already taken waits for the next
 * statement, so later data still wins.
 */
export class WriteCoalescer {
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly db: Db,
    private readonly maxRecords = 1000,
  ) {}

  write<T extends RecordType>(
    workspaceId: number,
    type: T,
    records: RecordInputs[T][],
  ): Promise<UpsertSummary> {
    const ids = records.map((record) => record.externalId);
    if (records.length > SINGLE_STATEMENT_MAX || new Set(ids).size !== ids.length) {
      return upsertRecords(this.db, workspaceId, type, records);
    }
    const key = `${workspaceId}:${type}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { pending: [], flushing: false };
      this.queues.set(key, queue);
    }
    const promise = new Promise<UpsertSummary>((resolve, reject) => {
      queue.pending.push({ records, ids, resolve, reject });
    });
    if (!queue.flushing) void this.flush(key, queue, workspaceId, type);
    return promise;
  }

  private async flush(key: string, queue: Queue, workspaceId: number, type: RecordType): Promise<void> {
    queue.flushing = true;
    try {
      while (queue.pending.length > 0) {
        const group: Pending[] = [];
        const taken = new Set<string>();
        let count = 0;
        for (const next of queue.pending) {
          if (
            group.length > 0 &&
            (count + next.records.length > this.maxRecords || next.ids.some((id) => taken.has(id)))
          ) {
            break;
          }
          group.push(next);
          count += next.records.length;
          for (const id of next.ids) taken.add(id);
        }
        queue.pending.splice(0, group.length);
        await this.writeGroup(workspaceId, type, group);
      }
    } finally {
      queue.flushing = false;
      if (queue.pending.length === 0) this.queues.delete(key);
    }
  }

  private async writeGroup(workspaceId: number, type: RecordType, group: Pending[]): Promise<void> {
    if (group.length > 1) {
      try {
        const records = group.flatMap((pending) => pending.records);
        const { rows } = encodeRecords(type, records);
        const result = await writeInOneStatement(this.db, workspaceId, type, rows);
        if (result) {
          const written = new Map(result.written);
          const newCustomers = new Set(result.customersCreated);
          for (const pending of group) {
            let created = 0;
            let updated = 0;
            for (const id of pending.ids) {
              const inserted = written.get(id);
              if (inserted === true) created++;
              else if (inserted === false) updated++;
            }
            // A customer created for the group counts for the first request that named it.
            let customersCreated = 0;
            for (const record of pending.records) {
              const customer = 'customerId' in record ? record.customerId : null;
              if (customer && newCustomers.delete(customer)) customersCreated++;
            }
            pending.resolve({
              created,
              updated,
              unchanged: pending.ids.length - created - updated,
              customersCreated,
            });
          }
          return;
        }
      } catch {
        // Fall through: each request on its own, so that one request's failure is its alone.
      }
    }
    for (const pending of group) {
      try {
        pending.resolve(await upsertRecords(this.db, workspaceId, type, pending.records));
      } catch (error) {
        pending.reject(error);
      }
    }
  }
}
