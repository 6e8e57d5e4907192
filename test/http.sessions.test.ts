/**
 * Contract tests over real HTTP: the session endpoints of CONTRACT §1.6, the level of §2.3–§2.7
 * and the score semantics of §3.5, against the built server in its own process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { Client, expectError, expectJson, serverForFile } from './helpers/http.js';

let server: ChildServer;
let api: Client;
serverForFile('vibefixer-http-sessions-', (s, a) => {
  server = s;
  api = a;
});

const CREATE_FIELDS = ['artifacts', 'durationSeconds', 'playerSpeedPercent', 'score', 'seed', 'sessionId', 'terrain', 'trashCan'];
const path = (sessionId: string, action: string) => `/api/sessions/${sessionId}/${action}`;

describe('POST /api/sessions', () => {
  it('answers 201 with exactly the fields of §2.3, a 60-second default duration and an empty artifact list', async () => {
    const reply = await api.post('/api/sessions');
    expectJson(reply, 201);
    const body = reply.json;
    expect(Object.keys(body).sort()).toStrictEqual(CREATE_FIELDS);
    expect(body.sessionId).toMatch(/^session_[A-Za-z0-9_-]+$/);
    expect(typeof body.seed).toBe('string');
    expect(body.seed.length).toBeGreaterThan(0);
    expect(body.durationSeconds).toBe(60);
    expect(body.score).toBe(0);
    expect(body.playerSpeedPercent).toBe(100);
    expect(body.artifacts).toStrictEqual([]);
  });

  it('gives every session a distinct, unpredictable id', async () => {
    const ids = await Promise.all(Array.from({ length: 10 }, () => api.createSession()));
    expect(new Set(ids).size).toBe(10);
    // Crypto-random, not a timestamp: no common prefix beyond `session_` (decision #19).
    const suffixes = ids.map((id) => id.slice('session_'.length));
    expect(suffixes.every((s) => s.length >= 16)).toBe(true);
  });

  it('builds every level by the rules of §2.4 and §2.7, with the constant Code Review Bin of §2.5', async () => {
    for (let i = 0; i < 8; i++) {
      const { json: body } = await api.post('/api/sessions');
      expect(body.trashCan).toStrictEqual({ position: { x: 877, y: 449 }, bounds: { x: 877, y: 449, width: 90, height: 110 } });

      const ground = body.terrain.filter((t: any) => t.type === 'ground');
      expect(ground).toStrictEqual([{ id: 'terrain_ground', type: 'ground', bounds: { x: 0, y: 559, width: 1024, height: 124 } }]);

      const stones = body.terrain.filter((t: any) => t.type !== 'ground');
      expect(stones.length).toBeGreaterThanOrEqual(1);
      expect(stones.length).toBeLessThanOrEqual(18);
      expect(new Set(body.terrain.map((t: any) => t.id)).size).toBe(body.terrain.length);
      for (const stone of stones) {
        expect(Object.keys(stone).sort()).toStrictEqual(['bounds', 'id', 'type']);
        expect(stone.type).toBe('stone');
        const m = /^terrain_(\d+)$/.exec(stone.id);
        expect(m, stone.id).not.toBeNull();
        const attempt = Number(m![1]);
        expect(attempt).toBeLessThan(18);
        const b = stone.bounds;
        expect(Object.keys(b).sort()).toStrictEqual(['height', 'width', 'x', 'y']);
        expect([b.x, b.y, b.width, b.height].every(Number.isInteger)).toBe(true);
        expect(b.height).toBe(32);
        expect(b.width).toBeGreaterThanOrEqual(32);
        expect(b.width).toBeLessThanOrEqual(64);
        // Tiers: the first two attempts low, the next two high, the rest either.
        if (attempt < 2) expect(b.y).toBe(463);
        else if (attempt < 4) expect(b.y).toBe(399);
        else expect([463, 399]).toContain(b.y);
        expect(b.x).toBeGreaterThanOrEqual(120);
        expect(b.x + b.width).toBeLessThanOrEqual(797); // 80 px clear of the bin
        expect(b.y).toBeLessThan(559); // the ground's y is the largest
      }
      for (const a of stones) {
        for (const b of stones) {
          if (a === b) continue;
          const gap = Math.max(b.bounds.x - (a.bounds.x + a.bounds.width), a.bounds.x - (b.bounds.x + b.bounds.width));
          expect(gap, `${a.id} vs ${b.id}`).toBeGreaterThanOrEqual(80);
        }
      }
    }
  });

  it.each([
    ['0', 0],
    ['""', ''],
    ['false', false],
    ['null', null],
  ])('treats the falsy duration %s as the default of 60 seconds', async (_label, value) => {
    const reply = await api.post('/api/sessions', { requestedDurationSeconds: value });
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(60);
  });

  it.each([10, 600, 30.5, 45])('accepts the duration %s (10 to 600 inclusive, fractions allowed)', async (value) => {
    const reply = await api.post('/api/sessions', { requestedDurationSeconds: value });
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(value);
  });

  it.each([
    ['the string "30"', '30'],
    ['9.99', 9.99],
    ['600.5', 600.5],
    ['601', 601],
    ['5', 5],
    ['-10', -10],
    ['true', true],
    ['an array', [30]],
    ['an object', { seconds: 30 }],
  ])('refuses the duration %s with 400', async (_label, value) => {
    const reply = await api.post('/api/sessions', { requestedDurationSeconds: value });
    expectError(reply, 400, 'requestedDurationSeconds must be between 10 and 600');
  });

  it.each([
    ['an empty body', undefined],
    ['null', null],
    ['an array', [120]],
    ['a string', 'hello'],
    ['a number', 120],
  ])('creates a default session when the body is %s (non-objects count as no fields)', async (_label, body) => {
    const reply = await api.post('/api/sessions', body);
    expectJson(reply, 201);
    expect(reply.json.durationSeconds).toBe(60);
  });
});

describe('POST /api/sessions/{id}/spawn', () => {
  it('answers 201 {artifact:{id, position, status:"inAir"}} at exactly the posted position', async () => {
    const sessionId = await api.createSession();
    const reply = await api.post(path(sessionId, 'spawn'), { x: 512.75, y: 218 });
    expectJson(reply, 201);
    expect(Object.keys(reply.json)).toStrictEqual(['artifact']);
    const { artifact } = reply.json;
    expect(artifact).toStrictEqual({ id: artifact.id, position: { x: 512.75, y: 218 }, status: 'inAir' });
    expect(artifact.id).toMatch(/^artifact_/);
  });

  it('gives each artifact of a session its own id', async () => {
    const sessionId = await api.createSession();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await api.spawn(sessionId, 170 + i * 100));
    expect(new Set(ids).size).toBe(5);
  });

  it('applies no range check to coordinates', async () => {
    const sessionId = await api.createSession();
    const reply = await api.post(path(sessionId, 'spawn'), { x: -50, y: 5000 });
    expectJson(reply, 201);
    expect(reply.json.artifact.position).toStrictEqual({ x: -50, y: 5000 });
  });

  it.each([
    ['x missing', { y: 218 }],
    ['y missing', { x: 400 }],
    ['x a string', { x: '400', y: 218 }],
    ['y a string', { x: 400, y: '218' }],
    ['x null', { x: null, y: 218 }],
    ['an empty object', {}],
    ['no body', undefined],
    ['an array body', [400, 218]],
    ['a number body', 400],
  ])('refuses %s with 400 "x and y are required"', async (_label, body) => {
    const sessionId = await api.createSession();
    expectError(await api.post(path(sessionId, 'spawn'), body), 400, 'x and y are required');
  });
});

describe('POST /api/sessions/{id}/artifact-status', () => {
  it.each(['ground', 'carried', 'flying', 'deposited', 'inAir'])('answers 200 {ok:true} for the status %s', async (status) => {
    const sessionId = await api.createSession();
    const artifactId = await api.spawn(sessionId);
    const reply = await api.post(path(sessionId, 'artifact-status'), { artifactId, status });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ ok: true });
  });

  it.each(['GROUND', 'Carried', 'INAIR', 'inair', 'DePoSiTeD'])('matches the status %s case-insensitively (decision #2)', async (status) => {
    const sessionId = await api.createSession();
    const artifactId = await api.spawn(sessionId);
    const reply = await api.post(path(sessionId, 'artifact-status'), { artifactId, status });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ ok: true });
  });

  it('stores a case-folded status in its canonical spelling: "GROUND" counts as ground for the score', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    const b = await api.spawn(sessionId);
    await api.setStatus(sessionId, a, 'GROUND');
    const reply = await api.post(path(sessionId, 'deposit'), { artifactId: b });
    expect(reply.json).toStrictEqual({ score: 1, remainingArtifacts: 1 });
  });

  it('finds the artifact when its id is padded with blanks (trimmed, decision #3)', async () => {
    const sessionId = await api.createSession();
    const artifactId = await api.spawn(sessionId);
    const reply = await api.post(path(sessionId, 'artifact-status'), { artifactId: `  ${artifactId}\t `, status: 'ground' });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ ok: true });
    // ...and the change took effect: it now counts as ground.
    const other = await api.spawn(sessionId);
    expect((await api.post(path(sessionId, 'deposit'), { artifactId: other })).json.score).toBe(1);
  });

  it.each([
    ['a missing artifactId', { status: 'ground' }],
    ['an empty artifactId', { artifactId: '', status: 'ground' }],
    ['a blank artifactId', { artifactId: '   ', status: 'ground' }],
    ['an artifactId of 81 characters after trimming', { artifactId: ` ${'a'.repeat(81)} `, status: 'ground' }],
    ['a numeric artifactId', { artifactId: 5, status: 'ground' }],
    ['a missing status', { artifactId: 'artifact_0' }],
    ['an unknown status', { artifactId: 'artifact_0', status: 'falling' }],
    ['an empty status', { artifactId: 'artifact_0', status: '' }],
    ['a numeric status', { artifactId: 'artifact_0', status: 1 }],
    ['a null status', { artifactId: 'artifact_0', status: null }],
    ['an array body', ['artifact_0', 'ground']],
  ])('refuses %s with 400 "artifactId and valid status are required"', async (_label, body) => {
    const sessionId = await api.createSession();
    await api.spawn(sessionId);
    expectError(await api.post(path(sessionId, 'artifact-status'), body), 400, 'artifactId and valid status are required');
  });

  it('measures the 80-character limit after trimming: a padded 80-character id is valid (and unknown: 404)', async () => {
    const sessionId = await api.createSession();
    const reply = await api.post(path(sessionId, 'artifact-status'), { artifactId: `   ${'a'.repeat(80)}   `, status: 'ground' });
    expectError(reply, 404, 'Artifact not found');
  });

  it('answers 404 "Artifact not found" for an id that is not in this session', async () => {
    const sessionId = await api.createSession();
    const otherSession = await api.createSession();
    const foreign = await api.spawn(otherSession);
    expectError(await api.post(path(sessionId, 'artifact-status'), { artifactId: 'artifact_0_nope', status: 'ground' }), 404, 'Artifact not found');
    expectError(await api.post(path(sessionId, 'artifact-status'), { artifactId: foreign, status: 'ground' }), 404, 'Artifact not found');
  });

  it('allows every transition, including taking a deposited artifact back out of the bin (decision #4)', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    expectJson(await api.post(path(sessionId, 'deposit'), { artifactId: a }), 200);
    await api.setStatus(sessionId, a, 'ground');
    await api.setStatus(sessionId, a, 'carried');
    await api.setStatus(sessionId, a, 'flying');
    // Out of the bin again, so it can be deposited a second time.
    const again = await api.post(path(sessionId, 'deposit'), { artifactId: a });
    expectJson(again, 200);
    expect(again.json).toStrictEqual({ score: 0, remainingArtifacts: 0 });
  });
});

describe('POST /api/sessions/{id}/deposit', () => {
  it('scores the artifacts still on the ground (§3.5 worked example: 2 on ground, 1 falling → score 2, remaining 2)', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId, 200);
    const b = await api.spawn(sessionId, 300);
    const falling = await api.spawn(sessionId, 400);
    await api.setStatus(sessionId, a, 'ground');
    await api.setStatus(sessionId, b, 'ground');
    const reply = await api.post(path(sessionId, 'deposit'), { artifactId: falling });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ score: 2, remainingArtifacts: 2 });
  });

  it('counts neither carried nor falling artifacts in the score', async () => {
    const sessionId = await api.createSession();
    const ground = await api.spawn(sessionId);
    const carried = await api.spawn(sessionId);
    await api.spawn(sessionId); // stays inAir
    const target = await api.spawn(sessionId);
    await api.setStatus(sessionId, ground, 'ground');
    await api.setStatus(sessionId, carried, 'carried');
    const reply = await api.post(path(sessionId, 'deposit'), { artifactId: target });
    expect(reply.json).toStrictEqual({ score: 1, remainingArtifacts: 3 });
  });

  it('finds the artifact when its id is padded with blanks', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    const reply = await api.post(path(sessionId, 'deposit'), { artifactId: ` \n${a}  ` });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ score: 0, remainingArtifacts: 0 });
  });

  it('answers 400 "Artifact not available" for an unknown id and for an artifact already deposited', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    expectError(await api.post(path(sessionId, 'deposit'), { artifactId: 'artifact_9_nope' }), 400, 'Artifact not available');
    expectJson(await api.post(path(sessionId, 'deposit'), { artifactId: a }), 200);
    expectError(await api.post(path(sessionId, 'deposit'), { artifactId: a }), 400, 'Artifact not available');
  });

  it.each([
    ['no body', undefined],
    ['a missing artifactId', {}],
    ['an empty artifactId', { artifactId: '' }],
    ['a blank artifactId', { artifactId: ' \t ' }],
    ['an artifactId of 81 characters', { artifactId: 'a'.repeat(81) }],
    ['a numeric artifactId', { artifactId: 7 }],
    ['a null artifactId', { artifactId: null }],
    ['a string body', 'artifact_0'],
  ])('refuses %s with 400 "artifactId is required"', async (_label, body) => {
    const sessionId = await api.createSession();
    expectError(await api.post(path(sessionId, 'deposit'), body), 400, 'artifactId is required');
  });
});

describe('POST /api/sessions/{id}/end', () => {
  it('answers {finalScore, artifactsDeposited}: the last deposit\'s score, and a deposited item put back on the ground is not counted', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    const b = await api.spawn(sessionId);
    const c = await api.spawn(sessionId);
    await api.setStatus(sessionId, a, 'ground');
    await api.setStatus(sessionId, b, 'ground');
    expect((await api.post(path(sessionId, 'deposit'), { artifactId: c })).json).toStrictEqual({ score: 2, remainingArtifacts: 2 });
    await api.setStatus(sessionId, c, 'ground'); // back out of the bin
    const reply = await api.post(path(sessionId, 'end'), { result: 'lost' });
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ finalScore: 2, artifactsDeposited: 0 });
  });

  it('counts the artifacts whose status is deposited', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    const b = await api.spawn(sessionId);
    await api.spawn(sessionId);
    await api.post(path(sessionId, 'deposit'), { artifactId: a });
    await api.post(path(sessionId, 'deposit'), { artifactId: b });
    const reply = await api.post(path(sessionId, 'end'), { result: 'lost' });
    expect(reply.json).toStrictEqual({ finalScore: 0, artifactsDeposited: 2 });
  });

  it('answers finalScore 0 when nothing was ever deposited, even with artifacts on the ground', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    await api.setStatus(sessionId, a, 'ground');
    const reply = await api.post(path(sessionId, 'end'), { result: 'lost' });
    expect(reply.json).toStrictEqual({ finalScore: 0, artifactsDeposited: 0 });
  });

  it.each([
    ['an empty string', ''],
    ['"draw"', 'draw'],
    ['a number', 5],
    ['true', true],
    ['an object', { result: 'won' }],
    ['an array', ['won']],
  ])('refuses the result %s with 400 and leaves the session active', async (_label, result) => {
    const sessionId = await api.createSession();
    expectError(await api.post(path(sessionId, 'end'), { result }), 400, 'result must be won or lost');
    // Still active: it can still be played and ended.
    expectJson(await api.post(path(sessionId, 'spawn'), { x: 1, y: 2 }), 201);
    expectJson(await api.post(path(sessionId, 'end'), { result: 'won' }), 200);
  });

  it.each([
    ['no body', undefined],
    ['a null result', { result: null }],
    ['no result field', {}],
    ['an array body', ['won']],
  ])('ends the session as abandoned with %s', async (_label, body) => {
    const sessionId = await api.createSession();
    const before = (await api.get('/api/sessions/stats')).json;
    const reply = await api.post(path(sessionId, 'end'), body);
    expectJson(reply, 200);
    expect(reply.json).toStrictEqual({ finalScore: 0, artifactsDeposited: 0 });
    const after = (await api.get('/api/sessions/stats')).json;
    expect(after.abandonedCount - before.abandonedCount).toBe(1);
    expect(after.wonCount).toBe(before.wonCount);
    expect(after.lostCount).toBe(before.lostCount);
  });

  it('ends a session only once: a second end and every later action answer 404 "Session not found"', async () => {
    const sessionId = await api.createSession();
    const a = await api.spawn(sessionId);
    expectJson(await api.post(path(sessionId, 'end'), { result: 'won' }), 200);
    expectError(await api.post(path(sessionId, 'end'), { result: 'won' }), 404, 'Session not found');
    expectError(await api.post(path(sessionId, 'spawn'), { x: 1, y: 2 }), 404, 'Session not found');
    expectError(await api.post(path(sessionId, 'artifact-status'), { artifactId: a, status: 'ground' }), 404, 'Session not found');
    expectError(await api.post(path(sessionId, 'deposit'), { artifactId: a }), 404, 'Session not found');
  });
});
