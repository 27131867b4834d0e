import { defineConfig } from 'vitest/config';

// Cross-package tests: black-box API, sandbox escapes, identity, browser end-to-end.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The scale-out tests run several servers on one PostgreSQL (CONCIERGE_TEST_DATABASE_URL, else a private one).
    globalSetup: ['server/src/testing/postgres-global-setup.ts'],
  },
});
