/**
 * Failure policy with a real worker thread and a real SQLite file, the server in-process (built
 * output) so faults can be injected through its seams:
 * - the worker rejects the next N batches → degraded, retried, answers held, nothing lost;
 * - the worker thread dies mid-batch → replaced, the batch is committed by its successor.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyReply, TaskError } from '../src/model/protocol.js';
import type { BatchStore } from '../src/persist/queue.js';
import type * as ServerModule from '../src/server/boot.js';
import type * as ConfigModule from '../src/config.js';
import type * as LogModule from '../src/server/log.js';
import { tempDir } from './helpers/child-server.js';

const { startServer } = (await import('../dist/src/server/boot.js' as string)) as typeof ServerModule;
const { loadConfig } = (await import('../dist/src/config.js' as string)) as typeof ConfigModule;
const { createLogger } = (await import('../dist/src/server/log.js' as string)) as typeof LogModule;

/** The seam: fails the next `n` batches with a retryable disk-full error, then passes through. */
class RejectingStore implements BatchStore {
  rejected = 0;
  constructor(
    private readonly inner: BatchStore,
    public failNext: number,
  ) {}
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      this.rejected += 1;
      return Promise.resolve({ ok: false, code: 'DISK_FULL', message: 'injected: database or disk is full', retryable: true });
    }
    return this.inner.apply(seq, bytes);
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function configFor(dir: string, extra: Record<string, string> = {}) {
  return loadConfig(
    { PORT: '0', HOST: '127.0.0.1', VIBEFIXER_DB_PATH: join(dir, 'db.sqlite'), VIBEFIXER_RETRY_MAX_BACKOFF_MS: '40', VIBEFIXER_LOG_LEVEL: 'silent', ...extra },
    dir,
  );
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('failure policy', () => {
  it('holds durable answers while the worker rejects batches, reports degraded, retries and loses nothing', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const config = configFor(tmp.dir);
    let seam!: RejectingStore;
    const server = await startServer(config, createLogger('silent'), { wrapStore: (s) => (seam = new RejectingStore(s, 0)) });
    cleanups.push(async () => void (await server.close('test')));
    const url = `http://127.0.0.1:${server.port}`;

    seam.failNext = 4;
    const answer = json(`${url}/api/high-scores`, { method: 'POST', body: JSON.stringify({ playerTag: 'survivor', result: 'won' }) });
    // While the batch fails, /health says degraded and the answer is still held.
    let degraded = false;
    for (let i = 0; i < 200 && !degraded; i++) {
      degraded = (await json(`${url}/health`)).body.storage === 'degraded';
      if (!degraded) await new Promise((r) => setTimeout(r, 5));
    }
    expect(degraded).toBe(true);
    const settled = await answer;
    expect(settled.status).toBe(201);
    expect(seam.rejected).toBe(4);
    expect((await json(`${url}/health`)).body.storage).toBe('ok');
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^vibefixer_persist_retries_total 4$/m);

    await server.close('test');
    const again = await startServer(config, createLogger('silent'));
    cleanups.push(async () => void (await again.close('test')));
    const scores = await json(`http://127.0.0.1:${again.port}/api/high-scores`);
    expect((scores.body.scores as Array<{ playerTag: string }>).map((s) => s.playerTag)).toEqual(['survivor']);
  });

  it('answers 503 after the durable wait bound, and still commits the change once storage recovers', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const config = configFor(tmp.dir, { VIBEFIXER_DURABLE_WAIT_MS: '100' });
    let seam!: RejectingStore;
    const server = await startServer(config, createLogger('silent'), { wrapStore: (s) => (seam = new RejectingStore(s, 0)) });
    cleanups.push(async () => void (await server.close('test')));
    const url = `http://127.0.0.1:${server.port}`;

    seam.failNext = 1_000_000;
    const answer = await json(`${url}/api/high-scores`, { method: 'POST', body: JSON.stringify({ playerTag: 'late', result: 'lost' }) });
    expect(answer).toEqual({ status: 503, body: { error: 'Change not saved in time: storage unavailable, retry later' } });
    seam.failNext = 0;
    for (let i = 0; i < 200 && server.queue.depth > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.queue.depth).toBe(0);
    await server.close('test');
    const again = await startServer(config, createLogger('silent'));
    cleanups.push(async () => void (await again.close('test')));
    const scores = await json(`http://127.0.0.1:${again.port}/api/high-scores`);
    expect((scores.body.scores as Array<{ playerTag: string }>).map((s) => s.playerTag)).toEqual(['late']);
  });

  it('replaces a worker thread that dies mid-batch, and the batch is committed by its successor', async () => {
    const tmp = tempDir();
    cleanups.push(tmp.cleanup);
    const config = configFor(tmp.dir);
    const workerFile = join(import.meta.dirname, 'fixtures', 'crashing-worker.mjs');
    const server = await startServer(config, createLogger('silent'), { workerFile });
    cleanups.push(async () => void (await server.close('test')));
    const url = `http://127.0.0.1:${server.port}`;

    writeFileSync(`${config.dbPath}.crash-next-apply`, '');
    const answer = await json(`${url}/api/high-scores`, { method: 'POST', body: JSON.stringify({ playerTag: 'phoenix', result: 'won' }) });
    expect(answer.status).toBe(201);
    expect(server.queue.retriesTotal).toBeGreaterThanOrEqual(1);

    await server.close('test');
    const again = await startServer(config, createLogger('silent'));
    cleanups.push(async () => void (await again.close('test')));
    const scores = await json(`http://127.0.0.1:${again.port}/api/high-scores`);
    expect((scores.body.scores as Array<{ playerTag: string }>).map((s) => s.playerTag)).toEqual(['phoenix']);
  });
});
