/**
 * DESIGN.md "Roles and boundaries", enforced: reads every source file's imports and fails when a
 * folder reaches past its role. Imports point one way: http|ws → api → state → persist → workers; src/model is
 * the neutral folder (records, thread protocol) that both threads import.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

const FILES = [...sources('src'), ...sources('workers')];

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

/** Files (by folder prefix) that import a module matching `target`. */
function importers(target: (spec: string, file: string) => boolean): string[] {
  return FILES.filter((f) => importsOf(f).some((spec) => target(spec, f)));
}

/** Resolves a relative import to a project path like `src/state/x.js`. */
function resolved(spec: string, file: string): string {
  return spec.startsWith('.') ? relative(ROOT, join(ROOT, file, '..', spec)) : spec;
}

const folder = (f: string) => f.split('/').slice(0, 2).join('/');

describe('boundaries of DESIGN.md', () => {
  it('finds the sources it checks', () => {
    expect(FILES.length).toBeGreaterThan(20);
  });

  it('only src/http and src/ws import uWebSockets.js', () => {
    const bad = importers((s) => s === 'uWebSockets.js').filter((f) => !/^src\/(http|ws)\//.test(f));
    expect(bad).toEqual([]);
  });

  it('only workers/ import better-sqlite3', () => {
    expect(importers((s) => s === 'better-sqlite3').filter((f) => !f.startsWith('workers/'))).toEqual([]);
  });

  it('only workers/postgres/ imports pg (node-postgres)', () => {
    expect(importers((s) => s === 'pg').filter((f) => !f.startsWith('workers/postgres/'))).toEqual([]);
  });

  it('only the worker client (and the worker itself) import piscina', () => {
    const bad = importers((s) => s === 'piscina').filter((f) => f !== 'src/persist/client.ts' && !f.startsWith('workers/'));
    expect(bad).toEqual([]);
  });

  it('only src/config.ts reads process.env', () => {
    const bad = FILES.filter((f) => /process\.env\b/.test(readFileSync(join(ROOT, f), 'utf8')) && f !== 'src/config.ts');
    expect(bad).toEqual([]);
  });

  it('imports point one way: ws → http → admin → api → state, persist → workers, both on src/model; game stays pure', () => {
    // No carve-outs: ports (state's change sink and session loader) are implemented structurally.
    const forbidden: Record<string, RegExp> = {
      'src/game': /^(src\/(?!game|model\/records)|uWebSockets|better-sqlite3|piscina|node:(?!crypto))/,
      'src/http': /^src\/(ws|persist|server)\//,
      'src/ws': /^src\/(persist|server)\//,
      'src/api': /^src\/(http|ws|admin|persist|server)\//,
      // The admin console's role: auth, lockout, cookie, Origin, audit log, admin commands and views.
      // Transports (uWS) stay in src/http and src/ws; storage is reached only through the change port.
      'src/admin': /^(src\/(http|ws|persist|server)\/|uWebSockets|better-sqlite3|piscina|workers\/)/,
      'src/state': /^src\/(http|ws|api|admin|persist|server)\//,
      'src/persist': /^src\/(http|ws|api|state|game|server)\//,
      // The neutral folder both threads import: records and the thread protocol, no I/O.
      'src/model': /^(src\/(?!model\/)|workers\/|uWebSockets|better-sqlite3|piscina|node:)/,
      workers: /^(src\/(?!model\/)|uWebSockets)/,
    };
    const violations: string[] = [];
    for (const file of FILES) {
      const rule = forbidden[folder(file)] ?? forbidden[file.split('/')[0]];
      if (!rule) continue;
      for (const spec of importsOf(file)) {
        const target = resolved(spec, file);
        if (rule.test(target)) violations.push(`${file} → ${target}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('game code imports only record types (type-only) and node:crypto in seed.ts', () => {
    const bad = sources('src/game').flatMap((f) =>
      importsOf(f)
        .map((s) => resolved(s, f))
        .filter((t) => !t.startsWith('src/game/') && t !== 'src/model/records.js' && !(t === 'node:crypto' && f.endsWith('seed.ts')))
        .map((t) => `${f} → ${t}`),
    );
    expect(bad).toEqual([]);
  });
});
