import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // VM and moto tests are heavy; the machine has 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
