/**
 * Shared fixtures for the persistence-worker tests (test/worker.*.test.ts): a temporary
 * directory per test, record builders, typed-row batches (WireBatch) built from records the way
 * the main thread does (src/model/rows.ts), and a typed success check for replies.
 * Never: keeps state between tests, or talks to a worker thread (tests call `handle()`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { expect } from 'vitest';
import { currentDriver, handle } from '../workers/persist.js';
import { SqliteDriver } from '../workers/sqlite/driver.js';
import {
  decode,
  encodeBatch,
  type ColdSessionRow,
  type HighScoreRecord,
  type LevelRecord,
  type NoticeRecord,
  type OpenTask,
  type Reply,
  type ReplyOf,
  type SessionRecord,
  type SettingRecord,
  type StatsDelta,
  type TaskError,
  type WireBatch,
} from '../src/model/protocol.js';
import {
  artifactRow,
  emptyStatsDelta,
  highScoreRow,
  noticeRow,
  sessionOfRows,
  sessionRow,
  settingRow,
} from '../src/model/rows.js';

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

/** The `updated_at` the fixtures stamp on artifact rows (the main thread passes its clock). */
export const ARTIFACT_UPDATED_MS = 1_700_000_050_000;

export function session(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const s: SessionRecord = {
    id,
    seed: `seed-${id}`,
    startedAtMs: 1_700_000_000_000,
    durationSeconds: 120,
    playerSpeedPercent: 100,
    status: 'active',
    score: 0,
    remainingArtifactCount: 2,
    groundCount: 0,
    artifacts: [
      { id: 'artifact_0', position: { x: 10, y: 20 }, status: 'ground', createdAtMs: 1_700_000_001_000 },
      { id: 'artifact_1', position: { x: 30.5, y: 40 }, status: 'inAir', createdAtMs: 1_700_000_002_000 },
    ],
    endedAtMs: null,
    endReason: null,
    result: null,
    ...overrides,
  };
  // Derived, never stored: what loading a session recounts.
  s.groundCount = s.artifacts.filter((a) => a.status === 'ground').length;
  return s;
}

/** An ended session (header columns consistent with the CHECK constraints). */
export function endedSession(id: string, endedAtMs: number, overrides: Partial<SessionRecord> = {}): SessionRecord {
  return session(id, { status: 'ended', endedAtMs, endReason: 'ended', result: 'won', ...overrides });
}

export function level(tag = 'ground'): LevelRecord {
  return {
    terrain: [
      { id: `seg-${tag}`, type: 'ground', bounds: { x: 0, y: 500, width: 800, height: 100 } },
      { id: `rock-${tag}`, type: 'stone', bounds: { x: 120.5, y: 460, width: 40, height: 40 } },
    ],
    trashCan: { position: { x: 700, y: 450 }, bounds: { x: 680, y: 430, width: 40, height: 50 } },
  };
}

export function stats(overrides: Partial<StatsDelta> = {}): StatsDelta {
  return { ...emptyStatsDelta(), ...overrides };
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

/** One session of a batch: its header and every artifact row; `level` while the session is new. */
export interface SessionEntry {
  session: SessionRecord;
  level?: LevelRecord;
}

export interface BatchParts {
  sessions?: SessionEntry[];
  stats?: StatsDelta | null;
  highScores?: HighScoreRecord[];
  notices?: NoticeRecord[];
  settings?: SettingRecord[];
  deleteHighScores?: number[];
  deleteNotices?: string[];
}

/** The typed rows of a batch, as the main thread emits them; empty tables are left out. */
export function batch(seq: number, parts: BatchParts = {}): WireBatch {
  const b: WireBatch = { seq, upserts: {}, deletes: {}, stats: parts.stats ?? null };
  const entries = parts.sessions ?? [];
  if (entries.length > 0) {
    b.upserts.sessions = entries.map((e) => sessionRow(e.session));
    const artifacts = entries.flatMap((e) => e.session.artifacts.map((a, idx) => artifactRow(e.session.id, idx, a, ARTIFACT_UPDATED_MS)));
    if (artifacts.length > 0) b.upserts.artifacts = artifacts;
    const levels = entries.filter((e) => e.level !== undefined).map((e): [string, LevelRecord] => [e.session.id, e.level!]);
    if (levels.length > 0) b.upserts.levels = levels;
  }
  if (parts.highScores?.length) b.upserts.highScores = parts.highScores.map(highScoreRow);
  if (parts.notices?.length) b.upserts.notices = parts.notices.map(noticeRow);
  if (parts.settings?.length) b.upserts.settings = parts.settings.map(settingRow);
  if (parts.deleteHighScores?.length) b.deletes.highScores = parts.deleteHighScores;
  if (parts.deleteNotices?.length) b.deletes.notices = parts.deleteNotices;
  return b;
}

export function applyTask(b: WireBatch) {
  return { kind: 'apply' as const, seq: b.seq, bytes: encodeBatch(b) };
}

export function openTask(dbPath: string, synchronous: 'NORMAL' | 'FULL' = 'NORMAL'): OpenTask {
  return { kind: 'open', storage: { driver: 'sqlite', dbPath, synchronous }, todayStartMs: 0, todayEndMs: Number.MAX_SAFE_INTEGER };
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
export async function closeWorker(): Promise<void> {
  ok(await handle({ kind: 'close' }), 'close');
}

/** Fault-injection seam: the open SQLite connection of the worker's driver. */
export function currentDb(): Database.Database {
  const driver = currentDriver();
  if (!(driver instanceof SqliteDriver)) expect.fail('no SQLite driver is open');
  return driver.store.db;
}

/** Sessions by id, read back as the main thread does on first use (loadSessions → sessionOfRows). */
export async function loadRecords(ids: string[]): Promise<SessionRecord[]> {
  const loaded = ok(await handle({ kind: 'loadSessions', ids }), 'loadSessions');
  return loaded.sessions.map(([header, artifacts]) => sessionOfRows(header, artifacts));
}

/** The sessions of a reload page, read back as the main thread does on first use (loadSessions). */
export async function sessionsOfPage(page: ArrayBuffer): Promise<SessionRecord[]> {
  return loadRecords(decode<ColdSessionRow[]>(page).map((row) => row[0]));
}

/** Read rows with a raw read-only connection (closes the worker first, reopens it after). */
export async function readRows<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): Promise<T[]> {
  await closeWorker();
  const { default: Sqlite } = await import('better-sqlite3');
  const db = new Sqlite(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
    ok(await handle(openTask(dbPath)), 'open');
  }
}
