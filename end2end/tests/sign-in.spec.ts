// Signing in through a real OpenID Connect provider (support/oidc.ts), with the access
// policy from the environment: who is admitted, with which role, and signing out.
//
// One provider and one Warroom per worker (both take seconds to start). Every test signs
// in as its own person, so tests do not depend on each other's sessions. The provider
// keeps its default of delivering e-mail and name from the UserInfo endpoint only (as Okta
// does); the last tests run against one that puts them into the ID token as well.
import crypto from 'node:crypto';
import { type Browser, type BrowserContext, type Page } from '@playwright/test';
import {
  expect,
  findFreePort,
  startServer,
  test as base,
  waitForHydration,
  type Server,
} from './support/fixtures';
import { displayNameFor, signInAtProvider, startOidcProvider, type OidcProvider } from './support/oidc';

const clientId = 'warroom-e2e';
const clientSecret = crypto.randomBytes(24).toString('base64url');
const providerName = 'Test SSO';
const allowedDomain = 'example.com';
/** Listed in WARROOM_ADMINS: always allowed, always admin. */
const admin = 'ada.lovelace@example.com';

interface Sso {
  provider: OidcProvider;
  warroom: Server;
}

/**
 * A provider and a Warroom that signs in with it. The provider must know Warroom's
 * redirect URI and Warroom the provider's issuer: choose Warroom's port first, start the
 * provider, then Warroom on that port. `idTokenClaims`: the provider also puts the scope
 * claims into the ID token.
 */
async function startSso(idTokenClaims: boolean): Promise<Sso & { stop(): Promise<void> }> {
  let port: number;
  let provider: OidcProvider;
  for (;;) {
    port = await findFreePort();
    provider = await startOidcProvider({
      clientId,
      clientSecret,
      redirectUris: [`http://127.0.0.1:${port}/auth/oidc/callback`],
      idTokenClaims,
    });
    if (provider.port !== port) break;
    await provider.stop(); // it took the port we had chosen for Warroom
  }
  try {
    const warroom = await startServer({
      port,
      env: {
        WARROOM_OIDC_ISSUER: provider.issuer,
        WARROOM_OIDC_CLIENT_ID: clientId,
        WARROOM_OIDC_CLIENT_SECRET: clientSecret,
        WARROOM_OIDC_NAME: providerName,
        WARROOM_ADMINS: admin,
        WARROOM_ALLOWED_DOMAINS: allowedDomain,
        // Asked for (startServer's default) but must stay off next to a provider.
        WARROOM_DEV_LOGIN: '1',
      },
    });
    return {
      provider,
      warroom,
      stop: async () => {
        try {
          await warroom.stop();
        } finally {
          await provider.stop();
        }
      },
    };
  } catch (err) {
    await provider.stop();
    throw err;
  }
}

const test = base.extend<object, { sso: Sso }>({
  sso: [
    async ({}, use) => {
      const sso = await startSso(false);
      try {
        await use(sso);
      } finally {
        await sso.stop();
      }
    },
    { scope: 'worker', timeout: 180_000 },
  ],
  // The shared fixtures (server logs of failed tests) use this worker's Warroom.
  warroom: [async ({ sso }, use) => use(sso.warroom), { scope: 'worker' }],
});

/**
 * From Warroom's sign-in page through the provider's login and consent pages, back to
 * Warroom (wherever it sends the browser: `/` or `/login?error=…`).
 */
async function signInWithSso(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByRole('link', { name: `Continue with ${providerName}` }).click();
  await signInAtProvider(page, email);
  await page.waitForURL((url) => url.href.startsWith(`${baseUrl}/`));
}

/** A new browser (own cookies, at Warroom and at the provider) signed in as `email`. */
async function browserSignedIn(browser: Browser, baseUrl: string, email: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await signInWithSso(page, baseUrl, email);
  await expect(page).toHaveURL(`${baseUrl}/`);
  return { context, page };
}

/** Going to a signed-in-only page ends on the sign-in page. */
async function expectSignedOut(page: Page, baseUrl: string): Promise<void> {
  await page.goto(`${baseUrl}/incidents`);
  await page.waitForURL((url) => url.pathname === '/login');
  await expect(page.getByRole('link', { name: `Continue with ${providerName}` })).toBeVisible();
  await expect(page.getByTestId('me')).toHaveCount(0);
}

test('an admin signs in with the identity provider, sees their session, and signs out', async ({ page, sso }) => {
  const { warroom, provider } = sso;
  await page.goto(`${warroom.baseUrl}/login`);
  const button = page.getByRole('link', { name: `Continue with ${providerName}` });
  await expect(button).toBeVisible();
  // No development sign-in next to a real provider, even with WARROOM_DEV_LOGIN=1.
  await expect(page.locator('#sign-in-name')).toHaveCount(0);

  const authorization = page.waitForRequest((r) => r.url().startsWith(`${provider.issuer}/auth?`));
  await button.click();
  const query = new URL((await authorization).url()).searchParams;
  expect(query.get('client_id')).toBe(clientId);
  expect(query.get('redirect_uri')).toBe(`${warroom.baseUrl}/auth/oidc/callback`);
  expect(query.get('response_type')).toBe('code');
  expect(query.get('code_challenge_method')).toBe('S256');
  expect(query.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(query.get('state')).toBeTruthy();
  expect(query.get('nonce')).toBeTruthy();
  expect(query.get('scope')?.split(' ').sort()).toEqual(['email', 'openid', 'profile']);

  await signInAtProvider(page, admin);
  await page.waitForURL(`${warroom.baseUrl}/`);
  await expect(page.getByTestId('me')).toHaveText(displayNameFor(admin));
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toBeVisible();
  const cookies = await page.context().cookies(warroom.baseUrl);
  expect(cookies.find((c) => c.name === 'warroom_session')).toMatchObject({ httpOnly: true, sameSite: 'Lax' });

  await page.getByTestId('me').click();
  await page.waitForURL(`${warroom.baseUrl}/account`);
  await expect(page.getByTestId('my-role')).toHaveText('Admin');
  const sessions = page.getByTestId('sessions').locator('tbody tr');
  await expect(sessions).toHaveCount(1);
  await expect(sessions.first()).toContainText('this browser');
  await expect(sessions.first()).toContainText('oidc');
  await expect(sessions.first().getByRole('button', { name: 'End' })).toHaveCount(0);

  await waitForHydration(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/login');
  await expectSignedOut(page, warroom.baseUrl);
});

test('an address at a domain not on the allow-list is refused and gets no session', async ({ page, sso }) => {
  const { warroom } = sso;
  await signInWithSso(page, warroom.baseUrl, 'mallory@elsewhere.test');
  await expect(page).toHaveURL(`${warroom.baseUrl}/login?error=not_allowed`);
  await expect(page.getByTestId('sign-in-problem')).toHaveText(/^This account is not allowed to use this Warroom/);
  await expect(page.getByTestId('me')).toHaveCount(0);
  await expectSignedOut(page, warroom.baseUrl);
});

test('a person from an allowed domain gets the default viewer role', async ({ page, sso }) => {
  const { warroom } = sso;
  const email = 'grace.hopper@example.com';
  await signInWithSso(page, warroom.baseUrl, email);
  await expect(page).toHaveURL(`${warroom.baseUrl}/`);
  // Wait for the top bar to know the person before looking for what it leaves out.
  await expect(page.getByTestId('me')).toHaveText(displayNameFor(email));
  await expect(page.getByRole('link', { name: 'Declare' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Admin', exact: true })).toHaveCount(0);

  await page.goto(`${warroom.baseUrl}/account`);
  await expect(page.getByTestId('my-role')).toHaveText('Viewer');

  const response = await page.goto(`${warroom.baseUrl}/admin/people`);
  expect(response?.status()).toBe(403);
  await expect(page.getByTestId('members')).toHaveCount(0);
});

test('signing out everywhere ends the sessions of every browser', async ({ browser, sso }) => {
  const { warroom } = sso;
  const email = 'alan.turing@example.com';
  const first = await browserSignedIn(browser, warroom.baseUrl, email);
  const second = await browserSignedIn(browser, warroom.baseUrl, email);
  try {
    await first.page.goto(`${warroom.baseUrl}/account`);
    const sessions = first.page.getByTestId('sessions').locator('tbody tr');
    await expect(sessions).toHaveCount(2);
    await expect(sessions.filter({ hasText: 'this browser' })).toHaveCount(1);
    await expect(sessions.getByRole('button', { name: 'End' })).toHaveCount(1);

    await waitForHydration(first.page);
    await first.page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await first.page.waitForURL((url) => url.pathname === '/login');

    // The other browser still has its cookie, but its session is over.
    await expectSignedOut(second.page, warroom.baseUrl);
    await expectSignedOut(first.page, warroom.baseUrl);
  } finally {
    await first.context.close();
    await second.context.close();
  }
});

test('a person also signs in with a provider that puts the claims into the ID token', async ({ page }) => {
  test.setTimeout(180_000);
  const sso = await startSso(true);
  try {
    const { warroom } = sso;
    const email = 'katherine.johnson@example.com';
    await signInWithSso(page, warroom.baseUrl, email);
    await expect(page).toHaveURL(`${warroom.baseUrl}/`);
    await expect(page.getByTestId('me')).toHaveText(displayNameFor(email));
    await page.goto(`${warroom.baseUrl}/account`);
    await expect(page.getByTestId('my-role')).toHaveText('Viewer');
  } finally {
    await sso.stop();
  }
});
