/**
 * Dashboard benchmarks (issue: web dashboard). Run with `npm run bench:web` (builds first); options:
 *   --rows 1000000   --runs 5
 * 1. Initial JavaScript: the scripts the login page loads (index.html's module script and its
 *    modulepreloads), gzip-compressed; every page is a chunk of its own, loaded when opened.
 * 2. Overview visible after login, on PGlite with N feedback records over the last 365 days: in
 *    Chromium, from the login's answer (and, for reference, from the click on "Sign in", which
 *    adds the password check) to the Overview page's `tp:overview-visible` performance mark (set
 *    once its tiles, trend and cube have data), each run in a fresh browser context (cold cache).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { openDatabase } from '../src/db/index.js';
import { analyzeRecords } from '../src/db/maintenance.js';
import { packageRoot } from '../src/paths.js';
import { bootstrap } from '../src/workspace/bootstrap.js';
import { getWorkspace } from '../src/workspace/workspaces.js';
import { loadFeedbackBySql } from './data.js';
import { ADMIN_KEY, BENCH_DIR, fmt, median, report, startServer } from './lib.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
  },
});
const rows = Number(args.rows);
const runs = Number(args.runs);
const PASSWORD = 'benchmark-password-1';
const EMAIL = 'admin@localhost';
const DAY_MS = 86_400_000;

/** The scripts the first page loads: index.html's module entry and the chunks it preloads. */
const initialJavaScript = () => {
  const dir = join(packageRoot, 'dist', 'web');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]+src="\/app\/([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/app\/([^"]+\.js)"/g),
  ].map((match) => match[1] as string);
  const sizes = files.map((file) => {
    const content = readFileSync(join(dir, file));
    return { file, raw: content.length, gzip: gzipSync(content, { level: 9 }).length };
  });
  return {
    files: sizes,
    raw: sizes.reduce((sum, f) => sum + f.raw, 0),
    gzip: sizes.reduce((sum, f) => sum + f.gzip, 0),
  };
};

/** An embedded database with N feedback records ending today, kept for later runs of the same day. */
const prepareData = async (): Promise<string> => {
  const today = new Date().toISOString().slice(0, 10);
  const dir = join(BENCH_DIR, `web-${rows}-${today}`);
  if (existsSync(join(dir, 'ready'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(BENCH_DIR, { recursive: true });
  const database = await openDatabase({ kind: 'embedded', dataDir: dir }, { command: 'bench:web' });
  try {
    await bootstrap(database.db, ADMIN_KEY, { email: EMAIL, password: PASSWORD });
    const workspace = await getWorkspace(database.db, 'default');
    const started = performance.now();
    await loadFeedbackBySql(database.db, workspace.id, rows, new Date(Date.now() - 365 * DAY_MS));
    await analyzeRecords(database.db);
    console.error(
      `  loaded ${fmt(rows)} feedback records in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
  } finally {
    await database.close();
  }
  writeFileSync(join(dir, 'ready'), '');
  return dir;
};

const measureOverview = async (url: string) => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const fromClick: number[] = [];
  const fromLogin: number[] = [];
  try {
    // One unmeasured run warms the server (its caches and the embedded database's pages).
    for (let run = 0; run <= runs; run++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${url}/app/login`);
      await page.getByLabel('E-mail').fill(EMAIL);
      await page.getByLabel('Password').fill(PASSWORD);
      const clickedAt = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: /sign in/i }).click();
      await page.waitForFunction(() => performance.getEntriesByName('tp:overview-visible').length > 0, null, {
        timeout: 60_000,
      });
      const { visibleAt, signedInAt } = await page.evaluate(() => ({
        visibleAt: performance.getEntriesByName('tp:overview-visible')[0]?.startTime ?? Number.NaN,
        signedInAt:
          (
            performance
              .getEntriesByType('resource')
              .find((entry) => entry.name.includes('/api/v1/auth/login')) as
              | { responseEnd: number }
              | undefined
          )?.responseEnd ?? Number.NaN,
      }));
      if (run > 0) {
        fromClick.push(visibleAt - clickedAt);
        fromLogin.push(visibleAt - signedInAt);
      }
      console.error(
        `  run ${run}${run === 0 ? ' (warm-up)' : ''}: ${fmt(visibleAt - clickedAt)} ms from the click, ` +
          `${fmt(visibleAt - signedInAt)} ms from the login's answer`,
      );
      await context.close();
    }
  } finally {
    await browser.close();
  }
  return { fromClick, fromLogin };
};

const js = initialJavaScript();
const dataDir = await prepareData();
const server = await startServer({ TOUCHPOINT_ADMIN_PASSWORD: PASSWORD }, ['--data', dataDir]);
let times: { fromClick: number[]; fromLogin: number[] };
try {
  times = await measureOverview(server.url);
} finally {
  await server.stop();
}

const out = report('web', runs);
out.log(
  `| Initial JavaScript of the dashboard (${js.files.length} files, gzip -9) | — | ${fmt(js.gzip / 1024, 1)} KB (${fmt(js.raw / 1024)} KB raw) | ≤ 250 KB gzip | ${js.gzip <= 250 * 1024 ? 'met' : 'NOT met'} |`,
);
for (const [label, values] of [
  ['from the login’s answer (the target: after login)', times.fromLogin],
  ['from the click on Sign in (with the password check)', times.fromClick],
] as const) {
  const p50 = median(values);
  out.log(
    `| Overview visible ${label}, ${fmt(rows)} feedback records, cold browser cache (min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))} ms) | pglite | p50 ${fmt(p50)} ms | ≤ 1,500 ms | ${p50 <= 1500 ? 'met' : 'NOT met'} |`,
  );
}
out.save();
