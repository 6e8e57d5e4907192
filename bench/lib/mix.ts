/**
 * The session pool of the HTTP write mix (CONTRACT §1.6, §3.6): sessions are pre-created over
 * keep-alive node:http before the load (not measured), and their ids written one per line for
 * bench/lua/mix.lua, which cycles spawn → artifact-status(ground) → artifact-status(carried) →
 * deposit over them. Used by http-mix and flush-tuning.
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';

/** Long sessions, so no stale sweep ends them during a bench (stale = 2 × duration). */
export const BENCH_SESSION_SECONDS = 600;

/** One POST on a keep-alive agent; resolves with status and body. */
export function post(agent: http.Agent, url: string, path: string, body: string | null): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'Content-Length': body === null ? 0 : Buffer.byteLength(body) };
    if (body !== null) headers['Content-Type'] = 'application/json';
    const req = http.request(`${url}${path}`, { method: 'POST', agent, headers, timeout: 30_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`POST ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** Creates `count` sessions of BENCH_SESSION_SECONDS (16 in flight); returns their ids. */
export async function precreateSessions(url: string, count: number): Promise<string[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const body = JSON.stringify({ requestedDurationSeconds: BENCH_SESSION_SECONDS });
  const ids: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const a = await post(agent, url, '/api/sessions', body);
      if (a.status !== 201) throw new Error(`pre-creating sessions: HTTP ${a.status} ${a.body.slice(0, 200)}`);
      ids.push((JSON.parse(a.body) as { sessionId: string }).sessionId);
    }
  };
  try {
    await Promise.all(Array.from({ length: 16 }, lane));
  } finally {
    agent.destroy();
  }
  return ids;
}

/** Ids for a target that has no sessions (the hello-world baseline accepts any path). */
export function placeholderPool(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `session_placeholder_${String(i).padStart(22, '0')}`);
}

/** Writes the pool for mix.lua (one id per line). */
export function writePool(file: string, ids: string[]): string {
  writeFileSync(file, `${ids.join('\n')}\n`);
  return file;
}
