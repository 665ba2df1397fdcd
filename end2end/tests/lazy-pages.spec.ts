// Code splitting: the admin pages (and other rarely used ones) come in wasm chunks of
// their own, fetched when the page is first shown, by a client-side navigation or while
// a server-rendered page hydrates; the bundle is served precompressed and cacheable.
import crypto from 'node:crypto';
import { type Page, type Request } from '@playwright/test';
import { expect, signIn, test, waitForHydration } from './support/fixtures';

function unique(name: string): string {
  return `${name} ${crypto.randomBytes(3).toString('hex')}`;
}

/** The wasm files a page fetched, by path, in the order asked for. */
function wasmRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (request: Request) => {
    const path = new URL(request.url()).pathname;
    if (path.endsWith('.wasm')) seen.push(path);
  });
  return seen;
}

/** Errors the page reported (hydration panics, CSP refusals, failed chunks). */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

/** The main bundle the server-rendered page preloads (`/pkg/warroom.<hash>.wasm`). */
async function mainWasm(page: Page): Promise<string> {
  const href = await page
    .locator('link[rel="preload"][as="fetch"][href*="/pkg/warroom"]')
    .first()
    .getAttribute('href');
  expect(href).toBeTruthy();
  return href!;
}

test('an admin page reached from the room by client-side navigation loads its chunk and hydrates', async ({ page, warroom }) => {
  const errors = pageErrors(page);
  await signIn(page, warroom.baseUrl, unique('Lazy Admin'), 'admin');

  // Declaring is a lazily loaded page too: served, hydrated, and working on first load.
  await page.goto(`${warroom.baseUrl}/incidents/new`);
  await waitForHydration(page);
  const title = unique('Split bundle');
  await page.locator('#title').fill(title);
  await page.locator('input[name="severity"]').first().check();
  await page.getByRole('button', { name: 'Declare incident' }).click();
  await page.waitForURL(/\/incidents\/\d+$/);
  await expect(page.getByRole('heading', { name: title })).toBeVisible();

  // Open the room itself, fresh (nothing from the HTTP cache): the main bundle only.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const fetched = wasmRequests(page);
  await page.reload();
  await waitForHydration(page);
  const main = await mainWasm(page);
  expect([...new Set(fetched)]).toEqual([main]);

  // A marker on the window survives client-side navigations only.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await page.locator('.topnav').getByRole('link', { name: 'Admin' }).click();
  await page.waitForURL(/\/admin\/people$/);
  await expect(page.getByRole('heading', { name: 'People and roles' })).toBeVisible();
  await expect(page.getByTestId('members')).toBeVisible();
  const chunks = fetched.filter((path) => path !== main);
  expect(chunks.length, `chunks fetched for /admin/people: ${fetched.join(', ')}`).toBeGreaterThan(0);

  // Another lazily loaded page, and it is interactive: a token made without a page load.
  await page.getByRole('navigation', { name: 'Administration' }).getByRole('link', { name: 'API tokens' }).click();
  await page.waitForURL(/\/admin\/tokens$/);
  const tokenName = unique('Lazy token');
  await page.locator('#token-name').fill(tokenName);
  await page.getByLabel(/incidents:read/).check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('new-token-secret')).toHaveValue(/^wr_/);
  await expect(page.getByTestId('tokens').locator('tbody tr', { hasText: tokenName })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(errors).toEqual([]);
});

test('a lazily loaded page rendered by the server hydrates once its chunk is loaded', async ({ page, warroom }) => {
  const errors = pageErrors(page);
  await signIn(page, warroom.baseUrl, unique('Lazy Admin'), 'admin');
  const fetched = wasmRequests(page);
  const response = await page.goto(`${warroom.baseUrl}/admin/audit`);
  expect(response?.status()).toBe(200);
  // Rendered in full by the server, before any wasm ran.
  expect(await response!.text()).toContain('data-testid="audit"');
  await waitForHydration(page);
  const main = await mainWasm(page);
  const chunks = fetched.filter((path) => path !== main);
  expect(chunks.length, `wasm fetched: ${fetched.join(', ')}`).toBeGreaterThan(0);
  // Interactive: its admin tabs navigate on the client.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
  await page.getByRole('link', { name: 'People' }).first().click();
  await page.waitForURL(/\/admin\/people$/);
  await expect(page.getByTestId('members')).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
  expect(errors).toEqual([]);
});

test('the bundle is sent precompressed with hashed names cached for good', async ({ page, request, warroom }) => {
  await page.goto(`${warroom.baseUrl}/login`);
  const main = await mainWasm(page);
  expect(main).toMatch(/^\/pkg\/warroom\.[A-Za-z0-9_-]{22}\.wasm$/);
  for (const [accept, encoding] of [
    ['br', 'br'],
    ['gzip', 'gzip'],
    ['identity', undefined],
  ] as const) {
    const answer = await request.get(`${warroom.baseUrl}${main}`, { headers: { 'Accept-Encoding': accept } });
    expect(answer.status()).toBe(200);
    const headers = answer.headers();
    expect(headers['content-encoding'], accept).toBe(encoding);
    expect(headers['content-type']).toBe('application/wasm');
    expect(headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(headers['vary']).toBe('accept-encoding');
    // Decoded, it is WebAssembly.
    expect([...(await answer.body()).subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
  }
  // Pages themselves are still never stored.
  const login = await request.get(`${warroom.baseUrl}/login`);
  expect(login.headers()['cache-control']).toBe('no-store');
});
