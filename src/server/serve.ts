import type { AddressInfo } from 'node:net';
import { startClosedLoop } from '../closed-loop/worker.js';
import { type Database, openDatabase, resolveDatabaseTarget } from '../db/index.js';
import { scheduleEmbeddedMaintenance, scheduleRollupFolding } from '../db/maintenance.js';
import { demoLoadedAt, loadDemo } from '../demo/load.js';
import { AppError } from '../errors.js';
import { createLogger } from '../logger.js';
import { Channels, mailConfigFromEnv } from '../surveys/channels.js';
import { startSurveyScheduler } from '../surveys/scheduler.js';
import { bootstrapFromEnvironment, firstStartLines } from '../workspace/bootstrap.js';
import { DEFAULT_WORKSPACE, getWorkspace } from '../workspace/workspaces.js';
import { type App, buildApp, caseLink } from './app.js';

export interface ServeOptions {
  port: number;
  host: string;
  dataDir: string;
  demo?: boolean;
  /** Where messages for people go (the listening line, the first admin key). */
  print?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  app: App;
  database: Database;
  close(): Promise<void>;
}

/** Opens the database, prepares it on first start, and serves the API until closed. */
export const serve = async (options: ServeOptions): Promise<RunningServer> => {
  const print = options.print ?? ((line: string) => console.log(line));
  const logger = createLogger();
  const database = await openDatabase(resolveDatabaseTarget(options.dataDir), { command: 'serve' });
  let app: App | undefined;
  const channels = new Channels(mailConfigFromEnv());
  let publicUrl = process.env.PUBLIC_URL?.trim().replace(/\/+$/, '') ?? '';
  try {
    for (const line of firstStartLines(await bootstrapFromEnvironment(database.db))) print(line);
    if (options.demo) {
      const workspace = await getWorkspace(database.db, DEFAULT_WORKSPACE);
      const loadedAt = await demoLoadedAt(database.db, workspace.id);
      if (loadedAt) print(`Demo data already loaded (${loadedAt}); run "npx touchpoint demo" to refresh it.`);
      else {
        print('Loading the demo data set…');
        await loadDemo(database.db, workspace.id, { print, closedLoop: true });
      }
    }
    app = await buildApp({ database, logger, publicUrl: () => publicUrl, channels });
    try {
      await app.listen({ port: options.port, host: options.host });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        throw new AppError(
          409,
          'port_in_use',
          `Port ${options.port} is in use on ${options.host}; start with another --port`,
        );
      }
      throw error;
    }
  } catch (error) {
    await app?.close();
    await database.close();
    throw error;
  }
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  database.announce(url);
  publicUrl ||= `http://${address.family === 'IPv6' || address.address === '0.0.0.0' ? 'localhost' : host}:${address.port}`;
  const stopMaintenance = scheduleEmbeddedMaintenance(database);
  const stopFolding = scheduleRollupFolding(database);
  const stopSurveys = startSurveyScheduler(
    { db: database.db, channels, publicUrl },
    { onError: (error) => logger.error({ err: error }, 'survey scheduler') },
  );
  const closedLoop = startClosedLoop(
    { db: database.db, channels, caseLink: (_workspaceId, caseId) => caseLink(publicUrl, caseId) },
    {
      onError: (error) => logger.error({ err: error }, 'closed loop'),
      // The embedded database is this process's alone, behind one connection: every write wakes
      // the worker, so the poll only has retries to find. Each statement there costs ≥ 0.4 ms
      // whatever it does, so batches 50 ms apart (measured against 25 and 100 ms: see
      // docs/benchmarks.md, "Closed loop").
      ...(database.kind === 'embedded' ? { exclusive: true, batchSpacingMs: 50, pollMs: 1000 } : {}),
    },
  );
  print(`Touchpoint listening on ${url}`);
  print(`Dashboard: ${publicUrl}/app/`);
  const running = app;
  let closing: Promise<void> | undefined;
  return {
    url,
    app: running,
    database,
    close: () => {
      closing ??= (async () => {
        await Promise.all([stopMaintenance(), stopFolding(), stopSurveys()]);
        await closedLoop.stop();
        channels.close();
        await running.close();
        await database.close();
      })();
      return closing;
    },
  };
};
