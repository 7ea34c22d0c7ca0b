import { defineConfig } from 'vitest/config';

// Starting a cluster takes seconds to a minute (longer when the node image is built first).
export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
