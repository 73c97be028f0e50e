import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { AxeResults, RunOptions } from 'axe-core';
import type { BrowserContext, BrowserContextOptions, Locator, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type App, buildApp } from '../src/server/app.js';
import { Channels } from '../src/surveys/channels.js';
import { dispatchDue } from '../src/surveys/dispatch.js';
import { describeWithBrowser } from './helpers/browser.js';
import { openTestDatabase } from './helpers/databases.js';
import { auth } from './helpers/http.js';
import { startMailbox } from './helpers/smtp.js';
import { createTestWorkspace } from './helpers/workspace.js';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');

/** A phone. */
const PHONE = { width: 375, height: 740 };

// The texts of the 'transactional-nps' template and of the English survey pages.
const NPS_QUESTION = /how likely are you to recommend us/i;
const DETRACTOR_QUESTION = /What went wrong during your contact with us/;
const PASSIVE_QUESTION = /What would have made your contact with us a 10\?/;
const PROMOTER_QUESTION = /What did you like most about your contact with us\?/;
const THANK_YOU = 'Thank you for your feedback!';
const FOLLOW_UP = 'We read every answer; if something went wrong, someone from our team will contact you.';

const WCAG_AA: RunOptions = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
};

/** Runs axe-core on the page (WCAG 2.1 A/AA): its violations, serializable, and how many rules passed. */
const runAxe = async (page: Page) => {
  await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(async (options) => {
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
        nodes: violation.nodes.map((node) => ({
          target: node.target,
          html: node.html,
          summary: node.failureSummary,
        })),
      })),
    };
  }, WCAG_AA);
};

const expectAccessible = async (page: Page, what: string) => {
  const { passed, violations } = await runAxe(page);
  expect(violations, `axe violations on the ${what}:\n${JSON.stringify(violations, null, 2)}`).toEqual([]);
  expect(passed, `axe checked nothing on the ${what}`).toBeGreaterThan(0);
};

/** Runs `action` (a click, a key press) and waits for the page it navigates to. */
const navigation = async (page: Page, action: () => Promise<unknown>): Promise<Response | null> => {
  const [response] = await Promise.all([page.waitForNavigation(), action()]);
  return response;
};

/** Whether the element has the keyboard focus. */
const isFocused = (locator: Locator) =>
  locator.evaluate((element) => element === element.ownerDocument.activeElement);

describeWithBrowser('survey pages in Chromium [pglite]', (browser) => {
  let opened: Awaited<ReturnType<typeof openTestDatabase>> | undefined;
  let app: App | undefined;
  let baseUrl = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    opened = await openTestDatabase('pglite');
    app = await buildApp({ database: opened.database, publicUrl: () => baseUrl });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await app?.close();
    await opened?.cleanup();
  });

  const db = () => {
    if (!opened) throw new Error('database not open yet');
    return opened.database.db;
  };

  /** A new context (closed after the suite): a phone, CSP bypassed so that axe can be injected. */
  const newPage = async (options: BrowserContextOptions = {}) => {
    const context = await browser().newContext({ viewport: PHONE, bypassCSP: true, ...options });
    contexts.push(context);
    return context.newPage();
  };

  /** A workspace with a 'transactional-nps' survey in English and a customer. */
  const setUp = async () => {
    if (!app) throw new Error('app not built yet');
    const server = app;
    const ws = await createTestWorkspace(db());
    const headers = auth(ws.keys.admin);
    const api = async (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) => {
      const res = await server.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(300);
      return res.json();
    };
    const survey = (await api('POST', '/api/v1/surveys', {
      template: 'transactional-nps',
      languages: ['en'],
    })) as { id: number };
    await api('POST', '/api/v1/customers', { externalId: 'C-1', email: 'anna@example.com', name: 'Anna' });
    /** A survey link for the customer. */
    const invite = async () => {
      const invitation = (await api('POST', `/api/v1/surveys/${survey.id}/invitations`, {
        customerId: 'C-1',
        channel: 'link',
      })) as { id: string; url: string | null };
      expect(invitation.url?.startsWith(`${baseUrl}/s/`), String(invitation.url)).toBe(true);
      return { id: invitation.id, url: invitation.url as string };
    };
    const feedback = (invitationId: string) =>
      api('GET', `/api/v1/feedback/survey-${invitationId}`) as Promise<Record<string, unknown>>;
    return { ws, api, survey, invite, feedback };
  };

  const heading = (page: Page) => page.getByRole('heading', { level: 1 }).innerText();

  test('NPS by keyboard on a phone branches to the detractor question; the answer lands in the feedback', async () => {
    const { invite, feedback } = await setUp();
    const { id, url } = await invite();
    const page = await newPage();

    const first = await page.goto(url);
    expect(first?.status()).toBe(200);
    const nps = page.getByRole('group', { name: NPS_QUESTION });
    expect(await nps.isVisible()).toBe(true);
    const radios = nps.getByRole('radio');
    expect(await radios.count()).toBe(11);
    for (let score = 0; score <= 10; score++) {
      expect(await radios.nth(score).getAttribute('value')).toBe(String(score));
      expect(await nps.getByRole('radio', { name: String(score), exact: true }).count()).toBe(1);
    }
    expect(await page.getByText('Not at all likely').isVisible()).toBe(true);
    expect(await page.getByText('Extremely likely').isVisible()).toBe(true);

    // Tab reaches the first score; the arrow keys move the choice along the scale.
    await page.keyboard.press('Tab');
    expect(await isFocused(page.locator('#a0'))).toBe(true);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await isFocused(page.locator('#a2'))).toBe(true);
    expect(await page.locator('#a2').isChecked()).toBe(true);
    expect(await page.locator('input[name=answer]:checked').count()).toBe(1);
    // The next Tab leaves the scale for the button; Enter submits.
    await page.keyboard.press('Tab');
    const next = page.getByRole('button', { name: 'Next' });
    expect(await isFocused(next)).toBe(true);
    const second = await navigation(page, () => page.keyboard.press('Enter'));
    expect(second?.status()).toBe(200);

    // 0–6: the detractor question, a labelled text box.
    const box = page.getByRole('textbox', { name: DETRACTOR_QUESTION });
    expect(await box.count()).toBe(1);
    expect(await page.locator('textarea').count()).toBe(1);
    expect(await page.locator('label[for=answer]').innerText()).toMatch(DETRACTOR_QUESTION);
    expect(await page.getByText('Question 2 of 2').isVisible()).toBe(true);
    await box.click();
    await page.keyboard.type('The line was busy for an hour.');
    const end = await navigation(page, () => page.getByRole('button', { name: 'Submit' }).click());
    expect(end?.status()).toBe(200);
    expect(await heading(page)).toBe(THANK_YOU);
    expect(await page.getByText(FOLLOW_UP).isVisible()).toBe(true);

    expect(await feedback(id)).toMatchObject({ nps: 2, text: 'The line was busy for an hour.' });

    // The link is used up.
    const again = await page.reload();
    expect(again?.status()).toBe(410);
    expect(await heading(page)).toBe('Already completed');
    expect(await page.getByText('This survey has already been completed').isVisible()).toBe(true);
  });

  test('a 10 branches to the promoter question', async () => {
    const { invite, feedback } = await setUp();
    const { id, url } = await invite();
    const page = await newPage();
    await page.goto(url);
    await page.getByRole('radio', { name: '10', exact: true }).check();
    await navigation(page, () => page.getByRole('button', { name: 'Next' }).click());
    expect(await page.getByRole('textbox', { name: PROMOTER_QUESTION }).count()).toBe(1);
    expect(await page.getByRole('textbox', { name: DETRACTOR_QUESTION }).count()).toBe(0);
    await page.getByRole('textbox').fill('Quick and friendly.');
    await navigation(page, () => page.getByRole('button', { name: 'Submit' }).click());
    expect(await heading(page)).toBe(THANK_YOU);
    expect(await feedback(id)).toMatchObject({ nps: 10, text: 'Quick and friendly.' });
  });

  test('every page passes axe (WCAG 2.1 A/AA): question, error, text question, thank-you, link problems', async () => {
    const { invite } = await setUp();
    const { url } = await invite();
    const page = await newPage();

    expect((await page.goto(url))?.status()).toBe(200);
    await expectAccessible(page, 'NPS question page');

    // Sent without a score (the browser's own `required` check removed): the server's error.
    await page.locator('input[required]').evaluate((element) => element.removeAttribute('required'));
    const invalid = await navigation(page, () => page.getByRole('button', { name: 'Next' }).click());
    expect(invalid?.status()).toBe(422);
    const alert = page.getByRole('alert');
    expect(await alert.innerText()).toBe('This question needs an answer');
    const group = page.getByRole('group', { name: NPS_QUESTION });
    expect(await group.getAttribute('aria-invalid')).toBe('true');
    expect((await group.getAttribute('aria-describedby'))?.split(' ')).toContain('q-error');
    await expectAccessible(page, 'NPS question page with an error');

    await page.getByRole('radio', { name: '7', exact: true }).check();
    await navigation(page, () => page.getByRole('button', { name: 'Next' }).click());
    expect(await page.getByRole('textbox', { name: PASSIVE_QUESTION }).count()).toBe(1);
    await expectAccessible(page, 'text question page');

    await navigation(page, () => page.getByRole('button', { name: 'Submit' }).click());
    expect(await heading(page)).toBe(THANK_YOU);
    await expectAccessible(page, 'thank-you page');

    expect((await page.goto(url))?.status()).toBe(410);
    await expectAccessible(page, 'already-completed page');

    expect((await page.goto(`${baseUrl}/s/garbage`))?.status()).toBe(404);
    expect(await heading(page)).toBe('Link not valid');
    expect(await page.getByText('This survey link is not valid').isVisible()).toBe(true);
    await expectAccessible(page, 'invalid-link page');
  });

  test('a whole survey can be answered without JavaScript', async () => {
    const { invite, feedback } = await setUp();
    const { id, url } = await invite();
    const page = await newPage({ javaScriptEnabled: false });
    await page.goto(url);
    await page.getByRole('radio', { name: '8', exact: true }).click();
    await navigation(page, () => page.getByRole('button', { name: 'Next' }).click());
    const box = page.getByRole('textbox', { name: PASSIVE_QUESTION });
    expect(await box.count()).toBe(1);
    await box.fill('Call back sooner.');
    await navigation(page, () => page.getByRole('button', { name: 'Submit' }).click());
    expect(await heading(page)).toBe(THANK_YOU);
    expect(await page.getByText(FOLLOW_UP).isVisible()).toBe(true);
    expect(await feedback(id)).toMatchObject({ nps: 8, text: 'Call back sooner.' });
  });

  test('one click on a score in the e-mail records it and opens the promoter question', async () => {
    const { ws, api, survey, feedback } = await setUp();
    const mailbox = await startMailbox();
    const channels = new Channels({ url: mailbox.url, from: 'CX <cx@example.com>' });
    try {
      await api('PUT', '/api/v1/survey-settings', { quietHours: null });
      await api('POST', `/api/v1/surveys/${survey.id}/triggers`, { channel: 'email' });
      await api('POST', '/api/v1/interactions', [
        {
          externalId: 'I-1',
          customerId: 'C-1',
          channel: 'phone',
          touchpoint: 'billing',
          occurredAt: new Date().toISOString(),
        },
      ]);
      const result = await dispatchDue({ db: db(), channels, publicUrl: baseUrl }, new Date(), {
        workspaceId: ws.id,
      });
      expect(result).toMatchObject({ sent: 1 });
      const [mail] = await mailbox.waitFor(1);
      expect(typeof mail?.html).toBe('string');

      const page = await newPage();
      await page.setContent(mail?.html as string);
      const scores = page.locator('a[href*="/score/"]');
      expect(await scores.count()).toBe(11);
      const nine = page.getByRole('link', { name: '9', exact: true });
      expect(await nine.getAttribute('href')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/s\/[^/]+\/score\/9$/);
      const landed = await navigation(page, () => nine.click());
      expect(landed?.status()).toBe(200);
      expect(page.url()).toMatch(/\/s\/[^/]+$/);
      expect(await page.getByRole('textbox', { name: PROMOTER_QUESTION }).count()).toBe(1);

      const invitations = (await api('GET', `/api/v1/invitations?surveyId=${survey.id}`)) as {
        items: { id: string }[];
      };
      expect(invitations.items).toHaveLength(1);
      expect(await feedback(invitations.items[0]?.id as string)).toMatchObject({ nps: 9 });
    } finally {
      channels.close();
      await mailbox.close();
    }
  });
});
