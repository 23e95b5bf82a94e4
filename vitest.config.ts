import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql has no `exports` map: Node loads its CommonJS build (as graphql-yoga does), Vite would pick the
  // ESM one, and two graphql instances cannot share a schema. Resolve it the way Node does.
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The e2e fault matrix runs its cases concurrently (each has a provider and a model of its own).
    maxConcurrency: 24,
  },
});
