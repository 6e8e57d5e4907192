/**
 * Shutdown with a failing disk, the server in-process (built output) so the store can fail on
 * purpose: a write that is waiting for its commit when the shutdown starts is answered with the
 * documented 503 (HTTP, and an error frame over WebSocket before the 4503 close) instead of a closed
 * connection, and the durable wait bound still holds while the final flush waits.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApplyReply, TaskError } from '../src/model/protocol.js';
import type { BatchStore } from '../src/persist/queue.js';
import type * as ServerModule from '../src/server/boot.js';
import type * as ConfigModule from '../src/config.js';
import type * as LogModule from '../src/server/log.js';
import { tempDir } from './helpers/child-server.js';
import { WsClient } from './ws.helpers.js';

const { startServer } = (await import('../dist/src/server/boot.js' as string)) as typeof ServerModule;
const { loadConfig } = (await import('../dist/src/config.js' as string)) as typeof ConfigModule;
const { createLogger } = (await import('../dist/src/server/log.js' as string)) as typeof LogModule;

const NOT_DURABLE = 'Change not saved in time: storage unavailable, retry later';

/** The seam: every batch fails with a retryable disk error while `failing`. */
class FailingStore implements BatchStore {
  failing = true;
  rejected = 0;
  constructor(private readonly inner: BatchStore) {}
  apply(seq: number, bytes: ArrayBuffer): Promise<ApplyReply | TaskError> {
    if (!this.failing) return this.inner.apply(seq, bytes);
    this.rejected += 1;
    return Promise.resolve({ ok: false, code: 'IO', message: 'injected: disk I/O error', retryable: true });
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function failingServer(env: Record<string, string>) {
  const tmp = tempDir('vibefixer-shutdown-');
  cleanups.push(tmp.cleanup);
  const config = loadConfig(
    { PORT: '0', HOST: '127.0.0.1', VIBEFIXER_DB_PATH: join(tmp.dir, 'db.sqlite'), VIBEFIXER_RETRY_MAX_BACKOFF_MS: '40', VIBEFIXER_LOG_LEVEL: 'silent', ...env },
    tmp.dir,
  );
  let seam!: FailingStore;
  const server = await startServer(config, createLogger('silent'), { wrapStore: (s) => (seam = new FailingStore(s)) });
  cleanups.push(async () => void (await server.close('test')));
  return { server, seam, url: `http://127.0.0.1:${server.port}` };
}

/** Settles with the answer, or with 'no answer' after `ms` (the failure mode: a connection left hanging or closed). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'no answer'> {
  return Promise.race([p.catch(() => 'no answer' as const), new Promise<'no answer'>((r) => setTimeout(() => r('no answer'), ms))]);
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

describe('shutdown with a failing disk', () => {
  it('answers writes still waiting for their commit with 503 when the final flush gives up, before sockets close', async () => {
    const { server, seam, url } = await failingServer({ VIBEFIXER_SHUTDOWN_TIMEOUT_MS: '300', VIBEFIXER_DURABLE_WAIT_MS: '600000' });
    const ws = await WsClient.open(server.port);
    const http = fetch(`${url}/api/high-scores`, { method: 'POST', body: JSON.stringify({ playerTag: 'held', result: 'won' }) }).then(async (r) => ({
      status: r.status,
      retryAfter: r.headers.get('retry-after'),
      body: await r.json(),
    }));
    const frame = ws.request('highScores.add', { playerTag: 'held-ws', result: 'lost' });
    await until(() => seam.rejected >= 2 && server.queue.depth >= 2);

    const closing = server.close('SIGTERM');
    expect(await within(http, 10_000)).toEqual({ status: 503, retryAfter: '1', body: { error: NOT_DURABLE } });
    expect(await within(frame, 10_000)).toMatchObject({ ok: false, error: { status: 503, message: NOT_DURABLE, retryAfterS: 1 } });
    expect(await closing).toEqual({ flushed: false });
    expect((await ws.closed).code).toBe(4503);
  });

  it('still answers a held write at the durable wait bound while the final flush waits, and commits it once the disk recovers', async () => {
    const { server, seam, url } = await failingServer({ VIBEFIXER_SHUTDOWN_TIMEOUT_MS: '600000', VIBEFIXER_DURABLE_WAIT_MS: '100' });
    const answer = fetch(`${url}/api/high-scores`, { method: 'POST', body: JSON.stringify({ playerTag: 'late', result: 'won' }) }).then(async (r) => ({
      status: r.status,
      body: await r.json(),
    }));
    await until(() => seam.rejected >= 1);
    const closing = server.close('SIGTERM');
    // The server's timers stopped with the shutdown; without the expiry of its own the answer would
    // wait for the 10-minute shutdown timeout.
    expect(await within(answer, 10_000)).toEqual({ status: 503, body: { error: NOT_DURABLE } });
    seam.failing = false;
    expect(await closing).toEqual({ flushed: true });
    expect(server.queue.durableSeq).toBeGreaterThan(0);
  });
});
