/**
 * Guarantees of the hot state and its commands, without any transport: the counter invariants of
 * CONTRACT §3.3 over long random command sequences, the stale rule, and the cost of the sweep.
 */
import { describe, expect, it } from 'vitest';
import { type CommandContext, runCommand } from '../src/api/commands.js';
import { createRng } from '../src/game/rng.js';
import type { SessionRecord } from '../src/model/records.js';
import type { StatsDelta, UpsertRows, UpsertTable } from '../src/model/rows.js';
import { type Answer, fail } from '../src/state/answer.js';
import type { ChangeSink } from '../src/state/changes.js';
import { HotState } from '../src/state/hot-state.js';
import type { LoadResult, SessionLoader } from '../src/state/session-store.js';
import { MAX_ARTIFACTS_PER_SESSION, TOO_MANY_ARTIFACTS } from '../src/state/sessions.js';

/** Records every row the state hands on, as the queue would receive them. */
function recordingSink(): ChangeSink & { rows: Array<[string, unknown]>; deltas: Array<Partial<StatsDelta>> } {
  const rows: Array<[string, unknown]> = [];
  const deltas: Array<Partial<StatsDelta>> = [];
  return {
    rows,
    deltas,
    upsert: <T extends UpsertTable>(table: T, _key: string | number, row: UpsertRows[T]) => rows.push([table, row]),
    delete: (table, key) => rows.push([`delete ${table}`, key]),
    count: (delta) => deltas.push({ ...delta }),
  };
}

/** Loads from a map, answering when the test says so. */
class ScriptedLoader implements SessionLoader {
  asked: Array<[string, (r: LoadResult) => void]> = [];
  load(id: string, done: (r: LoadResult) => void): void {
    this.asked.push([id, done]);
  }
}

function run(state: HotState, nowMs: number, op: Parameters<typeof runCommand>[1], body: unknown, sessionId?: string): Answer {
  const ctx: CommandContext = { state, info: { startedAtMs: 0, version: 't' }, nowMs };
  if (sessionId === undefined) return runCommand(ctx, op, null, body);
  const session = state.sessions.hot(sessionId);
  return session === undefined ? fail(404, 'Session not found') : runCommand(ctx, op, session, body);
}

function stored(id: string, startedAtMs: number, durationSeconds: number): SessionRecord {
  return {
    id, seed: 's', startedAtMs, durationSeconds, playerSpeedPercent: 100, status: 'active', score: 3,
    remainingArtifactCount: 0, groundCount: 0, artifacts: [], endedAtMs: null, endReason: null, result: null,
  };
}

function statsOf(state: HotState, nowMs: number) {
  return run(state, nowMs, 'stats.get', null).body as Record<string, number>;
}

describe('hot state', () => {
  it('keeps ended = won + lost + abandoned and started = active + ended over thousands of random commands', () => {
    const rng = createRng('invariants');
    const state = new HotState(recordingSink(), 0);
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
        const s = state.sessions.hot(id);
        const artifact = s?.artifacts[rng.int(0, Math.max(0, s.artifacts.length - 1))];
        if (artifact) run(state, now, 'session.artifactStatus', { artifactId: artifact.id, status: rng.next() < 0.5 ? 'ground' : 'carried' }, id);
      } else if (pick === 6) {
        const artifact = state.sessions.hot(id)?.artifacts[0];
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
    const state = new HotState(recordingSink(), 0);
    const t0 = 5_000_000;
    const id = run(state, t0, 'session.create', null).body.sessionId as string;
    const s = state.sessions.hot(id)!;
    expect(state.sweepStale(t0 + 120_000)).toBe(0); // not strictly more than 2 × 60 s
    expect(state.sweepStale(t0 + 120_001)).toBe(1);
    expect(s.endReason).toBe('stale');
    const stats = statsOf(state, t0 + 120_001);
    expect(stats).toMatchObject({ activeCount: 0, endedCount: 1, staleEndedCount: 1, abandonedCount: 1, latestCompletedAt: null });
  });

  it('costs the stats request no work per active session: 100k active sessions, zero heap pops', () => {
    const state = new HotState(recordingSink(), 0);
    const t0 = 10_000_000;
    for (let i = 0; i < 100_000; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 600 });
    const before = state.sweepPops;
    for (let i = 0; i < 1000; i++) statsOf(state, t0 + 1000 + i);
    expect(state.sweepPops - before).toBe(0);
    expect(statsOf(state, t0 + 2000).activeCount).toBe(100_000);
  });

  it('sweeps k expired sessions with exactly k heap pops, whatever the number still active', () => {
    const state = new HotState(recordingSink(), 0);
    const t0 = 20_000_000;
    for (let i = 0; i < 50_000; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 600 });
    for (let i = 0; i < 7; i++) run(state, t0, 'session.create', { requestedDurationSeconds: 10 });
    const before = state.sweepPops;
    expect(state.sweepStale(t0 + 20_001)).toBe(7);
    expect(state.sweepPops - before).toBe(7);
  });

  it('hands on only the rows a change touched: a spawn is one artifact row and the header, a status change one artifact row', () => {
    const sink = recordingSink();
    const state = new HotState(sink, 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    expect(sink.rows.map(([table]) => table).sort()).toEqual(['levels', 'sessions']);
    for (let i = 0; i < 50; i++) run(state, 2, 'session.spawn', { x: i, y: 218 }, id);
    sink.rows.length = 0;
    sink.deltas.length = 0;
    const spawned = run(state, 3, 'session.spawn', { x: 1, y: 2 }, id).body.artifact as { id: string };
    expect(sink.rows.map(([table]) => table).sort()).toEqual(['artifacts', 'sessions']);
    expect(sink.rows.find(([table]) => table === 'artifacts')![1]).toEqual([id, 50, spawned.id, 1, 2, 'inAir', 3, 3]);
    expect(sink.deltas).toEqual([{ latestActivityAtMs: 3 }]);
    sink.rows.length = 0;
    run(state, 4, 'session.artifactStatus', { artifactId: spawned.id, status: 'ground' }, id);
    expect(sink.rows).toEqual([['artifacts', [id, 50, spawned.id, 1, 2, 'ground', 3, 4]]]);
    sink.rows.length = 0;
    expect(run(state, 5, 'session.deposit', { artifactId: spawned.id }, id).body).toEqual({ score: 0, remainingArtifacts: 50 });
    expect(sink.rows.map(([table]) => table).sort()).toEqual(['artifacts', 'sessions']);
  });

  it('keeps the score rule of the original with O(1) bookkeeping: the score is the number of artifacts on the ground at deposit', () => {
    const state = new HotState(recordingSink(), 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    const ids = Array.from({ length: 4 }, (_, i) => (run(state, 2, 'session.spawn', { x: i, y: 218 }, id).body.artifact as { id: string }).id);
    for (const a of ids.slice(0, 3)) run(state, 3, 'session.artifactStatus', { artifactId: a, status: 'ground' }, id);
    run(state, 4, 'session.artifactStatus', { artifactId: ids[0], status: 'carried' }, id);
    expect(run(state, 5, 'session.deposit', { artifactId: ids[0] }, id).body).toEqual({ score: 2, remainingArtifacts: 3 });
    // Back from deposited: it counts as remaining again (the original recounts on every status change).
    run(state, 6, 'session.artifactStatus', { artifactId: ids[0], status: 'ground' }, id);
    expect(state.sessions.hot(id)).toMatchObject({ remainingArtifactCount: 4, groundCount: 3 });
    expect(run(state, 7, 'session.end', { result: 'won' }, id).body).toEqual({ finalScore: 2, artifactsDeposited: 0 });
  });

  it('changes nothing when a command is refused for bad input', () => {
    const sink = recordingSink();
    const state = new HotState(sink, 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    const before = JSON.stringify([state.sessions.hot(id), state.stats, sink.rows, sink.deltas]);
    expect(run(state, 2, 'session.spawn', { x: '1', y: 2 }, id).status).toBe(400);
    expect(run(state, 2, 'session.artifactStatus', { artifactId: 'x', status: 'ground' }, id).status).toBe(404);
    expect(run(state, 2, 'session.deposit', { artifactId: 'x' }, id).status).toBe(400);
    expect(run(state, 2, 'session.end', { result: 'draw' }, id).status).toBe(400);
    expect(run(state, 2, 'highScores.add', { playerTag: ' ', result: 'won' }).status).toBe(400);
    expect(JSON.stringify([state.sessions.hot(id), state.stats, sink.rows, sink.deltas])).toBe(before);
  });

  it('caps the artifacts of one session so a session cannot grow without bound', () => {
    const state = new HotState(recordingSink(), 0);
    const id = run(state, 1, 'session.create', null).body.sessionId as string;
    for (let i = 0; i < MAX_ARTIFACTS_PER_SESSION; i++) expect(run(state, 2, 'session.spawn', { x: i, y: 218 }, id).status).toBe(201);
    expect(run(state, 3, 'session.spawn', { x: 1, y: 218 }, id)).toMatchObject({ status: 400, body: { error: TOO_MANY_ARTIFACTS } });
    expect(state.sessions.hot(id)!.artifacts).toHaveLength(MAX_ARTIFACTS_PER_SESSION);
  });

  it('holds reloaded sessions unloaded until first use, loads each once, and ends expired ones once loaded', () => {
    const loader = new ScriptedLoader();
    const state = new HotState(recordingSink(), 0, { loader, sweepRetryMs: 5000 });
    state.loadSessions([['a', 1000, 60], ['b', 1000, 10]]);
    expect(statsOf(state, 2000).activeCount).toBe(2);
    expect(state.sessions.hot('a')).toBeUndefined(); // a rule never runs on a session not loaded

    // Two uses of 'a' at once share one load.
    const uses: unknown[] = [];
    state.sessions.use('a', (u) => uses.push(u));
    state.sessions.use('a', (u) => uses.push(u));
    expect(loader.asked.map(([id]) => id)).toEqual(['a']);
    loader.asked[0][1]({ ok: true, session: stored('a', 1000, 60) });
    expect(uses).toHaveLength(2);
    expect((uses[0] as SessionRecord).score).toBe(3);
    expect(state.sessions.hot('a')?.score).toBe(3);

    // b is past its deadline: the sweep loads it and ends it, instead of ending it blind.
    expect(state.sweepStale(1000 + 20_001)).toBe(0);
    expect(loader.asked.map(([id]) => id)).toEqual(['a', 'b']);
    loader.asked[1][1]({ ok: true, session: stored('b', 1000, 10) });
    expect(state.sessions.has('b')).toBe(false);
    expect(statsOf(state, 1000 + 20_002)).toMatchObject({ activeCount: 1, staleEndedCount: 1, endedCount: 1 });
  });

  it('keeps a session whose load failed (storage down) and tries the stale sweep again later; drops one storage no longer has', () => {
    const loader = new ScriptedLoader();
    const state = new HotState(recordingSink(), 0, { loader, sweepRetryMs: 5000 });
    state.loadSessions([['down', 1000, 10], ['gone', 1000, 600]]);
    state.sweepStale(30_000);
    const uses: unknown[] = [];
    loader.asked[0][1]({ ok: false });
    expect(state.sessions.has('down')).toBe(true);
    expect(state.sweepStale(30_001)).toBe(0);
    expect(loader.asked).toHaveLength(1); // not asked again before the retry delay
    state.sweepStale(35_001);
    expect(loader.asked).toHaveLength(2);

    state.sessions.use('gone', (u) => uses.push(u));
    loader.asked[2][1]({ ok: true, session: null });
    expect(uses).toEqual(['missing']);
    expect(state.sessions.has('gone')).toBe(false);
  });

  it('keeps at most 200 high scores, newest first', () => {
    const state = new HotState(recordingSink(), 0);
    for (let i = 0; i < 250; i++) run(state, 1000 + i, 'highScores.add', { playerTag: `p${i}`, result: 'won' });
    const scores = run(state, 5000, 'highScores.list', null).body.scores as Array<{ playerTag: string }>;
    expect(scores).toHaveLength(200);
    expect(scores[0].playerTag).toBe('p249');
    expect(scores[199].playerTag).toBe('p50');
  });
});
