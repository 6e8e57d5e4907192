/**
 * The persisted record shapes and the batch that carries them across the thread: the data half of
 * the thread protocol (protocol.ts re-exports everything here, so both sides import one module).
 * Times are epoch milliseconds. Records are stored as plain msgpack BLOBs (see protocol.ts).
 */

// ---------------------------------------------------------------------------------------------
// Persisted records (what is stored in the msgpack BLOB columns). Times are epoch milliseconds.
// ---------------------------------------------------------------------------------------------

export type ArtifactStatus = 'ground' | 'inAir' | 'flying' | 'deposited' | 'carried';

export interface ArtifactRecord {
  id: string;
  position: { x: number; y: number };
  status: ArtifactStatus;
  /** When it was spawned (a session migrated from schema 4 or older: the session's start). */
  createdAtMs: number;
}

/** The mutable part of a session, rewritten on each change. */
export interface SessionRecord {
  id: string;
  seed: string;
  startedAtMs: number;
  durationSeconds: number;
  playerSpeedPercent: number;
  status: 'active' | 'ended';
  score: number;
  remainingArtifactCount: number;
  artifacts: ArtifactRecord[];
  endedAtMs: number | null;
  endReason: 'ended' | 'stale' | null;
  result: 'won' | 'lost' | null;
}

export interface Bounds {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface TerrainSegment {
  id: string;
  type: 'ground' | 'stone';
  bounds: Bounds;
}

export interface TrashCan {
  position: { x: number; y: number };
  bounds: Bounds;
}

/** The immutable part of a session, written once with the first row of the session. */
export interface LevelRecord {
  terrain: TerrainSegment[];
  trashCan: TrashCan;
}

export interface StatsRecord {
  startedCount: number;
  endedCount: number;
  staleEndedCount: number;
  wonCount: number;
  lostCount: number;
  abandonedCount: number;
  latestCompletedAtMs: number | null;
  latestActivityAtMs: number | null;
}

export interface HighScoreRecord {
  id: number;
  createdAtMs: number;
  playerTag: string;
  result: 'won' | 'lost';
  remainingUnchecked: number;
}

/** Notice validity bounds are ISO strings: the contract compares them as strings. */
export interface NoticeRecord {
  id: string;
  title: string;
  message: string;
  validFrom: string;
  validTo: string;
  /** Set by the admin console; absent on notices stored before it existed. */
  createdAtMs?: number;
  updatedAtMs?: number;
}

export interface SettingRecord {
  key: string;
  value: number;
  updatedAtMs: number;
}

/** One session entry of a batch; `level` is present only while the session row is new. */
export interface SessionEntry {
  session: SessionRecord;
  level?: LevelRecord;
}

/**
 * One batch: the latest state of every entity that changed since the previous batch (as the
 * queue gathers it). `encodeBatch` turns it into the bytes moved to the worker as
 * `ApplyTask.bytes` (a `WireBatch`).
 */
export interface Batch {
  seq: number;
  sessions: SessionEntry[];
  stats: StatsRecord | null;
  highScores: HighScoreRecord[];
  notices: NoticeRecord[];
  settings: SettingRecord[];
}

/**
 * A session as it crosses the thread: its query columns, and its record already encoded as the
 * BLOB to store (`data`, and `level` while the row is new). The worker binds these bytes as they
 * are, so it never decodes or re-encodes a session (the main thread encodes each once).
 */
export interface SessionRow {
  id: string;
  status: 'active' | 'ended';
  startedAtMs: number;
  endedAtMs: number | null;
  result: 'won' | 'lost' | null;
  durationSeconds: number;
  data: Uint8Array;
  level?: Uint8Array;
}

export interface WireBatch extends Omit<Batch, 'sessions'> {
  sessions: SessionRow[];
}

/**
 * One active session as reload hands it over: only what the stale sweep and the lookups need.
 * The record itself stays on disk until a request first uses the session (LoadSessionsTask), so
 * start-up time and memory do not grow with the size of the sessions.
 */
export type ColdSessionRow = [id: string, startedAtMs: number, durationSeconds: number];
