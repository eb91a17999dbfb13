// Runs only the proof suite (test/proof; npm test runs it too): npx vitest run -c test/proof/vitest.config.ts
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../../', import.meta.url)),
    include: ['test/proof/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 30_000,
    // Child processes, mounts and real servers; two cores, so keep the pool small.
    maxWorkers: 2,
  },
});
