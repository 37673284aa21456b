import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests start real tools and servers; two workers match the 2-core machines.
    maxWorkers: 2,
    // Each project's first globalSetup gives the run one temp folder (TMPDIR) and removes it after:
    // a root-level globalSetup would run after the projects' own (vitest 4), too late for the servers.
    projects: [
      { test: { name: 'unit', include: ['src/**/*.test.ts'], globalSetup: ['test/harness/tmp-root.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/harness/tmp-root.ts', 'test/harness/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
