/**
 * Metrics benchmarks (issue: experience analytics). Run with `npm run bench:metrics`; options:
 *   --db pglite,postgres   --rows 10000000   --runs 7
 * Loads N feedback records into a fresh database (SQL generate_series, through the same triggers
 * that keep the pre-aggregates), then times the two target queries from the pre-aggregates and from
 * the raw table, checks that both give identical results, and times the reference query.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { sql } from 'kysely';
import { computeMetrics } from '../src/analytics/metrics.js';
import { metricsQuerySchema, parseMetricsRequest } from '../src/analytics/params.js';
import { type Database, openDatabase } from '../src/db/index.js';
import { createWorkspace } from '../src/workspace/workspaces.js';
import { loadFeedbackBySql } from './data.js';
import {
  BENCH_DIR,
  fmt,
  freshEmbeddedDir,
  freshServerDatabase,
  machine,
  median,
  startPostgres,
} from './lib.js';

const { values: args } = parseArgs({
  options: {
    db: { type: 'string', default: 'pglite,postgres' },
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '7' },
  },
});
const kinds = (args.db as string).split(',') as ('pglite' | 'postgres')[];
const rows = Number(args.rows);
const runs = Number(args.runs);
const lines: string[] = [];
const results: Record<string, unknown> = { machine: machine(), rows };
const log = (line: string) => {
  console.log(line);
  lines.push(line);
};

const time = async <T>(run: () => Promise<T>): Promise<[number, T]> => {
  const started = performance.now();
  const value = await run();
  return [performance.now() - started, value];
};

const QUERIES = {
  cube: {
    label: 'NPS + CSAT + CES by lifecycle × personality × touchpoint, one year',
    query: {
      measures: 'nps,csat,ces',
      by: 'lifecycleStage,personalityType,touchpoint',
      from: '2025-01-01',
      to: '2025-12-31',
    },
  },
  series: {
    label: 'NPS + CSAT + CES, 365-day series',
    query: { measures: 'nps,csat,ces', by: 'day', from: '2025-01-01', to: '2025-12-31' },
  },
} as const;

const measure = async (kind: 'pglite' | 'postgres', database: Database) => {
  const { db } = database;
  const workspace = await createWorkspace(db, 'bench');
  const [loadMs] = await time(() => loadFeedbackBySql(db, workspace.id, rows));
  log(
    `  ${kind}: loaded ${fmt(rows)} feedback records with their pre-aggregates in ${fmt(loadMs / 1000, 1)} s`,
  );
  const rollupRows = Number(
    (await sql<{ n: number }>`SELECT count(*) AS n FROM feedback_rollup`.execute(db)).rows[0]?.n,
  );

  const reference: number[] = [];
  for (let r = 0; r < 3; r++) {
    const [ms] = await time(() =>
      sql`SELECT channel, touchpoint, 100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(nps)
          FROM feedback WHERE workspace_id = ${workspace.id} GROUP BY channel, touchpoint`.execute(db),
    );
    reference.push(ms);
  }
  log(
    `  ${kind}: reference GROUP BY channel, touchpoint NPS over the raw table: median ${fmt(median(reference))} ms`,
  );

  const rowsOut: string[] = [];
  for (const [name, { label, query }] of Object.entries(QUERIES)) {
    const request = parseMetricsRequest(metricsQuerySchema.parse(query));
    const fast: number[] = [];
    let fastResult: unknown;
    await computeMetrics(db, workspace.id, request); // warm-up
    for (let r = 0; r < runs; r++) {
      const [ms, result] = await time(() => computeMetrics(db, workspace.id, request));
      fast.push(ms);
      fastResult = result;
    }
    const raw: number[] = [];
    let rawResult: unknown;
    for (let r = 0; r < 3; r++) {
      const [ms, result] = await time(() => computeMetrics(db, workspace.id, request, { rollup: false }));
      raw.push(ms);
      rawResult = result;
    }
    const identical = isDeepStrictEqual(fastResult, rawResult);
    const p50 = median(fast);
    const rawP50 = median(raw);
    log(
      `  ${kind} ${name}: pre-aggregates p50 ${fmt(p50)} ms (${fast.map((ms) => fmt(ms)).join(', ')}); raw p50 ${fmt(rawP50)} ms; identical: ${identical}`,
    );
    results[`${kind}.${name}`] = { fast, raw, identical, rollupRows };
    rowsOut.push(
      `| ${label} | ${kind} | p50 ${fmt(p50)} ms | raw table ${fmt(rawP50)} ms | ${fmt(rawP50 / p50, 1)}× | ${identical ? 'identical' : 'DIFFERENT'} |`,
    );
  }
  rowsOut.push(
    `| Reference: plain GROUP BY channel, touchpoint NPS over the raw table (the issue's reference query) | ${kind} | ${fmt(median(reference))} ms | | | |`,
  );
  return { rowsOut, rollupRows, loadMs };
};

const table: string[] = [];
log(
  `Machine: ${machine().cpu}, Node ${process.version}; ${fmt(rows)} feedback records; median of ${runs} runs (raw: 3).`,
);
for (const kind of kinds) {
  if (kind === 'postgres') {
    const server = startPostgres();
    try {
      const url = await freshServerDatabase(server.url, 'bench_metrics');
      const database = await openDatabase({ kind: 'server', url }, { command: 'bench' });
      try {
        const { rowsOut, rollupRows } = await measure(kind, database);
        table.push(...rowsOut);
        log(`  postgres: ${fmt(rollupRows)} pre-aggregate rows`);
      } finally {
        await database.close();
      }
    } finally {
      server.stop();
    }
  } else {
    const dir = await freshEmbeddedDir();
    const database = await openDatabase({ kind: 'embedded', dataDir: dir }, { command: 'bench' });
    try {
      const { rowsOut, rollupRows } = await measure(kind, database);
      table.push(...rowsOut);
      log(`  pglite: ${fmt(rollupRows)} pre-aggregate rows`);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
log('');
log('| query | database | pre-aggregates | raw (same run) | speed-up | results |');
log('|---|---|---|---|---|---|');
for (const line of table) log(line);
writeFileSync(join(BENCH_DIR, `metrics-${Date.now()}.json`), JSON.stringify({ results, lines }, null, 2));
