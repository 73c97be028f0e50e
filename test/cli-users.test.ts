import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { login, sessionOf } from '../src/auth/sessions.js';
import type { Database } from '../src/db/index.js';
import { buildApp } from '../src/server/app.js';
import {
  type CliResult,
  createPostgresDatabase,
  type Env,
  killChildren,
  removeTempDirs,
  runCli,
  templateDataDir,
  withDatabase,
} from './helpers/cli.js';
import { postgresUrl } from './helpers/databases.js';

/** `touchpoint users …` end to end: the real command line, then the app on the same database. */

afterEach(killChildren);
afterAll(removeTempDirs);

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The first admin comes from these when set; the tests want the defaults. */
const CLEAN_ENV: Env = { TOUCHPOINT_ADMIN_EMAIL: undefined, TOUCHPOINT_ADMIN_PASSWORD: undefined };

type Place = { data: string } | { url: string };

const placeArgs = (place: Place) => ('data' in place ? ['--data', place.data] : []);
const placeEnv = (place: Place): Env => ({
  ...CLEAN_ENV,
  ...('url' in place ? { DATABASE_URL: place.url } : {}),
});

const users = (place: Place, ...args: string[]) =>
  runCli(['users', ...args, ...placeArgs(place)], { env: placeEnv(place) });

/**
 * A command with --password-stdin and `input` on its standard input (runCli gives the child none). The child is killed
 * if it has not finished within a minute and a half.
 */
const usersWithStdin = (place: Place, input: string, ...args: string[]): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const name of ['DATABASE_URL', 'TOUCHPOINT_ADMIN_KEY', 'PORT', 'LOG_LEVEL', 'FORCE_COLOR'])
      delete env[name];
    for (const [name, value] of Object.entries(placeEnv(place))) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'users', ...args, '--password-stdin', ...placeArgs(place)],
      { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`touchpoint users ${args.join(' ')} did not finish\n${stdout}\n${stderr}`));
    }, 90_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });

const GENERATED = /^[A-Za-z0-9_-]{20}$/;

const expectOk = (result: CliResult) => {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
};

const expectFailure = (result: CliResult, message: RegExp) => {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).not.toBe(0);
  expect(result.stderr).toMatch(message);
  // A clear message, not a stack trace.
  expect(result.stderr).not.toMatch(/\n\s+at /);
};

/** The lines of `users list`: id, role, e-mail, name, last login. */
const listOf = (result: CliResult) =>
  result.stdout
    .trim()
    .split('\n')
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const [id, role, email, name, lastLogin] = line.split('\t');
      return { id: Number(id), role, email, name, lastLogin };
    });

/** Signs in through the HTTP app on the database the CLI used (after the CLI closed it). */
const signInThroughApp = async (database: Database, email: string, password: string) => {
  const app = await buildApp({ database });
  try {
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
    return { status: res.statusCode, body: res.json() as { role?: string; user?: { email: string } } };
  } finally {
    await app.close();
  }
};

describe('touchpoint users on the embedded database', () => {
  test('create prints a password that logs in; list shows the user; duplicates and bad input are clear errors', {
    timeout: 400_000,
  }, async () => {
    const place = { data: templateDataDir() };
    // The first command on a fresh database makes the first admin user.
    const first = expectOk(await users(place, 'list'));
    expect(listOf(first)).toEqual([
      {
        id: expect.any(Number),
        role: 'admin',
        email: 'admin@localhost',
        name: 'Administrator',
        lastLogin: 'last login never',
      },
    ]);

    const created = expectOk(
      await users(
        place,
        'create',
        '--email',
        'Agent.One@Example.com',
        '--role',
        'agent',
        '--name',
        'Agent One',
      ),
    );
    // Standard output is the password alone (for scripts); the rest goes to standard error.
    const password = created.stdout.trim();
    expect(password).toMatch(GENERATED);
    expect(created.stderr).toContain('Created agent agent.one@example.com in workspace "default"');

    const listed = listOf(expectOk(await users(place, 'list')));
    expect(listed.map(({ role, email, name, lastLogin }) => ({ role, email, name, lastLogin }))).toEqual([
      { role: 'admin', email: 'admin@localhost', name: 'Administrator', lastLogin: 'last login never' },
      { role: 'agent', email: 'agent.one@example.com', name: 'Agent One', lastLogin: 'last login never' },
    ]);
    expect(new Set(listed.map((u) => u.id)).size).toBe(2);

    const signed = await withDatabase(place, (database) =>
      signInThroughApp(database, 'agent.one@example.com', password),
    );
    expect(signed).toMatchObject({
      status: 200,
      body: { role: 'agent', user: { email: 'agent.one@example.com' } },
    });

    // The same address (in other letters) again: a clear error, nothing printed on standard output.
    const duplicate = await users(place, 'create', '--email', 'AGENT.ONE@example.com', '--role', 'manager');
    expectFailure(duplicate, /agent\.one@example\.com is already a user of this workspace/);
    expect(duplicate.stdout.trim()).toBe('');
    // An unknown or missing role: refused, naming the roles.
    const badRole = await users(place, 'create', '--email', 'boss@example.com', '--role', 'boss');
    expectFailure(badRole, /boss/);
    expect(badRole.stderr).toMatch(/admin, analyst, manager, agent/);
    expectFailure(await users(place, 'create', '--email', 'nobody@example.com'), /--role/);
    // Not an e-mail address; an unknown workspace.
    expectFailure(
      await users(place, 'create', '--email', 'not-an-address', '--role', 'agent'),
      /not an e-mail address/,
    );
    expectFailure(
      await users(place, 'create', '--email', 'x@example.com', '--role', 'agent', '--workspace', 'elsewhere'),
      /No workspace "elsewhere"/,
    );
    // Nothing else was created; the agent's login is listed.
    const after = listOf(expectOk(await users(place, 'list')));
    expect(after.map((u) => `${u.role} ${u.email}`)).toEqual([
      'admin admin@localhost',
      'agent agent.one@example.com',
    ]);
    expect(after[1]?.lastLogin).toMatch(/^last login \d{4}-\d\d-\d\dT/);
  });

  test('--password-stdin, reset-password (which ends sessions) and remove', {
    timeout: 400_000,
  }, async () => {
    const place = { data: templateDataDir() };
    const chosen = 'a password from a pipe';
    const created = expectOk(
      await usersWithStdin(
        place,
        `${chosen}\nsecond line ignored\n`,
        'create',
        '--email',
        'mia@example.com',
        '--role',
        'manager',
      ),
    );
    // The first admin's password is printed on this first command; the chosen one never is.
    expect(created.stdout).not.toContain(chosen);
    expect(created.stderr).toContain('Created manager mia@example.com');
    // A weak password from the pipe is refused with the rule.
    expectFailure(
      await usersWithStdin(place, 'short\n', 'create', '--email', 'weak@example.com', '--role', 'agent'),
      /10 to 200 characters/,
    );

    const token = await withDatabase(place, async (database) => {
      expect(await signInThroughApp(database, 'mia@example.com', chosen)).toMatchObject({
        status: 200,
        body: { role: 'manager' },
      });
      return (await login(database.db, { email: 'mia@example.com', password: chosen })).token;
    });

    // A generated new password: printed alone on standard output; the old one and the sessions end.
    const reset = expectOk(await users(place, 'reset-password', '--email', 'MIA@example.com'));
    const generated = reset.stdout.trim();
    expect(generated).toMatch(GENERATED);
    expect(reset.stderr).toContain('mia@example.com');
    await withDatabase(place, async (database) => {
      expect(await sessionOf(database.db, token)).toBeNull();
      expect((await signInThroughApp(database, 'mia@example.com', chosen)).status).toBe(401);
      expect((await signInThroughApp(database, 'mia@example.com', generated)).status).toBe(200);
    });
    // A chosen new password through the pipe, not printed; an unknown user is a clear error.
    const piped = expectOk(
      await usersWithStdin(place, 'another piped password\n', 'reset-password', '--email', 'mia@example.com'),
    );
    expect(piped.stdout.trim()).toBe('');
    expectFailure(
      await users(place, 'reset-password', '--email', 'ghost@example.com'),
      /No user ghost@example\.com/,
    );
    await withDatabase(place, async (database) => {
      expect((await signInThroughApp(database, 'mia@example.com', generated)).status).toBe(401);
      expect((await signInThroughApp(database, 'mia@example.com', 'another piped password')).status).toBe(
        200,
      );
    });

    // Remove: the user is gone; removing them again, or the last admin, is a clear error.
    const removed = expectOk(await users(place, 'remove', '--email', 'mia@example.com'));
    expect(removed.stdout).toContain('Removed mia@example.com.');
    expectFailure(await users(place, 'remove', '--email', 'mia@example.com'), /No user mia@example\.com/);
    expectFailure(await users(place, 'remove', '--email', 'admin@localhost'), /last admin/);
    expect(listOf(expectOk(await users(place, 'list'))).map((u) => `${u.role} ${u.email}`)).toEqual([
      'admin admin@localhost',
    ]);
  });
});

const pgUrl = postgresUrl();
describe.skipIf(!pgUrl)('touchpoint users on a PostgreSQL server (DATABASE_URL)', () => {
  test('create with --password-stdin, list, sign in, remove', { timeout: 200_000 }, async () => {
    const server = await createPostgresDatabase();
    try {
      const place = { url: server.url };
      expectOk(
        await usersWithStdin(
          place,
          'a server side password\n',
          'create',
          '--email',
          'ann@example.com',
          '--role',
          'agent',
        ),
      );
      const listed = listOf(expectOk(await users(place, 'list')));
      expect(listed.map((u) => `${u.role} ${u.email}`)).toEqual([
        'admin admin@localhost',
        'agent ann@example.com',
      ]);
      await withDatabase(place, async (database) => {
        expect(await signInThroughApp(database, 'ann@example.com', 'a server side password')).toMatchObject({
          status: 200,
          body: { role: 'agent' },
        });
      });
      expectOk(await users(place, 'remove', '--email', 'ann@example.com'));
      expect(listOf(expectOk(await users(place, 'list'))).map((u) => u.email)).toEqual(['admin@localhost']);
    } finally {
      await server.drop();
    }
  });
});
