import { defineConfig } from '@playwright/test';

// Browser tests for Warroom. There is deliberately no `webServer` block: each
// worker starts (and stops) its own server via the `warroom` fixture in
// tests/support/fixtures.ts, so specs can also spin up extra servers.
export default defineConfig({
  testDir: './tests',
  outputDir: 'test-results',
  // One worker: each server runs its own Postgres and this is a 2-core box.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  use: {
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      // Use the distro Chromium; `npx playwright install` is not available here.
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
