import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// `make bench BENCH=pages`: what each page costs a first-time visitor (bytes of wasm and
// JS as sent) and how long the room takes to hydrate, in the same Chromium as the tests.
export default defineConfig({
  ...base,
  testDir: './bench',
  outputDir: 'test-results/bench',
  timeout: 600_000,
});
