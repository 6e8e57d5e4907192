/**
 * Builds a database file holding N active sessions, the way the server itself would have
 * written them: through the persistence worker's own handler (`handle()` of workers/persist.ts
 * of the frozen build under test, called on this thread: open → apply encoded batches of typed
 * rows → close). Sessions look
 * like games in progress: 0–20 artifacts in mixed states, started within the last minute with the
 * longest duration (600 s) so no stale sweep ends them at start-up, and (`withLevels`) the level
 * row the server writes once per session (never read at reload; it makes the file realistic).
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ArtifactRecord, ArtifactStatus, LevelRecord, Reply, SessionRecord, StatsDelta, WireBatch } from '../../src/model/protocol.js';
import { frozenImport } from './build.js';

/** The worker handler, batch encoder and level generator of the frozen build under test. */
interface Frozen {
  handle: typeof import('../../workers/persist.js').handle;
  encodeBatch: typeof import('../../src/model/protocol.js').encodeBatch;
  rows: typeof import('../../src/model/rows.js');
  generateLevel: (seed: string) => LevelRecord;
}
async function frozen(): Promise<Frozen> {
  const persist = await frozenImport<typeof import('../../workers/persist.js')>('dist/workers/persist.js');
  const protocol = await frozenImport<typeof import('../../src/model/protocol.js')>('dist/src/model/protocol.js');
  const rows = await frozenImport<typeof import('../../src/model/rows.js')>('dist/src/model/rows.js');
  const level = await frozenImport<typeof import('../../src/game/level.js')>('dist/src/game/level.js');
  return { handle: persist.handle, encodeBatch: protocol.encodeBatch, rows, generateLevel: level.generateLevel };
}

/**
 * Id-like random text (base64url alphabet). Not crypto-random like the server's ids: a seeded
 * file only needs unique, realistically long ids, and randomBytes per id doubled the build time.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
function randomText(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[(Math.random() * 64) | 0];
  return out;
}

const STATUSES: ArtifactStatus[] = ['ground', 'inAir', 'carried', 'deposited'];
const SESSIONS_PER_BATCH = 2_000;
export const SEEDED_SESSION_SECONDS = 600;

function must<T extends Reply>(reply: T, what: string): T {
  if (!reply.ok) throw new Error(`${what}: ${reply.code} ${reply.message}`);
  return reply;
}

function artifacts(count: number, nowMs: number): ArtifactRecord[] {
  const out: ArtifactRecord[] = [];
  for (let i = 0; i < count; i++) {
    out.push({
      id: `artifact_${i}_${randomText(11)}`,
      position: { x: 170 + Math.random() * 684, y: i % 3 === 0 ? 218 : 559 },
      status: STATUSES[(i + (nowMs & 3)) % STATUSES.length],
      createdAtMs: nowMs,
    });
  }
  return out;
}

function sessionEntry(nowMs: number, generateLevel: Frozen['generateLevel'] | null): { session: SessionRecord; level?: LevelRecord } {
  const seed = randomText(25).toLowerCase();
  const list = artifacts(Math.floor(Math.random() * 21), nowMs);
  const deposited = list.filter((a) => a.status === 'deposited').length;
  return {
    session: {
      id: `session_${randomText(22)}`,
      seed,
      startedAtMs: nowMs - Math.floor(Math.random() * 60_000),
      durationSeconds: SEEDED_SESSION_SECONDS,
      playerSpeedPercent: 100,
      status: 'active',
      score: list.filter((a) => a.status === 'ground').length,
      remainingArtifactCount: list.length - deposited,
      groundCount: list.filter((a) => a.status === 'ground').length,
      artifacts: list,
      endedAtMs: null,
      endReason: null,
      result: null,
    },
    ...(generateLevel !== null ? { level: generateLevel(seed) } : {}),
  };
}

export interface SeedInfo {
  sessions: number;
  buildMs: number;
  /** Size of the file after close (WAL checkpointed). */
  bytes: number;
}

/** Creates `dbPath` (must not exist) with `sessions` active sessions. */
export async function buildDatabase(dbPath: string, sessions: number, opts: { withLevels: boolean }): Promise<SeedInfo> {
  const { handle, encodeBatch, rows, generateLevel } = await frozen();
  const started = performance.now();
  const nowMs = Date.now();
  must(await handle({ kind: 'open', storage: { driver: 'sqlite', dbPath, synchronous: 'NORMAL' }, todayStartMs: 0, todayEndMs: 0 }), `open ${dbPath}`);
  let seq = 0;
  try {
    for (let done = 0; done < sessions || seq === 0; ) {
      const n = Math.min(SESSIONS_PER_BATCH, sessions - done);
      const batch: WireBatch = { seq: ++seq, upserts: { sessions: [], artifacts: [], levels: [] }, deletes: {}, stats: null };
      for (let i = 0; i < n; i++) {
        const { session, level } = sessionEntry(nowMs, opts.withLevels ? generateLevel : null);
        batch.upserts.sessions!.push(rows.sessionRow(session));
        session.artifacts.forEach((a, idx) => batch.upserts.artifacts!.push(rows.artifactRow(session.id, idx, a, nowMs)));
        if (level) batch.upserts.levels!.push([session.id, level]);
      }
      done += n;
      if (done >= sessions) batch.stats = statsFor(sessions, nowMs);
      must(await handle({ kind: 'apply', seq, bytes: encodeBatch(batch) }), `apply seq ${seq}`);
    }
  } finally {
    must(await handle({ kind: 'close' }), 'close');
  }
  return { sessions, buildMs: performance.now() - started, bytes: statSync(dbPath).size };
}

function statsFor(sessions: number, nowMs: number): StatsDelta {
  return {
    startedCount: sessions,
    endedCount: 0,
    staleEndedCount: 0,
    wonCount: 0,
    lostCount: 0,
    abandonedCount: 0,
    latestCompletedAtMs: null,
    latestActivityAtMs: nowMs,
  };
}
