/**
 * Moves a corrupt database file and its companions out of the way so a fresh file can be
 * created in its place, keeping the evidence:
 *
 *   vibefixer.sqlite      -> vibefixer.sqlite.corrupt-20261126T142300Z
 *   vibefixer.sqlite-wal  -> vibefixer.sqlite.corrupt-20261126T142300Z-wal
 *   vibefixer.sqlite-shm  -> vibefixer.sqlite.corrupt-20261126T142300Z-shm
 *   (a second quarantine in the same second gets the suffix -2, -3, …: ...corrupt-<ts>-2)
 *
 * Never: overwrite an existing file, delete anything, or decide what is corrupt (open.ts does).
 * Companions move before the main file: a stale `-wal` left beside a fresh database would be
 * replayed into it, while a main file left behind without its WAL is merely checked again.
 */
import fs from 'node:fs';

/** The companions SQLite may keep beside a database file. */
export const COMPANION_SUFFIXES = ['-wal', '-shm', '-journal'] as const;

/** `2026-11-26T14:23:00.123Z` -> `20261126T142300Z` (sortable, no characters unsafe in names). */
export function compactTimestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
}

function anyExists(base: string): boolean {
  return fs.existsSync(base) || COMPANION_SUFFIXES.some((suffix) => fs.existsSync(base + suffix));
}

/** Rename `dbPath` and its companions; returns the new path of the main file. */
export function quarantineFiles(dbPath: string, now: Date = new Date()): string {
  const stem = `${dbPath}.corrupt-${compactTimestamp(now)}`;
  let base = stem;
  for (let n = 2; anyExists(base); n++) base = `${stem}-${n}`;

  for (const suffix of COMPANION_SUFFIXES) {
    if (fs.existsSync(dbPath + suffix)) fs.renameSync(dbPath + suffix, base + suffix);
  }
  if (fs.existsSync(dbPath)) fs.renameSync(dbPath, base);
  return base;
}
