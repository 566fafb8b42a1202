import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/helpers/global-setup.ts'],
    reporters: process.env.KEYWARD_TEST_JSON ? ['default', ['json', { outputFile: process.env.KEYWARD_TEST_JSON }]] : ['default'],
  },
});
