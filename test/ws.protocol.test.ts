/**
 * The WebSocket protocol of the README against the built server in its own process: every
 * op in JSON and msgpack, errors identical to HTTP, durable answers, topics, and a fuzz of
 * malformed frames that must leave the server up and the state unchanged.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';
import { Client } from './helpers/http.js';
import { closedWithin, type Frame, packr, WsClient } from './ws.helpers.js';

const dir = tempDir('vibefixer-ws-protocol-');
let server: ChildServer;
let api: Client;
const clients: WsClient[] = [];

async function open(headers?: Record<string, string>): Promise<WsClient> {
  const c = await WsClient.open(server.port, headers);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startChild({
    VIBEFIXER_DB_PATH: join(dir.dir, 'db.sqlite'),
    VIBEFIXER_RATE_LIMIT_PER_MIN: '1000000',
    VIBEFIXER_STATS_PUSH_MS: '100',
  });
  api = new Client(server.url);
});

afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await server?.stop();
  dir.cleanup();
});

/** The answer's fields that come from the HTTP body. */
function bodyOf(answer: Frame): Frame {
  const { id: _id, ok: _ok, seq: _seq, ...body } = answer;
  return body;
}

const keys = (o: object) => Object.keys(o).sort();

for (const binary of [false, true]) {
  const encoding = binary ? 'msgpack (binary frames)' : 'JSON (text frames)';

  describe(`every op over ${encoding}`, () => {
    it('answers in the encoding of the request with the fields of the HTTP body, and a seq for each change', async () => {
      const c = await open();
      const isChange = (a: Frame) => expect(Number.isInteger(a.seq) && a.seq > 0, JSON.stringify(a)).toBe(true);

      const created = await c.request('session.create', { requestedDurationSeconds: 120 }, binary);
      const viaHttp = await api.post('/api/sessions', { requestedDurationSeconds: 120 });
      expect(created.ok).toBe(true);
      expect(keys(bodyOf(created))).toStrictEqual(keys(viaHttp.json));
      expect(created.durationSeconds).toBe(120);
      isChange(created);
      const sessionId = created.sessionId as string;

      const spawned = await c.request('session.spawn', { sessionId, x: 400.5, y: 218 }, binary);
      expect(bodyOf(spawned)).toStrictEqual({
        artifact: { id: expect.stringMatching(/^artifact_0_/), position: { x: 400.5, y: 218 }, status: 'inAir' },
      });
      isChange(spawned);
      const second = await c.request('session.spawn', { sessionId, x: 500, y: 218 }, binary);

      const status = await c.request('session.artifactStatus', { sessionId, artifactId: spawned.artifact.id, status: 'GROUND' }, binary);
      expect(status).toMatchObject({ ok: true });
      isChange(status);

      const deposit = await c.request('session.deposit', { sessionId, artifactId: second.artifact.id }, binary);
      expect(bodyOf(deposit)).toStrictEqual({ score: 1, remainingArtifacts: 1 });
      isChange(deposit);

      const ended = await c.request('session.end', { sessionId, result: 'won' }, binary);
      expect(bodyOf(ended)).toStrictEqual({ finalScore: 1, artifactsDeposited: 1 });
      isChange(ended);

      const added = await c.request('highScores.add', { playerTag: `ws-${binary}`, result: 'won', remainingUnchecked: 2 }, binary);
      expect(added.score).toMatchObject({ playerTag: `ws-${binary}`, result: 'won', remainingUnchecked: 2 });
      isChange(added);

      const list = await c.request('highScores.list', {}, binary);
      expect(bodyOf(list)).toStrictEqual((await api.get('/api/high-scores')).json);
      expect(list.seq).toBeUndefined();

      const stats = await c.request('stats.get', {}, binary);
      expect(bodyOf(stats)).toStrictEqual((await api.get('/api/sessions/stats')).json);

      const notices = await c.request('notices.active', {}, binary);
      expect(bodyOf(notices)).toStrictEqual((await api.get('/api/notices/active')).json);

      const system = await c.request('system.stats', {}, binary);
      expect(keys(bodyOf(system))).toStrictEqual(keys((await api.get('/api/system/stats')).json));

      // Every frame of this client came back in the request's encoding.
      expect(c.frames.every((f) => f.binary === binary)).toBe(true);
    });

    it('echoes the id as given (string, number, boolean, null) and answers a missing id with id null', async () => {
      const c = await open();
      for (const id of ['abc', 42, 1.5, true, null]) {
        const answer = await c.send({ id, op: 'notices.active' }, binary);
        expect(answer.id).toStrictEqual(id);
        expect(answer.ok).toBe(true);
      }
      c.sendRaw(binary ? packr.pack({ op: 'notices.active' }) : JSON.stringify({ op: 'notices.active' }), binary);
      await c.waitFrames(6);
      expect(c.frames[5].frame).toMatchObject({ id: null, ok: true, notices: [] });
    });
  });
}

describe('durability', () => {
  it('sends an answer only after its seq was committed: the persisted push of that seq arrives first', async () => {
    const c = await open();
    await c.request('subscribe', { topic: 'persisted' });
    for (let i = 0; i < 5; i++) {
      const answer = await c.request('session.create');
      const at = c.frames.findIndex((f) => f.frame.id === answer.id);
      const before = c.frames.slice(0, at).filter((f) => f.frame.topic === 'persisted' && !('ok' in f.frame)).map((f) => f.frame.data.seq as number);
      expect(Math.max(...before)).toBeGreaterThanOrEqual(answer.seq);
      const health = await api.get('/health');
      expect(health.json.durableSeq).toBeGreaterThanOrEqual(answer.seq);
    }
  });
});

describe('errors are the HTTP ones', () => {
  it('answers each invalid command with the status and message HTTP gives the same request', async () => {
    const sid = await api.createSession();
    const aid = await api.spawn(sid);
    const ended = await api.createSession();
    expect((await api.post(`/api/sessions/${ended}/end`, { result: 'lost' })).status).toBe(200);

    // [op, args (the HTTP body plus sessionId), HTTP path]
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['session.create', { requestedDurationSeconds: 5 }, '/api/sessions'],
      ['session.create', { requestedDurationSeconds: '30' }, '/api/sessions'],
      ['session.create', { requestedDurationSeconds: 601 }, '/api/sessions'],
      ['session.spawn', { sessionId: 'session_nope', x: 1, y: 1 }, '/api/sessions/session_nope/spawn'],
      ['session.spawn', { sessionId: sid, x: '1', y: 2 }, `/api/sessions/${sid}/spawn`],
      ['session.spawn', { sessionId: sid }, `/api/sessions/${sid}/spawn`],
      ['session.artifactStatus', { sessionId: sid, artifactId: aid, status: 'bogus' }, `/api/sessions/${sid}/artifact-status`],
      ['session.artifactStatus', { sessionId: sid, artifactId: 'artifact_nope', status: 'ground' }, `/api/sessions/${sid}/artifact-status`],
      ['session.deposit', { sessionId: sid }, `/api/sessions/${sid}/deposit`],
      ['session.deposit', { sessionId: sid, artifactId: 'artifact_nope' }, `/api/sessions/${sid}/deposit`],
      ['session.end', { sessionId: sid, result: 'maybe' }, `/api/sessions/${sid}/end`],
      ['session.end', { sessionId: sid, result: '' }, `/api/sessions/${sid}/end`],
      ['session.end', { sessionId: ended, result: 'won' }, `/api/sessions/${ended}/end`],
      ['session.deposit', { sessionId: 12345, artifactId: aid }, '/api/sessions/12345/deposit'],
      ['session.spawn', { sessionId: null, x: 1, y: 1 }, '/api/sessions/null/spawn'],
      ['highScores.add', { playerTag: 42, result: 'won' }, '/api/high-scores'],
      ['highScores.add', { playerTag: 'ok', result: 'draw' }, '/api/high-scores'],
      ['highScores.add', { playerTag: 'ok', result: 'won', remainingUnchecked: -1 }, '/api/high-scores'],
      ['highScores.add', { playerTag: 'x'.repeat(25), result: 'won' }, '/api/high-scores'],
    ];
    const c = await open();
    for (const [op, args, path] of cases) {
      const { sessionId: _sessionId, ...body } = args;
      const viaHttp = await api.post(path, body);
      expect(viaHttp.status, `${op} ${JSON.stringify(args)}`).toBeGreaterThanOrEqual(400);
      for (const binary of [false, true]) {
        const answer = await c.request(op, args, binary);
        expect(answer, `${op} ${JSON.stringify(args)} binary=${binary}`).toMatchObject({
          ok: false,
          error: { status: viaHttp.status, message: viaHttp.json.error },
        });
        expect(answer.seq).toBeUndefined();
      }
    }
  });

  it('answers an unknown or missing op with 400 "Unknown op", and a frame that is not an object with 400', async () => {
    const c = await open();
    for (const binary of [false, true]) {
      for (const op of ['nope', 'constructor', '__proto__', 'toString', 5, null, undefined]) {
        expect(await c.send({ id: 'x', op }, binary)).toStrictEqual({ id: 'x', ok: false, error: { status: 400, message: 'Unknown op' } });
      }
    }
    const before = c.frames.length;
    for (const value of [[], [1], 5, 'text', null, true]) c.sendRaw(JSON.stringify(value), false);
    c.sendRaw(JSON.stringify({ id: [1], op: 'stats.get' }), false);
    await c.waitFrames(before + 7);
    const answers = c.frames.slice(before).map((f) => f.frame);
    expect(answers.slice(0, 6).every((a) => a.id === null && a.error.message === 'Frame must be an object')).toBe(true);
    expect(answers[6]).toStrictEqual({ id: null, ok: false, error: { status: 400, message: 'Invalid id' } });
  });
});

describe('topics', () => {
  it('pushes stats after a change, at most one push per VIBEFIXER_STATS_PUSH_MS', async () => {
    const c = await open();
    await c.request('subscribe', { topic: 'stats' });
    const first = await c.waitPush((p) => p.topic === 'stats');
    const started = Date.now();
    for (let i = 0; i < 20; i++) await c.request('session.create');
    const last = await c.waitPush((p) => p.topic === 'stats' && p.data.startedCount === first.data.startedCount + 20);
    const elapsed = Date.now() - started;
    const pushes = c.pushes.filter((p) => p.topic === 'stats').length - 1;
    expect(pushes).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(keys(last.data)).toStrictEqual(keys((await api.get('/api/sessions/stats')).json));
  });

  it('pushes a view of session:<id> after every change, in the encoding of the subscribe request', async () => {
    const player = await open();
    const sessionId = (await player.request('session.create')).sessionId as string;
    const json = await open();
    const bin = await open();
    expect(await json.request('subscribe', { topic: `session:${sessionId}` })).toMatchObject({ ok: true, topic: `session:${sessionId}` });
    await bin.request('subscribe', { topic: `session:${sessionId}` }, true);
    // The current view comes first.
    expect((await json.waitPush((p) => p.topic === `session:${sessionId}`)).data).toStrictEqual({
      sessionId, status: 'active', score: 0, remainingArtifacts: 0, artifacts: [], endedAt: null, result: null,
    });
    const artifact = (await player.request('session.spawn', { sessionId, x: 300, y: 218 })).artifact;
    for (const c of [json, bin]) {
      const push = await c.waitPush((p) => p.data.artifacts.length === 1);
      expect(push.binary).toBe(c === bin);
      expect(push.data).toMatchObject({ sessionId, status: 'active', remainingArtifacts: 1, artifacts: [artifact] });
    }
    await player.request('session.end', { sessionId, result: 'lost' });
    const endPush = await json.waitPush((p) => p.data.status === 'ended');
    expect(endPush.data).toMatchObject({ status: 'ended', result: 'lost', endedAt: expect.any(String) });
    expect((await bin.waitPush((p) => p.data.status === 'ended')).binary).toBe(true);
  });

  it('pushes each new high score as the HTTP `score`, and the persisted seq as it advances', async () => {
    const c = await open();
    await c.request('subscribe', { topic: 'highScores' }, true);
    await c.request('subscribe', { topic: 'persisted' }, true);
    const initial = await c.waitPush((p) => p.topic === 'persisted');
    expect(initial.data.seq).toBe((await api.get('/health')).json.durableSeq);
    const viaHttp = await api.post('/api/high-scores', { playerTag: 'pusher', result: 'lost', remainingUnchecked: 3 });
    const push = await c.waitPush((p) => p.topic === 'highScores');
    expect(push).toStrictEqual({ topic: 'highScores', data: viaHttp.json.score, binary: true });
    const seq = Number(viaHttp.headers.get('x-vibefixer-seq'));
    expect((await c.waitPush((p) => p.topic === 'persisted' && p.data.seq >= seq)).data.seq).toBeGreaterThan(initial.data.seq);
  });

  it('stops pushing after unsubscribe', async () => {
    const c = await open();
    await c.request('subscribe', { topic: 'highScores' });
    expect(await c.request('unsubscribe', { topic: 'highScores' })).toMatchObject({ ok: true, topic: 'highScores' });
    await api.post('/api/high-scores', { playerTag: 'quiet', result: 'won' });
    await c.request('stats.get'); // a round trip after the change
    expect(c.pushes.filter((p) => p.topic === 'highScores')).toStrictEqual([]);
  });

  it('refuses unknown topics (400), sessions that are not active (404) and more than 100 subscriptions (400)', async () => {
    const c = await open();
    for (const topic of ['nope', 'bin:stats', 'session:', 5, undefined, 'x'.repeat(200)]) {
      expect(await c.request('subscribe', { topic })).toMatchObject({ ok: false, error: { status: 400, message: 'Unknown topic' } });
    }
    expect(await c.request('unsubscribe', { topic: 'nope' })).toMatchObject({ ok: false, error: { status: 400, message: 'Unknown topic' } });
    expect(await c.request('subscribe', { topic: 'session:session_nope' })).toMatchObject({
      ok: false,
      error: { status: 404, message: 'Session not found' },
    });
    const creates = await Promise.all(Array.from({ length: 98 }, () => c.request('session.create')));
    for (const topic of ['stats', 'highScores', 'persisted']) expect((await c.request('subscribe', { topic })).ok).toBe(true);
    for (const created of creates.slice(0, 97)) {
      expect((await c.request('subscribe', { topic: `session:${created.sessionId}` })).ok).toBe(true);
    }
    // Subscribing again to a followed topic is not a new subscription.
    expect((await c.request('subscribe', { topic: 'stats' })).ok).toBe(true);
    expect(await c.request('subscribe', { topic: `session:${creates[97].sessionId}` })).toMatchObject({
      ok: false,
      error: { status: 400, message: 'Too many subscriptions' },
    });
  });
});

/** A tiny seeded PRNG so a failing fuzz run can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('malformed frames', () => {
  it('answers thousands of well-formed but invalid frames with errors and changes nothing', async () => {
    const statsBefore = (await api.get('/api/sessions/stats')).json;
    const scoresBefore = (await api.get('/api/high-scores')).json;
    const rand = rng(4242);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const badIds = [undefined, null, 5, {}, [], true, 'session_nope', '', 'x'.repeat(300)];
    const badDurations = [5, 9.99, 601, '30', true, [], {}, -10, 'sixty'];
    const msgpackOnly = [Number.NaN, Number.POSITIVE_INFINITY, new Date(0), new Uint8Array([1, 2])];
    const generators: Array<(binary: boolean) => unknown> = [
      () => pick([[], [1, 2], 5, 'op', null, true, [{ op: 'stats.get' }]]),
      () => ({ id: pick([{}, [1], { a: 1 }]), op: 'stats.get' }),
      () => ({ id: 1, op: pick(['nope', 'session', 'stats', 'subscribe ', 'valueOf', 7, null, false, '']) }),
      (b) => ({ id: 2, op: 'session.create', requestedDurationSeconds: pick(b ? [...badDurations, ...msgpackOnly] : badDurations) }),
      () => ({ id: 3, op: pick(['session.spawn', 'session.artifactStatus', 'session.deposit', 'session.end']), sessionId: pick(badIds), x: 1, y: 1 }),
      () => ({ id: 4, op: 'highScores.add', playerTag: pick([5, '', '   ', 'x'.repeat(25), null, {}]), result: 'won' }),
      () => ({ id: 5, op: 'highScores.add', playerTag: 'fuzz', result: pick(['draw', 5, '', null]) }),
      () => ({ id: 6, op: 'highScores.add', playerTag: 'fuzz', result: 'won', remainingUnchecked: pick([-1, 10_000, '3', [], true]) }),
      () => ({ id: 7, op: pick(['subscribe', 'unsubscribe']), topic: pick(['nope', 5, null, 'bin:stats', 'session:', {}]) }),
      () => ({ id: 8, op: 'subscribe', topic: 'session:session_nope' }),
    ];
    const FRAMES = 3_000;
    const sockets = [await open(), await open(), await open()];
    let sent = 0;
    const started = Date.now();
    for (let i = 0; i < FRAMES && Date.now() - started < 20_000; i++) {
      const binary = rand() < 0.5;
      const value = pick(generators)(binary);
      const c = sockets[i % sockets.length];
      c.sendRaw(binary ? packr.pack(value) : JSON.stringify(value), binary);
      sent += 1;
      if (i % 500 === 499) await new Promise((r) => setTimeout(r, 5));
    }
    const per = sockets.map((_, k) => Math.floor(sent / sockets.length) + (k < sent % sockets.length ? 1 : 0));
    await Promise.all(sockets.map((c, k) => c.waitFrames(per[k], 20_000)));
    for (const c of sockets) {
      expect(c.frames.length).toBe(per[sockets.indexOf(c)]);
      const statuses = new Set(c.frames.map((f) => f.frame.error?.status));
      expect(c.frames.every((f) => f.frame.ok === false)).toBe(true);
      expect([...statuses].every((s) => s === 400 || s === 404)).toBe(true);
    }
    expect(sent).toBe(FRAMES);
    expect((await api.get('/api/sessions/stats')).json).toStrictEqual(statsBefore);
    expect((await api.get('/api/high-scores')).json).toStrictEqual(scoresBefore);
  });

  it('closes with 4400 on frames that are not JSON or msgpack, and the server stays up', async () => {
    const statsBefore = (await api.get('/api/sessions/stats')).json;
    const rand = rng(7);
    const texts = ['{', '{"a":', 'undefined', "{'a':1}", '', ' ', 'abc', '{"op":"stats.get"} x', 'NaN', '[1,]'];
    const binaries = [[], [0xc1], [0x81], [0x92, 0x01], [0x01, 0x02], [0xd4, 0x05, 0x00], [0xdc, 0xff, 0xff]];
    const CONNECTIONS = 300;
    const CONCURRENCY = 25;
    const codes: Array<{ code: number; reason: string; binary: boolean }> = [];
    let next = 0;
    const worker = async () => {
      while (next < CONNECTIONS) {
        next += 1;
        const binary = rand() < 0.5;
        const c = await WsClient.open(server.port);
        if (binary) c.sendRaw(Uint8Array.from(binaries[Math.floor(rand() * binaries.length)]), true);
        else c.sendRaw(texts[Math.floor(rand() * texts.length)], false);
        codes.push({ ...(await closedWithin(c)), binary });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    expect(codes.length).toBeGreaterThanOrEqual(CONNECTIONS);
    for (const { code, reason, binary } of codes) {
      expect(code).toBe(4400);
      expect(reason).toBe(binary ? 'Invalid msgpack' : 'Invalid JSON');
    }
    // Oversize frames and invalid UTF-8 are refused by uWS itself: the connection drops (1006).
    for (const raw of [Buffer.alloc(102_401, 0x20), Buffer.from([0x22, 0xff, 0xfe, 0x22])]) {
      for (const binary of raw.length > 100 ? [false, true] : [false]) {
        const c = await WsClient.open(server.port);
        c.sendRaw(raw, binary);
        expect((await closedWithin(c)).code).toBe(1006);
      }
    }
    expect((await api.get('/health')).status).toBe(200);
    expect((await api.get('/api/sessions/stats')).json).toStrictEqual(statsBefore);
    const c = await open();
    expect((await c.request('stats.get')).ok).toBe(true);
  });
});
