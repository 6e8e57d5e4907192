/**
 * Global setup of the `postgres` test project (vitest.config.ts): one real PostgreSQL server for
 * the whole run, shared by its test files; each server a test starts gets its own database
 * (test/helpers/storage.ts), so files and tests never see each other's rows.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from '../helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL (database `postgres`). */
    postgresAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Several files run side by side and each server opens a pool: room for all of them.
  const server = await startPostgres({ settings: { max_connections: '200' } });
  project.provide('postgresAdminUrl', server.url);
  return () => server.destroy();
}
