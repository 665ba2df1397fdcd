import { test, expect, waitForHydration } from './support/fixtures';

test('login page renders and hydrates', async ({ page, warroom }) => {
  await page.goto(`${warroom.baseUrl}/login`);
  await expect(page.getByRole('heading', { name: /Sign in/ })).toBeVisible();
  await expect(page.getByText('local use only').first()).toBeVisible();
  await waitForHydration(page);
});
