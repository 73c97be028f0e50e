import { accessSync, constants } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe } from 'vitest';

/** Debian's Chromium, driven by playwright-core (`npx playwright install` is not used). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** Whether Chromium is installed at {@link CHROMIUM_PATH}. */
export const browserAvailable = isExecutable(CHROMIUM_PATH);

/** Under CI=true a missing browser fails the browser tests instead of skipping them. */
const browserRequired = process.env.CI === 'true';

const missingMessage = `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium)`;

/**
 * Launches headless Chromium. Throws when it is not installed, saying what to install (so under
 * CI=true, where {@link describeWithBrowser} does not skip, the suite fails with that message).
 */
export const launchBrowser = async (): Promise<Browser> => {
  if (!browserAvailable) {
    throw new Error(
      `${browserRequired ? 'CI=true requires the browser tests to run, but there is ' : ''}${missingMessage}`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
};

/**
 * A suite that needs a browser: one Chromium for the suite, launched before its tests and closed
 * after them. Without Chromium the suite is skipped locally, with a message saying what to install;
 * under CI=true it runs and fails in `beforeAll` instead.
 *
 * @example describeWithBrowser('survey pages', (browser) => { test('…', async () => { const page = await browser().newPage() }) })
 */
export const describeWithBrowser = (name: string, body: (browser: () => Browser) => void) => {
  const skip = !browserAvailable && !browserRequired;
  describe.skipIf(skip)(`${name}${skip ? ` — browser tests skipped: ${missingMessage}` : ''}`, () => {
    let browser: Browser | undefined;
    beforeAll(async () => {
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
    });
    body(() => {
      if (!browser) throw new Error('browser not launched yet');
      return browser;
    });
  });
};
