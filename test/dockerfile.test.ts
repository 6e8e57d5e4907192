/**
 * What can be checked of the Dockerfile without a Docker engine (none runs on these machines):
 * every path it copies from the build context exists, the runtime is the Node tested here, it
 * runs as non-root with the database on a volume, and its start command names the built entry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

describe('Dockerfile', () => {
  it('copies only paths that exist in the build context', () => {
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1].split(/\s+/));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });

  it('builds on node:20-bookworm-slim, runs as a non-root user, keeps /data on a volume, stops with SIGTERM', () => {
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(dockerfile).toMatch(/^ENV [\s\S]*VIBEFIXER_DB_PATH=\/data\/vibefixer\.sqlite/m);
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });

  it('starts the built entry point that `npm run build` produces', () => {
    const cmd = /^CMD \["node", "([^"]+)"\]$/m.exec(dockerfile);
    expect(cmd?.[1]).toBe('dist/src/server/main.js');
    expect(existsSync(join(ROOT, cmd![1]))).toBe(true);
  });
});
