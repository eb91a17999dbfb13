// Test runner settings: Node-side tests live under test/unit and test/integration.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/proof/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Integration tests spawn servers and child processes; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
