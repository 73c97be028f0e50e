import type { Results } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { EmbeddedSession } from './pglite-thread.js';
import { isPrepared, sqlLiteral, statementName } from './prepared.js';

/**
 * Kysely dialect for an embedded PGlite database.
 *
 * PGlite is a single connection. Kysely may run several requests at once, so the driver hands the
 * one connection to a single Kysely "connection" at a time: `acquireConnection` waits until the
 * previous holder has released it. Without that, two concurrent transactions would interleave their
 * statements inside one PostgreSQL session.
 */
export class PGliteDialect implements Dialect {
  private driver: PGliteDriver | undefined;
  constructor(private readonly pglite: EmbeddedSession) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    this.driver = new PGliteDriver(this.pglite);
    return this.driver;
  }
  /** Whether a statement runs on the connection or waits for it. */
  busy(): boolean {
    return this.driver?.busy() ?? false;
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class PGliteDriver implements Driver {
  private queue: Promise<void> = Promise.resolve();
  private readonly connection: PGliteConnection;
  private releaseCurrent: (() => void) | null = null;
  /** Holders and waiters of the connection. */
  private users = 0;

  constructor(pglite: EmbeddedSession) {
    this.connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {}

  busy(): boolean {
    return this.users > 0;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    this.users++;
    const previous = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.releaseCurrent = release;
    return this.connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    const release = this.releaseCurrent;
    this.releaseCurrent = null;
    this.users--;
    release?.();
  }

  async destroy(): Promise<void> {
    // The PGlite instance is owned (and closed) by the caller that opened it.
  }
}

class PGliteConnection implements DatabaseConnection {
  private readonly prepared = new Set<string>();

  constructor(private readonly pglite: EmbeddedSession) {}

  /**
   * A marked statement is prepared once (PREPARE) and then run with EXECUTE. PGlite's query API
   * cannot bind parameters to EXECUTE, so they are inlined as literals (numbers and strings only).
   */
  private async executePrepared<R>(compiledQuery: CompiledQuery): Promise<Results<R>> {
    const name = statementName(compiledQuery.sql);
    if (!this.prepared.has(name)) {
      await this.pglite.exec(`PREPARE ${name} AS ${compiledQuery.sql}`);
      this.prepared.add(name);
    }
    const args = compiledQuery.parameters.map(sqlLiteral).join(', ');
    const execute = `EXECUTE ${name}${args ? `(${args})` : ''}`;
    try {
      return (await this.pglite.exec(execute)) as Results<R>;
    } catch (error) {
      // invalid_sql_statement_name: the statement is gone (e.g. its PREPARE was rolled back).
      if ((error as { code?: string }).code !== '26000') throw error;
      await this.pglite.exec(`PREPARE ${name} AS ${compiledQuery.sql}`);
      return (await this.pglite.exec(execute)) as Results<R>;
    }
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (isPrepared(compiledQuery.sql)) {
      const result = await this.executePrepared<R>(compiledQuery);
      return {
        rows: result.rows,
        numAffectedRows: result.affectedRows !== undefined ? BigInt(result.affectedRows) : undefined,
      };
    }
    // Without parameters the simple protocol is used, as node-postgres does, so that a migration
    // file with several statements runs as one query.
    const result: Results<R> =
      compiledQuery.parameters.length === 0
        ? ((await this.pglite.exec(compiledQuery.sql)) as Results<R>)
        : await this.pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const command = result.command?.toUpperCase();
    const changes =
      command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    return {
      rows: result.rows as R[],
      numAffectedRows: changes && result.affectedRows !== undefined ? BigInt(result.affectedRows) : undefined,
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not supported by PGlite; fail loudly.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming queries are not supported on the embedded database');
  }
}
