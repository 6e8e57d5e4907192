/**
 * The domain records: what the hot state holds and the API serves. Both threads import them
 * (protocol.ts re-exports everything here). What is stored is not these objects but their typed
 * rows (rows.ts): one row per thing a change touched. Times are epoch milliseconds.
 */

export type ArtifactStatus = 'ground' | 'inAir' | 'flying' | 'deposited' | 'carried';

export interface ArtifactRecord {
  id: string;
  position: { x: number; y: number };
  status: ArtifactStatus;
  /** When it was spawned (a session migrated from schema 4 or older: the session's start). */
  createdAtMs: number;
}

/** A session as the hot state holds it; stored as a header row plus one row per artifact. */
export interface SessionRecord {
  id: string;
  seed: string;
  startedAtMs: number;
  durationSeconds: number;
  playerSpeedPercent: number;
  status: 'active' | 'ended';
  score: number;
  remainingArtifactCount: number;
  /**
   * Artifacts whose status is 'ground' (the score rule reads it). Derived, never stored: kept by
   * the state on every status change and recounted when a session is loaded.
   */
  groundCount: number;
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

/** The immutable part of a session, written once when it is created. */
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
}

export interface SettingRecord {
  key: string;
  value: number;
  updatedAtMs: number;
}

/**
 * One active session as reload hands it over: only what the stale sweep and the lookups need.
 * The record itself stays on disk until a request first uses the session (LoadSessionsTask), so
 * start-up time and memory do not grow with the size of the sessions.
 */
export type ColdSessionRow = [id: string, startedAtMs: number, durationSeconds: number];
