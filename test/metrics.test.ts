/**
 * /metrics speaks Prometheus text with every metric the README lists, and the values move with
 * the traffic (scraped from a real server process).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChildServer, startChild, tempDir } from './helpers/child-server.js';

const NAMES = [
  'vibefixer_persist_queue_depth',
  'vibefixer_persist_oldest_unflushed_seconds',
  'vibefixer_persist_batch_size',
  'vibefixer_persist_commit_duration_seconds',
  'vibefixer_persist_retries_total',
  'vibefixer_writes_refused_total',
  'vibefixer_persist_durable_seq',
  'vibefixer_reload_duration_seconds',
  'vibefixer_reload_rows',
  'vibefixer_sessions_active',
  'vibefixer_ws_connections',
  'vibefixer_ws_buffered_bytes',
  'vibefixer_admin_sessions',
  'vibefixer_audit_rows',
  'nodejs_eventloop_lag_seconds',
];

let server: ChildServer;
const tmp = tempDir();
beforeAll(async () => {
  server = await startChild({ VIBEFIXER_DB_PATH: join(tmp.dir, 'db.sqlite'), VIBEFIXER_RATE_LIMIT_PER_MIN: '2' });
});
afterAll(async () => {
  await server.stop();
  tmp.cleanup();
});

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(server.url + '/metrics');
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const values = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) values.set(m[1], Number(m[2]));
  }
  return values;
}

describe('/metrics', () => {
  it('exposes every metric the README lists', async () => {
    const values = await scrape();
    const names = new Set([...values.keys()].map((k) => k.replace(/\{.*$/, '').replace(/_(bucket|sum|count)$/, '')));
    for (const name of NAMES) expect(names, name).toContain(name);
  });

  it('moves with traffic: sessions, durable seq, batches, refusals and WebSocket connections', async () => {
    const before = await scrape();
    await fetch(server.url + '/api/sessions', { method: 'POST' });
    await fetch(server.url + '/api/sessions', { method: 'POST' });
    const limited = await fetch(server.url + '/api/sessions', { method: 'POST' });
    expect(limited.status).toBe(429);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    await new Promise((r) => ws.once('open', r));
    const after = await scrape();
    ws.close();
    expect(after.get('vibefixer_sessions_active')).toBe((before.get('vibefixer_sessions_active') ?? 0) + 2);
    expect(after.get('vibefixer_persist_durable_seq')!).toBeGreaterThan(before.get('vibefixer_persist_durable_seq')!);
    expect(after.get('vibefixer_persist_batch_size_count')!).toBeGreaterThan(before.get('vibefixer_persist_batch_size_count') ?? 0);
    expect(after.get('vibefixer_persist_commit_duration_seconds_count')!).toBeGreaterThan(0);
    expect(after.get('vibefixer_writes_refused_total{reason="rate"}')).toBe(1);
    expect(after.get('vibefixer_ws_connections')).toBe(1);
    expect(after.get('vibefixer_reload_rows{kind="sessions"}')).toBe(0);
  });
});
