import { expect, test, waitForHydration } from './support/fixtures';

test('login page renders and hydrates under a strict, nonce-based CSP', async ({ page, warroom }) => {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto(`${warroom.baseUrl}/login`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toMatch(/script-src 'strict-dynamic' 'nonce-[A-Za-z0-9_-]{22}' 'wasm-unsafe-eval'/);
  await expect(page.getByRole('heading', { name: /Sign in/ })).toBeVisible();
  await expect(page.getByText('local use only').first()).toBeVisible();
  await waitForHydration(page);
  expect(violations).toEqual([]);
});
