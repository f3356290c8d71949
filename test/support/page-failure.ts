import type { Page } from 'playwright-core';

/**
 * Runs a browser test's steps; when one fails, saves a screenshot of the page to
 * `screenshotPath` and rethrows with what the page showed and what the server printed,
 * so that a failure in CI says why.
 */
export async function explainPageFailure<T>(
  page: Page,
  screenshotPath: string,
  serverOutput: () => string,
  steps: () => Promise<T>,
): Promise<T> {
  try {
    return await steps();
  } catch (error) {
    await page.screenshot({ path: screenshotPath }).catch(() => undefined);
    const shown = await page
      .locator('body')
      .innerText()
      .catch(() => '(page unavailable)');
    throw new Error(
      `${(error as Error).message}\n--- page text ---\n${shown}\n--- npm start output ---\n${serverOutput()}`,
      { cause: error },
    );
  }
}
