/**
 * Guarantees of the hot state and its commands, without any transport: the counter invariants of
 * CONTRACT §3.3 over long random command sequences, the stale rule, and the cost of the sweep.
 */
import { describe, expect, it } from 'vitest';
import { type CommandContext, runCommand, findSession } from '../src/api/commands.js';
import type { Answer } from '../src/state/answer.js';
import { HotState, staleDeadlineMs } from '../src/state/hot-state.js';
import type { DirtySink } from '../src/persist/sink.js';
import { createRng } from '../src/game/rng.js';
import { MAX_ARTIFACTS_PER_SESSION, TOO_MANY_ARTIFACTS } from '../src/state/sessions.js';

/** Counts marks per kind, as the queue would see them. */
function countingSink(): DirtySink & { marks: Record<string, number> } {
  const marks: Record<string, number> = { session: 0, stats: 0, highScore: 0, notice: 0, setting: 0 };
  return {
    marks,
    session: () => ++marks.session,
    stats: () => ++marks.stats,
    highScore: () => ++marks.highScore,
    notice: () => ++marks.notice,
    setting: () => ++marks.setting,
  };
}

function run(state: HotState, nowMs: number, op: Parameters<typeof runCommand>[1], body: unknown, sessionId?: string): Answer {
  const ctx: CommandContext = { state, info: { startedAtMs: 0, version: 't' }, nowMs };
  const session = findSession(ctx, op, sessionId);
  if (session !== null && 'body' in session) return session as Answer;
  return runCommand(ctx, op, session as never, body);
}

function statsOf(state: HotState, nowMs: number) {
  return run(state, nowMs, 'stats.get', null).body as Record<string, number>;
}

describe('hot state', () => {
  it('keeps ended = won + lost + abandoned and started = active + ended over thousands of random commands', () => {
    const rng = createRng('invariants');
    const state = new HotState(countingSink(), 0);
    let now = 1_000_000;
    const ids: string[] = [];
    for (let step = 0; step < 5000; step++) {
      now += rng.int(0, 3000);
      const pick = rng.int(0, 9);
      const id = ids.length > 0 ? ids[rng.int(0, ids.length - 1)] : 'none';
      if (pick <= 2) {
        const a = run(state, now, 'session.create', { requestedDurationSeconds: rng.int(10, 60) });
        ids.push(a.body.sessionId as string);
      } else if (pick <= 4) {
        run(state, now, 'session.spawn', { x: rng.int(170, 854), y: 218 }, id);
      } else if (pick === 5) {
        const s = state.activeSession(id);
        const artifact = s?.artifacts[rng.int(0, Math.max(0, s.artifacts.length - 1))];
        if (artifact) run(state, now, 'session.artifactStatus', { artifactId: artifact.id, status: rng.next() < 0.5 ? 'ground' : 'carried' }, id);
      } else if (pick === 6) {
        const artifact = state.activeSession(id)?.artifacts[0];
        if (artifact) run(state, now, 'session.deposit', { artifactId: artifact.id }, id);
      } else if (pick === 7) {
        run(state, now, 'session.end', { result: ['won', 'lost', null][rng.int(0, 2)] }, id);
      } else if (pick === 8) {
        run(state, now, 'session.end', 'not an object', id);
      } else {
        statsOf(state, now);
      }
      const s = statsOf(state, now);
      expect(s.endedCount).toBe(s.wonCount + s.lostCount + s.abandonedCount);
      expect(s.startedCount).toBe(s.activeCount + s.endedCount);
      expect(s.abandonedCount).toBeGreaterThanOrEqual(s.staleEndedCount);
    }
    expect(statsOf(state, now).staleEndedCount).toBeGreaterThan(0);
  });

  it('ends a session as stale only once more than twice its duration has passed since its start', () => {
    const state = new HotState(countingSink(), 0);
    const t0 = 5_000_000;
    const id = run(state, t0, 'session.create', null).body.sessionId as string;
    const s = state.activeSession(id)!;
    expect(staleDeadlineMs(s)).toBe(t0 + 120_000);
    expect(state.sweepStale(t0 + 120_000)).toBe(0); // not strictly more than 2 × 60 s
    expect(state.sweepStale(t0 + 120_001)).toBe(1);
    expect(s.endReason).toBe('stale');
    const stats = statsOf(state, t0 + 120_001);
    expect(stats).toMatchObject({ activeCount: 0, endedCount: 1, staleEndedCount: 1, abandonedCount: 1, latestCompletedAt: null });
  });

  it('costs the stats request no work per active session: 100k active sessions, zero heap pops', () => {
    const state = new HotState(countingSink(), 0);
    const t0 = 10_000_000;
    for (let i = 0; i < 100_000; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 600 });
    const before = state.sweepPops;
    for (let i = 0; i < 1000; i++) statsOf(state, t0 + 1000 + i);
    expect(state.sweepPops - before).toBe(0);
    expect(statsOf(state, t0 + 2000).activeCount).toBe(100_000);
  });

  it('sweeps k expired sessions with exactly k heap pops, whatever the number still active', () => {
    const state = new HotState(countingSink(), 0);
    const t0 = 20_000_000;
    for (let i = 0; i < 50_000; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 600 });
    for (let i = 0; i < 7; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 10 });
    const before = state.sweepPops;
    expect(state.sweepStale(t0 + 20_001)).toBe(7);
    expect(state.sweepPops - before).toBe(7);
  });

  it('marks every touched entity dirty: a spawn marks its session and the stats row once each', () => {
    const sink = countingSink();
    const state = new HotState(sink, 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    const before = { ...sink.marks };
    run(state, 2, 'session.spawn', { x: 1, y: 2 }, id);
    expect(sink.marks.session - before.session).toBe(1);
    expect(sink.marks.stats - before.stats).toBe(1);
  });

  it('changes nothing when a command is refused for bad input', () => {
    const sink = countingSink();
    const state = new HotState(sink, 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    const before = JSON.stringify([state.activeSession(id), state.stats, sink.marks]);
    expect(run(state, 2, 'session.spawn', { x: '1', y: 2 }, id).status).toBe(400);
    expect(run(state, 2, 'session.artifactStatus', { artifactId: 'x', status: 'ground' }, id).status).toBe(404);
    expect(run(state, 2, 'session.deposit', { artifactId: 'x' }, id).status).toBe(400);
    expect(run(state, 2, 'session.end', { result: 'draw' }, id).status).toBe(400);
    expect(run(state, 2, 'highScores.add', { playerTag: ' ', result: 'won' }).status).toBe(400);
    expect(JSON.stringify([state.activeSession(id), state.stats, sink.marks])).toBe(before);
  });

  it('caps the artifacts of one session so a session row cannot grow without bound', () => {
    const state = new HotState(countingSink(), 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    for (let i = 0; i < MAX_ARTIFACTS_PER_SESSION; i++) expect(run(state, 2, 'session.spawn', { x: i, y: 218 }, id).status).toBe(201);
    expect(run(state, 3, 'session.spawn', { x: 1, y: 218 }, id)).toMatchObject({ status: 400, body: { error: TOO_MANY_ARTIFACTS } });
    expect(state.activeSession(id)!.artifacts).toHaveLength(MAX_ARTIFACTS_PER_SESSION);
  });

  it('keeps reloaded sessions cold until warmed, and hands expired cold ones to be loaded and ended', () => {
    const state = new HotState(countingSink(), 0);
    const record = (id: string, startedAtMs: number, durationSeconds: number) => ({
      id, seed: 's', startedAtMs, durationSeconds, playerSpeedPercent: 100, status: 'active' as const, score: 3,
      remainingArtifactCount: 0, artifacts: [], endedAtMs: null, endReason: null, result: null,
    });
    const expired: string[] = [];
    state.onColdExpired = (id) => expired.push(id);
    state.loadSessions([['a', 1000, 60], ['b', 1000, 10]]);
    expect(statsOf(state, 2000).activeCount).toBe(2);
    expect(state.isCold('a')).toBe(true);
    expect(state.activeSession('a')).toBeUndefined(); // a rule never runs on a cold session

    // b is past its deadline: the sweep asks for its record instead of ending it blind.
    expect(state.sweepStale(1000 + 20_001)).toBe(0);
    expect(expired).toEqual(['b']);
    state.warm('b', record('b', 1000, 10), 1000 + 20_002);
    expect(state.hasSession('b')).toBe(false);
    expect(statsOf(state, 1000 + 20_002)).toMatchObject({ activeCount: 1, staleEndedCount: 1, endedCount: 1 });

    state.warm('a', record('a', 1000, 60), 30_000);
    expect(state.activeSession('a')?.score).toBe(3);
    state.warm('a', record('a', 1000, 60), 30_000); // a second load of a warm session changes nothing
    expect(state.activeSession('a')?.score).toBe(3);
  });

  it('drops a cold session whose stored record cannot be read back', () => {
    const state = new HotState(countingSink(), 0);
    state.loadSessions([['gone', 1000, 60]]);
    state.warm('gone', null, 2000);
    expect(state.hasSession('gone')).toBe(false);
  });

  it('keeps at most 200 high scores, newest first', () => {
    const state = new HotState(countingSink(), 0);
    for (let i = 0; i < 250; i++) run(state, 1000 + i, 'highScores.add', { playerTag: `p${i}`, result: 'won' });
    const scores = run(state, 5000, 'highScores.list', null).body.scores as Array<{ playerTag: string }>;
    expect(scores).toHaveLength(200);
    expect(scores[0].playerTag).toBe('p249');
    expect(scores[199].playerTag).toBe('p50');
  });
});
