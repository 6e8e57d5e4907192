/**
 * Start-up reload: reads the schedule (id, start, duration) of every active session page by page
 * from the worker, and the small tables in one go, before the port opens. While the main thread
 * takes page N the worker is already reading page N + 1; a session's rows are read on its first
 * use (loader.ts), so start-up costs one small tuple per active session.
 */
import type { Logger } from 'pino';
import { type ColdSessionRow, decode, type ReloadRestReply, type RestQuery, type TaskError } from '../model/protocol.js';
import type { WorkerClient } from './client.js';

export const RELOAD_PAGE_SIZE = 5000;

export class ReloadError extends Error {
  constructor(readonly error: TaskError) {
    super(`reload failed: ${error.code}: ${error.message}`);
  }
}

export interface ReloadResult {
  sessions: number;
  rest: ReloadRestReply;
  durationMs: number;
}

export interface ReloadOptions {
  /** What to read of the small tables. */
  rest: RestQuery;
  /** The schedule of active sessions, one page at a time. */
  onSessions(rows: ColdSessionRow[]): void;
  log: Logger;
  pageSize?: number;
}

export async function reloadState(client: WorkerClient, opts: ReloadOptions): Promise<ReloadResult> {
  const started = performance.now();
  const limit = opts.pageSize ?? RELOAD_PAGE_SIZE;
  let sessions = 0;
  let lastLogMs = started;

  let next = client.run({ kind: 'reloadSessions', after: null, limit });
  for (;;) {
    const reply = await next;
    if (!reply.ok) throw new ReloadError(reply);
    // Ask for the next page before decoding this one: the two threads work in parallel.
    if (reply.nextAfter !== null) next = client.run({ kind: 'reloadSessions', after: reply.nextAfter, limit });
    const rows = decode<ColdSessionRow[]>(reply.page);
    opts.onSessions(rows);
    sessions += rows.length;
    const nowMs = performance.now();
    if (nowMs - lastLogMs >= 1000) {
      lastLogMs = nowMs;
      opts.log.info({ event: 'reload_progress', sessions, elapsedMs: Math.round(nowMs - started) }, 'reload progress');
    }
    if (reply.nextAfter === null) break;
  }

  const rest = await client.run({ kind: 'reloadRest', ...opts.rest });
  if (!rest.ok) throw new ReloadError(rest);
  return { sessions, rest, durationMs: performance.now() - started };
}
