import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { AxeResults, RunOptions } from 'axe-core';
import pg from 'pg';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, inject, test } from 'vitest';
import { closedLoopPending } from '../src/closed-loop/processor.js';
import { openDatabase } from '../src/db/index.js';
import { loadDemo } from '../src/demo/load.js';
import { packageRoot } from '../src/paths.js';
import { type RunningServer, serve } from '../src/server/serve.js';
import { bootstrap } from '../src/workspace/bootstrap.js';
import { getWorkspace } from '../src/workspace/workspaces.js';
import { describeWithBrowser } from './helpers/browser.js';
import { copyPgliteTemplate } from './helpers/databases.js';

/**
 * The dashboard in Chromium against a real server (serve(), in-process, on the embedded database)
 * with the demo data and its closed loop: people of each role sign in at /app/login and use the
 * pages as they would. Every page visited is checked with axe-core and photographed under
 * test-results/dashboard/.
 */

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
const SHOTS = join(packageRoot, 'test-results', 'dashboard');

const DESKTOP = { width: 1280, height: 900 };
const TABLET = { width: 768, height: 900 };
const ADMIN_KEY = `tp_dashboard_browser_${'k'.repeat(24)}`;
const ADMIN = { email: 'admin@localhost', password: 'admin-password-for-tests' };
const PASSWORD = 'a-password-for-tests';
/**
 * The demo's default size: with fewer customers (400) every cell of the Overview's cube has fewer
 * than 30 answers in the default 90 days, so none is marked significantly lower and there is no
 * bad cell to drill into. Loading 3,000 customers costs about 6 s more than 400.
 */
const DEMO = { customers: 3000, seed: 20261122, closedLoop: true } as const;

/** Each test's limit: generous, as the machine is shared (a test takes 5–35 s). */
const SLOW = { timeout: 150_000 };

const WCAG_AA: RunOptions = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
};

type Role = 'admin' | 'analyst' | 'manager' | 'agent';
interface Person {
  email: string;
  password: string;
}
interface CaseItem {
  id: number;
  owner: string | null;
  team: string | null;
  status: string;
  customer: { externalId: string } | null;
}
interface CaseDetailBody extends CaseItem {
  rootCause: string | null;
  steps: { position: number; text: string; done: boolean }[];
  history: { type: string; detail: Record<string, unknown> }[];
  messages: { channel: string; outcome: string | null; body: string }[];
}
interface ClosedLoopSettings {
  teams: Record<string, { lead: string | null; members: string[] }>;
}

/**
 * Runs axe-core (WCAG 2.1 A/AA) on the page: its serious and critical violations, the ids of the
 * others (moderate, minor), and how many rules passed.
 */
const runAxe = async (page: Page) => {
  await page.addScriptTag({ path: AXE_PATH });
  const { passed, violations } = await page.evaluate(async (options) => {
    const scope = globalThis as unknown as {
      axe: { run: (context: unknown, options: unknown) => Promise<AxeResults> };
      document: unknown;
    };
    const results = await scope.axe.run(scope.document, options);
    return {
      passed: results.passes.length,
      violations: results.violations.map((violation) => ({
        id: violation.id,
        impact: violation.impact,
        help: violation.help,
        nodes: violation.nodes.slice(0, 5).map((node) => ({
          target: node.target,
          html: node.html.slice(0, 300),
          summary: node.failureSummary,
        })),
      })),
    };
  }, WCAG_AA);
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const others = violations.filter((v) => !serious.includes(v)).map((v) => `${v.id} (${v.impact})`);
  return { passed, serious, others };
};

/** The scripts the first page loads: index.html's module entry and the chunks it preloads (as bench/web.ts). */
const initialJavaScript = () => {
  const dir = join(packageRoot, 'dist', 'web');
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const files = [
    ...html.matchAll(/<script[^>]+type="module"[^>]+src="\/app\/([^"]+\.js)"/g),
    ...html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/app\/([^"]+\.js)"/g),
  ].map((match) => match[1] as string);
  const gzip = files.reduce(
    (sum, file) => sum + gzipSync(readFileSync(join(dir, file)), { level: 9 }).length,
    0,
  );
  return { files, gzip };
};

describeWithBrowser('dashboard in Chromium with the demo data [pglite]', (browser) => {
  let server: RunningServer | undefined;
  let dataDir = '';
  let baseUrl = '';
  const printed: string[] = [];
  const contexts: BrowserContext[] = [];
  const people = {} as Record<Role, Person>;
  /** The case reached from the heatmap (test 3), worked in test 4. */
  let drilledCase: number | null = null;
  const savedDatabaseUrl = process.env.DATABASE_URL;

  /** The API with the admin key. */
  const api = async <T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${init.key ?? ADMIN_KEY}`,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, text };
  };
  const ok = async <T>(path: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await api<T>(path, init);
    expect(res.status, `${init.method ?? 'GET'} ${path}: ${res.text.slice(0, 500)}`).toBeLessThan(300);
    return res.body;
  };
  const allCases = async (query = '') =>
    (await ok<{ items: CaseItem[] }>(`/api/v1/cases?limit=500${query}`)).items;

  beforeAll(async () => {
    const setupStart = Date.now();
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    // The embedded database in a directory of its own (whatever DATABASE_URL the shell has).
    delete process.env.DATABASE_URL;
    dataDir = copyPgliteTemplate();

    // The demo is loaded before the server (and its closed-loop worker) starts: the worker then
    // finds the demo's records in the outbox and opens their cases.
    const database = await openDatabase({ kind: 'embedded', dataDir }, { command: 'test' });
    try {
      await bootstrap(database.db, ADMIN_KEY, ADMIN);
      const workspace = await getWorkspace(database.db, 'default');
      await loadDemo(database.db, workspace.id, DEMO);
    } finally {
      await database.close();
    }
    server = await serve({ port: 0, host: '127.0.0.1', dataDir, print: (line) => printed.push(line) });
    baseUrl = server.url;
    expect(printed).toContain(`Touchpoint listening on ${baseUrl}`);

    // Cases appear once the worker has gone through the outbox (the demo's outbox entries).
    const running = server;
    const started = Date.now();
    const worked = async () =>
      (await allCases()).length > 0 && !(await closedLoopPending(running.database.db, new Date())).outbox;
    while (!(await worked())) {
      if (Date.now() - started > 120_000)
        throw new Error('the closed loop did not open cases within 2 minutes');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const cases = await allCases();
    console.log(`Demo loaded and ${cases.length} cases opened; the setup took ${Date.now() - setupStart} ms`);

    // The agent: the team member who owns the most cases; the manager: that team's lead.
    const settings = await ok<ClosedLoopSettings>('/api/v1/closed-loop/settings');
    const owners = new Map<string, CaseItem[]>();
    for (const c of cases) {
      if (c.owner && c.team && settings.teams[c.team]?.members.includes(c.owner))
        owners.set(c.owner, [...(owners.get(c.owner) ?? []), c]);
    }
    const [agent, agentCases] = [...owners].sort((a, b) => b[1].length - a[1].length)[0] ?? [];
    expect(agent, 'a case owned by a team member').toBeDefined();
    const manager = settings.teams[agentCases?.[0]?.team as string]?.lead as string;
    expect(manager).toMatch(/@demo\.example$/);
    expect(
      cases.some((c) => c.owner && c.owner !== agent),
      'a case of someone else',
    ).toBe(true);

    people.admin = ADMIN;
    const roles: [Exclude<Role, 'admin'>, string][] = [
      ['analyst', 'analyst@example.com'],
      ['manager', manager],
      ['agent', agent as string],
    ];
    for (const [role, email] of roles) {
      await ok('/api/v1/users', { method: 'POST', body: { email, role, password: PASSWORD } });
      people[role] = { email, password: PASSWORD };
    }
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await server?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (savedDatabaseUrl !== undefined) process.env.DATABASE_URL = savedDatabaseUrl;
  });

  /** Uncaught errors in the pages of the current test (each test ends without any). */
  let pageErrors: string[] = [];
  afterEach(async () => {
    // One browser context per signed-in person and test; closed when the test is done.
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
    const errors = pageErrors;
    pageErrors = [];
    expect(errors, 'uncaught errors in the page').toEqual([]);
  });

  /** A fresh browser (cookies, cache), CSP bypassed so that axe can be injected. */
  const newPage = async (viewport = DESKTOP) => {
    const context = await browser().newContext({ viewport, bypassCSP: true });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
    return page;
  };

  const heading = (page: Page) => page.getByRole('heading', { level: 1 });

  /**
   * Picks an option of a segmented choice (radio inputs drawn as buttons: the label is what one
   * clicks) and checks that its radio is now the chosen one.
   */
  const choose = async (within: Page | Locator, option: string) => {
    await within
      .locator('label')
      .filter({ hasText: new RegExp(`^${option.replace(/[()]/g, '\\$&')}$`) })
      .click();
    await expect.poll(() => within.getByRole('radio', { name: option, exact: true }).isChecked()).toBe(true);
  };

  /** Waits until nothing on the page says it is loading. */
  const settled = async (page: Page) => {
    await heading(page).first().waitFor();
    await expect
      .poll(
        () =>
          page
            .getByRole('status')
            .filter({ hasText: /^(Loading|Opening)/ })
            .count(),
        { timeout: 20_000 },
      )
      .toBe(0);
  };

  const fillLogin = async (page: Page, person: Person) => {
    await page.getByRole('textbox', { name: 'E-mail' }).fill(person.email);
    await page.getByLabel('Password').fill(person.password);
  };

  /** Signs in at /app/login (or where the app sent the browser) and waits for the first page. */
  const signIn = async (page: Page, person: Person, path = '/app/login') => {
    if (path) await page.goto(`${baseUrl}${path}`);
    await fillLogin(page, person);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    return page;
  };
  const as = async (role: Role, viewport = DESKTOP) => signIn(await newPage(viewport), people[role]);

  const navLinks = (page: Page) =>
    page.getByRole('navigation', { name: 'Main' }).getByRole('link').allInnerTexts();

  const shoot = (page: Page, name: string) =>
    page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });

  /** Opens a page of the app by its address, as a bookmark would. */
  const open = async (page: Page, path: string) => {
    await page.goto(`${baseUrl}/app${path}`);
    await settled(page);
  };

  // ------------------------------------------------------------------------------------------

  test(
    'sign-in per role: a wrong password is refused in place; each role sees its pages; agents are kept from analytics; sign-out',
    SLOW,
    async () => {
      const page = await newPage();
      await page.goto(`${baseUrl}/app/login`);
      await expect.poll(() => page.title()).toBe('Sign in · Touchpoint');
      await fillLogin(page, { email: ADMIN.email, password: 'not-the-password' });
      await page.getByRole('button', { name: 'Sign in' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.innerText()).toBe('E-mail or password is wrong. Check both and try again.');
      expect(new URL(page.url()).pathname).toBe('/app/login');
      expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

      // The same form, now right: the admin's home is the Overview, with every page in the navigation.
      await page.getByLabel('Password').fill(ADMIN.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await expect.poll(() => new URL(page.url()).pathname).toBe('/app/overview');
      expect(await navLinks(page)).toEqual([
        'Overview',
        'Touchpoints',
        'Extremes',
        'Cases',
        'Customers',
        'Surveys',
        'Settings',
      ]);
      expect(await page.getByText(ADMIN.email).isVisible()).toBe(true);

      // Sign out: back to the login page; a bookmarked page then asks to sign in first.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Touchpoint' }).waitFor();
      expect(new URL(page.url()).pathname).toBe('/app/login');
      await page.goto(`${baseUrl}/app/overview`);
      await page.getByRole('heading', { name: 'Sign in to Touchpoint' }).waitFor();
      const url = new URL(page.url());
      expect(url.pathname).toBe('/app/login');
      expect(url.searchParams.get('next')).toBe('/overview');
      // …and the session really ended on the server, not just in the page.
      const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).status);
      expect(session).toBe(401);

      const analyst = await as('analyst');
      expect(await navLinks(analyst)).toEqual([
        'Overview',
        'Touchpoints',
        'Extremes',
        'Cases',
        'Customers',
        'Surveys',
      ]);
      await expect.poll(() => new URL(analyst.url()).pathname).toBe('/app/overview');

      const manager = await as('manager');
      expect(await navLinks(manager)).toEqual([
        'Overview',
        'Touchpoints',
        'Extremes',
        'Cases',
        'Customers',
        'Surveys',
      ]);

      const agent = await as('agent');
      expect(await navLinks(agent)).toEqual(['Cases', 'Customers']);
      await expect.poll(() => new URL(agent.url()).pathname).toBe('/app/cases');
      await agent.goto(`${baseUrl}/app/overview`);
      await heading(agent).waitFor();
      expect(await heading(agent).innerText()).toBe('Not available for your role');
      expect(await agent.getByText('The agent role cannot open this page.').isVisible()).toBe(true);
      // The API agrees: no metrics for agents.
      const metrics = await agent.evaluate(async () => (await fetch('/api/v1/metrics?measures=nps')).status);
      expect(metrics).toBe(403);
    },
  );

  test(
    'Overview with the demo data: NPS, CSAT and CES with ± margins, the heatmap; time to visible and the initial JavaScript',
    SLOW,
    async () => {
      const page = await newPage();
      await page.goto(`${baseUrl}/app/login`);
      await fillLogin(page, ADMIN);
      const clickedAt = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForFunction(() => performance.getEntriesByName('tp:overview-visible').length > 0, null, {
        timeout: 30_000,
      });
      const visibleAt = await page.evaluate(
        () => performance.getEntriesByName('tp:overview-visible')[0]?.startTime ?? Number.NaN,
      );
      const elapsed = visibleAt - clickedAt;
      expect(elapsed).toBeGreaterThan(0);
      console.log(
        `Overview visible ${Math.round(elapsed)} ms after clicking Sign in (demo, ${DEMO.customers} customers; the 1.5 s target with 1M records is npm run bench:web)`,
      );

      const scores = page.getByRole('region', { name: 'Scores and extremes' });
      const tile = (name: string) =>
        scores.getByRole('heading', { level: 3, name: new RegExp(`^${name} `) }).locator('xpath=..');
      const expectations = {
        NPS: /^-?\d+ ± \d+$/,
        CSAT: /^\d+% ± \d+%$/,
        CES: /^\d+% ± \d+%$/,
      };
      for (const [name, pattern] of Object.entries(expectations)) {
        const value = tile(name).getByRole('paragraph').filter({ hasText: '±' }).first();
        expect(await value.innerText(), `${name} tile`).toMatch(pattern);
        expect(
          await tile(name)
            .getByText(/^n = [\d,]+/)
            .innerText(),
          `${name} n`,
        ).toMatch(/^n = [1-9][\d,]*/);
      }
      expect(
        await tile('NPS')
          .getByText(/Detractors \d+% · Passives \d+% · Promoters \d+%/)
          .count(),
      ).toBe(1);

      const heatmap = page.getByRole('table', {
        name: 'NPS by life-cycle stage, personality type and touchpoint',
      });
      await heatmap.waitFor();
      const cells = heatmap.getByRole('button', { name: /: show its extreme encounters$/ });
      expect(await cells.count()).toBeGreaterThan(10);
      expect(await heatmap.getByRole('columnheader', { name: 'Billing' }).count()).toBe(1);
      expect(await heatmap.getByRole('rowheader', { name: 'Prompt' }).count()).toBeGreaterThan(0);
      const trend = page.getByRole('figure', { name: /^NPS and CSAT by / });
      expect(await trend.locator('canvas').count()).toBeGreaterThan(0);

      const js = initialJavaScript();
      console.log(
        `Initial JavaScript: ${js.files.length} files, ${(js.gzip / 1024).toFixed(1)} KB gzip (${js.files.join(', ')})`,
      );
      expect(js.files.length).toBeGreaterThan(0);
      expect(js.gzip).toBeLessThanOrEqual(250 * 1024);
    },
  );

  /** The case page's parts, found as a person finds them: by their headings. */
  const casePage = (page: Page) => ({
    status: page.getByRole('region', { name: 'Status' }),
    playbook: page.getByRole('region', { name: /^Playbook/ }),
    rootCause: page.getByRole('region', { name: 'Root cause' }),
    notes: page.getByRole('region', { name: 'Notes' }),
    loop: page.getByRole('region', { name: 'Close the loop' }),
    details: page.getByRole('region', { name: 'Details' }),
    history: page.getByRole('region', { name: 'History' }),
  });
  const caseStatus = async (page: Page) =>
    (await casePage(page).status.getByText(/^Now:/).innerText()).replace(/^Now:\s*/, '');

  /** The table of encounters on the Extremes page is showing (not loading, not being refreshed). */
  const extremesShown = async (page: Page) => {
    await settled(page);
    await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
  };

  test(
    'from a bad heatmap cell to its extreme encounters, to the case one of them raised',
    SLOW,
    async () => {
      const page = await as('admin');
      await settled(page);
      const heatmap = page.getByRole('table', {
        name: /by life-cycle stage, personality type and touchpoint$/,
      });
      await heatmap.waitFor();

      // A cell significantly below the rest in NPS; else, in the bottom-box view, one significantly above.
      let cell = heatmap.getByRole('button', { name: /significantly lower than the rest/ }).first();
      if ((await cell.count()) === 0) {
        await choose(page, 'Bottom-box share (disastrous)');
        await page.getByRole('table', { name: /^Bottom box by / }).waitFor();
        cell = heatmap.getByRole('button', { name: /significantly higher than the rest/ }).first();
      }
      if ((await cell.count()) === 0) cell = heatmap.getByRole('button').first();
      // Its text for screen readers: "Ending, Relationship, Cancellation: -45 ▼ significantly lower …".
      const said = await cell.evaluate((element) => element.textContent ?? '');
      const labels = (said.split(':')[0] ?? '').split(',').map((part: string) => part.trim());
      expect(labels, said).toHaveLength(3);
      console.log(`Heatmap cell chosen: ${said}`);
      await cell.click();

      await page.getByRole('heading', { level: 1, name: 'Extremes' }).waitFor();
      const url = new URL(page.url());
      expect(url.pathname).toBe('/app/extremes');
      for (const param of ['lifecycleStage', 'personalityType', 'touchpoint'])
        expect(url.searchParams.get(param), `${param} in ${url}`).toBeTruthy();
      // The filter bar shows the cell's stage, personality type and touchpoint.
      const filters = page.getByRole('form', { name: 'Filters' });
      const chosen = (name: string) =>
        filters
          .getByRole('combobox', { name })
          .evaluate(
            (element) =>
              (element as unknown as { selectedOptions: { text: string }[] }).selectedOptions[0]?.text,
          );
      expect([
        await chosen('Life-cycle stage'),
        await chosen('Personality type'),
        await chosen('Touchpoint'),
      ]).toEqual(labels);
      expect(await page.getByRole('radio', { name: 'Disastrous (bottom box)' }).isChecked()).toBe(true);
      await extremesShown(page);

      // An encounter that raised a case; with none in this cell, the filters are widened one by one.
      const caseLink = page.getByRole('link', { name: /^Case #\d+$/ }).first();
      const widen = ['Personality type', 'Life-cycle stage', 'Touchpoint'];
      for (const filter of widen) {
        if ((await caseLink.count()) > 0) break;
        console.log(`No case among this cell's encounters: ${filter} widened to All`);
        const before = page.url();
        await filters.getByRole('combobox', { name: filter }).selectOption({ label: 'All' });
        await expect.poll(() => page.url()).not.toBe(before);
        await extremesShown(page);
      }
      expect(await caseLink.count(), 'an extreme encounter with a case').toBe(1);
      const label = await caseLink.innerText();
      const id = Number(label.replace('Case #', ''));
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: label, exact: true }) });
      const customer = await row.getByRole('link').first().innerText();
      await caseLink.click();
      await expect.poll(() => new URL(page.url()).pathname).toBe(`/app/cases/${id}`);
      await settled(page);
      expect(await heading(page).innerText()).toMatch(new RegExp(`^#${id} `));
      // The case is the encounter's: its customer, and the feedback that raised it.
      expect(await page.getByRole('link', { name: customer, exact: true }).first().isVisible()).toBe(true);
      expect(
        await page.getByRole('region', { name: /alert/i }).first().getByText('Feedback').count(),
      ).toBeGreaterThan(0);
      drilledCase = id;
    },
  );

  test(
    'a case worked to closed in the browser: start, playbook step, root cause, note, call, resolve, close; the API agrees',
    SLOW,
    async () => {
      // The case reached from the heatmap; else the newest case that is still open.
      const id = drilledCase ?? (await allCases('&status=open'))[0]?.id;
      expect(id).toBeDefined();
      const page = await as('admin');
      await open(page, `/cases/${id}`);
      const parts = casePage(page);
      expect(await caseStatus(page)).toBe('Open');

      await parts.status.getByRole('button', { name: 'Start work' }).click();
      await expect.poll(() => caseStatus(page)).toBe('In progress');

      const firstStep = parts.playbook.getByRole('checkbox').first();
      const stepText = await parts.playbook.getByRole('listitem').first().locator('label').innerText();
      await firstStep.check();
      await expect.poll(() => parts.playbook.getByText(/^1 of \d+ steps done$/).count()).toBe(1);
      expect(await firstStep.isChecked()).toBe(true);

      await parts.rootCause
        .getByRole('combobox', { name: 'What caused the problem' })
        .selectOption('process');
      await parts.rootCause.getByRole('button', { name: 'Save root cause' }).click();
      await expect
        .poll(() =>
          parts.details
            .getByRole('definition')
            .filter({ hasText: /^Process$/ })
            .count(),
        )
        .toBe(1);

      const note = `Called about the invoice; promised a correction (browser test ${id}).`;
      await parts.notes.getByRole('textbox', { name: 'New note' }).fill(note);
      await parts.notes.getByRole('button', { name: 'Add note' }).click();
      await parts.notes.getByText(note).waitFor();
      await expect.poll(() => parts.notes.getByRole('textbox', { name: 'New note' }).inputValue()).toBe('');

      await choose(parts.loop, 'Log a call');
      await parts.loop
        .getByRole('combobox', { name: 'Outcome' })
        .selectOption({ label: 'Reached the customer' });
      await parts.loop
        .getByRole('textbox', { name: 'What was said' })
        .fill('Apologised; the corrected invoice follows.');
      await parts.loop.getByRole('button', { name: 'Log the call' }).click();
      await parts.loop.getByRole('status').filter({ hasText: 'The call is logged.' }).waitFor();
      await expect.poll(() => caseStatus(page)).toBe('Customer contacted');
      expect(await parts.loop.getByText('Apologised; the corrected invoice follows.').count()).toBe(1);

      await parts.status.getByRole('button', { name: 'Resolve' }).click();
      await expect.poll(() => caseStatus(page)).toBe('Resolved');
      await parts.status.getByRole('button', { name: 'Close' }).click();
      await expect.poll(() => caseStatus(page)).toBe('Closed');
      expect(await parts.status.getByRole('button').count()).toBe(0);
      expect(await parts.status.getByText('A closed case is final.').isVisible()).toBe(true);
      await shoot(page, 'case-closed');

      const history = await parts.history.getByRole('listitem').allInnerTexts();
      const said = history.join('\n');
      for (const step of [
        'Status Open → In progress',
        `Step 1 “${stepText.trim()}” done`,
        'Root cause not set → Process',
        `Note: ${note}`,
        'Call logged',
        'Status In progress → Customer contacted',
        'Status Customer contacted → Resolved',
        'Status Resolved → Closed',
      ]) {
        expect(said, `history has "${step}"`).toContain(step);
      }

      // The API (admin key) tells the same story.
      const detail = await ok<CaseDetailBody>(`/api/v1/cases/${id}`);
      expect(detail.status).toBe('closed');
      expect(detail.rootCause).toBe('process');
      expect(detail.steps[0]?.done).toBe(true);
      expect(
        detail.history.filter((entry) => entry.type === 'note').map((entry) => entry.detail.text),
      ).toEqual([note]);
      expect(detail.messages).toEqual([
        expect.objectContaining({
          channel: 'call',
          outcome: 'reached',
          body: 'Apologised; the corrected invoice follows.',
        }),
      ]);
      expect(
        detail.history.filter((entry) => entry.type === 'status').map((entry) => entry.detail.to),
      ).toEqual(['in_progress', 'customer_contacted', 'resolved', 'closed']);
    },
  );

  test(
    'a survey created from a template, a question edited with the live preview following, saved and listed',
    SLOW,
    async () => {
      const page = await as('admin');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Surveys' }).click();
      await page.getByRole('heading', { level: 1, name: 'Surveys' }).waitFor();
      await settled(page);
      await page.getByRole('button', { name: 'Create a survey' }).click();

      const dialog = page.getByRole('dialog', { name: 'Create a survey' });
      await dialog.waitFor();
      const templates = dialog.getByRole('group', { name: 'Start from' }).getByRole('radio');
      expect(await templates.count()).toBeGreaterThan(1);
      await templates.first().check();
      const surveyName = `Browser test survey ${Date.now()}`;
      await dialog.getByRole('textbox', { name: 'Name' }).fill(surveyName);
      await dialog.getByRole('button', { name: 'Create and edit' }).click();

      await expect.poll(() => new URL(page.url()).pathname).toMatch(/^\/app\/surveys\/\d+$/);
      await page.getByRole('heading', { level: 1, name: surveyName }).waitFor();
      await settled(page);
      const question = page.getByRole('region', { name: /^Question 1\b/ });
      const text = question.getByRole('textbox', { name: 'Question', exact: true });
      const before = await text.inputValue();
      const preview = page.getByRole('complementary', { name: 'Preview' });
      expect(await preview.getByText(before, { exact: false }).count()).toBeGreaterThan(0);

      const edited = 'How likely are you to recommend the browser-tested Touchpoint to a friend?';
      await text.fill(edited);
      await preview.getByText(edited).first().waitFor();
      expect(await preview.getByText(before).count()).toBe(0);

      const save = page.getByRole('button', { name: /^Save as version \d+$/ });
      expect(await save.isEnabled()).toBe(true);
      await save.click();
      await page
        .getByRole('status')
        .filter({ hasText: /^Saved as version 2\./ })
        .waitFor();

      // The list has it; the API stored the edited question.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Surveys' }).click();
      await page.getByRole('heading', { level: 1, name: 'Surveys' }).waitFor();
      const list = page.getByRole('table', { name: 'Surveys with their invitations so far' });
      const link = list.getByRole('link', { name: surveyName });
      await link.waitFor();
      const id = Number((await link.getAttribute('href'))?.split('/').pop());
      const stored = await ok<{
        version: number;
        definition: { questions: { text: Record<string, string> }[] };
      }>(`/api/v1/surveys/${id}`);
      expect(stored.version).toBe(2);
      expect(stored.definition.questions[0]?.text.en).toBe(edited);
    },
  );

  test('an API key created in Settings is shown once, works, and is not shown again', SLOW, async () => {
    const page = await as('admin');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Settings' }).click();
    await page
      .getByRole('navigation', { name: 'Settings sections' })
      .getByRole('link', { name: 'API keys' })
      .click();
    await page.getByRole('heading', { level: 2, name: 'API keys' }).waitFor();
    await settled(page);

    const create = page.getByRole('region', { name: 'Create a key' });
    await create.getByRole('textbox', { name: 'Name (what uses it)' }).fill('Browser test reader');
    await create.getByRole('combobox', { name: 'Role' }).selectOption({ label: 'Read' });
    await create.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByRole('textbox', { name: 'API key “Browser test reader” (read)' });
    await secret.waitFor();
    const key = await secret.inputValue();
    expect(key).toMatch(/^tp_/);
    expect(await page.getByText('Shown only now.').isVisible()).toBe(true);
    const keys = page.getByRole('table', { name: 'API keys, in use first' });
    const row = keys.getByRole('row').filter({ hasText: 'Browser test reader' });
    await row.waitFor();
    const prefix = (await row.getByRole('code').innerText()).replace(/…$/, '');
    expect(key.startsWith(prefix)).toBe(true);

    const metrics = await api('/api/v1/metrics?measures=responses', { key });
    expect(metrics.status, metrics.text).toBe(200);

    // Away and back: the key is listed by its beginning only, never shown again.
    await nav.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await nav.getByRole('link', { name: 'Settings' }).click();
    await page
      .getByRole('navigation', { name: 'Settings sections' })
      .getByRole('link', { name: 'API keys' })
      .click();
    await settled(page);
    await keys.getByRole('row').filter({ hasText: 'Browser test reader' }).waitFor();
    expect(await page.getByText('Shown only now.').count()).toBe(0);
    expect(await page.getByRole('textbox', { name: /^API key “/ }).count()).toBe(0);
    expect(await page.content()).not.toContain(key);
  });

  test(
    'roles hold in the browser: analysts read cases and cannot open settings; agents see only their own cases; managers work their teams',
    SLOW,
    async () => {
      const cases = await allCases();
      const agentEmail = people.agent.email;
      const someCase = cases[0] as CaseItem;

      const analyst = await as('analyst');
      await open(analyst, `/cases/${someCase.id}`);
      expect(await heading(analyst).innerText()).toMatch(new RegExp(`^#${someCase.id} `));
      expect(await analyst.getByText('Read only: the analyst role does not work cases.').isVisible()).toBe(
        true,
      );
      const parts = casePage(analyst);
      expect(await parts.status.getByRole('button').count()).toBe(0);
      expect(await parts.notes.getByRole('textbox').count()).toBe(0);
      expect(await parts.loop.getByRole('button').count()).toBe(0);
      expect(await parts.playbook.getByRole('checkbox', { disabled: false }).count()).toBe(0);
      expect(await analyst.getByRole('button', { name: 'Save root cause' }).count()).toBe(0);
      await open(analyst, '/settings');
      expect(await heading(analyst).innerText()).toBe('Not available for your role');
      await open(analyst, '/settings/api-keys');
      expect(await heading(analyst).innerText()).toBe('Not available for your role');

      const agent = await as('agent');
      const foreign = cases.find((c) => c.owner && c.owner !== agentEmail) as CaseItem;
      await open(agent, `/cases/${foreign.id}`);
      expect(await heading(agent).innerText()).toBe(`Case #${foreign.id}`);
      expect(await agent.getByRole('alert').getByText('No such case, or not one of yours').isVisible()).toBe(
        true,
      );

      // The agent's list, of any status: their own cases, all of them.
      await open(agent, '/cases');
      expect(await agent.getByRole('radio', { name: 'All' }).count()).toBe(0); // no choice of view
      await agent.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Any status' });
      const table = agent.getByRole('table', { name: /^My cases: cases of any status/ });
      await table.waitFor();
      await expect.poll(() => agent.locator('[aria-busy="true"]').count()).toBe(0);
      const theirs = cases
        .filter((c) => c.owner === agentEmail)
        .map((c) => c.id)
        .sort((a, b) => a - b);
      expect(theirs.length).toBeGreaterThan(0);
      const rows = table.getByRole('row').filter({ has: agent.getByRole('link') });
      const shown = (await rows.getByRole('link').allInnerTexts())
        .map((text) => Number(/^#(\d+)/.exec(text)?.[1]))
        .sort((a, b) => a - b);
      expect(shown).toEqual(theirs);
      expect(await rows.filter({ hasText: agentEmail }).count()).toBe(theirs.length);

      // The agent works their own case (the actions are there).
      const own = cases.find((c) => c.owner === agentEmail && c.status === 'open');
      if (own) {
        await open(agent, `/cases/${own.id}`);
        expect(await casePage(agent).status.getByRole('button', { name: 'Start work' }).count()).toBe(1);
      }

      // The manager: their team's cases can be worked, another team's are read only.
      const settings = await ok<ClosedLoopSettings>('/api/v1/closed-loop/settings');
      const managerTeams = Object.entries(settings.teams)
        .filter(
          ([, team]) => team.lead === people.manager.email || team.members.includes(people.manager.email),
        )
        .map(([name]) => name);
      const manager = await as('manager');
      const teamCase = cases.find((c) => c.team && managerTeams.includes(c.team) && c.status === 'open');
      if (teamCase) {
        await open(manager, `/cases/${teamCase.id}`);
        await casePage(manager).status.getByRole('button', { name: 'Start work' }).waitFor();
      }
      const otherTeamCase = cases.find((c) => c.team && !managerTeams.includes(c.team));
      if (otherTeamCase) {
        await open(manager, `/cases/${otherTeamCase.id}`);
        await manager.getByText(/it belongs to another team/).waitFor();
        expect(await casePage(manager).status.getByRole('button').count()).toBe(0);
      }
    },
  );

  /** Every page of the dashboard an admin visits, and when it has finished loading. */
  const tour = async (): Promise<
    { name: string; path: string; ready: (page: Page) => Promise<unknown> }[]
  > => {
    const cases = await allCases();
    const kase = cases.find((c) => c.customer) as CaseItem;
    let surveys = await ok<{ id: number }[]>('/api/v1/surveys');
    if (surveys.length === 0) {
      await ok('/api/v1/surveys', {
        method: 'POST',
        body: { template: 'transactional-nps', languages: ['en'] },
      });
      surveys = await ok<{ id: number }[]>('/api/v1/surveys');
    }
    const table = (name: string | RegExp) => (page: Page) =>
      page.getByRole('table', { name }).first().waitFor();
    return [
      {
        name: 'overview',
        path: '/overview',
        ready: (page) =>
          page.waitForFunction(() => performance.getEntriesByName('tp:overview-visible').length > 0),
      },
      { name: 'touchpoints', path: '/touchpoints', ready: table(/^Experience and operations by/) },
      { name: 'extremes', path: '/extremes', ready: table(/encounters, newest first$/) },
      { name: 'cases', path: '/cases', ready: table(/newest first$/) },
      {
        name: 'case',
        path: `/cases/${kase.id}`,
        ready: (page) => page.getByRole('region', { name: 'History' }).waitFor(),
      },
      {
        name: 'customers',
        path: `/customers?q=${encodeURIComponent(kase.customer?.externalId as string)}`,
        ready: table(/^Customers matching/),
      },
      {
        name: 'customer',
        path: `/customers/${encodeURIComponent(kase.customer?.externalId as string)}`,
        ready: (page) => page.getByRole('region', { name: 'Timeline' }).waitFor(),
      },
      { name: 'surveys', path: '/surveys', ready: table('Surveys with their invitations so far') },
      {
        name: 'survey-editor',
        path: `/surveys/${surveys[0]?.id}`,
        ready: (page) => page.getByRole('complementary', { name: 'Preview' }).waitFor(),
      },
      ...['users', 'api-keys', 'webhooks', 'alert-rules', 'workspace', 'contact-fatigue'].map((section) => ({
        name: `settings-${section}`,
        path: `/settings/${section}`,
        ready: (page: Page) => page.getByRole('heading', { level: 2 }).first().waitFor(),
      })),
    ];
  };

  test('axe-core (WCAG 2.1 A/AA): no serious or critical violations on any page', SLOW, async () => {
    const found: Record<string, unknown> = {};
    const lesser: string[] = [];
    const check = async (page: Page, name: string) => {
      const { passed, serious, others } = await runAxe(page);
      expect(passed, `axe checked nothing on ${name}`).toBeGreaterThan(0);
      if (serious.length > 0) found[name] = serious;
      if (others.length > 0) lesser.push(`${name}: ${others.join(', ')}`);
    };
    const page = await newPage();
    await page.goto(`${baseUrl}/app/login`);
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await check(page, 'login');
    await fillLogin(page, { email: ADMIN.email, password: 'wrong-password-here' });
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await check(page, 'login with an error');
    await signIn(page, ADMIN, '');
    for (const { name, path, ready } of await tour()) {
      await open(page, path);
      await ready(page);
      await settled(page);
      await check(page, name);
    }
    // The agent's pages: their cases and the page an agent may not open.
    const agent = await as('agent');
    await settled(agent);
    await check(agent, 'cases as agent');
    await open(agent, '/overview');
    await check(agent, 'not available for the role');
    console.log(
      `axe: ${lesser.length ? `moderate or minor findings on ${lesser.join('; ')}` : 'no moderate or minor findings either'}`,
    );
    expect(found, `serious or critical axe violations:\n${JSON.stringify(found, null, 2)}`).toEqual({});
  });

  test(
    'screenshots of every page (full page) under test-results/dashboard/, and the Overview at 768 px',
    SLOW,
    async () => {
      const page = await newPage();
      await page.goto(`${baseUrl}/app/login`);
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      await shoot(page, 'login');
      await signIn(page, ADMIN, '');
      const pages = await tour();
      for (const { name, path, ready } of pages) {
        await open(page, path);
        await ready(page);
        await settled(page);
        await shoot(page, name);
      }

      // At 768 px the Overview still fits: no sideways scrolling of the page (tables scroll in their box).
      const narrow = await as('admin', TABLET);
      await open(narrow, '/overview');
      await narrow.waitForFunction(() => performance.getEntriesByName('tp:overview-visible').length > 0);
      await narrow.getByRole('table', { name: /by life-cycle stage/ }).waitFor();
      expect(
        await narrow
          .getByRole('navigation', { name: 'Main' })
          .getByRole('link', { name: 'Overview' })
          .isVisible(),
      ).toBe(true);
      const width = await narrow.evaluate(
        () =>
          (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document
            .documentElement.scrollWidth,
      );
      expect(width, 'page width at a 768 px viewport').toBeLessThanOrEqual(768);
      await shoot(narrow, 'overview-768');

      for (const name of ['login', ...pages.map((p) => p.name), 'overview-768']) {
        const png = readFileSync(join(SHOTS, `${name}.png`));
        expect(png.subarray(1, 4).toString(), name).toBe('PNG');
        expect(png.length, name).toBeGreaterThan(5_000);
      }
    },
  );
});

/**
 * The same dashboard on a PostgreSQL server: the first admin signs in on a fresh database, sees the
 * empty Overview, and after records arrive through the API sees their scores and the extremes.
 */
describeWithBrowser('dashboard in Chromium on a PostgreSQL server', (browser) => {
  const serverUrl = inject('postgresUrl');
  const saved = {
    url: process.env.DATABASE_URL,
    key: process.env.TOUCHPOINT_ADMIN_KEY,
    password: process.env.TOUCHPOINT_ADMIN_PASSWORD,
  };
  const restore = (name: string, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  const databaseName = `dashboard_${process.pid}_${Date.now()}`;
  const adminUrl = () => {
    const url = new URL(serverUrl);
    url.pathname = '/postgres';
    return url.toString();
  };
  let server: RunningServer | undefined;

  beforeAll(async () => {
    if (!serverUrl) return;
    const client = new pg.Client(adminUrl());
    await client.connect();
    await client.query(`CREATE DATABASE ${databaseName}`);
    await client.end();
    const url = new URL(serverUrl);
    url.pathname = `/${databaseName}`;
    process.env.DATABASE_URL = url.toString();
    process.env.TOUCHPOINT_ADMIN_KEY = ADMIN_KEY;
    process.env.TOUCHPOINT_ADMIN_PASSWORD = ADMIN.password;
    server = await serve({ port: 0, host: '127.0.0.1', dataDir: '/nonexistent', print: () => undefined });
  });

  afterAll(async () => {
    await server?.close();
    restore('DATABASE_URL', saved.url);
    restore('TOUCHPOINT_ADMIN_KEY', saved.key);
    restore('TOUCHPOINT_ADMIN_PASSWORD', saved.password);
    if (!serverUrl) return;
    const client = new pg.Client(adminUrl());
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await client.end();
  });

  test.skipIf(!serverUrl)(
    `the first admin signs in; the Overview fills as records arrive${serverUrl ? '' : ' — skipped: no PostgreSQL server (install postgresql or set TEST_DATABASE_URL)'}`,
    SLOW,
    async () => {
      const base = server?.url as string;
      expect(server?.database.kind).toBe('server');
      const context = await browser().newContext({ viewport: DESKTOP });
      try {
        const page = await context.newPage();
        await page.goto(`${base}/app/login`);
        await page.getByRole('textbox', { name: 'E-mail' }).fill(ADMIN.email);
        await page.getByLabel('Password').fill(ADMIN.password);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
        await page.getByText('No feedback in this period and selection').first().waitFor();

        // 40 answers today: 10 promoters, 10 passives, 20 detractors (5 of them disastrous, NPS 0–3).
        const now = Date.now();
        const feedback = Array.from({ length: 40 }, (_, i) => ({
          externalId: `PG-F-${i}`,
          customerId: `PG-C-${i % 8}`,
          source: 'survey',
          channel: 'phone',
          touchpoint: 'billing',
          occurredAt: new Date(now - (i + 1) * 60_000).toISOString(),
          nps: i < 10 ? 10 : i < 20 ? 8 : i < 25 ? 2 : 5,
          text: i >= 20 && i < 25 ? 'The invoice was wrong again.' : undefined,
        }));
        const res = await fetch(`${base}/api/v1/feedback`, {
          method: 'POST',
          headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify(feedback),
        });
        expect(res.status, await res.text()).toBe(200);

        await page.reload();
        // NPS (10 − 20) / 40 = −25.
        const nps = page.getByRole('heading', { name: 'NPS' }).locator('..');
        await expect.poll(() => nps.textContent(), { timeout: 20_000 }).toMatch(/−25|-25/);
        await page.getByRole('link', { name: 'Extremes' }).click();
        await page.getByRole('heading', { name: 'Extremes', level: 1 }).waitFor();
        await expect
          .poll(() => page.getByRole('cell', { name: 'The invoice was wrong again.' }).count(), {
            timeout: 20_000,
          })
          .toBe(5);
      } finally {
        await context.close();
      }
    },
  );
});
