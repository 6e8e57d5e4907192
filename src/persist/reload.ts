/**
 * Start-up reload: reads every active session page by page from the worker, and the small
 * tables in one go, before the port opens. While the main thread takes page N the worker is
 * already reading page N + 1; sessions stay cold until first used (cold.ts), and their stored
 * records are checked in the background once the port is open (check.ts).
 */
import type { Logger } from 'pino';
import type { ColdSessionRow, ReloadRestReply, TaskError } from '../model/protocol.js';
import type { WorkerClient } from './client.js';
import { rowsOfPage } from './cold.js';

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
  highScoreLimit: number;
  /** Rows of active sessions, cold (see cold.ts). */
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
    const rows = rowsOfPage(reply.page);
    opts.onSessions(rows);
    sessions += rows.length;
    const nowMs = performance.now();
    if (nowMs - lastLogMs >= 1000) {
      lastLogMs = nowMs;
      opts.log.info({ sessions, elapsedMs: Math.round(nowMs - started) }, 'reload progress');
    }
    if (reply.nextAfter === null) break;
  }

  const rest = await client.run({ kind: 'reloadRest', highScoreLimit: opts.highScoreLimit });
  if (!rest.ok) throw new ReloadError(rest);
  if (rest.skipped > 0) opts.log.error({ rows: rest.skipped }, 'reload skipped rows that do not decode');
  return { sessions, rest, durationMs: performance.now() - started };
}
