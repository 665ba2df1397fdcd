import { test as base, expect, type Page } from '@playwright/test';
import { startServer, type Server } from './server';

export { expect };
export type { Server };
export { findFreePort, startServer } from './server';

type WorkerFixtures = {
  /** One Warroom server with its own embedded Postgres, shared by all tests of a worker. */
  warroom: Server;
};

type TestFixtures = {
  /** Attaches the server's log output of a failed test to its report. */
  serverLogsOnFailure: void;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  warroom: [
    async ({}, use) => {
      const server = await startServer();
      try {
        await use(server);
      } finally {
        await server.stop();
      }
    },
    // Own timeout: the first start runs initdb, which can take far longer than a test.
    { scope: 'worker', timeout: 180_000 },
  ],

  serverLogsOnFailure: [
    async ({ warroom }, use, testInfo) => {
      const from = warroom.logs().length;
      await use();
      const logs = warroom.logs().slice(from);
      if (testInfo.status !== testInfo.expectedStatus && logs) {
        await testInfo.attach('warroom server log', {
          body: logs,
          contentType: 'text/plain',
        });
      }
    },
    { auto: true },
  ],
});

/** Wait until the wasm bundle has hydrated the page (the app sets <body data-hydrated="true">). */
export async function waitForHydration(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForFunction(() => document.body?.dataset.hydrated === 'true', undefined, {
    timeout,
  });
}

/** The roles the development sign-in offers (values of its `#sign-in-role` select). */
export type Role = 'viewer' | 'responder' | 'leadership' | 'admin';

/**
 * Sign in through the dev login form and wait to be sent on from /login. Without
 * `role` the form's default (responder) is kept.
 */
export async function signIn(page: Page, baseUrl: string, name: string, role?: Role): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  // Fill only after hydration, so hydration cannot reset the typed value.
  await waitForHydration(page);
  await page.getByLabel('Your name').fill(name);
  if (role) await page.locator('#sign-in-role').selectOption(role);
  await page.getByRole('button', { name: /Continue/ }).click();
  await page.waitForURL((url) => !url.pathname.endsWith('/login'));
}
