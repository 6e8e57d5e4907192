/**
 * HTTP/1.1 pipelining on one connection, with a raw socket, the server in-process (built output) so
 * commits can be held back through the store seam. uWebSockets.js drops a connection when it parses
 * a request while an earlier answer on it is still owed (src/http/pending.ts); these tests pin what
 * the server guarantees around that:
 * - every pipelined request is answered, in order, when no answer has to wait (reads; ack=memory);
 * - a request that arrives in a later packet while a write waits for its commit is answered after it;
 * - a connection is never dropped after a write was applied and left unanswered.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyReply, TaskError } from '../src/model/protocol.js';
import type { BatchStore } from '../src/persist/queue.js';
import type * as ServerModule from '../src/server/boot.js';
import type * as ConfigModule from '../src/config.js';
import type * as LogModule from '../src/server/log.js';
import { tempDir } from './helpers/child-server.js';
import { RawConnection, request } from './helpers/raw-http.js';

const { startServer } = (await import('../dist/src/server/boot.js' as string)) as typeof ServerModule;
const { loadConfig } = (await import('../dist/src/config.js' as string)) as typeof ConfigModule;
const { createLogger } = (await import('../dist/src/server/log.js' as string)) as typeof LogModule;

/** The seam: while shut, batches wait here; `received` counts the batches that reached it. */
class GatedStore implements BatchStore {
  shut = false;
  received = 0;
  private waiting: Array<() => void> = [];
  constructor(private readonly inner: BatchStore) {}
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError> {
    this.received += 1;
    if (!this.shut) return this.inner.apply(seq, bytes);
    return new Promise((resolve) => this.waiting.push(() => resolve(this.inner.apply(seq, bytes))));
  }
  open(): void {
    this.shut = false;
    for (const go of this.waiting.splice(0)) go();
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serverWith(env: Record<string, string> = {}) {
  const tmp = tempDir('vibefixer-pipelining-');
  cleanups.push(tmp.cleanup);
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', VIBEFIXER_DB_PATH: join(tmp.dir, 'db.sqlite'), VIBEFIXER_LOG_LEVEL: 'silent', ...env }, tmp.dir);
  let gate!: GatedStore;
  const server = await startServer(config, createLogger('silent'), { wrapStore: (s) => (gate = new GatedStore(s)) });
  cleanups.push(async () => void (await server.close('test')));
  const connect = () => {
    const c = new RawConnection(server.port);
    cleanups.push(() => c.destroy());
    return c;
  };
  const stats = async () => (await (await fetch(`http://127.0.0.1:${server.port}/api/sessions/stats`)).json()) as Record<string, number>;
  const createSession = async () => ((await (await fetch(`http://127.0.0.1:${server.port}/api/sessions`, { method: 'POST' })).json()) as { sessionId: string }).sessionId;
  return { server, gate, connect, stats, createSession };
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done(), what).toBe(true);
}

const json = (value: unknown) => JSON.stringify(value);

describe('HTTP pipelining', () => {
  it('answers every pipelined read in order, with ack=durable', async () => {
    const { connect } = await serverWith();
    const c = connect();
    await c.write(
      request('GET', '/health'),
      request('GET', '/metrics'),
      request('GET', '/api/sessions/stats'),
      request('GET', '/api/high-scores'),
      request('GET', '/nope'),
      request('GET', '/health'),
    );
    const answers = await c.waitFor(6);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 404, 200]);
    expect(answers[1].body).toContain('vibefixer_persist_queue_depth');
    expect(JSON.parse(answers[2].body)).toHaveProperty('startedCount');
    expect(c.closed).toBe(false);
  });

  it('answers pipelined writes and reads in order, with ack=memory', async () => {
    const { connect, createSession, stats } = await serverWith({ VIBEFIXER_ACK: 'memory' });
    const id = await createSession();
    const c = connect();
    const spawn = request('POST', `/api/sessions/${id}/spawn`, json({ x: 400, y: 218 }));
    await c.write(request('POST', '/api/sessions'), request('GET', '/health'), spawn, spawn, spawn, request('POST', `/api/sessions/${id}/end`, json({ result: 'won' })), request('GET', '/api/sessions/stats'));
    const answers = await c.waitFor(7);
    expect(answers.map((a) => a.status)).toEqual([201, 200, 201, 201, 201, 200, 200]);
    expect(JSON.parse(answers[5].body)).toMatchObject({ finalScore: 0 });
    expect(JSON.parse(answers[6].body)).toMatchObject({ startedCount: 2, endedCount: 1 });
    expect((await stats()).startedCount).toBe(2);
  });

  it('answers refused and invalid writes pipelined with reads at once, in order, with ack=durable', async () => {
    const { connect, stats } = await serverWith();
    const c = connect();
    await c.write(
      request('POST', '/api/high-scores', json({ playerTag: '', result: 'won' })),
      request('GET', '/health'),
      request('POST', '/api/sessions/nope/spawn', json({ x: 1, y: 2 })),
      request('POST', '/api/sessions', json({ requestedDurationSeconds: 5 })),
      request('POST', '/api/high-scores', '{"playerTag":'),
      request('GET', '/api/sessions/stats'),
    );
    const answers = await c.waitFor(6);
    expect(answers.map((a) => a.status)).toEqual([400, 200, 404, 400, 400, 200]);
    expect(JSON.parse(answers[0].body)).toEqual({ error: 'playerTag is required' });
    expect(JSON.parse(answers[4].body)).toEqual({ error: 'Invalid JSON' });
    expect(c.closed).toBe(false);
    expect((await stats()).startedCount).toBe(0);
  });

  it('answers a request that arrives while a write waits for its commit, after that write', async () => {
    const { gate, connect, stats } = await serverWith();
    const c = connect();
    gate.shut = true;
    await c.write(request('POST', '/api/sessions'));
    await until(() => gate.received === 1, 'the write reached the store');
    await c.write(request('GET', '/health'));
    // Give the GET time to reach the server while the write is still held (no assertion on time).
    await new Promise((r) => setTimeout(r, 100));
    expect(c.answers).toHaveLength(0);
    gate.open();
    const answers = await c.waitFor(2);
    expect(answers.map((a) => a.status)).toEqual([201, 200]);
    expect(JSON.parse(answers[1].body)).toHaveProperty('storage');
    expect(c.closed).toBe(false);
    // The connection is still usable after both answers.
    await c.write(request('GET', '/api/sessions/stats'));
    const third = await c.waitFor(3);
    expect(JSON.parse(third[2].body).startedCount).toBe(1);
    expect((await stats()).startedCount).toBe(1);
  });

  it('never applies a write it leaves unanswered when a request is pipelined right behind it (ack=durable)', async () => {
    const { connect, createSession, stats, server } = await serverWith();
    // uWS closes these connections (an answer is owed when the next request is parsed): nothing of
    // what was sent on them may have changed the state.
    const c1 = connect();
    await c1.write(request('POST', '/api/sessions'), request('GET', '/health'));
    const id = await createSession();
    const c2 = connect();
    await c2.write(request('POST', `/api/sessions/${id}/end`, json({ result: 'won' })), request('GET', '/health'));
    const spawn = request('POST', `/api/sessions/${id}/spawn`, json({ x: 400, y: 218 }));
    const c3 = connect();
    await c3.write(spawn, spawn, spawn);
    for (const c of [c1, c2, c3]) {
      await c.waitFor(1);
      // Either answered (then applied) or dropped (then not applied): count what was answered.
      if (c.answers.length === 0) expect(await c.waitClosed(), 'dropped without an answer').toBe(true);
    }
    const answeredCreates = c1.answers.filter((a) => a.status === 201).length;
    const s = await stats();
    expect(s.startedCount).toBe(1 + answeredCreates);
    expect(s.endedCount).toBe(c2.answers.filter((a) => a.status === 200 && a.body.includes('finalScore')).length);
    const session = server.state.sessions.hot(id);
    const answeredSpawns = c3.answers.filter((a) => a.status === 201).length;
    expect(session?.artifacts.length ?? 0).toBe(answeredSpawns);
  });
});
