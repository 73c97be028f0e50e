import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type Database, openDatabase } from '../../src/db/index.js';
import { copyPgliteTemplate, postgresUrl } from './databases.js';

/**
 * End-to-end helpers: the real command line as a child process (`node --import tsx src/cli/index.ts`),
 * servers on a free port, temp directories and throw-away PostgreSQL databases. Every child process
 * and directory is tracked, so `killChildren()` / `removeTempDirs()` in hooks clean up after failures.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const CLI = ['--import', 'tsx', 'src/cli/index.ts'];

export type Env = Record<string, string | undefined>;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** The child's environment: the test's, without anything that would select another database or key. */
const childEnv = (env: Env = {}): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of ['DATABASE_URL', 'TOUCHPOINT_ADMIN_KEY', 'PORT', 'LOG_LEVEL', 'FORCE_COLOR'])
    delete base[name];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete base[name];
    else base[name] = value;
  }
  return base;
};

const spawnCli = (args: string[], env?: Env): ChildProcess => {
  const child = spawn(process.execPath, [...CLI, ...args], {
    cwd: repoRoot,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
};

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));

/**
 * Runs one command to its end.
 *
 * @example const { code, stdout } = await runCli(['keys', 'create', '--role', 'read', '--data', dir]);
 */
export const runCli = async (
  args: string[],
  options: { env?: Env; timeoutMs?: number } = {},
): Promise<CliResult> => {
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timeoutMs = options.timeoutMs ?? 90_000;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const code = await closed;
  clearTimeout(timer);
  if (child.signalCode === 'SIGKILL' && code === null) {
    throw new Error(
      `touchpoint ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`,
    );
  }
  return { code, stdout, stderr };
};

export interface RunningServer {
  url: string;
  pid: number;
  /** What the server printed so far. */
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then waits for the exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (a crash), then waits until the process is gone. */
  kill9(): Promise<void>;
}

/**
 * Starts `touchpoint serve --port 0` and resolves once it prints `Touchpoint listening on URL`.
 * Rejects with the output when the process exits first or does not become ready in time.
 */
export const startServer = async (
  options: { data?: string; env?: Env; args?: string[]; timeoutMs?: number } = {},
): Promise<RunningServer> => {
  const args = [
    'serve',
    '--port',
    '0',
    ...(options.data ? ['--data', options.data] : []),
    ...(options.args ?? []),
  ];
  const child = spawnCli(args, options.env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timeoutMs = options.timeoutMs ?? 120_000;
  const url = await new Promise<string>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`touchpoint ${args.join(' ')} ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`was not ready within ${timeoutMs} ms`), timeoutMs);
    const early = (code: number | null, signal: string | null) =>
      fail(`exited (code ${code}, signal ${signal}) before it was ready`);
    child.once('exit', early);
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /Touchpoint listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve(match[1]);
      }
    });
  });
  const pid = child.pid as number;
  const gone = exited(child);
  return {
    url,
    pid,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await gone;
      clearTimeout(timer);
      return code;
    },
    async kill9() {
      child.kill('SIGKILL');
      await gone;
    },
  };
};

/** Kills every child process still running (for afterEach, so a failed test leaves none behind). */
export const killChildren = async (): Promise<void> => {
  const running = [...children];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map(exited));
};

/** A new empty directory under the system temp directory, removed by `removeTempDirs()`. */
export const tempDir = (prefix = 'touchpoint-e2e-'): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
};

/** An embedded `--data` directory holding the migrated template (no workspace yet: still a first start). */
export const templateDataDir = (): string => {
  const dir = copyPgliteTemplate();
  tempDirs.add(dir);
  return dir;
};

export const removeTempDirs = (): void => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
};

/**
 * A new, empty database on the test PostgreSQL server, so that `serve` sees a first start there
 * (the run's shared database already holds other suites' workspaces).
 */
export const createPostgresDatabase = async (): Promise<{ url: string; drop(): Promise<void> }> => {
  const serverUrl = postgresUrl();
  const name = `touchpoint_e2e_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client(serverUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client(serverUrl);
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
};

/** Opens a database in this process (after the CLI exited), runs `body`, and closes it again. */
export const withDatabase = async <T>(
  target: { data: string } | { url: string },
  body: (database: Database) => Promise<T>,
): Promise<T> => {
  const database = await openDatabase(
    'url' in target ? { kind: 'server', url: target.url } : { kind: 'embedded', dataDir: target.data },
    { command: 'test' },
  );
  try {
    return await body(database);
  } finally {
    await database.close();
  }
};

export interface ApiResponse<T> {
  status: number;
  body: T;
}

/**
 * One HTTP request to a running server; JSON in, JSON (or text) out.
 *
 * @example const { status, body } = await api<{ items: unknown[] }>(server.url, '/api/v1/api-keys', { key });
 */
export const api = async <T = unknown>(
  baseUrl: string,
  path: string,
  options: { method?: string; key?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> => {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${baseUrl}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  if ((response.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: response.status, body: body as T };
};

/** The API keys (`tp_…`) in a piece of output. */
export const keysIn = (text: string): string[] => text.match(/\btp_[A-Za-z0-9_-]{8,128}/g) ?? [];
