import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { type Database, openDatabase } from '../../src/db/index.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** A fresh embedded database directory, copied from the migrated template (a fresh one costs seconds). */
export const copyPgliteTemplate = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'touchpoint-test-'));
  cpSync(inject('pgliteTemplate'), dir, { recursive: true });
  rmSync(join(dir, 'ready'), { force: true });
  return dir;
};

export const postgresUrl = (): string => inject('postgresUrl');

/** Opens a test database of the given kind: a copy of the template, or the shared server database. */
export const openTestDatabase = async (
  kind: DatabaseKind,
): Promise<{ database: Database; cleanup: () => Promise<void> }> => {
  if (kind === 'postgres') {
    const database = await openDatabase({ kind: 'server', url: postgresUrl() }, { command: 'test' });
    return { database, cleanup: () => database.close() };
  }
  const dir = copyPgliteTemplate();
  const database = await openDatabase({ kind: 'embedded', dataDir: dir }, { command: 'test' });
  return {
    database,
    cleanup: async () => {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

const skipMessage = () =>
  `PostgreSQL server tests skipped: ${inject('postgresMissing')}. Install PostgreSQL (apt-get install postgresql) or set TEST_DATABASE_URL.`;

/**
 * Runs a suite against the embedded database and against a PostgreSQL server (skipped with a
 * message when none is available locally; under CI=true the global setup fails instead). One
 * database per file and kind; tests isolate themselves with their own workspaces.
 *
 * @example describeEachDatabase('upsert', (db) => { test('…', async () => { await upsertRecords(db(), …) }) })
 */
export const describeEachDatabase = (
  name: string,
  body: (database: () => Database, kind: DatabaseKind) => void,
) => {
  for (const kind of ['pglite', 'postgres'] as const) {
    const unavailable = kind === 'postgres' && !inject('postgresUrl');
    describe.skipIf(unavailable)(`${name} [${kind}]${unavailable ? ` — ${skipMessage()}` : ''}`, () => {
      let opened: Awaited<ReturnType<typeof openTestDatabase>> | undefined;
      beforeAll(async () => {
        opened = await openTestDatabase(kind);
      });
      afterAll(async () => {
        await opened?.cleanup();
      });
      body(() => {
        if (!opened) throw new Error('database not open yet');
        return opened.database;
      }, kind);
    });
  }
};
