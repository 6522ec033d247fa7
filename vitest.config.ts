import { defineConfig } from 'vitest/config';

// Two projects: unit tests beside the code never boot VMs or build images, so
// they get no global setup; integration and end-to-end tests under test/ get
// the base image built once before any of their files run.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // VM and moto tests are heavy; the machine has 2 cores.
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/**/*.test.ts'], globalSetup: ['test/global-setup.ts'] } },
    ],
  },
});
