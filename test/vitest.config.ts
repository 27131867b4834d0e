import { defineConfig } from 'vitest/config';

// Cross-package tests: black-box API, sandbox escapes, identity, browser end-to-end.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
