/**
 * Shared fixtures for the persistence-worker tests (test/worker.*.test.ts): a temporary
 * directory per test, record builders, batch encoding, and a typed success check for replies.
 * Never: keeps state between tests, or talks to a worker thread (tests call `handle()`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { emptyStats } from '../src/state/hot-state.js';
import { handle } from '../workers/persist.js';
import {
  decode,
  encodeBatch,
  type Batch,
  type ColdSessionRow,
  type HighScoreRecord,
  type LevelRecord,
  type NoticeRecord,
  type Reply,
  type ReplyOf,
  type SessionRecord,
  type SettingRecord,
  type StatsRecord,
  type TaskError,
} from '../src/model/protocol.js';

const createdDirs: string[] = [];

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vibefixer-worker-'));
  createdDirs.push(dir);
  return dir;
}

/** For `afterAll`: remove every directory `tempDir()` made in this file (the worker is closed by then). */
export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export function tempDbPath(): string {
  return path.join(tempDir(), 'data', 'vibefixer.sqlite');
}

export function session(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id,
    seed: `seed-${id}`,
    startedAtMs: 1_700_000_000_000,
    durationSeconds: 120,
    playerSpeedPercent: 100,
    status: 'active',
    score: 0,
    remainingArtifactCount: 2,
    artifacts: [
      { id: 'artifact_0', position: { x: 10, y: 20 }, status: 'ground' },
      { id: 'artifact_1', position: { x: 30.5, y: 40 }, status: 'inAir' },
    ],
    endedAtMs: null,
    endReason: null,
    result: null,
    ...overrides,
  };
}

export function level(tag = 'ground'): LevelRecord {
  return {
    terrain: [{ id: `seg-${tag}`, type: 'ground', bounds: { x: 0, y: 500, width: 800, height: 100 } }],
    trashCan: { position: { x: 700, y: 450 }, bounds: { x: 680, y: 430, width: 40, height: 50 } },
  };
}

export function stats(overrides: Partial<StatsRecord> = {}): StatsRecord {
  return { ...emptyStats(), ...overrides };
}

export function highScore(id: number, createdAtMs: number): HighScoreRecord {
  return { id, createdAtMs, playerTag: `player${id}`, result: 'won', remainingUnchecked: 0 };
}

export function notice(id: string): NoticeRecord {
  return { id, title: `Title ${id}`, message: 'Maintenance tonight', validFrom: '2026-01-01T00:00:00.000Z', validTo: '2026-12-31T00:00:00.000Z' };
}

export function setting(key: string, value: number): SettingRecord {
  return { key, value, updatedAtMs: 1_700_000_000_000 };
}

export function batch(seq: number, parts: Partial<Omit<Batch, 'seq'>> = {}): Batch {
  return { seq, sessions: [], stats: null, highScores: [], notices: [], settings: [], ...parts };
}

export function applyTask(b: Batch) {
  return { kind: 'apply' as const, seq: b.seq, bytes: encodeBatch(b) };
}

export function openTask(dbPath: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL') {
  return { kind: 'open' as const, dbPath, synchronous, todayStartMs: 0, todayEndMs: Number.MAX_SAFE_INTEGER };
}

/** Assert a success reply of the given kind and narrow its type. */
export function ok<K extends keyof ReplyOf>(reply: Reply, kind: K): ReplyOf[K] {
  if (!reply.ok) expect.fail(`expected ${kind} to succeed, got ${reply.code}: ${reply.message}`);
  expect(reply.kind).toBe(kind);
  return reply as ReplyOf[K];
}

export function failed(reply: Reply): TaskError {
  if (reply.ok) expect.fail(`expected an error, got a ${reply.kind} reply`);
  return reply;
}

/** Close whatever the module-level worker state holds (tests share one module instance). */
export function closeWorker(): void {
  ok(handle({ kind: 'close' }), 'close');
}

/** The sessions of a reload page, read back as the main thread does on first use (loadSessions). */
export function sessionsOfPage(page: ArrayBuffer): SessionRecord[] {
  const ids = decode<ColdSessionRow[]>(page).map((row) => row[0]);
  const loaded = ok(handle({ kind: 'loadSessions', ids }), 'loadSessions');
  return loaded.records.map(([, bytes]) => decode<SessionRecord>(bytes));
}
