import { sql } from 'kysely';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { Db } from '../src/db/index.js';
import { demoLoadedAt } from '../src/demo/load.js';
import { getWorkspace } from '../src/workspace/workspaces.js';
import {
  api,
  keysIn,
  killChildren,
  removeTempDirs,
  runCli,
  startServer,
  templateDataDir,
  withDatabase,
} from './helpers/cli.js';

/** `touchpoint demo` and `serve --demo`, and the planted effects of src/demo/generate.ts recovered with SQL. */

afterEach(killChildren);
afterAll(removeTempDirs);

const TYPES = ['customers', 'interactions', 'feedback', 'events'] as const;

/** `Demo feedback: 1,488 (1488 created, 0 updated, 0 unchanged)` → numbers per type. */
const demoLines = (stdout: string) =>
  Object.fromEntries(
    TYPES.map((type) => {
      const match = new RegExp(
        `^Demo ${type}: ([\\d,]+) \\((\\d+) created, (\\d+) updated, (\\d+) unchanged\\)$`,
        'm',
      ).exec(stdout);
      if (!match) throw new Error(`no line for demo ${type} in:\n${stdout}`);
      const [total, created, updated, unchanged] = match.slice(1).map((n) => Number(n.replace(/,/g, '')));
      return [type, { total, created, updated, unchanged }];
    }),
  ) as Record<(typeof TYPES)[number], { total: number; created: number; updated: number; unchanged: number }>;

const count = async (
  db: Db,
  table: 'customer' | 'interaction' | 'feedback' | 'event',
  workspaceId: number,
) => {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

describe('touchpoint demo', () => {
  test('demo --customers 400 loads customers, interactions, feedback and events; a second run changes nothing', async () => {
    const data = templateDataDir();
    const first = await runCli(['demo', '--data', data, '--customers', '400']);
    expect(first.code, first.stderr).toBe(0);
    const loaded = demoLines(first.stdout);
    expect(loaded.customers).toEqual({ total: 400, created: 400, updated: 0, unchanged: 0 });
    for (const type of TYPES) {
      expect(loaded[type].total, type).toBeGreaterThan(type === 'customers' ? 0 : 400);
      expect(loaded[type].created, type).toBe(loaded[type].total);
    }
    expect(first.stdout).toContain('Demo data loaded into workspace "default"');

    const second = await runCli(['demo', '--data', data, '--customers', '400']);
    expect(second.code, second.stderr).toBe(0);
    const again = demoLines(second.stdout);
    for (const type of TYPES) {
      expect(again[type], type).toEqual({
        total: loaded[type].total,
        created: 0,
        updated: 0,
        unchanged: loaded[type].total,
      });
    }

    await withDatabase({ data }, async ({ db }) => {
      const workspace = await getWorkspace(db, 'default');
      expect(await count(db, 'customer', workspace.id)).toBe(400);
      expect(await count(db, 'interaction', workspace.id)).toBe(loaded.interactions.total);
      expect(await count(db, 'feedback', workspace.id)).toBe(loaded.feedback.total);
      expect(await count(db, 'event', workspace.id)).toBe(loaded.events.total);
      expect(await demoLoadedAt(db, workspace.id)).toMatch(/^\d{4}-\d\d-\d\dT/);
    });
  });
});

describe('serve --demo and the planted effects', () => {
  // One default-size demo (3,000 customers) loaded by `serve --demo`, then read with SQL.
  const data = templateDataDir();

  test('serve --demo on a fresh directory loads the demo; a second serve --demo says it is already loaded', async () => {
    const server = await startServer({ data, args: ['--demo'] });
    let adminKey = '';
    try {
      expect(server.stdout()).toContain('Loading the demo data set');
      const loaded = demoLines(server.stdout());
      expect(loaded.customers).toEqual({ total: 3000, created: 3000, updated: 0, unchanged: 0 });
      for (const type of TYPES) expect(loaded[type].created, type).toBe(loaded[type].total);
      adminKey = keysIn(server.stdout())[0] as string;
      expect(adminKey).toBeDefined();
      const profile = await api<{ summary: { interactions: number }; customer: { externalId: string } }>(
        server.url,
        '/api/v1/customers/demo-c-00001',
        { key: adminKey },
      );
      expect(profile.status).toBe(200);
      expect(profile.body.summary.interactions).toBeGreaterThan(0);
    } finally {
      expect(await server.stop()).toBe(0);
    }

    const again = await startServer({ data, args: ['--demo'] });
    try {
      expect(again.stdout()).toMatch(/Demo data already loaded \(\d{4}-\d\d-\d\dT[^)]*\)/);
      expect(again.stdout()).not.toContain('Loading the demo data set');
      expect(again.stdout()).not.toMatch(/^Demo customers:/m);
      expect(keysIn(again.stdout())).toEqual([]);
      expect((await api(again.url, '/api/v1/customers/demo-c-03000', { key: adminKey })).status).toBe(200);
    } finally {
      expect(await again.stop()).toBe(0);
    }
  });

  test('planted effects are recoverable with SQL', async () => {
    await withDatabase({ data }, async ({ db }) => {
      const { id } = await getWorkspace(db, 'default');
      expect(await count(db, 'customer', id)).toBe(3000);

      // 1. Average NPS falls with every transfer.
      const byTransfers = await sql<{ transfers: number; n: number; nps: number }>`
        SELECT i.transfers, count(*)::int AS n, avg(f.nps)::float8 AS nps
        FROM feedback f
        JOIN interaction i ON i.workspace_id = f.workspace_id AND i.external_id = f.interaction_external_id
        WHERE f.workspace_id = ${id} AND f.nps IS NOT NULL AND i.transfers IS NOT NULL
        GROUP BY i.transfers ORDER BY i.transfers`.execute(db);
      const rows = byTransfers.rows.map((r) => ({
        ...r,
        transfers: Number(r.transfers),
        nps: Number(r.nps),
      }));
      expect(rows.map((r) => r.transfers)).toEqual([0, 1, 2, 3]);
      for (const row of rows) expect(row.n, `transfers=${row.transfers}`).toBeGreaterThanOrEqual(30);
      for (let k = 1; k < rows.length; k++) {
        expect(rows[k]?.nps, `avg NPS at ${k} transfers vs ${k - 1}`).toBeLessThan(
          (rows[k - 1]?.nps ?? 0) - 0.5,
        );
      }

      // 2. Billing × small_business is the worst touchpoint × segment cell (NPS as defined, n ≥ 30).
      const cells = await sql<{ touchpoint: string; segment: string; n: number; nps: number }>`
        SELECT touchpoint, segment, count(*)::int AS n,
               (100.0 * (count(*) FILTER (WHERE nps >= 9) - count(*) FILTER (WHERE nps <= 6)) / count(*))::float8 AS nps
        FROM feedback
        WHERE workspace_id = ${id} AND nps IS NOT NULL AND touchpoint IS NOT NULL AND segment IS NOT NULL
        GROUP BY touchpoint, segment
        HAVING count(*) >= 30
        ORDER BY nps ASC`.execute(db);
      expect(cells.rows.length).toBeGreaterThan(10);
      const [worst, next] = cells.rows;
      expect(worst).toMatchObject({ touchpoint: 'billing', segment: 'small_business' });
      expect(Number(worst?.nps)).toBeLessThan(Number(next?.nps) - 10);

      // 3. Detractors churn more than promoters (customers grouped by their mean NPS).
      const churn = await sql<{ grp: string; customers: number; churned: number }>`
        WITH scores AS (
          SELECT customer_id, avg(nps) AS mean FROM feedback
          WHERE workspace_id = ${id} AND nps IS NOT NULL GROUP BY customer_id
        )
        SELECT CASE WHEN s.mean <= 6 THEN 'detractor' WHEN s.mean < 9 THEN 'passive' ELSE 'promoter' END AS grp,
               count(*)::int AS customers,
               count(*) FILTER (WHERE EXISTS (
                 SELECT 1 FROM event e WHERE e.workspace_id = ${id} AND e.customer_id = s.customer_id AND e.type = 'churn'
               ))::int AS churned
        FROM scores s GROUP BY 1`.execute(db);
      const rate = Object.fromEntries(
        churn.rows.map((r) => [
          r.grp,
          { n: Number(r.customers), rate: Number(r.churned) / Number(r.customers) },
        ]),
      );
      expect(rate.detractor?.n).toBeGreaterThanOrEqual(50);
      expect(rate.promoter?.n).toBeGreaterThanOrEqual(50);
      expect(rate.detractor?.rate).toBeGreaterThan(3 * (rate.promoter?.rate ?? 1));
      expect(rate.detractor?.rate).toBeGreaterThan(rate.passive?.rate ?? 1);
    });
  });
  test('touchpoint report finds the planted effects: the broken cell is the significantly worst, transfers lower NPS', async () => {
    type Report = {
      rows: {
        group: Record<string, string | null>;
        measures: Record<
          string,
          {
            value: number | null;
            n: number;
            high: number | null;
            lowSample: boolean;
            comparison?: { direction: string | null; pAdjusted: number | null };
          }
        >;
      }[];
      method: { multipleComparisons: string };
    };
    const report = async (...args: string[]) => {
      const result = await runCli(['report', '--data', data, ...args]);
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };

    // 1. touchpoint × segment compared with the rest: billing × small_business is the worst cell,
    //    significantly lower (NPS and bottom-box share), after the Benjamini–Hochberg correction.
    const cube = JSON.parse(
      await report(
        '--measures',
        'nps,bottomBoxShare',
        '--by',
        'touchpoint,segment',
        '--compare',
        'rest',
        '--format',
        'json',
      ),
    ) as Report;
    expect(cube.method.multipleComparisons).toMatch(/Benjamini–Hochberg/);
    const trusted = cube.rows.filter((row) => !row.measures.nps?.lowSample);
    expect(trusted.length).toBeGreaterThan(10);
    const byNps = [...trusted].sort((a, b) => (a.measures.nps?.value ?? 0) - (b.measures.nps?.value ?? 0));
    const [worst, next] = byNps;
    expect(worst?.group).toEqual({ touchpoint: 'billing', segment: 'small_business' });
    expect(worst?.measures.nps?.comparison?.direction).toBe('lower');
    expect(worst?.measures.nps?.comparison?.pAdjusted).toBeLessThan(0.001);
    // Not just the lowest point estimate: its whole interval lies below the next cell's value.
    expect(worst?.measures.nps?.high).toBeLessThan(next?.measures.nps?.value ?? 0);
    expect(worst?.measures.bottomBoxShare?.comparison?.direction).toBe('higher');

    // 2. The more transfers, the lower the NPS (feedback grouped by its interaction's transfers).
    const transfers = JSON.parse(
      await report('--measures', 'nps', '--by', 'transfers', '--format', 'json'),
    ) as Report;
    const bands = transfers.rows.filter((row) => row.group.transfers !== null);
    expect(bands.map((row) => row.group.transfers)).toEqual(['0', '1', '2', '3+']);
    for (let k = 1; k < bands.length; k++) {
      expect(bands[k]?.measures.nps?.value, `NPS at ${bands[k]?.group.transfers} transfers`).toBeLessThan(
        bands[k - 1]?.measures.nps?.value ?? 0,
      );
    }

    // 3. The terminal table and the CSV say the same.
    const table = await report('--measures', 'nps', '--by', 'touchpoint,segment', '--compare', 'rest');
    expect(table).toMatch(/^billing\s+small_business\s+-\d+\.\d ±\d+\.\d ▼/m);
    expect(table).toMatch(/^\(all\)\s+\(all\)/m);
    const csv = (await report('--measures', 'nps', '--by', 'touchpoint,segment', '--format', 'csv'))
      .trim()
      .split('\n');
    expect(csv[0]).toMatch(/^touchpoint,segment,nps,nps\.n,nps\.moe,/);
    expect(csv.at(-1)).toMatch(/^\(all\),\(all\),/);
    expect(csv.length).toBe(cube.rows.length + 2);

    // 4. A bad request is a clear error, not a stack trace.
    const bad = await runCli(['report', '--data', data, '--measures', 'happiness']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown measure "happiness"/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
