import { defineConfig } from 'vitest/config';

// Tests run against TypeScript sources directly; the crash tests spawn the built
// server (dist/), which `npm test` builds first through the `pretest` script.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
