/**
 * The stored shape of one bench run (bench/out/<name>.json): its question, header, tables and
 * targets. Scripts print it (markdown.ts) and save it here; `npm run bench:report` reads every
 * file back to build bench/RESULTS.md, so published numbers always come from a script.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Header } from './header.js';
import { renderResult } from './markdown.js';
import { ROOT } from './server.js';

export const OUT_DIR = join(ROOT, 'bench', 'out');

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  /** null when it could not be measured in this run. */
  met: boolean | null;
}

export interface BenchResult {
  name: string;
  question: string;
  header: Header;
  tables: Table[];
  targets: Target[];
  notes: string[];
  /** Per-trial raw figures, for anyone who wants to recompute. */
  raw: unknown;
}

/** Prints the result as markdown and writes bench/out/<name>.json. */
export function publish(result: BenchResult): void {
  process.stdout.write(`\n${renderResult(result)}\n`);
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${result.name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`(saved ${file})\n`);
}

export function loadResults(): BenchResult[] {
  let names: string[];
  try {
    names = readdirSync(OUT_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.map((f) => JSON.parse(readFileSync(join(OUT_DIR, f), 'utf8')) as BenchResult);
}
