/**
 * Session commands (CONTRACT §1.6, §3): create, spawn, artifact-status, deposit, end.
 * Arguments arrive already validated and typed (src/api validates at the door); what is left
 * here are the rules that need the state: lookups, score and remaining counts, counters.
 * Every change marks its entities dirty through `state.sink`, then the answer carries the seq.
 */
import type { ArtifactRecord, ArtifactStatus, SessionRecord } from '../model/protocol.js';
import { generateLevel } from '../game/level.js';
import { newSeed } from '../game/seed.js';
import { type Answer, fail, ok, SESSION_NOT_FOUND } from './answer.js';
import type { HotState } from './hot-state.js';
import { staleDeadlineMs } from './hot-state.js';
import { newArtifactId, newSessionId } from './ids.js';

export const DEFAULT_DURATION_SECONDS = 60;
/**
 * A real round drops about 15 artifacts (at most ~200 in a 600-s round with both coders); the
 * original had no cap. Each change rewrites the whole session row, so an unbounded list would let
 * one client make every write of its session ever larger. Past the cap, spawn answers 400.
 */
export const MAX_ARTIFACTS_PER_SESSION = 1000;
export const TOO_MANY_ARTIFACTS = 'Too many artifacts in this session';

function remainingOf(artifacts: ArtifactRecord[]): number {
  let remaining = 0;
  for (const a of artifacts) if (a.status !== 'deposited') remaining += 1;
  return remaining;
}

function countWithStatus(artifacts: ArtifactRecord[], status: ArtifactStatus): number {
  let count = 0;
  for (const a of artifacts) if (a.status === status) count += 1;
  return count;
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
    artifacts: [],
    endedAtMs: null,
    endReason: null,
    result: null,
  };
  state.sessions.set(session.id, session);
  state.deadlines.push(staleDeadlineMs(session), session.id);
  state.countStart(nowMs);
  const seq = Math.max(state.sink.session(session, level), state.touch(nowMs));
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

/** Marks the session and the activity time dirty; returns the seq covering both. */
function saveSession(state: HotState, session: SessionRecord, nowMs: number): number {
  return Math.max(state.sink.session(session), state.touch(nowMs));
}

export function spawnArtifact(state: HotState, session: SessionRecord, x: number, y: number, nowMs: number): Answer {
  if (session.artifacts.length >= MAX_ARTIFACTS_PER_SESSION) return fail(400, TOO_MANY_ARTIFACTS);
  const artifact: ArtifactRecord = {
    id: newArtifactId(session.artifacts.length),
    position: { x, y },
    status: 'inAir',
    createdAtMs: nowMs,
  };
  session.artifacts.push(artifact);
  session.remainingArtifactCount = remainingOf(session.artifacts);
  const seq = saveSession(state, session, nowMs);
  return ok(201, { artifact: { id: artifact.id, position: { x, y }, status: artifact.status } }, seq);
}

export function setArtifactStatus(
  state: HotState,
  session: SessionRecord,
  artifactId: string,
  status: ArtifactStatus,
  nowMs: number,
): Answer {
  const artifact = session.artifacts.find((a) => a.id === artifactId);
  if (artifact === undefined) return fail(404, 'Artifact not found');
  artifact.status = status;
  session.remainingArtifactCount = remainingOf(session.artifacts);
  return ok(200, { ok: true }, saveSession(state, session, nowMs));
}

export function depositArtifact(state: HotState, session: SessionRecord, artifactId: string, nowMs: number): Answer {
  const artifact = session.artifacts.find((a) => a.id === artifactId);
  if (artifact === undefined || artifact.status === 'deposited') return fail(400, 'Artifact not available');
  artifact.status = 'deposited';
  session.remainingArtifactCount = Math.max(0, session.remainingArtifactCount - 1);
  // Kept from the original on purpose (CONTRACT decision #1): the score is the number of
  // artifacts still on the ground, not the number deposited.
  session.score = countWithStatus(session.artifacts, 'ground');
  const seq = saveSession(state, session, nowMs);
  return ok(200, { score: session.score, remainingArtifacts: session.remainingArtifactCount }, seq);
}

export function endSession(
  state: HotState,
  session: SessionRecord,
  result: 'won' | 'lost' | null,
  nowMs: number,
): Answer {
  const seq = state.endSession(session, nowMs, 'ended', result);
  return ok(200, { finalScore: session.score, artifactsDeposited: countWithStatus(session.artifacts, 'deposited') }, seq);
}

export function lookupSession(state: HotState, id: string): SessionRecord | Answer {
  return state.activeSession(id) ?? fail(404, SESSION_NOT_FOUND);
}
