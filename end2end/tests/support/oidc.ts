/**
 * A real OpenID Connect provider for browser tests: panva's `oidc-provider`
 * (a Koa app) running in the test process on http://127.0.0.1:<port>.
 *
 * Its built-in development interactions stand in for the provider's UI:
 *
 *   login page   <h1>Sign-in</h1>
 *                <input name="login" placeholder="Enter any login">  -> becomes the account id (`sub`)
 *                <input name="password" placeholder="and password"> -> required, any value is accepted
 *                <button>Sign-in</button>
 *   consent page <h1>Authorize</h1>, lists the requested scopes/claims
 *                <button>Continue</button>
 *   both pages   <a>[ Cancel ]</a> -> back to the client with error=access_denied
 *
 * Behaviour worth knowing when writing tests against it:
 * - The provider keeps a session cookie: a second authorization request from the
 *   same browser context skips both pages and redirects straight back with a new code.
 * - PKCE is required for every request and only `S256` is supported.
 * - Authorization codes are single-use; a replayed code or a wrong `code_verifier`
 *   gives `invalid_grant` from the token endpoint.
 * - The authorization response carries `iss` in addition to `code` and `state` (RFC 9207).
 * - By default (oidc-provider's own default, `conformIdTokenClaims: true`, like Okta's) the
 *   ID token of the authorization-code flow carries only `sub` and the protocol claims: the
 *   scope claims (email, email_verified, name) come from the UserInfo endpoint, with the
 *   access token (OpenID Connect Core 5.4). `idTokenClaims: true` puts them into the ID
 *   token as well (`conformIdTokenClaims: false`), as other real providers (Google) do.
 * - No `resource` parameter must be sent (resource indicators have no resource servers
 *   configured here, so it would fail with invalid_target), and no refresh tokens are issued.
 * - oidc-provider prints a few "development-only" warnings (node 20 runtime, in-memory
 *   storage, dev interactions); they are expected.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { Page } from '@playwright/test';
import { Provider, type Configuration } from 'oidc-provider';

export interface OidcProviderOptions {
  clientId: string;
  clientSecret: string;
  /** e.g. `http://127.0.0.1:<warroomPort>/auth/<providerKey>/callback` */
  redirectUris: string[];
  /**
   * Also put the scope claims into the ID token (oidc-provider's
   * `conformIdTokenClaims: false`). Default false: the provider's default, where they
   * come only from the UserInfo endpoint.
   */
  idTokenClaims?: boolean;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>`, no trailing slash; discovery is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  port: number;
  stop(): Promise<void>;
}

// Same range as the Warroom servers (see server.ts): below the Linux ephemeral ports.
const PORT_MIN = 21000;
const PORT_MAX = 29999;

/** "ada.lovelace@example.com" -> "Ada Lovelace" */
export function displayNameFor(email: string): string {
  const local = email.split('@')[0] ?? email;
  return local
    .split(/[._-]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join(' ');
}

/**
 * Bind `server` to a free port in the range. The server is in this process, so we
 * simply try ports (from a random start) until `listen` succeeds: no probe race.
 */
async function listenInRange(server: http.Server): Promise<number> {
  const span = PORT_MAX - PORT_MIN + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_MIN + ((offset + i) % span);
    const bound = await new Promise<boolean>((resolve) => {
      const onError = (): void => resolve(false);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        resolve(true);
      });
    });
    if (bound) return port;
  }
  throw new Error(`no free TCP port in ${PORT_MIN}-${PORT_MAX}`);
}

/** Start a provider with a single confidential client (authorization code + PKCE). */
export async function startOidcProvider(opts: OidcProviderOptions): Promise<OidcProvider> {
  // The issuer must contain the port, so bind first and attach the provider afterwards.
  const server = http.createServer();
  const port = await listenInRange(server);
  const issuer = `http://127.0.0.1:${port}`;

  const configuration: Configuration = {
    clients: [
      {
        client_id: opts.clientId,
        client_secret: opts.clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        // oidc-provider accepts client_secret_post too for a client registered with
        // client_secret_basic (it treats the two as one method).
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    // By default PKCE is only required for public clients; S256 is the only method it supports.
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    // oidc-provider's default (true) puts scope claims only into userinfo when an access
    // token for it is issued; false puts them into the ID token too.
    conformIdTokenClaims: !(opts.idTokenClaims ?? false),
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, email: id, email_verified: true, name: displayNameFor(id) }),
    }),
    // Fresh keys per provider instead of oidc-provider's built-in (publicly known) dev keys.
    jwks: {
      keys: [
        {
          ...crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }),
          kid: crypto.randomUUID(),
          use: 'sig',
          alg: 'RS256',
        },
      ],
    },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    // Fixed lifetimes (plenty for a test run); the defaults each print a notice when used.
    ttl: { AccessToken: 3600, IdToken: 3600, Grant: 3600, Interaction: 3600, Session: 3600 },
  };

  // Plain http is fine: oidc-provider only insists on a valid web URI as issuer.
  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Browsers keep connections alive; don't wait for them to time out.
      server.closeAllConnections();
    });
    return stopped;
  };

  return { issuer, port, stop };
}

/**
 * On the provider's login page: sign in as `login` (an e-mail address, which becomes
 * the account id) and approve the consent page. The browser is then redirected to the
 * client's redirect URI; wait for that in the caller.
 */
export async function signInAtProvider(page: Page, login: string): Promise<void> {
  await page.getByPlaceholder('Enter any login').fill(login);
  await page.getByPlaceholder('and password').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('heading', { name: 'Authorize' }).waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();
}
