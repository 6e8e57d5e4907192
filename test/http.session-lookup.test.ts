/**
 * Contract tests over real HTTP: how the session action endpoints find their session (CONTRACT
 * §1.6 "Checks shared by the four session action endpoints": looked up before the body, raw path
 * segment, wrong methods fall through to 404), and the X-Vibefixer-Seq header of acknowledged changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildServer } from './helpers/child-server.js';
import { Client, expectError, expectJson, seqOf, SEQ_HEADER, serverForFile } from './helpers/http.js';

let server: ChildServer;
let api: Client;
serverForFile('vibefixer-http-lookup-', (s, a) => {
  server = s;
  api = a;
});

const path = (sessionId: string, action: string) => `/api/sessions/${sessionId}/${action}`;

describe('unknown sessions', () => {
  const actions = ['spawn', 'artifact-status', 'deposit', 'end'];
  const bodies: Array<[string, string | undefined]> = [
    ['a valid body', JSON.stringify({ x: 1, y: 2, artifactId: 'artifact_0', status: 'ground', result: 'won' })],
    ['no body', undefined],
    ['invalid JSON', '{"x":'],
    ['invalid fields', JSON.stringify({ x: 'no', artifactId: 5, status: 'nope', result: 'draw' })],
    ['a body over 100 KiB', JSON.stringify({ pad: 'x'.repeat(150_000) })],
  ];
  for (const action of actions) {
    it.each(bodies)(`${action} answers 404 "Session not found" with %s (the session is looked up before the body)`, async (_label, raw) => {
      const reply = raw === undefined ? await api.post(path('session_unknown', action)) : await api.postRaw(path('session_unknown', action), raw);
      expectError(reply, 404, 'Session not found');
    });
  }

  it('uses the raw path segment: a percent-encoded session id does not match', async () => {
    const sessionId = await api.createSession();
    const encoded = sessionId.replace('_', '%5F');
    expectError(await api.post(path(encoded, 'spawn'), { x: 1, y: 2 }), 404, 'Session not found');
  });

  it('answers 404 "Not Found" (not 405) for the wrong method on a session action path', async () => {
    const sessionId = await api.createSession();
    for (const action of actions) {
      expectError(await api.get(path(sessionId, action)), 404, 'Not Found');
      expectError(await api.request('PUT', path(sessionId, action), { json: {} }), 404, 'Not Found');
    }
    // The session is untouched by those.
    expectJson(await api.post(path(sessionId, 'end'), { result: 'won' }), 200);
  });
});

describe('X-Vibefixer-Seq', () => {
  it('is a positive integer on every acknowledged change', async () => {
    const create = await api.post('/api/sessions');
    const sessionId = create.json.sessionId;
    const spawn = await api.post(path(sessionId, 'spawn'), { x: 1, y: 2 });
    const artifactId = spawn.json.artifact.id;
    const status = await api.post(path(sessionId, 'artifact-status'), { artifactId, status: 'carried' });
    const deposit = await api.post(path(sessionId, 'deposit'), { artifactId });
    const end = await api.post(path(sessionId, 'end'), { result: 'won' });
    const highScore = await api.post('/api/high-scores', { playerTag: 'SEQ', result: 'won', remainingUnchecked: 0 });
    const seqs = [create, spawn, status, deposit, end, highScore].map(seqOf);
    // Each change is acknowledged at or after the one before it.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1]);
  });

  it('is absent on reads', async () => {
    for (const p of ['/api/sessions/stats', '/api/high-scores', '/api/notices/active', '/api/system/stats', '/health']) {
      const reply = await api.get(p);
      expect(reply.status).toBe(200);
      expect(reply.headers.has(SEQ_HEADER), p).toBe(false);
    }
  });

  it('is absent on refused writes (nothing changed)', async () => {
    const sessionId = await api.createSession();
    const refused = [
      await api.post('/api/sessions', { requestedDurationSeconds: 'x' }),
      await api.postRaw('/api/sessions', '{'),
      await api.post(path(sessionId, 'spawn'), {}),
      await api.post(path('session_unknown', 'spawn'), { x: 1, y: 2 }),
      await api.post(path(sessionId, 'deposit'), { artifactId: 'artifact_nope' }),
      await api.post('/api/high-scores', {}),
    ];
    for (const reply of refused) {
      expect(reply.status).toBeGreaterThanOrEqual(400);
      expect(reply.headers.has(SEQ_HEADER), reply.text).toBe(false);
    }
  });
});
