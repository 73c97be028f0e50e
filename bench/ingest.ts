/**
 * Ingestion benchmarks (issue: core platform). Run with `npm run bench:ingest`; options:
 *   --db pglite,postgres   --only start,http,http-new,import,single,floor   --runs 3   --http-records 200000
 *   --csv-rows 1000000   --rollups on|off (off: without the pre-aggregate triggers, to measure their cost)
 * Prints a Markdown table for docs/benchmarks.md and writes the raw figures to .tmp/bench/.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type Agent, request } from 'undici';
import { openDatabase } from '../src/db/index.js';
import { packageRoot } from '../src/paths.js';
import { createWorkspace } from '../src/workspace/workspaces.js';
import {
  COPY_REFERENCE_TABLE,
  CSV_HEADER,
  CUSTOMERS,
  ensureCsv,
  feedbackCsvLine,
  feedbackRecord,
} from './data.js';
import {
  ADMIN_KEY,
  BENCH_DIR,
  cleanupTemplate,
  fmt,
  freshEmbeddedDir,
  freshServerDatabase,
  machine,
  median,
  postgresVersion,
  rssMb,
  startPostgres,
  startServer,
} from './lib.js';
import { openLoop, percentile } from './open-loop.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite,postgres' },
    only: { type: 'string', default: 'start,http,http-new,import,single,floor' },
    runs: { type: 'string', default: '3' },
    'http-records': { type: 'string', default: '200000' },
    'csv-rows': { type: 'string', default: '1000000' },
    // off: the pre-aggregate triggers disabled, to measure what they cost.
    rollups: { type: 'string', default: 'on' },
  },
});
const kinds = (args.db as string).split(',') as ('pglite' | 'postgres')[];
const only = new Set((args.only as string).split(','));
const runs = Number(args.runs);
const httpRecords = Number(args['http-records']);
const csvRows = Number(args['csv-rows']);
const results: Record<string, unknown> = { machine: machine() };
const lines: string[] = [];
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};

/** Where one measurement's data lives: a fresh embedded directory or a fresh server database. */
interface Target {
  env: Record<string, string>;
  data: string[];
  /** COPY of CSV text into a plain reference table of the same database, in rows/s. */
  copyReference(csv: string | { file: string }, rows: number): Promise<number>;
  cleanup(): void;
}

let serverUrl = '';
let stopPostgres = () => {};
const ROLLUP_TRIGGERS = ['feedback_rollup_insert', 'feedback_rollup_update', 'feedback_rollup_delete'];
const rollupsOff = args.rollups === 'off';
const disableRollups = async (database: Awaited<ReturnType<typeof openDatabase>>) => {
  for (const trigger of ROLLUP_TRIGGERS) {
    await sql.raw(`ALTER TABLE feedback DISABLE TRIGGER ${trigger}`).execute(database.db);
  }
};

const target = async (kind: 'pglite' | 'postgres', label: string): Promise<Target> => {
  if (kind === 'postgres') {
    const url = await freshServerDatabase(serverUrl, `bench_${label}`);
    if (rollupsOff) {
      const database = await openDatabase({ kind: 'server', url }, { command: 'bench' });
      await disableRollups(database);
      await database.close();
    }
    return {
      env: { DATABASE_URL: url },
      data: [],
      async copyReference(csv, rows) {
        const client = new pg.Client(url);
        await client.connect();
        await client.query('DROP TABLE IF EXISTS copy_reference');
        await client.query(COPY_REFERENCE_TABLE);
        const started = performance.now();
        const stream = client.query(
          copyFrom('COPY copy_reference FROM STDIN WITH (FORMAT csv, HEADER true)'),
        );
        await pipeline(
          typeof csv === 'string' ? [csv] : createReadStream(csv.file, { highWaterMark: 1 << 20 }),
          stream,
        );
        const seconds = (performance.now() - started) / 1000;
        await client.end();
        return rows / seconds;
      },
      cleanup() {},
    };
  }
  const dir = await freshEmbeddedDir();
  if (rollupsOff) {
    const database = await openDatabase({ kind: 'embedded', dataDir: dir }, { command: 'bench' });
    await disableRollups(database);
    await database.close();
  }
  return {
    env: {},
    data: ['--data', dir],
    async copyReference(csv, rows) {
      // The server has stopped: the reference runs in this process on the same database files.
      const db = new PGlite(join(dir, 'pg'));
      await db.waitReady;
      await db.exec(`DROP TABLE IF EXISTS copy_reference; ${COPY_REFERENCE_TABLE}`);
      const blob = new Blob([typeof csv === 'string' ? csv : readFileSync(csv.file)]);
      const started = performance.now();
      await db.query("COPY copy_reference FROM '/dev/blob' WITH (FORMAT csv, HEADER true)", [], { blob });
      const seconds = (performance.now() - started) / 1000;
      await db.close();
      return rows / seconds;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
};

const post = async (url: string, body: string) => {
  const response = await fetch(`${url}/api/v1/feedback`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body,
  });
  if (response.status !== 200) throw new Error(`POST failed: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
};

/** The customers the feedback refers to, loaded before the clock starts (as a CRM sync would). */
const loadCustomers = async (url: string) => {
  for (let i = 0; i < CUSTOMERS; i += 5000) {
    const batch = Array.from({ length: Math.min(5000, CUSTOMERS - i) }, (_, k) => ({
      externalId: `C-${i + k}`,
      segment: ['consumer', 'small_business', 'enterprise'][(i + k) % 3],
      lifecycleStage: 'current',
    }));
    const response = await fetch(`${url}/api/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(batch),
    });
    if (response.status !== 200) throw new Error(`customers: ${response.status}`);
  }
};

/**
 * Batches of 1,000 feedback records over HTTP, 4 requests in flight. With `knownCustomers` the
 * 50,000 customers exist beforehand; without, the first record of each customer also creates it.
 */
const benchHttp = async (kind: 'pglite' | 'postgres', knownCustomers: boolean) => {
  const bodies: string[] = [];
  for (let i = 0; i < httpRecords; i += 1000) {
    bodies.push(
      JSON.stringify(
        Array.from({ length: Math.min(1000, httpRecords - i) }, (_, k) => feedbackRecord(i + k)),
      ),
    );
  }
  const csv = `${CSV_HEADER}\n${Array.from({ length: httpRecords }, (_, i) => feedbackCsvLine(i)).join('\n')}\n`;
  const rates: number[] = [];
  const references: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t = await target(kind, `http_${run}`);
    const server = await startServer(t.env, t.data);
    if (knownCustomers) await loadCustomers(server.url);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < bodies.length) await post(server.url, bodies[next++] as string);
      }),
    );
    rates.push(httpRecords / ((performance.now() - started) / 1000));
    await server.stop();
    references.push(await t.copyReference(csv, httpRecords));
    t.cleanup();
    console.error(
      `  http ${kind} run ${run + 1}: ${fmt(rates.at(-1) as number)} records/s (COPY ${fmt(references.at(-1) as number)} rows/s)`,
    );
  }
  const rate = median(rates);
  const reference = median(references);
  results[`http_${kind}_${knownCustomers ? 'known' : 'new'}_customers`] = { rates, references };
  log(
    `| HTTP batch ingestion (1,000 feedback/request, 4 in flight, ${fmt(httpRecords)} records; ${knownCustomers ? 'customers known' : `creating ${fmt(CUSTOMERS)} customers on the way`}) | ${kind} | ${fmt(rate)} records/s | raw COPY ${fmt(reference)} rows/s | ${fmt((100 * rate) / reference, 1)}% |`,
  );
};

/** `touchpoint import` of a 1,000,000-row CSV, with peak RSS, against raw COPY of the same file. */
const benchImport = async (kind: 'pglite' | 'postgres') => {
  const file = await ensureCsv(join(BENCH_DIR, `feedback-${csvRows}.csv`), csvRows);
  const rates: number[] = [];
  const references: number[] = [];
  const peaks: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t = await target(kind, `import_${run}`);
    const started = performance.now();
    const result = spawnSync(
      '/usr/bin/time',
      [
        '-f',
        'PEAK_KB=%M',
        process.execPath,
        join(packageRoot, 'bin', 'touchpoint.js'),
        'import',
        file,
        '--type',
        'feedback',
        ...t.data,
      ],
      { env: { ...process.env, ...t.env }, encoding: 'utf8' },
    );
    const seconds = (performance.now() - started) / 1000;
    if (result.status !== 0) throw new Error(`import failed: ${result.stdout}\n${result.stderr}`);
    rates.push(csvRows / seconds);
    peaks.push(Number(/PEAK_KB=(\d+)/.exec(result.stderr)?.[1] ?? 0) / 1024);
    references.push(await t.copyReference({ file }, csvRows));
    t.cleanup();
    console.error(
      `  import ${kind} run ${run + 1}: ${fmt(rates.at(-1) as number)} rows/s, peak ${fmt(peaks.at(-1) as number)} MB (COPY ${fmt(references.at(-1) as number)} rows/s)`,
    );
  }
  results[`import_${kind}`] = { rates, references, peaks };
  const rate = median(rates);
  const reference = median(references);
  log(
    `| CLI import of a ${fmt(csvRows)}-row CSV (peak RSS ${fmt(Math.max(...peaks))} MB) | ${kind} | ${fmt(rate)} rows/s | raw COPY ${fmt(reference)} rows/s | ${fmt((100 * rate) / reference, 1)}% |`,
  );
};

/**
 * Single-record POSTs at 500 requests/s, evenly spaced and open-loop (each latency counted from the
 * request's scheduled time): 5 s of warm-up, then 20 s measured.
 */
const benchSingle = async (kind: 'pglite' | 'postgres') => {
  const p99s: number[] = [];
  const p50s: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t = await target(kind, `single_${run}`);
    const server = await startServer(t.env, t.data);
    const send = async (i: number, dispatcher: Agent) => {
      const response = await request(`${server.url}/api/v1/feedback`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(feedbackRecord(i, `S${run}`)),
      });
      await response.body.dump();
      return response.statusCode;
    };
    await openLoop(500, 5, (i, dispatcher) => send(i + 1_000_000, dispatcher));
    const result = await openLoop(500, 20, send);
    await server.stop();
    t.cleanup();
    if (result.errors > 0) throw new Error(`single POST: ${result.errors} errors`);
    p99s.push(percentile(result.latencies, 99));
    p50s.push(percentile(result.latencies, 50));
    console.error(
      `  single ${kind} run ${run + 1}: p50 ${fmt(p50s.at(-1) as number, 1)} ms, p90 ${fmt(percentile(result.latencies, 90), 1)} ms, p99 ${fmt(p99s.at(-1) as number, 1)} ms, max ${fmt(percentile(result.latencies, 100), 1)} ms`,
    );
  }
  results[`single_${kind}`] = { p50s, p99s };
  log(
    `| Single-record POST at 500 requests/s, open loop (20 s after 5 s warm-up) | ${kind} | p99 ${fmt(median(p99s), 1)} ms | p50 ${fmt(median(p50s), 1)} ms | |`,
  );
};

/**
 * The floor: COPY of the same rows straight into Touchpoint's feedback table (its indexes, customer
 * ids already resolved, nothing validated) — the database's own cost of storing them, which no
 * importer can beat.
 */
const benchFloor = async (kind: 'pglite' | 'postgres') => {
  const rates: number[] = [];
  const references: number[] = [];
  const rowsCount = csvRows;
  for (let run = 0; run < runs; run++) {
    const t = await target(kind, `floor_${run}`);
    const database = await openDatabase(
      kind === 'postgres'
        ? { kind: 'server', url: t.env.DATABASE_URL as string }
        : { kind: 'embedded', dataDir: t.data[1] as string },
      { command: 'bench' },
    );
    const ws = await createWorkspace(database.db, 'floor');
    await sql`INSERT INTO customer (workspace_id, external_id) SELECT ${ws.id}, 'C-' || g FROM generate_series(0, ${CUSTOMERS - 1}) g`.execute(
      database.db,
    );
    const ids = new Map(
      (
        await database.db
          .selectFrom('customer')
          .select(['id', 'external_id'])
          .where('workspace_id', '=', ws.id)
          .execute()
      ).map((c) => [c.external_id, c.id]),
    );
    await database.close();
    let text = '';
    for (let i = 0; i < rowsCount; i++) {
      const r = feedbackRecord(i);
      text += `${ws.id}\t${r.externalId}\t${ids.get(r.customerId)}\tsurvey\t${r.channel}\t${r.touchpoint}\t${r.occurredAt}\t${r.nps}\t${r.csat}\t${r.ces}\t${JSON.stringify(r.answers)}\t${r.text ?? '\\N'}\t3\n`;
    }
    const columns =
      '(workspace_id, external_id, customer_id, source, channel, touchpoint, occurred_at, nps, csat, ces, answers, text, experience_rating)';
    let seconds: number;
    if (kind === 'postgres') {
      const client = new pg.Client(t.env.DATABASE_URL);
      await client.connect();
      const started = performance.now();
      await pipeline([text], client.query(copyFrom(`COPY feedback ${columns} FROM STDIN`)));
      seconds = (performance.now() - started) / 1000;
      await client.end();
    } else {
      const db = new PGlite(join(t.data[1] as string, 'pg'));
      await db.waitReady;
      const started = performance.now();
      await db.query(`COPY feedback ${columns} FROM '/dev/blob'`, [], { blob: new Blob([text]) });
      seconds = (performance.now() - started) / 1000;
      await db.close();
    }
    rates.push(rowsCount / seconds);
    const csv = `${CSV_HEADER}\n${Array.from({ length: rowsCount }, (_, i) => feedbackCsvLine(i)).join('\n')}\n`;
    references.push(await t.copyReference(csv, rowsCount));
    t.cleanup();
    console.error(
      `  floor ${kind} run ${run + 1}: ${fmt(rates.at(-1) as number)} rows/s (reference ${fmt(references.at(-1) as number)} rows/s)`,
    );
  }
  results[`floor_${kind}`] = { rates, references };
  const rate = median(rates);
  const reference = median(references);
  log(
    `| Floor: raw COPY of the same ${fmt(rowsCount)} rows straight into the feedback table (its indexes, ids resolved) | ${kind} | ${fmt(rate)} rows/s | raw COPY ${fmt(reference)} rows/s | ${fmt((100 * rate) / reference, 1)}% |`,
  );
};

/** `npm start` to ready on an existing embedded database, and idle RSS. */
const benchStart = async () => {
  const t = await target('pglite', 'start');
  const first = await startServer(t.env, t.data);
  await first.stop();
  const times: number[] = [];
  const rss: number[] = [];
  for (let run = 0; run < Math.max(runs, 5); run++) {
    const server = await startServer(t.env, t.data);
    times.push(server.readyMs);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    rss.push(rssMb(server.process.pid as number));
    await server.stop();
  }
  t.cleanup();
  results.start = { times, rss };
  log(
    `| Start to ready on an existing embedded database | pglite | ${fmt(median(times))} ms | idle RSS ${fmt(median(rss))} MB | |`,
  );
};

execFileSync('npm', ['run', 'build'], { cwd: packageRoot, stdio: 'ignore' });
const info = machine();
log(`Machine: ${info.cpu}, ${info.memory}, Node ${info.node}; date ${info.date}; median of ${runs} runs.`);
log('');
log('| measurement | database | result | reference (same run) | ratio |');
log('|---|---|---|---|---|');
try {
  if (kinds.includes('postgres')) {
    const postgres = startPostgres();
    serverUrl = postgres.url;
    stopPostgres = postgres.stop;
    results.postgres = await postgresVersion(serverUrl);
  }
  if (only.has('start')) await benchStart();
  for (const kind of kinds) {
    if (only.has('http')) await benchHttp(kind, true);
    if (only.has('http-new')) await benchHttp(kind, false);
    if (only.has('import')) await benchImport(kind);
    if (only.has('single')) await benchSingle(kind);
    if (only.has('floor')) await benchFloor(kind);
  }
} finally {
  stopPostgres();
  cleanupTemplate();
}
writeFileSync(
  join(BENCH_DIR, `ingest-${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
  JSON.stringify(results, null, 2),
);
writeFileSync(join(BENCH_DIR, 'ingest-latest.md'), `${lines.join('\n')}\n`);
