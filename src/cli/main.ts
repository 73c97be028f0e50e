import { Command, InvalidArgumentError, Option } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { computeMetrics } from '../analytics/metrics.js';
import { metricsQuerySchema, parseMetricsRequest } from '../analytics/params.js';
import { metricsTable } from '../analytics/table.js';
import { createApiKey, listApiKeys, revokeApiKey } from '../auth/api-keys.js';
import { generatePassword } from '../auth/passwords.js';
import { createUser, deleteUser, findUser, listUsers, setPassword } from '../auth/users.js';
import { RECOVERY_DIMENSIONS, recoveryQuerySchema, recoveryReport } from '../closed-loop/case-work.js';
import { type Database, openDatabase, resolveDatabaseTarget } from '../db/index.js';
import { analyzeRecords } from '../db/maintenance.js';
import { loadDemo } from '../demo/load.js';
import {
  API_KEY_ROLES,
  type ApiKeyRole,
  RECORD_TYPES,
  type RecordType,
  USER_ROLES,
  type UserRole,
} from '../domain/vocabulary.js';
import { isAppError } from '../errors.js';
import { importFile } from '../ingest/import-file.js';
import { serve } from '../server/serve.js';
import {
  RESPONSE_RATE_DIMENSIONS,
  responseRateQuerySchema,
  responseRates,
} from '../surveys/response-rates.js';
import { VERSION } from '../version.js';
import { bootstrapFromEnvironment, firstStartLines } from '../workspace/bootstrap.js';
import { createWorkspace, DEFAULT_WORKSPACE, getWorkspace, listWorkspaces } from '../workspace/workspaces.js';
import { progressReporter } from './progress.js';
import { formatReport, formatTable, recoveryTable, responseRateTable } from './report.js';

const integer = (name: string, min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
  return n;
};

const dataOption = () =>
  new Option('--data <dir>', 'embedded database directory (ignored when DATABASE_URL is set)').default(
    './data',
  );
const workspaceOption = () => new Option('--workspace <name>', 'workspace').default(DEFAULT_WORKSPACE);

/** Opens the selected database for one command, prepared as `serve` would, and closes it after. */
/** The first line of standard input (a password piped in), without its line break. */
const readStdinLine = async (): Promise<string> => {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.split(/\r?\n/)[0] ?? '';
};

const withDatabase = async <T>(
  dataDir: string,
  command: string,
  run: (database: Database) => Promise<T>,
): Promise<T> => {
  const database = await openDatabase(resolveDatabaseTarget(dataDir), { command });
  try {
    // On stderr: a command's own output (a key, JSON, CSV) stays alone on stdout.
    for (const line of firstStartLines(await bootstrapFromEnvironment(database.db))) console.error(line);
    return await run(database);
  } finally {
    await database.close();
  }
};

const formatSummary = (s: {
  created: number;
  updated: number;
  unchanged: number;
  customersCreated: number;
}) =>
  `${s.created.toLocaleString('en')} created, ${s.updated.toLocaleString('en')} updated, ` +
  `${s.unchanged.toLocaleString('en')} unchanged` +
  (s.customersCreated > 0
    ? `; ${s.customersCreated.toLocaleString('en')} customers created from references`
    : '');

export const buildCli = (): Command => {
  const program = new Command('touchpoint')
    .description('Touchpoint: customer experience management. Measure every encounter, act on the bad ones.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('serve')
    .description('start the API (embedded database in --data, or DATABASE_URL)')
    .option(
      '--port <port>',
      'port (default: $PORT or 3000)',
      integer('--port', 0, 65535),
      Number(process.env.PORT) || 3000,
    )
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .addOption(dataOption())
    .option('--demo', 'load the demo data set into workspace "default" on first start')
    .action(async (options: { port: number; host: string; data: string; demo?: boolean }) => {
      const server = await serve({
        port: options.port,
        host: options.host,
        dataDir: options.data,
        demo: options.demo,
      });
      const stop = () => {
        server.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('import')
    .description('import a CSV (with header row) or NDJSON file of records, upserted by externalId')
    .argument('<file>', 'the file to import')
    .addOption(new Option('--type <type>', 'what the file holds').choices(RECORD_TYPES).makeOptionMandatory())
    .option(
      '--map <mapping>',
      'source column → field, e.g. "Customer ID=customerId,Inflight wifi service=answers.wifi" (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(
      new Option('--format <format>', 'file format (default: from the file name)').choices(['csv', 'ndjson']),
    )
    .option('--batch-size <n>', 'records per transaction', integer('--batch-size', 1, 10_000), 5000)
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(
      async (
        file: string,
        options: {
          type: RecordType;
          map: string[];
          format?: 'csv' | 'ndjson';
          batchSize: number;
          data: string;
          workspace: string;
        },
      ) => {
        await withDatabase(options.data, 'import', async ({ db, kind }) => {
          const workspace = await getWorkspace(db, options.workspace);
          const reporter = progressReporter(`Importing ${options.type}`);
          let summary: Awaited<ReturnType<typeof importFile>>;
          try {
            summary = await importFile(db, workspace.id, {
              file,
              type: options.type,
              map: options.map,
              format: options.format,
              batchSize: options.batchSize,
              // A server takes two batches at once (one per core here); the embedded database one.
              concurrency: kind === 'server' ? 2 : 1,
              onProgress: (progress) => reporter.update(progress),
              onIgnoredColumns: (columns) => {
                if (columns.length > 0) {
                  console.error(
                    `Ignoring columns that match no ${options.type} field: ${columns.join(', ')} ` +
                      `(map them with --map "Column=field", e.g. --map "${columns[0]}=attributes.${columns[0]?.replace(/\W+/g, '_').toLowerCase()}")`,
                  );
                }
              },
            });
          } finally {
            reporter.stop();
          }
          await analyzeRecords(db);
          const seconds = summary.elapsedMs / 1000;
          console.log(
            `Imported ${summary.rows.toLocaleString('en')} rows of ${options.type} from ${file} in ${seconds.toFixed(1)}s ` +
              `(${Math.round(summary.rows / Math.max(seconds, 0.001)).toLocaleString('en')} rows/s): ${formatSummary(summary)}.`,
          );
          if (summary.rejectsFile) {
            console.log(
              `${summary.rejected.toLocaleString('en')} rows rejected; see ${summary.rejectsFile} for each row and its reasons.`,
            );
            process.exitCode = 2;
          } else {
            console.log('No rows rejected.');
          }
        });
      },
    );

  program
    .command('demo')
    .description(
      'load the demo data set (a year of customers, contacts, feedback and events with planted effects)',
    )
    .addOption(dataOption())
    .addOption(workspaceOption())
    .option('--customers <n>', 'number of customers', integer('--customers', 10, 1_000_000), 3000)
    .option('--seed <n>', 'random seed', integer('--seed', 0, 2 ** 31), 20261122)
    .action(async (options: { data: string; workspace: string; customers: number; seed: number }) => {
      await withDatabase(options.data, 'demo', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        await loadDemo(db, workspace.id, {
          customers: options.customers,
          seed: options.seed,
          closedLoop: true,
          print: (line) => console.log(line),
        });
        await analyzeRecords(db);
        console.log(
          `Demo data loaded into workspace "${workspace.slug}". See docs/demo-data.md for its planted effects.`,
        );
      });
    });

  program
    .command('report')
    .description(
      'print experience metrics by any dimensions, with margins and significance (as GET /api/v1/metrics)',
    )
    .addOption(dataOption())
    .addOption(workspaceOption())
    .option('--measures <list>', 'comma-separated measures, e.g. nps,csat,ces,bottomBoxShare,contacts', 'nps')
    .option('--by <list>', 'comma-separated dimensions, e.g. lifecycleStage,personalityType,touchpoint,month')
    .option('--from <date>', 'encounters at or after this date or date-time')
    .option('--to <date>', 'encounters before this date-time; a date includes that whole day')
    .option(
      '--filter <dimension:values>',
      'keep only these values, e.g. channel:phone|chat (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addOption(
      new Option('--compare <against>', 'test each cell against').choices(['rest', 'previousPeriod']),
    )
    .option('--min-n <n>', 'cells with fewer answers are flagged as low samples', '30')
    .option('--repeat-window-days <days>', 'a contact is a repeat within this many days', '7')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'),
    )
    .option(
      '--response-rates',
      `survey response rates instead (invited, delivered, opened, started, completed, suppressed); --by ${RESPONSE_RATE_DIMENSIONS.join(',')}`,
    )
    .option('--survey <id>', 'with --response-rates: one survey only')
    .option(
      '--recovery',
      `recovery of closed cases instead (recovered, not recovered, unknown, pending, rate); --by one of ${RECOVERY_DIMENSIONS.join(',')}`,
    )
    .action(
      async (options: {
        data: string;
        workspace: string;
        responseRates?: boolean;
        recovery?: boolean;
        survey?: string;
        measures: string;
        by?: string;
        from?: string;
        to?: string;
        filter?: string[];
        compare?: 'rest' | 'previousPeriod';
        minN: string;
        repeatWindowDays: string;
        format: 'table' | 'csv' | 'json';
      }) => {
        if (options.recovery) {
          const query = recoveryQuerySchema.safeParse({ by: options.by, from: options.from, to: options.to });
          if (!query.success) {
            const problems = query.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
            throw new InvalidArgumentError(problems.join('; '));
          }
          await withDatabase(options.data, 'report', async ({ db }) => {
            const workspace = await getWorkspace(db, options.workspace);
            const result = await recoveryReport(db, workspace.id, query.data);
            if (options.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            else {
              const { header, rows } = recoveryTable(result);
              process.stdout.write(
                options.format === 'csv' ? stringify([header, ...rows]) : formatTable(header, rows, 1),
              );
            }
          });
          return;
        }
        if (options.responseRates) {
          const query = responseRateQuerySchema.safeParse({
            by: options.by,
            surveyId: options.survey,
            from: options.from,
            to: options.to,
          });
          if (!query.success) {
            const problems = query.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
            throw new InvalidArgumentError(problems.join('; '));
          }
          await withDatabase(options.data, 'report', async ({ db }) => {
            const workspace = await getWorkspace(db, options.workspace);
            const result = await responseRates(db, workspace.id, query.data);
            if (options.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
            else {
              const { header, rows } = responseRateTable(result);
              process.stdout.write(
                options.format === 'csv'
                  ? stringify([header, ...rows])
                  : formatTable(header, rows, result.by.length),
              );
            }
          });
          return;
        }
        const query = metricsQuerySchema.safeParse({
          measures: options.measures,
          by: options.by,
          from: options.from,
          to: options.to,
          filter: options.filter,
          compare: options.compare,
          minN: options.minN,
          repeatWindowDays: options.repeatWindowDays,
        });
        if (!query.success) {
          const problems = query.error.issues.map((issue) => `--${issue.path.join('.')}: ${issue.message}`);
          throw new InvalidArgumentError(problems.join('; '));
        }
        const request = parseMetricsRequest(query.data);
        await withDatabase(options.data, 'report', async ({ db }) => {
          const workspace = await getWorkspace(db, options.workspace);
          const result = await computeMetrics(db, workspace.id, request);
          if (options.format === 'json') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
          else if (options.format === 'csv') {
            const { header, rows } = metricsTable(result);
            process.stdout.write(
              stringify([header, ...rows], { cast: { boolean: (value) => String(value) } }),
            );
          } else process.stdout.write(formatReport(result));
        });
      },
    );

  const keys = program.command('keys').description('API keys of a workspace');
  keys
    .command('create')
    .description('create an API key and print it (it is shown only once)')
    .addOption(
      new Option('--role <role>', 'admin: everything; write: ingest; read: read')
        .choices(API_KEY_ROLES)
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'what the key is for')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (options: { role: ApiKeyRole; name?: string; data: string; workspace: string }) => {
      await withDatabase(options.data, 'keys create', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        const { key, info } = await createApiKey(
          db,
          workspace.id,
          options.role,
          options.name ?? `${options.role} key`,
        );
        console.error(
          `Created ${info.role} key ${info.id} ("${info.name}") for workspace "${workspace.slug}". It is shown only now:`,
        );
        console.log(key);
      });
    });
  keys
    .command('list')
    .description('list the API keys (never the keys themselves)')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (options: { data: string; workspace: string }) => {
      await withDatabase(options.data, 'keys list', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        for (const key of await listApiKeys(db, workspace.id)) {
          console.log(
            `${key.id}\t${key.role}\t${key.prefix}…\t${key.name}\tcreated ${key.createdAt.toISOString()}` +
              (key.revokedAt ? `\trevoked ${key.revokedAt.toISOString()}` : ''),
          );
        }
      });
    });
  keys
    .command('revoke')
    .description('revoke an API key by its id (see keys list)')
    .argument('<id>', 'key id', integer('id', 1, Number.MAX_SAFE_INTEGER))
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (id: number, options: { data: string; workspace: string }) => {
      await withDatabase(options.data, 'keys revoke', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        const key = await revokeApiKey(db, workspace.id, id);
        console.log(`Revoked key ${key.id} ("${key.name}").`);
      });
    });

  const users = program.command('users').description('people who sign in to the dashboard');
  users
    .command('create')
    .description('add a user; prints a generated password once unless --password-stdin')
    .requiredOption('--email <email>', 'their e-mail address (also how cases are assigned to them)')
    .addOption(
      new Option(
        '--role <role>',
        'admin: everything; analyst: reads everything; manager: works their teams’ cases; agent: own cases',
      )
        .choices(USER_ROLES)
        .makeOptionMandatory(),
    )
    .option('--name <name>', 'their name')
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(
      async (options: {
        email: string;
        role: UserRole;
        name?: string;
        passwordStdin?: boolean;
        data: string;
        workspace: string;
      }) => {
        const password = options.passwordStdin ? await readStdinLine() : undefined;
        await withDatabase(options.data, 'users create', async ({ db }) => {
          const workspace = await getWorkspace(db, options.workspace);
          const created = await createUser(db, workspace.id, {
            email: options.email,
            role: options.role,
            name: options.name ?? null,
            ...(password !== undefined ? { password } : {}),
          });
          console.error(
            `Created ${created.user.role} ${created.user.email} in workspace "${workspace.slug}".`,
          );
          if (created.password) {
            console.error('Their password (shown only now; they can change it after signing in):');
            console.log(created.password);
          }
        });
      },
    );
  users
    .command('list')
    .description('list the users of a workspace')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (options: { data: string; workspace: string }) => {
      await withDatabase(options.data, 'users list', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        for (const user of await listUsers(db, workspace.id)) {
          console.log(
            `${user.id}\t${user.role}\t${user.email}\t${user.name ?? ''}\t` +
              `last login ${user.lastLoginAt?.toISOString() ?? 'never'}`,
          );
        }
      });
    });
  users
    .command('reset-password')
    .description('give a user a new password (printed once, or --password-stdin); ends their sessions')
    .requiredOption('--email <email>', 'the user')
    .option('--password-stdin', 'read the password from standard input instead of generating one')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (options: { email: string; passwordStdin?: boolean; data: string; workspace: string }) => {
      const given = options.passwordStdin ? await readStdinLine() : undefined;
      await withDatabase(options.data, 'users reset-password', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        const user = await findUser(db, workspace.id, { email: options.email });
        const password = given ?? generatePassword();
        await setPassword(db, user.id, password);
        console.error(`New password set for ${user.email}; their sessions have ended.`);
        if (given === undefined) console.log(password);
      });
    });
  users
    .command('remove')
    .description('remove a user (not the last admin)')
    .requiredOption('--email <email>', 'the user')
    .addOption(dataOption())
    .addOption(workspaceOption())
    .action(async (options: { email: string; data: string; workspace: string }) => {
      await withDatabase(options.data, 'users remove', async ({ db }) => {
        const workspace = await getWorkspace(db, options.workspace);
        const user = await findUser(db, workspace.id, { email: options.email });
        await deleteUser(db, workspace.id, user.id);
        console.log(`Removed ${user.email}.`);
      });
    });

  const workspaces = program
    .command('workspaces')
    .description('workspaces (tenants); each has its own data and keys');
  workspaces
    .command('create')
    .description('create a workspace and print its first admin API key')
    .argument('<name>', 'lowercase letters, digits and dashes')
    .addOption(dataOption())
    .action(async (name: string, options: { data: string }) => {
      await withDatabase(options.data, 'workspaces create', async ({ db }) => {
        const workspace = await createWorkspace(db, name);
        const { key } = await createApiKey(db, workspace.id, 'admin', 'first admin key');
        console.error(`Created workspace "${workspace.slug}" and its admin API key (shown only now):`);
        console.log(key);
      });
    });
  workspaces
    .command('list')
    .description('list the workspaces')
    .addOption(dataOption())
    .action(async (options: { data: string }) => {
      await withDatabase(options.data, 'workspaces list', async ({ db }) => {
        for (const workspace of await listWorkspaces(db)) console.log(`${workspace.slug}\t${workspace.name}`);
      });
    });

  return program;
};

/** Runs the command line; errors are printed with what to do next, never as a stack trace for bad input. */
export const runCli = async (argv: string[]): Promise<void> => {
  try {
    await buildCli().parseAsync(argv);
  } catch (error) {
    if (isAppError(error)) {
      console.error(`Error: ${error.message}`);
      for (const detail of error.details) console.error(`  ${detail.path}: ${detail.message}`);
    } else {
      console.error(error);
    }
    process.exitCode = 1;
  }
};
