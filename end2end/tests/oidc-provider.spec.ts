// The OIDC provider harness on its own (no Warroom server): it must behave like a
// real provider in exactly the ways Warroom's login tests rely on.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { signInAtProvider, startOidcProvider, type OidcProvider } from './support/oidc';

const clientId = 'warroom-test';
const clientSecret = 'test-secret';

// A stand-in for the client's callback. (page.route cannot do this: Playwright does
// not intercept the target of a redirect, and the provider redirects to the callback.)
let callbackServer: http.Server;
let redirectUri: string;
let provider: OidcProvider;
/** The same provider configured to put the scope claims into the ID token as well. */
let lenient: OidcProvider;
test.beforeAll(async () => {
  callbackServer = http.createServer((_req, res) => res.end('callback reached'));
  await new Promise<void>((resolve) => callbackServer.listen(0, '127.0.0.1', resolve));
  redirectUri = `http://127.0.0.1:${(callbackServer.address() as AddressInfo).port}/auth/test/callback`;
  provider = await startOidcProvider({ clientId, clientSecret, redirectUris: [redirectUri] });
  lenient = await startOidcProvider({ clientId, clientSecret, redirectUris: [redirectUri], idTokenClaims: true });
});
test.afterAll(async () => {
  await provider?.stop();
  await lenient?.stop();
  callbackServer?.closeAllConnections();
  callbackServer?.close();
});

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Start an authorization request in the browser, sign in if `login` is given, and
 * return the query of the redirect back to the client.
 */
async function authorize(
  page: Page,
  params: { state: string; nonce: string; challenge: string },
  login?: string,
  at: OidcProvider = provider,
): Promise<URLSearchParams> {
  const url = new URL(`${at.issuer}/auth`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    state: params.state,
    nonce: params.nonce,
    code_challenge: params.challenge,
    code_challenge_method: 'S256',
  }).toString();
  await page.goto(url.href);
  if (login) await signInAtProvider(page, login);
  await page.waitForURL((u) => u.href.startsWith(redirectUri));
  return new URL(page.url()).searchParams;
}

async function exchange(
  request: APIRequestContext,
  code: string,
  verifier: string,
  auth: 'basic' | 'post',
  at: OidcProvider = provider,
) {
  const form: Record<string, string> = {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    code_verifier: verifier,
  };
  const headers: Record<string, string> = {};
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  } else {
    Object.assign(form, { client_id: clientId, client_secret: clientSecret });
  }
  const response = await request.post(`${at.issuer}/token`, { form, headers });
  return { status: response.status(), body: await response.json() };
}

test('publishes a discovery document with PKCE S256', async ({ request }) => {
  const response = await request.get(`${provider.issuer}/.well-known/openid-configuration`);
  expect(response.status()).toBe(200);
  const discovery = await response.json();
  expect(discovery).toMatchObject({
    issuer: provider.issuer,
    authorization_endpoint: `${provider.issuer}/auth`,
    token_endpoint: `${provider.issuer}/token`,
    jwks_uri: `${provider.issuer}/jwks`,
    code_challenge_methods_supported: ['S256'],
  });
  expect(discovery.token_endpoint_auth_methods_supported).toEqual(
    expect.arrayContaining(['client_secret_basic', 'client_secret_post']),
  );
});

function idTokenClaims(idToken: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(idToken.split('.')[1]!, 'base64url').toString());
}

test('discovery names the UserInfo endpoint', async ({ request }) => {
  const discovery = await (await request.get(`${provider.issuer}/.well-known/openid-configuration`)).json();
  expect(discovery.userinfo_endpoint).toBe(`${provider.issuer}/me`);
});

test('with idTokenClaims the ID token carries the scope claims too', async ({ page, request }) => {
  const pair = pkcePair();
  const callback = await authorize(
    page,
    { state: 'state-l', nonce: 'nonce-l', challenge: pair.challenge },
    'grace.hopper@example.com',
    lenient,
  );
  const tokens = await exchange(request, callback.get('code')!, pair.verifier, 'basic', lenient);
  expect(tokens.status).toBe(200);
  expect(idTokenClaims(tokens.body.id_token)).toMatchObject({
    iss: lenient.issuer,
    sub: 'grace.hopper@example.com',
    email: 'grace.hopper@example.com',
    email_verified: true,
    name: 'Grace Hopper',
    nonce: 'nonce-l',
  });
});

test('authorization code flow: login, consent, single-use code bound to its verifier', async ({
  page,
  request,
}) => {
  const first = pkcePair();
  const callback = await authorize(
    page,
    { state: 'state-1', nonce: 'nonce-1', challenge: first.challenge },
    'ada.lovelace@example.com',
  );
  expect(callback.get('state')).toBe('state-1');
  expect(callback.get('iss')).toBe(provider.issuer);
  const code = callback.get('code');
  expect(code).toBeTruthy();

  const tokens = await exchange(request, code!, first.verifier, 'basic');
  expect(tokens.status).toBe(200);
  const idToken = idTokenClaims(tokens.body.id_token);
  expect(idToken).toMatchObject({
    iss: provider.issuer,
    aud: clientId,
    sub: 'ada.lovelace@example.com',
    nonce: 'nonce-1',
  });
  // oidc-provider's default, like Okta's: the scope claims are not in the ID token…
  expect(idToken).not.toHaveProperty('email');
  expect(idToken).not.toHaveProperty('email_verified');
  expect(idToken).not.toHaveProperty('name');
  // …but at the UserInfo endpoint, for the access token, about the same subject.
  const userinfo = await request.get(`${provider.issuer}/me`, {
    headers: { authorization: `Bearer ${tokens.body.access_token}` },
  });
  expect(userinfo.status()).toBe(200);
  expect(await userinfo.json()).toMatchObject({
    sub: 'ada.lovelace@example.com',
    email: 'ada.lovelace@example.com',
    email_verified: true,
    name: 'Ada Lovelace',
  });

  // The provider session remembers the sign-in and consent: no pages this time.
  const second = pkcePair();
  const again = await authorize(page, { state: 'state-2', nonce: 'nonce-2', challenge: second.challenge });
  expect(again.get('state')).toBe('state-2');
  // Wrong verifier. (client_secret_post authenticates fine, or this would be invalid_client.)
  const wrong = await exchange(request, again.get('code')!, first.verifier, 'post');
  expect(wrong).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

  // A code can be redeemed only once. (Replaying one also revokes its whole grant,
  // which is why this comes last.)
  const replay = await exchange(request, code!, first.verifier, 'basic');
  expect(replay).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
});
