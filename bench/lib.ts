import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/index.js';
import { packageRoot } from '../src/paths.js';

export const BENCH_DIR = join(packageRoot, '.tmp', 'bench');
mkdirSync(BENCH_DIR, { recursive: true });

export const ADMIN_KEY = 'tp_benchmark_admin_key_0123456789';

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export const machine = () => ({
  date: new Date().toISOString().slice(0, 10),
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
  node: process.version,
});

/** A migrated embedded database directory (created once per bench run), copied for each measurement. */
let template: string | null = null;
export const freshEmbeddedDir = async (): Promise<string> => {
  if (!template) {
    template = mkdtempSync(join(BENCH_DIR, 'template-'));
    const database = await openDatabase(
      { kind: 'embedded', dataDir: template },
      { command: 'bench template' },
    );
    await database.close();
  }
  const dir = mkdtempSync(join(BENCH_DIR, 'data-'));
  cpSync(template, dir, { recursive: true });
  return dir;
};

export const cleanupTemplate = () => {
  if (template) rmSync(template, { recursive: true, force: true });
};

/** A PostgreSQL server for the benchmark: BENCH_DATABASE_URL, or a throw-away cluster. */
export const startPostgres = (): { url: string; stop: () => void } => {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: () => {} };
  const dir = mkdtempSync('/tmp/touchpoint-bench-pg-');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const script = join(packageRoot, 'scripts', 'pg-server.sh');
  const url = execFileSync(script, ['start', dir, String(port)], { encoding: 'utf8' }).trim();
  return {
    url,
    stop: () => {
      execFileSync(script, ['stop', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** A new, empty database on the server for one measurement. */
export const freshServerDatabase = async (serverUrl: string, name: string): Promise<string> => {
  const client = new pg.Client(serverUrl);
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name}`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

export const postgresVersion = async (url: string): Promise<string> => {
  const client = new pg.Client(url);
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  return rows[0]?.server_version ?? '?';
};

export interface Server {
  url: string;
  process: ChildProcess;
  readyMs: number;
  stop(): Promise<void>;
}

/** Starts the compiled server (`node bin/touchpoint.js serve`) and waits for its listening line. */
export const startServer = (env: Record<string, string>, args: string[] = []): Promise<Server> =>
  new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=.tmp/prof" to profile the server.
        ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        join(packageRoot, 'bin', 'touchpoint.js'),
        'serve',
        '--port',
        '0',
        ...args,
      ],
      {
        env: { ...process.env, TOUCHPOINT_ADMIN_KEY: ADMIN_KEY, LOG_LEVEL: 'error', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk) => {
      err += chunk;
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /Touchpoint listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        const readyMs = performance.now() - started;
        resolve({
          url: match[1],
          process: child,
          readyMs,
          stop: () =>
            new Promise<void>((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${out}\n${err}`)));
  });

/** Resident memory of a process in MB (from /proc). */
export const rssMb = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
};

/** Headers of the benchmark's admin key. */
export const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };

/** A JSON API call with the admin key; throws on an error status. */
export const api = async (url: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: adminHeaders,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

/**
 * A compiled server on a fresh database: a new database `bench_<label>` on the PostgreSQL server
 * at `serverUrl`, or a fresh embedded directory, removed again when the server stops.
 */
export const serveFresh = async (
  kind: 'pglite' | 'postgres',
  label: string,
  serverUrl: string,
): Promise<Server> => {
  if (kind === 'postgres') {
    return startServer({ DATABASE_URL: await freshServerDatabase(serverUrl, `bench_${label}`) });
  }
  const dir = await freshEmbeddedDir();
  const server = await startServer({}, ['--data', dir]);
  return {
    ...server,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * POSTs prepared JSON bodies to `path`, `inFlight` at a time; resolves to the seconds it took.
 * Any answer but 200 stops the benchmark.
 */
export const postAll = async (url: string, path: string, bodies: readonly string[], inFlight = 4) => {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < bodies.length) {
        const response = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: adminHeaders,
          body: bodies[next++] as string,
        });
        if (response.status !== 200) throw new Error(`${path}: ${response.status} ${await response.text()}`);
        await response.arrayBuffer();
      }
    }),
  );
  return (performance.now() - started) / 1000;
};

/** The Markdown rows a benchmark prints, also written to `.tmp/bench/<name>-latest.md`. */
export const report = (name: string, runs: number) => {
  const lines: string[] = [];
  const log = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  const info = machine();
  log(`Machine: ${info.cpu}, ${info.memory}, Node ${info.node}; date ${info.date}; median of ${runs} runs.`);
  log('');
  log('| measurement | database | result | target | |');
  log('|---|---|---|---|---|');
  return { log, save: () => writeFileSync(join(BENCH_DIR, `${name}-latest.md`), `${lines.join('\n')}\n`) };
};

/**
 * Runs a benchmark's measurements with a PostgreSQL server when `kinds` asks for one (its URL is
 * passed on), and cleans up the server and the embedded template afterwards.
 */
export const withBenchDatabases = async (
  kinds: readonly string[],
  measure: (serverUrl: string) => Promise<void>,
): Promise<void> => {
  const postgres = kinds.includes('postgres') ? startPostgres() : null;
  try {
    await measure(postgres?.url ?? '');
  } finally {
    postgres?.stop();
    cleanupTemplate();
  }
};
