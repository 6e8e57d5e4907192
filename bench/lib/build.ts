/**
 * Which server build is under test. Others rebuild dist/ while benches run (npm test builds
 * first), so a run never executes dist/ directly: at the first call it copies the compiled server
 * (dist/src, dist/workers) and the baselines into bench/out/build/<content hash>/ and every trial,
 * and the database seeding, use that frozen copy. The hash names the build in the header.
 * node_modules and package.json ("type": "module") are found by walking up to the repository.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Repository root (this file runs as dist/bench/lib/build.js). */
export const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const FROZEN_DIRS = ['dist/src', 'dist/workers', 'dist/bench/baselines'];

export interface Build {
  /** First 12 hex digits of a SHA-256 over the frozen files' paths and contents. */
  id: string;
  /** Newest modification time among the frozen files: when dist/ was last compiled. */
  builtAt: string;
  /** The frozen copy; mirrors the repository layout (root/dist/src/server/main.js, ...). */
  root: string;
}

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));
}

let frozen: Build | null = null;

export function frozenBuild(): Build {
  if (frozen !== null) return frozen;
  const files = FROZEN_DIRS.flatMap((d) => jsFiles(join(ROOT, d))).sort();
  if (!files.some((f) => f.endsWith(join('dist', 'src', 'server', 'main.js')))) throw new Error('dist/src/server/main.js is missing: run `npm run build` first');
  const hash = createHash('sha256');
  let newest = 0;
  for (const f of files) {
    hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
    newest = Math.max(newest, statSync(f).mtimeMs);
  }
  const id = hash.digest('hex').slice(0, 12);
  const root = join(ROOT, 'bench', 'out', 'build', id);
  if (!existsSync(join(root, 'package.json'))) {
    for (const d of FROZEN_DIRS) cpSync(join(ROOT, d), join(root, d), { recursive: true });
    // Written last: its presence marks a complete copy.
    writeFileSync(join(root, 'package.json'), readFileSync(join(ROOT, 'package.json')));
  }
  frozen = { id, builtAt: new Date(newest).toISOString(), root };
  return frozen;
}

/** Imports a module of the frozen build, e.g. `frozenImport('dist/workers/persist.js')`. */
export function frozenImport<T>(path: string): Promise<T> {
  return import(pathToFileURL(join(frozenBuild().root, path)).href) as Promise<T>;
}
