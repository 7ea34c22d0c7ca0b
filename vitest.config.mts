import { defineConfig } from 'vitest/config';

// Three groups: pure/simulated (fast, parallel), integration (real FUSE + SQLite + corosync on this
// machine), lab (the Docker Compose cluster; one file at a time, long timeouts). The groups run one
// after the other (groupOrder), so the lab never competes with the FUSE tests for the 2 cores.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.mts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/sim/**/*.test.ts'],
          testTimeout: 120_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_200_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
