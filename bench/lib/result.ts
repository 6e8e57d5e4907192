/**
 * The stored shape of one bench run (bench/out/<name>.json; a --quick run writes
 * <name>.quick.json, so it never overwrites a full run): its question, header, tables and
 * targets. Scripts print it (markdown.ts) and save it here; `npm run bench:report` reads the files
 * back to build bench/RESULTS.md (the full run of each bench, else its quick run), so published
 * numbers always come from a script.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Header, otherBenchProcesses } from './header.js';
import { renderResult } from './markdown.js';
import { ROOT } from './build.js';

export const OUT_DIR = join(ROOT, 'bench', 'out');

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface Target {
  /** Names a row of the Targets table of RESULTS.md (report.ts, TARGETS); absent = a bench-local check. */
  id?: string;
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

/** Prints the result as markdown and writes bench/out/<name>.json (or <name>.quick.json). */
export function publish(result: BenchResult): void {
  const others = otherBenchProcesses();
  if (others > 0) result.notes.push(`**${others} other bench processes were running when this run ended: figures may be contaminated.**`);
  process.stdout.write(`\n${renderResult(result)}\n`);
  mkdirSync(OUT_DIR, { recursive: true });
  const file = join(OUT_DIR, `${result.name}${result.header.quick ? '.quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`(saved ${file})\n`);
}

/** One result per bench: its full run if there is one, else its quick run. */
export function loadResults(): BenchResult[] {
  let names: string[];
  try {
    names = readdirSync(OUT_DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const byName = new Map<string, BenchResult>();
  for (const f of names) {
    const r = JSON.parse(readFileSync(join(OUT_DIR, f), 'utf8')) as BenchResult;
    const seen = byName.get(r.name);
    if (seen === undefined || (seen.header.quick && !r.header.quick)) byName.set(r.name, r);
  }
  return [...byName.values()];
}
