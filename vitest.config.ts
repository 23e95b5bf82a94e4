import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The e2e fault matrix runs its cases concurrently (each has a provider and a model of its own).
    maxConcurrency: 24,
  },
});
