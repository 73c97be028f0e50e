import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/index.js';
import { migrationsDir, packageRoot } from '../../src/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated, closed embedded database to copy (creating one costs seconds and ~800 MB). */
    pgliteTemplate: string;
    /** A PostgreSQL server database for the tests, or '' when none is available. */
    postgresUrl: string;
    /** Why there is no PostgreSQL server, for the skip message. */
    postgresMissing: string;
  }
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** The embedded template is rebuilt whenever a migration changes. */
const buildPgliteTemplate = async (): Promise<string> => {
  const hash = createHash('sha256');
  for (const file of readdirSync(migrationsDir).sort())
    hash.update(file).update(readFileSync(join(migrationsDir, file)));
  const dir = join(packageRoot, '.tmp', `pglite-template-${hash.digest('hex').slice(0, 12)}`);
  if (existsSync(join(dir, 'ready'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  const building = `${dir}.building-${process.pid}`;
  const database = await openDatabase({ kind: 'embedded', dataDir: building }, { command: 'test template' });
  await database.close();
  mkdirSync(dir, { recursive: true });
  cpSync(building, dir, { recursive: true });
  rmSync(building, { recursive: true, force: true });
  execFileSync('touch', [join(dir, 'ready')]);
  return dir;
};

/** Newest modification time of the files under a folder (0 when there are none). */
const newestChange = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .reduce((newest, entry) => Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs), 0);

/**
 * The browser tests use the built dashboard (dist/web). `npm install` builds it; this rebuilds it
 * when a file under web/ is newer, so a test never runs against an old build.
 */
const buildDashboardIfStale = (): void => {
  const index = join(packageRoot, 'dist', 'web', 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestChange(join(packageRoot, 'web'))) return;
  console.log('Building the dashboard (web/ changed since the last build)…');
  execFileSync(
    join(packageRoot, 'node_modules', '.bin', 'vite'),
    ['build', '--config', 'web/vite.config.ts'],
    {
      cwd: packageRoot,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
};

/** Uses TEST_DATABASE_URL, or starts a throw-away cluster with initdb/pg_ctl when they are installed. */
const startPostgres = async (): Promise<{ url: string; missing: string; stop?: () => void }> => {
  const given = process.env.TEST_DATABASE_URL?.trim();
  if (given) return { url: given, missing: '' };
  try {
    execFileSync('sh', ['-c', 'command -v initdb && command -v pg_ctl'], { stdio: 'ignore' });
  } catch {
    return {
      url: '',
      missing: 'no PostgreSQL server: install PostgreSQL (initdb, pg_ctl) or set TEST_DATABASE_URL',
    };
  }
  const dir = mkdtempSync('/tmp/touchpoint-test-pg-');
  const port = await freePort();
  const script = join(packageRoot, 'scripts', 'pg-server.sh');
  const url = execFileSync(script, ['start', dir, String(port)], { encoding: 'utf8' }).trim();
  return {
    url,
    missing: '',
    stop: () => {
      try {
        execFileSync(script, ['stop', dir], { stdio: 'ignore' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
};

export default async function setup(project: TestProject) {
  buildDashboardIfStale();
  const [template, postgres] = await Promise.all([buildPgliteTemplate(), startPostgres()]);
  if (!postgres.url && process.env.CI === 'true') {
    throw new Error(`CI=true requires the PostgreSQL tests to run, but there is ${postgres.missing}`);
  }
  if (postgres.url) {
    // One database for the run; tests isolate themselves by workspace.
    const client = new pg.Client(postgres.url);
    await client.connect();
    await client.query('DROP DATABASE IF EXISTS touchpoint_test');
    await client.query('CREATE DATABASE touchpoint_test');
    await client.end();
  }
  let testUrl = '';
  if (postgres.url) {
    const url = new URL(postgres.url);
    url.pathname = '/touchpoint_test';
    testUrl = url.toString();
  }
  project.provide('pgliteTemplate', template);
  project.provide('postgresUrl', testUrl);
  project.provide('postgresMissing', postgres.missing);
  return () => postgres.stop?.();
}
