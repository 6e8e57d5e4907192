/**
 * Session commands (CONTRACT §1.6, §3): create, spawn, artifact-status, deposit, end.
 * Arguments arrive already validated and typed (src/api validates at the door); what is left
 * here are the rules that need the state: lookups, score and remaining counts, counters.
 * Every change marks its entities dirty through `state.sink`, then the answer carries the seq.
 */
import type { ArtifactRecord, ArtifactStatus, SessionRecord } from '../model/records.js';
import { artifactRow } from '../model/rows.js';
import { generateLevel } from '../game/level.js';
import { newSeed } from '../game/seed.js';
import { type Answer, fail, ok, SESSION_NOT_FOUND } from './answer.js';
import type { HotState } from './hot-state.js';
import { newArtifactId, newSessionId } from './ids.js';

export const DEFAULT_DURATION_SECONDS = 60;
/**
 * A real round drops about 15 artifacts (at most ~200 in a 600-s round with both coders); the
 * original had no cap. A change costs only its own rows, but an unbounded list would still let one
 * client grow its session (and the memory it holds) without end. Past the cap, spawn answers 400.
 */
export const MAX_ARTIFACTS_PER_SESSION = 1000;
export const TOO_MANY_ARTIFACTS = 'Too many artifacts in this session';

/**
 * The artifact with this id: its index is part of the id (`artifact_<idx>_<random>`, ids.ts), so
 * the lookup is O(1); an id of another shape (a session from an older release) falls back to a scan.
 */
function findArtifact(session: SessionRecord, artifactId: string): [number, ArtifactRecord] | undefined {
  const idx = Number.parseInt(artifactId.slice(9), 10);
  if (artifactId.startsWith('artifact_') && session.artifacts[idx]?.id === artifactId) return [idx, session.artifacts[idx]];
  const found = session.artifacts.findIndex((a) => a.id === artifactId);
  return found === -1 ? undefined : [found, session.artifacts[found]];
}

/** Moves an artifact to a new status, keeping the session's derived counts exact. */
function changeStatus(session: SessionRecord, artifact: ArtifactRecord, status: ArtifactStatus): void {
  if (artifact.status === 'ground') session.groundCount -= 1;
  if (status === 'ground') session.groundCount += 1;
  if (artifact.status === 'deposited' && status !== 'deposited') session.remainingArtifactCount += 1;
  if (artifact.status !== 'deposited' && status === 'deposited') session.remainingArtifactCount -= 1;
  artifact.status = status;
}

export function createSession(state: HotState, durationSeconds: number, nowMs: number): Answer {
  state.sweepStale(nowMs);
  const seed = newSeed();
  const level = generateLevel(seed);
  const session: SessionRecord = {
    id: newSessionId(),
    seed,
    startedAtMs: nowMs,
    durationSeconds,
    playerSpeedPercent: state.playerSpeedPercent(),
    status: 'active',
    score: 0,
    remainingArtifactCount: 0,
    groundCount: 0,
    artifacts: [],
    endedAtMs: null,
    endReason: null,
    result: null,
  };
  state.sessions.add(session);
  state.sink.upsert('levels', session.id, [session.id, level]);
  const seq = Math.max(state.saveHeader(session), state.countStart(nowMs));
  return ok(
    201,
    {
      sessionId: session.id,
      seed,
      durationSeconds,
      score: 0,
      playerSpeedPercent: session.playerSpeedPercent,
      artifacts: [],
      terrain: level.terrain,
      trashCan: level.trashCan,
    },
    seq,
  );
}

/** Stores one artifact's row (and the header when its counts changed) and the activity time. */
function saveArtifact(state: HotState, session: SessionRecord, idx: number, headerChanged: boolean, nowMs: number): number {
  const key = `${session.id}#${idx}`;
  let seq = state.sink.upsert('artifacts', key, artifactRow(session.id, idx, session.artifacts[idx], nowMs));
  if (headerChanged) seq = Math.max(seq, state.saveHeader(session));
  else state.observer?.sessionChanged(session);
  return Math.max(seq, state.touch(nowMs));
}

export function spawnArtifact(state: HotState, session: SessionRecord, x: number, y: number, nowMs: number): Answer {
  if (session.artifacts.length >= MAX_ARTIFACTS_PER_SESSION) return fail(400, TOO_MANY_ARTIFACTS);
  const idx = session.artifacts.length;
  const artifact: ArtifactRecord = { id: newArtifactId(idx), position: { x, y }, status: 'inAir', createdAtMs: nowMs };
  session.artifacts.push(artifact);
  session.remainingArtifactCount += 1;
  const seq = saveArtifact(state, session, idx, true, nowMs);
  return ok(201, { artifact: { id: artifact.id, position: { x, y }, status: artifact.status } }, seq);
}

export function setArtifactStatus(
  state: HotState,
  session: SessionRecord,
  artifactId: string,
  status: ArtifactStatus,
  nowMs: number,
): Answer {
  const found = findArtifact(session, artifactId);
  if (found === undefined) return fail(404, 'Artifact not found');
  const [idx, artifact] = found;
  const remainingBefore = session.remainingArtifactCount;
  changeStatus(session, artifact, status);
  return ok(200, { ok: true }, saveArtifact(state, session, idx, session.remainingArtifactCount !== remainingBefore, nowMs));
}

export function depositArtifact(state: HotState, session: SessionRecord, artifactId: string, nowMs: number): Answer {
  const found = findArtifact(session, artifactId);
  if (found === undefined || found[1].status === 'deposited') return fail(400, 'Artifact not available');
  const [idx, artifact] = found;
  changeStatus(session, artifact, 'deposited');
  // Kept from the original on purpose (CONTRACT decision #1): the score is the number of
  // artifacts still on the ground, not the number deposited.
  session.score = session.groundCount;
  const seq = saveArtifact(state, session, idx, true, nowMs);
  return ok(200, { score: session.score, remainingArtifacts: session.remainingArtifactCount }, seq);
}

export function endSession(
  state: HotState,
  session: SessionRecord,
  result: 'won' | 'lost' | null,
  nowMs: number,
): Answer {
  const seq = state.endSession(session, nowMs, 'ended', result);
  const deposited = session.artifacts.length - session.remainingArtifactCount;
  return ok(200, { finalScore: session.score, artifactsDeposited: deposited }, seq);
}

export function lookupSession(state: HotState, id: string): SessionRecord | Answer {
  return state.sessions.hot(id) ?? fail(404, SESSION_NOT_FOUND);
}
